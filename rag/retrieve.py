"""Search: embed the query (dense and sparse), run one fused Qdrant query, build hits.

Reranking by a cross-encoder is a later stage; the fused order is the result here.
"""

from pathlib import Path

from rag.config import Settings
from rag.errors import QueryError
from rag.models.embedder import Embedder
from rag.models.sparse import Bm25Encoder
from rag.records import Hit, Modality
from rag.store import EdgeStore

MAX_QUERY_CHARS = 4000  # bounds embedder and BM25 work for a pasted wall of text


class Searcher:
    def __init__(
        self,
        settings: Settings,
        store: EdgeStore,
        embedder: Embedder,
        sparse: Bm25Encoder,
        images_dir: Path,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.images_dir = images_dir

    def search(
        self, query: str, top_k: int | None = None, documents: list[str] | None = None
    ) -> list[Hit]:
        """Best units for `query`, best first; `documents` restricts to those document ids."""
        query = " ".join(query.split())
        if not query:
            raise QueryError("The query is empty; type a question or some keywords.")
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(f"The query is longer than {MAX_QUERY_CHARS} characters; shorten it.")
        top_k = top_k or self.settings.top_k
        dense = self.embedder.embed_query(query)
        records = self.store.search(
            dense,
            self.sparse.query(query),
            limit=top_k,
            candidates=max(self.settings.candidates, top_k),
            fusion=self.settings.fusion,
            rrf_k=self.settings.rrf_k,
            document_ids=documents,
            with_vectors=list(dense),
        )
        hits = []
        for r in records:
            p = r.payload
            text = p.get("text") or ""
            hits.append(
                Hit(
                    unit_id=r.id,
                    document_id=p["document_id"],
                    source=p["source"],
                    title=p.get("title") or p["source"],
                    page=int(p["page"]),
                    score=r.score,
                    modality=Modality(p["modality"]),
                    text=self.embedder.best_passage(dense, text, r.dense),
                    page_text=text,
                    image_path=self.images_dir / p["image"][:2] / p["image"]
                    if p.get("image")
                    else None,
                    start_s=p.get("start_s"),
                    end_s=p.get("end_s"),
                )
            )
        return hits
