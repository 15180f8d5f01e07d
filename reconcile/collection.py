"""Python's cyclic garbage collector, set for a run that holds millions of objects.

A run keeps its tables alive from reading to writing, and makes hundreds of thousands of small
lists and dicts on the way (a row, a record). With the default thresholds the collector ran
about 2,000 times in a 300,000-resident run and walked the whole heap 10 times: 1.1-1.5 s of the
run in the main process alone (gc.callbacks, bench/bench_full_run.py). Fewer, larger young
collections leave cyclic garbage a few more allocations to live, nothing else: pandas and
NumPy free their arrays by reference counting.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young collections after this many new container objects (default 700), and the older
# generations after this many of the younger one's (defaults 10 and 10).
BULK_THRESHOLDS = (100_000, 50, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """BULK_THRESHOLDS for the duration, the caller's own thresholds again after."""
    before = gc.get_threshold()
    gc.set_threshold(*BULK_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def set_for_worker() -> None:
    """A worker process's initializer: it lives only for the run."""
    gc.set_threshold(*BULK_THRESHOLDS)
