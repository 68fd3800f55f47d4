"""The `rag` command line: a thin typed layer over the Python API.

Results go to stdout (tables, or JSON with --json); progress, notices and errors go to
stderr. Exit codes: 0 success, 1 error, 2 usage error, 3 partial failure (some files of
an ingest failed, the others were ingested).
"""

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from rag.api import RAG
from rag.config import Profile, Settings
from rag.errors import RagError
from rag.records import FileOutcome

EXIT_ERROR = 1
EXIT_PARTIAL = 3

app = typer.Typer(
    name="rag",
    help="Multimodal RAG: ingest documents, search them, ask questions with cited pages.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


class _State:
    settings: Settings


state = _State()


@app.callback()
def main(
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (env RAG_DATA_DIR).", show_default=False)
    ] = None,
    profile: Annotated[
        Profile | None, typer.Option(help="Model profile (env RAG_PROFILE).", show_default=False)
    ] = None,
) -> None:
    """Settings come from RAG_* environment variables; these options override them."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    overrides = {k: v for k, v in {"data_dir": data_dir, "profile": profile}.items() if v}
    state.settings = Settings(**overrides)


def _open() -> RAG:
    return RAG(state.settings)


def _fail(exc: RagError) -> typer.Exit:
    err.print(f"[red]Error:[/red] {escape(str(exc))}")
    return typer.Exit(EXIT_ERROR)


class _Bars:
    """Rich progress: one bar for files, one for the units of the current file."""

    def __init__(self, progress: Progress, files: int) -> None:
        self.progress = progress
        self.files = progress.add_task("files", total=files)
        self.units: TaskID | None = None

    def file_started(self, path: Path, units: int) -> None:
        if self.units is not None:
            self.progress.remove_task(self.units)
        self.units = self.progress.add_task(escape(path.name), total=units)

    def units_done(self, count: int) -> None:
        if self.units is not None:
            self.progress.advance(self.units, count)

    def file_finished(self, outcome: FileOutcome) -> None:
        self.progress.advance(self.files)


class _RateColumn(ProgressColumn):
    """Units per second of a task, blank until rich has measured a speed."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "", style="progress.data.speed")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (recursive).")],
    tags: Annotated[
        list[str] | None, typer.Option("--tag", "--tags", help="Tag to attach (repeatable).")
    ] = None,
) -> None:
    """Ingest documents. Example: rag ingest reports/ slides.pdf --tag q3"""
    from ingest.pipeline import discover

    with _open() as rag:
        try:
            files = discover(paths)
            columns = [
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            ]
            with Progress(*columns, console=err, transient=True) as progress:
                report = rag.ingest(files, tags or [], progress=_Bars(progress, len(files)))
        except RagError as exc:
            raise _fail(exc) from exc
    ingested, skipped, failed = (report.count(s) for s in ("ingested", "skipped", "failed"))
    for o in report.failed:
        out.print(f"failed: {escape(o.path)}: {escape(o.reason or '')}")
    rate = report.units / report.seconds if report.seconds else 0.0
    err.print(
        f"Ingested {ingested} document(s) ({report.units} units, {rate:.1f} units/s),"
        f" skipped {skipped} already ingested, failed {failed}, in {report.seconds:.1f} s."
    )
    if failed:
        raise typer.Exit(EXIT_PARTIAL if ingested or skipped else EXIT_ERROR)


@app.command()
def search(
    query: Annotated[
        str, typer.Argument(help="What to look for (may be empty with --image).")
    ] = "",
    image: Annotated[
        Path | None, typer.Option("--image", help="Search by this image (qwen3-vl profile).")
    ] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, max=100)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON.")] = False,
) -> None:
    """Search the documents. Example: rag search "install packages offline" --top-k 3"""
    with _open() as rag:
        try:
            hits = rag.search(query, top_k, image=image)
        except RagError as exc:
            raise _fail(exc) from exc
    if as_json:
        out.print_json(json.dumps([h.to_json() for h in hits], ensure_ascii=False))
    else:
        table = Table("#", "score", "source", "page", "text", show_lines=False)
        for i, h in enumerate(hits, 1):
            snippet = h.text[:160] + ("…" if len(h.text) > 160 else "")
            table.add_row(str(i), f"{h.score:.4f}", escape(h.source), str(h.page), escape(snippet))
        out.print(table)
    err.print(f"{len(hits)} hit(s).")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the documents.")],
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, max=100)] = None,
) -> None:
    """Answer with cited pages, streaming. Example: rag ask "How do I set up a repository?" """
    with _open() as rag:
        try:
            stream = rag.ask_stream(question, top_k=top_k)
            streamed = "".join(_echo(piece) for piece in stream)
        except RagError as exc:
            raise _fail(exc) from exc
    answer = stream.answer
    assert answer is not None
    if answer.text != streamed:  # the generator failed mid-way: show the fallback
        err.print(f"\n[yellow]{escape(answer.notice or '')}[/yellow]")
        out.print(escape(answer.text))
    else:
        out.print()
    if answer.citations:
        out.print("\nSources:")
        for c in answer.citations:
            out.print(f"  {escape(c.label())}")
    if answer.notice and answer.text == streamed:
        err.print(f"[yellow]{escape(answer.notice)}[/yellow]")
    kind = "generated" if answer.generated else "extractive"
    err.print(f"Answer ({kind}) cites {len(answer.citations)} source(s).")


def _echo(piece: str) -> str:
    out.print(escape(piece), end="")
    return piece


@app.command("list")
def list_documents(
    as_json: Annotated[bool, typer.Option("--json", help="Print documents as JSON.")] = False,
) -> None:
    """List ingested documents with their status. Example: rag list --json"""
    with _open() as rag:
        docs = rag.documents()
    if as_json:
        rows = [
            {
                "id": d.id,
                "source": d.source,
                "title": d.title,
                "media_type": d.media_type,
                "status": str(d.status),
                "units": d.units,
                "tags": d.tags,
                "added": d.added,
                "reason": d.reason,
            }
            for d in docs
        ]
        out.print_json(json.dumps(rows, ensure_ascii=False))
    else:
        table = Table("id", "source", "status", "units", "tags", "reason")
        for d in docs:
            table.add_row(
                d.id[:12],
                escape(d.source),
                str(d.status),
                str(d.units),
                escape(",".join(d.tags)),
                escape(d.reason or ""),
            )
        out.print(table)
    err.print(f"{len(docs)} document(s).")


@app.command()
def delete(
    document: Annotated[str, typer.Argument(help="Document id, id prefix or file name.")],
) -> None:
    """Delete a document with its points and images. Example: rag delete report.pdf"""
    with _open() as rag:
        try:
            doc = rag.delete(document)
        except RagError as exc:
            raise _fail(exc) from exc
    err.print(f"Deleted {escape(doc.source)} ({doc.id[:12]}, {doc.units} units).")


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print status as JSON.")] = False,
) -> None:
    """Show the data directory, profile, document and point counts. Example: rag status"""
    with _open() as rag:
        try:
            info = rag.status()
        except RagError as exc:
            raise _fail(exc) from exc
    if as_json:
        out.print_json(json.dumps(info))
    else:
        for key, value in info.items():
            out.print(f"{key:>16}: {escape(str(value))}")
    err.print(f"{info['documents']} document(s), {info['points']} point(s) in the store.")
