"""Whole runs on synthetic communes the size of the held-out one (8,000 residents): precision and
recall per finding type, and link recall by how many real errors a row carries at once.

Run by hand: python bench/bench_commune.py [SIZE] [SEEDS] [MULTI_ERROR_RATE]
(default 8000 residents, seeds 1,2,3, 0.08 of each list's faithful rows given 2-3 errors).

The communes come from synthetic, which shares the reader's and matcher's assumptions:
these numbers say what the code does on its own kind of data, not on unseen paperwork (the
layout corpus in tests/ and the FEBRL4 bench are the independent checks).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from reconcile.config import load_config
from reconcile.pipeline import run_reconciliation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from synthetic.commune import generate_commune  # noqa: E402
from synthetic.evaluate import score_findings  # noqa: E402


def one_commune(size: int, seed: int, rate: float, folder: Path) -> tuple[pd.DataFrame, dict]:
    config_path = generate_commune(folder / "in", seed=seed, size=size, multi_error_rate=rate)
    config = load_config(config_path, out_dir=folder / "out")
    started = time.perf_counter()
    _, run_dir = run_reconciliation(config)
    elapsed = time.perf_counter() - started
    found = pd.read_csv(run_dir / "findings.csv", dtype=str, encoding="utf-8-sig")
    truth = pd.read_csv(folder / "in" / "truth" / "findings.csv", dtype=str)
    links = pd.read_csv(run_dir / "links.csv", dtype=str, encoding="utf-8-sig").fillna("")
    true_links = pd.read_csv(folder / "in" / "truth" / "links.csv", dtype=str).fillna("")
    merged = links.merge(true_links, on=["source_file", "source_row"], suffixes=("", "_true"))
    residents = merged[merged["register_row_true"] != ""]
    by_errors = {}
    for errors, group in residents.groupby("errors"):
        right = group["register_row"] == group["register_row_true"]
        by_errors[int(errors)] = (
            len(group),
            float((right & (group["decision"] == "match")).mean()),
            float((right & (group["decision"] != "none")).mean()),
        )
    outsiders = merged[merged["register_row_true"] == ""]
    links_summary = {
        "precision": float(
            (
                merged.loc[merged["decision"] == "match", "register_row"]
                == merged.loc[merged["decision"] == "match", "register_row_true"]
            ).mean()
        ),
        "recall": float(
            (
                (residents["decision"] == "match")
                & (residents["register_row"] == residents["register_row_true"])
            ).mean()
        ),
        "outsiders_matched": int((outsiders["decision"] == "match").sum()),
        "by_errors": by_errors,
        "seconds": elapsed,
    }
    return score_findings(found, truth), links_summary


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    seeds = [int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else [1, 2, 3]
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.08
    tables, summaries = [], []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as folder:
            table, summary = one_commune(size, seed, rate, Path(folder))
        tables.append(table.assign(seed=seed))
        summaries.append(summary)
        print(
            f"seed {seed}: links P {summary['precision']:.4f} R {summary['recall']:.4f}, "
            f"outsiders matched {summary['outsiders_matched']}, run {summary['seconds']:.1f} s"
        )
        for errors, (rows, match, any_link) in sorted(summary["by_errors"].items()):
            print(
                f"  {errors} errors ({rows} rows): matched right {match:.4f}, "
                f"matched or possible right {any_link:.4f}"
            )
    total = pd.concat(tables).groupby("type")[["planted", "found", "true_positive"]].sum()
    total["precision"] = total["true_positive"] / total["found"]
    total["recall"] = total["true_positive"] / total["planted"]
    print(f"\nper finding type over seeds {seeds} (size {size}, several-error rate {rate}):")
    print(total.round(4).to_string())


if __name__ == "__main__":
    main()
