"""One document's life in the stores, written once for both ingestion drivers.

    admit -> start -> write (a batch at a time) -> finish | fail

`admit` decides whether a file is ingested at all (readable, not empty, not too large,
not already done). `DocumentWriter` then records the document as pending, writes each
embedded batch (page images, points with their payloads, catalog unit rows) and ends it
as done, or removes what it wrote and records the reason. Point ids derive from the
content hash, so an interrupted run simply runs again without duplicates. Only one
thread of one process writes: the local driver's writer thread, or the Ray driver.
"""

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from ingest.loading import checked
from rag.core.config import Settings
from rag.core.errors import IngestError
from rag.core.payload import UnitPayload, point_id
from rag.core.records import Document, FileOutcome, IngestReport, Status, Unit
from rag.core.vectors import DenseVectors, SparseVector
from rag.storage.catalog import Catalog
from rag.storage.images import ImageStore
from rag.storage.vectors.base import PointRecord, Store

ALREADY_INGESTED = "already ingested as"  # the reason of a file skipped as known


class IngestProgress(Protocol):
    """Receives progress; the CLI draws bars with it, the UI a progress component."""

    def file_started(self, path: Path, units: int) -> None: ...

    def units_done(self, count: int) -> None: ...

    def file_finished(self, outcome: FileOutcome) -> None: ...


def admit(
    path: Path, tags: list[str], settings: Settings, catalog: Catalog
) -> Document | FileOutcome:
    """The document to ingest for `path`, or the outcome that says why not (unreadable,
    empty, too large, or already ingested)."""
    try:
        media_type, doc_id = checked(path, settings)
    except IngestError as exc:
        return FileOutcome(str(path), "failed", reason=str(exc))
    except OSError as exc:
        return FileOutcome(str(path), "failed", reason=f"cannot read the file ({exc.strerror})")
    known = catalog.get(doc_id)
    if known and known.status is Status.DONE:
        return FileOutcome(
            str(path), "skipped", doc_id, known.units, reason=f"{ALREADY_INGESTED} {known.source}"
        )
    return Document(
        doc_id,
        path.name,
        str(path.resolve()),
        media_type,
        path.stem,
        Status.PENDING,
        tags=tags,
        added=time.time(),
    )


def remove_document(
    store: Store | None, catalog: Catalog, images: ImageStore, document_id: str
) -> list[str]:
    """Remove a document's points, catalog rows and the page images no other unit uses;
    returns the image keys refused as not ours (an edited catalog)."""
    if store is not None:
        store.delete_document(document_id)
    return images.delete(catalog.delete(document_id))


class DocumentWriter:
    """Writes documents into one catalog, image store and vector store, and reports each
    ending to `progress`; `outcomes` collects them in the order they ended."""

    def __init__(
        self,
        catalog: Catalog,
        images: ImageStore,
        progress: IngestProgress | None = None,
        followed_links: dict[Path, Path] | None = None,
        keep_versions: bool = False,
    ) -> None:
        self.catalog = catalog
        self.images = images
        self.progress = progress
        self.followed_links = followed_links or {}  # reported on their outcomes
        self.keep_versions = keep_versions  # else a changed file replaces its old version
        self.outcomes: list[FileOutcome] = []

    def start(self, doc: Document, path: Path, unit_count: int = 0) -> None:
        """Record the document as pending (its units may then be partly in the store)."""
        self.catalog.start(doc)
        if self.progress:
            self.progress.file_started(path, unit_count)

    def write(
        self,
        store: Store,
        doc: Document,
        units: list[Unit],
        dense: list[DenseVectors],
        sparse: list[SparseVector | None],
        encoded_images: list[bytes | None],
    ) -> None:
        """Store a batch: page images first (content-addressed), then the points, then
        the catalog rows that name both."""
        keys = [self.images.put(data) if data else None for data in encoded_images]
        points = [
            PointRecord(
                point_id(doc.id, u.index), vectors, terms, UnitPayload.of(doc, u, key).to_payload()
            )
            for u, vectors, terms, key in zip(units, dense, sparse, keys, strict=True)
        ]
        store.upsert(points)
        self.catalog.add_units(
            doc.id,
            [(u.index, p.id, k, u.words) for u, p, k in zip(units, points, keys, strict=True)],
        )
        if self.progress:
            self.progress.units_done(len(units))

    def finish(
        self, store: Store, doc: Document, path: Path, units: int, remarks: Sequence[str] = ()
    ) -> FileOutcome:
        """Mark the document done; earlier versions of the same file (same path, other
        content) are then removed, unless `keep_versions`. `remarks` (what the loader left
        out, such as a damaged file's unreadable pages) go on the outcome."""
        self.catalog.finish(doc.id, units)
        notes = list(remarks)
        if target := self.followed_links.get(path):
            notes.append(f"through a symbolic link to {target}")
        earlier = [d for d in self.catalog.at_path(doc.path) if d.id != doc.id]
        status = "ingested"
        if earlier and self.keep_versions:
            notes.append(f"a new version; {len(earlier)} earlier one(s) kept")
        elif earlier:
            for old in earlier:
                remove_document(store, self.catalog, self.images, old.id)
            status = "updated"
            notes.append(f"replaced the earlier version ({earlier[0].id[:12]})")
        outcome = FileOutcome(str(path), status, doc.id, units, reason="; ".join(notes) or None)
        return self.ended(outcome)

    def fail(self, store: Store | None, doc: Document, path: Path, reason: str) -> FileOutcome:
        """Remove what the document wrote, then record why it failed."""
        remove_document(store, self.catalog, self.images, doc.id)
        self.catalog.fail(doc, reason)
        return self.ended(FileOutcome(str(path), "failed", doc.id, reason=reason))

    def ended(self, outcome: FileOutcome) -> FileOutcome:
        """Report an outcome: a finished or failed document, or a file not admitted."""
        self.outcomes.append(outcome)
        if self.progress:
            self.progress.file_finished(outcome)
        return outcome

    def report(self, files: list[Path], started: float) -> IngestReport:
        """The run's outcomes in the order the files were given."""
        position = {str(f): i for i, f in enumerate(files)}
        ordered = sorted(self.outcomes, key=lambda o: position.get(o.path, len(files)))
        return IngestReport(outcomes=ordered, seconds=time.perf_counter() - started)
