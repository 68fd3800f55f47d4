"""The `rag` command line: a thin typed layer over the Python API, a module per area.

Results go to stdout (tables, or JSON with --json); progress, notices and errors go to
stderr. Exit codes: 0 success, 1 error, 2 usage error, 3 partial failure (some files of
an ingest failed, the others were ingested).
"""

import os
from pathlib import Path
from typing import Annotated

import typer

from rag.cli import evaluate, ingest, library, search, web
from rag.cli.common import fail, state
from rag.core.config import Profile, Settings
from rag.core.errors import RagError

app = typer.Typer(
    name="rag",
    help="Multimodal RAG: ingest documents, search them, ask questions with cited pages.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (env RAG_DATA_DIR).", show_default=False)
    ] = None,
    profile: Annotated[
        Profile | None, typer.Option(help="Model profile (env RAG_PROFILE).", show_default=False)
    ] = None,
    collection: Annotated[
        str | None, typer.Option(help="Collection (env RAG_COLLECTION).", show_default=False)
    ] = None,
    qdrant_url: Annotated[
        str | None,
        typer.Option(
            help="Qdrant server instead of the embedded engine (env RAG_QDRANT_URL).",
            show_default=False,
        ),
    ] = None,
    env_file: Annotated[
        Path | None,
        typer.Option(
            help="A .env file of RAG_* settings (env RAG_ENV_FILE); default DATA_DIR/.env.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Settings come from RAG_* environment variables; these options override them."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    given = {
        "data_dir": data_dir,
        "profile": profile,
        "collection": collection,
        "qdrant_url": qdrant_url,
        "env_file": env_file,
    }
    overrides = {k: v for k, v in given.items() if v}
    try:
        state.settings = Settings.load(**overrides)
    except RagError as exc:
        raise fail(exc) from exc


app.command()(ingest.ingest)
app.command()(search.search)
app.command()(search.ask)
app.command("list")(library.list_documents)
app.command()(library.delete)
app.command()(library.reindex)
app.command()(library.backup)
app.command()(library.restore)
app.command()(library.status)
app.command("eval")(evaluate.evaluate_command)
app.command()(web.ui)
