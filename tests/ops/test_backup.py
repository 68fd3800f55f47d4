"""`rag backup` / `rag restore` on the embedded store, through the CLI."""

import io
import json
import tarfile
from pathlib import Path

import pytest
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


def _archive(path: Path, members: list[tarfile.TarInfo], gz: bool = False) -> Path:
    """A backup-shaped tar: our manifest, then the given members (files get zero bytes
    unless they declare a size, which is filled with zeros)."""
    with tarfile.open(path, "w:gz" if gz else "w") as tar:
        manifest = json.dumps({"format": 1, "documents": 1, "units": 1}).encode()
        info = tarfile.TarInfo("mmrag-backup.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
        for member in members:
            body = io.BytesIO(b"\0" * member.size) if member.isfile() else None
            tar.addfile(member, body)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 1):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = size if kind == tarfile.REGTYPE else 0
    return info


def _files_besides_the_engines(root: Path) -> list[Path]:
    """Every file under `root` but the store's own (the engine rewrites its segments)."""
    return sorted(p.relative_to(root) for p in root.rglob("*") if "store" not in p.parts)


CATALOG_FILES = {"catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"}
HOSTILE = {
    "absolute name": [_member("/tmp/mmrag-restore-escape/evil.txt")],
    "absolute under an allowed folder": [_member("/images/evil.txt")],
    "parent reference": [_member("images/../../evil.txt")],
    "symlink pointing inside": [_member("images/ab", tarfile.SYMTYPE, "../store")],
    "hardlink pointing inside": [
        _member("images/x"),
        _member("images/y", tarfile.LNKTYPE, "images/x"),
    ],
    # CVE-2025-4517's shape: a link that resolves outside, then a file written through it
    "file through a link": [
        _member("images/up", tarfile.SYMTYPE, "../.."),
        _member("images/up/evil.txt"),
    ],
    "folder we never write": [_member("evil.sh")],
    "device": [_member("images/dev", tarfile.CHRTYPE)],
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("replace", [False, True])
def test_a_hostile_member_is_refused_and_nothing_is_written_or_deleted(
    tmp_path: Path, case: str, replace: bool
) -> None:
    data = tmp_path / "data"
    assert _rag(data, "ingest", str(SAMPLE_PDFS[0])).exit_code == 0
    archive = _archive(tmp_path / "hostile.tar", HOSTILE[case])
    before = _files_besides_the_engines(tmp_path)
    result = _rag(data, "restore", str(archive), *(["--replace"] if replace else []))
    assert result.exit_code == 1, result.output
    assert ("unsafe" in result.output) if replace else ("--replace" in result.output)
    assert _files_besides_the_engines(tmp_path) == before
    assert not Path("/tmp/mmrag-restore-escape").exists()
    assert json.loads(_rag(data, "list", "--json").stdout)[0]["source"] == SAMPLE_PDFS[0].name


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_member_is_refused_in_an_empty_data_directory(tmp_path: Path, case) -> None:
    archive = _archive(tmp_path / "hostile.tar", HOSTILE[case])
    result = _rag(tmp_path / "fresh", "restore", str(archive))
    assert result.exit_code == 1 and "unsafe" in result.output, result.output
    written = {p.name for p in (tmp_path / "fresh").rglob("*")} - CATALOG_FILES
    assert written == set(), written
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "evil.sh").exists()


def test_a_backup_that_unpacks_past_the_limit_is_refused_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = _archive(tmp_path / "bomb.tar.gz", [_member("images/zeros", size=5_000_000)], gz=True)
    assert bomb.stat().st_size < 50_000  # a few kB that declare 5 MB
    monkeypatch.setenv("RAG_MAX_RESTORE_MB", "1")
    result = _rag(tmp_path / "fresh", "restore", str(bomb))
    assert result.exit_code == 1 and "RAG_MAX_RESTORE_MB" in result.output, result.output
    assert not (tmp_path / "fresh" / "images").exists()


def test_an_empty_backup_file_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tar"
    empty.write_bytes(b"")
    result = _rag(tmp_path / "d", "restore", str(empty))
    assert result.exit_code == 1 and "not an mmrag backup" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
