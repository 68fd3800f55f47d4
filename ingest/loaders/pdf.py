"""PDF pages as units: the rendered page image (in memory) and the page's text layer.

Long PDFs are rendered by a pool of worker processes (RAG_RENDER_WORKERS) in chunks of
pages, handed back as raw pixels and yielded in page order; short ones in this process.
Pages without a text layer come through with empty text (the pipeline adds OCR).
"""

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path

import pymupdf
from PIL import Image

from ingest.loaders.base import LoaderOptions, OpenedSource
from rag.core.errors import CorruptFileError, EncryptedFileError, TooLargeError, first_line
from rag.core.records import Modality, Unit, WordBox
from rag.core.text import normalize

CHUNK_PAGES = 8  # pages per task sent to a render worker


def render(page: pymupdf.Page, dpi: int) -> Image.Image:
    """The page as an RGB PIL image, without encoding it to PNG on the way."""
    pix = page.get_pixmap(dpi=dpi, alpha=False, colorspace=pymupdf.csRGB)
    return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)


def word_boxes(page: pymupdf.Page) -> list[WordBox]:
    """Words of the text layer with boxes relative to the page, for highlighting matches."""
    w, h = page.rect.width or 1.0, page.rect.height or 1.0
    return [
        (round(x0 / w, 4), round(y0 / h, 4), round(x1 / w, 4), round(y1 / h, 4), word)
        for x0, y0, x1, y1, word, *_ in page.get_text("words")
    ]


def open_pdf(path: Path, options: LoaderOptions) -> OpenedSource:
    """Validate the PDF and return its title, page count and a lazy page iterator."""
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:
        raise CorruptFileError(f"not a readable PDF ({first_line(exc)})") from exc
    if doc.needs_pass:
        password = options.pdf_password
        if not password or not doc.authenticate(password):
            doc.close()
            hint = "the password given does not open it" if password else "give --password"
            raise EncryptedFileError(f"the PDF is password protected ({hint})")
    if doc.page_count == 0:
        doc.close()
        raise CorruptFileError("the PDF has no pages")
    if doc.page_count > options.max_pages:
        pages = doc.page_count
        doc.close()
        raise TooLargeError(
            f"{pages} pages is over the limit of {options.max_pages} (RAG_MAX_PAGES)"
        )
    title = (doc.metadata or {}).get("title", "").strip() or path.stem
    count, repaired = doc.page_count, doc.is_repaired
    workers = render_workers(options.render_workers)
    if workers > 1 and count > 2 * CHUNK_PAGES:
        doc.close()  # each worker opens its own copy
        password = options.pdf_password
        units = _in_workers(path, count, options.render_dpi, password, workers)
    else:
        units = _in_process(doc, options.render_dpi)
    opened = OpenedSource(title=title, unit_count=count, units=iter(()))
    opened.units = _readable(units, count, repaired, opened.remarks)
    return opened


def _readable(
    units: Iterator[Unit], count: int, repaired: bool, remarks: list[str]
) -> Iterator[Unit]:
    """The pages that hold something: a page with no text that renders blank is left out
    (a truncated file that PyMuPDF repaired has many), and the outcome says how many; a
    file with no readable page at all fails."""
    unreadable = 0
    for unit in units:
        if unit.text.strip() or unit.image is None or not _blank(unit.image):
            yield unit
        else:
            unreadable += 1
    if unreadable == count:
        state = "damaged" if repaired else "blank"
        raise CorruptFileError(f"{state}: none of its {count} pages is readable")
    if unreadable:
        state = "damaged" if repaired else "blank pages"
        remarks.append(f"{state}: {unreadable} of {count} pages unreadable, left out")


def _blank(image: Image.Image) -> bool:
    """Every pixel the same colour (min == max in each band)."""
    return all(low == high for low, high in image.getextrema())


def render_workers(setting: int) -> int:
    """0: leave two cores to the embedder and the pipeline, use the rest up to 4. On a
    2-core laptop that means rendering in-process (86 pages/s, far above a CPU
    embedder's 4); on a GPU host, 4 workers keep the GPU fed."""
    return setting or max(1, min((os.cpu_count() or 1) - 2, 4))


def _page_unit(page: pymupdf.Page, dpi: int) -> Unit:
    return Unit(
        index=page.number,
        modality=Modality.PAGE,
        text=normalize(page.get_text("text")),
        image=render(page, dpi),
        words=word_boxes(page),
    )


def _in_process(doc: pymupdf.Document, dpi: int) -> Iterator[Unit]:
    try:
        for page in doc:
            yield _page_unit(page, dpi)
    except Exception as exc:
        raise CorruptFileError(f"page cannot be read ({first_line(exc)})") from exc
    finally:
        doc.close()


RenderedPage = tuple[int, str, bytes, tuple[int, int], list[WordBox]]


def render_chunk(path: str, first: int, last: int, dpi: int, password: str) -> list[RenderedPage]:
    """Worker side: pages [first, last) as plain data (raw RGB bytes, not PNG)."""
    with pymupdf.open(path, filetype="pdf") as doc:
        if doc.needs_pass:
            doc.authenticate(password)
        out = []
        for i in range(first, last):
            unit = _page_unit(doc[i], dpi)
            assert unit.image is not None
            out.append((i, unit.text, unit.image.tobytes(), unit.image.size, unit.words))
        return out


def _in_workers(path: Path, count: int, dpi: int, password: str, workers: int) -> Iterator[Unit]:
    """Pages rendered by a process pool, yielded in order; at most 2 chunks per worker are
    in flight, so memory stays bounded however long the PDF is."""
    starts = iter(range(0, count, CHUNK_PAGES))
    context = multiprocessing.get_context("spawn")  # no fork of a process holding torch threads
    with ProcessPoolExecutor(workers, mp_context=context) as pool:

        def submit(first: int) -> Future[list[RenderedPage]]:
            last = min(first + CHUNK_PAGES, count)
            return pool.submit(render_chunk, str(path), first, last, dpi, password)

        pending = deque(submit(first) for first in islice(starts, 2 * workers))
        try:
            while pending:
                for index, text, pixels, size, words in pending.popleft().result():
                    image = Image.frombytes("RGB", size, pixels)
                    yield Unit(index, Modality.PAGE, text, image, words=words)
                if (first := next(starts, None)) is not None:
                    pending.append(submit(first))
        except Exception as exc:
            raise CorruptFileError(f"page cannot be read ({first_line(exc)})") from exc
        finally:
            for future in pending:
                future.cancel()
