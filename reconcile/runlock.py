"""One run at a time per output folder.

An operating-system lock on a file (filelock: fcntl on Linux, msvcrt on Windows), not the
file's existence: a run that is killed releases it with its process, so a crash never blocks the
next night.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_NAME = ".reconcile.lock"


class RunLocked(Exception):
    """Another run holds the folder. Bilingual message, paths only."""


@contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    # not thread-local and not reentrant: a second run_lock on the folder, even from this
    # process, is another run and must be refused
    lock = FileLock(folder / LOCK_NAME, timeout=0, thread_local=False, is_singleton=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunLocked(
            f"Một lần đối soát khác đang chạy trên thư mục {folder}; lần này dừng lại. Hãy chạy "
            f"lại khi lần kia xong / another reconciliation is running on {folder}: this one "
            f"stops; run again when it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()
