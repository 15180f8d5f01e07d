"""match_stage with and without the helper process that searches the register's duplicates
beside the matching, alternated, on the district set of bench_full_run.py (run that first: it
writes the .xlsx files into bench/.cache).

Run by hand: python bench/bench_match_helper.py [RESIDENTS] [ROWS] [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from reconcile.config import build_config
from reconcile.pipeline import _prepare_quietly, _spawn, match_stage
from reconcile.report.output import warm_up

CACHE = Path(__file__).resolve().parent / ".cache"


def main() -> None:
    residents = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    config = build_config(
        {"kind": "register", "path": CACHE / f"district_register_{residents}.xlsx"},
        [{"kind": "membership", "path": CACHE / f"district_list_{residents}_{rows}.xlsx"}],
        CACHE / "out",
        matching={"incremental": False},
    )
    register = _prepare_quietly(config.population_register, config).people
    lists = [_prepare_quietly(spec, config) for spec in config.lists]
    thresholds = config.matching.thresholds()
    times: dict[str, list[float]] = {"here": [], "helper": []}
    for _ in range(rounds):
        for mode in times:
            started = time.perf_counter()
            # as run_reconciliation does: the helper is spawned when matching starts
            helper = _spawn(1) if mode == "helper" else None
            if helper is not None:
                helper.submit(warm_up)
            matched = match_stage(register, lists, thresholds, helper=helper)
            times[mode].append(time.perf_counter() - started)
            if helper is not None:
                helper.shutdown()
            print(f"{mode:6} {times[mode][-1]:6.2f} s  duplicates {len(matched.duplicates)}")
    here, beside = (statistics.median(times[m]) for m in ("here", "helper"))
    print(f"median here {here:.2f} s, with the helper {beside:.2f} s, ratio {beside / here:.3f}")


if __name__ == "__main__":
    main()
