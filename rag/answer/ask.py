"""Asking: turn a follow-up into a standalone query, retrieve, then stream a cited answer.

With a generator, the best pages are packed into its context and the answer streams
token by token; citations are checked afterwards. Without one, or when it fails, the
answer is extractive (quotes with citations) and says why.
"""

from collections.abc import Callable, Iterator

from rag.answer.citations import check_citations, sanitize
from rag.answer.extractive import NO_GENERATOR, citation, extractive_answer
from rag.answer.generator import Generator
from rag.answer.prompt import build_messages, context_budget, pack
from rag.core.config import Settings
from rag.core.errors import GeneratorError
from rag.core.records import Answer, Hit

History = list[tuple[str, str]]  # (user question, assistant answer) turns, oldest first
MAX_HISTORY_TURNS = 6

CONDENSE_PROMPT = (
    "Rewrite the user's last question as one standalone search query, using the"
    " conversation only to resolve what it refers to. Output only the query."
)


def standalone_query(question: str, history: History, generator: Generator | None) -> str:
    """The question made self-contained, so retrieval works for "and what about its limits?"."""
    if not history:
        return question
    if generator is not None:
        turns = "\n".join(f"User: {u}\nAssistant: {a[:500]}" for u, a in history[-3:])
        messages = [
            {"role": "system", "content": CONDENSE_PROMPT},
            {"role": "user", "content": f"{turns}\nUser: {question}\n\nStandalone query:"},
        ]
        try:
            rewritten = generator.complete(messages).splitlines()
        except GeneratorError:
            rewritten = []
        if rewritten and rewritten[0].strip():
            return rewritten[0].strip().strip('"')
    return f"{history[-1][0]} {question}"  # no model: the previous question gives context


class AnswerStream:
    """Iterate for the answer's text as it arrives; afterwards `.answer` holds the result."""

    def __init__(
        self,
        question: str,
        hits: list[Hit],
        history: History,
        settings: Settings,
        generator: Generator | None,
    ) -> None:
        self.question = question
        self.hits = hits
        self.history = history[-MAX_HISTORY_TURNS:]
        self.settings = settings
        self.generator = generator
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        if self.generator is None or not self.hits:
            # with a generator and nothing found there is nothing to generate from: no
            # "no generator is configured" notice, the answer says nothing matched
            notice = NO_GENERATOR if self.generator is None else None
            self.answer = extractive_answer(self.question, self.hits, notice=notice)
            yield self.answer.text
            return
        s = self.settings
        images = s.generator_images if s.generator_vision else 0
        budget = context_budget(
            s.generator_max_context, s.generator_max_tokens, self.question, self.history, images
        )
        packed = pack(self.hits, budget)
        messages = build_messages(self.question, packed, self.history, images)
        parts: list[str] = []
        try:
            for piece in self.generator.stream(messages):
                parts.append(piece)
                yield piece
        except GeneratorError as exc:
            fallback = extractive_answer(self.question, self.hits)
            fallback.notice = f"{exc} Showing the most relevant passages instead."
            self.answer = fallback
            return
        text, cited, invented = check_citations(sanitize("".join(parts)), len(packed.hits))
        notices = []
        if invented:
            notices.append(f"Dropped citation(s) to sources that were not given: {invented}.")
        if packed.truncated or packed.dropped:
            notices.append(
                f"{len(packed.truncated) + packed.dropped} page(s) were cut or left out to fit"
                f" the model's context ({s.generator_max_context} tokens)."
            )
        self.answer = Answer(
            self.question,
            text.strip(),
            [citation(n, packed.hits[n - 1]) for n in cited],
            self.hits,
            generated=True,
            notice=" ".join(notices) or None,
            invented_citations=invented,
            context=[citation(n, h) for n, h in enumerate(packed.hits, 1)],
        )


def ask(
    question: str,
    history: History,
    search: Callable[[str], list[Hit]],
    settings: Settings,
    generator: Generator | None,
) -> AnswerStream:
    query = standalone_query(question, history, generator)
    return AnswerStream(question, search(query), history, settings, generator)
