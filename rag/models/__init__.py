"""Models: embedders (dense vectors), the BM25 sparse encoder, and model resolution."""
