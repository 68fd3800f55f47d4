"""The composition root: the one place that builds the parts from `Settings` and wires
them together, each on first use (listing documents loads no model, status opens no
generator). The facade and the UI reach parts only through here.
"""

import os
from pathlib import Path

from PIL import Image

from rag.answer.generator import Generator
from rag.core.config import Settings
from rag.core.errors import ConfigError
from rag.core.records import Hit, SearchFilter
from rag.models.embedder import Embedder
from rag.models.profiles import (
    ProfileChoice,
    build_embedder,
    build_reranker,
    choose_profile,
    min_relevance,
)
from rag.models.reranker import Reranker
from rag.models.sparse import Bm25Encoder
from rag.search.retrieve import Searcher
from rag.storage.catalog import Catalog
from rag.storage.images import ImageStore
from rag.storage.uploads import KeptUploads
from rag.storage.vectors.base import Collections, Schema, Store
from rag.storage.vectors.connect import open_collections

_UNSET = object()  # a reranker not built yet (None is a real value: no reranker)
_SYSTEM_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))


def usable_data_dir(path: Path) -> None:
    """Create the data directory, or say in one line why it cannot be one."""
    where = f"The data directory {path} (RAG_DATA_DIR, --data-dir)"
    resolved = path.resolve()
    if any(resolved.is_relative_to(tree) for tree in _SYSTEM_TREES):
        raise ConfigError(f"{where} is inside a system folder; choose another.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise ConfigError(f"{where} is a file, not a folder.") from exc
    except OSError as exc:
        raise ConfigError(f"{where} cannot be created: {exc.strerror}.") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{where} is not writable by this user.")


class Services:
    """Catalog, image store, vector store, models and generator of one data directory."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        usable_data_dir(settings.data_dir)
        self._embedder = embedder
        self._reranker: object = reranker if reranker is not None else _UNSET
        self._profile: ProfileChoice | None = None
        self._catalog: Catalog | None = None
        self._collections: Collections | None = None
        self._store: Store | None = None
        self._generator: object = _UNSET
        self.images = ImageStore(settings.images_dir, settings.image_format, settings.image_quality)
        self.sparse = Bm25Encoder()
        self.uploads = KeptUploads(settings.data_dir / "uploads")

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog(self.settings.catalog_path, self.settings.collection)
        return self._catalog

    @property
    def profile(self) -> ProfileChoice:
        if self._profile is None:
            self._profile = choose_profile(self.settings)
        return self._profile

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = build_embedder(self.settings, self.profile)
        return self._embedder

    @property
    def reranker(self) -> Reranker | None:
        if self._reranker is _UNSET:
            self._reranker = build_reranker(self.settings, self.profile)
        return self._reranker  # type: ignore[return-value]

    @property
    def generator(self) -> Generator | None:
        """The OpenAI-compatible client, or None for extractive answers."""
        if self._generator is _UNSET:
            self._generator = Generator(self.settings) if self.settings.generator_url else None
        return self._generator  # type: ignore[return-value]

    @property
    def collections(self) -> Collections:
        """The embedded engine's folders, or the Qdrant server `RAG_QDRANT_URL` names."""
        if self._collections is None:
            self._collections = open_collections(self.settings, self.catalog)
        return self._collections

    @property
    def has_store(self) -> bool:
        """Whether a collection exists yet (the first ingest creates it)."""
        return self.collections.active() is not None

    def store(self, with_embedder: bool = True) -> Store:
        """The store; without the embedder it opens with the schema it was built with.

        A store first opened without the embedder (status, delete) is checked against it
        when a later call needs the embedder, as a fresh open would be. The first ingest
        creates the collection and points the collection name at it.
        """
        if self._store is None:
            self.collections.active()  # reach the store (a server may be down) before a model
        schema = Schema(self.embedder.id, self.embedder.dense_specs()) if with_embedder else None
        return self.open_store(schema)

    def open_store(self, schema: Schema | None) -> Store:
        """The store for `schema` (None: whatever built it), created if there is none."""
        if self._store is None:
            with self.collections.creating():  # decide and create under one lock
                active = self.collections.active()
                self._store = self.collections.open(active or self.collections.new_name(), schema)
                if active is None:
                    self.collections.switch(self._store.name)
        elif schema is not None:
            self._store.require(schema)
        return self._store

    def replace_store(self, store: Store) -> None:
        """Use `store` from now on (after a reindex switched collections)."""
        if self._store is not None and self._store is not store:
            self._store.close()
        self._store = store

    def search(
        self,
        query: str,
        top_k: int | None,
        where: SearchFilter | None,
        image: Image.Image | None,
        explain: bool,
    ) -> list[Hit]:
        searcher = Searcher(
            self.settings,
            self.store(),
            self.embedder,
            self.sparse,
            self.images,
            self.reranker,
            min_relevance(self.settings, self.profile),
        )
        return searcher.search(query, top_k, where, image, explain)

    def close(self) -> None:
        """Release the store (and its process lock), the collections and the catalog."""
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._collections is not None:
            self._collections.close()
            self._collections = None
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None
