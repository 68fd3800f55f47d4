"""What a vector store holds and offers, whichever engine runs it.

Two engines serve the same interface: the embedded Qdrant engine in-process
(`rag.storage.vectors.embedded`, the default) and a Qdrant server or cluster through qdrant-client
(`rag.storage.vectors.server`, chosen by `RAG_QDRANT_URL`). Each collection has named dense
vectors declared by the embedder (a multivector with MaxSim for text passages, a plain
vector for page images) and one BM25 sparse vector with Qdrant's IDF modifier; a search
is one `QueryPlan` (`plan.py`), which each engine translates to one Qdrant query.

A collection remembers which embedder wrote it, so opening it with another embedder is a
clear error instead of silently wrong results. A collection *name* points at a physical
collection, which `rag reindex` replaces by switching the pointer when the new one is
complete.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from rag.core.errors import EmbedderMismatchError
from rag.core.vectors import SPARSE, DenseSpec, DenseVectors, SparseVector
from rag.storage.vectors.plan import QueryPlan


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
class PointRecord:
    """A unit ready for the store: id, vectors by name, payload."""

    id: str
    dense: DenseVectors
    sparse: SparseVector | None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScoredRecord:
    """A search hit: the point's payload, the dense vectors asked for, and with `explain`
    its (rank, score) in each retriever's own list."""

    id: str
    score: float
    payload: dict[str, Any]
    dense: dict[str, Any] = field(default_factory=dict)
    ranks: dict[str, tuple[int | None, float | None]] = field(default_factory=dict)


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


def engine_vectors(
    point: PointRecord, sparse_type: Callable[[list[int], list[float]], Any]
) -> dict:
    """A point's vectors by name as an engine takes them (its own sparse vector type)."""
    vectors: dict[str, Any] = dict(point.dense)
    if point.sparse is not None and point.sparse.indices:
        vectors[SPARSE] = sparse_type(point.sparse.indices, point.sparse.values)
    return vectors


class EngineStore:
    """What both engines share: reading points back, and running a `QueryPlan` (the
    engine supplies `_records`, paging through points, and `_query`, the translated
    query plus, with `explain`, each retriever alone)."""

    def _records(self, batch: int, vectors: bool) -> Iterator[list[Any]]:
        raise NotImplementedError

    def _query(self, plan: QueryPlan) -> tuple[list[Any], list[list[Any]]]:
        raise NotImplementedError

    def scroll(self, batch: int = 64) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        """Every point's (id, payload), a batch at a time (vectors stay in the engine)."""
        for records in self._records(batch, vectors=False):
            yield [(str(r.id), dict(r.payload or {})) for r in records]

    def points(self, batch: int = 64) -> Iterator[list[PointRecord]]:
        """Every point with its vectors, a batch at a time (backups, migrations)."""
        for records in self._records(batch, vectors=True):
            yield [_point_record(r) for r in records]

    def search(self, plan: QueryPlan) -> list[ScoredRecord]:
        """Run one query plan: filters inside, fused, best first."""
        if not plan.retrievers:
            return []
        main, alone = self._query(plan)
        records = [
            ScoredRecord(str(p.id), p.score, dict(p.payload or {}), dict(p.vector or {}))
            for p in main
        ]
        if plan.explain:
            ranks = {
                r.using: {str(p.id): (i + 1, p.score) for i, p in enumerate(points)}
                for r, points in zip(plan.retrievers, alone, strict=True)
            }
            for record in records:
                record.ranks = {
                    name: found.get(record.id, (None, None)) for name, found in ranks.items()
                }
        return records


def _point_record(record: Any) -> PointRecord:
    """A point read back from either engine (vectors by name, sparse apart) as a record."""
    vectors = dict(record.vector or {})
    sparse = vectors.pop(SPARSE, None)
    return PointRecord(
        id=str(record.id),
        dense=vectors,
        sparse=SparseVector(list(sparse.indices), list(sparse.values)) if sparse else None,
        payload=dict(record.payload or {}),
    )


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
    def search(self, plan: QueryPlan) -> list[ScoredRecord]: ...


class Collections(Protocol):
    """Where the physical collections behind one collection name live, and the pointer."""

    kind: str  # "embedded" or "server"
    location: str  # a folder or a server URL, for messages and status

    def active(self) -> str | None:
        """The physical collection the name points at, or None before the first ingest."""
        ...

    def creating(self) -> AbstractContextManager[None]:
        """Held while the first collection is created and named, so two processes starting
        on an empty data directory cannot each create one (and lose the other's points)."""
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
