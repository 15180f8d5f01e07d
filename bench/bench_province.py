"""A province on the Dask engine: matching at 300k, 1M (and 3M) residents with 2 local workers,
beside the pandas engine where it fits. Communes each have their own Thôn 1…10
(tests/support/synthetic/district.py with communes), 2% of list rows moved commune, 0.3% of
residents registered twice (another commune, another ID).

Run by hand: python bench/bench_province.py [SIZES] [--no-pandas]
(default 300000,1000000; list rows = 0.65 × residents, one commune per 10,000 residents).

Prints per size: candidates, matching wall time per engine, links identical or not, the peak
memory of each Dask worker (VmHWM, Linux), the driver's memory holding the normalised tables and
its peak while matching on Dask (apart from the generator's frames), and recall on the
residents' rows.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np

from reconcile.kinds import ListKind
from reconcile.matching.dask_executor import dask_executor
from reconcile.matching.decision import Thresholds, fit_and_score, link
from reconcile.matching.duplicates import find_register_duplicates
from reconcile.matching.engine import PandasExecutor
from reconcile.normalize.people import normalize_people

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from synthetic.district import district  # noqa: E402

# Residents registered a second time in another commune under a second ID.
TWICE = 0.003


def _worker_memory() -> tuple[float, float]:
    """A worker's peak resident memory and its resident memory now, in MB. The peak is the
    process's own (VmHWM): ru_maxrss of a spawned process also counts the parent's memory at
    the fork before its exec, so it reported the driver's size (1.8 GB at 1M residents for a
    worker that never passed 0.4 GB)."""
    import psutil

    with open("/proc/self/status", encoding="ascii") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    return peak, psutil.Process().memory_info().rss / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last _reset_peak) of this process, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field)) / 1024


def _reset_peak() -> None:
    """Start VmHWM again from the memory held now (Linux): the driver's matching peak is then
    told apart from the generator's frames, which ru_maxrss keeps counting."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


def match(people, register, executor):
    started = time.perf_counter()
    (scored,), params = fit_and_score([people], register, executor=executor)
    links, _ = link(people, register, Thresholds(), scored)
    return links, len(scored), time.perf_counter() - started, params


def duplicates(register, keys, params) -> None:
    """The register checked against itself: the planted second registrations (another
    commune, another ID) found, and the pairs reported that are not one person."""
    started = time.perf_counter()
    found = find_register_duplicates(register, params)
    seconds = time.perf_counter() - started
    position = register.index
    a = keys[position.get_indexer(found["left"])]
    b = keys[position.get_indexer(found["right"])]
    planted = len(keys) - len(np.unique(keys))
    right = int((a == b).sum())
    print(
        f"  register duplicates: {right} of {planted} planted second registrations found, "
        f"{len(found) - right} other pairs reported, in {seconds:.1f} s",
        flush=True,
    )


def main() -> None:
    sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "300000,1000000").split(",")]
    with_pandas = "--no-pandas" not in sys.argv
    for size in sizes:
        started = time.perf_counter()
        register_raw, list_raw = district(
            size, int(size * 0.65), communes=max(1, size // 10_000), twice=TWICE
        )
        register = normalize_people(register_raw, ListKind.REGISTER)
        people = normalize_people(list_raw, ListKind.MEMBERSHIP)
        prepared = time.perf_counter() - started
        truth, keys = list_raw["true_key"].to_numpy(), register_raw["key"].to_numpy()
        del register_raw, list_raw
        line = (
            f"{size:>9,} residents, {len(people):,} rows (made and normalised in {prepared:.0f} s)"
        )
        print(line, flush=True)
        inputs = _status_mb("VmRSS")
        _reset_peak()
        with dask_executor(workers=2) as executor:
            links, pairs, seconds, params = match(people, register, executor)
            matching_peak = _status_mb("VmHWM")
            workers = executor.client.run(_worker_memory)
        duplicates(register, keys, params)
        right = links["right"].to_numpy()
        found = np.where(
            np.isnan(right.astype(float)), -1, keys[np.nan_to_num(right.astype(float)).astype(int)]
        )
        resident = truth >= 0
        recall = ((links["decision"] == "match").to_numpy() & (found == truth) & resident).sum()
        peaks = ", ".join(f"{peak:.0f} (now {now:.0f})" for peak, now in workers.values())
        print(
            f"  dask, 2 workers: {pairs:,} candidate pairs, matching {seconds:.1f} s, worker peak "
            f"{peaks} MB, recall {recall / resident.sum():.4f}",
            flush=True,
        )
        if with_pandas:
            local, _, local_seconds, _ = match(people, register, PandasExecutor())
            same = local.equals(links)
            print(f"  pandas: matching {local_seconds:.1f} s, links identical to dask: {same}")
        print(
            f"  driver: {inputs:.0f} MB holding the normalised tables, {matching_peak:.0f} MB at "
            f"its peak while matching on dask; peak so far {_peak_mb():.0f} MB (the generator's "
            f"frames included)",
            flush=True,
        )


if __name__ == "__main__":
    main()
