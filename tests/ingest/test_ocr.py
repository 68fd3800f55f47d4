"""Scans get text in the lite profile: RapidOCR on images and on PDF pages without a text layer."""

from pathlib import Path

import pymupdf
from conftest import SAMPLE_DATA

from rag import RAG, Settings

SCAN = SAMPLE_DATA / "scanned-page.png"


def _scanned_pdf(folder: Path) -> Path:
    """A PDF whose only page is the scan as a picture: no text layer at all."""
    pdf = pymupdf.open()
    page = pdf.new_page(width=384, height=191)
    page.insert_image(page.rect, filename=str(SCAN))
    path = folder / "scanned.pdf"
    pdf.save(path)
    assert not pymupdf.open(path)[0].get_text().strip()
    return path


def test_a_scanned_image_and_a_scanned_pdf_become_searchable(rag: RAG, tmp_path: Path) -> None:
    report = rag.ingest([SCAN, _scanned_pdf(tmp_path)])
    assert [o.status for o in report.outcomes] == ["ingested", "ingested"]
    hits = rag.search("markers of the coins and the background", 5)
    assert {h.source for h in hits} == {SCAN.name, "scanned.pdf"}
    assert all("histogram of grey values" in h.page_text for h in hits)


def test_ocr_off_leaves_scans_without_text(tmp_path: Path, embedder) -> None:
    with RAG(Settings(data_dir=tmp_path / "d", ocr="off"), embedder=embedder) as rag:
        rag.ingest([SCAN])
        assert rag.search("markers of the coins and the background", 5) == []
