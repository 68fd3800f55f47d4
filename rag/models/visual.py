"""The qwen3-vl profile's embedder: page images through a vision-language embedder.

Any sentence-transformers multimodal model works (default Qwen/Qwen3-VL-Embedding-2B);
it is called with `encode_document` for pages and `encode_query` for queries, so the
model's own prompts apply. Pages go in as PIL images, resized to a visual-token budget;
text always goes in as `{"text": ...}`. Batches are sized by pixels; a CUDA out-of-memory
batch is split and retried. bf16 on CUDA, float32 on CPU.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from rag.core.errors import QueryError
from rag.core.records import Unit
from rag.core.text import best_window
from rag.core.vectors import DenseSpec
from rag.models.batching import by_pixels, split_on_oom
from rag.models.inputs import as_text
from rag.models.loading import PIXELS_PER_TOKEN, load_vlm


def fit_to_tokens(image: Image.Image, max_tokens: int) -> Image.Image:
    """Downscale (keeping aspect) so the image costs at most `max_tokens` visual tokens."""
    limit = max_tokens * PIXELS_PER_TOKEN
    pixels = image.width * image.height
    if pixels <= limit:
        return image
    scale = (limit / pixels) ** 0.5
    size = (max(32, int(image.width * scale)), max(32, int(image.height * scale)))
    return image.resize(size, Image.Resampling.BICUBIC)


class VisualEmbedder:
    """Page images (and text-only units as text) into one dense `visual` vector each."""

    vector = "visual"
    reads_images = True

    def __init__(
        self,
        model: str,
        device: str | None = None,
        max_visual_tokens: int = 768,
        pixel_budget: int = 8 * 768 * PIXELS_PER_TOKEN,
        dim: int | None = None,
        batch_size: int = 32,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self.max_visual_tokens = max_visual_tokens
        self.pixel_budget = pixel_budget
        self.batch_size = batch_size
        self._model = load_vlm(
            SentenceTransformer,
            model,
            device,
            max_visual_tokens,
            "visual embedder",
            "Give a local path or a cached hub id (RAG_VISUAL_MODEL), or use RAG_PROFILE=lite.",
            truncate_dim=dim,
        )
        self.dimension = int(self._model.get_embedding_dimension())
        self.id = f"sentence-transformers:{model}:{self.dimension}"

    def dense_specs(self) -> tuple[DenseSpec, ...]:
        return (DenseSpec(self.vector, self.dimension),)

    def _document_input(self, unit: Unit) -> dict[str, Any] | None:
        if unit.image is not None:
            return {"image": fit_to_tokens(unit.image.convert("RGB"), self.max_visual_tokens)}
        return as_text(unit.text) if unit.text else None  # type: ignore[return-value]

    def embed_units(self, units: list[Unit]) -> list[dict[str, Any]]:
        inputs = [(i, x) for i, u in enumerate(units) if (x := self._document_input(u))]
        out: list[dict[str, Any]] = [{} for _ in units]

        def cost(pair: tuple[int, dict[str, Any]]) -> int:
            image = pair[1].get("image")
            return image.width * image.height if image is not None else 64 * PIXELS_PER_TOKEN

        for batch in by_pixels(inputs, cost, self.pixel_budget):
            vectors = split_on_oom(self._encode_documents, [x for _, x in batch])
            for (i, _), vec in zip(batch, vectors, strict=True):
                out[i] = {self.vector: vec}
        return out

    def _encode_documents(self, inputs: Sequence[dict[str, Any]]) -> list[list[float]]:
        matrix = self._model.encode_document(
            list(inputs),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(matrix, dtype=np.float32).tolist()

    def embed_query(self, text: str, image: Image.Image | None = None) -> dict[str, Any]:
        query: dict[str, Any] = dict(as_text(text)) if text else {}
        if image is not None:
            query["image"] = fit_to_tokens(image.convert("RGB"), self.max_visual_tokens)
        if not query:
            raise QueryError("The query is empty; give text, an image, or both.")
        vec = self._model.encode_query(
            [query], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )[0]
        return {self.vector: np.asarray(vec, dtype=np.float32).tolist()}

    def match(
        self,
        query: str,
        query_vectors: dict[str, Any],
        unit_text: str,
        unit_vectors: dict[str, Any],
    ) -> tuple[str, float | None]:
        """No passage vectors here: the window sharing most words with the query; the
        similarity is the page vector's cosine with the query vector."""
        stored, asked = unit_vectors.get(self.vector), query_vectors.get(self.vector)
        similarity = float(np.dot(stored, asked)) if stored and asked else None
        return best_window(unit_text, query), similarity
