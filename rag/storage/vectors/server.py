"""The server store: a Qdrant server or cluster through qdrant-client.

The same interface as the embedded engine, for teams that outgrow one machine. A new
collection is created with the cluster settings (shards, replicas, write consistency,
vectors and payloads on disk, scalar or binary quantization kept in RAM) and searches
rescore quantized candidates with the full vectors. The embedder that built a collection
is kept in the collection's metadata; the collection name is a Qdrant alias, which
`rag reindex` moves atomically to the new physical collection.

`RAG_QDRANT_URL=:memory:` or `path:DIR` run this same code on qdrant-client's local mode
(exact search in Python, no cluster settings): how the tests exercise it, since no Qdrant
server binary can be installed here.
"""

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from rag.core.config import Fusion, Settings
from rag.core.errors import StoreError
from rag.core.payload import INDEXED_FIELDS
from rag.core.vectors import SPARSE, SparseVector
from rag.storage.vectors.base import (
    EngineStore,
    PointRecord,
    Schema,
    engine_vectors,
    require_schema,
)
from rag.storage.vectors.plan import Condition, MatchAny, QueryPlan, Retriever, of_document

SCHEMA_KEY = "mmrag_schema"
FIELD_TYPES = {"keyword": qm.PayloadSchemaType.KEYWORD, "float": qm.PayloadSchemaType.FLOAT}
SERVER_ERRORS = (UnexpectedResponse, ResponseHandlingException, OSError, ValueError)


def connect(settings: Settings) -> QdrantClient:
    """A client for `RAG_QDRANT_URL`: a server URL, or local mode in memory or a folder."""
    url = settings.qdrant_url or ""
    if url == ":memory:":
        return QdrantClient(location=":memory:")
    if url.startswith("path:"):
        return QdrantClient(path=url.removeprefix("path:"))
    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    return QdrantClient(url=url, api_key=key, timeout=settings.qdrant_timeout_s)


def is_local(settings: Settings) -> bool:
    return not (settings.qdrant_url or "").startswith(("http://", "https://"))


def to_filter(conditions: tuple[Condition, ...]) -> qm.Filter | None:
    """Plan conditions as the client's filter: all must hold."""
    if not conditions:
        return None
    must: list[Any] = [
        qm.FieldCondition(key=c.key, match=qm.MatchAny(any=list(c.values)))
        if isinstance(c, MatchAny)
        else qm.FieldCondition(key=c.key, range=qm.Range(gte=c.gte, lt=c.lt))
        for c in conditions
    ]
    return qm.Filter(must=must)


def to_vector(retriever: Retriever) -> Any:
    vector = retriever.vector
    if isinstance(vector, SparseVector):
        return qm.SparseVector(indices=vector.indices, values=vector.values)
    return vector


def _sparse(indices: list[int], values: list[float]) -> qm.SparseVector:
    return qm.SparseVector(indices=indices, values=values)


def collection_config(schema: Schema, settings: Settings) -> dict[str, Any]:
    """`create_collection` arguments: the schema's vectors plus the cluster settings."""
    maxsim = qm.MultiVectorConfig(comparator=qm.MultiVectorComparator.MAX_SIM)
    quantization: Any = None
    if settings.qdrant_quantization == "scalar":
        quantization = qm.ScalarQuantization(
            scalar=qm.ScalarQuantizationConfig(
                type=qm.ScalarType.INT8, quantile=0.99, always_ram=True
            )
        )
    elif settings.qdrant_quantization == "binary":
        quantization = qm.BinaryQuantization(binary=qm.BinaryQuantizationConfig(always_ram=True))
    return {
        "vectors_config": {
            d.name: qm.VectorParams(
                size=d.size,
                distance=qm.Distance.COSINE,
                on_disk=settings.qdrant_on_disk,
                multivector_config=maxsim if d.multivector else None,
            )
            for d in schema.dense
        },
        "sparse_vectors_config": {
            SPARSE: qm.SparseVectorParams(
                modifier=qm.Modifier.IDF,
                index=qm.SparseIndexParams(on_disk=settings.qdrant_on_disk),
            )
        },
        "shard_number": settings.qdrant_shards,
        "replication_factor": settings.qdrant_replicas,
        "write_consistency_factor": settings.qdrant_write_consistency,
        "on_disk_payload": settings.qdrant_on_disk,
        "quantization_config": quantization,
        "metadata": {SCHEMA_KEY: schema.to_json()},
    }


class ServerStore(EngineStore):
    """One physical collection on a Qdrant server; any number of processes may use it."""

    def __init__(self, client: QdrantClient, name: str, schema: Schema, settings: Settings):
        self._client = client
        self.name = name
        self.schema = schema
        self.location = f"collection {name}"
        self._params = (
            None
            if is_local(settings) or settings.qdrant_quantization == "none"
            else qm.SearchParams(
                quantization=qm.QuantizationSearchParams(
                    rescore=True, oversampling=settings.qdrant_oversampling
                )
            )
        )

    def require(self, schema: Schema) -> None:
        require_schema(self.name, self.schema, schema)

    def close(self) -> None:
        """Nothing to release: the client belongs to the collections."""

    def flush(self) -> None:
        """Nothing to do: the server acknowledged every write (wait=True) in its WAL."""

    def upsert(self, points: list[PointRecord]) -> None:
        if points:
            structs = [
                qm.PointStruct(id=p.id, vector=engine_vectors(p, _sparse), payload=p.payload)
                for p in points
            ]
            call(self.location, self._client.upsert, self.name, points=structs, wait=True)

    def delete_document(self, document_id: str) -> None:
        selector = qm.FilterSelector(filter=to_filter(of_document(document_id)))
        call(self.location, self._client.delete, self.name, points_selector=selector)

    def set_tags(self, document_id: str, tags: list[str]) -> None:
        call(
            self.location,
            self._client.set_payload,
            self.name,
            payload={"tags": tags},
            points=to_filter(of_document(document_id)),
        )

    def count(self, document_id: str | None = None) -> int:
        where = to_filter(of_document(document_id)) if document_id else None
        found = call(self.location, self._client.count, self.name, count_filter=where, exact=True)
        return found.count

    def _records(self, batch: int, vectors: bool) -> Iterator[list[Any]]:
        offset = None
        while True:
            records, offset = call(
                self.location,
                self._client.scroll,
                self.name,
                limit=batch,
                offset=offset,
                with_payload=True,
                with_vectors=vectors,
            )
            if records:
                yield records
            if offset is None:
                return

    def _query(self, plan: QueryPlan) -> tuple[list, list[list]]:
        """The plan as one batch call: the fused query (a prefetch per retriever), and
        with `explain` each retriever alone. Quantized candidates are rescored with the
        full vectors (`RAG_QDRANT_OVERSAMPLING`)."""
        flt = to_filter(plan.conditions)

        def alone(r: Retriever, limit: int) -> qm.QueryRequest:
            return qm.QueryRequest(
                query=to_vector(r), using=r.using, filter=flt, limit=limit, params=self._params
            )

        if plan.fused:
            fused: Any = (
                qm.RrfQuery(rrf=qm.Rrf(k=plan.rrf_k, weights=[r.weight for r in plan.retrievers]))
                if plan.fusion is Fusion.RRF
                else qm.FusionQuery(fusion=qm.Fusion.DBSF)
            )
            prefetch = [
                qm.Prefetch(
                    query=to_vector(r),
                    using=r.using,
                    filter=flt,
                    limit=plan.candidates,
                    params=self._params,
                )
                for r in plan.retrievers
            ]
            main = qm.QueryRequest(query=fused, filter=flt, limit=plan.limit, prefetch=prefetch)
        else:
            main = alone(plan.retrievers[0], plan.limit)
        main.with_payload = True
        main.with_vector = list(plan.with_vectors) or False
        batch = [main]
        if plan.explain:
            batch += [alone(r, plan.candidates) for r in plan.retrievers]
        results = call(self.location, self._client.query_batch_points, self.name, requests=batch)
        return results[0].points, [r.points for r in results[1:]]


def call(where: str, method: Any, *args: Any, **kwargs: Any) -> Any:
    """A client call; a server failure becomes one StoreError naming where it happened."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # local mode's notes on server-only settings
            return method(*args, **kwargs)
    except SERVER_ERRORS as exc:
        raise StoreError(f"Qdrant ({where}) failed: {exc}") from exc


class ServerCollections:
    """Physical collections `<name>@<time>` on the server, behind the alias `<name>`."""

    kind = "server"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.location = "local mode" if is_local(settings) else str(settings.qdrant_url)
        self._alias = settings.collection
        try:
            self._client = connect(settings)
        except (*SERVER_ERRORS, RuntimeError) as exc:  # local mode: folder held elsewhere
            raise StoreError(f"Cannot open Qdrant at {settings.qdrant_url}: {exc}") from exc
        try:
            self._client.get_collections()  # fail here, with the URL, when unreachable
        except (*SERVER_ERRORS, RuntimeError) as exc:
            self._client.close()
            raise StoreError(
                f"Cannot reach the Qdrant server at {settings.qdrant_url}: {exc}"
            ) from exc

    def active(self) -> str | None:
        for alias in call(self.location, self._client.get_aliases).aliases:
            if alias.alias_name == self._alias:
                return alias.collection_name
        return None

    @contextmanager
    def creating(self) -> Iterator[None]:
        """Nothing to hold here: a server serves many writers; `switch` is atomic."""
        yield

    def new_name(self) -> str:
        return f"{self._alias}@{time.time_ns()}"

    def open(self, physical: str, schema: Schema | None) -> ServerStore:
        if not call(self.location, self._client.collection_exists, physical):
            if schema is None:
                raise StoreError(
                    f"No collection {physical} on {self.location} yet; ingest a document first."
                )
            self._create(physical, schema)
        metadata = call(self.location, self._client.get_collection, physical).config.metadata or {}
        if SCHEMA_KEY not in metadata:
            raise StoreError(
                f"The Qdrant collection {physical} was not made by mmrag (no {SCHEMA_KEY}"
                " in its metadata); choose another RAG_COLLECTION."
            )
        stored = Schema.from_json(metadata[SCHEMA_KEY])
        store = ServerStore(self._client, physical, stored, self.settings)
        store.require(schema or stored)
        return store

    def _create(self, physical: str, schema: Schema) -> None:
        call(
            self.location,
            self._client.create_collection,
            physical,
            **collection_config(schema, self.settings),
        )
        if not is_local(self.settings):  # local mode has no payload indexes
            for name, kind in INDEXED_FIELDS.items():
                call(
                    self.location,
                    self._client.create_payload_index,
                    physical,
                    field_name=name,
                    field_schema=FIELD_TYPES[kind],
                    wait=True,
                )

    def switch(self, physical: str) -> None:
        """Point the alias at `physical` in one atomic server operation."""
        operations: list[Any] = []
        if self.active() is not None:
            operations.append(
                qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=self._alias))
            )
        operations.append(
            qm.CreateAliasOperation(
                create_alias=qm.CreateAlias(collection_name=physical, alias_name=self._alias)
            )
        )
        call(
            self.location,
            self._client.update_collection_aliases,
            change_aliases_operations=operations,
        )

    def drop(self, physical: str) -> None:
        call(self.location, self._client.delete_collection, physical)

    def others(self) -> list[str]:
        active = self.active()
        names = [c.name for c in call(self.location, self._client.get_collections).collections]
        return [n for n in names if n.startswith(f"{self._alias}@") and n != active]

    def check_free(self) -> None:
        """A server serves many processes at once: never busy."""

    def size_bytes(self) -> int | None:
        """Unknown from here: the server's disk (see its telemetry)."""
        return None

    def close(self) -> None:
        self._client.close()
