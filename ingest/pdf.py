"""PDF pages as units: the rendered page image (in memory) and the page's text layer.

Scanned pages without a text layer come through with empty text (OCR is a later stage);
password handling beyond a clear error is left to the caller.
"""

from collections.abc import Iterator
from pathlib import Path

import pymupdf
from PIL import Image

from ingest.source import OpenedSource
from rag.config import Settings
from rag.errors import CorruptFileError, EncryptedFileError, TooLargeError, first_line
from rag.passages import normalize
from rag.records import Modality, Unit


def render(page: pymupdf.Page, dpi: int) -> Image.Image:
    """The page as an RGB PIL image, without encoding it to PNG on the way."""
    pix = page.get_pixmap(dpi=dpi, alpha=False, colorspace=pymupdf.csRGB)
    return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)


def word_boxes(page: pymupdf.Page) -> list[tuple[float, float, float, float, str]]:
    """Words of the text layer with boxes relative to the page, for highlighting matches."""
    w, h = page.rect.width or 1.0, page.rect.height or 1.0
    return [
        (round(x0 / w, 4), round(y0 / h, 4), round(x1 / w, 4), round(y1 / h, 4), word)
        for x0, y0, x1, y1, word, *_ in page.get_text("words")
    ]


def open_pdf(path: Path, settings: Settings) -> OpenedSource:
    """Validate the PDF and return its title, page count and a lazy page iterator."""
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:
        raise CorruptFileError(f"not a readable PDF ({first_line(exc)})") from exc
    if doc.needs_pass:
        password = settings.pdf_password.get_secret_value() if settings.pdf_password else ""
        if not password or not doc.authenticate(password):
            doc.close()
            hint = "the password given does not open it" if password else "give --password"
            raise EncryptedFileError(f"the PDF is password protected ({hint})")
    if doc.page_count == 0:
        doc.close()
        raise CorruptFileError("the PDF has no pages")
    if doc.page_count > settings.max_pages:
        pages = doc.page_count
        doc.close()
        raise TooLargeError(
            f"{pages} pages is over the limit of {settings.max_pages} (RAG_MAX_PAGES)"
        )
    title = (doc.metadata or {}).get("title", "").strip() or path.stem

    def pages() -> Iterator[Unit]:
        try:
            for page in doc:
                yield Unit(
                    index=page.number,
                    modality=Modality.PAGE,
                    text=normalize(page.get_text("text")),
                    image=render(page, settings.render_dpi),
                    words=word_boxes(page),
                )
        except Exception as exc:
            raise CorruptFileError(f"page cannot be read ({first_line(exc)})") from exc
        finally:
            doc.close()

    return OpenedSource(title=title, unit_count=doc.page_count, units=pages())
