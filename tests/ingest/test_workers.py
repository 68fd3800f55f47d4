"""Generators in worker processes: order, back-pressure, and failures as one-line errors."""

import os
from collections.abc import Iterator

import pytest

from ingest.concurrency.processes import stream_in_worker
from rag.core.errors import CorruptFileError, TooLargeError


def counting(n: int, fail: str = "") -> Iterator[int]:
    yield from range(n)
    if fail == "ours":
        raise TooLargeError("too long for the limit")
    if fail == "other":
        raise ValueError("bad frame header\nsecond line")
    if fail == "die":
        os._exit(3)


def test_items_arrive_in_order_from_another_process() -> None:
    assert list(stream_in_worker(counting, 50)) == list(range(50))


def test_our_errors_cross_as_they_are_and_others_become_one_line() -> None:
    got: list[int] = []
    with pytest.raises(TooLargeError, match="too long"):
        got.extend(stream_in_worker(counting, 3, "ours"))
    assert got == [0, 1, 2]
    with pytest.raises(CorruptFileError, match=r"^the file breaks off \(bad frame header\)$"):
        list(stream_in_worker(counting, 3, "other"))


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    with pytest.raises(CorruptFileError, match="worker stopped"):
        list(stream_in_worker(counting, 2, "die"))


def test_closing_early_stops_the_worker() -> None:
    stream = stream_in_worker(counting, 10_000)
    first = next(iter(stream))
    stream.close()
    assert first == 0 and not stream._worker.is_alive()
