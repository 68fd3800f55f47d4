"""Local ingestion: files loaded on threads ahead of one writer, on this machine.

file -> checks -> loader -> units (OCR, page images encoded) -> embed -> `DocumentWriter`.
One failing file never stops the others: its reason is recorded in the catalog and the
report, and whatever it had written to the store is removed. Loading runs on threads a
few batches ahead of embedding (`ingest.concurrency.ahead`), the slow kinds of file
started first, and each file is written as soon as it is loaded; long PDFs and
recordings are decoded in worker processes where there are cores to spare.
"""

import queue
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.concurrency.ahead import Ahead, loader_threads
from ingest.discover import Discovered
from ingest.loaders.base import LoaderOptions
from ingest.loaders.registry import loaders, open_document
from ingest.loading import BATCH_UNITS, in_batches, load_cost, read_missing_text, wants_ocr
from ingest.writer import DocumentWriter, IngestProgress, admit
from rag.core.config import Settings
from rag.core.errors import IngestError, first_line
from rag.core.records import Document, FileOutcome, IngestReport, Unit
from rag.models.embedder import Embedder
from rag.models.sparse import Bm25Encoder
from rag.storage.catalog import Catalog
from rag.storage.images import ImageStore
from rag.storage.vectors.base import Store

LOOKAHEAD = 2  # batches a file's loader may have ready before the embedder takes them


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
    remarks: list[str] = field(default_factory=list)  # the loader's word on what it left out


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
        self._options = LoaderOptions.from_settings(settings)
        self.ocr = wants_ocr(settings, embedder.reads_images)

    def ingest(
        self,
        found: Discovered,
        tags: Iterable[str] = (),
        progress: IngestProgress | None = None,
    ) -> IngestReport:
        """Ingest the discovered files; links left alone are reported as skipped."""
        started = time.perf_counter()
        files = found.files
        writer = DocumentWriter(
            self.catalog, self.images, progress, found.followed_links, self.settings.keep_versions
        )
        for outcome in found.outcomes():
            writer.ended(outcome)
        seen: dict[str, str] = {}  # document id -> the file that brought it in this run
        for position, loading in self._loading(files, sorted(set(tags))):
            with loading:
                self._write(files[position], loading, seen, writer)
        self.store.flush()
        return writer.report([*found.skipped_links, *files], started)

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
            opened = open_document(path, doc.media_type, self._options, self._loaders)
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
        yield _Ended(doc, remarks=opened.remarks)

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
        self, path: Path, events: Iterator[_Event], seen: dict[str, str], writer: DocumentWriter
    ) -> None:
        """This thread: record, embed and write one file's units as its loader sends them."""
        first = next(events)
        if isinstance(first, FileOutcome):
            writer.ended(first)
            return
        doc = first.doc
        if doc.id in seen:  # loaded at the same time as its twin, so admit could not tell
            same = FileOutcome(
                str(path), "skipped", doc.id, reason=f"same content as {seen[doc.id]}"
            )
            writer.ended(same)
            return
        seen[doc.id] = path.name
        reason = first.reason if isinstance(first, _Ended) else None
        units, remarks = 0, []
        if isinstance(first, _Opened):
            writer.start(doc, path, first.unit_count)
            for event in events:
                if isinstance(event, _Ended):
                    reason, remarks = event.reason, event.remarks
                    break
                try:
                    self._write_batch(writer, doc, event)
                except (IngestError, OSError, RuntimeError, ValueError) as exc:
                    reason = first_line(exc)
                    break
                units += len(event.units)
        if reason:
            writer.fail(self.store, doc, path, reason)
        else:
            writer.finish(self.store, doc, path, units, remarks)

    def _write_batch(self, writer: DocumentWriter, doc: Document, loaded: _Loaded) -> None:
        batch = loaded.units
        dense = self.embedder.embed_units(batch)
        sparse = [self.sparse.document(u.text) if u.text else None for u in batch]
        writer.write(self.store, doc, batch, dense, sparse, loaded.encoded)
