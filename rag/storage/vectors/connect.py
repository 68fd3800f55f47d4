"""Which engine holds the collections: chosen once, from `RAG_QDRANT_URL`."""

from rag.core.config import Settings
from rag.storage.catalog import Catalog
from rag.storage.vectors.base import Collections


def open_collections(settings: Settings, catalog: Catalog) -> Collections:
    """The embedded engine under the data directory, or the server `RAG_QDRANT_URL` names.

    Only the engine in use is imported: qdrant-client and its HTTP stack cost a cold
    `rag search` about half a second that the embedded engine never needs.
    """
    if settings.qdrant_url:
        from rag.storage.vectors.server import ServerCollections

        return ServerCollections(settings)
    from rag.storage.vectors.embedded import EdgeCollections

    return EdgeCollections(settings.data_dir / "store", catalog, settings.collection)
