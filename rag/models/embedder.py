"""The embedder interface, and the lite profile's text embedder.

An embedder declares its dense vectors (the store's schema) and turns units and queries
into them. The lite embedder reads only text: each unit becomes one vector per passage
(a MaxSim multivector), so long pages stay searchable with a 256-token model.
"""

from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from rag.core.config import Settings
from rag.core.errors import ModelError, QueryError
from rag.core.records import Unit
from rag.core.text import cut, spans
from rag.core.vectors import DenseSpec
from rag.models.inputs import as_texts
from rag.models.resolve import pick_device, resolve_model

Vectors = dict[str, list[float] | list[list[float]]]


class Embedder(Protocol):
    """What ingestion and search need from any embedder."""

    id: str
    reads_images: bool  # can embed a query image (else image queries are refused)

    def dense_specs(self) -> tuple[DenseSpec, ...]: ...

    def embed_units(self, units: list[Unit]) -> list[Vectors]:
        """One entry per unit; a unit with nothing to embed gets an empty dict."""
        ...

    def embed_query(self, text: str, image: Image.Image | None = None) -> Vectors:
        """Query vectors from text, an image, or both (text-only embedders refuse images)."""
        ...

    def match(
        self, query: str, query_vectors: Vectors, unit_text: str, unit_vectors: Vectors
    ) -> tuple[str, float | None]:
        """The part of a unit's text that matched best, and the unit's dense similarity."""
        ...


class TextEmbedder:
    """A sentence-transformers text model over passages of each unit (the lite profile)."""

    vector = "text"
    reads_images = False

    def __init__(
        self,
        model: str,
        device: str | None = None,
        passage_words: int = 120,
        passage_overlap: int = 30,
        batch_size: int = 64,
        runtime: str = "onnx",
        int8: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        """On CPU, `runtime="onnx"` runs the encoder in ONNX Runtime (exported once into
        `cache_dir`, by default the configured RAG_MODELS_DIR), with int8 weights if `int8`;
        int8 vectors differ from fp32 ones, so int8 is part of the embedder id. On a GPU
        the model runs in torch, in fp32."""
        from sentence_transformers import SentenceTransformer

        self.passage_words = passage_words
        self.passage_overlap = passage_overlap
        self.batch_size = batch_size
        try:
            self._model = SentenceTransformer(resolve_model(model), device=pick_device(device))
        except Exception as exc:
            raise ModelError(
                f"Cannot load the text embedder {model!r}: {exc}. Give a local path or a hub id"
                " that is cached (RAG_TEXT_MODEL)."
            ) from exc
        self.dimension = int(self._model.get_embedding_dimension())
        onnx = runtime == "onnx" and self._model.device.type == "cpu"
        if onnx:
            from rag.models.onnx_encoder import attach_onnx_encoder

            attach_onnx_encoder(self._model, cache_dir or Settings().models_path, int8)
        self.id = f"sentence-transformers:{model}" + ("+onnx-int8" if onnx and int8 else "")

    def dense_specs(self) -> tuple[DenseSpec, ...]:
        return (DenseSpec(self.vector, self.dimension, multivector=True),)

    def _spans(self, text: str) -> list[tuple[int, int]]:
        return spans(text, self.passage_words, self.passage_overlap)

    def embed_units(self, units: list[Unit]) -> list[Vectors]:
        per_unit = [[cut(u.text, s) for s in self._spans(u.text)] for u in units]
        flat = [p for ps in per_unit for p in ps]
        if not flat:
            return [{} for _ in units]
        matrix = self._encode(flat, query=False)
        out: list[Vectors] = []
        start = 0
        for ps in per_unit:
            rows = matrix[start : start + len(ps)]
            start += len(ps)
            out.append({self.vector: rows.tolist()} if len(ps) else {})
        return out

    def embed_query(self, text: str, image: Image.Image | None = None) -> Vectors:
        if image is not None:
            raise QueryError(
                "The lite profile reads text only; searching by image needs RAG_PROFILE=qwen3-vl."
            )
        if not text:
            raise QueryError("The query is empty; type a question or some keywords.")
        return {self.vector: [self._encode([text], query=True)[0].tolist()]}

    def match(
        self, query: str, query_vectors: Vectors, unit_text: str, unit_vectors: Vectors
    ) -> tuple[str, float | None]:
        """Best passage by its stored vector (no model call); similarity = MaxSim."""
        windows = self._spans(unit_text)
        stored = unit_vectors.get(self.vector)
        if not windows:
            return "", None
        if not stored or len(stored) != len(windows) or self.vector not in query_vectors:
            return cut(unit_text, windows[0]), None
        scores = np.asarray(stored) @ np.asarray(query_vectors[self.vector][0])
        best = int(np.argmax(scores))
        return cut(unit_text, windows[best]), float(scores[best])

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        encode = self._model.encode_query if query else self._model.encode_document
        return encode(
            as_texts(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
