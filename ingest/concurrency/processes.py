"""Run a generator in a worker process and consume it here, in order, with back-pressure.

Decoding a recording and transcribing it (or picking a video's keyframes) is a stream of
results; in a worker process it overlaps with the embedder in this one. The queue holds
at most a few results, so the worker waits instead of decoding an hour ahead into
memory. Workers are spawned (not forked: this process may hold torch's threads).
"""

import multiprocessing
import queue
from collections.abc import Callable, Iterator
from typing import Any

from rag.core.errors import CorruptFileError, IngestError, first_line

ITEM, ERROR, END = "item", "error", "end"
POLL_S = 1.0  # how often a waiting consumer checks that its worker is still alive


def _produce(target: Callable[..., Iterator[Any]], args: tuple, out: Any) -> None:
    """Worker side: every item, then END; a failure is sent as an error our side knows."""
    try:
        for item in target(*args):
            out.put((ITEM, item))
    except IngestError as exc:
        out.put((ERROR, exc))
    except Exception as exc:  # any decoder or model failure: one line for the user
        out.put((ERROR, CorruptFileError(f"the file breaks off ({first_line(exc)})")))
    out.put((END, None))


class WorkerStream:
    """What a generator yields in a spawned worker process, as an iterator here.

    Closing it (or reaching the end) stops the worker, even if nothing was read yet. A
    worker that dies without a word (killed for memory) is an error, not a hang.
    """

    def __init__(self, target: Callable[..., Iterator[Any]], args: tuple, depth: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._results = context.Queue(maxsize=depth)
        self._worker = context.Process(
            target=_produce, args=(target, args, self._results), daemon=True
        )
        self._worker.start()

    def __iter__(self) -> Iterator[Any]:
        try:
            while True:
                try:
                    kind, value = self._results.get(timeout=POLL_S)
                except queue.Empty:
                    if not self._worker.is_alive():
                        raise CorruptFileError(
                            f"the decoding worker stopped (exit code {self._worker.exitcode})"
                        ) from None
                    continue
                if kind == END:
                    return
                if kind == ERROR:
                    raise value
                yield value
        finally:
            self.close()

    def close(self) -> None:
        if self._worker.is_alive():
            self._worker.terminate()
        self._worker.join()
        self._results.close()


def stream_in_worker(target: Callable[..., Iterator[Any]], *args: Any) -> WorkerStream:
    """Start `target(*args)` (a module-level generator function, picklable arguments) in a
    worker process now; iterate the result for what it yields, in order."""
    return WorkerStream(target, args, depth=4)
