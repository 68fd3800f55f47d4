"""mmrag: multimodal retrieval-augmented generation. The public surface is `__all__`.

The names resolve on first use (PEP 562): `import rag.core.config` in a loader thread,
a worker process or a Ray task then loads the bottom layer only, not the facade with its
model, store and answer stacks.
"""

from importlib import import_module
from typing import Any

_HOMES = {
    "RAG": "rag.app.facade",
    "Answer": "rag.core.records",
    "AnswerStream": "rag.answer.ask",
    "BackupManifest": "rag.ops.backup",
    "Citation": "rag.core.records",
    "Discovered": "ingest.discover",
    "Document": "rag.core.records",
    "Embedder": "rag.models.embedder",
    "FileOutcome": "rag.core.records",
    "Hit": "rag.core.records",
    "IngestProgress": "ingest.writer",
    "IngestReport": "rag.core.records",
    "Profile": "rag.core.config",
    "QueryError": "rag.core.errors",
    "RagError": "rag.core.errors",
    "Reranker": "rag.models.reranker",
    "ReindexReport": "rag.ops.reindex",
    "SearchFilter": "rag.core.records",
    "Settings": "rag.core.config",
    "StatusReport": "rag.ops.status",
    "StoreBusyError": "rag.core.errors",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
