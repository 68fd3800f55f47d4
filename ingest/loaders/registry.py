"""Media type -> loader, built from the one format table (`ingest.formats`).

Adding a format means a row in `ingest.formats.FORMATS` and, for a new kind, one loader
here. Loader modules are imported on first use, so listing formats loads no PyMuPDF,
Pillow plugins or PyAV.
"""

from functools import partial
from pathlib import Path

from ingest.formats import FORMATS, Kind
from ingest.loaders.base import Loader, LoaderOptions, OpenedSource
from rag.core.errors import UnsupportedFileError


def loaders() -> dict[str, Loader]:
    """Every supported media type with the function that opens it."""
    from ingest.loaders.image import open_image
    from ingest.loaders.media import open_media
    from ingest.loaders.office import open_office
    from ingest.loaders.pdf import open_pdf
    from ingest.loaders.text import open_text

    by_kind = {
        Kind.PDF: lambda _: open_pdf,
        Kind.TEXT: lambda _: open_text,
        Kind.IMAGE: lambda t: partial(open_image, media_type=t),
        Kind.OFFICE: lambda t: partial(open_office, media_type=t),
        Kind.MEDIA: lambda _: open_media,
    }
    return {f.media_type: by_kind[f.kind](f.media_type) for f in FORMATS}


def open_document(
    path: Path, media_type: str, options: LoaderOptions, known: dict[str, Loader] | None = None
) -> OpenedSource:
    """The loader's view of a file: title, unit count and a stream of units."""
    loader = (known or loaders()).get(media_type)
    if loader is None:
        raise UnsupportedFileError(f"unsupported file type ({media_type})")
    return loader(path, options)
