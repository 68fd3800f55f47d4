"""Chromium against the app, with documents that try to make the browser fetch from a
loopback listener: images in Markdown (inline, nested, reference-style), HTML and SVG,
in page text, a Markdown file, an HTML file and a PDF title. In Chat, Search and the
source view, on the extractive path and with a generator that echoes the documents back,
the listener gets no request and the page holds no element pointing at it."""

import json
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pymupdf
import pytest
from conftest import free_port
from playwright.sync_api import Page, expect, sync_playwright

from rag import RAG, Settings
from ui.app import launch
from ui.backend import Backend

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
QUESTION = "When do the zebras migrate?"


class Listener(BaseHTTPRequestHandler):
    """The outside server the documents point at; counts every request it gets."""

    requests: list[str] = []  # noqa: RUF012 (one listener per test, reset by the fixture)

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class FakeEchoGenerator(BaseHTTPRequestHandler):
    """A fake OpenAI-compatible server (no package provides one that repeats its prompt):
    it streams the prompt's last message back, as a model that obeys injected text would."""

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        echoed = str(request["messages"][-1]["content"])
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for start in range(0, len(echoed), 40):
            delta = {"choices": [{"index": 0, "delta": {"content": echoed[start : start + 40]}}]}
            self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def _injections(at: str) -> str:
    return (
        f"Zebras migrate in spring. ![a](http://{at}/inline.png) "
        f"![b [nested] c](http://{at}/nested.png) ![r][ref] "
        f'<img src="http://{at}/tag.png"> <svg><image href="http://{at}/svg.png"/></svg> '
        f"[link](http://{at}/link)\n\n[ref]: http://{at}/reference.png\n"
    )


def _documents(folder: Path, at: str) -> list[Path]:
    pdf = folder / "zebra-report.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_textbox(pymupdf.Rect(40, 40, 560, 800), _injections(at), fontsize=10)
    doc.set_metadata({"title": f"![t](http://{at}/title.png) Zebra report"})
    doc.save(pdf)
    markdown = folder / "zebra-notes.md"
    markdown.write_text(f"# Zebra notes\n\n{_injections(at)}")
    page = folder / "zebra-page.html"
    page.write_text(f"<html><body><p>{_injections(at)}</p><img src='http://{at}/html.png'>")
    return [pdf, markdown, page]


@pytest.fixture
def listener() -> Iterator[str]:
    Listener.requests = []
    yield from _serve(Listener)


@pytest.fixture(params=["extractive", "echoing generator"])
def app_url(request, tmp_path: Path, embedder, listener: str, monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    generator = _serve(FakeEchoGenerator) if request.param != "extractive" else None
    extra = {}
    if generator is not None:
        extra = {"generator_url": f"http://{next(generator)}/v1", "generator_model": "echo"}
    settings = Settings(data_dir=tmp_path / "data", **extra)
    rag = RAG(settings, embedder=embedder)
    assert rag.ingest(_documents(tmp_path, listener)).count("ingested") == 3
    port = free_port()
    app = launch(Backend(rag), "127.0.0.1", port, 50, None, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()
        rag.close()
        if generator is not None:
            generator.close()


@pytest.fixture
def page(app_url: str) -> Iterator[Page]:
    expect.set_options(timeout=120_000)  # events, not fixed waits: a loaded 2-core machine
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.set_default_timeout(120_000)
        tab.goto(app_url, wait_until="domcontentloaded")
        tab.wait_for_selector("#question textarea")
        try:
            yield tab
        finally:
            browser.close()


def _no_element_points_at(page: Page, at: str) -> None:
    for selector in (f'img[src*="{at}"]', f'a[href*="{at}"]', f'image[href*="{at}"]'):
        assert page.locator(selector).count() == 0, selector


@pytest.mark.slow
def test_nothing_a_document_says_makes_the_browser_fetch(page: Page, listener: str) -> None:
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#question textarea").press("Enter")
    thumbs = page.locator("#sources button.thumbnail-item")
    expect(thumbs.first).to_be_visible()
    expect(page.locator('#chat [data-testid="bot"]').last).to_contain_text("Zebras migrate")
    _no_element_points_at(page, listener)
    for i in range(thumbs.count()):
        thumbs.nth(i).click()
        expect(page.locator("#source-text")).to_contain_text("Zebras migrate")
        _no_element_points_at(page, listener)

    page.locator('button[role="tab"][data-tab-id="search-tab"]').click()
    page.locator("#search-query textarea").fill("zebras migrate in spring")
    page.click("#search-go")
    expect(page.locator('#hits [role="gridcell"]', has_text="zebra").first).to_be_visible()
    pages = page.locator("#search-pages button.thumbnail-item")
    expect(pages.first).to_be_visible()
    pages.first.click()
    expect(page.locator("#search-page-text")).to_contain_text("Zebras migrate")
    _no_element_points_at(page, listener)
    time.sleep(1)  # a request the browser had queued would arrive within this
    assert Listener.requests == []
