"""One search as data: the engine-neutral query plan both store engines run.

A plan says which retrievers propose candidates (a prefetch each: the dense vectors
and BM25), how their lists are fused (weighted RRF or DBSF), which payload conditions
hold inside the query, and what comes back. `rag.search` builds it once; the embedded
and server engines only translate it to their client's types, so the two cannot drift
in what a search means.
"""

from dataclasses import dataclass

from rag.core.config import Fusion
from rag.core.records import SearchFilter
from rag.core.vectors import SPARSE, DenseVectors, SparseVector


@dataclass(frozen=True)
class Retriever:
    """One candidate list: a named vector of the collection and the query's vector for it."""

    using: str
    vector: list[float] | list[list[float]] | SparseVector
    weight: float = 1.0


@dataclass(frozen=True)
class MatchAny:
    """The payload field holds one of `values`."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class InRange:
    """gte <= payload field < lt (either bound may be open)."""

    key: str
    gte: float | None
    lt: float | None


Condition = MatchAny | InRange


@dataclass(frozen=True)
class QueryPlan:
    """A fused search: every retriever's top `candidates`, fused to `limit` results."""

    retrievers: tuple[Retriever, ...]
    limit: int
    candidates: int
    fusion: Fusion = Fusion.RRF
    rrf_k: int = 60
    conditions: tuple[Condition, ...] = ()
    with_vectors: tuple[str, ...] = ()  # dense vectors returned with each hit
    explain: bool = False  # also run each retriever alone, for per-retriever ranks

    @property
    def fused(self) -> bool:
        """Fusion only with two or more lists; one list is queried directly."""
        return len(self.retrievers) > 1


def conditions(where: SearchFilter | None) -> tuple[Condition, ...]:
    """A filter as conditions that must all hold; list conditions match any value."""
    if not where:
        return ()
    pairs = (
        ("document_id", where.documents),
        ("modality", where.modalities),
        ("tags", where.tags),
    )
    found: list[Condition] = [MatchAny(key, tuple(values)) for key, values in pairs if values]
    if where.added_after is not None or where.added_before is not None:
        found.append(InRange("added", where.added_after, where.added_before))
    return tuple(found)


def of_document(document_id: str) -> tuple[Condition, ...]:
    """The condition that selects one document's points (delete, retag, count)."""
    return (MatchAny("document_id", (document_id,)),)


def plan_search(
    dense: DenseVectors,
    sparse: SparseVector | None,
    *,
    limit: int,
    candidates: int,
    fusion: Fusion = Fusion.RRF,
    rrf_k: int = 60,
    where: SearchFilter | None = None,
    weights: dict[str, float] | None = None,
    with_vectors: tuple[str, ...] = (),
    explain: bool = False,
) -> QueryPlan:
    """The plan for query vectors: a retriever per dense vector, one for BM25 if it has
    terms; `weights` (by vector name) weigh the lists in RRF."""
    weights = weights or {}
    retrievers = [Retriever(name, vec, weights.get(name, 1.0)) for name, vec in dense.items()]
    if sparse is not None and sparse.indices:
        retrievers.append(Retriever(SPARSE, sparse, weights.get(SPARSE, 1.0)))
    return QueryPlan(
        tuple(retrievers),
        limit,
        candidates,
        fusion,
        rrf_k,
        conditions(where),
        with_vectors,
        explain,
    )
