"""One run at a time per output folder.

An operating-system lock on a file, not the file's existence: a run that is killed releases it
with its process, so a crash never blocks the next night.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".reconcile.lock"


class RunLocked(Exception):
    """Another run holds the folder. Bilingual message, paths only."""


def _try_lock(handle) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle) -> None:
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    handle = path.open("a+", encoding="utf-8")
    if not _try_lock(handle):
        handle.close()
        raise RunLocked(
            f"Một lần đối soát khác đang chạy trên thư mục {folder}; lần này dừng lại. Hãy chạy "
            f"lại khi lần kia xong / another reconciliation is running on {folder}: this one "
            f"stops; run again when it has finished"
        )
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {dt.datetime.now().isoformat(timespec='seconds')}\n")
        handle.flush()
        yield
    finally:
        _unlock(handle)
        handle.close()
