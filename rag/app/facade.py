"""The Python API: one facade over the layers below, for scripts, the CLI and the web app.

    with RAG() as rag:                      # settings from RAG_* variables
        rag.ingest(["report.pdf"])
        for hit in rag.search("revenue in 2023"):
            print(hit.source, hit.page, hit.score)
        print(rag.ask("What was the revenue in 2023?").text)

Each method delegates: ingestion to `ingest`, search to `rag.search`, answers to
`rag.answer`, maintenance to `rag.ops`; the parts come from `Services`, opened lazily
(listing documents loads no model). The embedded store admits one process at a time;
close the facade (or use `with`) to release it.
"""

import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from ingest.discover import Discovered, discover, sha256_file
from ingest.distributed import ingest_distributed
from ingest.local import Ingestor
from ingest.writer import IngestProgress, remove_document
from rag.answer.ask import AnswerStream, History
from rag.answer.ask import ask as ask_question
from rag.app.services import Services
from rag.app.watch import watch
from rag.core.config import Settings
from rag.core.errors import BackupError, DocumentNotFoundError, StoreError
from rag.core.records import (
    Answer,
    Document,
    Hit,
    IngestReport,
    SearchFilter,
    Status,
    WordBox,
)
from rag.models.embedder import Embedder
from rag.models.reranker import Reranker
from rag.ops.backup import (
    BackupManifest,
    empty_data_dir,
    load_points,
    read_manifest,
    restore_backup,
    write_backup,
)
from rag.ops.reindex import ReindexReport, reindex
from rag.ops.status import StatusReport, collect_status
from rag.search.filters import parse_filters
from rag.search.query_image import load_query_image


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
        self.services = Services(self.settings, embedder, reranker)

    def __enter__(self) -> "RAG":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store (and its process lock) and the catalog."""
        self.services.close()

    @property
    def reads_images(self) -> bool:
        """Whether the embedder in use reads images (an image question then searches)."""
        return self.services.embedder.reads_images

    def ingest(
        self,
        paths: Iterable[str | Path] | Discovered,
        tags: Iterable[str] = (),
        progress: IngestProgress | None = None,
        distributed: bool = False,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> IngestReport:
        """Ingest files and folders; bad files fail alone (see the report's outcomes).

        Under folders, `include`/`exclude` globs choose files and symbolic links are
        skipped (reported) unless RAG_FOLLOW_LINKS; files already `discover`ed (the CLI
        counts them for its bars) are taken as they are. `distributed` renders and embeds on
        Ray Data (`RAG_RAY_ADDRESS`, or a local Ray); this process still writes the store
        and the catalog.
        """
        files = (
            paths
            if isinstance(paths, Discovered)
            else discover([Path(p) for p in paths], include, exclude, self.settings.follow_links)
        )
        s = self.services
        if distributed:
            s.collections.active()  # an unreachable store fails before Ray starts
            return ingest_distributed(
                self.settings, s.catalog, s.images, s.open_store, files, tags, progress
            )
        ingestor = Ingestor(self.settings, s.catalog, s.store(), s.embedder, s.sparse, s.images)
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
        `stop` is set (see `rag.app.watch`)."""
        tag_list = list(tags)
        return watch(
            lambda files: self.ingest(files, tag_list, progress),
            [Path(p) for p in paths],
            stop or threading.Event(),
            interval_s,
            include,
            exclude,
            self.settings.follow_links,
        )

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
        if isinstance(image, str | Path):
            image = load_query_image(Path(image))
        return self.services.search(query, top_k, where, image, explain)

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
            self.services.generator,
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
        return parse_filters(specs, lambda ref: self.services.catalog.resolve(ref).id)

    def documents(self) -> list[Document]:
        return self.services.catalog.documents()

    def document(self, document_id: str) -> Document | None:
        """The catalogued document with this exact id, if any."""
        return self.services.catalog.get(document_id)

    def delete(self, ref: str) -> Document:
        """Remove a document (by id, id prefix or file name): points, catalog rows, page
        images, and its kept upload. A file name in the catalog that is not ours (an
        edited catalog) is never deleted: the rest goes, then a StoreError names it."""
        return self._delete(ref, with_upload=True)

    def _delete(self, ref: str, with_upload: bool) -> Document:
        s = self.services
        doc = s.catalog.resolve(ref)
        store = s.store(with_embedder=False) if s.has_store else None
        refused = remove_document(store, s.catalog, s.images, doc.id)
        if with_upload and s.uploads.holds(Path(doc.path)):
            s.uploads.remove(Path(doc.path))
        if refused:
            raise StoreError(
                f"Deleted {doc.source}, but refused to delete {len(refused)} file(s) the"
                f" catalog names that are not page images ({refused[0]!r})."
            )
        return doc

    def keep_upload(self, upload: Path) -> Path:
        """Copy a file handed to the app under the data directory (for re-ingesting later)."""
        return self.services.uploads.keep(upload, sha256_file(upload))

    def set_tags(self, ref: str, tags: Iterable[str]) -> Document:
        """Replace a document's tags in the catalog and on its units (for `tag=` filters)."""
        s = self.services
        doc = s.catalog.resolve(ref)
        doc.tags = sorted({t.strip() for t in tags if t.strip()})
        if doc.units and s.has_store:
            s.store(with_embedder=False).set_tags(doc.id, doc.tags)
        s.catalog.set_tags(doc.id, doc.tags)
        return doc

    def reingest(self, ref: str, progress: IngestProgress | None = None) -> IngestReport:
        """Ingest a document again from its file (after a failure, or a changed setting)."""
        doc = self.services.catalog.resolve(ref)
        path = Path(doc.path)
        if not path.is_file():
            raise DocumentNotFoundError(
                f"The file of {doc.source} is no longer at {path}; ingest it again."
            )
        self._delete(doc.id, with_upload=False)  # the kept upload is what is read again
        return self.ingest([path], doc.tags, progress)

    def words(self, hit: Hit) -> list[WordBox]:
        """The hit's page words with page-relative boxes, for highlighting what matched."""
        return self.services.catalog.words(hit.document_id, hit.page - 1)

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> ReindexReport:
        """Re-embed every unit with the configured embedder into a new collection, then
        switch to it; searches in this process use the old one until the switch."""
        s = self.services
        if not s.has_store:
            raise StoreError("There is nothing to re-index yet; ingest a document first.")
        old = s.store(with_embedder=False)
        new, report = reindex(old, s.collections, s.embedder, s.sparse, s.images, progress)
        s.replace_store(new)
        s.collections.drop(old.name)
        return report

    def backup(self, out: Path) -> BackupManifest:
        """Write the data directory (catalog, images, uploads) and the collection (shard
        files, or a server's points) to one tar file, holding the store meanwhile."""
        s = self.services
        store = s.store(with_embedder=False) if s.has_store else None
        if store is not None:
            store.flush()
        return write_backup(self.settings.data_dir, s.catalog, out, store, s.collections.kind)

    def restore(self, backup: Path, replace: bool = False) -> BackupManifest:
        """Replace this data directory's contents (and the collection) with a backup,
        then check that points and catalogued units agree."""
        s = self.services
        manifest = read_manifest(backup)  # a foreign file is refused before anything else
        self.close()
        s.collections.check_free()  # refuses while another process has the store
        if not replace and s.has_store and s.store(with_embedder=False).count():
            raise BackupError(
                f"The collection {self.settings.collection} on {s.collections.location}"
                " already holds points; restore into an empty one or pass --replace."
            )
        self.close()
        restore_backup(backup, self.settings.data_dir, replace, self.settings.max_restore_mb)
        if not (manifest.store == "embedded" == s.collections.kind):
            try:
                load_points(
                    self.settings.data_dir,
                    manifest,
                    s.collections,
                    s.catalog,
                    self.settings.collection,
                )
            except BackupError:  # leave the data directory empty, not half restored
                self.close()
                empty_data_dir(self.settings.data_dir)
                raise
        self.close()  # drop handles to the files the restore replaced
        points = s.store(with_embedder=False).count() if s.has_store else 0
        units = sum(d.units for d in self.documents() if d.status is Status.DONE)
        if points != units:
            raise BackupError(f"Restored {points} points for {units} catalogued units.")
        manifest.points = points
        return manifest

    def status(self) -> StatusReport:
        """Counts and locations, for `rag status` and health checks."""
        s = self.services
        return collect_status(
            self.settings,
            s.profile,
            self.documents(),
            s.collections,
            lambda: s.store(with_embedder=False),
        )
