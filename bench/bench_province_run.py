"""A whole province run through the command line, as the police would start it: the register as
Parquet, a province-wide list as CSV, `reconcile run --engine dask` (a local cluster of 2
workers). bench_province.py times the matching alone; this times every stage, from reading the
files to the last output.

Run by hand: python bench/bench_province_run.py [SIZES] [--keep]
(default 1000000; list rows = 0.65 × residents, one commune per 10,000 residents, 0.3% of the
residents registered a second time in another commune under another ID). The files are made
once per size under bench/.cache/province_<size>/.

Prints per size: the wall time, the peak memory of the run's processes summed (sampled), the
largest process's peak, the findings by type, and precision and recall of the list's match
decisions against the generator's truth (the list's rows that are residents).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from bench_full_run import CACHE, REGISTER_COLUMNS  # noqa: E402
from bench_province import TWICE  # noqa: E402
from tree_memory import TreeMemory  # noqa: E402

from synthetic.district import district  # noqa: E402

COLUMNS = {**REGISTER_COLUMNS, "commune": "Xã/phường"}


def province_files(size: int) -> Path:
    """The register (Parquet, no STT column: a machine export) and the list (CSV, numbered),
    with the truth beside them."""
    folder = CACHE / f"province_{size}"
    if (folder / "truth_list.parquet").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    register, listed = district(
        size, int(size * 0.65), communes=max(1, size // 10_000), twice=TWICE
    )
    register[list(COLUMNS)].rename(columns=COLUMNS).to_parquet(
        folder / "dan_cu.parquet", index=False
    )
    wanted = {k: v for k, v in COLUMNS.items() if k != "resident_code"}
    rows = listed[list(wanted)].rename(columns=wanted)
    rows.insert(0, "STT", range(1, len(rows) + 1))
    rows.to_csv(folder / "tro_cap.csv", index=False)
    register[["key"]].to_parquet(folder / "truth_register.parquet")
    listed[["true_key"]].to_parquet(folder / "truth_list.parquet")
    return folder


def accuracy(folder: Path, run: Path) -> tuple[float, float]:
    """Precision and recall of the list's `match` decisions: the register row each links to is
    the resident the generator made the row from."""
    links = pd.read_csv(run / "links.csv", usecols=["source_row", "register_row", "decision"])
    true_key = pd.read_parquet(folder / "truth_list.parquet")["true_key"].to_numpy()
    resident_key = pd.read_parquet(folder / "truth_register.parquet")["key"].to_numpy()
    truth = true_key[links["source_row"].to_numpy() - 2]  # the CSV's header is row 1
    row = links["register_row"].to_numpy()
    found = np.full(len(row), -2)
    linked = ~np.isnan(row)
    found[linked] = resident_key[row[linked].astype(int) - 2]  # so is the Parquet's
    match = (links["decision"] == "match").to_numpy()
    precision = (found[match] == truth[match]).mean()
    recall = ((found == truth) & match & (truth >= 0)).sum() / (truth >= 0).sum()
    return float(precision), float(recall)


def run(folder: Path, out: Path) -> tuple[float, TreeMemory, float, Path]:
    shutil.rmtree(out, ignore_errors=True)
    command = [
        sys.executable,
        "-c",
        "from flows.cli import main; main()",  # the `reconcile` command
        "run",
        "--register",
        str(folder / "dan_cu.parquet"),
        "--list",
        f"welfare={folder / 'tro_cap.csv'}",
        "--out",
        str(out),
        "--engine",
        "dask",
    ]
    started = time.perf_counter()
    with TreeMemory(every=0.5) as memory:
        process = psutil.Popen(command, stdout=subprocess.DEVNULL)
        largest = 0
        while process.poll() is None:
            for child in [process, *process.children(recursive=True)]:
                try:
                    largest = max(largest, child.memory_info().rss)
                except psutil.Error:
                    continue
            time.sleep(0.5)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"the run failed ({process.returncode}) after {seconds:.0f} s")
    return seconds, memory, largest / 2**20, next(out.glob("2*"))


def main() -> None:
    sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "1000000").split(",")]
    for size in sizes:
        folder = province_files(size)
        seconds, memory, largest, run_dir = run(folder, folder / "out")
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        precision, recall = accuracy(folder, run_dir)
        found = {k: v for k, v in summary["findings_by_type"].items() if v}
        print(
            f"{size:>9,} residents: whole run {seconds:.0f} s; {memory}, largest process "
            f"{largest:.0f} MB; {summary['findings_total']:,} findings {found}; match "
            f"precision {precision:.4f}, recall {recall:.4f}",
            flush=True,
        )
        if "--keep" not in sys.argv:
            shutil.rmtree(folder / "out", ignore_errors=True)


if __name__ == "__main__":
    main()
