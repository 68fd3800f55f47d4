"""mmrag: multimodal retrieval-augmented generation. The public surface is `__all__`."""

from rag.api import RAG
from rag.config import Profile, Settings
from rag.errors import RagError
from rag.records import Answer, Citation, Document, Hit, IngestReport

__all__ = [
    "RAG",
    "Answer",
    "Citation",
    "Document",
    "Hit",
    "IngestReport",
    "Profile",
    "RagError",
    "Settings",
]
