"""The composition root and the `RAG` facade over the layers below."""
