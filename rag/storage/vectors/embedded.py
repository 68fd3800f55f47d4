"""The embedded store: the real Qdrant engine in-process (qdrant-edge-py), one shard
directory per physical collection under the data directory.

The collection remembers which embedder wrote it (`schema.json` beside the shard); the
catalog holds the pointer from a collection name to its physical folder. One process
opens a store at a time (the engine's rule), enforced by a lock file.
"""

import fcntl
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import qdrant_edge as qe

from rag.core.config import Fusion
from rag.core.errors import StoreBusyError, StoreError
from rag.core.payload import INDEXED_FIELDS
from rag.core.vectors import SPARSE, SparseVector
from rag.storage.catalog import Catalog
from rag.storage.vectors.base import (
    EngineStore,
    PointRecord,
    Schema,
    engine_vectors,
    require_schema,
)
from rag.storage.vectors.plan import Condition, MatchAny, QueryPlan, Retriever, of_document

FIELD_TYPES = {"keyword": qe.PayloadSchemaType.Keyword, "float": qe.PayloadSchemaType.Float}


def to_filter(conditions: tuple[Condition, ...]) -> qe.Filter | None:
    """Plan conditions as the engine's filter: all must hold."""
    if not conditions:
        return None
    return qe.Filter(
        must=[
            qe.FieldCondition(c.key, match=qe.MatchAny(list(c.values)))
            if isinstance(c, MatchAny)
            else qe.FieldCondition(c.key, range=qe.RangeFloat(gte=c.gte, lt=c.lt))
            for c in conditions
        ]
    )


def to_query(retriever: Retriever) -> qe.Query:
    vector = retriever.vector
    if isinstance(vector, SparseVector):
        vector = qe.SparseVector(vector.indices, vector.values)
    return qe.Query.Nearest(vector, using=retriever.using)


def lock_store(path: Path) -> IO[bytes]:
    """Hold `path/lock` exclusively for this process, or say who has the store."""
    path.mkdir(parents=True, exist_ok=True)
    handle = (path / "lock").open("wb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise StoreBusyError(
            f"The store at {path} is open in another process (the embedded engine"
            " allows one at a time); wait for it to finish or stop it."
        ) from exc
    return handle


class EdgeStore(EngineStore):
    """The embedded Qdrant engine in one shard directory; one process at a time."""

    def __init__(self, path: Path, schema: Schema | None) -> None:
        """Open or create the collection; `schema=None` opens it with whatever built it.

        A lock file is taken before the engine touches any file: the engine's own lock
        comes after it has opened (and may have replayed) segment journals, so a second
        process reaching it could damage the first one's store.
        """
        self.path = path
        self.name = path.name
        schema_file = path / "schema.json"
        if schema is None and not schema_file.exists():
            raise StoreError(f"No collection at {path} yet; ingest a document first.")
        self._lock = lock_store(path)
        try:
            if schema_file.exists():
                stored = Schema.from_json(json.loads(schema_file.read_text()))
                self.schema = stored
                self.require(schema or stored)
                self._shard = qe.EdgeShard.load(str(path / "shard"))
            else:
                assert schema is not None
                self.schema = schema
                self._shard = qe.EdgeShard.create(str(path / "shard"), self._config())
                for name, kind in INDEXED_FIELDS.items():
                    self._shard.update(
                        qe.UpdateOperation.create_field_index(name, FIELD_TYPES[kind])
                    )
                schema_file.write_text(json.dumps(schema.to_json(), indent=2))
        except StoreError:
            self._lock.close()
            raise
        except Exception as exc:  # the engine raises plain Exception with a message
            self._lock.close()
            raise StoreError(f"Cannot open the store at {path}: {exc}") from exc

    def require(self, schema: Schema) -> None:
        """Refuse an embedder other than the one that built this collection."""
        require_schema(str(self.path), self.schema, schema)

    def _config(self) -> qe.EdgeConfig:
        maxsim = qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim)
        dense = {
            d.name: qe.EdgeVectorParams(
                size=d.size,
                distance=qe.Distance.Cosine,
                multivector_config=maxsim if d.multivector else None,
            )
            for d in self.schema.dense
        }
        sparse = {SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)}
        return qe.EdgeConfig(vectors=dense, sparse_vectors=sparse)

    def __enter__(self) -> "EdgeStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush and release; a second close does nothing."""
        if self._lock.closed:
            return
        self._shard.flush()
        self._shard.close()
        self._lock.close()  # closing the file releases the lock

    def upsert(self, points: list[PointRecord]) -> None:
        if points:
            edge_points = [
                qe.Point(p.id, engine_vectors(p, qe.SparseVector), p.payload) for p in points
            ]
            self._shard.update(qe.UpdateOperation.upsert_points(edge_points))

    def delete_document(self, document_id: str) -> None:
        self._shard.update(
            qe.UpdateOperation.delete_points_by_filter(to_filter(of_document(document_id)))
        )

    def set_tags(self, document_id: str, tags: list[str]) -> None:
        """Replace the tags on every unit of a document (filters read them from payloads)."""
        self._shard.update(
            qe.UpdateOperation.set_payload_by_filter(
                to_filter(of_document(document_id)), {"tags": tags}
            )
        )

    def _records(self, batch: int, vectors: bool) -> Iterator[list[Any]]:
        offset = None
        while True:
            request = qe.ScrollRequest(
                offset=offset, limit=batch, with_payload=True, with_vector=vectors
            )
            records, offset = self._shard.scroll(request)
            if records:
                yield records
            if offset is None:
                return

    def count(self, document_id: str | None = None) -> int:
        where = to_filter(of_document(document_id)) if document_id else None
        return self._shard.count(qe.CountRequest(exact=True, filter=where))

    def flush(self) -> None:
        self._shard.flush()

    def _query(self, plan: QueryPlan) -> tuple[list, list[list]]:
        """The plan as one engine query (a prefetch per retriever when fused); with
        `explain`, each retriever alone too, in the same batch call."""
        flt = to_filter(plan.conditions)
        queries = [to_query(r) for r in plan.retrievers]
        shown = list(plan.with_vectors) or False
        if plan.fused:
            fusion = (
                qe.Fusion.Rrf(k=plan.rrf_k, weights=[r.weight for r in plan.retrievers])
                if plan.fusion is Fusion.RRF
                else qe.Fusion.Dbsf()
            )
            prefetches = [qe.Prefetch(limit=plan.candidates, query=q, filter=flt) for q in queries]
        else:
            fusion, prefetches = queries[0], None
        main = qe.QueryRequest(
            limit=plan.limit,
            query=fusion,
            filter=flt,
            with_payload=True,
            with_vector=shown,
            prefetches=prefetches,
        )
        if not plan.explain:
            return self._shard.query(main), []
        alone = [qe.QueryRequest(limit=plan.candidates, query=q, filter=flt) for q in queries]
        results = self._shard.query_batch(qe.QueryBatchRequest([main, *alone]))
        return results[0], results[1:]


class EdgeCollections:
    """Shard folders under `root`; the catalog says which one a collection name means."""

    kind = "embedded"

    def __init__(self, root: Path, catalog: Catalog, collection: str) -> None:
        self.root = root
        self.location = str(root)
        self._catalog = catalog
        self._collection = collection

    def _pointer(self) -> str:
        return self._catalog.get_meta(alias_key(self._collection)) or self._collection

    def active(self) -> str | None:
        name = self._pointer()
        return name if (self.root / name / "schema.json").exists() else None

    @contextmanager
    def creating(self) -> Iterator[None]:
        """An exclusive lock on `DATA_DIR/locks/<collection>` (waits: creating is quick);
        beside the store, not in it, where only collections live."""
        locks = self.root.parent / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with (locks / self._collection).open("wb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def new_name(self) -> str:
        if not (self.root / self._collection).exists():
            return self._collection
        return f"{self._collection}@{time.time_ns()}"

    def open(self, physical: str, schema: Schema | None) -> EdgeStore:
        return EdgeStore(self.root / physical, schema)

    def switch(self, physical: str) -> None:
        self._catalog.set_meta(alias_key(self._collection), physical)

    def drop(self, physical: str) -> None:
        shutil.rmtree(self.root / physical, ignore_errors=True)

    def others(self) -> list[str]:
        active = self._pointer()
        names = [self._collection, *(p.name for p in self.root.glob(f"{self._collection}@*"))]
        return [n for n in names if n != active and (self.root / n).exists()]

    def check_free(self) -> None:
        folder = self.root / self._pointer()
        if folder.exists():
            lock_store(folder).close()

    def size_bytes(self) -> int | None:
        return folder_bytes(self.root / self._pointer())

    def close(self) -> None:
        """Nothing to release: each store holds its own lock."""


def alias_key(collection: str) -> str:
    return f"collection:{collection}"


def folder_bytes(path: Path) -> int:
    """Bytes on disk (allocated blocks: the engine's files are sparse and look much larger)."""
    if not path.exists():
        return 0
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())
