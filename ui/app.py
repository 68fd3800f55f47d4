"""The Gradio Blocks app: Chat, Search and Library tabs over one `Backend`.

Named API endpoints (usable from `gradio_client`): /ask, /search, /ingest, /documents,
/delete. Binds to 127.0.0.1 by default; `allowed_paths` stays empty, so only uploads and
Gradio's own cache are ever served.
"""

from typing import Any

import gradio as gr

from ui.backend import DOC_COLUMNS, HIT_COLUMNS, Backend


def _history(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Chatbot messages -> (question, answer) turns for follow-up rewriting."""
    turns, question = [], None
    for m in messages:
        content = m.get("content")
        text = content if isinstance(content, str) else ""
        if m.get("role") == "user":
            question = text
        elif m.get("role") == "assistant" and question is not None:
            turns.append((question, text))
            question = None
    return turns


def build_app(backend: Backend) -> gr.Blocks:
    with gr.Blocks(title="mmrag") as app:
        gr.Markdown("# mmrag — ask your documents")
        with gr.Tab("Chat"):
            chat = gr.Chatbot(label="Answer", height=420)
            sources = gr.Gallery(label="Cited pages", columns=4, height=260)
            question = gr.Textbox(label="Question", placeholder="Ask about your documents…")
            with gr.Row():
                send = gr.Button("Ask", variant="primary")
                clear = gr.Button("Clear")

            def respond(text: str, messages: list[dict[str, Any]]):
                messages = list(messages or [])
                turns = _history(messages)
                messages.append({"role": "user", "content": text})
                for partial, gallery in backend.ask(text, turns):
                    yield "", [*messages, {"role": "assistant", "content": partial}], gallery

            send.click(respond, [question, chat], [question, chat, sources], api_name=False)
            question.submit(respond, [question, chat], [question, chat, sources], api_name=False)
            clear.click(lambda: ([], []), None, [chat, sources], api_name=False)

        with gr.Tab("Search"):
            with gr.Row():
                query = gr.Textbox(label="Query", scale=3)
                image = gr.Image(label="Query image (qwen3-vl)", type="pil", scale=1)
            with gr.Row():
                filters = gr.Textbox(
                    label="Filters", placeholder="tag=q3 doc=report.pdf after=2026-01-01"
                )
                top_k = gr.Slider(1, 50, value=5, step=1, label="Top k")
            go = gr.Button("Search", variant="primary")
            status = gr.Markdown()
            table = gr.Dataframe(headers=HIT_COLUMNS, label="Hits", wrap=True)
            pages = gr.Gallery(label="Pages", columns=5, height=300)
            go.click(
                backend.search,
                [query, image, filters, top_k],
                [status, table, pages],
                api_name="search",
            )

        with gr.Tab("Library"):
            files = gr.File(label="Upload documents", file_count="multiple", type="filepath")
            tags = gr.Textbox(label="Tags (comma separated)")
            upload = gr.Button("Ingest", variant="primary")
            report = gr.Textbox(label="Result", lines=3)
            docs = gr.Dataframe(headers=DOC_COLUMNS, label="Documents", wrap=True)
            with gr.Row():
                ref = gr.Textbox(label="Document id or file name")
                remove = gr.Button("Delete", variant="stop")
            upload.click(backend.ingest, [files, tags], [report, docs], api_name="ingest")
            remove.click(backend.delete, [ref], [report, docs], api_name="delete")
            app.load(backend.documents, None, docs, api_name="documents")

        ask_in = gr.Textbox(visible=False)
        ask_out = gr.Textbox(visible=False)
        ask_gallery = gr.Gallery(visible=False)

        def ask(text: str):
            yield from backend.ask(text)

        ask_in.submit(ask, ask_in, [ask_out, ask_gallery], api_name="ask")
    return app


def launch(
    backend: Backend,
    host: str,
    port: int,
    max_upload_mb: float,
    auth: tuple[str, str] | None,
    block: bool = True,
) -> gr.Blocks:
    """Queue with bounded concurrency and size, upload cap, optional login; no extra paths."""
    app = build_app(backend)
    app.queue(default_concurrency_limit=4, max_size=64)
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
