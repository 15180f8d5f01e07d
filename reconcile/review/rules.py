"""How the officer's earlier decisions shape this run's findings (pure: frames in, frames out).

- judged "Không sai" or "Không phải cùng người": not raised again while the values the officer
  saw stay the same; raised again (open) once they change, saying which changed;
- marked "Đã cập nhật" but still detected: `reported_fixed_still_differs`;
- "Cần xác minh" and every note: carried into the new workbook beside the finding;
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

from reconcile.findings import SIDE_COLUMNS
from reconcile.frames import equal_cells, per_distinct
from reconcile.review.workbook_decisions import DISMISSING, UPDATED

HISTORY_COLUMNS = [
    "finding_id",
    "type",
    "list_kind",
    "list_label",
    "values_hash",
    "field_hashes",
    "first_seen",
    "first_run",
    "last_seen",
    "last_run",
    "status",
    "resolved_on",
    "dismissed_on",
]
DECISION_COLUMNS = [
    "finding_id",
    "run_id",
    "decision",
    "note",
    "values_hash",
    "field_hashes",
    "source",
    "decided_at",
]
OPEN_STATUSES = ("new", "open", "reported_fixed_still_differs")
# what each side column is called in a "what changed" note
SIDE_LABELS = {
    "list_name": "họ tên (danh sách)",
    "list_birth": "ngày sinh (danh sách)",
    "list_sex": "giới tính (danh sách)",
    "list_id": "số định danh (danh sách)",
    "list_hamlet": "thôn (danh sách)",
    "register_name": "họ tên (dữ liệu dân cư)",
    "register_birth": "ngày sinh (dữ liệu dân cư)",
    "register_sex": "giới tính (dữ liệu dân cư)",
    "register_id": "số định danh (dữ liệu dân cư)",
    "register_hamlet": "thôn (dữ liệu dân cư)",
}


def _digest(text: str, size: int) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:size]


def values_hash(source_value: object, register_value: object) -> str:
    """What the officer judged, without keeping the values themselves in the store."""
    return _digest(f"{source_value or ''}\x1f{register_value or ''}", 16)


def field_hashes(findings: pd.DataFrame) -> list[str]:
    """Per finding, a short hash of each side column, so a re-raised finding can say which
    field changed without the store keeping a single value."""
    columns = [c for c in SIDE_COLUMNS if c in findings]
    if not columns:
        return [""] * len(findings)
    # each distinct value hashed once (sexes, hamlets, blanks repeat), a column at a time: the
    # side columns copied whole took 0.45 GB more for a million findings
    blank = _digest("", 4)
    digests = [
        per_distinct(findings[c], lambda v: _digest(str(v), 4), missing=blank) for c in columns
    ]
    return [".".join(row) for row in zip(*digests, strict=True)]


def changed_fields(before: str, now: str) -> str:
    """The side columns whose hash differs, as Vietnamese labels ('' when unknown)."""
    if not isinstance(before, str) or not before:
        return ""
    old, new = before.split("."), now.split(".")
    if len(old) != len(new):
        return ""
    labels = [SIDE_LABELS[c] for c, a, b in zip(SIDE_COLUMNS, old, new, strict=False) if a != b]
    return ", ".join(labels)


@dataclass
class HistoryChange:
    """What a run changes in the stored history. Every stored row last seen in run
    `seen_again_from` is seen again on `seen_on` in `run_id`; then `rows` are written over
    the stored ones (new, or different in more than being seen again). A night's writes then
    grow with what changed: the dirty 3M province's 3.4M rows, deleted and written again
    whole, took its second night 369 s."""

    rows: pd.DataFrame
    seen_again_from: str | None  # None: `rows` is the whole history
    seen_on: str
    run_id: str


@dataclass
class ReviewOutcome:
    findings: pd.DataFrame  # to report, each with its status and carried work
    # every finding the store knows, as of this run (None once only the change is needed)
    history: pd.DataFrame | None
    suppressed: int
    resolved: int
    change: HistoryChange  # what the store must write to hold `history`


def history_change(
    known: pd.DataFrame, now: pd.DataFrame, run_id: str, today: str
) -> HistoryChange:
    """The change that turns the stored history `known` into `now` (both with a finding_id
    column). The run most stored rows were last seen in (the last one) has its rows seen again;
    the rows that then still differ from `now` (new ids among them) are the ones to write. One
    stored column is taken at a time: a province's history has millions of rows."""
    last_runs = known["last_run"].mode()  # none in a store older than the column
    if not len(last_runs):
        return HistoryChange(now, None, today, run_id)
    since = last_runs.iloc[0]
    at = pd.Index(known["finding_id"]).get_indexer(now["finding_id"])
    same = at >= 0
    rows = np.where(same, at, 0)  # a new id's stored values are never compared: it differs
    seen_again = same & (known["last_run"].to_numpy(dtype=object)[rows] == since)
    moved = {"last_seen": today, "last_run": run_id}
    for column in HISTORY_COLUMNS[1:]:
        before = known[column].to_numpy(dtype=object)[rows]
        if column in moved:
            before[seen_again] = moved[column]
        same &= equal_cells(before, now[column].to_numpy(dtype=object))
    return HistoryChange(now[~same], since, today, run_id)


def _as_column(value: object, length: int) -> np.ndarray:
    """An array of values as it is; one value repeated `length` times."""
    if np.ndim(value) == 0:
        return np.full(length, value, dtype=object)
    return np.asarray(value, dtype=object)


def _latest(decisions: pd.DataFrame) -> pd.DataFrame:
    if not len(decisions):
        return pd.DataFrame(columns=DECISION_COLUMNS).set_index("finding_id")
    ordered = decisions.sort_values("decided_at", kind="stable")
    return ordered.groupby("finding_id").tail(1).set_index("finding_id")


def _latest_note(decisions: pd.DataFrame) -> pd.Series:
    if not len(decisions):
        return pd.Series(dtype=object)
    noted = decisions[decisions["note"].fillna("") != ""]
    ordered = noted.sort_values("decided_at", kind="stable")
    return ordered.groupby("finding_id")["note"].last()


def apply_review(
    findings: pd.DataFrame,
    history: pd.DataFrame,
    decisions: pd.DataFrame,
    processed_lists: set[str],
    run_id: str,
    run_date: dt.date,
) -> ReviewOutcome:
    # columns are added, none written into: the findings' arrays are shared, not copied (a dirty
    # province's millions of findings)
    findings = findings.copy(deep=False)
    findings.index = pd.RangeIndex(len(findings))
    findings["values_hash"] = [
        values_hash(s, r)
        for s, r in zip(findings["source_value"], findings["register_value"], strict=True)
    ]
    findings["field_hashes"] = field_hashes(findings) if len(findings) else []
    latest = _latest(decisions)
    if not len(history):
        history = pd.DataFrame(columns=HISTORY_COLUMNS)
    ids = findings["finding_id"]
    at = pd.Index(history["finding_id"]).get_indexer(ids)
    seen = at >= 0

    def stored(column: str) -> np.ndarray:
        """The stored history's `column` for each finding (None for a finding first seen)."""
        values = np.full(len(ids), None, dtype=object)
        values[seen] = history[column].to_numpy(dtype=object)[at[seen]]
        return values

    decided = latest.reindex(ids)
    judged = decided["decision"].to_numpy(dtype=object)
    same_values = decided["values_hash"].to_numpy(dtype=object) == findings["values_hash"]
    dismissal = np.isin(judged, DISMISSING)
    dismissed = dismissal & same_values
    raised_again = dismissal & ~same_values
    before = stored("status")
    statuses = np.where(
        judged == UPDATED,
        "reported_fixed_still_differs",
        np.where(pd.notna(before) & (before != "resolved"), "open", "new"),
    )
    findings["status"] = np.where(dismissed, "dismissed", statuses)
    # work in progress comes back beside the finding
    findings["previous_decision"] = np.where(pd.notna(judged), judged, "")
    findings["previous_note"] = _latest_note(decisions).reindex(ids).fillna("").to_numpy()
    findings["changed"] = [
        changed_fields(b, n) if again else ""
        for b, n, again in zip(
            decided["field_hashes"].to_numpy(dtype=object),
            findings["field_hashes"],
            raised_again,
            strict=True,
        )
    ]
    findings["raised_again"] = raised_again
    del decided

    today = run_date.isoformat()
    # a finding seen before keeps when it was first seen, unless it had been resolved
    first_seen = stored("first_seen")
    carry = pd.notna(first_seen) & (before != "resolved")
    dismissed_on = stored("dismissed_on")
    kept = dismissed & pd.notna(dismissed_on)
    current = {
        "finding_id": ids.to_numpy(dtype=object),
        "type": findings["type"].to_numpy(dtype=object),
        "list_kind": findings["list_kind"].to_numpy(dtype=object),
        # the list's identity across monthly file names, which "resolved" is judged on
        "list_label": findings["list_series"].to_numpy(dtype=object),
        "values_hash": findings["values_hash"].to_numpy(dtype=object),
        "field_hashes": findings["field_hashes"].to_numpy(dtype=object),
        "first_seen": np.where(carry, first_seen, today),
        "first_run": np.where(carry, stored("first_run"), run_id),
        "last_seen": today,
        "last_run": run_id,
        "status": findings["status"].to_numpy(dtype=object),
        "resolved_on": None,
        "dismissed_on": np.where(kept, dismissed_on, np.where(dismissed, today, None)),
    }
    del before, first_seen, carry, dismissed_on, kept
    gone = np.ones(len(history), dtype=bool)
    gone[at[seen]] = False
    leaving = {column: history[column].to_numpy(dtype=object)[gone] for column in HISTORY_COLUMNS}
    closing = (
        pd.Series(leaving["status"]).isin(OPEN_STATUSES)
        & pd.Series(leaving["list_label"]).isin(processed_lists)
    ).to_numpy()
    leaving["status"] = np.where(closing, "resolved", leaving["status"])
    leaving["resolved_on"] = np.where(closing, today, leaving["resolved_on"])
    history_now = pd.DataFrame(
        {
            column: np.concatenate([_as_column(current[column], len(ids)), leaving[column]])
            for column in HISTORY_COLUMNS
        },
        columns=HISTORY_COLUMNS,
    )
    del current, leaving
    reported = findings
    if dismissed.any():  # one copy, not two (reset_index copied the copy)
        reported = findings.take(np.flatnonzero(~dismissed))
        reported.index = pd.RangeIndex(len(reported))
    return ReviewOutcome(
        reported,
        history_now,
        int(dismissed.sum()),
        int(closing.sum()),
        history_change(history, history_now, run_id, today),
    )
