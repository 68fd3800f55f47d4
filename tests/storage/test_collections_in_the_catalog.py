"""Documents belong to a collection: the same file is new to a second collection, deleting
it there leaves it whole in the first (points, catalog row, page images), and page images
shared by both are freed only when the last user goes. Old catalogs are migrated."""

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from conftest import SAMPLE_PDFS
from typer.testing import CliRunner

from rag.cli import app
from rag.storage.catalog import Catalog

runner = CliRunner()
PDF = SAMPLE_PDFS[0]


def _rag(data: Path, collection: str, *args: str):
    return runner.invoke(app, ["--data-dir", str(data), "--collection", collection, *args])


def _images(data: Path) -> set[str]:
    return {p.name for p in (data / "images").glob("*/*")}


def test_a_document_belongs_to_its_collection(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert "Ingested 1 document(s)" in _rag(data, "x", "ingest", str(PDF)).output
    images = _images(data)
    second = _rag(data, "y", "ingest", str(PDF))
    assert "Ingested 1 document(s)" in second.output, second.output  # not "already ingested"
    assert _images(data) == images  # the same pages, stored once

    assert _rag(data, "y", "delete", PDF.name).exit_code == 0
    assert json.loads(_rag(data, "y", "list", "--json").stdout) == []
    kept = json.loads(_rag(data, "x", "list", "--json").stdout)
    assert [d["source"] for d in kept] == [PDF.name]
    status = json.loads(_rag(data, "x", "status", "--json").stdout)
    assert status["points"] == kept[0]["units"] > 0
    assert _images(data) == images  # still used by x
    hits = json.loads(_rag(data, "x", "search", "perfect phylogeny", "--json").stdout)
    assert hits and all(Path(h["image_path"]).exists() for h in hits if h["image_path"])

    assert _rag(data, "x", "delete", PDF.name).exit_code == 0
    assert _images(data) == set()


def test_a_catalog_from_before_collections_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(
            "CREATE TABLE documents (id TEXT PRIMARY KEY, source TEXT NOT NULL, path TEXT NOT"
            " NULL, media_type TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL, units"
            " INTEGER NOT NULL DEFAULT 0, tags TEXT NOT NULL DEFAULT '[]', added REAL NOT NULL,"
            " reason TEXT);"
            "CREATE TABLE units (document_id TEXT NOT NULL, idx INTEGER NOT NULL, point_id TEXT"
            " NOT NULL, image_key TEXT, PRIMARY KEY (document_id, idx));"
            "INSERT INTO documents VALUES ('d1', 'a.pdf', '/a.pdf', 'application/pdf', 'A',"
            " 'done', 1, '[]', 1.0, NULL);"
            "INSERT INTO units VALUES ('d1', 0, 'p1', NULL);"
        )
    catalog = Catalog(path, "pages")
    assert [(d.id, d.units) for d in catalog.documents()] == [("d1", 1)]
    assert catalog.point_ids("d1") == ["p1"] and catalog.words("d1", 0) == []
    assert Catalog(path, "other").documents() == []
