"""How the officer's earlier decisions shape this run's findings (pure: frames in, frames out).

- judged "Không sai" or "Không phải cùng người": not raised again while the values behind it
  stay the same; raised again (open) once they change;
- marked "Đã cập nhật" but still detected: `reported_fixed_still_differs`;
- seen before: `open`; first seen: `new`;
- no longer detected, on a list this run read: resolved, with the date. A list that was skipped
  resolves nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reconcile.review.workbook_decisions import DISMISSING, UPDATED

HISTORY_COLUMNS = [
    "finding_id",
    "type",
    "list_kind",
    "list_label",
    "values_hash",
    "first_seen",
    "first_run",
    "last_seen",
    "last_run",
    "status",
    "resolved_on",
]
DECISION_COLUMNS = ["finding_id", "decision", "note", "values_hash", "source", "decided_at"]


def values_hash(source_value: object, register_value: object) -> str:
    """What the officer judged, without keeping the values themselves in the store."""
    text = f"{source_value or ''}\x1f{register_value or ''}"
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class ReviewOutcome:
    findings: pd.DataFrame  # to report, each with its status
    history: pd.DataFrame  # every finding the store knows, as of this run
    suppressed: int
    resolved: int


def apply_review(
    findings: pd.DataFrame,
    history: pd.DataFrame,
    decisions: pd.DataFrame,
    processed_lists: set[str],
    run_id: str,
    run_date: dt.date,
) -> ReviewOutcome:
    findings = findings.copy()
    hashes = [
        values_hash(s, r)
        for s, r in zip(findings["source_value"], findings["register_value"], strict=True)
    ]
    findings["values_hash"] = hashes
    latest = (
        decisions.sort_values("decided_at", kind="stable")
        .groupby("finding_id")
        .tail(1)
        .set_index("finding_id")
        if len(decisions)
        else pd.DataFrame(columns=DECISION_COLUMNS).set_index("finding_id")
    )
    known = (
        history.set_index("finding_id")
        if len(history)
        else pd.DataFrame(columns=HISTORY_COLUMNS).set_index("finding_id")
    )

    decided = latest.reindex(findings["finding_id"])
    before = known["status"].reindex(findings["finding_id"]).to_numpy()
    judged = decided["decision"].to_numpy()
    dismissed = np.isin(judged, DISMISSING) & (
        decided["values_hash"].to_numpy() == findings["values_hash"].to_numpy()
    )
    statuses = np.where(
        judged == UPDATED,
        "reported_fixed_still_differs",
        np.where(pd.notna(before) & (before != "resolved"), "open", "new"),
    )
    statuses = np.where(dismissed, "dismissed", statuses)
    keep = ~dismissed
    findings["status"] = statuses

    today = run_date.isoformat()
    current = pd.DataFrame(
        {
            "finding_id": findings["finding_id"],
            "type": findings["type"],
            "list_kind": findings["list_kind"],
            "list_label": findings["list_label"],
            "values_hash": findings["values_hash"],
            "first_seen": today,
            "first_run": run_id,
            "last_seen": today,
            "last_run": run_id,
            "status": findings["status"],
            "resolved_on": None,
        }
    )
    if len(known):
        earlier = known.reindex(current["finding_id"])
        reopened = earlier["status"].eq("resolved").to_numpy()
        carry = earlier["first_seen"].notna().to_numpy() & ~reopened
        current.loc[carry, "first_seen"] = earlier["first_seen"].to_numpy()[carry]
        current.loc[carry, "first_run"] = earlier["first_run"].to_numpy()[carry]
    gone = known[~known.index.isin(findings["finding_id"])].reset_index()
    closing = gone["status"].isin(["new", "open", "reported_fixed_still_differs"]) & gone[
        "list_label"
    ].isin(processed_lists)
    gone.loc[closing, "status"] = "resolved"
    gone.loc[closing, "resolved_on"] = today
    history_now = pd.concat([current, gone[HISTORY_COLUMNS]], ignore_index=True)
    reported = findings.loc[keep].drop(columns=["values_hash"]).reset_index(drop=True)
    return ReviewOutcome(
        reported, history_now[HISTORY_COLUMNS], int(dismissed.sum()), int(closing.sum())
    )
