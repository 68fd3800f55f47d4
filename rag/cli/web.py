"""`rag ui`: the web app on this machine. The CLI is the outermost layer, so it may start
the app; the app never imports the CLI."""

import os
from typing import Annotated

import typer

from rag.cli.common import err, fail, open_rag, settings
from rag.core.errors import RagError


def ui(
    port: Annotated[int | None, typer.Option(help="Port (env RAG_UI_PORT).")] = None,
) -> None:
    """Start the web app (chat, search, library). Example: rag ui --port 7860"""
    try:
        from ui.app import launch, logins
        from ui.backend import Backend
        from ui.guard import allowed_hosts
    except ImportError as exc:
        raise fail(
            RagError(f"The web app needs its extra: pip install 'mmrag[ui]' ({exc}).")
        ) from exc
    s = settings()
    os.environ.setdefault("GRADIO_TEMP_DIR", str(s.data_dir / "gradio"))
    try:
        auth = logins(s)
    except RagError as exc:
        raise fail(exc) from exc
    err.print(f"Serving on http://{s.ui_host}:{port or s.ui_port} (Ctrl-C stops).")
    with open_rag() as rag:
        hosts = allowed_hosts(s.ui_host, s.ui_allowed_hosts)
        launch(Backend(rag), s.ui_host, port or s.ui_port, s.ui_max_upload_mb, auth, hosts=hosts)
