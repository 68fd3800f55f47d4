"""The loader runs ahead of the writer: order, errors, back-pressure and early exits."""

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SAMPLE_PDFS

from ingest.ahead import Ahead, loader_threads
from rag import RAG, Settings
from rag.models.embedder import TextEmbedder
from rag.records import Status, Unit


def _numbers(n: int, made: list[int], finished: threading.Event) -> Iterator[int]:
    try:
        for i in range(n):
            made.append(i)
            yield i
    finally:
        finished.set()


def test_items_arrive_in_order_and_the_producer_stays_within_depth() -> None:
    made: list[int] = []
    finished = threading.Event()
    with Ahead(_numbers(50, made, finished), depth=3) as items:
        time.sleep(0.2)  # let the producer run as far as it may
        assert len(made) <= 3 + 2  # the queue, the item waiting to go in, the one being made
        assert list(items) == list(range(50))
    assert finished.is_set()


def test_an_error_arrives_after_the_items_before_it() -> None:
    def broken() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("page 3 is damaged")

    got = []
    with pytest.raises(ValueError, match="page 3"), Ahead(broken(), depth=2) as items:
        for item in items:
            got.append(item)
    assert got == [1, 2]


def test_leaving_early_stops_the_producer_and_runs_its_cleanup_on_its_thread() -> None:
    made: list[int] = []
    finished = threading.Event()
    with Ahead(_numbers(10_000, made, finished), depth=2) as items:
        assert next(items) == 0
    assert finished.wait(2)
    assert len(made) < 10


def test_loader_threads_default_to_half_the_cores() -> None:
    assert loader_threads(3) == 3
    assert 1 <= loader_threads(0) <= max(1, (os.cpu_count() or 1) // 2)


def test_twins_loaded_side_by_side_are_stored_once(rag: RAG, tmp_path: Path) -> None:
    """Two files with the same bytes load at the same time (RAG_FILES_AT_ONCE=2), so the
    catalog cannot tell the second one is known; the writer does."""
    twin = tmp_path / "copy of the first.pdf"
    twin.write_bytes(SAMPLE_PDFS[0].read_bytes())
    report = rag.ingest([SAMPLE_PDFS[0], twin, SAMPLE_PDFS[1]])
    assert [o.status for o in report.outcomes] == ["ingested", "skipped", "ingested"]
    assert report.outcomes[1].reason == f"same content as {SAMPLE_PDFS[0].name}"
    assert rag.store().count() == report.units == sum(d.units for d in rag.documents())


class _FailingEmbedder(TextEmbedder):
    """Fault injection around the real embedder: a batch holding `marker` raises, as a
    model running out of memory would, on the writing thread."""

    def __init__(self, real: TextEmbedder, marker: str) -> None:
        self.__dict__.update(real.__dict__)
        self.marker = marker

    def embed_units(self, units: list[Unit]) -> list[dict]:
        if any(self.marker in u.text for u in units):
            raise RuntimeError("out of memory while embedding")
        return super().embed_units(units)


def test_a_file_failing_while_written_fails_alone(tmp_path: Path, embedder: TextEmbedder) -> None:
    poisoned = tmp_path / "notes.md"
    poisoned.write_text("\n\n".join(f"Paragraph {i}: POISON " + "word " * 150 for i in range(40)))
    failing = _FailingEmbedder(embedder, "Paragraph 39:")  # in the second batch
    settings = Settings(data_dir=tmp_path / "data")
    with RAG(settings, embedder=failing) as rag:
        report = rag.ingest([SAMPLE_PDFS[0], poisoned, SAMPLE_PDFS[1]])
        assert [o.status for o in report.outcomes] == ["ingested", "failed", "ingested"]
        assert report.outcomes[1].reason == "out of memory while embedding"
        docs = {d.source: d for d in rag.documents()}
        assert docs["notes.md"].status is Status.FAILED
        assert rag.store().count(docs["notes.md"].id) == 0
        assert rag.store().count() == sum(d.units for d in docs.values())
        images = {k for d in docs.values() for k in rag.catalog.image_keys(d.id)}
        assert images == rag.images.keys()
