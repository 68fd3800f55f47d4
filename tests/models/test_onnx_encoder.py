"""The lite embedder in ONNX Runtime: same vectors as torch at fp32, close ones at int8,
independent of batch neighbours, exported once and cached, and a damaged cache is one
clear error that heals on the next start."""

from pathlib import Path

import numpy as np
import pymupdf
import pytest
from conftest import SAMPLE_PDFS

from rag import Settings
from rag.core.errors import ModelError
from rag.core.text import cut, normalize, spans
from rag.models.embedder import TextEmbedder

MODEL = Settings().text_model


@pytest.fixture(scope="module")
def passages() -> list[str]:
    """Real passages: the windows of the first pages of a sample PDF."""
    out: list[str] = []
    with pymupdf.open(SAMPLE_PDFS[0]) as doc:
        for page in list(doc)[:10]:
            text = normalize(page.get_text("text"))
            out += [cut(text, s) for s in spans(text)]
    assert len(out) >= 8
    return out


@pytest.fixture(scope="module")
def torch_vectors(passages: list[str]) -> np.ndarray:
    """The model as shipped: torch, fp32 (int8 applies to ONNX Runtime only)."""
    shipped = TextEmbedder(MODEL, "cpu", runtime="torch", int8=True)
    assert shipped.id == f"sentence-transformers:{MODEL}"
    return shipped._encode(passages, query=False)


def test_onnx_fp32_gives_torch_vectors_and_int8_close_ones(
    passages: list[str], torch_vectors: np.ndarray, embedder: TextEmbedder, models_dir: Path
) -> None:
    fp32 = TextEmbedder(MODEL, "cpu", runtime="onnx", int8=False, cache_dir=models_dir)
    assert fp32.id == f"sentence-transformers:{MODEL}"  # same vectors, so the same id
    assert np.allclose(fp32._encode(passages, query=False), torch_vectors, atol=1e-4)
    assert embedder.id == f"sentence-transformers:{MODEL}+onnx-int8"
    cosines = (embedder._encode(passages, query=False) * torch_vectors).sum(axis=1)
    assert cosines.min() > 0.97 and cosines.mean() > 0.985, cosines


def test_a_passage_gets_the_same_vector_alone_or_in_any_batch(
    passages: list[str], embedder: TextEmbedder
) -> None:
    together = embedder._encode(passages, query=False)
    for i in (0, len(passages) - 1):
        assert np.array_equal(embedder._encode([passages[i]], query=False)[0], together[i])
    assert np.array_equal(embedder._encode(passages[::-1], query=False)[::-1], together)


def test_the_export_is_cached_and_a_damaged_cache_heals(tmp_path: Path, passages) -> None:
    first = TextEmbedder(MODEL, "cpu", int8=True, cache_dir=tmp_path)
    (cached,) = tmp_path.iterdir()  # one file: no temporary leftovers
    built = cached.stat().st_mtime_ns
    TextEmbedder(MODEL, "cpu", int8=True, cache_dir=tmp_path)
    assert cached.stat().st_mtime_ns == built  # read back, not exported again

    cached.write_bytes(b"not an onnx model")
    with pytest.raises(ModelError, match=r"could not be loaded.*rebuilt on the next start"):
        TextEmbedder(MODEL, "cpu", int8=True, cache_dir=tmp_path)
    assert not cached.exists()
    healed = TextEmbedder(MODEL, "cpu", int8=True, cache_dir=tmp_path)
    assert np.array_equal(
        healed._encode(passages[:2], query=False), first._encode(passages[:2], query=False)
    )


def test_an_unwritable_models_dir_is_one_clear_error(tmp_path: Path) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    with pytest.raises(ModelError, match="set RAG_MODELS_DIR to a writable folder") as caught:
        TextEmbedder(MODEL, "cpu", int8=True, cache_dir=taken / "models")
    assert "\n" not in str(caught.value)
