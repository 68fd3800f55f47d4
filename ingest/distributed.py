"""Distributed ingestion on Ray Data (`rag ingest --distributed`).

Files are opened and rendered by Ray tasks on CPU workers, the units flow in batches to
embedder actors (a model copy each, one GPU each on a GPU cluster), and this process,
the driver, stores what comes back: page images, points upserted in batches, catalog
rows. Only the driver writes, so the store and the catalog stay as consistent as in a
local ingest; what is checked before work starts (size, type, content hash, already
ingested) is checked here too, and a document is finished in the catalog only when all
of its units have arrived. A file that fails (in a worker or in an actor) fails alone
with its one-line reason; an interrupted run resumes like a local one.

Ray Data streams: a document is read in batches of units, and at most the object
store's worth of pages is in flight (`RAG_RAY_OBJECT_STORE_MB` for a local Ray).
"""

import io
import json
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ingest.discover import Discovered
from ingest.loaders.base import LoaderOptions
from ingest.loaders.registry import open_document
from ingest.loading import BATCH_UNITS, in_batches, read_missing_text, wants_ocr
from ingest.writer import DocumentWriter, IngestProgress, admit
from rag.core.config import Settings
from rag.core.errors import ConfigError, IngestError, MissingExtraError, first_line
from rag.core.records import Document, FileOutcome, IngestReport, Modality, Unit
from rag.models.profiles import build_embedder, choose_profile
from rag.models.sparse import Bm25Encoder
from rag.storage.catalog import Catalog
from rag.storage.images import ImageStore, encode_image
from rag.storage.vectors.base import PointRecord, Schema, Store
from rag.storage.vectors.dump import decode, encode

UNIT, END, FAILED = "unit", "end", "failed"
CONNECT_TIMEOUT_S = 5
LOCAL_ERRORS = (IngestError, OSError, RuntimeError, ValueError)


def _row(doc_id: str, kind: str, **values: Any) -> dict[str, Any]:
    """Every row has every column (Ray Data builds Arrow tables from them)."""
    row = {
        "doc_id": doc_id,
        "kind": kind,
        "index": -1,
        "modality": "",
        "text": "",
        "image": b"",
        "words": "[]",
        "start_s": math.nan,
        "end_s": math.nan,
        "title": "",
        "units": 0,
        "error": "",
    }
    row.update(values)
    return row


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {key: [r[key] for r in rows] for key in rows[0]}


def extract(
    batch: dict[str, np.ndarray], options: LoaderOptions, image: tuple[str, int], ocr: bool
) -> Iterator[dict[str, list[Any]]]:
    """Ray task: open each file of the batch and yield its units, BATCH_UNITS at a time,
    then one END row with the count, or a FAILED row with the reason."""
    for doc_id, path, media_type in zip(
        batch["doc_id"], batch["path"], batch["media_type"], strict=True
    ):
        count = 0
        try:
            opened = open_document(Path(path), str(media_type), options)
            for chunk in in_batches(opened.units, BATCH_UNITS):
                if ocr:
                    read_missing_text(chunk)
                yield _columns([_unit_row(doc_id, opened.title, u, image) for u in chunk])
                count += len(chunk)
            remarks = "; ".join(opened.remarks)  # END rows carry them in their text column
            yield _columns([_row(doc_id, END, units=count, title=opened.title, text=remarks)])
        except LOCAL_ERRORS as exc:
            yield _columns([_row(doc_id, FAILED, error=first_line(exc))])


def _unit_row(doc_id: str, title: str, unit: Unit, image_format: tuple[str, int]) -> dict[str, Any]:
    """A unit as a row; its picture encoded as the image store keeps it (format, quality)."""
    image = b""
    if unit.image is not None:
        image = encode_image(unit.image, *image_format)
    return _row(
        doc_id,
        UNIT,
        index=unit.index,
        modality=str(unit.modality),
        text=unit.text,
        image=image,
        words=json.dumps(unit.words),
        start_s=math.nan if unit.start_s is None else unit.start_s,
        end_s=math.nan if unit.end_s is None else unit.end_s,
        title=title,
    )


def _unit(batch: dict[str, np.ndarray], i: int, with_image: bool) -> Unit:
    data = batch["image"][i]
    image = None
    if with_image and data:
        with Image.open(io.BytesIO(data)) as img:
            image = img.convert("RGB")
    start, end = float(batch["start_s"][i]), float(batch["end_s"][i])
    return Unit(
        index=int(batch["index"][i]),
        modality=Modality(str(batch["modality"][i])),
        text=str(batch["text"][i]),
        image=image,
        start_s=None if math.isnan(start) else start,
        end_s=None if math.isnan(end) else end,
        words=[tuple(w) for w in json.loads(str(batch["words"][i]))],
    )


class EmbedActor:
    """Ray actor: one embedder (and BM25 encoder) for every batch it is given."""

    def __init__(self, settings: Settings) -> None:
        self.embedder = build_embedder(settings, choose_profile(settings))
        self.sparse = Bm25Encoder()
        self.schema = json.dumps(Schema(self.embedder.id, self.embedder.dense_specs()).to_json())

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = [i for i, kind in enumerate(batch["kind"]) if kind == UNIT]
        points = [""] * len(batch["kind"])
        errors = [str(e) for e in batch["error"]]
        try:
            units = [_unit(batch, i, self.embedder.reads_images) for i in rows]
            for i, unit, dense in zip(rows, units, self.embedder.embed_units(units), strict=True):
                terms = self.sparse.document(unit.text) if unit.text else None
                points[i] = encode(PointRecord("", dense, terms))
        except LOCAL_ERRORS as exc:
            for i in rows:
                errors[i] = f"embedding failed: {first_line(exc)}"
        batch["point"] = np.array(points, dtype=object)
        batch["error"] = np.array(errors, dtype=object)
        batch["schema"] = np.array([self.schema] * len(points), dtype=object)
        return batch


@dataclass
class _Pending:
    """A document whose units are arriving."""

    doc: Document
    path: Path
    started: bool = False
    received: int = 0
    expected: int | None = None
    error: str = ""
    remarks: str = ""


def require_reachable(address: str) -> None:
    """Refuse a cluster address nobody answers at: Ray itself retries it for ever.
    `auto` (this machine's cluster, found through a local file) is left to Ray."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ConfigError(
            f"No Ray cluster answers at {address} (RAG_RAY_ADDRESS): {exc.strerror or exc}."
        ) from exc


def ray_session(settings: Settings) -> Callable[[], None]:
    """Connect to `RAG_RAY_ADDRESS`, or start a local Ray; returns how to let go of it."""
    try:
        import ray
        from ray.data import DataContext
    except ImportError as exc:
        raise MissingExtraError(
            "rag ingest --distributed needs Ray Data: pip install 'mmrag[distributed]'."
        ) from exc
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local instance needs no token
    started = False
    if not ray.is_initialized():
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.WARNING,
        }
        if settings.ray_address:
            require_reachable(settings.ray_address)
            options["address"] = settings.ray_address
        else:
            options["num_cpus"] = max(2, os.cpu_count() or 2)
            options["object_store_memory"] = settings.ray_object_store_mb * 1024**2
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError, TimeoutError, ValueError) as exc:
            where = settings.ray_address or "this machine"
            raise ConfigError(f"Cannot start Ray on {where}: {first_line(exc)}") from exc
        started = True
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its notes are not for our users
    context = DataContext.get_current()
    context.enable_progress_bars = False  # progress is ours, per document and unit
    context.print_on_execution_start = False
    return ray.shutdown if started else lambda: None


def ingest_distributed(
    settings: Settings,
    catalog: Catalog,
    images: ImageStore,
    open_store: Callable[[Schema], Store],
    found: Discovered,
    tags: Iterable[str] = (),
    progress: IngestProgress | None = None,
) -> IngestReport:
    """Ingest files through Ray Data; the same outcomes and catalog states as a local run."""
    started = time.perf_counter()
    tag_list = sorted(set(tags))
    writer = DocumentWriter(catalog, images, progress, keep_versions=settings.keep_versions)
    pending: dict[str, _Pending] = {}
    writer.followed_links = found.followed_links
    for outcome in found.outcomes():
        writer.ended(outcome)
    files = found.files
    for path in files:
        admitted = admit(path, tag_list, settings, catalog)
        if isinstance(admitted, FileOutcome):
            writer.ended(admitted)
        elif admitted.id not in pending:  # the same content twice: once is enough
            pending[admitted.id] = _Pending(admitted, path)
    if pending:
        release = ray_session(settings)
        try:
            _run(settings, writer, open_store, pending)
        finally:
            release()
    return writer.report([*found.skipped_links, *files], started)


def _run(
    settings: Settings,
    writer: DocumentWriter,
    open_store: Callable[[Schema], Store],
    pending: dict[str, _Pending],
) -> None:
    import ray
    from ray.data import ActorPoolStrategy

    reads_images = choose_profile(settings).reads_images
    gpus = settings.ray_gpus_per_actor
    if gpus is None:
        gpus = 1.0 if ray.cluster_resources().get("GPU", 0) else 0.0
    files = [
        {"doc_id": p.doc.id, "path": str(p.path), "media_type": p.doc.media_type}
        for p in pending.values()
    ]
    dataset = (
        ray.data.from_items(files, override_num_blocks=len(files))
        .map_batches(
            extract,
            batch_size=1,
            fn_kwargs={
                "options": LoaderOptions.from_settings(settings),
                "image": (settings.image_format, settings.image_quality),
                "ocr": wants_ocr(settings, reads_images),
            },
        )
        .map_batches(
            EmbedActor,
            batch_size=settings.embed_batch_size * 2,
            batch_format="numpy",
            fn_constructor_kwargs={"settings": settings},
            compute=ActorPoolStrategy(size=settings.ray_embed_actors),
            num_gpus=gpus or None,
        )
    )
    store: Store | None = None
    for batch in dataset.iter_batches(batch_size=BATCH_UNITS, batch_format="numpy"):
        if store is None and any(batch["schema"]):
            store = open_store(Schema.from_json(json.loads(str(batch["schema"][0]))))
        _store_batch(batch, store, writer, pending)
    if store is not None:
        store.flush()
    for entry in pending.values():  # lost in flight (a worker died): resumable later
        writer.fail(store, entry.doc, entry.path, "no result came back from Ray")


def _store_batch(
    batch: dict[str, np.ndarray],
    store: Store | None,
    writer: DocumentWriter,
    pending: dict[str, _Pending],
) -> None:
    """Write the batch's embedded units, document by document, and finish documents whose
    units have all arrived."""
    by_doc: dict[str, list[int]] = {}
    for i, doc_id in enumerate(batch["doc_id"]):
        by_doc.setdefault(str(doc_id), []).append(i)
    for doc_id, rows in by_doc.items():
        entry = pending.get(doc_id)
        if entry is None:
            continue
        units, dense, sparse, encoded = [], [], [], []
        for i in rows:
            kind, error = str(batch["kind"][i]), str(batch["error"][i])
            if error:
                entry.error = entry.error or error
            if kind == END:
                entry.expected = int(batch["units"][i])
                entry.remarks = str(batch["text"][i])
            if kind != UNIT:
                continue
            entry.doc.title = str(batch["title"][i]) or entry.doc.title
            point = decode(str(batch["point"][i])) if batch["point"][i] else None
            if point is None:
                continue
            units.append(_unit(batch, i, with_image=False))
            dense.append(point.dense)
            sparse.append(point.sparse)
            data = batch["image"][i]
            encoded.append(bytes(data) if data else None)
        if not entry.started and (units or entry.error or entry.expected is not None):
            writer.start(entry.doc, entry.path)
            entry.started = True
        if units and not entry.error and store is not None:
            writer.write(store, entry.doc, units, dense, sparse, encoded)
            entry.received += len(units)
        if entry.error:
            writer.fail(store, entry.doc, entry.path, entry.error)
            del pending[doc_id]
        elif entry.received == entry.expected and store is not None:
            remarks = [entry.remarks] if entry.remarks else []
            writer.finish(store, entry.doc, entry.path, entry.received, remarks)
            del pending[doc_id]
