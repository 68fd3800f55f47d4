"""The web app through gradio_client against a launched app: upload, list, search, ask, delete."""

import csv
import json
import subprocess
import sys
import urllib.request
import wave
from pathlib import Path

import gradio as gr
import pytest
from conftest import SAMPLE_DATA, SAMPLE_PDFS, free_port
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from rag import RAG, Settings
from rag.core.errors import ConfigError
from rag.storage.images import open_stored
from ui.app import _history, launch, logins
from ui.backend import Backend
from ui.clips import audio_clip, clip_range
from ui.safe_text import as_text


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
    report, files, docs = c.predict(
        [handle_file(str(SAMPLE_PDFS[2])), handle_file(str(SAMPLE_PDFS[0]))],
        "manual",
        api_name="/ingest",
    )
    assert "Ingested 2" in report
    assert [r[1] for r in files["data"]] == ["ingested", "ingested"]
    assert {r[2] for r in docs["data"]} == {SAMPLE_PDFS[2].name, SAMPLE_PDFS[0].name}
    assert {r[7] for r in docs["data"]} == {"done"}
    note, hits, gallery, exports = c.predict(
        "How do I install R packages into a personal library?",
        None,
        [],
        ["page"],
        "manual",
        "2000-01-01",
        "",
        3,
        api_name="/search",
    )
    assert note == "3 hit(s)." and hits["data"][0][5] == SAMPLE_PDFS[2].name and gallery
    csv_file, json_file = sorted(exports, key=lambda f: Path(f).suffix)
    rows = list(csv.DictReader(Path(csv_file).read_text().splitlines()))
    assert rows[0]["source"] == SAMPLE_PDFS[2].name and rows[0]["page"] == str(hits["data"][0][6])
    exported = json.loads(Path(json_file).read_text())
    assert exported["hits"][0]["explanation"]["retrievers"]
    answer, cited = c.predict("How do I set up a package repository?", api_name="/ask")
    assert "[1]" in answer and "Sources" in answer and cited
    report, docs = c.predict(SAMPLE_PDFS[2].name, api_name="/delete")
    assert report.startswith("Deleted") and [r[2] for r in docs["data"]] == [SAMPLE_PDFS[0].name]


def test_search_filters_narrow_the_hits(client) -> None:
    c, _ = client
    c.predict([handle_file(str(p)) for p in SAMPLE_PDFS[:3]], "", api_name="/ingest")
    question = "How do I install R packages into a personal library?"

    def sources(*filters) -> set[str]:
        _, hits, _, _ = c.predict(question, None, *filters, 10, api_name="/search")
        return {row[5] for row in hits["data"] if row[5]}

    admin = SAMPLE_PDFS[2].name
    assert sources([], [], "", "", "") == {admin}
    assert sources([], [], "", "", "2000-01-01") == set()  # added before 2000: nothing
    assert sources([], ["text"], "", "", "") == set()  # PDFs hold pages, not text units
    ids = {row[2]: row[0] for row in c.predict(api_name="/documents")["data"]}
    assert sources([ids[SAMPLE_PDFS[0].name]], [], "", "", "") <= {SAMPLE_PDFS[0].name}
    message, _ = c.predict(admin, "manuals, q3", api_name="/tag")
    assert "manuals, q3" in message
    assert sources([], [], "q3", "", "") == {admin}
    assert sources([], [], "slides", "", "") == set()
    bad, hits, _, _ = c.predict(question, None, [], [], "", "last week", "", 3, api_name="/search")
    assert "not a date" in bad and not hits["data"]


def test_reindex_reads_the_kept_upload_again(client, tmp_path: Path) -> None:
    c, _ = client
    c.predict([handle_file(str(SAMPLE_PDFS[0]))], "deck", api_name="/ingest")
    message, docs = c.predict(SAMPLE_PDFS[0].name, api_name="/reindex")
    assert message.startswith("Ingested 1") and docs["data"][0][5] == "deck"
    kept = list((tmp_path / "data" / "uploads").rglob(SAMPLE_PDFS[0].name))
    assert len(kept) == 1
    c.predict(SAMPLE_PDFS[0].name, api_name="/delete")
    assert not kept[0].exists()


def test_a_source_opens_large_with_the_matched_words_marked(tmp_path: Path, embedder) -> None:
    rag = RAG(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    backend = Backend(rag)
    backend.ingest([str(SAMPLE_PDFS[2])])
    query = "personal library packages"
    *_, hits = backend.search(query, top_k=1)
    image, text, sound, video = backend.view(hits[0], query)
    plain = open_stored(hits[0].image_path)
    assert image.size == plain.size and image.tobytes() != plain.tobytes()
    assert "matching word(s) marked" in text and as_text(hits[0].title) in text  # escaped
    assert sound is None and video is None  # a page has no recording to play
    rag.close()


def test_logins_come_from_the_variable_and_the_file(tmp_path: Path) -> None:
    creds = tmp_path / "logins.txt"
    creds.write_text("ann:secret1\n\nbob:secret2\n")
    settings = Settings(data_dir=tmp_path, ui_auth="root:pw", ui_auth_file=creds)
    assert logins(settings) == [("root", "pw"), ("ann", "secret1"), ("bob", "secret2")]
    assert logins(Settings(data_dir=tmp_path)) is None
    creds.write_text("no-colon\n")
    with pytest.raises(ConfigError, match="user:password"):
        logins(Settings(data_dir=tmp_path, ui_auth_file=creds))


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
    assert {"/ask", "/search", "/ingest", "/documents", "/delete", "/reindex", "/tag"} <= names


def test_the_cli_beside_a_running_app_fails_cleanly(client, tmp_path: Path) -> None:
    """The app holds the embedded store; `rag ingest` from a shell stops with one line."""
    c, _ = client
    c.predict([handle_file(str(SAMPLE_PDFS[0]))], "", api_name="/ingest")
    rag = [str(Path(sys.executable).parent / "rag"), "--data-dir", str(tmp_path / "data")]
    done = subprocess.run([*rag, "ingest", str(SAMPLE_PDFS[1])], capture_output=True, text=True)
    assert done.returncode == 1
    assert "open in another process" in done.stderr and "Traceback" not in done.stderr
    listed = subprocess.run([*rag, "list"], capture_output=True, text=True)
    assert listed.returncode == 0 and SAMPLE_PDFS[0].name in listed.stdout
    status = subprocess.run([*rag, "status", "--json"], capture_output=True, text=True)
    assert status.returncode == 0 and json.loads(status.stdout)["store_busy"] is True
    _, docs = c.predict(SAMPLE_PDFS[0].name, "still-fine", api_name="/tag")
    assert [r[2] for r in docs["data"]] == [SAMPLE_PDFS[0].name]  # nothing half-written


def test_uploads_of_other_types_are_refused(client, tmp_path: Path) -> None:
    c, _ = client
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ" + bytes(200))
    with pytest.raises(AppError, match="Invalid file type"):
        c.predict([handle_file(str(program))], "", api_name="/ingest")
    assert c.predict(api_name="/documents")["data"] in ([], [[None] * 9])


def test_follow_ups_see_the_conversation_as_gradio_hands_it_over() -> None:
    """Gradio 6 gives the handler messages as lists of content parts (its own
    postprocess -> preprocess round trip here); the turns must survive it."""
    chat = gr.Chatbot()
    shown = [
        {"role": "user", "content": "What does the regression plot show?"},
        {"role": "assistant", "content": "A rising line [1]."},
        {"role": "user", "content": {"path": str(SAMPLE_DATA / "scanned-page.png")}},
        {"role": "user", "content": "Which state is the outlier?"},
        {"role": "assistant", "content": "Nevada [2]."},
    ]
    handed = chat.preprocess(chat.postprocess(shown))
    assert isinstance(handed[0]["content"], list)  # the shape the handler really gets
    assert _history(handed) == [
        ("What does the regression plot show?", "A rising line [1]."),
        ("Which state is the outlier?", "Nevada [2]."),
    ]


def test_a_cited_moment_plays_at_least_eight_seconds_centred_on_it(tmp_path: Path) -> None:
    assert clip_range(27.0, 27.0) == (23.0, 31.0)
    assert clip_range(1.0, 1.1) == (0.0, 8.0)  # never before the start of the file
    assert clip_range(10.0, 40.0) == (10.0, 40.0)
    out = audio_clip(
        SAMPLE_DATA / "gettysburg-address.mp3", *clip_range(5.0, 5.0), tmp_path / "c.wav"
    )
    with wave.open(str(out)) as clip:
        assert clip.getnframes() / clip.getframerate() == pytest.approx(8.0, abs=0.2)
