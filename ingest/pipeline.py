"""The ingest pipeline: file -> hash -> skip if known -> loader -> units -> embed -> upsert.

One failing file never stops the others: its reason is recorded in the catalog and the
report, and whatever it had written to the store is removed. Point ids are derived from
the document hash, so an interrupted run simply runs again without duplicates.
Rendering and embedding run in this process; worker processes are a later stage.
"""

import hashlib
import time
from collections.abc import Iterable, Iterator, Sequence
from fnmatch import fnmatch
from itertools import islice
from pathlib import Path
from typing import Protocol

from ingest import ocr
from ingest.images import ImageStore
from ingest.sniff import sniff
from ingest.source import loaders
from rag.catalog import Catalog
from rag.config import Settings
from rag.errors import (
    EmptyFileError,
    IngestError,
    TooLargeError,
    UnsupportedFileError,
    first_line,
)
from rag.models.embedder import Embedder
from rag.models.sparse import Bm25Encoder
from rag.records import Document, FileOutcome, IngestReport, Status, Unit
from rag.store import EdgeStore, PointRecord, point_id

BATCH_UNITS = 16  # pages per embed + upsert round: bounds memory for rendered images


class IngestProgress(Protocol):
    """Receives progress; the CLI draws bars with it, the UI a progress component."""

    def file_started(self, path: Path, units: int) -> None: ...

    def units_done(self, count: int) -> None: ...

    def file_finished(self, outcome: FileOutcome) -> None: ...


def discover(
    paths: Iterable[Path], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[Path]:
    """Files named, and files under folders named (recursive, sorted, hidden ones skipped).

    Under folders, `include` globs (any must match) and `exclude` globs (none may) are
    matched against the path relative to the folder: `*.pdf`, `slides/**`, `*draft*`.
    Files named directly are always taken.
    """
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        for p in sorted(path.rglob("*")):
            relative = p.relative_to(path)
            if not p.is_file() or any(part.startswith(".") for part in relative.parts):
                continue
            if include and not _matches(relative, include):
                continue
            if not _matches(relative, exclude):
                found.append(p)
    return found


def _matches(relative: Path, globs: Sequence[str]) -> bool:
    """Whether a glob matches the path under its folder or the bare file name."""
    name = relative.as_posix()
    return any(fnmatch(name, g) or fnmatch(relative.name, g) for g in globs)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _batches(units: Iterator[Unit], size: int) -> Iterator[list[Unit]]:
    while batch := list(islice(units, size)):
        yield batch


class Ingestor:
    """Ingests files into one catalog + store + image store with one embedder."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        store: EdgeStore,
        embedder: Embedder,
        sparse: Bm25Encoder,
        images: ImageStore,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.images = images
        self._loaders = loaders()
        wanted = settings.ocr == "on" or (settings.ocr == "auto" and not embedder.reads_images)
        self._ocr = wanted and (settings.ocr == "on" or ocr.available())

    def ingest(
        self,
        paths: Iterable[Path],
        tags: Iterable[str] = (),
        progress: IngestProgress | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        for path in discover(paths):
            outcome = self._ingest_file(path, sorted(set(tags)), progress)
            report.outcomes.append(outcome)
            if progress:
                progress.file_finished(outcome)
        self.store.flush()
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_file(
        self, path: Path, tags: list[str], progress: IngestProgress | None
    ) -> FileOutcome:
        try:
            size = path.stat().st_size
            if size == 0:
                raise EmptyFileError("the file is empty")
            if size > self.settings.max_file_mb * 1e6:
                raise TooLargeError(
                    f"{size / 1e6:.0f} MB is over the limit of {self.settings.max_file_mb:g} MB"
                    " (RAG_MAX_FILE_MB)"
                )
            media_type = sniff(path)
            doc_id = sha256_file(path)
        except IngestError as exc:
            return FileOutcome(str(path), "failed", reason=str(exc))
        except OSError as exc:
            return FileOutcome(str(path), "failed", reason=f"cannot read the file ({exc.strerror})")

        known = self.catalog.get(doc_id)
        if known and known.status is Status.DONE:
            return FileOutcome(
                str(path),
                "skipped",
                doc_id,
                known.units,
                reason=f"already ingested as {known.source}",
            )
        doc = Document(
            doc_id,
            path.name,
            str(path.resolve()),
            media_type,
            path.stem,
            Status.PENDING,
            tags=tags,
            added=time.time(),
        )
        try:
            loader = self._loaders.get(media_type)
            if loader is None:
                raise UnsupportedFileError(f"unsupported file type ({media_type})")
            opened = loader(path, self.settings)
            doc.title = opened.title
            self.catalog.start(doc)
            if progress:
                progress.file_started(path, opened.unit_count)
            units = self._write_units(doc, opened.units, progress)
        except (IngestError, OSError, RuntimeError, ValueError) as exc:
            self._discard(doc, first_line(exc))
            return FileOutcome(str(path), "failed", doc_id, reason=first_line(exc))
        self.catalog.finish(doc_id, units)
        return FileOutcome(str(path), "ingested", doc_id, units)

    def _write_units(
        self, doc: Document, units: Iterator[Unit], progress: IngestProgress | None
    ) -> int:
        count = 0
        for batch in _batches(units, BATCH_UNITS):
            if self._ocr:
                for u in batch:
                    if u.image is not None and not u.text.strip():
                        u.text = ocr.read_text(u.image)
            keys = [self.images.save(u.image) if u.image is not None else None for u in batch]
            dense = self.embedder.embed_units(batch)
            points = [
                PointRecord(
                    id=point_id(doc.id, u.index),
                    dense=vectors,
                    sparse=self.sparse.document(u.text) if u.text else None,
                    payload={
                        "document_id": doc.id,
                        "source": doc.source,
                        "title": doc.title,
                        "unit": u.index,
                        "page": u.index + 1,
                        "modality": str(u.modality),
                        "text": u.text,
                        "image": key,
                        "tags": doc.tags,
                        "added": doc.added,
                        "start_s": u.start_s,
                        "end_s": u.end_s,
                    },
                )
                for u, vectors, key in zip(batch, dense, keys, strict=True)
            ]
            self.store.upsert(points)
            self.catalog.add_units(
                doc.id,
                [(u.index, p.id, k, u.words) for u, p, k in zip(batch, points, keys, strict=True)],
            )
            count += len(batch)
            if progress:
                progress.units_done(len(batch))
        return count

    def _discard(self, doc: Document, reason: str) -> None:
        """Remove what a failed document wrote, then record the failure."""
        self.store.delete_document(doc.id)
        unused = self.catalog.delete(doc.id)
        self.images.delete(unused)
        self.catalog.fail(doc, reason)
