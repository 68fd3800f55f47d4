"""The server store path end to end: `RAG_QDRANT_URL` switches ingest, search, ask, tags,
delete, reindex, backup and restore to qdrant-client. No Qdrant server binary can be
installed here, so the URL is qdrant-client's own local mode (`path:DIR`), which runs
the same client calls; the cluster settings are checked against the client's request
model, which is what a server receives."""

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from conftest import SAMPLE_PDFS
from qdrant_client import models as qm
from typer.testing import CliRunner

from rag import RAG, Settings
from rag.cli import app
from rag.core.vectors import DenseSpec
from rag.storage.vectors.base import Schema
from rag.storage.vectors.server import collection_config

runner = CliRunner()
QUESTION = "perfect phylogeny haplotyping"


def _rag(data: Path, qdrant: Path | None, *args: str):
    where = ["--qdrant-url", f"path:{qdrant}"] if qdrant else []
    return runner.invoke(app, ["--data-dir", str(data), *where, *args])


def _state(data: Path, qdrant: Path | None) -> tuple[tuple[str, int], dict[str, tuple]]:
    """The best hit for the question, and every point's payload essentials: what a
    restore must bring back (lower ranks may swap between engines on equal scores)."""
    result = _rag(data, qdrant, "search", QUESTION, "--json")
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)[0]
    url = f"path:{qdrant}" if qdrant else None
    with RAG(Settings(data_dir=data, qdrant_url=url)) as rag:
        store = rag.services.store(with_embedder=False)
        points = {
            pid: (p["document_id"], p["page"], p["text"], p["image"], tuple(p["tags"]))
            for batch in store.scroll()
            for pid, p in batch
        }
    return (best["source"], best["page"]), points


def test_the_whole_api_runs_on_the_server_path(tmp_path: Path, embedder) -> None:
    with RAG(Settings(data_dir=tmp_path / "e"), embedder=embedder) as embedded:
        embedded.ingest(SAMPLE_PDFS[:2], tags=["papers"])
        reference = [h.unit_id for h in embedded.search(QUESTION, 5)]
    settings = Settings(data_dir=tmp_path / "d", qdrant_url=f"path:{tmp_path / 'q'}")
    with RAG(settings, embedder=embedder) as rag:
        report = rag.ingest(SAMPLE_PDFS[:2], tags=["papers"])
        assert report.failed == [] and rag.services.store().count() == rag.status().units > 0
        status = rag.status()
        assert status.store == "server local mode" and status.collection.startswith("pages@")
        first = rag.search(QUESTION, 3)
        # the engines compute MaxSim in different code: near-equal scores may swap, so the
        # best hit must agree and the rest come from the same few
        assert first[0].unit_id == reference[0] and {h.unit_id for h in first} <= set(reference)
        assert rag.search(QUESTION, 3, where=rag.filters(["tag=nothing"])) == []
        tagged = rag.set_tags(first[0].source, ["kept"])
        hits = rag.search(QUESTION, 5, where=rag.filters(["tag=kept"]))
        assert hits and {h.document_id for h in hits} == {tagged.id}
        answer = rag.ask("What is perfect phylogeny haplotyping?")
        assert answer.citations
        old = rag.services.collections.active()
        rag.reindex()
        assert (
            rag.services.collections.active() not in (None, old)
            and rag.services.collections.others() == []
        )
        assert rag.search(QUESTION, 1)[0].unit_id == reference[0]  # re-embedded, same best
        removed = rag.delete(first[0].source)
        assert rag.services.store().count(removed.id) == 0
        left = rag.services.store().count()
        assert left == sum(d.units for d in rag.documents()) > 0
        active = rag.services.collections.active()
    with RAG(settings, embedder=embedder) as reopened:  # the alias survives a restart
        assert (
            reopened.services.collections.active() == active
            and reopened.services.store().count() == left
        )
        assert reopened.search("pgfplots axis", 1)


def test_backup_and_restore_between_server_and_embedded_stores(tmp_path: Path) -> None:
    server, server_data = tmp_path / "q1", tmp_path / "d1"
    assert _rag(server_data, server, "ingest", *map(str, SAMPLE_PDFS[:2])).exit_code == 0
    expected = _state(server_data, server)
    archive = tmp_path / "server.tar"
    result = _rag(server_data, server, "backup", str(archive))
    assert result.exit_code == 0, result.output
    # server -> another server, server -> embedded, embedded -> server
    assert _rag(tmp_path / "d2", tmp_path / "q2", "restore", str(archive)).exit_code == 0
    assert _state(tmp_path / "d2", tmp_path / "q2") == expected
    assert _rag(tmp_path / "d3", None, "restore", str(archive)).exit_code == 0
    assert _state(tmp_path / "d3", None) == expected
    embedded_archive = tmp_path / "embedded.tar"
    assert _rag(tmp_path / "d3", None, "backup", str(embedded_archive)).exit_code == 0
    result = _rag(tmp_path / "d4", tmp_path / "q4", "restore", str(embedded_archive))
    assert result.exit_code == 0, result.output
    assert _state(tmp_path / "d4", tmp_path / "q4") == expected
    assert not (tmp_path / "d4" / "store").exists()  # the shard was only the source
    again = _rag(tmp_path / "d4", tmp_path / "q4", "restore", str(archive))
    assert again.exit_code == 1 and "--replace" in again.output
    assert (
        _rag(tmp_path / "d4", tmp_path / "q4", "restore", str(archive), "--replace").exit_code == 0
    )
    assert _state(tmp_path / "d4", tmp_path / "q4") == expected


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--qdrant-url", "http://127.0.0.1:9", "ingest", str(SAMPLE_PDFS[0])]
    )
    assert (
        result.exit_code == 1
        and "Cannot reach the Qdrant server at http://127.0.0.1:9" in result.output
    )
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("quantization", ["scalar", "binary", "none"])
def test_new_server_collections_carry_the_cluster_settings(quantization: str) -> None:
    settings = Settings(
        qdrant_url="http://qdrant:6333",
        qdrant_shards=6,
        qdrant_replicas=2,
        qdrant_write_consistency=2,
        qdrant_quantization=quantization,
    )
    schema = Schema("e", (DenseSpec("visual", 2048), DenseSpec("text", 384, multivector=True)))
    config = collection_config(schema, settings)
    body = qm.CreateCollection(  # the REST request qdrant-client sends from these arguments
        vectors=config.pop("vectors_config"),
        sparse_vectors=config.pop("sparse_vectors_config"),
        **config,
    )
    assert (body.shard_number, body.replication_factor, body.write_consistency_factor) == (6, 2, 2)
    assert body.on_disk_payload and all(v.on_disk for v in body.vectors.values())
    assert body.vectors["text"].multivector_config is not None
    assert body.sparse_vectors["sparse"].modifier == qm.Modifier.IDF
    kinds = {"scalar": qm.ScalarQuantization, "binary": qm.BinaryQuantization}
    if quantization == "none":
        assert body.quantization_config is None
    else:
        assert isinstance(body.quantization_config, kinds[quantization])
    assert Schema.from_json(body.metadata["mmrag_schema"]) == schema


def test_a_backup_with_damaged_points_fails_in_one_line_and_leaves_nothing_half_done(
    tmp_path: Path,
) -> None:
    assert _rag(tmp_path / "d1", tmp_path / "q1", "ingest", str(SAMPLE_PDFS[0])).exit_code == 0
    good, bad = tmp_path / "good.tar", tmp_path / "bad.tar"
    assert _rag(tmp_path / "d1", tmp_path / "q1", "backup", str(good)).exit_code == 0
    with tarfile.open(good) as source, tarfile.open(bad, "w") as damaged:
        for member in source.getmembers():
            data = source.extractfile(member) if member.isfile() else None
            if member.name.startswith("points/"):
                body = gzip.compress(b'{"id": "x", "dense": {"text": {"f32": "%%%"}}}\n')
                member.size, data = len(body), io.BytesIO(body)
            damaged.addfile(member, data)
    result = _rag(tmp_path / "d2", tmp_path / "q2", "restore", str(bad))
    assert result.exit_code == 1 and "points cannot be restored" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert json.loads(_rag(tmp_path / "d2", tmp_path / "q2", "list", "--json").stdout) == []
    status = json.loads(_rag(tmp_path / "d2", tmp_path / "q2", "status", "--json").stdout)
    assert status["collection"] is None and status["points"] == 0
