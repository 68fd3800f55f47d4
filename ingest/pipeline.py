"""The ingest pipeline: file -> hash -> skip if known -> loader -> units -> embed -> upsert.

One failing file never stops the others: its reason is recorded in the catalog and the
report, and whatever it had written to the store is removed. Point ids are derived from
the document hash, so an interrupted run simply runs again without duplicates.
Loading runs on threads a few batches ahead of embedding (see `ingest.ahead`), the slow
kinds of file started first, and each file is written as soon as it is loaded; long PDFs
and recordings are decoded in worker processes where there are cores to spare.
"""

import hashlib
import queue
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from itertools import islice
from pathlib import Path
from typing import Protocol

from ingest import ocr
from ingest.ahead import Ahead, loader_threads
from ingest.images import ImageStore
from ingest.sniff import sniff
from ingest.source import Loader, OpenedSource, loaders
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
from rag.store import PointRecord, SparseVector, Store, point_id

BATCH_UNITS = 16  # pages per embed + upsert round: bounds memory for rendered images
LOOKAHEAD = 2  # batches a file's loader may have ready before the embedder takes them


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


def wants_ocr(settings: Settings, embedder_reads_images: bool) -> bool:
    """OCR pages without text when asked to, or (auto) when the embedder reads only text
    and the ocr extra is installed."""
    if settings.ocr == "on":
        return True
    return settings.ocr == "auto" and not embedder_reads_images and ocr.available()


def read_missing_text(units: list[Unit], threads: int = 1) -> None:
    """Give units with a picture but no text their OCR text."""
    for u in units:
        if u.image is not None and not u.text.strip():
            u.text = ocr.read_text(u.image, threads)


def open_document(
    path: Path, media_type: str, settings: Settings, known: dict[str, Loader] | None = None
) -> OpenedSource:
    """The loader's view of a file: title, unit count and a stream of units."""
    loader = (known or loaders()).get(media_type)
    if loader is None:
        raise UnsupportedFileError(f"unsupported file type ({media_type})")
    return loader(path, settings)


def load_cost(path: Path) -> int:
    """How long a file holds one core while it loads, as a rank: recordings (speech
    recognition) 3, office files (LibreOffice) 2, images (OCR) 1, PDFs and text 0. Files
    that cannot be sniffed rank 0: they fail at once when loaded. Only regular files are
    sniffed (reading a named pipe would wait for a writer; `admit` refuses it as empty)."""
    from ingest.media import MEDIA_TYPES  # here: at the top they close an import cycle
    from ingest.office import OFFICE_TYPES

    try:
        if not path.is_file():
            return 0
        media_type = sniff(path)
    except (IngestError, OSError):
        return 0
    if media_type in MEDIA_TYPES:
        return 3
    if media_type in OFFICE_TYPES:
        return 2
    return 1 if media_type.startswith("image/") else 0


def in_batches(units: Iterable[Unit], size: int) -> Iterator[list[Unit]]:
    """Units in lists of `size` (the last may be shorter), read lazily."""
    units = iter(units)
    while batch := list(islice(units, size)):
        yield batch


def admit(
    path: Path, tags: list[str], settings: Settings, catalog: Catalog
) -> Document | FileOutcome:
    """The document to ingest for `path`, or the outcome that says why not (unreadable,
    empty, too large, or already ingested)."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise EmptyFileError("the file is empty")
        if size > settings.max_file_mb * 1e6:
            raise TooLargeError(
                f"{size / 1e6:.0f} MB is over the limit of {settings.max_file_mb:g} MB"
                " (RAG_MAX_FILE_MB)"
            )
        media_type = sniff(path)
        doc_id = sha256_file(path)
    except IngestError as exc:
        return FileOutcome(str(path), "failed", reason=str(exc))
    except OSError as exc:
        return FileOutcome(str(path), "failed", reason=f"cannot read the file ({exc.strerror})")
    known = catalog.get(doc_id)
    if known and known.status is Status.DONE:
        return FileOutcome(
            str(path),
            "skipped",
            doc_id,
            known.units,
            reason=f"already ingested as {known.source}",
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


def write_units(
    store: Store,
    catalog: Catalog,
    doc: Document,
    units: list[Unit],
    dense: list[dict],
    sparse: list[SparseVector | None],
    keys: list[str | None],
) -> None:
    """Upsert embedded units with their payloads, then record them in the catalog."""
    points = [
        PointRecord(
            id=point_id(doc.id, u.index),
            dense=vectors,
            sparse=terms,
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
        for u, vectors, terms, key in zip(units, dense, sparse, keys, strict=True)
    ]
    store.upsert(points)
    catalog.add_units(
        doc.id,
        [(u.index, p.id, k, u.words) for u, p, k in zip(units, points, keys, strict=True)],
    )


def discard(
    store: Store | None, catalog: Catalog, images: ImageStore, doc: Document, reason: str
) -> None:
    """Remove what a failed document wrote, then record the failure."""
    if store is not None:
        store.delete_document(doc.id)
    images.delete(catalog.delete(doc.id))
    catalog.fail(doc, reason)


@dataclass
class _Opened:
    """A document passed its checks and its loader opened it; its units follow."""

    doc: Document
    unit_count: int


@dataclass
class _Loaded:
    """A batch of a document's units, OCR done, page images encoded for the image store."""

    units: list[Unit]
    encoded: list[bytes | None]


@dataclass
class _Ended:
    """The loader is done with the document: all its units were sent, or it failed."""

    doc: Document
    reason: str | None = None


_Event = FileOutcome | _Opened | _Loaded | _Ended


class Ingestor:
    """Ingests files into one catalog + store + image store with one embedder.

    Each file is loaded (checks, conversion, decoding, transcription, OCR, rendering, JPEG
    encoding) on a thread of its own, up to RAG_FILES_AT_ONCE files at once and LOOKAHEAD
    batches ahead, the slow kinds first (`load_cost`), so a recording or a deck is not
    the last thing running on one core while the others idle. This thread writes one file
    at a time, each from start to end, taking next whichever loading file has its first
    batch ready: the store and the catalog keep one writer, and a slow file never holds
    up the ones after it. The report lists files in the order they were given.
    """

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        store: Store,
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
        self.ocr = wants_ocr(settings, embedder.reads_images)

    def ingest(
        self,
        paths: Iterable[Path],
        tags: Iterable[str] = (),
        progress: IngestProgress | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        files = discover(paths)
        written: dict[int, FileOutcome] = {}  # position in `files` -> outcome
        seen: dict[str, str] = {}  # document id -> the file that brought it in this run
        for position, loading in self._loading(files, sorted(set(tags))):
            with loading:
                outcome = self._write(files[position], loading, seen, progress)
            written[position] = outcome
            if progress:
                progress.file_finished(outcome)
        self.store.flush()
        report = IngestReport(outcomes=[written[i] for i in sorted(written)])
        report.seconds = time.perf_counter() - started
        return report

    def _loading(self, files: list[Path], tags: list[str]) -> Iterator[tuple[int, Ahead[_Event]]]:
        """(position, loader) of each file, in the order their first batches are ready."""
        waiting = deque(sorted(range(len(files)), key=lambda i: -load_cost(files[i])))
        ready: queue.SimpleQueue[int] = queue.SimpleQueue()
        running: dict[int, Ahead[_Event]] = {}
        try:
            while waiting or running:
                while waiting and len(running) < max(1, self.settings.files_at_once):
                    i = waiting.popleft()
                    load = self._load(files[i], tags)
                    running[i] = Ahead(load, LOOKAHEAD, files[i].name, lambda i=i: ready.put(i))
                position = ready.get()
                yield position, running.pop(position)
        finally:
            for loading in running.values():  # left early (an interrupt): stop the rest
                loading.close()

    def _load(self, path: Path, tags: list[str]) -> Iterator[_Event]:
        """Loader thread: the file checked, opened and read into batches of units. Its
        first event comes once the first batch is ready (or the file failed), so the
        writer takes the file when it has work to do. Reads the catalog (to skip a known
        file) but never writes it."""
        doc = admit(path, tags, self.settings, self.catalog)
        if isinstance(doc, FileOutcome):
            yield doc
            return
        try:
            opened = open_document(path, doc.media_type, self.settings, self._loaders)
            doc.title = opened.title
            batches = map(self._prepare, in_batches(opened.units, BATCH_UNITS))
            first = next(batches, None)
            yield _Opened(doc, opened.unit_count)
            if first is not None:
                yield first
                yield from batches
        except (IngestError, OSError, RuntimeError, ValueError) as exc:
            yield _Ended(doc, first_line(exc))
            return
        yield _Ended(doc)

    def _prepare(self, batch: list[Unit]) -> _Loaded:
        """OCR where a picture has no text, and page images encoded for the image store;
        the pixels are let go here when the embedder reads text only (bounded memory with
        several files loading)."""
        if self.ocr:
            read_missing_text(batch, loader_threads(self.settings.ocr_threads))
        encoded = [self.images.encode(u.image) if u.image is not None else None for u in batch]
        if not self.embedder.reads_images:
            for u in batch:
                u.image = None
        return _Loaded(batch, encoded)

    def _write(
        self,
        path: Path,
        events: Iterator[_Event],
        seen: dict[str, str],
        progress: IngestProgress | None,
    ) -> FileOutcome:
        """This thread: record, embed and write one file's units as its loader sends them."""
        first = next(events)
        if isinstance(first, FileOutcome):
            return first
        doc = first.doc
        if doc.id in seen:  # loaded at the same time as its twin, so admit could not tell
            return FileOutcome(
                str(path), "skipped", doc.id, reason=f"same content as {seen[doc.id]}"
            )
        seen[doc.id] = path.name
        reason = first.reason if isinstance(first, _Ended) else None
        units = 0
        if isinstance(first, _Opened):
            self.catalog.start(doc)
            if progress:
                progress.file_started(path, first.unit_count)
            for event in events:
                if isinstance(event, _Ended):
                    reason = event.reason
                    break
                try:
                    self._write_batch(doc, event)
                except (IngestError, OSError, RuntimeError, ValueError) as exc:
                    reason = first_line(exc)
                    break
                units += len(event.units)
                if progress:
                    progress.units_done(len(event.units))
        if reason:
            discard(self.store, self.catalog, self.images, doc, reason)
            return FileOutcome(str(path), "failed", doc.id, reason=reason)
        self.catalog.finish(doc.id, units)
        return FileOutcome(str(path), "ingested", doc.id, units)

    def _write_batch(self, doc: Document, loaded: _Loaded) -> None:
        batch = loaded.units
        keys = [self.images.put(data) if data else None for data in loaded.encoded]
        dense = self.embedder.embed_units(batch)
        sparse = [self.sparse.document(u.text) if u.text else None for u in batch]
        write_units(self.store, self.catalog, doc, batch, dense, sparse, keys)
