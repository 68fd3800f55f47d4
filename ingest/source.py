"""What every loader returns, and the registry from media type to loader.

Adding a format means writing one loader and adding one line to `LOADERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # runtime imports of `rag` here would be circular (rag.api imports ingest)
    from rag.config import Settings
    from rag.records import Unit


@dataclass
class OpenedSource:
    """A validated file: its title, how many units it will yield, and the units (lazily)."""

    title: str
    unit_count: int
    units: Iterator[Unit]


Loader = Callable[[Path, "Settings"], OpenedSource]


def loaders() -> dict[str, Loader]:
    """Media type -> loader. Imported lazily so a loader's heavy imports load only when used."""
    from functools import partial

    from ingest.image import FORMATS, open_image
    from ingest.media import MEDIA_TYPES, open_media
    from ingest.office import OFFICE_TYPES, open_office
    from ingest.pdf import open_pdf
    from ingest.text import open_text

    images = {t: partial(open_image, media_type=t) for t in FORMATS}
    media = dict.fromkeys(MEDIA_TYPES, open_media)
    office = {t: partial(open_office, media_type=t) for t in OFFICE_TYPES}
    return {"application/pdf": open_pdf, "text/plain": open_text, **images, **media, **office}
