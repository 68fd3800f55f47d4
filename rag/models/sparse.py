"""BM25 sparse vectors from Qdrant's own encoder (stemming and stop words included).

Term weights only; the IDF part is applied by the store's sparse vector modifier, so
document frequencies stay right as documents come and go.
"""

import qdrant_edge as qe

from rag.core.vectors import SparseVector


class Bm25Encoder:
    """English BM25 (k=1.2, b=0.75); `avg_len` is the expected unit length in tokens."""

    def __init__(self, avg_len: float = 300.0) -> None:
        self._bm25 = qe.Bm25(qe.Bm25Config(language="english", avg_len=avg_len))

    def document(self, text: str) -> SparseVector:
        v = self._bm25.embed_document(text)
        return SparseVector(list(v.indices), list(v.values))

    def query(self, text: str) -> SparseVector:
        v = self._bm25.embed_query(text)
        return SparseVector(list(v.indices), list(v.values))
