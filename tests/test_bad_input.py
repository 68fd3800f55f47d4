"""Bad files fail alone, with a one-line reason; good files beside them are ingested."""

from pathlib import Path

import pymupdf
from conftest import SAMPLE_PDFS
from typer.testing import CliRunner

from rag import RAG
from rag.cli import app
from rag.records import Status


def _bad_files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    good = SAMPLE_PDFS[0].read_bytes()
    files = {
        "corrupt": folder / "corrupt.pdf",
        "truncated": folder / "truncated.pdf",
        "empty": folder / "empty.pdf",
        "unsupported": folder / "notes.bin",
        "encrypted": folder / "secret.pdf",
    }
    files["corrupt"].write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    files["truncated"].write_bytes(good[: len(good) // 3])
    files["empty"].write_bytes(b"")
    files["unsupported"].write_bytes(bytes(range(256)) * 4)
    doc = pymupdf.open(SAMPLE_PDFS[0])
    doc.save(files["encrypted"], encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    return files


def test_bad_files_fail_alone_with_one_line_reasons(rag: RAG, tmp_path: Path) -> None:
    bad = _bad_files(tmp_path / "bad")
    paths = [SAMPLE_PDFS[0], *bad.values(), SAMPLE_PDFS[1]]
    report = rag.ingest(paths)
    by_path = {Path(o.path).name: o for o in report.outcomes}
    assert by_path[SAMPLE_PDFS[0].name].status == "ingested"
    assert by_path[SAMPLE_PDFS[1].name].status == "ingested"
    for name, path in bad.items():
        outcome = by_path[path.name]
        if name == "truncated" and outcome.status == "ingested":
            continue  # PyMuPDF repairs some truncated files; then it must be complete
        assert outcome.status == "failed", (name, outcome)
        assert outcome.reason and "\n" not in outcome.reason and len(outcome.reason) < 200
    assert "empty" in by_path["empty.pdf"].reason
    assert "unsupported" in by_path["notes.bin"].reason
    assert "password" in by_path["secret.pdf"].reason
    good_units = sum(d.units for d in rag.documents() if d.status is Status.DONE)
    assert rag.store().count() == good_units
    failed = [d for d in rag.documents() if d.status is Status.FAILED]
    assert failed and all(d.reason for d in failed)
    assert all(rag.store().count(d.id) == 0 for d in failed)


def test_cli_exit_code_says_partial_failure(tmp_path: Path) -> None:
    bad = _bad_files(tmp_path / "bad")
    result = CliRunner().invoke(
        app,
        ["--data-dir", str(tmp_path / "d"), "ingest", str(SAMPLE_PDFS[0]), *map(str, bad.values())],
    )
    assert result.exit_code == 3, result.output
    assert "empty.pdf: the file is empty" in result.output
    assert "Ingested 1 document(s)" in result.output


def test_cli_exit_code_is_1_when_every_file_fails(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "d"), "ingest", str(empty)])
    assert result.exit_code == 1


def test_missing_file_is_reported_not_raised(rag: RAG, tmp_path: Path) -> None:
    report = rag.ingest([tmp_path / "gone.pdf", SAMPLE_PDFS[0]])
    assert [o.status for o in report.outcomes] == ["failed", "ingested"]
    assert "cannot read" in report.outcomes[0].reason


def test_a_pdf_over_the_page_limit_is_refused(rag: RAG) -> None:
    rag.settings.max_pages = 3
    report = rag.ingest([SAMPLE_PDFS[0]])
    assert report.outcomes[0].status == "failed"
    assert "RAG_MAX_PAGES" in report.outcomes[0].reason
