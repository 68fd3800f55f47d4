"""Batches sized by what they cost on the accelerator, and out-of-memory recovery.

A fixed batch of 32 is 32 thumbnails or 32 full-resolution pages: pixels, not items, fill
GPU memory. `by_pixels` groups items under a pixel budget; `split_on_oom` halves a batch
that ran out of CUDA memory and retries the halves, so nothing is lost to one big page.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def by_pixels(items: Iterable[T], cost: Callable[[T], int], budget: int) -> Iterator[list[T]]:
    """Consecutive groups whose summed cost stays within budget (an item over it goes alone)."""
    batch: list[T] = []
    used = 0
    for item in items:
        c = cost(item)
        if batch and used + c > budget:
            yield batch
            batch, used = [], 0
        batch.append(item)
        used += c
    if batch:
        yield batch


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def split_on_oom(run: Callable[[Sequence[T]], list[R]], items: Sequence[T]) -> list[R]:
    """`run(items)`, halving and retrying on CUDA out-of-memory; one item that fails raises."""
    try:
        return run(items)
    except (RuntimeError, MemoryError) as exc:
        if not _is_oom(exc) or len(items) <= 1:
            raise
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        half = len(items) // 2
        return split_on_oom(run, items[:half]) + split_on_oom(run, items[half:])
