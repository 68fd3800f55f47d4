"""Re-embed a collection with the configured embedder, from what is already stored.

Texts come from the old collection's payloads and pictures from the page-image store,
so nothing is rendered, decoded or uploaded again. The new vectors go to a fresh
physical collection (`<name>@<time>`); the catalog's alias for the collection name moves
to it only after the last point is written, so searches keep using the old one until
then, and an interrupted run leaves the old one in place (its half-built successor is
removed by the next run).
"""

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.images import ImageStore, open_stored
from rag.catalog import Catalog
from rag.models.embedder import Embedder
from rag.models.sparse import Bm25Encoder
from rag.records import Modality, Unit
from rag.store import EdgeStore, PointRecord, Schema

BATCH = 16


@dataclass
class ReindexReport:
    collection: str  # the physical collection now in use
    points: int
    seconds: float
    embedder: str


def alias_key(collection: str) -> str:
    return f"collection:{collection}"


def physical_dir(root: Path, catalog: Catalog, collection: str) -> Path:
    """The folder the collection name points at (itself, until a reindex moves it)."""
    return root / (catalog.get_meta(alias_key(collection)) or collection)


def _unit(payload: dict, images: ImageStore) -> Unit:
    key = payload.get("image")
    image = open_stored(images.path(key)) if key and images.path(key).exists() else None
    return Unit(
        index=int(payload.get("unit", 0)),
        modality=Modality(payload.get("modality", "page")),
        text=payload.get("text") or "",
        image=image,
        start_s=payload.get("start_s"),
        end_s=payload.get("end_s"),
    )


def reindex(
    old: EdgeStore,
    root: Path,
    collection: str,
    catalog: Catalog,
    embedder: Embedder,
    sparse: Bm25Encoder,
    images: ImageStore,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[EdgeStore, ReindexReport]:
    """Build the new collection beside `old`, switch the alias, return the new store."""
    started = time.perf_counter()
    active = old.path.name
    for stale in root.glob(f"{collection}@*"):
        if stale.name != active:
            shutil.rmtree(stale, ignore_errors=True)  # a successor an interrupted run left
    target = root / f"{collection}@{time.time_ns()}"
    new = EdgeStore(target, Schema(embedder.id, embedder.dense_specs()))
    total, done = old.count(), 0
    try:
        for page in old.scroll(BATCH):
            units = [_unit(payload, images) for _, payload in page]
            dense = embedder.embed_units(units)
            new.upsert(
                [
                    PointRecord(
                        id=point,
                        dense=vectors,
                        sparse=sparse.document(unit.text) if unit.text else None,
                        payload=payload,
                    )
                    for (point, payload), unit, vectors in zip(page, units, dense, strict=True)
                ]
            )
            done += len(page)
            if progress:
                progress(done, total)
        new.flush()
    except BaseException:
        new.close()
        shutil.rmtree(target, ignore_errors=True)
        raise
    catalog.set_meta(alias_key(collection), target.name)  # the switch
    report = ReindexReport(target.name, done, time.perf_counter() - started, embedder.id)
    return new, report
