"""The qwen3-vl profile end to end with tiny random-weight Qwen3-VL twins (real code path).

Random weights make rankings meaningless, so these tests check behaviour: shapes,
typing of inputs, determinism, that scores depend on the input, that reranking reorders,
and that nothing is fetched or opened from a query string.
"""

from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_PDFS, CountingHandler
from PIL import Image
from tiny_qwen import build_embedder, build_reranker

from rag import RAG, Settings
from rag.core.errors import EmbedderMismatchError, QueryError
from rag.core.records import Hit, Modality, Unit
from rag.models.batching import by_pixels, split_on_oom
from rag.models.profiles import choose_profile
from rag.models.reranker import CrossEncoderReranker
from rag.models.visual import PIXELS_PER_TOKEN, VisualEmbedder, fit_to_tokens


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny-qwen")
    return build_embedder(root / "embedder"), build_reranker(root / "reranker")


@pytest.fixture(scope="session")
def visual(tiny_dirs) -> VisualEmbedder:
    return VisualEmbedder(str(tiny_dirs[0]), device="cpu", max_visual_tokens=16)


@pytest.fixture(scope="session")
def reranker(tiny_dirs) -> CrossEncoderReranker:
    return CrossEncoderReranker(str(tiny_dirs[1]), device="cpu", max_visual_tokens=16)


def _settings(data_dir: Path, tiny_dirs) -> Settings:
    return Settings(
        data_dir=data_dir,
        profile="qwen3-vl",
        visual_model=str(tiny_dirs[0]),
        rerank_model=str(tiny_dirs[1]),
        visual_max_tokens=16,
        render_dpi=50,
        rerank_candidates=8,
    )


@pytest.fixture(scope="session")
def visual_corpus_dir(tmp_path_factory, tiny_dirs, visual, reranker) -> Path:
    data_dir = tmp_path_factory.mktemp("visual-corpus")
    with RAG(_settings(data_dir, tiny_dirs), embedder=visual, reranker=reranker) as rag:
        assert rag.ingest(SAMPLE_PDFS).count("ingested") == len(SAMPLE_PDFS)
    return data_dir


@pytest.fixture
def vrag(visual_corpus_dir, tiny_dirs, visual, reranker):
    with RAG(_settings(visual_corpus_dir, tiny_dirs), embedder=visual, reranker=reranker) as rag:
        yield rag


def test_the_tiny_models_load_through_the_public_path(tiny_dirs) -> None:
    with RAG(_settings(Path("/nonexistent"), tiny_dirs)) as rag:
        assert isinstance(rag.services.embedder, VisualEmbedder)
        assert isinstance(rag.services.reranker, CrossEncoderReranker)
        assert rag.services.profile.profile == "qwen3-vl"


def test_page_and_query_vectors_are_normalised_and_deterministic(visual) -> None:
    page = Image.new("RGB", (400, 600), "white")
    units = [Unit(0, Modality.PAGE, "a page", page), Unit(1, Modality.TEXT, "only text")]
    first = visual.embed_units(units)
    assert first == visual.embed_units(units)
    vecs = np.array([u["visual"] for u in first])
    assert vecs.shape == (2, visual.dimension)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-4)
    q1, q2 = visual.embed_query("red cat")["visual"], visual.embed_query("blue dog")["visual"]
    assert q1 == visual.embed_query("red cat")["visual"] and not np.allclose(q1, q2)
    both = visual.embed_query("red cat", page)["visual"]
    assert not np.allclose(both, q1)


def test_search_by_text_is_reranked_and_ordered(vrag: RAG) -> None:
    hits = vrag.search("perfect phylogeny haplotypes", top_k=5)
    assert len(hits) == 5
    assert all(0 < h.rerank_score < 1 and h.fused_score is not None for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    again = vrag.search("perfect phylogeny haplotypes", top_k=5)
    assert [(h.unit_id, h.score) for h in again] == [(h.unit_id, h.score) for h in hits]


def test_search_by_image_and_by_text_plus_image(vrag: RAG) -> None:
    page = vrag.search("regression line", top_k=1)[0]
    by_image = vrag.search(image=page.image_path, top_k=3)
    assert len(by_image) == 3 and all(h.modality == "page" for h in by_image)
    mixed = vrag.search("regression line", image=page.image_path, top_k=3)
    assert [h.score for h in mixed] != [h.score for h in by_image]


def test_rerank_scores_mixed_candidates(reranker, tmp_path: Path) -> None:
    image = tmp_path / "page.jpg"
    Image.new("RGB", (300, 300), "red").save(image)
    hits = [
        Hit("1", "d", "a.pdf", "A", 1, 0.0, Modality.PAGE, "", image_path=image),
        Hit("2", "d", "b.pdf", "B", 1, 0.0, Modality.TEXT, "cats", page_text="cats sleep"),
        Hit("3", "d", "c.pdf", "C", 1, 0.0, Modality.TEXT, "dogs", page_text="dogs bark"),
    ]
    scores = reranker.score("red image", None, hits)
    assert len(scores) == 3 and all(0 < s < 1 for s in scores) and len(set(scores)) == 3
    assert scores == reranker.score("red image", None, hits)
    assert scores != reranker.score("blue dog", None, hits)


def test_url_and_path_queries_reach_the_vlm_as_text(
    visual,
    counting_server,
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{counting_server.server_port}/cat.png"
    as_query = visual.embed_query(url)["visual"]
    assert CountingHandler.requests == 0
    image = tmp_path / "existing.png"
    Image.new("RGB", (64, 64), "red").save(image)
    path_vec = visual.embed_query(str(image))["visual"]
    image_vec = visual.embed_query("", Image.open(image))["visual"]
    assert not np.allclose(path_vec, image_vec)  # the path was read as words, not opened
    assert not np.allclose(as_query, path_vec)


def test_a_lite_collection_refuses_the_visual_embedder(corpus_dir, tiny_dirs, visual) -> None:
    with (
        RAG(_settings(corpus_dir, tiny_dirs), embedder=visual) as rag,
        pytest.raises(EmbedderMismatchError),
    ):
        rag.search("x")


def test_a_store_opened_for_status_still_refuses_another_embedder(
    corpus_dir, tiny_dirs, visual
) -> None:
    with RAG(_settings(corpus_dir, tiny_dirs), embedder=visual) as rag:
        assert rag.status().points > 0  # opens the store without the embedder
        with pytest.raises(EmbedderMismatchError):
            rag.search("x")


def test_the_lite_profile_refuses_image_queries(corpus: RAG, tmp_path: Path) -> None:
    image = tmp_path / "q.png"
    Image.new("RGB", (64, 64)).save(image)
    with pytest.raises(QueryError, match="qwen3-vl"):
        corpus.search(image=image)


def test_auto_picks_lite_without_cuda_and_says_why() -> None:
    choice = choose_profile(Settings(profile="auto"))
    assert choice.profile == "lite" and "no CUDA" in choice.reason


def test_pages_are_resized_to_the_visual_token_budget() -> None:
    big = Image.new("RGB", (2000, 3000))
    small = fit_to_tokens(big, 768)
    assert small.width * small.height <= 768 * PIXELS_PER_TOKEN
    assert abs(small.width / small.height - 2 / 3) < 0.01


def test_batches_follow_a_pixel_budget() -> None:
    sizes = [100, 100, 300, 50, 50, 400]
    batches = list(by_pixels(sizes, lambda s: s, budget=300))
    assert batches == [[100, 100], [300], [50, 50], [400]]


def test_an_out_of_memory_batch_is_split_and_retried() -> None:
    import torch

    calls = []

    def run(items):  # a deterministic stand-in for a GPU that fits at most 2 items
        calls.append(len(items))
        if len(items) > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return [x * 10 for x in items]

    assert split_on_oom(run, [1, 2, 3, 4, 5]) == [10, 20, 30, 40, 50]
    assert calls[0] == 5 and max(calls[1:]) <= 3
    with pytest.raises(ValueError):
        split_on_oom(lambda items: (_ for _ in ()).throw(ValueError("other")), [1, 2])


def test_reindex_moves_a_lite_collection_to_qwen3_vl_without_rerendering(
    tmp_path: Path, embedder, tiny_dirs, visual, reranker
) -> None:
    data = tmp_path / "data"
    with RAG(Settings(data_dir=data), embedder=embedder) as lite:
        lite.ingest(SAMPLE_PDFS[:2])
        units = lite.status().units
        old = lite.services.collections.active()
        before = lite.search("perfect phylogeny haplotyping", 1)[0]
    images = sorted(p.name for p in (data / "images").rglob("*.jpg"))
    with RAG(_settings(data, tiny_dirs), embedder=visual, reranker=reranker) as upgraded:
        with pytest.raises(EmbedderMismatchError):
            upgraded.search("perfect phylogeny")  # the old collection is lite's
        seen: list[tuple[int, int]] = []
        report = upgraded.reindex(lambda done, total: seen.append((done, total)))
        assert report.points == units and seen[-1] == (units, units)
        new = upgraded.services.collections.active()
        assert new != old and not (data / "store" / old).exists()
        assert upgraded.services.store().count() == units
        assert upgraded.services.store().schema.embedder == visual.id
        hits = upgraded.search("perfect phylogeny haplotyping", 3)
        known = {p for d in upgraded.documents() for p in upgraded.services.catalog.point_ids(d.id)}
        assert hits and {h.unit_id for h in hits} <= known and before.unit_id in known
    assert sorted(p.name for p in (data / "images").rglob("*.jpg")) == images  # none re-rendered
    with RAG(_settings(data, tiny_dirs), embedder=visual, reranker=reranker) as reopened:
        assert reopened.services.collections.active() == new and reopened.search("phylogeny", 1)
