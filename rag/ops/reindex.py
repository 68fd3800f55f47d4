"""Re-embed a collection with the configured embedder, from what is already stored.

Texts come from the old collection's payloads and pictures from the page-image store,
so nothing is rendered, decoded or uploaded again. The new vectors go to a fresh
physical collection (`<name>@<time>`); the collection name's pointer (the catalog's for
the embedded engine, a Qdrant alias on a server) moves to it only after the last point
is written, so searches keep using the old one until then, and an interrupted run
leaves the old one in place (its half-built successor is removed by the next run).
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rag.core.payload import UnitPayload
from rag.core.records import Unit
from rag.models.embedder import Embedder
from rag.models.sparse import Bm25Encoder
from rag.storage.images import ImageStore, open_stored
from rag.storage.vectors.base import Collections, PointRecord, Schema, Store, replace_collection

BATCH = 16


@dataclass
class ReindexReport:
    collection: str  # the physical collection now in use
    points: int
    seconds: float
    embedder: str


def _unit(payload: dict, images: ImageStore) -> Unit:
    stored = UnitPayload.from_payload(payload)
    unit = stored.to_unit()
    key = stored.image
    path = images.find(key)
    if path is not None and path.exists():
        unit.image = open_stored(path)
    return unit


def reindex(
    old: Store,
    collections: Collections,
    embedder: Embedder,
    sparse: Bm25Encoder,
    images: ImageStore,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Store, ReindexReport]:
    """Build the new collection beside `old`, switch the pointer, return the new store."""
    started = time.perf_counter()
    for stale in collections.others():
        collections.drop(stale)  # a successor an interrupted run left
    total = old.count()

    def reembedded() -> Iterator[list[PointRecord]]:
        done = 0
        for page in old.scroll(BATCH):
            units = [_unit(payload, images) for _, payload in page]
            dense = embedder.embed_units(units)
            yield [
                PointRecord(
                    id=point,
                    dense=vectors,
                    sparse=sparse.document(unit.text) if unit.text else None,
                    payload=payload,
                )
                for (point, payload), unit, vectors in zip(page, units, dense, strict=True)
            ]
            done += len(page)
            if progress:
                progress(done, total)

    schema = Schema(embedder.id, embedder.dense_specs())
    new = replace_collection(collections, schema, reembedded())
    report = ReindexReport(new.name, new.count(), time.perf_counter() - started, embedder.id)
    return new, report
