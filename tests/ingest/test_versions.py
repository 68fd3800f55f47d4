"""A file ingested again after it changed replaces its earlier version (same path, new
content), once the new one is written; --keep-versions keeps both."""

import json
from pathlib import Path

from typer.testing import CliRunner

from rag import RAG
from rag.cli import app

runner = CliRunner()


def _rag(data: Path, *args: str):
    return runner.invoke(app, ["--data-dir", str(data), *args])


def test_an_edited_file_replaces_its_old_version(tmp_path: Path) -> None:
    data, notes = tmp_path / "data", tmp_path / "notes.md"
    notes.write_text("# Plan\n\nThe alpaca census happens in March.\n")
    assert _rag(data, "ingest", str(notes)).exit_code == 0
    notes.write_text("# Plan\n\nThe giraffe census moved to October.\n")
    result = _rag(data, "ingest", str(notes))
    assert result.exit_code == 0, result.output
    assert (
        "Ingested 0 document(s), updated 1" in result.output
        and f"updated: {notes}" in result.stdout
    )
    listed = json.loads(_rag(data, "list", "--json").stdout)
    assert len(listed) == 1 and listed[0]["status"] == "done"
    query = "When is the census of the animals?"
    texts = [h["text"] for h in json.loads(_rag(data, "search", query, "--json").stdout)]
    assert texts and all("alpaca" not in t for t in texts)
    with RAG(data_dir=data) as rag:
        assert rag.services.store(with_embedder=False).count() == listed[0]["units"]


def test_keep_versions_keeps_both_and_says_so(tmp_path: Path) -> None:
    data, notes = tmp_path / "data", tmp_path / "notes.md"
    notes.write_text("# Plan\n\nThe alpaca census happens in March.\n")
    assert _rag(data, "ingest", str(notes)).exit_code == 0
    notes.write_text("# Plan\n\nThe giraffe census moved to October.\n")
    result = _rag(data, "ingest", str(notes), "--keep-versions")
    assert result.exit_code == 0 and "1 earlier one(s) kept" in result.stdout, result.output
    assert len(json.loads(_rag(data, "list", "--json").stdout)) == 2
