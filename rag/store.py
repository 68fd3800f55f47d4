"""What a vector store holds and offers, whichever engine runs it.

Two engines serve the same interface: the embedded Qdrant engine in-process
(`rag.edge_store`, the default) and a Qdrant server or cluster through qdrant-client
(`rag.server_store`, chosen by `RAG_QDRANT_URL`). Each collection has named dense
vectors declared by the embedder (a multivector with MaxSim for text passages, a plain
vector for page images) and one BM25 sparse vector with Qdrant's IDF modifier; a search
is one Qdrant query with a prefetch per retriever, fused by RRF or DBSF.

A collection remembers which embedder wrote it, so opening it with another embedder is a
clear error instead of silently wrong results. A collection *name* points at a physical
collection, which `rag reindex` replaces by switching the pointer when the new one is
complete.
"""

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rag.config import Fusion, Settings
from rag.errors import EmbedderMismatchError
from rag.records import SearchFilter

if TYPE_CHECKING:
    from rag.catalog import Catalog

SPARSE = "sparse"
INDEXED_FIELDS = {  # payload indexes named in the design: filters stay inside the query
    "document_id": "keyword",
    "modality": "keyword",
    "tags": "keyword",
    "added": "float",
}


@dataclass(frozen=True)
class DenseSpec:
    """A dense named vector: size, and whether a unit holds several (one per passage)."""

    name: str
    size: int
    multivector: bool = False


@dataclass(frozen=True)
class Schema:
    """What a collection was built with; compared on every open."""

    embedder: str
    dense: tuple[DenseSpec, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "embedder": self.embedder,
            "dense": [
                {"name": d.name, "size": d.size, "multivector": d.multivector} for d in self.dense
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Schema":
        return cls(data["embedder"], tuple(DenseSpec(**d) for d in data["dense"]))


@dataclass
class SparseVector:
    """Indices and weights, as BM25 produces them."""

    indices: list[int]
    values: list[float]


@dataclass
class PointRecord:
    """A unit ready for the store: id, vectors by name, payload."""

    id: str
    dense: dict[str, list[float] | list[list[float]]]
    sparse: SparseVector | None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScoredRecord:
    id: str
    score: float
    payload: dict[str, Any]
    dense: dict[str, Any] = field(default_factory=dict)
    ranks: dict[str, tuple[int | None, float | None]] = field(default_factory=dict)


def point_id(document_id: str, index: int) -> str:
    """Deterministic id, so re-ingesting a document overwrites instead of duplicating."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mmrag:{document_id}:{index}"))


def filter_terms(flt: SearchFilter) -> list[tuple[str, list[str]]]:
    """(payload field, accepted values) for each list condition of a filter that is set."""
    pairs = (("document_id", flt.documents), ("modality", flt.modalities), ("tags", flt.tags))
    return [(key, values) for key, values in pairs if values]


def scored_record(point: Any) -> ScoredRecord:
    """A search hit from either engine."""
    return ScoredRecord(
        str(point.id), point.score, dict(point.payload or {}), dict(point.vector or {})
    )


def attach_ranks(records: list[ScoredRecord], alone: dict[str, list[Any]]) -> None:
    """Give every fused hit its (rank, score) in each retriever's own list (`explain`)."""
    ranks = {
        name: {str(p.id): (i + 1, p.score) for i, p in enumerate(points)}
        for name, points in alone.items()
    }
    for r in records:
        r.ranks = {name: ranks[name].get(r.id, (None, None)) for name in alone}


def point_record(record: Any) -> PointRecord:
    """A point read back from either engine (vectors by name, sparse apart) as a record."""
    vectors = dict(record.vector or {})
    sparse = vectors.pop(SPARSE, None)
    return PointRecord(
        id=str(record.id),
        dense=vectors,
        sparse=SparseVector(list(sparse.indices), list(sparse.values)) if sparse else None,
        payload=dict(record.payload or {}),
    )


def require_schema(where: str, stored: Schema, wanted: Schema) -> None:
    """Refuse an embedder other than the one that built the collection at `where`."""
    if wanted != stored:
        raise EmbedderMismatchError(
            f"The collection at {where} was built with {stored.embedder}"
            f" {[(d.name, d.size) for d in stored.dense]}, but the configured"
            f" embedder is {wanted.embedder}"
            f" {[(d.name, d.size) for d in wanted.dense]}. Use the same model,"
            " another collection (RAG_COLLECTION) or another data directory."
        )


class PagedPoints:
    """`scroll` and `points` for a store that pages through its points (`_records`)."""

    def _records(self, batch: int, vectors: bool) -> Iterator[list[Any]]:
        raise NotImplementedError

    def scroll(self, batch: int = 64) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        """Every point's (id, payload), a batch at a time (vectors stay in the engine)."""
        for records in self._records(batch, vectors=False):
            yield [(str(r.id), dict(r.payload or {})) for r in records]

    def points(self, batch: int = 64) -> Iterator[list[PointRecord]]:
        """Every point with its vectors, a batch at a time (backups, migrations)."""
        for records in self._records(batch, vectors=True):
            yield [point_record(r) for r in records]


class Store(Protocol):
    """One physical collection, open for reading and writing."""

    name: str
    schema: Schema

    def require(self, schema: Schema) -> None: ...
    def close(self) -> None: ...
    def flush(self) -> None: ...
    def upsert(self, points: list[PointRecord]) -> None: ...
    def delete_document(self, document_id: str) -> None: ...
    def set_tags(self, document_id: str, tags: list[str]) -> None: ...
    def count(self, document_id: str | None = None) -> int: ...
    def scroll(self, batch: int = 64) -> Iterator[list[tuple[str, dict[str, Any]]]]: ...
    def points(self, batch: int = 64) -> Iterator[list[PointRecord]]: ...
    def search(
        self,
        dense: dict[str, list[float] | list[list[float]]],
        sparse: SparseVector | None,
        limit: int,
        candidates: int,
        fusion: Fusion = Fusion.RRF,
        rrf_k: int = 60,
        where: SearchFilter | None = None,
        with_vectors: list[str] | None = None,
        weights: dict[str, float] | None = None,
        explain: bool = False,
    ) -> list[ScoredRecord]: ...


class Collections(Protocol):
    """Where the physical collections behind one collection name live, and the pointer."""

    kind: str  # "embedded" or "server"
    location: str  # a folder or a server URL, for messages and status

    def active(self) -> str | None:
        """The physical collection the name points at, or None before the first ingest."""
        ...

    def new_name(self) -> str: ...
    def open(self, physical: str, schema: Schema | None) -> Store: ...
    def switch(self, physical: str) -> None: ...
    def drop(self, physical: str) -> None: ...
    def others(self) -> list[str]:
        """Physical collections of this name the pointer does not point at (leftovers)."""
        ...

    def check_free(self) -> None:
        """Raise StoreBusyError when another process holds the store (embedded only)."""
        ...

    def size_bytes(self) -> int | None: ...
    def close(self) -> None: ...


def replace_collection(
    collections: Collections, schema: Schema, batches: Iterable[list[PointRecord]]
) -> Store:
    """Write `batches` into a new physical collection and point the collection name at
    it only once all are in; a failure drops the half-built one and leaves the old."""
    target = collections.new_name()
    store = collections.open(target, schema)
    try:
        for batch in batches:
            store.upsert(batch)
        store.flush()
    except BaseException:
        store.close()
        collections.drop(target)
        raise
    collections.switch(target)
    return store


def open_collections(settings: Settings, catalog: "Catalog") -> Collections:
    """The embedded engine under the data directory, or the server `RAG_QDRANT_URL` names."""
    if settings.qdrant_url:
        from rag.server_store import ServerCollections

        return ServerCollections(settings)
    from rag.edge_store import EdgeCollections

    return EdgeCollections(settings.data_dir / "store", catalog, settings.collection)
