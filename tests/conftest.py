"""Shared fixtures: an isolated environment, one loaded text embedder, one ingested corpus.

Everything is real: the packaged MiniLM model, the embedded Qdrant engine, the sample PDFs.
"""

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import RAG, Settings
from rag.models.embedder import TextEmbedder

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data"
SAMPLE_PDFS = sorted(SAMPLE_DATA.glob("*.pdf"))
QUESTIONS = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").open()]
RAG_CLI = [sys.executable, "-m", "rag"]


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No RAG_* setting leaks in from the developer's shell; no hub is ever contacted."""
    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "rag-data"))


@pytest.fixture(scope="session")
def embedder() -> TextEmbedder:
    """The lite profile's embedder (packaged all-MiniLM-L6-v2), loaded once per session."""
    return TextEmbedder(Settings().text_model, device="cpu")


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
