"""Writers started together on an empty data directory: one creates the store, the others
are told it is busy, and afterwards every document the catalog calls done has all its
points (before, both exited 0 and one's points were lost in a second collection)."""

import json
import subprocess
from pathlib import Path

import pytest
from conftest import RAG_CLI, SAMPLE_DATA, SAMPLE_PDFS

from rag import RAG, Settings
from rag.core.records import Status

WRITERS = 3


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(2))
def test_racing_writers_leave_catalog_and_store_in_agreement(tmp_path: Path, round_) -> None:
    data = tmp_path / "data"
    files = [SAMPLE_PDFS[0], SAMPLE_PDFS[1], SAMPLE_DATA / "LICENSES.md"][:WRITERS]
    racers = [
        subprocess.Popen(
            [*RAG_CLI, "--data-dir", str(data), "ingest", str(f)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in racers]
    assert any(code == 0 for code, _ in results), results
    for code, stderr in results:
        assert code == 0 or "open in another process" in stderr, stderr
    with RAG(Settings(data_dir=data)) as rag:
        done = [d for d in rag.documents() if d.status is Status.DONE]
        store = rag.services.store(with_embedder=False)
        assert done and all(store.count(d.id) == d.units > 0 for d in done)
        assert store.count() == sum(d.units for d in done)
        assert rag.services.collections.others() == []  # no second collection was made
    listed = json.loads(
        subprocess.run(
            [*RAG_CLI, "--data-dir", str(data), "list", "--json"], capture_output=True, text=True
        ).stdout
    )
    assert len(listed) == sum(code == 0 for code, _ in results)
