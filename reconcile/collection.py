"""Python's memory, managed for a run that holds millions of objects: the cyclic garbage
collector's thresholds, and what reading leaves behind.

A run keeps its tables alive from reading to writing, and makes hundreds of thousands of small
lists and dicts on the way (a row, a record). With the default thresholds the collector ran
about 2,000 times in a 300,000-resident run and walked the whole heap 10 times: 1.1-1.5 s of the
run in the main process alone (gc.callbacks, bench/bench_full_run.py). Fewer, larger young
collections leave cyclic garbage a few more allocations to live, nothing else: pandas and
NumPy free their arrays by reference counting.
"""

from __future__ import annotations

import ctypes
import gc
import sys
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


def let_readings_go() -> None:
    """Forget what reading left cached and give the freed heap back to the system: the
    parsers' memo of every name, date and syllable read (reconcile.normalize's lru_caches, about
    150 MB after a 300k register) serves no stage after reading. A process that read a list and
    then holds the register for the matching kept both before (2.5 GB for the two processes)."""
    for name, module in list(sys.modules.items()):
        if name.startswith("reconcile.normalize."):
            for value in list(vars(module).values()):
                if hasattr(value, "cache_clear") and hasattr(value, "cache_info"):
                    value.cache_clear()
    give_back()


def give_back() -> None:
    """Collect what the bulk thresholds left for later, and give the freed heap back to the
    system."""
    gc.collect()
    _trim_heap()


def _trim_heap() -> None:
    """glibc keeps freed small blocks for reuse; malloc_trim returns them (Linux only: other
    allocators give memory back themselves or have no such call)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl)
        pass
