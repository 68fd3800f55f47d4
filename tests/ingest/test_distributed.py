"""`rag ingest --distributed` on a local Ray (2 CPUs here): the same documents, units,
points and answers as a local ingest; bad files fail alone; a second run skips all."""

import json
from pathlib import Path

import numpy as np
from conftest import SAMPLE_DATA, SAMPLE_PDFS
from typer.testing import CliRunner

from rag import RAG, Settings
from rag.cli import app
from rag.storage.vectors.base import PointRecord

runner = CliRunner()


def _points(data: Path) -> dict[str, PointRecord]:
    with RAG(Settings(data_dir=data)) as rag:
        store = rag.services.store(with_embedder=False)
        return {p.id: p for batch in store.points() for p in batch}


def test_distributed_ingest_matches_a_local_one(tmp_path: Path) -> None:
    # Ray batches units differently from a local run; the int8 encoder runs each passage
    # alone, so the vectors must still agree
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n not really")
    files = [*map(str, SAMPLE_PDFS[:2]), str(SAMPLE_DATA / "scanned-page.png"), str(broken)]
    local, spread = tmp_path / "local", tmp_path / "spread"
    assert runner.invoke(app, ["--data-dir", str(local), "ingest", *files]).exit_code == 3
    result = runner.invoke(
        app, ["--data-dir", str(spread), "ingest", "--distributed", "--tag", "t", *files]
    )
    assert result.exit_code == 3, result.output  # partial: the broken file failed alone
    assert f"failed: {broken}: not a readable PDF" in result.output
    assert "Ingested 3 document(s)" in result.output

    expected, got = _points(local), _points(spread)
    assert got.keys() == expected.keys()
    for pid, point in expected.items():
        for key in ("document_id", "page", "modality", "text", "image"):
            assert got[pid].payload[key] == point.payload[key], (pid, key)
        assert got[pid].payload["tags"] == ["t"] and got[pid].sparse == point.sparse
        for name, vectors in point.dense.items():  # equal up to thread-count rounding
            assert np.allclose(got[pid].dense[name], vectors, atol=1e-4), (pid, name)
    listed = json.loads(runner.invoke(app, ["--data-dir", str(spread), "list", "--json"]).stdout)
    statuses = {d["source"]: (d["status"], d["units"]) for d in listed}
    assert statuses["broken.pdf"] == ("failed", 0) and statuses["scanned-page.png"] == ("done", 1)

    question = ["search", "perfect phylogeny haplotyping", "--json"]
    hits = [
        [
            (h["source"], h["page"])
            for h in json.loads(runner.invoke(app, ["--data-dir", str(d), *question]).stdout)
        ]
        for d in (local, spread)
    ]
    assert hits[0] and hits[0][0] == hits[1][0]  # lower ranks may swap on near-equal scores

    again = runner.invoke(app, ["--data-dir", str(spread), "ingest", "--distributed", *files[:3]])
    assert again.exit_code == 0 and "skipped 3 already ingested" in again.output
    assert _points(spread).keys() == expected.keys()


def test_a_cluster_nobody_answers_at_is_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_RAY_ADDRESS", "127.0.0.1:9")  # Ray alone would retry for ever
    result = runner.invoke(
        app, ["--data-dir", str(tmp_path), "ingest", "--distributed", str(SAMPLE_PDFS[0])]
    )
    assert result.exit_code == 1 and "No Ray cluster answers at 127.0.0.1:9" in result.output
    assert len(result.output.strip().splitlines()) == 1
