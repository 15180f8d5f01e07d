"""The decisions store writes a run's findings a batch at a time through the database driver
(COPY on PostgreSQL): every row and cell comes back as written, whatever the text holds, and a
failure in a later batch leaves the store as the last run left it. Hand-written rows."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from reconcile.review.rules import HISTORY_COLUMNS, HistoryChange, history_change
from reconcile.review.store import DecisionStore

# Text a hand-typed list can carry into a finding, and what COPY's text format and SQL quoting
# must carry through unchanged: tabs, line breaks, backslashes, quotes, NFD and NFC diacritics.
AWKWARD = [
    "Nguyễn Thị Hoà",
    "Nguyê\u0303n Văn A",  # NFD
    "a\tb",
    "dòng 1\ndòng 2\r\n",
    "C:\\Users\\tu_phap\\khai_tu.xlsx",
    'O\'Neil "Tí"',
    "\\N",  # COPY's own marker for NULL, as text
    "",
    ";",
]


def _history(count: int, run: str) -> pd.DataFrame:
    rows = []
    for i in range(count):
        text = AWKWARD[i % len(AWKWARD)]
        rows.append(
            {
                "finding_id": f"f{i:05d}",
                "type": "name_mismatch",
                "list_kind": "death",
                "list_label": text,
                "values_hash": f"{run}{i}",
                "field_hashes": None if i % 4 == 0 else f"name:{i}",
                "first_seen": "2026-11-01",
                "first_run": run,
                "last_seen": "2026-11-02",
                "last_run": run,
                "status": "open",
                "resolved_on": None,
                "dismissed_on": float("nan") if i % 5 == 0 else None,  # as pandas leaves it
            }
        )
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def _save(store: DecisionStore, history: pd.DataFrame, run: str) -> None:
    whole = HistoryChange(history, None, "2026-11-02", run)
    store.save(whole, dt.datetime(2026, 11, 2, 2, 0), len(history), 0, 0)


def test_every_row_and_cell_comes_back_as_written(open_store):
    store = open_store("Xã A")
    history = _history(40, "r1")
    _save(store, history, "r1")
    back = store.history().sort_values("finding_id").reset_index(drop=True)
    expected = history.astype(object).where(history.notna(), None)
    assert len(back) == 40
    assert back.to_dict("records") == expected.to_dict("records")
    store.record_issued("r1", history)
    issued = store.issued("r1")
    assert len(issued) == 40
    assert issued["f00003"] == ("r13", "name:3")
    assert issued["f00004"] == ("r14", "")  # no field hashes


def test_a_failure_in_a_later_batch_leaves_the_last_run_whole(open_store):
    store = open_store("Xã A")
    _save(store, _history(20, "r1"), "r1")
    broken = _history(30, "r2")
    broken.loc[29, "finding_id"] = broken.loc[1, "finding_id"]  # the fifth batch fails
    with pytest.raises(sa.exc.IntegrityError):
        _save(store, broken, "r2")
    kept = store.history()
    assert len(kept) == 20 and set(kept["last_run"]) == {"r1"}


def test_communes_sharing_a_store_replace_only_their_own_rows(open_store):
    a, b = open_store("Xã A"), open_store("Xã B")
    _save(a, _history(10, "a1"), "a1")
    _save(b, _history(12, "b1").assign(finding_id=lambda f: "b" + f["finding_id"]), "b1")
    _save(a, _history(3, "a2"), "a2")
    assert sorted(a.history()["last_run"]) == ["a2"] * 3
    assert len(b.history()) == 12


def test_a_change_sees_the_last_runs_rows_again_and_writes_only_the_rest(open_store):
    """Night 2 as rules.history_change makes it: the rows night 1 saw and night 2 sees again
    are moved in one update; a row resolved tonight, one whose list was skipped, one whose
    values changed and a new one are written. The store then holds night 2's history."""
    store, other = open_store("Xã A"), open_store("Xã B")
    _save(store, _history(12, "r1"), "r1")
    _save(other, _history(5, "b1").assign(finding_id=lambda f: "b" + f["finding_id"]), "b1")
    known = store.history()
    now = known.copy()
    now[["last_seen", "last_run"]] = ["2026-11-03", "r2"]
    now.loc[0, ["status", "resolved_on", "last_seen", "last_run"]] = [
        "resolved",
        "2026-11-03",
        "2026-11-02",
        "r1",
    ]
    now.loc[1, ["last_seen", "last_run"]] = ["2026-11-02", "r1"]  # its list skipped tonight
    now.loc[2, "values_hash"] = "changed"
    new = _history(13, "r2").iloc[[12]].assign(last_seen="2026-11-03")
    now = pd.concat([now, new], ignore_index=True)
    change = history_change(known, now, "r2", "2026-11-03")
    assert change.seen_again_from == "r1"
    assert sorted(change.rows["finding_id"]) == ["f00000", "f00001", "f00002", "f00012"]
    store.save(change, dt.datetime(2026, 11, 3, 2, 0), len(now), 0, 1)
    expected = now.astype(object).where(now.notna(), None)
    pd.testing.assert_frame_equal(
        store.history().sort_values("finding_id").reset_index(drop=True),
        expected.sort_values("finding_id").reset_index(drop=True),
    )
    assert set(other.history()["last_run"]) == {"b1"}  # another commune's rows not moved


def test_a_value_repeated_down_a_history_column_is_read_as_one_object(open_store):
    """A province's history repeats a few types, statuses and run dates over millions of rows:
    read back, each such value is one object its rows share, across the batches read."""
    store = open_store("Xã A")
    _save(store, _history(40, "r1"), "r1")
    history = store.history()
    for column in ("type", "list_label", "first_seen", "last_run", "status", "dismissed_on"):
        values = history[column]
        assert values.map(id).nunique() == values.nunique(dropna=False), column


def test_a_history_without_runs_is_written_whole(open_store):
    """Rows of a store older than the last_run column carry none: no run's rows can be seen
    again, so the night writes its whole view."""
    store = open_store("Xã A")
    _save(store, _history(8, "r1").assign(last_run=None), "r1")
    now = store.history().assign(last_seen="2026-11-03", last_run="r2")
    change = history_change(store.history(), now, "r2", "2026-11-03")
    assert change.seen_again_from is None and len(change.rows) == 8
    store.save(change, dt.datetime(2026, 11, 3, 2, 0), 8, 0, 0)
    assert sorted(store.history()["last_run"]) == ["r2"] * 8
