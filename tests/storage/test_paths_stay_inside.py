"""Every file the app deletes is one it made, under its own folder: an edited catalog
(image keys, kept-upload paths) cannot turn `rag delete` or the app's Delete into
deleting files elsewhere."""

import sqlite3
from contextlib import closing
from pathlib import Path

from conftest import SAMPLE_PDFS
from typer.testing import CliRunner

from rag import RAG
from rag.cli import app
from ui.backend import Backend

runner = CliRunner()


def _edit(catalog: Path, sql: str, *args: object) -> None:
    with closing(sqlite3.connect(catalog)) as db, db:
        db.execute(sql, args)


def test_an_edited_image_key_is_refused_and_the_file_it_names_survives(tmp_path: Path) -> None:
    data = tmp_path / "data"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    assert (
        runner.invoke(app, ["--data-dir", str(data), "ingest", str(SAMPLE_PDFS[0])]).exit_code == 0
    )
    relative = Path("..") / ".." / ".." / victim.name  # images/<2 chars>/<key> -> tmp_path
    _edit(data / "catalog.sqlite3", "UPDATE units SET image_key = ? WHERE idx = 0", str(relative))
    result = runner.invoke(app, ["--data-dir", str(data), "delete", SAMPLE_PDFS[0].name])
    assert result.exit_code == 1 and "refused to delete 1 file(s)" in result.output, result.output
    assert victim.read_text() == "keep me"
    listed = runner.invoke(app, ["--data-dir", str(data), "list", "--json"])
    assert listed.stdout.strip() == "[]"  # the document itself is gone


def test_an_edited_upload_path_is_refused_by_the_apps_delete(rag: RAG, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    backend = Backend(rag)
    _message, _rows, _docs = backend.ingest([str(SAMPLE_PDFS[0])])
    doc = rag.documents()[0]
    assert Path(doc.path).is_relative_to(rag.settings.data_dir / "uploads")  # kept
    escaping = rag.settings.data_dir / "uploads" / ".." / ".." / "precious" / "notes.txt"
    _edit(rag.settings.catalog_path, "UPDATE documents SET path = ?", str(escaping))
    message, _docs = backend.delete(doc.id)
    assert "Refused to delete" in message
    assert (precious / "notes.txt").read_text() == "keep me"


def test_a_kept_upload_goes_with_its_document(rag: RAG) -> None:
    backend = Backend(rag)
    backend.ingest([str(SAMPLE_PDFS[0])])
    kept = Path(rag.documents()[0].path)
    assert kept.is_file()
    message, _docs = backend.delete(rag.documents()[0].id)
    assert message.startswith("Deleted") and not kept.parent.exists()
