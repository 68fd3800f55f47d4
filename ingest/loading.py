"""The loading half of ingestion, shared by the local and the distributed driver: what
runs before the embedder (type checks, the loader, OCR) and in which order files start.
"""

from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from ingest.discover import sha256_file
from ingest.formats import LOAD_COST, kind_of, sniff
from ingest.loaders import ocr
from rag.core.config import Settings
from rag.core.errors import EmptyFileError, IngestError, TooLargeError
from rag.core.records import Unit

BATCH_UNITS = 16  # pages per embed + upsert round: bounds memory for rendered images


def checked(path: Path, settings: Settings) -> tuple[str, str]:
    """(media type, document id) of a file that may be ingested; raises `IngestError`
    (empty, too large, unreadable type) or `OSError` otherwise."""
    size = path.stat().st_size
    if size == 0:
        raise EmptyFileError("the file is empty")
    if size > settings.max_file_mb * 1e6:
        raise TooLargeError(
            f"{size / 1e6:.0f} MB is over the limit of {settings.max_file_mb:g} MB"
            " (RAG_MAX_FILE_MB)"
        )
    return sniff(path), sha256_file(path)


def wants_ocr(settings: Settings, embedder_reads_images: bool) -> bool:
    """OCR pages without text when asked to, or (auto) when the embedder reads only text
    and the ocr extra is installed."""
    if settings.ocr == "on":
        return True
    return settings.ocr == "auto" and not embedder_reads_images and ocr.available()


def read_missing_text(units: list[Unit], threads: int = 1) -> None:
    """Give units with a picture but no text their OCR text."""
    for u in units:
        if u.image is not None and not u.text.strip():
            u.text = ocr.read_text(u.image, threads)


def load_cost(path: Path) -> int:
    """How long a file holds one core while it loads, as a rank (`formats.LOAD_COST`):
    recordings 3, office files 2, images 1, PDFs and text 0. Files that cannot be sniffed
    rank 0: they fail at once when loaded. Only regular files are sniffed (reading a
    named pipe would wait for a writer; `admit` refuses it as empty)."""
    try:
        if not path.is_file():
            return 0
        kind = kind_of(sniff(path))
    except (IngestError, OSError):
        return 0
    return LOAD_COST.get(kind, 0) if kind else 0


def in_batches(units: Iterable[Unit], size: int) -> Iterator[list[Unit]]:
    """Units in lists of `size` (the last may be shorter), read lazily."""
    units = iter(units)
    while batch := list(islice(units, size)):
        yield batch
