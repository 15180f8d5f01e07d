"""The review workbooks of a province with many findings, written as a run writes them: the
finding sheets begun in the helper process beside the estimates, then finished there while this
process writes the machine files. Reports both processes' peak RSS and the wall time.

Run by hand: python bench/bench_province_workbooks.py [FINDINGS] [COMMUNES] [BEGIN_AHEAD]
(default 1,000,000 findings over 100 communes; BEGIN_AHEAD: output.BEGIN_AHEAD_FINDINGS, give
a huge number for every part begun ahead, as before it was bounded). The findings are the
bundled sample run's, repeated with new ids (and each text its own object) over the communes:
one workbook per commune past output.SPLIT_FINDINGS, one review.xlsx for one commune.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import psutil

from reconcile.config import load_config
from reconcile.pipeline import run_reconciliation
from reconcile.report import output

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tree_memory import TreeMemory  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "reconcile.toml"


def province_result(result, findings: int, communes: int):
    """The run's findings repeated to `findings` rows, spread over `communes` communes."""
    seed = result.findings
    take = np.resize(np.arange(len(seed)), findings)
    many = seed.iloc[take].reset_index(drop=True)
    for column in many.select_dtypes(object).columns:
        # each text its own object, as in a run's findings: repeated rows would share them
        many[column] = [v if not isinstance(v, str) else (v + " ")[:-1] for v in many[column]]
    many["finding_id"] = [f"F{i:09d}" for i in range(findings)]
    many["register_commune"] = [f"xa {i % communes:03d}" for i in range(findings)]
    return replace(result, findings=many)


def main() -> None:
    findings = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    communes = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    if len(sys.argv) > 3:
        output.BEGIN_AHEAD_FINDINGS = int(sys.argv[3])
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(SAMPLE, out_dir=Path(tmp) / "sample")
        sample, _ = run_reconciliation(config, now=dt.datetime(2026, 12, 7, 2, 0))
        result = province_result(sample, findings, communes)
        parts = output.finding_parts(result.findings)
        helper = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        helper.submit(output.warm_up).result()
        before = psutil.Process().memory_info().rss
        with helper, TreeMemory() as peak:
            started = time.perf_counter()
            begun = output.begin_workbooks(helper, result.findings, result.run_id)
            run_dir = output.write_run(result, Path(tmp) / "out", helper=helper, begun=begun)
            wall = time.perf_counter() - started
        books = len(list(run_dir.glob("review*.xlsx")))
    print(
        f"{findings:,} findings, {len(parts)} parts ({books} workbooks), begun ahead "
        f"{len(begun)} (budget {getattr(output, 'BEGIN_AHEAD_FINDINGS', 'none')}): wall "
        f"{wall:.1f} s, peak RSS: helper {peak.peak_children_rss >> 20} MB, this process "
        f"{peak.peak_own_rss >> 20} MB "
        f"(before {before >> 20} MB)"
    )


if __name__ == "__main__":
    main()
