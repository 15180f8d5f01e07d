"""Processes a killed run leaves behind (its list-reading workers, a temporary Prefect API), found
and ended by the next run on the same output folder.

A run writes the ids and start times of its child processes beside its lock; it removes the
record when it ends. The next run, holding the lock, ends each recorded process that still
exists with the same start time (a recycled process id is someone else's and is left alone).
psutil gives the same answers on Windows and Linux.
"""

from __future__ import annotations

import json
from pathlib import Path

import psutil

RECORD = ".reconcile.children"


def record_children(out_dir: Path) -> None:
    """Remember this process's children, so a run that dies leaves nothing unaccounted for."""
    children = psutil.Process().children(recursive=True)
    if not children:
        return
    entries = []
    for child in children:
        try:
            entries.append({"pid": child.pid, "started": child.create_time()})
        except psutil.Error:
            continue
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RECORD
    path.write_text(json.dumps(entries), encoding="utf-8")


def forget_children(out_dir: Path) -> None:
    """Drop the record; and the output folder too if the record was all it held (a run that
    failed before writing anything leaves nothing behind)."""
    (out_dir / RECORD).unlink(missing_ok=True)
    try:
        out_dir.rmdir()  # only ever succeeds on an empty folder
    except OSError:
        pass


def end_leftovers(out_dir: Path, timeout: float = 5.0) -> int:
    """End what the previous run on this folder recorded and left running; how many ended.
    Call only while holding the folder's lock."""
    path = out_dir / RECORD
    if not path.is_file():
        return 0
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        entries = []
    alive = []
    for entry in entries:
        try:
            process = psutil.Process(int(entry["pid"]))
            if abs(process.create_time() - float(entry["started"])) < 1e-3:
                alive.append(process)
        except (psutil.Error, KeyError, TypeError, ValueError):
            continue
    for process in alive:
        try:
            process.terminate()
        except psutil.Error:
            pass
    _, still = psutil.wait_procs(alive, timeout=timeout)
    for process in still:
        try:
            process.kill()
        except psutil.Error:
            pass
    path.unlink(missing_ok=True)
    return len(alive)
