"""Run an iterator a few items ahead of its consumer, on a background thread.

Ingestion has two halves that need different resources: loading (LibreOffice, speech
recognition, OCR, rendering, JPEG encoding: mostly one core, mostly outside the GIL) and
embedding (the encoder's thread pool). Run one after the other, each leaves cores idle;
with the loader a few items ahead, the next file converts while this one embeds. The
queue is bounded, so the loader never runs more than `depth` items ahead into memory.
`first_queued` tells a consumer with several of these which one has something to take.
"""

import os
import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
PUT_POLL_S = 0.1  # how often a blocked producer checks whether its consumer has left
JOIN_S = 5.0  # how long closing waits for the producer to leave its current step


def loader_threads(setting: int) -> int:
    """Threads for a model the loader runs (speech recognition, OCR). 0: half the cores, as
    the embedder works on the rest meanwhile (tiny.en on 2 cores is no faster with 2)."""
    return setting or max(1, (os.cpu_count() or 1) // 2)


class _End:
    """Sent after the last item; carries the producer's exception, if it raised one."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class Ahead(Iterator[T]):
    """`items`, produced on a daemon thread up to `depth` items before they are taken.

    Items arrive in order; an exception raised by `items` is raised here, after the items
    before it. `close()` (or leaving a `with` block) stops the producer at its next item
    and closes `items` on the producer's thread, so its `finally` blocks run.
    `first_queued`, if given, is called once on the producer's thread as soon as the first
    item (or the end, if there is none) is queued.
    """

    def __init__(
        self,
        items: Iterator[T],
        depth: int,
        name: str = "loader",
        first_queued: Callable[[], None] | None = None,
    ) -> None:
        self._queue: queue.Queue[T | _End] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._first_queued = first_queued
        self._thread = threading.Thread(target=self._produce, args=(items,), name=name, daemon=True)
        self._thread.start()

    def _produce(self, items: Iterator[T]) -> None:
        end = _End()
        try:
            for item in items:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which decides
            end = _End(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        self._put(end)

    def _put(self, item: T | _End) -> bool:
        """Queue `item`, waiting for room; False when the consumer has gone."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=PUT_POLL_S)
            except queue.Full:
                continue
            if self._first_queued is not None:
                self._first_queued()
                self._first_queued = None
            return True
        return False

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if isinstance(item, _End):
            self._done = True
            self._thread.join()
            if item.error is not None:
                raise item.error
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop the producer and wait briefly for it (a running conversion may outlast the
        wait; the thread is a daemon and ends with it)."""
        self._done = True
        self._stop.set()
        self._thread.join(JOIN_S)

    def __enter__(self) -> "Ahead[T]":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
