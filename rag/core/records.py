"""Plain records that cross module borders: what ingestion produces, what search and ask return."""

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from PIL import Image


class Modality(StrEnum):
    """What kind of unit a point stands for."""

    PAGE = "page"  # a page of a PDF (or of a converted office document)
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    TEXT = "text"


class Status(StrEnum):
    """Ingestion state of a document in the catalog."""

    PENDING = "pending"  # started; units may be partly in the store
    DONE = "done"
    FAILED = "failed"


WordBox = tuple[float, float, float, float, str]
"""A text-layer word with its box as fractions of the page: (x0, y0, x1, y1, word)."""


@dataclass
class Unit:
    """One retrievable unit (one Qdrant point) before embedding: a page, a slide, a window."""

    index: int  # 0-based position in its document
    modality: Modality
    text: str
    image: Image.Image | None = None  # rendered page, kept in memory (no PNG round trip)
    start_s: float | None = None  # time range, for audio and video units
    end_s: float | None = None
    words: list[WordBox] = field(default_factory=list)  # for marking matches on the page


@dataclass
class Document:
    """A catalogued file; its id is the sha256 of its bytes."""

    id: str
    source: str  # file name as the user gave it
    path: str  # absolute path at ingestion time
    media_type: str
    title: str
    status: Status
    units: int = 0
    tags: list[str] = field(default_factory=list)
    added: float = 0.0  # unix time
    reason: str | None = None  # why it failed


@dataclass
class SearchFilter:
    """Conditions applied inside the vector query (never after it), all combined with AND."""

    documents: list[str] = field(default_factory=list)  # document ids (any of)
    modalities: list[str] = field(default_factory=list)  # any of
    tags: list[str] = field(default_factory=list)  # a unit carrying any of them
    added_after: float | None = None  # unix time
    added_before: float | None = None

    def __bool__(self) -> bool:
        return bool(
            self.documents or self.modalities or self.tags or self.added_after or self.added_before
        )


@dataclass
class Explanation:
    """Why a hit ranks where it does: each retriever's rank and score, fusion, reranker."""

    retrievers: dict[str, tuple[int | None, float | None]]  # name -> (1-based rank, score)
    fused_score: float | None
    rerank_score: float | None
    relevance: float | None  # dense similarity of the best passage (the threshold's signal)
    matched_terms: list[str]
    highlighted: str  # the matched text with query terms wrapped in ** **


@dataclass
class Hit:
    """One search result. `page` is 1-based; `text` is the passage that matched best;
    `score` ranks the hits (the reranker's score when one ran, else the fused score)."""

    unit_id: str
    document_id: str
    source: str
    title: str
    page: int
    score: float
    modality: Modality
    text: str
    page_text: str = ""
    image_path: Path | None = None
    start_s: float | None = None
    end_s: float | None = None
    fused_score: float | None = None  # from the fused Qdrant query
    rerank_score: float | None = None  # from the reranker, when one ran (then = score)
    relevance: float | None = None  # dense similarity of the best passage to the query
    explanation: Explanation | None = None

    def to_json(self) -> dict[str, Any]:
        """The `rag search --json` schema: stable keys that later versions keep."""
        return {
            "source": self.source,
            "page": self.page,
            "score": round(self.score, 6),
            "modality": str(self.modality),
            "text": self.text,
            "title": self.title,
            "document_id": self.document_id,
            "unit_id": self.unit_id,
            "image_path": str(self.image_path) if self.image_path else None,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "fused_score": self.fused_score,
            "rerank_score": self.rerank_score,
            "relevance": self.relevance,
            **({"explanation": asdict(self.explanation)} if self.explanation else {}),
        }


@dataclass
class Citation:
    """What `[n]` in an answer refers to."""

    number: int
    source: str
    page: int
    document_id: str
    title: str
    start_s: float | None = None
    end_s: float | None = None

    def label(self) -> str:
        where = f"p. {self.page}"
        if self.start_s is not None:
            where = f"{self.start_s:.0f}–{self.end_s or self.start_s:.0f} s"
        return f"[{self.number}] {self.source}, {where}"


@dataclass
class Answer:
    """An answer with its citations; `generated` is False for an extractive answer."""

    question: str
    text: str
    citations: list[Citation]
    hits: list[Hit]
    generated: bool
    notice: str | None = None  # e.g. "no generator is configured"
    invented_citations: list[int] = field(default_factory=list)  # dropped from the text
    context: list[Citation] = field(default_factory=list)  # every page the model was given


@dataclass
class FileOutcome:
    """What happened to one input file during an ingest run."""

    path: str
    status: str  # "ingested", "updated" (replaced its earlier version), "skipped" or "failed"
    document_id: str | None = None
    units: int = 0
    reason: str | None = None


@dataclass
class IngestReport:
    """Summary of an ingest run, in the order the files were given."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def units(self) -> int:
        return sum(o.units for o in self.outcomes)

    @property
    def written_units(self) -> int:
        """Units stored by this run (skipped files count theirs in `units`)."""
        return sum(o.units for o in self.outcomes if o.status in ("ingested", "updated"))

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]
