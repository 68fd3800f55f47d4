"""Catalog bookkeeping, content sniffing, passages and page images: the small parts."""

from pathlib import Path

import pytest
from conftest import SAMPLE_PDFS
from PIL import Image

from ingest.formats import sniff
from ingest.loaders.base import LoaderOptions
from ingest.loaders.pdf import open_pdf
from rag.answer.extractive import quote
from rag.core.errors import DocumentNotFoundError
from rag.core.records import Document, Status
from rag.core.text import cut, spans
from rag.storage.catalog import Catalog
from rag.storage.images import ImageStore


def _doc(doc_id: str, source: str) -> Document:
    return Document(doc_id, source, f"/x/{source}", "application/pdf", source, Status.PENDING)


def test_catalog_tracks_state_and_shared_images(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "c.sqlite3")
    a, b = _doc("a" * 64, "a.pdf"), _doc("b" * 64, "b.pdf")
    for d in (a, b):
        cat.start(d)
    cat.add_units(a.id, [(0, "p0", "shared.webp", []), (1, "p1", "only-a.webp", [])])
    cat.add_units(b.id, [(0, "q0", "shared.webp", [(0.1, 0.1, 0.2, 0.2, "x")])])
    cat.finish(a.id, 2)
    assert cat.words(b.id, 0) == [(0.1, 0.1, 0.2, 0.2, "x")] and cat.words(a.id, 0) == []
    assert cat.get(a.id).status is Status.DONE and cat.get(b.id).status is Status.PENDING
    assert cat.delete(a.id) == {"only-a.webp"}  # the shared image stays for b
    assert cat.get(a.id) is None and cat.point_ids(a.id) == []
    cat.fail(b, "broken")
    assert cat.get(b.id).reason == "broken" and cat.point_ids(b.id) == []
    cat.close()


def test_catalog_resolves_by_name_prefix_or_id(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "c.sqlite3")
    cat.start(_doc("abcdef" + "0" * 58, "report.pdf"))
    cat.start(_doc("abcdef" + "1" * 58, "other.pdf"))
    assert cat.resolve("report.pdf").source == "report.pdf"
    assert cat.resolve("abcdef1").source == "other.pdf"
    with pytest.raises(DocumentNotFoundError, match="several"):
        cat.resolve("abcdef")
    with pytest.raises(DocumentNotFoundError, match="rag list"):
        cat.resolve("missing.pdf")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0....", "image/jpeg"),
        (b"PK\x03\x04....", "application/zip"),
        (b"plain words\n", "text/plain"),
        (bytes(range(256)), "application/octet-stream"),
    ],
)
def test_type_comes_from_content_not_extension(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "misleading.pdf"
    path.write_bytes(content)
    assert sniff(path) == expected


def test_passages_cover_every_word_with_overlap() -> None:
    text = " ".join(f"w{i}" for i in range(250))
    windows = spans(text, words=100, overlap=20)
    assert windows[0] == (0, 100) and windows[1][0] == 80 and windows[-1][1] == 250
    assert cut(text, windows[-1]).split()[-1] == "w249"
    assert spans("", 100, 20) == []


def test_quote_picks_the_sentence_sharing_most_words_with_the_question() -> None:
    passage = "Cats sleep a lot. Packages are installed with install.packages. Dogs bark."
    assert quote(passage, "How are packages installed?", max_words=5).startswith("Packages are")


def test_pdf_pages_come_with_text_and_an_in_memory_image() -> None:
    opened = open_pdf(SAMPLE_PDFS[0], LoaderOptions(render_dpi=50))
    first = next(opened.units)
    assert opened.unit_count >= 10 and first.index == 0
    assert isinstance(first.image, Image.Image) and first.image.width > 100
    assert first.text


def test_page_images_are_content_addressed_and_not_png(tmp_path: Path) -> None:
    images = ImageStore(tmp_path, "webp", 80)
    red = Image.new("RGB", (64, 64), "red")
    key = images.save(red)
    assert key == images.save(red.copy()) and key.endswith(".webp")
    assert images.path(key).read_bytes()[8:12] == b"WEBP"
    assert ImageStore(tmp_path, "jpeg", 80).save(red).endswith(".jpg")
    images.delete({key})
    assert not images.path(key).exists()
