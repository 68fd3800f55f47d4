"""Symbolic links inside folders are not followed unless asked, and are reported; a file
named directly through a link is taken, and the summary says where it led."""

import json
from pathlib import Path

from conftest import SAMPLE_PDFS
from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()


def _folder_with_links(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0:zebra secret account:/root:/bin/bash\n")
    folder = tmp_path / "downloaded"
    folder.mkdir()
    (folder / "notes.md").write_text("# Notes\n\nZebras migrate in spring.\n")
    (folder / "passwd.txt").symlink_to(outside / "secret.txt")
    (folder / "more").symlink_to(outside, target_is_directory=True)
    return folder


def _rag(data: Path, *args: str):
    return runner.invoke(app, ["--data-dir", str(data), *args])


def test_links_inside_a_folder_are_skipped_and_reported(tmp_path: Path) -> None:
    folder, data = _folder_with_links(tmp_path), tmp_path / "data"
    result = _rag(data, "ingest", str(folder))
    assert result.exit_code == 0, result.output
    assert f"skipped: {folder / 'passwd.txt'}: a symbolic link" in result.stdout
    assert f"skipped: {folder / 'more'}: a symbolic link" in result.stdout
    listed = json.loads(_rag(data, "list", "--json").stdout)
    assert [d["source"] for d in listed] == ["notes.md"]
    hits = json.loads(_rag(data, "search", "zebra secret account", "--json").stdout)
    assert all(h["source"] == "notes.md" for h in hits)


def test_follow_links_takes_them_and_a_link_loop_ends(tmp_path: Path) -> None:
    folder, data = _folder_with_links(tmp_path), tmp_path / "data"
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    result = _rag(data, "ingest", str(folder), "--follow-links")
    assert result.exit_code == 0, result.output
    listed = sorted(d["source"] for d in json.loads(_rag(data, "list", "--json").stdout))
    # passwd.txt and more/secret.txt are the same bytes: one document, under either name
    assert listed[0] == "notes.md" and listed[1:] in (["passwd.txt"], ["secret.txt"])


def test_a_file_named_through_a_link_is_taken_and_reported(tmp_path: Path) -> None:
    link = tmp_path / "talk.pdf"
    link.symlink_to(SAMPLE_PDFS[0])
    result = _rag(tmp_path / "data", "ingest", str(link))
    assert result.exit_code == 0, result.output
    assert f"through a symbolic link to {SAMPLE_PDFS[0].resolve()}" in result.stdout
