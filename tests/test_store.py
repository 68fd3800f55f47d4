"""The embedded Qdrant store: persistence, schema guard, single-process lock, fused search."""

from pathlib import Path

import pytest

from rag.errors import EmbedderMismatchError, StoreBusyError, StoreError
from rag.records import SearchFilter
from rag.store import DenseSpec, EdgeStore, PointRecord, Schema, SparseVector, point_id

SCHEMA = Schema("test-embedder", (DenseSpec("text", 4, multivector=True),))


def _point(doc: str, i: int, vec: list[float], terms: dict[int, float]) -> PointRecord:
    return PointRecord(
        point_id(doc, i),
        {"text": [vec]},
        SparseVector(list(terms), list(terms.values())),
        {"document_id": doc, "page": i + 1, "modality": "page", "tags": []},
    )


@pytest.fixture
def store(tmp_path: Path):
    s = EdgeStore(tmp_path / "c", SCHEMA)
    s.upsert(
        [
            _point("a", 0, [1, 0, 0, 0], {1: 1.0}),
            _point("a", 1, [0, 1, 0, 0], {2: 1.0}),
            _point("b", 0, [0, 0, 1, 0], {3: 1.0}),
        ]
    )
    yield s
    s.close()


def test_point_ids_are_deterministic_uuids() -> None:
    assert point_id("doc", 3) == point_id("doc", 3) != point_id("doc", 4)


def test_points_persist_across_reopen(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "c", SCHEMA) as first:
        first.upsert([_point("a", 0, [1, 0, 0, 0], {1: 1.0}), _point("a", 1, [0, 1, 0, 0], {})])
    with EdgeStore(tmp_path / "c", SCHEMA) as again:
        assert again.count() == again.count("a") == 2
    with EdgeStore(tmp_path / "c", None) as by_stored_schema:
        assert by_stored_schema.schema == SCHEMA


def test_opening_with_another_embedder_is_a_clear_error(tmp_path: Path) -> None:
    EdgeStore(tmp_path / "c", SCHEMA).close()
    other = Schema("other-embedder", (DenseSpec("text", 8, multivector=True),))
    with pytest.raises(EmbedderMismatchError, match="test-embedder"):
        EdgeStore(tmp_path / "c", other)


def test_a_second_open_of_the_same_store_is_refused(tmp_path: Path, store: EdgeStore) -> None:
    with pytest.raises(StoreBusyError, match="another process"):
        EdgeStore(tmp_path / "c", SCHEMA)


def test_opening_a_missing_store_without_schema_says_to_ingest(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="ingest a document first"):
        EdgeStore(tmp_path / "none", None)


def test_dense_and_sparse_are_fused_in_one_query(store: EdgeStore) -> None:
    # dense prefers a/0, sparse prefers b/0: both must be in the fused top 2
    hits = store.search({"text": [[1, 0, 0, 0]]}, SparseVector([3], [1.0]), limit=2, candidates=10)
    assert {(h.payload["document_id"], h.payload["page"]) for h in hits} == {("a", 1), ("b", 1)}


def test_document_filter_is_applied_inside_the_query(store: EdgeStore) -> None:
    where = SearchFilter(documents=["a"])
    hits = store.search({"text": [[0, 0, 1, 0]]}, None, limit=5, candidates=10, where=where)
    assert {h.payload["document_id"] for h in hits} == {"a"}


def test_delete_document_removes_only_its_points(store: EdgeStore) -> None:
    store.delete_document("a")
    assert store.count() == 1 and store.count("b") == 1
