"""The `rag` process itself: killed with SIGKILL mid-ingestion and run again; `--watch`."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from conftest import SAMPLE_PDFS

RAG = str(Path(sys.executable).parent / "rag")


def _rag(data: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [RAG, "--data-dir", str(data), *args], capture_output=True, text=True, **kw
    )


def _units_written(catalog: Path) -> int:
    """Units the other process has recorded; 0 until its catalog has its tables (the file
    appears a moment before its schema does)."""
    if not catalog.exists():
        return 0
    try:
        with closing(sqlite3.connect(catalog, timeout=5)) as db:
            return db.execute("SELECT count(*) FROM units").fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise


def test_kill_9_mid_ingestion_then_rerun_is_complete_without_duplicates(tmp_path: Path) -> None:
    data = tmp_path / "data"
    pdfs = sorted(SAMPLE_PDFS, key=lambda p: p.stat().st_size, reverse=True)
    process = subprocess.Popen(
        [RAG, "--data-dir", str(data), "ingest", *map(str, pdfs)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _units_written(data / "catalog.sqlite3") < 16 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _units_written(data / "catalog.sqlite3") >= 16, "the kill came before any batch"

    again = _rag(data, "ingest", *map(str, pdfs))
    assert again.returncode == 0, again.stderr
    status = json.loads(_rag(data, "status", "--json").stdout)
    assert status["by_status"] == {"pending": 0, "done": len(pdfs), "failed": 0}
    assert status["points"] == status["units"]  # deterministic ids: no unit twice
    listed = json.loads(_rag(data, "list", "--json").stdout)
    assert sorted(d["units"] for d in listed) == sorted(_page_counts(pdfs))


def _page_counts(pdfs: list[Path]) -> list[int]:
    import pymupdf

    return [pymupdf.open(p).page_count for p in pdfs]


def test_watch_ingests_files_as_they_arrive_and_stops_cleanly(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE_PDFS[0], inbox)
    command = ["ingest", "--watch", str(inbox), "--interval", "0.5", "--tag", "inbox"]
    process = subprocess.Popen(
        [RAG, "--data-dir", str(tmp_path / "data"), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        catalog = tmp_path / "data" / "catalog.sqlite3"
        deadline = time.monotonic() + 120
        while _units_written(catalog) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        shutil.copy(SAMPLE_PDFS[2], inbox / "arrived-later.pdf")
        while time.monotonic() < deadline:
            listed = _rag(tmp_path / "data", "list", "--json")
            docs = json.loads(listed.stdout or "[]")
            if len(docs) == 2 and all(d["status"] == "done" for d in docs):
                break
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert {d["source"] for d in docs} == {SAMPLE_PDFS[0].name, "arrived-later.pdf"}
    assert all(d["tags"] == ["inbox"] for d in docs)
    assert "Ingested 2 document(s)" in err
