"""Loaders run ahead of the writer: order, errors, back-pressure, early exits, and which
file is loaded and written when."""

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SAMPLE_DATA, SAMPLE_PDFS

from ingest.concurrency.ahead import Ahead, loader_threads
from ingest.discover import discover
from ingest.loaders.base import LoaderOptions, OpenedSource
from ingest.loaders.pdf import open_pdf
from ingest.loading import load_cost
from ingest.local import Ingestor
from rag import RAG, Settings
from rag.core.records import FileOutcome, Status, Unit
from rag.models.embedder import TextEmbedder

RECORDING_DECK_SCAN = ("gettysburg-address.mp3", "phylogeny-talk.pptx", "scanned-page.png")


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
    catalog cannot tell that the second one written is known; the writer does."""
    twin = tmp_path / "copy of the first.pdf"
    twin.write_bytes(SAMPLE_PDFS[0].read_bytes())
    report = rag.ingest([SAMPLE_PDFS[0], twin, SAMPLE_PDFS[1]])
    first, second, other = report.outcomes
    assert other.status == "ingested"
    # whichever twin is loaded first is written first; the other names it
    kept, skipped = (first, second) if first.status == "ingested" else (second, first)
    assert (kept.status, skipped.status) == ("ingested", "skipped")
    assert skipped.reason == f"same content as {Path(kept.path).name}"
    assert rag.services.store().count() == report.units == sum(d.units for d in rag.documents())


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
        assert rag.services.store().count(docs["notes.md"].id) == 0
        assert rag.services.store().count() == sum(d.units for d in docs.values())
        images = {k for d in docs.values() for k in rag.services.catalog.image_keys(d.id)}
        assert images == rag.services.images.keys()


class _Finished:
    """Progress hook that records the order files finish in and signals one of them."""

    def __init__(self, signal_on: str) -> None:
        self.names: list[str] = []
        self.signal_on = signal_on
        self.signal = threading.Event()

    def file_started(self, path: Path, units: int) -> None:
        pass

    def units_done(self, count: int) -> None:
        pass

    def file_finished(self, outcome: FileOutcome) -> None:
        self.names.append(Path(outcome.path).name)
        if self.names[-1] == self.signal_on:
            self.signal.set()


def _ingestor(rag: RAG) -> Ingestor:
    return Ingestor(
        rag.settings,
        rag.services.catalog,
        rag.services.store(),
        rag.services.embedder,
        rag.services.sparse,
        rag.services.images,
    )


def test_a_slow_file_does_not_hold_up_the_files_after_it(rag: RAG, tmp_path: Path) -> None:
    """The first file's loader waits until the second file is written: a writer that
    took files in the order given would wait for it, and the wait would time out."""
    slow = tmp_path / "slow.pdf"
    slow.write_bytes(SAMPLE_PDFS[0].read_bytes())
    quick = SAMPLE_PDFS[1]
    progress = _Finished(signal_on=quick.name)
    ingestor = _ingestor(rag)
    real_loader = ingestor._loaders["application/pdf"]

    def held_back(path: Path, settings: Settings) -> OpenedSource:
        if path.name == slow.name:
            assert progress.signal.wait(30), "the quick file was not written first"
        return real_loader(path, settings)

    ingestor._loaders["application/pdf"] = held_back
    report = ingestor.ingest(discover([slow, quick]), progress=progress)
    assert progress.names == [quick.name, slow.name]
    assert [Path(o.path).name for o in report.outcomes] == [slow.name, quick.name]
    assert [o.status for o in report.outcomes] == ["ingested", "ingested"]
    assert rag.services.store().count() == report.units == sum(d.units for d in rag.documents())


def test_the_slow_kinds_of_file_are_loaded_first(tmp_path: Path, embedder: TextEmbedder) -> None:
    recording, deck, scan = (SAMPLE_DATA / n for n in RECORDING_DECK_SCAN)
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"not audio")
    ranks = [load_cost(p) for p in (recording, deck, scan, SAMPLE_PDFS[0], broken)]
    assert ranks == [3, 2, 1, 0, 0]
    progress = _Finished(signal_on="")
    with RAG(Settings(data_dir=tmp_path / "data", files_at_once=1), embedder=embedder) as rag:
        report = _ingestor(rag).ingest(discover([SAMPLE_PDFS[0], scan]), progress=progress)
    assert progress.names == [scan.name, SAMPLE_PDFS[0].name]
    assert [Path(o.path).name for o in report.outcomes] == [SAMPLE_PDFS[0].name, scan.name]


def test_a_loaded_batch_holds_encoded_pages_not_pixels_when_the_embedder_reads_text(
    rag: RAG,
) -> None:
    units = list(open_pdf(SAMPLE_PDFS[0], LoaderOptions.from_settings(rag.settings)).units)[:3]
    loaded = _ingestor(rag)._prepare(units)
    assert all(u.image is None for u in loaded.units)
    assert all(data and data[:2] == b"\xff\xd8" for data in loaded.encoded)  # JPEG


def test_a_named_pipe_given_by_name_fails_alone_instead_of_hanging(
    rag: RAG, tmp_path: Path
) -> None:
    """Ranking files by kind must not read one that is not a regular file."""
    pipe = tmp_path / "pipe.pdf"
    os.mkfifo(pipe)
    outcomes: list[FileOutcome] = []
    run = threading.Thread(
        target=lambda: outcomes.extend(rag.ingest([pipe, SAMPLE_PDFS[0]]).outcomes), daemon=True
    )
    run.start()
    run.join(60)
    assert not run.is_alive(), "ingestion waited on the pipe"
    assert [o.status for o in outcomes] == ["failed", "ingested"]
    assert outcomes[0].reason == "the file is empty"
