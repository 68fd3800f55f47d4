"""Both stores: the embedded engine and the server path (qdrant-client, here in its local
mode) answer the same contract; persistence and the process lock are the embedded one's."""

from pathlib import Path

import pytest

from rag.core.config import Settings
from rag.core.errors import EmbedderMismatchError, StoreBusyError, StoreError
from rag.core.payload import point_id
from rag.core.records import SearchFilter
from rag.core.vectors import DenseSpec, SparseVector
from rag.storage.catalog import Catalog
from rag.storage.vectors.base import Collections, PointRecord, Schema
from rag.storage.vectors.embedded import EdgeCollections, EdgeStore
from rag.storage.vectors.plan import plan_search
from rag.storage.vectors.server import ServerCollections

SCHEMA = Schema("test-embedder", (DenseSpec("text", 4, multivector=True),))


def _point(doc: str, i: int, vec: list[float], terms: dict[int, float]) -> PointRecord:
    return PointRecord(
        point_id(doc, i),
        {"text": [vec]},
        SparseVector(list(terms), list(terms.values())),
        {"document_id": doc, "page": i + 1, "modality": "page", "tags": []},
    )


@pytest.fixture(params=["embedded", "server"])
def collections(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "embedded":
        catalog = Catalog(tmp_path / "catalog.sqlite3")
        yield EdgeCollections(tmp_path / "store", catalog, "c")
        catalog.close()
    else:
        server = ServerCollections(Settings(qdrant_url=":memory:", collection="c"))
        yield server
        server.close()


@pytest.fixture
def store(collections: Collections):
    s = collections.open(collections.new_name(), SCHEMA)
    collections.switch(s.name)
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


def test_a_second_open_of_the_same_store_is_refused(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "c", SCHEMA), pytest.raises(StoreBusyError, match="another process"):
        EdgeStore(tmp_path / "c", SCHEMA)


def test_opening_a_missing_store_without_schema_says_to_ingest(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="ingest a document first"):
        EdgeStore(tmp_path / "none", None)


def test_dense_and_sparse_are_fused_in_one_query(store) -> None:
    # dense prefers a/0, sparse prefers b/0: both must be in the fused top 2
    hits = store.search(
        plan_search({"text": [[1, 0, 0, 0]]}, SparseVector([3], [1.0]), limit=2, candidates=10)
    )
    assert {(h.payload["document_id"], h.payload["page"]) for h in hits} == {("a", 1), ("b", 1)}


def test_document_filter_is_applied_inside_the_query(store) -> None:
    where = SearchFilter(documents=["a"])
    hits = store.search(
        plan_search({"text": [[0, 0, 1, 0]]}, None, limit=5, candidates=10, where=where)
    )
    assert {h.payload["document_id"] for h in hits} == {"a"}


def test_delete_document_removes_only_its_points(store) -> None:
    store.delete_document("a")
    assert store.count() == 1 and store.count("b") == 1


def test_another_embedder_is_refused_on_either_engine(collections: Collections) -> None:
    name = collections.new_name()
    collections.open(name, SCHEMA).close()
    other = Schema("other-embedder", (DenseSpec("text", 8, multivector=True),))
    with pytest.raises(EmbedderMismatchError, match="test-embedder"):
        collections.open(name, other)
    reopened = collections.open(name, None)
    assert reopened.schema == SCHEMA
    reopened.close()


def test_tags_points_and_the_collection_pointer(collections: Collections, store) -> None:
    store.set_tags("a", ["urgent"])
    hits = store.search(
        plan_search(
            {"text": [[1, 0, 0, 0]]},
            None,
            limit=5,
            candidates=10,
            where=SearchFilter(tags=["urgent"]),
        )
    )
    assert {h.payload["document_id"] for h in hits} == {"a"}
    dumped = {p.id: p for batch in store.points(2) for p in batch}
    assert len(dumped) == 3 and dumped[point_id("b", 0)].sparse == SparseVector([3], [1.0])
    assert dumped[point_id("a", 1)].dense["text"] == [[0.0, 1.0, 0.0, 0.0]]
    successor = collections.open(collections.new_name(), SCHEMA)
    successor.upsert(list(dumped.values()))
    assert collections.others() == [successor.name]  # built, not yet switched to
    collections.switch(successor.name)
    assert collections.active() == successor.name and collections.others() == [store.name]
    store.close()
    collections.drop(store.name)
    assert collections.others() == [] and successor.count() == 3


def test_explain_gives_each_retrievers_rank(store) -> None:
    hits = store.search(
        plan_search(
            {"text": [[1, 0, 0, 0]]}, SparseVector([3], [1.0]), limit=3, candidates=10, explain=True
        )
    )
    by_doc = {(h.payload["document_id"], h.payload["page"]): h.ranks for h in hits}
    assert by_doc[("a", 1)]["text"][0] == 1 and by_doc[("b", 1)]["sparse"][0] == 1
