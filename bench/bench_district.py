"""Matching at district size: 300,000 residents, 200,000 list rows (synthetic.district).

Run by hand: python bench/bench_district.py [RESIDENTS] [ROWS]
Reports precision and recall of confident matches, the share flagged possible/ambiguous, wall
time per stage and peak memory (ru_maxrss of this process).
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from reconcile.kinds import ListKind
from reconcile.matching.decision import PRIOR_THRESHOLDS, Thresholds, link, score_lists
from reconcile.normalize.people import normalize_people

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from synthetic.district import district, recall_by_kind  # noqa: E402

SEVERAL_ERRORS = 0.05  # share of residents' rows with two or three real errors at once


def main() -> None:
    residents = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    started = time.perf_counter()
    register_raw, list_raw = district(residents, rows, several_errors=SEVERAL_ERRORS)
    print(
        f"generated {residents:,} residents and {rows:,} list rows in "
        f"{time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    register = normalize_people(register_raw, ListKind.REGISTER)
    people = normalize_people(list_raw, ListKind.MEMBERSHIP)
    normalised = time.perf_counter() - started
    truth = list_raw["true_key"].to_numpy()
    keys = register_raw["key"].to_numpy()
    for label, fitted, thresholds in (
        ("fitted weights (default)", True, Thresholds()),
        ("hand-set prior weights", False, PRIOR_THRESHOLDS),
    ):
        started = time.perf_counter()
        (scored,) = score_lists([people], register, fitted=fitted)
        links, scored = link(people, register, thresholds, scored)
        matched = time.perf_counter() - started
        right = links["right"].to_numpy()
        predicted = np.where(
            pd.isna(right), -1, keys[np.nan_to_num(right.astype(float)).astype(int)]
        )
        confident = (links["decision"] == "match").to_numpy()
        in_register = truth >= 0
        true_positive = (confident & (predicted == truth) & in_register).sum()
        flagged = (links["decision"] == "possible").to_numpy()
        resolvable = in_register & ~links["ambiguous"].to_numpy()
        position = pd.Series(np.arange(len(keys)), index=keys)
        true_right = np.where(truth >= 0, position.reindex(truth).to_numpy(), -1)
        is_true = scored["right"].to_numpy() == true_right[scored["left"].to_numpy()]
        true_score = pd.Series(np.nan, index=range(len(truth)))
        true_score[scored.loc[is_true, "left"].to_numpy()] = scored.loc[is_true, "score"].to_numpy()
        rival = scored[~is_true].groupby("left")["score"].max().reindex(true_score.index)
        blocked = true_score.notna().to_numpy()
        # rows where a resident other than the truth fits at least as well: no scorer of these
        # fields can choose right, so they bound recall from above
        tied = (rival >= true_score).to_numpy() & (truth >= 0)
        print(
            f"{label}: normalise {normalised:.1f} s; candidates {len(scored):,} (blocking "
            f"recall {blocked[truth >= 0].mean():.4f}); match {matched:.1f} s"
        )
        print(
            f"  precision {true_positive / confident.sum():.4f}  recall "
            f"{true_positive / in_register.sum():.4f}  recall over rows not flagged ambiguous "
            f"{true_positive / resolvable.sum():.4f}; flagged possible/ambiguous "
            f"{flagged.mean():.2%}; outsiders matched {(confident & ~in_register).sum()}"
        )
        print(f"  recall by row kind: {recall_by_kind(list_raw, confident & (predicted == truth))}")
        errors = list_raw["errors"].to_numpy()
        right_link = (links["decision"] != "none").to_numpy() & (predicted == truth)
        for n in sorted(set(errors)):
            rows_n = (errors == n) & (truth >= 0)
            print(
                f"  {n} simultaneous errors ({rows_n.sum():,} rows): blocking recall "
                f"{blocked[rows_n].mean():.4f}, match recall "
                f"{(confident & (predicted == truth))[rows_n].mean():.4f}, "
                f"match or possible {right_link[rows_n].mean():.4f}"
            )
        lost = ((~blocked & in_register) | tied).sum()
        print(
            f"  not blocked {(~blocked & in_register).sum()}, a rival fits as well as the truth "
            f"{tied.sum()}: recall ceiling {1 - lost / in_register.sum():.4f}"
        )
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
