"""The web app through gradio_client against a launched app: upload, list, search, ask, delete."""

import json
import urllib.request
from pathlib import Path

import pytest
from conftest import SAMPLE_PDFS, free_port
from gradio_client import Client, handle_file

from rag import RAG, Settings
from ui.app import launch
from ui.backend import Backend


@pytest.fixture
def client(tmp_path: Path, embedder, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    port = free_port()
    rag = RAG(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    app = launch(Backend(rag), "127.0.0.1", port, 50, None, block=False)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False), port
    finally:
        app.close()
        rag.close()


def test_upload_list_search_ask_delete(client) -> None:
    c, _ = client
    report, docs = c.predict([handle_file(str(SAMPLE_PDFS[2]))], "manual", api_name="/ingest")
    assert "Ingested 1" in report
    assert docs["data"][0][1] == SAMPLE_PDFS[2].name and docs["data"][0][3] == "done"
    note, hits, gallery = c.predict(
        "How do I install R packages into a personal library?",
        None,
        "tag=manual",
        3,
        api_name="/search",
    )
    assert note == "3 hit(s)." and hits["data"][0][2] == SAMPLE_PDFS[2].name and gallery
    answer, cited = c.predict("How do I set up a package repository?", api_name="/ask")
    assert "[1]" in answer and "Sources" in answer and cited
    report, docs = c.predict(SAMPLE_PDFS[2].name, api_name="/delete")
    assert report.startswith("Deleted") and docs["data"] in ([], [[None] * 7])


def test_the_app_serves_no_files_outside_its_uploads(client, tmp_path: Path) -> None:
    _, port = client
    secret = tmp_path / "data" / "catalog.sqlite3"
    for path in (str(secret), "../../etc/passwd", "/etc/passwd"):
        url = f"http://127.0.0.1:{port}/gradio_api/file={path}"
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url, timeout=10)
        assert info.value.code in (403, 404)


def test_the_api_lists_its_named_endpoints(client) -> None:
    c, _ = client
    names = set(json.loads(json.dumps(c.view_api(return_format="dict")))["named_endpoints"])
    assert {"/ask", "/search", "/ingest", "/documents", "/delete"} <= names
