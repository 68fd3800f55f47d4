"""A truncated PDF that PyMuPDF repairs is not reported as done with blank pages: the
unreadable pages are left out and the outcome says how many; with none readable, it fails."""

import json
from pathlib import Path

import pymupdf
from conftest import SAMPLE_DATA
from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()
R_ADMIN = SAMPLE_DATA / "r-admin-excerpt.pdf"  # 20 pages of text


def _rag(data: Path, *args: str):
    return runner.invoke(app, ["--data-dir", str(data), *args])


def test_a_repaired_pdf_keeps_its_readable_pages_and_says_it_is_damaged(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pdf"
    data = R_ADMIN.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert pymupdf.open(cut).is_repaired  # the case: PyMuPDF had to repair it
    result = _rag(tmp_path / "d", "ingest", str(cut))
    assert result.exit_code == 0, result.output
    assert "damaged: 18 of 20 pages unreadable, left out" in result.stdout
    (doc,) = json.loads(_rag(tmp_path / "d", "list", "--json").stdout)
    assert doc["status"] == "done" and doc["units"] == 2
    status = json.loads(_rag(tmp_path / "d", "status", "--json").stdout)
    assert status["points"] == 2


def test_a_pdf_with_no_readable_page_fails(tmp_path: Path) -> None:
    blank = tmp_path / "blank.pdf"
    doc = pymupdf.open()
    for _ in range(3):
        doc.new_page()
    doc.save(blank)
    result = _rag(tmp_path / "d", "ingest", str(blank))
    assert result.exit_code == 1
    assert "blank: none of its 3 pages is readable" in result.stdout


def test_a_blank_page_among_pages_is_left_out_and_counted(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.pdf"
    doc = pymupdf.open()
    for text in ("Zebras migrate in spring.", None, "Giraffes stay."):
        page = doc.new_page()
        if text:
            page.insert_text((72, 72), text)
    doc.save(mixed)
    result = _rag(tmp_path / "d", "ingest", str(mixed))
    assert result.exit_code == 0 and "blank pages: 1 of 3 pages unreadable" in result.stdout
    hits = json.loads(_rag(tmp_path / "d", "search", "giraffes stay", "--json").stdout)
    assert hits[0]["page"] == 3  # page numbers stay those of the file
