"""The payload of one point: what the store keeps beside a unit's vectors.

One dataclass, written by ingestion and read by search, reindex and backups, instead
of a string-keyed dict spelled out in each. `INDEXED_FIELDS` are the payload indexes
every collection gets, so filters run inside the vector query.
"""

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from rag.core.records import Document, Modality, Unit

INDEXED_FIELDS = {  # payload field -> index type
    "document_id": "keyword",
    "modality": "keyword",
    "tags": "keyword",
    "added": "float",
}


def point_id(document_id: str, index: int) -> str:
    """Deterministic id, so re-ingesting a document overwrites instead of duplicating."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mmrag:{document_id}:{index}"))


@dataclass(frozen=True)
class UnitPayload:
    """A unit as stored: its document, place, text and page-image key."""

    document_id: str
    source: str
    title: str
    unit: int  # 0-based index in the document
    modality: Modality
    text: str = ""
    image: str | None = None  # key in the page-image store
    tags: list[str] = field(default_factory=list)
    added: float = 0.0
    start_s: float | None = None
    end_s: float | None = None

    @property
    def page(self) -> int:
        """1-based, as people count pages."""
        return self.unit + 1

    @classmethod
    def of(cls, doc: Document, unit: Unit, image_key: str | None) -> "UnitPayload":
        return cls(
            document_id=doc.id,
            source=doc.source,
            title=doc.title,
            unit=unit.index,
            modality=unit.modality,
            text=unit.text,
            image=image_key,
            tags=list(doc.tags),
            added=doc.added,
            start_s=unit.start_s,
            end_s=unit.end_s,
        )

    def to_payload(self) -> dict[str, Any]:
        """The JSON the store keeps (`page` too, for people reading the store directly)."""
        return {**asdict(self), "modality": str(self.modality), "page": self.page}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "UnitPayload":
        """Read back what `to_payload` wrote; unknown keys are ignored."""
        return cls(
            document_id=str(payload["document_id"]),
            source=str(payload["source"]),
            title=str(payload.get("title") or payload["source"]),
            unit=int(payload.get("unit", int(payload.get("page", 1)) - 1)),
            modality=Modality(payload.get("modality", Modality.PAGE)),
            text=payload.get("text") or "",
            image=payload.get("image"),
            tags=list(payload.get("tags") or []),
            added=float(payload.get("added") or 0.0),
            start_s=payload.get("start_s"),
            end_s=payload.get("end_s"),
        )

    def to_unit(self) -> Unit:
        """The unit without its picture (reindex loads that from the image store)."""
        return Unit(self.unit, self.modality, self.text, None, self.start_s, self.end_s)
