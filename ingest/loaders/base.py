"""What every loader is given and returns: `LoaderOptions` in, an `OpenedSource` out.

Loaders see only the limits and knobs of loading (a small frozen object that pickles
cheaply to worker processes and Ray tasks), never the whole `Settings`.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.core.config import Settings
from rag.core.records import Unit


@dataclass(frozen=True)
class LoaderOptions:
    """The settings loaders read (each named after its RAG_* variable)."""

    render_dpi: int = 100
    render_workers: int = 0
    max_pages: int = 5000
    pdf_password: str = ""
    max_image_pixels: int = 100_000_000
    max_unzipped_mb: float = 2000
    office_timeout_s: float = 180
    max_media_minutes: float = 240
    asr_model: str = "auto"
    asr_threads: int = 0
    asr_window_s: float = 30
    files_at_once: int = 2  # recordings decoding at once share the speech model's workers
    video_frame_interval_s: float = 10
    video_scene_change: float = 0.12

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoaderOptions":
        password = settings.pdf_password.get_secret_value() if settings.pdf_password else ""
        fields = {name: getattr(settings, name) for name in cls.__dataclass_fields__}
        return cls(**{**fields, "pdf_password": password})


@dataclass
class OpenedSource:
    """A validated file: its title, how many units it will yield, and the units (lazily)."""

    title: str
    unit_count: int  # at most this many: unreadable pages are left out
    units: Iterator[Unit]
    remarks: list[str] = field(default_factory=list)  # for the outcome, once units ran out


Loader = Callable[[Path, LoaderOptions], OpenedSource]
