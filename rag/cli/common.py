"""What every command shares: the settings from the global options, the consoles, and
how a `RagError` becomes one red line and an exit code."""

from dataclasses import dataclass

import typer
from rich.console import Console
from rich.markup import escape

from rag.app.facade import RAG
from rag.core.config import Settings
from rag.core.errors import RagError

EXIT_ERROR = 1
EXIT_PARTIAL = 3
FILTER_OPTION = typer.Option(
    "--filter",
    "-f",
    help="key=value, repeatable: doc=NAME|ID, modality=page, tag=T, after=DATE, before=DATE.",
)
out = Console(highlight=False, soft_wrap=True)  # results
err = Console(stderr=True, highlight=False)  # progress, notices, errors


@dataclass
class _State:
    settings: Settings | None = None


state = _State()


def settings() -> Settings:
    """The settings the global options chose (set by the callback before any command)."""
    assert state.settings is not None
    return state.settings


def open_rag() -> RAG:
    """The facade for a command; a data directory that cannot be used is one red line."""
    try:
        return RAG(settings())
    except RagError as exc:
        raise fail(exc) from exc


def fail(exc: RagError) -> typer.Exit:
    err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)  # one line, unwrapped
    return typer.Exit(EXIT_ERROR)
