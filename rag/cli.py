"""The `rag` command line: a thin typed layer over the Python API.

Results go to stdout (tables, or JSON with --json); progress, notices and errors go to
stderr. Exit codes: 0 success, 1 error, 2 usage error, 3 partial failure (some files of
an ingest failed, the others were ingested).
"""

import json
import os
import re
import signal
import threading
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
from rag.records import FileOutcome, Hit, IngestReport

EXIT_ERROR = 1
EXIT_PARTIAL = 3
NOT_FOUND = "Nothing in the documents matches (best similarity below the relevance threshold)."
FILTER_OPTION = typer.Option(
    "--filter",
    "-f",
    help="key=value, repeatable: doc=NAME|ID, modality=page, tag=T, after=DATE, before=DATE.",
)

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
) -> None:
    """Settings come from RAG_* environment variables; these options override them."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    given = {
        "data_dir": data_dir,
        "profile": profile,
        "collection": collection,
        "qdrant_url": qdrant_url,
    }
    overrides = {k: v for k, v in given.items() if v}
    try:
        state.settings = Settings.load(**overrides)
    except RagError as exc:
        raise _fail(exc) from exc


def _open() -> RAG:
    return RAG(state.settings)


def _fail(exc: RagError) -> typer.Exit:
    err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)  # one line, unwrapped
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


class _FlowBars(_Bars):
    """Distributed ingest: documents arrive interleaved, so one bar counts all units."""

    def __init__(self, progress: Progress, files: int) -> None:
        super().__init__(progress, files)
        self.units = progress.add_task("units", total=None)

    def file_started(self, path: Path, units: int) -> None:
        """Units of many files arrive at once: the shared bar counts them."""


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
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="Only files under folders matching this glob."),
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Skip files matching this glob.")
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="Password for encrypted PDFs.")
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep watching the folders for new files.")
    ] = False,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between --watch scans.")] = 2.0,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed", help="Render and embed on Ray Data (RAG_RAY_ADDRESS or a local Ray)."
        ),
    ] = False,
) -> None:
    """Ingest documents. Example: rag ingest reports/ slides.pptx --tag q3 --exclude '*draft*'"""
    from ingest.pipeline import discover

    if watch and distributed:
        raise typer.BadParameter("--watch and --distributed cannot be combined.")
    if password:
        state.settings = Settings.load(state.settings, pdf_password=password)
    with _open() as rag:
        try:
            if watch:
                report = _watch(rag, paths, tags or [], include or [], exclude or [], interval)
            else:
                files = discover(paths, include or [], exclude or [])
                with Progress(*_columns(), console=err, transient=True) as progress:
                    bars = (_FlowBars if distributed else _Bars)(progress, len(files))
                    report = rag.ingest(files, tags or [], bars, distributed)
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


def _columns() -> list:
    """Progress bar columns: what, bar, done/total, units/s, elapsed, ETA."""
    return [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]


def _watch(
    rag: RAG,
    paths: list[Path],
    tags: list[str],
    include: list[str],
    exclude: list[str],
    interval: float,
) -> IngestReport:
    """`--watch`: ingest as files arrive, one line per file, until Ctrl-C."""

    class Lines:
        def file_started(self, path: Path, units: int) -> None:
            err.print(f"ingesting {escape(path.name)} ({units} units)…")

        def units_done(self, count: int) -> None:
            pass

        def file_finished(self, outcome: FileOutcome) -> None:
            err.print(
                f"{outcome.status}: {escape(Path(outcome.path).name)} ({outcome.units} units)"
            )

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # finish the file in hand, then summarise
        signal.signal(sig, lambda *_: stop.set())
    err.print(f"Watching {', '.join(map(str, paths))} (Ctrl-C stops).")
    return rag.watch(paths, tags, stop, interval, include, exclude, Lines())


@app.command()
def search(
    query: Annotated[
        str, typer.Argument(help="What to look for (may be empty with --image).")
    ] = "",
    image: Annotated[
        Path | None, typer.Option("--image", help="Search by this image (qwen3-vl profile).")
    ] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, max=100)] = None,
    filters: Annotated[list[str] | None, FILTER_OPTION] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show each retriever's rank and score per hit.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print hits as JSON.")] = False,
) -> None:
    """Search the documents. Example: rag search "install packages" --filter tag=manual -k 3"""
    with _open() as rag:
        try:
            where = rag.filters(filters or [])
            hits = rag.search(query, top_k, where, image=image, explain=explain)
        except RagError as exc:
            raise _fail(exc) from exc
    if as_json:
        out.print_json(json.dumps([h.to_json() for h in hits], ensure_ascii=False))
    elif hits:
        table = Table("#", "score", "source", "page", "text", show_lines=explain)
        for i, h in enumerate(hits, 1):
            text = h.explanation.highlighted if h.explanation else h.text
            snippet = escape(text[:240] + ("…" if len(text) > 240 else ""))
            if h.explanation:
                snippet = re.sub(r"\*\*(.+?)\*\*", r"[bold yellow]\1[/bold yellow]", snippet)
                snippet += "\n[dim]" + escape(_explain_line(h)) + "[/dim]"
            table.add_row(str(i), f"{h.score:.4f}", escape(h.source), str(h.page), snippet)
        out.print(table)
    err.print(f"{len(hits)} hit(s)." if hits else NOT_FOUND)


def _explain_line(hit: Hit) -> str:
    e = hit.explanation
    assert e is not None
    parts = [
        f"{name}: rank {rank} ({score:.3f})" if rank else f"{name}: not in its top list"
        for name, (rank, score) in e.retrievers.items()
    ]
    parts.append(f"fused {e.fused_score:.4f}")
    if e.rerank_score is not None:
        parts.append(f"reranked {e.rerank_score:.3f}")
    if e.relevance is not None:
        parts.append(f"similarity {e.relevance:.3f}")
    return "; ".join(parts)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the documents.")],
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, max=100)] = None,
    filters: Annotated[list[str] | None, FILTER_OPTION] = None,
) -> None:
    """Answer with cited pages, streaming. Example: rag ask "How do I set up a repository?" """
    with _open() as rag:
        try:
            stream = rag.ask_stream(question, top_k=top_k, where=rag.filters(filters or []))
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
def reindex() -> None:
    """Re-embed every unit with the configured profile/model from the stored page images
    and texts (no re-rendering, no re-upload), then switch to the new collection.
    Example: RAG_PROFILE=qwen3-vl rag reindex"""
    with _open() as rag:
        try:
            with Progress(*_columns(), console=err, transient=True) as progress:
                task = progress.add_task("re-embedding", total=None)
                report = rag.reindex(
                    lambda done, total: progress.update(task, completed=done, total=total)
                )
        except RagError as exc:
            raise _fail(exc) from exc
    rate = report.points / report.seconds if report.seconds else 0.0
    err.print(
        f"Re-indexed {report.points} units with {escape(report.embedder)} in"
        f" {report.seconds:.1f} s ({rate:.1f} units/s); now using {report.collection}."
    )


@app.command()
def backup(
    out: Annotated[Path, typer.Argument(help="The tar file to write.")],
) -> None:
    """Back up catalog, store, page images and uploads to one tar file.
    Example: rag backup backups/mmrag-2026-11-23.tar"""
    with _open() as rag:
        try:
            manifest = rag.backup(out)
        except RagError as exc:
            raise _fail(exc) from exc
    size = out.stat().st_size / 1e6
    err.print(
        f"Backed up {manifest['documents']} document(s), {manifest['units']} units"
        f" to {escape(str(out))} ({size:.1f} MB)."
    )


@app.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(help="A tar file written by rag backup.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a data directory that holds documents.")
    ] = False,
) -> None:
    """Restore a backup into the data directory, then check points against the catalog.
    Example: rag --data-dir restored/ restore backups/mmrag-2026-11-23.tar"""
    with _open() as rag:
        try:
            manifest = rag.restore(backup_file, replace)
        except RagError as exc:
            raise _fail(exc) from exc
    err.print(
        f"Restored {manifest['documents']} document(s), {manifest['points']} points"
        f" into {escape(str(rag.settings.data_dir))}."
    )


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
    points = (
        "the store is open in another process"
        if info["store_busy"]
        else (f"{info['points']} point(s) in the store")
    )
    err.print(f"{info['documents']} document(s); {points}.")


@app.command("eval")
def evaluate_command(
    questions: Annotated[Path, typer.Argument(help="JSON lines: question, source, pages, kind.")],
    docs: Annotated[
        list[Path], typer.Option("--docs", help="Documents the questions are about.")
    ] = [Path("sample_data")],  # noqa: B006 (typer reads the default, never mutates it)
    profiles: Annotated[
        list[Profile] | None, typer.Option("--profile", help="Profile to run (repeatable).")
    ] = None,
    variants: Annotated[
        list[str] | None,
        typer.Option("--variant", help="hybrid-rrf, hybrid-dbsf, dense, sparse (repeatable)."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where results go.")] = Path(
        "eval/results"
    ),
) -> None:
    """Measure retrieval quality side by side. Example: rag eval eval/questions.jsonl"""
    from rag.evaluate import VARIANTS, evaluate, load_questions, markdown

    chosen = variants or list(VARIANTS)
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        raise _fail(RagError(f"Unknown variant(s) {unknown}; use {', '.join(VARIANTS)}."))
    s = state.settings
    try:
        items = load_questions(questions)
        with err.status(f"Evaluating {len(items)} questions…"):
            summaries = evaluate(
                items,
                [p for d in docs for p in (sorted(d.glob("*.pdf")) if d.is_dir() else [d])],
                profiles or [Profile.LITE],
                chosen,
                s,
                s.data_dir / "eval",
            )
    except RagError as exc:
        raise _fail(exc) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(summaries, indent=2))
    table = markdown(summaries)
    (out_dir / "results.md").write_text(table)
    out.print(table)
    err.print(
        f"{len(items)} questions x {len(summaries)} runs; written to {out_dir}/results.{{json,md}}."
    )


@app.command()
def ui(
    port: Annotated[int | None, typer.Option(help="Port (env RAG_UI_PORT).")] = None,
) -> None:
    """Start the web app (chat, search, library). Example: rag ui --port 7860"""
    try:
        from ui.app import launch, logins
        from ui.backend import Backend
    except ImportError as exc:
        raise _fail(
            RagError(f"The web app needs its extra: pip install 'mmrag[ui]' ({exc}).")
        ) from exc
    s = state.settings
    os.environ.setdefault("GRADIO_TEMP_DIR", str(s.data_dir / "gradio"))
    try:
        auth = logins(s)
    except RagError as exc:
        raise _fail(exc) from exc
    err.print(f"Serving on http://{s.ui_host}:{port or s.ui_port} (Ctrl-C stops).")
    with _open() as rag:
        launch(Backend(rag), s.ui_host, port or s.ui_port, s.ui_max_upload_mb, auth)
