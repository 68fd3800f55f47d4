"""`rag ingest --watch`: ingest files as they arrive, once they stop changing."""

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.discover import discover
from rag.core.records import IngestReport


def watch(
    ingest: Callable[[list[Path]], IngestReport],
    folders: list[Path],
    stop: threading.Event,
    interval_s: float,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    follow_links: bool = False,
) -> IngestReport:
    """Ingest the files under `folders`, then new or changed ones, until `stop` is set.

    A file is taken once its size and time stayed the same for one interval (so
    half-copied files wait); known content is skipped by its hash in `ingest`.
    """
    report = IngestReport()
    last: dict[Path, tuple[float, int]] = {}
    done: dict[Path, tuple[float, int]] = {}
    while True:
        found = discover(folders, include, exclude, follow_links).files
        now = {f: s for f in found if (s := _stamp(f))}
        ready = [f for f, s in now.items() if last.get(f) == s and done.get(f) != s]
        if ready:
            round_report = ingest(ready)
            report.outcomes += round_report.outcomes
            report.seconds += round_report.seconds
            done.update((f, now[f]) for f in ready)
        last = now
        if stop.wait(interval_s):
            return report


def _stamp(path: Path) -> tuple[float, int] | None:
    """(modification time, size), or None for a file that vanished meanwhile."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime, stat.st_size
