"""The review stage on a big history: applying the officers' earlier decisions to a night's
findings (rules.apply_review), its time and the memory it adds above its inputs.

Run by hand: python bench/bench_review.py [FINDINGS]
(default 1,000,000; the dirty 3M province raised 3.4M a night). Generated findings: a name and
an ID per row, dates, sexes, hamlets and communes drawn from a few values, as a province's are.
Nights 1 and 2 make the history; night 3 shows the same findings again with 1% of their values
changed, against that history as the store reads it back (its few-valued columns shared), with
a decision on every thousandth finding. The peak is the process's own (VmHWM, Linux), reset
before night 3, less what it held then.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import numpy as np
import pandas as pd
from process_peak import rss_peak_reset, status


def _findings(count: int) -> pd.DataFrame:
    from reconcile.findings import PERSON_FIELDS

    rng = np.random.default_rng(3)
    births = [f"{d:%d/%m/%Y}" for d in pd.date_range("1930-01-01", "2020-12-31", freq="D")]
    pools = {
        "birth": births,
        "sex": ["Nam", "Nữ"],
        "hamlet": [f"Thôn {n}" for n in range(1, 40)],
        "commune": [f"Xã {n}" for n in range(1, 120)],
    }
    frame = {
        "finding_id": [f"{n:024x}" for n in rng.integers(0, 2**62, count)],
        "type": rng.choice(["name_differs", "id_differs", "not_in_register"], count),
        "list_kind": "welfare",
        "list_series": "tro_cap",
    }
    for side in ("list", "register"):
        for field in PERSON_FIELDS:
            if field == "name":
                column = [f"Nguyễn Văn {side[0]}{n}" for n in range(count)]
            elif field == "id":
                column = [f"{n:012d}" for n in rng.integers(0, 10**12, count)]
            else:
                column = np.array(pools[field], dtype=object)[
                    rng.integers(0, len(pools[field]), count)
                ]
            frame[f"{side}_{field}"] = column
    findings = pd.DataFrame(frame)
    findings["source_value"] = findings["list_id"]
    findings["register_value"] = findings["register_id"]
    return findings


def _as_stored(history: pd.DataFrame) -> pd.DataFrame:
    """The history as DecisionStore.history reads it back: objects, each few-valued column's
    values shared."""
    from reconcile.review.store import SHARED_HISTORY_COLUMNS, _shared

    stored = history.astype(object).where(history.notna(), None)
    for column in SHARED_HISTORY_COLUMNS:
        stored[column] = _shared(stored[column].to_numpy(dtype=object), {})
    return stored


def main() -> None:
    from reconcile.review.rules import DECISION_COLUMNS, HISTORY_COLUMNS, apply_review

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    findings = _findings(count)
    nobody = pd.DataFrame(columns=["id", *DECISION_COLUMNS])
    history = nobody.reindex(columns=HISTORY_COLUMNS)
    for night in (1, 2):  # the second sees the first's findings again: their status is "open"
        outcome = apply_review(
            findings, history, nobody, {"tro_cap"}, f"r{night}", dt.date(2026, 12, night)
        )
        history = _as_stored(outcome.history)
    decided = outcome.findings.iloc[::1000]
    decisions = pd.DataFrame(
        {
            "id": range(len(decided)),
            "finding_id": decided["finding_id"].to_numpy(),
            "run_id": "r2",
            "decision": "Không sai",
            "note": "",
            "values_hash": decided["values_hash"].to_numpy(),
            "field_hashes": decided["field_hashes"].to_numpy(),
            "source": "so_r2.xlsx",
            "decided_at": dt.datetime(2026, 12, 2, 9),
        }
    )
    del outcome, decided
    retyped = findings.index[::100]
    findings.loc[retyped, "list_name"] = findings.loc[retyped, "list_name"] + " A"
    before = rss_peak_reset()
    began = time.perf_counter()
    outcome = apply_review(findings, history, decisions, {"tro_cap"}, "r3", dt.date(2026, 12, 3))
    took = time.perf_counter() - began
    peak = status("VmHWM") - before
    held = status("VmRSS") - before
    print(
        f"{count:,} findings, {len(history):,} history rows: {took:.1f} s, "
        f"peak +{peak / 2**20:,.0f} MB, held after +{held / 2**20:,.0f} MB; "
        f"{outcome.suppressed:,} suppressed, {len(outcome.change.rows):,} history rows to write"
    )


if __name__ == "__main__":
    main()
