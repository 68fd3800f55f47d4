"""The answer model behind any OpenAI-compatible API (OpenAI, vLLM, llama.cpp, Ollama, TGI).

It streams text and turns every failure into a `GeneratorError` whose message says what
went wrong and where, without echoing the API key. Retries with exponential backoff are
the `openai` client's own, which retries only transient failures (connection errors,
408, 409, 429 and 5xx); a stream that breaks after tokens arrived is not retried,
because the reader has already seen part of it.
"""

from collections.abc import Iterator
from typing import Any

from rag.core.config import Settings
from rag.core.errors import GeneratorError, first_line


class Generator:
    def __init__(self, settings: Settings) -> None:
        import openai

        if not settings.generator_url:
            raise GeneratorError("No generator is configured (set RAG_GENERATOR_URL).")
        self.url = settings.generator_url
        self.model = settings.generator_model
        self.timeout = settings.generator_timeout
        self.max_tokens = settings.generator_max_tokens
        key = settings.generator_api_key
        self._openai = openai
        self._client = openai.OpenAI(
            base_url=self.url,
            api_key=key.get_secret_value() if key else "not-needed",
            timeout=self.timeout,
            max_retries=settings.generator_retries,
        )

    def stream(
        self, messages: list[dict[str, Any]], max_tokens: int | None = None
    ) -> Iterator[str]:
        """Yield pieces of the answer as the server sends them."""
        openai = self._openai
        try:
            chunks = self._client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                max_tokens=max_tokens or self.max_tokens,
                temperature=0.1,
            )
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.APITimeoutError as exc:
            raise GeneratorError(
                f"The generator at {self.url} did not answer within {self.timeout:g} s"
                " (RAG_GENERATOR_TIMEOUT)."
            ) from exc
        except openai.APIConnectionError as exc:
            raise GeneratorError(
                f"Cannot reach the generator at {self.url} ({_cause(exc)})."
            ) from exc
        except openai.AuthenticationError as exc:
            raise GeneratorError(
                f"The generator at {self.url} rejected the API key (RAG_GENERATOR_API_KEY)."
            ) from exc
        except openai.APIStatusError as exc:
            raise GeneratorError(
                f"The generator at {self.url} answered HTTP {exc.status_code}: {_message(exc)}"
            ) from exc
        except (openai.APIError, ValueError, OSError) as exc:
            raise GeneratorError(
                f"The generator at {self.url} sent a broken stream ({_cause(exc)})."
            ) from exc

    def complete(self, messages: list[dict[str, Any]], max_tokens: int = 64) -> str:
        return "".join(self.stream(messages, max_tokens)).strip()


def _cause(exc: BaseException) -> str:
    return first_line(exc.__cause__ or exc.__context__ or exc)[:200]


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        msg = body.get("message") or (body.get("error") or {}).get("message")
        if msg:
            return str(msg).splitlines()[0][:200]
    return _cause(exc)
