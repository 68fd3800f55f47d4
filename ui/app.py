"""The Gradio Blocks app: Chat, Search and Library tabs over one `Backend`.

Named API endpoints (usable from `gradio_client`): /ask, /search, /ingest, /documents,
/delete, /reindex, /tag. Binds to 127.0.0.1 by default; `allowed_paths` stays empty, so
only uploads, exports and Gradio's own cache are ever served.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.formats import UPLOAD_EXTENSIONS
from rag.core.config import Settings
from rag.core.errors import ConfigError, RagError
from rag.core.records import Hit, Modality
from rag.search.query_image import load_query_image
from ui.backend import DOC_COLUMNS, FILE_COLUMNS, HIT_COLUMNS, Backend
from ui.guard import LoginBackoff, RequestGuard, allowed_hosts

UPLOAD_TYPES = UPLOAD_EXTENSIONS  # the one format table: what ingestion opens, the app takes


def _text(content: Any) -> str:
    """A chat message's text: a string, or Gradio 6's list of parts (text parts joined,
    files left out)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        ]
        return "\n".join(filter(None, parts))
    return ""


def _history(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Chatbot messages -> (question, answer) turns for follow-up rewriting."""
    turns, question = [], None
    for m in messages:
        text = _text(m.get("content"))
        if m.get("role") == "user" and text:
            question = text
        elif m.get("role") == "assistant" and question is not None:
            turns.append((question, text))
            question = None
    return turns


def _open(backend: Backend, hits: list[Hit], query: str, evt: gr.SelectData) -> tuple[Any, ...]:
    """The clicked thumbnail's source, large; recordings as a clip of the cited range."""
    if not isinstance(evt.index, int) or evt.index >= len(hits):
        return None, "", None, None
    return backend.view(hits[evt.index], query)


def _chat_tab(backend: Backend) -> None:
    cited = gr.State([])
    asked = gr.State("")
    with gr.Row():
        with gr.Column(scale=3):
            chat = gr.Chatbot(label="Answer", height=480, elem_id="chat")
            box = gr.MultimodalTextbox(
                placeholder="Ask about your documents… (optionally attach an image)",
                file_types=["image"],
                file_count="single",
                sources=["upload"],
                show_label=False,
                elem_id="question",
            )
            clear = gr.Button("Clear conversation", elem_id="clear")
        with gr.Column(scale=2):
            sources = gr.Gallery(
                label="Sources (click to open)",
                columns=3,
                height=240,
                allow_preview=False,
                elem_id="sources",
            )
            large = gr.Image(label="Source", interactive=False, elem_id="source-view")
            sound = gr.Audio(label="Cited audio", interactive=False, elem_id="source-audio")
            clip = gr.Video(label="Cited video", interactive=False, elem_id="source-video")
            page_text = gr.Markdown(elem_id="source-text")

    def respond(message: dict[str, Any], messages: list[dict[str, Any]]):
        text = (message or {}).get("text", "").strip()
        files = (message or {}).get("files") or []
        messages = list(messages or [])
        turns = _history(messages)
        if not text:
            yield None, messages, [], [], ""
            return
        image = None
        if files:
            try:
                image = load_query_image(Path(files[0]))
            except RagError as exc:
                yield None, [*messages, {"role": "assistant", "content": str(exc)}], [], [], ""
                return
            messages.append({"role": "user", "content": {"path": files[0]}})
        messages.append({"role": "user", "content": text})
        for partial, gallery, hits in backend.ask(text, turns, image):
            yield None, [*messages, {"role": "assistant", "content": partial}], gallery, hits, text

    def open_source(hits: list[Hit], query: str, evt: gr.SelectData):
        return _open(backend, hits, query, evt)

    box.submit(respond, [box, chat], [box, chat, sources, cited, asked], api_name=False)
    sources.select(open_source, [cited, asked], [large, page_text, sound, clip], api_name=False)
    clear.click(
        lambda: ([], [], [], None, "", None, None),
        None,
        [chat, sources, cited, large, page_text, sound, clip],
        api_name=False,
    )


def _search_tab(backend: Backend) -> gr.Dropdown:
    found = gr.State([])
    with gr.Row():
        query = gr.Textbox(label="Query", scale=3, elem_id="search-query")
        image = gr.Image(label="Query image (qwen3-vl)", type="pil", scale=1, height=140)
    with gr.Row():
        documents = gr.Dropdown(
            label="Documents", multiselect=True, choices=[], allow_custom_value=True, scale=2
        )
        modalities = gr.CheckboxGroup([str(m) for m in Modality], label="Types", scale=2)
        tags = gr.Textbox(label="Tags (any of, comma separated)", scale=1)
    with gr.Row():
        after = gr.Textbox(label="Added after", placeholder="YYYY-MM-DD")
        before = gr.Textbox(label="Added before", placeholder="YYYY-MM-DD")
        top_k = gr.Slider(1, 50, value=5, step=1, label="Top k")
    go = gr.Button("Search", variant="primary", elem_id="search-go")
    status = gr.Markdown()
    table = gr.Dataframe(headers=HIT_COLUMNS, label="Hits", wrap=True, elem_id="hits")
    with gr.Row():
        pages = gr.Gallery(
            label="Pages",
            columns=5,
            height=300,
            allow_preview=False,
            scale=3,
            elem_id="search-pages",
        )
        exports = gr.File(
            label="Export (CSV, JSON)", file_count="multiple", scale=1, elem_id="exports"
        )
    with gr.Row():
        large = gr.Image(label="Page", interactive=False)
        with gr.Column():
            sound = gr.Audio(label="Cited audio", interactive=False)
            clip = gr.Video(label="Cited video", interactive=False)
            page_text = gr.Markdown(elem_id="search-page-text")

    go.click(
        backend.search,
        [query, image, documents, modalities, tags, after, before, top_k],
        [status, table, pages, exports, found],
        api_name="search",
    )

    def open_page(hits: list[Hit], text: str, evt: gr.SelectData):
        return _open(backend, hits, text, evt)

    pages.select(
        open_page,
        [found, query],
        [large, page_text, sound, clip],
        api_name=False,
    )
    return documents


def _library_tab(backend: Backend, pickers: gr.Dropdown) -> tuple[gr.Dataframe, Any]:
    files = gr.File(
        label="Upload documents (drop many at once)",
        file_count="multiple",
        file_types=UPLOAD_TYPES,
        type="filepath",
        elem_id="upload",
    )
    with gr.Row():
        tags = gr.Textbox(label="Tags for these files (comma separated)", scale=3)
        upload = gr.Button("Ingest", variant="primary", scale=1, elem_id="ingest")
    report = gr.Textbox(label="Result", lines=2, elem_id="ingest-report")
    per_file = gr.Dataframe(headers=FILE_COLUMNS, label="Files", wrap=True)
    docs = gr.Dataframe(headers=DOC_COLUMNS, label="Documents", wrap=True, elem_id="documents")
    with gr.Row():
        ref = gr.Textbox(label="Document (id or file name; click a row)", scale=2)
        new_tags = gr.Textbox(label="Tags (comma separated)", scale=2)
    with gr.Row():
        retag = gr.Button("Set tags")
        reindex = gr.Button("Re-index")
        remove = gr.Button("Delete", variant="stop")
    message = gr.Markdown()

    def ingest(paths: list[str] | None, tag_text: str, progress=gr.Progress()):  # noqa: B008
        return backend.ingest(paths, tag_text, lambda f, d: progress(f, desc=d))

    def pick(rows: Any, evt: gr.SelectData) -> tuple[str, str]:
        row = evt.row_value or []
        return (row[0], row[5]) if len(row) > 5 else ("", "")

    upload.click(ingest, [files, tags], [report, per_file, docs], api_name="ingest").then(
        lambda: gr.Dropdown(choices=backend.document_choices()), None, pickers, api_name=False
    )
    docs.select(pick, docs, [ref, new_tags], api_name=False)
    retag.click(backend.retag, [ref, new_tags], [message, docs], api_name="tag")
    reindex.click(backend.reindex, [ref], [message, docs], api_name="reindex")
    remove.click(backend.delete, [ref], [message, docs], api_name="delete")
    return docs, upload


def build_app(backend: Backend) -> gr.Blocks:
    with gr.Blocks(title="mmrag") as app:
        gr.Markdown("# mmrag — ask your documents")
        with gr.Tab("Chat", id="chat-tab"):
            _chat_tab(backend)
        with gr.Tab("Search", id="search-tab"):
            pickers = _search_tab(backend)
        with gr.Tab("Library", id="library-tab"):
            docs, _ = _library_tab(backend, pickers)

        app.load(backend.documents, None, docs, api_name="documents")
        app.load(
            lambda: gr.Dropdown(choices=backend.document_choices()), None, pickers, api_name=False
        )

        ask_in = gr.Textbox(visible=False)
        ask_out = gr.Textbox(visible=False)
        ask_gallery = gr.Gallery(visible=False)

        def ask(text: str):
            for answer, gallery, _ in backend.ask(text):
                yield answer, gallery

        ask_in.submit(ask, ask_in, [ask_out, ask_gallery], api_name="ask")
    return app


def logins(settings: Settings) -> list[tuple[str, str]] | None:
    """Allowed (user, password) pairs from RAG_UI_AUTH and RAG_UI_AUTH_FILE; None: no login."""
    lines = [settings.ui_auth.get_secret_value()] if settings.ui_auth else []
    if settings.ui_auth_file:
        try:
            lines += settings.ui_auth_file.read_text().splitlines()
        except OSError as exc:
            raise ConfigError(f"Cannot read RAG_UI_AUTH_FILE: {exc}") from exc
    pairs = []
    for line in filter(None, (raw.strip() for raw in lines)):
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise ConfigError("A login must look like 'user:password'.")
        pairs.append((user, password))
    return pairs or None


def launch(
    backend: Backend,
    host: str,
    port: int,
    max_upload_mb: float,
    auth: list[tuple[str, str]] | None,
    block: bool = True,
    hosts: set[str] | None = None,
) -> gr.Blocks:
    """Queue with bounded concurrency and size, upload cap, optional login; no extra paths;
    `RequestGuard` outermost (`hosts`: the served host names, default `host` + localhost)."""
    app = build_app(backend)
    app.queue(default_concurrency_limit=4, max_size=64)
    with _guarded(hosts or allowed_hosts(host, ""), LoginBackoff()):
        app.launch(
            server_name=host,
            server_port=port,
            max_file_size=f"{max_upload_mb:g}mb",
            auth=auth,
            prevent_thread_lock=not block,
            show_error=True,
            quiet=True,
        )
    return app


@contextmanager
def _guarded(hosts: set[str], backoff: LoginBackoff) -> Iterator[None]:
    """Put `RequestGuard` outside every layer of the app Gradio builds in `launch`.

    Gradio adds its own CORS layer last, outermost, and offers no hook outside it (its
    `app_kwargs` middleware ends up inside), so its app factory is wrapped while this
    one launch runs.
    """
    create_app = gr.routes.App.create_app

    def create_guarded(*args: Any, **kwargs: Any) -> Any:
        made = create_app(*args, **kwargs)
        made.add_middleware(RequestGuard, hosts=hosts, backoff=backoff)
        return made

    gr.routes.App.create_app = create_guarded  # type: ignore[method-assign]
    try:
        yield
    finally:
        gr.routes.App.create_app = create_app  # type: ignore[method-assign]
