"""Generated answers through a real OpenAI-compatible server (llama.cpp + SmolLM2-135M).

The 135M model's answers are weak; these tests check behaviour: streaming, citations
mapped to pages, follow-ups, and fallbacks when the server fails.
"""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import LlamaServer, free_port
from typer.testing import CliRunner

from rag import RAG, Settings
from rag.answer.ask import standalone_query
from rag.answer.generator import Generator
from rag.cli import app

QUESTION = "How do I install R packages into a personal library?"


@pytest.fixture
def generating(corpus_dir: Path, embedder, llama_server: LlamaServer):
    settings = Settings(
        data_dir=corpus_dir,
        generator_url=llama_server.url,
        generator_model=llama_server.model,
        generator_max_context=2048,  # keeps prompt processing on 2 CPU cores to seconds
        generator_max_tokens=200,
        top_k=3,
    )
    with RAG(settings, embedder=embedder) as rag:
        yield rag


def test_answer_streams_and_cites_only_pages_it_was_given(generating: RAG) -> None:
    stream = generating.ask_stream(QUESTION)
    pieces = list(stream)
    answer = stream.answer
    assert len(pieces) > 3  # token by token, not one block
    assert answer.generated and answer.text
    assert answer.context and answer.context[0].source == answer.hits[0].source
    numbers = [int(n) for n in re.findall(r"\[(\d+)", answer.text)]
    assert all(1 <= n <= len(answer.context) for n in numbers)
    for c in answer.citations:
        given = answer.context[c.number - 1]
        assert (c.source, c.page) == (given.source, given.page)


def test_a_follow_up_is_rewritten_into_a_standalone_query(generating: RAG) -> None:
    history = [(QUESTION, "Use install.packages with the lib argument [1].")]
    query = standalone_query(
        "And how do I remove them again?", history, generating.services.generator
    )
    assert query and query != "And how do I remove them again?"
    answer = generating.ask("And how do I remove them again?", history=history)
    assert answer.generated and answer.hits


def test_the_cli_streams_a_generated_answer(corpus_dir: Path, llama_server, monkeypatch) -> None:
    monkeypatch.setenv("RAG_GENERATOR_URL", llama_server.url)
    monkeypatch.setenv("RAG_GENERATOR_MODEL", llama_server.model)
    monkeypatch.setenv("RAG_GENERATOR_MAX_CONTEXT", "2048")
    monkeypatch.setenv("RAG_TOP_K", "3")
    result = CliRunner().invoke(app, ["--data-dir", str(corpus_dir), "ask", QUESTION])
    assert result.exit_code == 0, result.output
    assert "Answer (generated)" in result.output


def test_server_killed_mid_stream_gives_a_clear_message_and_quotes(corpus_dir, embedder) -> None:
    server = LlamaServer()
    settings = Settings(
        data_dir=corpus_dir,
        generator_url=server.url,
        top_k=2,
        generator_model=server.model,
        generator_retries=0,
        generator_max_context=1024,
    )
    try:
        with RAG(settings, embedder=embedder) as rag:
            stream = rag.ask_stream("Explain in detail everything about R package libraries.")
            for _ in stream:
                server.process.kill()  # after the first piece arrived
    finally:
        server.stop()
    answer = stream.answer
    assert not answer.generated
    assert "generator" in answer.notice and "passages instead" in answer.notice
    assert answer.citations and "[1]" in answer.text


def test_server_down_falls_back_to_quotes(corpus: RAG) -> None:
    corpus.settings.generator_url = f"http://127.0.0.1:{free_port()}/v1"
    corpus.settings.generator_retries = 0
    answer = corpus.ask(QUESTION)
    assert not answer.generated
    assert answer.notice.startswith("Cannot reach the generator at http://127.0.0.1:")
    assert answer.citations


class _FailingServer(BaseHTTPRequestHandler):
    """A fake OpenAI-compatible server that only fails (no package provides one)."""

    status = 500
    body = b'{"error": {"message": "boom"}}'
    calls = 0

    def do_POST(self) -> None:
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.status)
        ctype = "text/event-stream" if self.status == 200 else "application/json"
        self.send_header("Content-Type", ctype)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FailingServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _FailingServer.calls = 0
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


@pytest.mark.parametrize(
    ("status", "body", "calls", "message"),
    [
        (500, b'{"error": {"message": "boom"}}', 3, "answered HTTP 500: boom"),  # retried
        (503, b'{"error": {"message": "busy"}}', 3, "answered HTTP 503"),
        (400, b'{"error": {"message": "bad model"}}', 1, "answered HTTP 400: bad model"),
        (401, b'{"error": {"message": "no"}}', 1, "rejected the API key"),
        (200, b"data: {not json}\n\n", 1, "broken stream"),
    ],
)
def test_http_failures_are_clear_and_only_transient_ones_are_retried(
    failing_server, status, body, calls, message
) -> None:
    _FailingServer.status, _FailingServer.body = status, body
    settings = Settings(generator_url=failing_server, generator_retries=2, generator_api_key="sk-x")
    with pytest.raises(Exception, match=re.escape(message)) as info:
        list(Generator(settings).stream([{"role": "user", "content": "hi"}]))
    assert type(info.value).__name__ == "GeneratorError"
    assert "sk-x" not in str(info.value)
    assert _FailingServer.calls == calls


def test_a_slow_server_times_out_clearly() -> None:
    import socket

    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        settings = Settings(generator_url=url, generator_timeout=0.5, generator_retries=0)
        with pytest.raises(Exception, match=r"did not answer within 0.5 s"):
            list(Generator(settings).stream([{"role": "user", "content": "hi"}]))


def test_nothing_found_with_a_generator_does_not_claim_there_is_none(rag: RAG) -> None:
    """The generator is never called when nothing matches, so no server is needed here."""
    with RAG(
        Settings.load(rag.settings, generator_url="http://127.0.0.1:9/v1"),
        embedder=rag.services.embedder,
    ) as generating:
        answer = generating.ask("What do zebras eat in winter?")
    assert answer.hits == [] and not answer.generated
    assert answer.notice is None or "No generator" not in answer.notice
