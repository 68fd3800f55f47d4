"""Queries and document text reach the embedder as text, never as a URL or path to load."""

from pathlib import Path

import pytest
from conftest import CountingHandler
from PIL import Image

from rag import RAG
from rag.models.embedder import TextEmbedder
from rag.models.inputs import as_text


@pytest.fixture
def recorded_inputs(embedder: TextEmbedder, monkeypatch: pytest.MonkeyPatch) -> list:
    """Record what reaches sentence-transformers (the real encode still runs)."""
    seen: list = []
    model = embedder._model
    for name in ("encode_query", "encode_document"):
        real = getattr(model, name)

        def spy(inputs, *args, _real=real, **kwargs):
            seen.extend(inputs)
            return _real(inputs, *args, **kwargs)

        monkeypatch.setattr(model, name, spy)
    return seen


def test_a_url_shaped_query_fetches_nothing(corpus: RAG, counting_server, recorded_inputs) -> None:
    url = f"http://127.0.0.1:{counting_server.server_port}/cat.png"
    hits = corpus.search(url)
    assert CountingHandler.requests == 0
    assert recorded_inputs == [{"text": url}]
    assert all(h.modality == "page" for h in hits)


def test_a_path_shaped_query_opens_nothing(
    corpus: RAG, tmp_path: Path, recorded_inputs, monkeypatch
) -> None:
    image = tmp_path / "existing.png"
    Image.new("RGB", (8, 8), "red").save(image)
    opened: list = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    corpus.search(str(image))
    assert opened == []
    assert recorded_inputs == [{"text": str(image)}]


def test_document_text_that_looks_like_a_url_is_embedded_as_text(
    rag: RAG, tmp_path: Path, counting_server, recorded_inputs
) -> None:
    import pymupdf

    url = f"http://127.0.0.1:{counting_server.server_port}/page.png"
    pdf = tmp_path / "url.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), url)
    doc.save(pdf)
    assert rag.ingest([pdf]).count("ingested") == 1
    assert CountingHandler.requests == 0
    assert recorded_inputs == [{"text": url}]


def test_as_text_refuses_non_strings() -> None:
    with pytest.raises(TypeError):
        as_text(b"http://example.com")  # type: ignore[arg-type]
