"""Rerankers: score (query, candidate) pairs jointly, after retrieval, to pick the best few.

The implementation is a sentence-transformers `CrossEncoder` (default
Qwen/Qwen3-VL-Reranker-2B). Candidates of mixed modality are typed: a page with a stored
image goes in as that image, anything else as `{"text": ...}`; the query as text, an
image, or both. Pairs are batched by pixels and split on CUDA out-of-memory.
"""

from collections.abc import Sequence
from typing import Any, Protocol

from PIL import Image

from rag.core.records import Hit
from rag.models.batching import by_pixels, split_on_oom
from rag.models.inputs import as_text
from rag.models.loading import PIXELS_PER_TOKEN, load_vlm
from rag.models.visual import fit_to_tokens
from rag.storage.images import open_stored

MAX_TEXT_CHARS = 4000  # a page's text beyond this adds cost, rarely relevance


class Reranker(Protocol):
    id: str

    def score(self, query: str, image: Image.Image | None, hits: list[Hit]) -> list[float]:
        """One relevance score per hit, higher is better, in the hits' order."""
        ...


def load_candidate(hit: Hit, max_tokens: int) -> dict[str, Any]:
    """A hit as reranker input: its page image when stored, else its text."""
    if hit.image_path is not None and hit.image_path.exists():
        return {"image": fit_to_tokens(open_stored(hit.image_path), max_tokens)}
    return dict(as_text((hit.page_text or hit.text)[:MAX_TEXT_CHARS]))


class CrossEncoderReranker:
    def __init__(
        self,
        model: str,
        device: str | None = None,
        max_visual_tokens: int = 768,
        pixel_budget: int = 8 * 768 * PIXELS_PER_TOKEN,
        batch_size: int = 8,
    ) -> None:
        from sentence_transformers import CrossEncoder

        self.id = f"cross-encoder:{model}"
        self.max_visual_tokens = max_visual_tokens
        self.pixel_budget = pixel_budget
        self.batch_size = batch_size
        self._model = load_vlm(
            CrossEncoder,
            model,
            device,
            max_visual_tokens,
            "reranker",
            "Give a local path or a cached hub id (RAG_RERANK_MODEL), or set RAG_RERANK=false.",
        )

    def score(self, query: str, image: Image.Image | None, hits: list[Hit]) -> list[float]:
        if not hits:
            return []
        q: dict[str, Any] = dict(as_text(query)) if query else {}
        if image is not None:
            q["image"] = fit_to_tokens(image.convert("RGB"), self.max_visual_tokens)
        pairs = [(q, load_candidate(h, self.max_visual_tokens)) for h in hits]

        def cost(pair: tuple[dict[str, Any], dict[str, Any]]) -> int:
            img = pair[1].get("image")
            return img.width * img.height if img is not None else 256 * PIXELS_PER_TOKEN

        scores: list[float] = []
        for batch in by_pixels(pairs, cost, self.pixel_budget):
            scores += split_on_oom(self._predict, batch)
        return scores

    def _predict(self, pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> list[float]:
        out = self._model.predict(
            list(pairs),
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return [float(x) for x in out]
