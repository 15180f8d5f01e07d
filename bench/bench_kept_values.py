"""Keeping and reading back a value the next night reuses (a reading, the matching memory) in
the decisions store, in pieces against in one cell: time and the peak memory it adds.

Run by hand: python bench/bench_kept_values.py [MB,...] [POSTGRES_URL]
(default 300,742,1200 MB: the dirty 3M province's matching memory took 742 MB; SQLite and
PostgreSQL refuse a value past 1 GB). Random bytes, so nothing compresses them away. Each
case runs in its own process: the peak is that process's own (VmHWM), less what it held
before the save.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from process_peak import rss_peak_reset, status


def _case(url: str, megabytes: int, pieced: bool, answer) -> None:
    from reconcile.review.store import INPUTS, DecisionStore

    store = DecisionStore(url, "bench")
    value = np.random.default_rng(1).bytes(megabytes * 10**6)
    record = {"counts": "{}", "people": value, "rejected": None, "layout": None}
    try:
        before = rss_peak_reset()
        began = time.perf_counter()
        if pieced:
            store.save_prepared("register", "d", record)
        else:  # as stores before the pieces kept it, which the store still reads
            row = {"scope": "bench", "series": "register", "digest": "d", **record}
            store._replace(INPUTS, {"series": "register"}, [row])
        saved = time.perf_counter() - began
        save_peak = status("VmHWM") - before
        del record
        before = rss_peak_reset()
        began = time.perf_counter()
        back = store.prepared("register")["people"]
        read = time.perf_counter() - began
        read_peak = status("VmHWM") - before - len(back)  # less the value it returns
        answer.put((saved, save_peak, read, read_peak, back == value))
    except Exception as exc:  # noqa: BLE001 (reported, not raised: the point of the case)
        answer.put(f"{type(exc).__name__}: {str(exc)[:80]}")


def main() -> None:
    sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "300,742,1200").split(",")]
    urls = {"sqlite": None}
    if len(sys.argv) > 2:
        urls["postgresql"] = sys.argv[2]
    context = multiprocessing.get_context("spawn")
    for name, url in urls.items():
        for megabytes in sizes:
            for label, pieced in (("one cell", False), ("64 MB pieces", True)):
                results = []
                for _ in range(3):
                    with tempfile.TemporaryDirectory() as folder:
                        target = url or f"sqlite:///{Path(folder, 'd.sqlite').as_posix()}"
                        if url:
                            _empty(url)
                        answer = context.Queue()
                        process = context.Process(
                            target=_case, args=(target, megabytes, pieced, answer)
                        )
                        process.start()
                        results.append(answer.get())
                        process.join()
                _report(name, megabytes, label, results)


def _empty(url: str) -> None:
    import sqlalchemy as sa

    from reconcile.review.store import INPUTS, PIECES

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for table in (INPUTS, PIECES):
            if sa.inspect(connection).has_table(table.name):
                connection.execute(sa.delete(table).where(table.c.scope == "bench"))
    engine.dispose()


def _report(name: str, megabytes: int, label: str, results: list) -> None:
    failed = [r for r in results if isinstance(r, str)]
    if failed:
        print(f"{name:10} {megabytes:5} MB  {label:13} failed: {failed[0]}")
        return
    saved, save_peak, read, read_peak, same = (
        list(column) for column in zip(*results, strict=True)
    )
    print(
        f"{name:10} {megabytes:5} MB  {label:13} "
        f"save {statistics.median(saved):5.1f} s, +{statistics.median(save_peak) >> 20:5} MB; "
        f"read {statistics.median(read):5.1f} s, +{statistics.median(read_peak) >> 20:5} MB "
        f"beyond the value; whole: {all(same)}"
    )


if __name__ == "__main__":
    main()
