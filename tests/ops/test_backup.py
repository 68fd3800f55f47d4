"""`rag backup` / `rag restore` on the embedded store, through the CLI."""

import io
import json
import tarfile
from pathlib import Path

from conftest import SAMPLE_PDFS
from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()


def _rag(data: Path, *args: str):
    return runner.invoke(app, ["--data-dir", str(data), *args])


def test_backup_then_restore_elsewhere_gives_the_same_answers(tmp_path: Path) -> None:
    source, copy, archive = tmp_path / "a", tmp_path / "b", tmp_path / "backup.tar"
    assert _rag(source, "ingest", *map(str, SAMPLE_PDFS[:2]), "--tag", "t").exit_code == 0
    before = json.loads(_rag(source, "search", "perfect phylogeny", "--json").stdout)
    result = _rag(source, "backup", str(archive))
    assert result.exit_code == 0 and "Backed up 2 document(s)" in result.output
    result = _rag(copy, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert json.loads(_rag(copy, "search", "perfect phylogeny", "--json").stdout) == [
        {**h, "image_path": h["image_path"].replace(str(source), str(copy))} for h in before
    ]
    listed = json.loads(_rag(copy, "list", "--json").stdout)
    assert {d["source"] for d in listed} == {p.name for p in SAMPLE_PDFS[:2]}
    again = _rag(copy, "restore", str(archive))
    assert again.exit_code == 1 and "--replace" in again.output
    assert _rag(copy, "restore", str(archive), "--replace").exit_code == 0


def test_a_foreign_or_hostile_archive_is_refused_and_nothing_is_touched(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert _rag(data, "ingest", str(SAMPLE_PDFS[0])).exit_code == 0
    hostile = tmp_path / "hostile.tar"
    with tarfile.open(hostile, "w") as tar:
        for name, body in (("mmrag-backup.json", b'{"format": 1}'), ("../escape.txt", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    result = _rag(data, "restore", str(hostile), "--replace")
    assert result.exit_code == 1 and "unsafe" in result.output
    assert not (tmp_path / "escape.txt").exists()
    foreign = tmp_path / "notes.tar"
    foreign.write_bytes(b"not a tar")
    assert "not an mmrag backup" in _rag(data, "restore", str(foreign)).output
    assert json.loads(_rag(data, "list", "--json").stdout)[0]["source"] == SAMPLE_PDFS[0].name


def test_an_unwritable_backup_target_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert _rag(data, "ingest", str(SAMPLE_PDFS[0])).exit_code == 0
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _rag(data, "backup", str(blocker / "sub" / "b.tar"))
    assert result.exit_code == 1 and "Cannot write the backup" in result.output
    assert "Traceback" not in result.output
