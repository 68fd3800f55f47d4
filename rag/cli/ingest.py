"""`rag ingest`: files and folders in, with progress bars and a one-line summary."""

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
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
from rich.text import Text

from ingest.discover import LINK_NOT_FOLLOWED, discover
from ingest.writer import ALREADY_INGESTED
from rag.app.facade import RAG
from rag.cli.common import EXIT_ERROR, EXIT_PARTIAL, err, fail, open_rag, out, settings, state
from rag.core.config import Settings
from rag.core.errors import RagError
from rag.core.records import FileOutcome, IngestReport


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
    keep_versions: Annotated[
        bool, typer.Option("--keep-versions", help="Keep earlier versions of changed files.")
    ] = False,
    follow_links: Annotated[
        bool, typer.Option("--follow-links", help="Follow symbolic links inside folders.")
    ] = False,
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
    if watch and distributed:
        raise typer.BadParameter("--watch and --distributed cannot be combined.")
    chosen = {
        "pdf_password": password,
        "follow_links": follow_links or None,
        "keep_versions": keep_versions or None,
    }
    if any(chosen.values()):
        given = {key: value for key, value in chosen.items() if value}
        state.settings = Settings.load(settings(), **given)
    with open_rag() as rag:
        try:
            if watch:
                report = _watch(rag, paths, tags or [], include or [], exclude or [], interval)
            else:
                found = discover(paths, include or [], exclude or [], rag.settings.follow_links)
                count = len(found.files) + len(found.skipped_links)
                with Progress(*columns(), console=err, transient=True) as progress:
                    bars = (_FlowBars if distributed else _Bars)(progress, count)
                    report = rag.ingest(found, tags or [], bars, distributed)
        except RagError as exc:
            raise fail(exc) from exc
    ingested, updated, skipped, failed = (
        report.count(s) for s in ("ingested", "updated", "skipped", "failed")
    )
    for o in report.outcomes:
        if o.reason and not o.reason.startswith(ALREADY_INGESTED):
            out.print(f"{o.status}: {escape(o.path)}: {escape(o.reason)}")
    links = sum(o.reason == LINK_NOT_FOLLOWED for o in report.outcomes)
    left = f", {links} link(s) not followed" if links else ""
    new_units = report.written_units
    rate = new_units / report.seconds if report.seconds else 0.0
    err.print(
        f"Ingested {ingested} document(s){f', updated {updated}' if updated else ''}"
        f" ({new_units} units, {rate:.1f} units/s),"
        f" skipped {skipped - links} already ingested{left}, failed {failed},"
        f" in {report.seconds:.1f} s."
    )
    if failed:
        raise typer.Exit(EXIT_PARTIAL if ingested or updated or skipped else EXIT_ERROR)


def columns() -> list:
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
