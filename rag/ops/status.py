"""What `rag status` and health checks report: counts, locations, disk use."""

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from rag.core.config import Settings
from rag.core.errors import StoreBusyError
from rag.core.records import Document, Status
from rag.models.profiles import ProfileChoice
from rag.storage.vectors.base import Collections, Store
from rag.storage.vectors.embedded import folder_bytes


@dataclass
class StatusReport:
    data_dir: str
    settings_file: str | None  # the .env that supplied settings, if one did
    profile: str
    profile_reason: str
    embedder: str | None  # the one that built the collection
    documents: int
    by_status: dict[str, int]
    units: int  # catalogued units of done documents
    points: int | None  # None when another process holds the store
    store_busy: bool
    store: str  # engine and location
    collection: str | None  # the physical collection in use
    images_bytes: int
    store_bytes: int | None  # None for a server (its own telemetry knows)
    disk_free_bytes: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def collect_status(
    settings: Settings,
    profile: ProfileChoice,
    documents: list[Document],
    collections: Collections,
    open_store: Callable[[], Store],
) -> StatusReport:
    """The report; a store held by another process (the web app) is reported as busy."""
    store: Store | None = None
    busy = False
    if collections.active() is not None:
        try:
            store = open_store()
        except StoreBusyError:
            busy = True
    data_dir = settings.data_dir
    return StatusReport(
        data_dir=str(data_dir),
        settings_file=str(settings.env_file) if settings.env_file else None,
        profile=str(profile.profile),
        profile_reason=profile.reason,
        embedder=store.schema.embedder if store else None,
        documents=len(documents),
        by_status={s.value: sum(d.status is s for d in documents) for s in Status},
        units=sum(d.units for d in documents if d.status is Status.DONE),
        points=store.count() if store else None if busy else 0,
        store_busy=busy,
        store=f"{collections.kind} {collections.location}",
        collection=collections.active(),
        images_bytes=folder_bytes(settings.images_dir),
        store_bytes=collections.size_bytes(),
        disk_free_bytes=shutil.disk_usage(data_dir).free if data_dir.exists() else None,
    )
