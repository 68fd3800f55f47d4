"""Search: embed the query (dense and sparse), run one fused Qdrant query, rerank, build hits."""

from pathlib import Path

from PIL import Image

from rag.config import Settings
from rag.errors import QueryError
from rag.models.embedder import Embedder
from rag.models.reranker import Reranker
from rag.models.sparse import Bm25Encoder
from rag.records import Hit, Modality
from rag.store import EdgeStore, ScoredRecord

MAX_QUERY_CHARS = 4000  # bounds embedder and BM25 work for a pasted wall of text


class Searcher:
    def __init__(
        self,
        settings: Settings,
        store: EdgeStore,
        embedder: Embedder,
        sparse: Bm25Encoder,
        images_dir: Path,
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.images_dir = images_dir
        self.reranker = reranker

    def search(
        self,
        query: str,
        top_k: int | None = None,
        documents: list[str] | None = None,
        image: Image.Image | None = None,
    ) -> list[Hit]:
        """Best units for `query` (text, an image, or both), best first.

        `documents` restricts the search to those document ids (inside the Qdrant query).
        With a reranker, the fused top `rerank_candidates` are rescored and cut to top_k.
        """
        query = " ".join(query.split())
        if not query and image is None:
            raise QueryError("The query is empty; type a question or some keywords.")
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(f"The query is longer than {MAX_QUERY_CHARS} characters; shorten it.")
        top_k = top_k or self.settings.top_k
        limit = max(top_k, self.settings.rerank_candidates) if self.reranker else top_k
        dense = self.embedder.embed_query(query, image)
        records = self.store.search(
            dense,
            self.sparse.query(query) if query else None,
            limit=limit,
            candidates=max(self.settings.candidates, limit),
            fusion=self.settings.fusion,
            rrf_k=self.settings.rrf_k,
            document_ids=documents,
            with_vectors=list(dense),
        )
        hits = [self._hit(r, query, dense) for r in records]
        if self.reranker and hits:
            for hit, score in zip(hits, self.reranker.score(query, image, hits), strict=True):
                hit.rerank_score = score
                hit.score = score
            hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:top_k]

    def _hit(self, r: ScoredRecord, query: str, dense: dict) -> Hit:
        p = r.payload
        text = p.get("text") or ""
        key = p.get("image")
        return Hit(
            unit_id=r.id,
            document_id=p["document_id"],
            source=p["source"],
            title=p.get("title") or p["source"],
            page=int(p["page"]),
            score=r.score,
            modality=Modality(p["modality"]),
            text=self.embedder.best_passage(query, dense, text, r.dense),
            page_text=text,
            image_path=self.images_dir / key[:2] / key if key else None,
            start_s=p.get("start_s"),
            end_s=p.get("end_s"),
            fused_score=r.score,
        )
