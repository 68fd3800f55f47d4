"""Search: query embedding, the fused store query, reranking, filters."""
