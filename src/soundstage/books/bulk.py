"""Handling a year's books at once: a hundred thousand time entries and spend lines are made,
checked and stored in one go, and Python's cyclic garbage collector is the largest cost of that
when left to run."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (or the function it decorates): it runs
    every few hundred new objects and walks all the young ones again each time, and the older
    generations with every object alive, though entries, lines and rows hold no cycles. For a
    100,000-row timesheet that was 40% of the import (benchmarks/books.py). Reference counting
    still frees everything; the collector resumes (if it was on) when the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
