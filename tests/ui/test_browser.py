"""The web app in a real browser: Playwright driving Debian's Chromium (no browser download).

Upload a PDF in the Library, watch it get listed, ask in the Chat and see the answer
stream from a real OpenAI-compatible server (llama.cpp + SmolLM2), see the cited pages'
thumbnails, open one large, attach an image to a question, and export search hits.
Screenshots go to test-artifacts/browser/ (docs/screenshot-chat.png in the README is one).
"""

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SAMPLE_PDFS, free_port
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright

from rag import RAG, Settings
from ui.app import launch
from ui.backend import Backend

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture
def app_url(tmp_path: Path, embedder, llama_server, monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    settings = Settings(
        data_dir=tmp_path / "data",
        generator_url=llama_server.url,
        generator_model=llama_server.model,
        generator_max_tokens=64,
    )
    rag = RAG(settings, embedder=embedder)
    port = free_port()
    app = launch(Backend(rag), "127.0.0.1", port, 50, None, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()
        rag.close()


@pytest.fixture
def page(app_url: str) -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "the browser test needs Debian's chromium (apt-get install)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=120_000)  # a loaded 2-core machine: wait for events, generously
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(120_000)
        tab = context.new_page()
        tab.goto(app_url, wait_until="domcontentloaded")
        tab.wait_for_selector("#question textarea")
        try:
            yield tab
        finally:
            browser.close()


def _open_tab(page: Page, tab_id: str) -> None:
    button = page.locator(f'button[role="tab"][data-tab-id="{tab_id}"]')
    button.click()
    expect(button).to_have_attribute("aria-selected", "true")


def _answer_lengths(page: Page, until: float) -> list[int]:
    """Poll the last bot message until the source thumbnails arrive with the final answer;
    distinct lengths on the way prove the answer streamed."""
    bot = page.locator('#chat [data-testid="bot"]').last
    expect(bot).to_be_visible()
    lengths: list[int] = []
    while time.monotonic() < until:
        lengths.append(len(bot.inner_text()))
        if page.locator("#sources button.thumbnail-item").count():
            break
        time.sleep(0.05)
    return lengths


def test_upload_ask_stream_and_open_a_source(page: Page, tmp_path: Path) -> None:
    _open_tab(page, "library-tab")
    page.locator('#upload input[type="file"]').set_input_files(str(SAMPLE_PDFS[2]))
    expect(page.locator("#upload td.filename")).to_have_count(1)
    page.click("#ingest")
    listed = page.locator('#documents [role="gridcell"]', has_text=SAMPLE_PDFS[2].name)
    expect(listed.first).to_be_visible()
    expect(page.locator("#ingest-report textarea")).to_have_value(re.compile("Ingested 1"))
    page.screenshot(path=str(SHOTS / "1-library.png"), full_page=True)

    _open_tab(page, "chat-tab")
    page.locator("#question textarea").fill("How do I install R packages into a personal library?")
    page.locator("#question textarea").press("Enter")
    lengths = _answer_lengths(page, time.monotonic() + 120)
    assert len(set(lengths)) >= 3, f"the answer did not stream: {sorted(set(lengths))}"
    expect(page.locator('#chat [data-testid="bot"]').last).to_contain_text(
        re.compile("Sources|Pages consulted")
    )
    thumbs = page.locator("#sources button.thumbnail-item")
    expect(thumbs.first).to_be_visible()
    thumbs.first.click()
    large = page.locator("#source-view img")
    expect(large).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('#source-view img');"
        " return i && i.complete && i.naturalWidth > 500 }"
    )
    expect(page.locator("#source-text")).to_contain_text("p.")
    page.screenshot(path=str(SHOTS / "2-chat.png"), full_page=True)

    query_image = tmp_path / "query.png"
    Image.new("RGB", (64, 64), "orange").save(query_image)
    page.locator('#question input[type="file"]').set_input_files(str(query_image))
    expect(page.locator("#question .thumbnail-item")).to_have_count(1)
    page.locator("#question textarea").fill("What does this page say about libraries?")
    page.locator('#question [data-testid="submit-button"]').click()
    expect(page.locator('#chat [data-testid="user"] img').last).to_be_visible()
    expect(page.locator('#chat [data-testid="bot"]').last).to_contain_text("image was not used")
    page.screenshot(path=str(SHOTS / "3-chat-with-image.png"), full_page=True)

    _open_tab(page, "search-tab")
    page.locator("#search-query textarea").fill("install R packages into a personal library")
    page.click("#search-go")
    expect(
        page.locator('#hits [role="gridcell"]', has_text=SAMPLE_PDFS[2].name).first
    ).to_be_visible()
    links = page.locator("#exports a[download]")
    expect(links).to_have_count(2)
    with page.expect_download() as download:
        links.first.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.read_text().startswith("source,page,score")
    page.screenshot(path=str(SHOTS / "4-search.png"), full_page=True)
