"""Are the run's label-free error estimates right? Estimate vs truth per list, over seeds and
noise levels of the synthetic commune (tests/support/synthetic: it plants the truth).

Run by hand: python bench/bench_estimates.py [SIZE] [SEEDS] [RATES]
(default 4000 residents, seeds 1,2,3, several-error rates 0.02,0.08,0.2).

For each list: true false links among `match` rows, true residents left unmatched (`none`),
true `possible` rows; the estimate and its 90% interval beside each; and how often the truth
falls inside the interval.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

from reconcile.config import load_config
from reconcile.pipeline import run_reconciliation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from synthetic.commune import generate_commune  # noqa: E402


def truth_counts(run_dir: Path, truth_dir: Path) -> dict[str, dict[str, int]]:
    """Per list file: true false links, missed residents and right possible rows."""
    links = pd.read_csv(run_dir / "links.csv", dtype=str, encoding="utf-8-sig").fillna("")
    truth = pd.read_csv(truth_dir / "links.csv", dtype=str).fillna("")
    merged = links.merge(truth, on=["source_file", "source_row"], suffixes=("", "_true"))
    out = {}
    for file, group in merged.groupby("source_file"):
        right = group["register_row"] == group["register_row_true"]
        resident = group["register_row_true"] != ""
        decision = group["decision"]
        out[file] = {
            "false_links": int(((decision == "match") & ~right).sum()),
            "missed_residents": int(((decision == "none") & resident).sum()),
            "true_possible": int(((decision == "possible") & right).sum()),
        }
    return out


def one_run(size: int, seed: int, rate: float, folder: Path) -> list[dict]:
    config_path = generate_commune(folder / "in", seed=seed, size=size, multi_error_rate=rate)
    config = load_config(config_path, out_dir=folder / "out")
    _, run_dir = run_reconciliation(config)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    files = {e["label"]: e["file"] for e in summary["inputs"]}
    truth = truth_counts(run_dir, folder / "in" / "truth")
    rows = []
    for label, estimate in summary["estimates"].items():
        true = truth.get(files[label], {})
        for measure in ("false_links", "missed_residents", "true_possible"):
            low, high = estimate.get(f"{measure}_interval", [0, 0])
            rows.append(
                {
                    "rate": rate,
                    "seed": seed,
                    "list": label,
                    "measure": measure,
                    "true": true.get(measure, 0),
                    "estimate": estimate[measure],
                    "low": low,
                    "high": high,
                    "inside": low <= true.get(measure, 0) <= high,
                }
            )
    return rows


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    seeds = [int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else [1, 2, 3]
    rates = [float(r) for r in sys.argv[3].split(",")] if len(sys.argv) > 3 else [0.02, 0.08, 0.2]
    rows = []
    for rate in rates:
        for seed in seeds:
            with tempfile.TemporaryDirectory() as folder:
                rows += one_run(size, seed, rate, Path(folder))
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 160)
    totals = (
        table.groupby(["rate", "seed", "measure"])[["true", "estimate"]].sum().unstack("measure")
    )
    print("per run, summed over lists (true vs estimate):")
    print(totals.round(1).to_string())
    coverage = table.groupby(["rate", "measure"])["inside"].mean().unstack("measure")
    print("\nshare of (list, run) whose truth falls inside the 90% interval:")
    print(coverage.round(3).to_string())
    print(f"\nall: {table['inside'].mean():.3f} of {len(table)} (list, run, measure)")


if __name__ == "__main__":
    main()
