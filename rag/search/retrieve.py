"""Search: embed the query (dense and sparse), run one fused Qdrant query, rerank, build hits.

Filters go inside the query. When even the best hit's dense similarity is below the
relevance threshold, the result is empty, so a question the documents do not answer gets
"not in the documents" instead of noise. With `explain`, each hit says how each retriever ranked it.
"""

from PIL import Image

from rag.core.config import Retrievers, Settings
from rag.core.errors import QueryError
from rag.core.payload import UnitPayload
from rag.core.records import Explanation, Hit, SearchFilter
from rag.core.text import highlight
from rag.core.vectors import SPARSE
from rag.models.embedder import Embedder
from rag.models.reranker import Reranker
from rag.models.sparse import Bm25Encoder
from rag.storage.images import ImageStore
from rag.storage.vectors.base import ScoredRecord, Store
from rag.storage.vectors.plan import plan_search

MAX_QUERY_CHARS = 4000  # bounds embedder and BM25 work for a pasted wall of text


class Searcher:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder,
        sparse: Bm25Encoder,
        images: ImageStore,
        reranker: Reranker | None = None,
        min_relevance: float | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.images = images
        self.reranker = reranker
        self.min_relevance = min_relevance

    def search(
        self,
        query: str,
        top_k: int | None = None,
        where: SearchFilter | None = None,
        image: Image.Image | None = None,
        explain: bool = False,
    ) -> list[Hit]:
        """Best units for `query` (text, an image, or both), best first.

        With a reranker, the fused top `rerank_candidates` are rescored and cut to top_k.
        """
        query = " ".join(query.split())
        try:
            query.encode("utf-8")  # undecodable argv bytes and lone surrogates fail here
        except UnicodeEncodeError as exc:
            raise QueryError(
                f"The query is not valid UTF-8 text (character {exc.start + 1}); retype it."
            ) from exc
        if not query and image is None:
            raise QueryError("The query is empty; type a question or some keywords.")
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(f"The query is longer than {MAX_QUERY_CHARS} characters; shorten it.")
        s = self.settings
        top_k = top_k or s.top_k
        limit = max(top_k, s.rerank_candidates) if self.reranker else top_k
        dense = self.embedder.embed_query(query, image)
        use_dense = s.retrievers is not Retrievers.SPARSE
        use_sparse = s.retrievers is not Retrievers.DENSE and query
        weights = {name: s.dense_weight for name in dense} | {SPARSE: s.sparse_weight}
        plan = plan_search(
            dense if use_dense else {},
            self.sparse.query(query) if use_sparse else None,
            limit=limit,
            candidates=max(s.candidates, limit),
            fusion=s.fusion,
            rrf_k=s.rrf_k,
            where=where,
            with_vectors=tuple(dense),
            weights=weights,
            explain=explain,
        )
        records = self.store.search(plan)
        hits = [self._hit(r, query, dense) for r in records]
        if self.min_relevance is not None and not self._relevant(hits):
            return []  # "not in the documents": the best match is below the threshold
        if self.reranker and hits:
            for hit, score in zip(hits, self.reranker.score(query, image, hits), strict=True):
                hit.rerank_score = score
                hit.score = score
            hits.sort(key=lambda h: h.score, reverse=True)
        hits = hits[:top_k]
        if explain:
            by_id = {r.id: r for r in records}
            for hit in hits:
                hit.explanation = self._explain(hit, by_id[hit.unit_id], query)
        return hits

    def _relevant(self, hits: list[Hit]) -> bool:
        scored = [h.relevance for h in hits if h.relevance is not None]
        return not scored or max(scored) >= (self.min_relevance or 0.0)

    def _hit(self, r: ScoredRecord, query: str, dense: dict) -> Hit:
        p = UnitPayload.from_payload(r.payload)
        passage, relevance = self.embedder.match(query, dense, p.text, r.dense)
        return Hit(
            unit_id=r.id,
            document_id=p.document_id,
            source=p.source,
            title=p.title,
            page=p.page,
            score=r.score,
            modality=p.modality,
            text=passage,
            page_text=p.text,
            image_path=self.images.find(p.image),
            start_s=p.start_s,
            end_s=p.end_s,
            fused_score=r.score,
            relevance=relevance,
        )

    @staticmethod
    def _explain(hit: Hit, record: ScoredRecord, query: str) -> Explanation:
        highlighted, matched = highlight(hit.text, query)
        return Explanation(
            retrievers=dict(record.ranks),
            fused_score=hit.fused_score,
            rerank_score=hit.rerank_score,
            relevance=hit.relevance,
            matched_terms=matched,
            highlighted=highlighted,
        )
