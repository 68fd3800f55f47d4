"""The Python API: one facade over catalog, store, models and pipeline.

    with RAG() as rag:                      # settings from RAG_* variables
        rag.ingest(["report.pdf"])
        for hit in rag.search("revenue in 2023"):
            print(hit.source, hit.page, hit.score)
        print(rag.ask("What was the revenue in 2023?").text)

Parts are opened lazily: listing documents does not load a model. The embedded store
admits one process at a time; close the facade (or use `with`) to release it.
"""

import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from PIL import Image

from ingest.images import ImageStore
from ingest.pipeline import Ingestor, IngestProgress, discover
from rag.ask import AnswerStream, History
from rag.ask import ask as ask_question
from rag.backup import (
    BackupError,
    empty_data_dir,
    load_points,
    read_manifest,
    restore_backup,
    write_backup,
)
from rag.catalog import Catalog
from rag.config import Settings
from rag.edge_store import folder_bytes
from rag.errors import DocumentNotFoundError, StoreBusyError, StoreError
from rag.filters import parse_filters
from rag.generator import Generator
from rag.models.embedder import Embedder
from rag.models.reranker import Reranker
from rag.models.sparse import Bm25Encoder
from rag.profiles import (
    ProfileChoice,
    build_embedder,
    build_reranker,
    choose_profile,
    min_relevance,
)
from rag.query_image import load_query_image
from rag.records import Answer, Document, Hit, IngestReport, SearchFilter, Status, WordBox
from rag.reindex import ReindexReport, reindex
from rag.retrieve import Searcher
from rag.store import Collections, Schema, Store, open_collections


class RAG:
    """Ingest, search, ask, list and delete over one data directory."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        reranker: Reranker | None = None,
        **overrides: Any,
    ) -> None:
        """`overrides` replace single settings; `embedder` (and `reranker`) bring loaded models."""
        self.settings = Settings.load(settings, **overrides)
        self._store: Store | None = None
        if embedder is not None:
            self.__dict__["embedder"] = embedder
        if reranker is not None:
            self.__dict__["reranker"] = reranker

    def __enter__(self) -> "RAG":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store (and its process lock) and the catalog."""
        if self._store is not None:
            self._store.close()
            self._store = None
        if "collections" in self.__dict__:
            self.collections.close()
            del self.__dict__["collections"]
        if "catalog" in self.__dict__:
            self.catalog.close()
            del self.__dict__["catalog"]

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog(self.settings.catalog_path)

    @cached_property
    def profile(self) -> ProfileChoice:
        return choose_profile(self.settings)

    @cached_property
    def embedder(self) -> Embedder:
        return build_embedder(self.settings, self.profile)

    @cached_property
    def reranker(self) -> Reranker | None:
        return build_reranker(self.settings, self.profile)

    @cached_property
    def images(self) -> ImageStore:
        s = self.settings
        return ImageStore(s.images_dir, s.image_format, s.image_quality)

    @cached_property
    def sparse(self) -> Bm25Encoder:
        return Bm25Encoder()

    @cached_property
    def collections(self) -> Collections:
        """The embedded engine's folders, or the Qdrant server `RAG_QDRANT_URL` names."""
        return open_collections(self.settings, self.catalog)

    @property
    def has_store(self) -> bool:
        """Whether a collection exists yet (the first ingest creates it)."""
        return self.collections.active() is not None

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> ReindexReport:
        """Re-embed every unit with the configured embedder into a new collection, then
        switch to it; searches in this process use the old one until the switch."""
        if not self.has_store:
            raise StoreError("There is nothing to re-index yet; ingest a document first.")
        old = self.store(with_embedder=False)
        new, report = reindex(
            old, self.collections, self.embedder, self.sparse, self.images, progress
        )
        old.close()
        self._store = new
        self.collections.drop(old.name)
        return report

    def store(self, with_embedder: bool = True) -> Store:
        """The store; without the embedder it opens with the schema it was built with.

        A store first opened without the embedder (status, delete) is checked against it
        when a later call needs the embedder, as a fresh open would be. The first ingest
        creates the collection and points the collection name at it.
        """
        if self._store is None:
            self.collections.active()  # reach the store (a server may be down) before a model
        schema = Schema(self.embedder.id, self.embedder.dense_specs()) if with_embedder else None
        return self._open_store(schema)

    def _open_store(self, schema: Schema | None) -> Store:
        if self._store is None:
            active = self.collections.active()
            self._store = self.collections.open(active or self.collections.new_name(), schema)
            if active is None:
                self.collections.switch(self._store.name)
        elif schema is not None:
            self._store.require(schema)
        return self._store

    def ingest(
        self,
        paths: Iterable[str | Path],
        tags: Iterable[str] = (),
        progress: IngestProgress | None = None,
        distributed: bool = False,
    ) -> IngestReport:
        """Ingest files and folders; bad files fail alone (see the report's outcomes).

        `distributed` renders and embeds on Ray Data (`RAG_RAY_ADDRESS`, or a local Ray);
        this process still writes the store and the catalog.
        """
        files = [Path(p) for p in paths]
        if distributed:
            from ingest.distributed import ingest_distributed

            self.collections.active()  # an unreachable store fails before Ray starts
            return ingest_distributed(
                self.settings, self.catalog, self.images, self._open_store, files, tags, progress
            )
        ingestor = Ingestor(
            self.settings, self.catalog, self.store(), self.embedder, self.sparse, self.images
        )
        return ingestor.ingest(files, tags, progress)

    def watch(
        self,
        paths: Iterable[str | Path],
        tags: Iterable[str] = (),
        stop: threading.Event | None = None,
        interval_s: float = 2.0,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        progress: IngestProgress | None = None,
    ) -> IngestReport:
        """Ingest the files under `paths`, then new or changed ones as they appear, until
        `stop` is set. A file is taken once its size and time stayed the same for one
        interval (so half-copied files wait); known content is skipped by its hash."""
        stop = stop or threading.Event()
        report = IngestReport()
        last: dict[Path, tuple[float, int]] = {}
        done: dict[Path, tuple[float, int]] = {}
        folders = [Path(p) for p in paths]
        while True:
            now = {f: s for f in discover(folders, include, exclude) if (s := _stamp(f))}
            ready = [f for f, s in now.items() if last.get(f) == s and done.get(f) != s]
            if ready:
                round_report = self.ingest(ready, tags, progress)
                report.outcomes += round_report.outcomes
                report.seconds += round_report.seconds
                done.update((f, now[f]) for f in ready)
            last = now
            if stop.wait(interval_s):
                return report

    def search(
        self,
        query: str = "",
        top_k: int | None = None,
        where: SearchFilter | None = None,
        image: Image.Image | str | Path | None = None,
        explain: bool = False,
    ) -> list[Hit]:
        """Best units for a query of text, an image (PIL image or file path), or both.

        `where` filters inside the query (documents by id, modality, tags, date added);
        `explain` adds each retriever's rank and score and the matched terms to every hit.
        An empty list means nothing relevant is in the documents.
        """
        searcher = Searcher(
            self.settings,
            self.store(),
            self.embedder,
            self.sparse,
            self.images,
            self.reranker,
            min_relevance(self.settings, self.profile),
        )
        if isinstance(image, str | Path):
            image = load_query_image(Path(image))
        return searcher.search(query, top_k, where, image, explain)

    @cached_property
    def generator(self) -> Generator | None:
        return Generator(self.settings) if self.settings.generator_url else None

    def ask_stream(
        self,
        question: str,
        history: History = (),
        top_k: int | None = None,
        where: SearchFilter | None = None,
        image: Image.Image | str | Path | None = None,
    ) -> AnswerStream:
        """Iterate for answer text as it streams; then `.answer` has text and citations.

        `history` holds earlier (question, answer) turns; a follow-up is rewritten into a
        standalone query before retrieval. An `image` joins the question in retrieval.
        """
        return ask_question(
            question,
            list(history),
            lambda q: self.search(q, top_k, where, image),
            self.settings,
            self.generator,
        )

    def ask(
        self,
        question: str,
        history: History = (),
        top_k: int | None = None,
        where: SearchFilter | None = None,
        image: Image.Image | str | Path | None = None,
    ) -> Answer:
        """Answer from the documents with [n] citations (extractive without a generator)."""
        stream = self.ask_stream(question, history, top_k, where, image)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def filters(self, specs: list[str]) -> SearchFilter:
        """`key=value` filters (doc, modality, tag, after, before) as a `SearchFilter`."""
        return parse_filters(specs, lambda ref: self.catalog.resolve(ref).id)

    def documents(self) -> list[Document]:
        return self.catalog.documents()

    def delete(self, ref: str) -> Document:
        """Remove a document (by id, id prefix or file name): points, catalog rows, images."""
        doc = self.catalog.resolve(ref)
        if self.has_store:
            self.store(with_embedder=False).delete_document(doc.id)
        self.images.delete(self.catalog.delete(doc.id))
        return doc

    def set_tags(self, ref: str, tags: Iterable[str]) -> Document:
        """Replace a document's tags in the catalog and on its units (for `tag=` filters)."""
        doc = self.catalog.resolve(ref)
        doc.tags = sorted({t.strip() for t in tags if t.strip()})
        if doc.units and self.has_store:
            self.store(with_embedder=False).set_tags(doc.id, doc.tags)
        self.catalog.set_tags(doc.id, doc.tags)
        return doc

    def reingest(self, ref: str, progress: IngestProgress | None = None) -> IngestReport:
        """Ingest a document again from its file (after a failure, or a changed setting)."""
        doc = self.catalog.resolve(ref)
        path = Path(doc.path)
        if not path.is_file():
            raise DocumentNotFoundError(
                f"The file of {doc.source} is no longer at {path}; ingest it again."
            )
        self.delete(doc.id)
        return self.ingest([path], doc.tags, progress)

    def words(self, hit: Hit) -> list[WordBox]:
        """The hit's page words with page-relative boxes, for highlighting what matched."""
        return self.catalog.words(hit.document_id, hit.page - 1)

    def backup(self, out: Path) -> dict[str, Any]:
        """Write the data directory (catalog, images, uploads) and the collection (shard
        files, or a server's points) to one tar file, holding the store meanwhile."""
        store = self.store(with_embedder=False) if self.has_store else None
        if store is not None:
            store.flush()
        return write_backup(self.settings.data_dir, self.catalog, out, store, self.collections.kind)

    def restore(self, backup: Path, replace: bool = False) -> dict[str, Any]:
        """Replace this data directory's contents (and the collection) with a backup,
        then check that points and catalogued units agree."""
        manifest = read_manifest(backup)  # a foreign file is refused before anything else
        self.close()
        self.collections.check_free()  # refuses while another process has the store
        if not replace and self.has_store and self.store(with_embedder=False).count():
            raise BackupError(
                f"The collection {self.settings.collection} on {self.collections.location}"
                " already holds points; restore into an empty one or pass --replace."
            )
        self.close()
        restore_backup(backup, self.settings.data_dir, replace)
        if not (manifest.get("store", "embedded") == "embedded" == self.collections.kind):
            try:
                load_points(
                    self.settings.data_dir,
                    manifest,
                    self.collections,
                    self.catalog,
                    self.settings.collection,
                )
            except BackupError:  # leave the data directory empty, not half restored
                self.close()
                empty_data_dir(self.settings.data_dir)
                raise
        self.close()  # drop handles to the files the restore replaced
        points = self.store(with_embedder=False).count() if self.has_store else 0
        units = sum(d.units for d in self.documents() if d.status is Status.DONE)
        if points != units:
            raise BackupError(f"Restored {points} points for {units} catalogued units.")
        return {**manifest, "points": points}

    def status(self) -> dict[str, Any]:
        """Counts and locations, for `rag status` and health checks."""
        docs = self.documents()
        has_store = self.has_store
        store, busy = None, False
        if has_store:
            try:
                store = self.store(with_embedder=False)
            except StoreBusyError:  # another process (the web app) holds it: report the rest
                busy = True
        return {
            "data_dir": str(self.settings.data_dir),
            "profile": str(self.profile.profile),
            "profile_reason": self.profile.reason,
            "embedder": store.schema.embedder if store else None,
            "documents": len(docs),
            "by_status": {s.value: sum(d.status is s for d in docs) for s in Status},
            "units": sum(d.units for d in docs if d.status is Status.DONE),
            "points": store.count() if store else None if busy else 0,
            "store_busy": busy,
            "store": f"{self.collections.kind} {self.collections.location}",
            "collection": self.collections.active(),
            "images_bytes": folder_bytes(self.settings.images_dir),
            "store_bytes": self.collections.size_bytes(),
            "disk_free_bytes": shutil.disk_usage(self.settings.data_dir).free
            if self.settings.data_dir.exists()
            else None,
        }


def _stamp(path: Path) -> tuple[float, int] | None:
    """(modification time, size), or None for a file that vanished meanwhile."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime, stat.st_size
