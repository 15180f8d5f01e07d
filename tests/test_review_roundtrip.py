"""The police officer's decisions, read back by the next run."""

import datetime as dt
import json
import os
import shutil

import pandas as pd
import pytest
from openpyxl import load_workbook

from reconcile.config import load_config
from reconcile.findings import ALL_COLUMNS, FINDING_LABELS
from reconcile.ingest import find_header
from reconcile.pipeline import run_reconciliation
from reconcile.review.rules import (
    DECISION_COLUMNS,
    HISTORY_COLUMNS,
    apply_review,
    values_hash,
)
from reconcile.review.store import DecisionStore, default_url
from reconcile.review.workbook_decisions import ID_HEADER, NOT_WRONG, canonical_decision

from synthetic.commune import generate_commune


def _findings(run_dir):
    return pd.read_csv(run_dir / "findings.csv", dtype=str, encoding="utf-8-sig").fillna("")


def _fill_and_resort(workbook_path, choices: dict[str, str]) -> None:
    """Write decisions by finding id, then reverse every sheet's data rows, as an officer who
    sorted the sheet would leave it."""
    wb = load_workbook(workbook_path)
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        if ID_HEADER not in header:
            continue
        id_col, decision_col = header.index(ID_HEADER), header.index("Quyết định")
        rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
        for row in rows:
            if row[id_col] in choices:
                row[decision_col] = choices[row[id_col]]
        for r, row in enumerate(reversed(rows), start=2):
            for c, value in enumerate(row, start=1):
                ws.cell(r, c).value = value
    wb.save(workbook_path)
    later = workbook_path.stat().st_mtime + 5
    os.utime(workbook_path, (later, later))


def _edit_list(path, edit) -> None:
    wb = load_workbook(path)
    edit(wb.active)
    wb.save(path)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("commune")
    config = load_config(generate_commune(folder, seed=11, size=600), out_dir=folder / "out")
    first, first_dir = run_reconciliation(config, now=dt.datetime(2026, 11, 1, 2, 0))
    found = _findings(first_dir)

    def pick(kind, n=0):
        return found[found["type"] == kind].iloc[n]

    dismissed = pick("sex_differs")
    not_same = pick("register_duplicate")
    changed = pick("name_differs")
    fixed = pick("birth_date_differs")
    typed = pick("id_differs")
    unknown = pick("not_in_register", 0)
    removed = pick("not_in_register", 1)
    _fill_and_resort(
        first_dir / "review.xlsx",
        {
            dismissed["finding_id"]: "Không sai",
            not_same["finding_id"]: "Không phải cùng người",
            changed["finding_id"]: "Không sai",
            fixed["finding_id"]: "Đã cập nhật",
            typed["finding_id"]: "khong sai",  # pasted past the drop-down, without diacritics
            unknown["finding_id"]: "OK rồi",  # not a decision: reported, never guessed
        },
    )
    # Between the runs: the name behind one dismissed finding changes again, and one list row
    # is deleted from its list.
    changed_file, changed_row = folder / changed["source_file"], int(changed["source_row"])
    removed_file, removed_row = folder / removed["source_file"], int(removed["source_row"])

    def rename(ws):
        header = find_header([list(r) for r in ws.iter_rows(max_row=40, values_only=True)])
        col = next(c for c, f in header.columns.items() if f == "full_name")
        ws.cell(changed_row, col + 1).value = "Nguyễn Thị Khác Hẳn"

    _edit_list(changed_file, rename)
    _edit_list(removed_file, lambda ws: ws.delete_rows(removed_row))
    second, second_dir = run_reconciliation(config, now=dt.datetime(2026, 11, 2, 2, 0))
    picked = {
        "dismissed": dismissed,
        "not_same": not_same,
        "changed": changed,
        "fixed": fixed,
        "typed": typed,
        "unknown": unknown,
        "removed": removed,
    }
    return config, first_dir, second_dir, picked, second


def test_dismissed_findings_are_not_raised_again(two_runs):
    _, _, second_dir, picked, _ = two_runs
    again = set(_findings(second_dir)["finding_id"])
    for name in ("dismissed", "not_same", "typed"):
        assert picked[name]["finding_id"] not in again, name
    summary = json.loads((second_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["review"]["suppressed"] == 3
    assert summary["review"]["workbooks_read"] == 1


def test_statuses_in_the_next_run(two_runs):
    _, first_dir, second_dir, picked, second = two_runs
    status = _findings(second_dir).set_index("finding_id")["status"]
    assert status[picked["fixed"]["finding_id"]] == "reported_fixed_still_differs"
    assert status[picked["changed"]["finding_id"]] == "open"  # values changed since judged
    raised = second.findings.set_index("finding_id").loc[picked["changed"]["finding_id"]]
    assert raised["raised_again"] and raised["previous_decision"] == "Không sai"
    assert raised["changed"] == "họ tên (danh sách)"  # says what changed, keeps no value
    assert status[picked["unknown"]["finding_id"]] == "open"
    assert set(_findings(first_dir)["status"]) == {"new"}


def test_a_finding_no_longer_detected_is_resolved_with_the_date(two_runs):
    config, _, second_dir, picked, _ = two_runs
    history = DecisionStore(default_url(config.out_dir)).history().set_index("finding_id")
    gone = history.loc[picked["removed"]["finding_id"]]
    assert (gone["status"], gone["resolved_on"]) == ("resolved", "2026-11-02")
    assert picked["removed"]["finding_id"] not in set(_findings(second_dir)["finding_id"])


def test_an_unknown_decision_is_reported_by_sheet_and_row_never_by_its_text(two_runs):
    _, _, second_dir, picked, second = two_runs
    (problem,) = second.review.problems  # shown in the workbook, in the owner-only run folder
    assert "drop-down" in problem and "dòng" in problem and "trang" in problem
    assert "OK rồi" not in problem  # the officer's text is not quoted anywhere
    summary = json.loads((second_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["review"]["ignored"] == 1 and "problems" not in summary["review"]
    assert "OK rồi" not in (second_dir / "summary.json").read_text(encoding="utf-8")


def test_an_unedited_workbook_is_not_read_again(two_runs):
    from reconcile.review.workbook_decisions import review_workbooks

    config, first_dir, second_dir, _, _ = two_runs
    assert review_workbooks(None, config.out_dir) == [first_dir / "review.xlsx"]  # edited one
    # however long the workbook takes to write, summary.json is the last file a run touches
    written = second_dir / "summary.json", second_dir / "review.xlsx"
    assert written[0].stat().st_mtime >= written[1].stat().st_mtime


def test_decision_spellings():
    assert canonical_decision(" KHÔNG  SAI ") == "Không sai"
    assert canonical_decision("khong phai cung nguoi") == "Không phải cùng người"
    assert canonical_decision("sai") is None


def test_a_skipped_list_resolves_nothing():
    history = pd.DataFrame(
        [
            {
                "finding_id": "f1",
                "type": "name_differs",
                "list_kind": "welfare",
                "list_label": "welfare/tc",
                "values_hash": values_hash("a", "b"),
                "field_hashes": "",
                "first_seen": "2026-10-01",
                "first_run": "r1",
                "last_seen": "2026-10-01",
                "last_run": "r1",
                "status": "new",
                "resolved_on": None,
                "dismissed_on": None,
            }
        ]
    )
    empty = pd.DataFrame(columns=[*ALL_COLUMNS])
    decisions = pd.DataFrame(columns=DECISION_COLUMNS)
    skipped = apply_review(empty, history, decisions, {"register"}, "r2", dt.date(2026, 11, 1))
    assert skipped.resolved == 0 and skipped.history.at[0, "status"] == "new"
    read = apply_review(
        empty, history, decisions, {"register", "welfare/tc"}, "r2", dt.date(2026, 11, 1)
    )
    assert read.resolved == 1 and read.history.at[0, "resolved_on"] == "2026-11-01"


def test_monthly_report_counts_found_resolved_open_without_personal_data(two_runs, tmp_path):
    from click.testing import CliRunner

    from reconcile.cli import main

    config, _, second_dir, picked, _ = two_runs
    history = DecisionStore(default_url(config.out_dir)).history()
    result = CliRunner().invoke(
        main, ["report", "--month", "2026-11", "--out", str(config.out_dir)]
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(config.out_dir / "bao_cao_thang" / "bao_cao_2026-11.xlsx").active
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True)]
    total = rows[-1]
    assert total[0] == "Tổng cộng"
    open_start, found, resolved, dismissed, open_end = total[2:7]
    assert open_start == 0 and found == len(history)  # everything was first seen in November
    assert resolved == (history["status"] == "resolved").sum() >= 1
    assert dismissed == (history["status"] == "dismissed").sum() == 3
    assert open_end == history["status"].isin(["new", "open", "reported_fixed_still_differs"]).sum()
    for row in rows:  # per list and type, the month adds up
        assert row[2] + row[3] == row[4] + row[5] + row[6], row
    assert rows[0][1] in FINDING_LABELS.values()  # Vietnamese labels, not internal names
    text = (config.out_dir / "bao_cao_thang" / "bao_cao_2026-11.txt").read_text(encoding="utf-8")
    assert "THÁNG 11/2026" in text and f"phát hiện mới {len(history)}" in text
    people = _findings(second_dir)["source_value"].str.split(",").str[0]
    assert not any(name and name in text for name in people)
    october = CliRunner().invoke(
        main, ["report", "--month", "2026-10", "--out", str(config.out_dir)]
    )
    assert "không có trường hợp sai lệch" in october.output
    bad = CliRunner().invoke(main, ["report", "--month", "11/2026", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


RUN_DAY = dt.date(2026, 11, 1)


def _two_findings() -> pd.DataFrame:
    rows = []
    for n, (listed, registered) in enumerate([("Lê Văn Tú", "Lê Văn Tư"), ("1980", "1981")]):
        row = dict.fromkeys(ALL_COLUMNS, "")
        row.update(
            finding_id=f"f{n}",
            type="name_differs" if n == 0 else "birth_differs",
            list_kind="welfare",
            list_series="welfare/tc",
            source_value=listed,
            register_value=registered,
            status="new",
        )
        rows.append(row)
    return pd.DataFrame(rows, index=[10, 11])  # not numbered from 0: a caller's subset


def test_applying_decisions_leaves_the_findings_given_as_they_were():
    """apply_review shares the findings' columns rather than copying them (a province's
    millions): the frame it was given keeps its columns, values and index."""
    findings = _two_findings()
    before = findings.copy()
    no_decisions = pd.DataFrame(columns=DECISION_COLUMNS)
    empty_history = pd.DataFrame(columns=HISTORY_COLUMNS)
    kept = apply_review(findings, empty_history, no_decisions, {"welfare/tc"}, "r1", RUN_DAY)
    assert list(kept.findings["finding_id"]) == ["f0", "f1"]
    assert list(kept.findings.index) == [0, 1] and set(kept.findings["status"]) == {"new"}
    dismissal = {
        "finding_id": "f0",
        "run_id": "r0",
        "decision": NOT_WRONG,
        "note": "hai cách viết",
        "values_hash": values_hash("Lê Văn Tú", "Lê Văn Tư"),
        "field_hashes": "",
        "source": "review.xlsx",
        "decided_at": "2026-10-30T08:00:00",
    }
    decisions = pd.DataFrame([dismissal], columns=DECISION_COLUMNS)
    judged = apply_review(findings, empty_history, decisions, {"welfare/tc"}, "r1", RUN_DAY)
    assert list(judged.findings["finding_id"]) == ["f1"] and judged.suppressed == 1
    assert list(judged.findings.index) == [0]
    assert findings.equals(before) and list(findings.columns) == list(before.columns)
    assert list(findings.index) == [10, 11]


def test_a_finding_found_again_keeps_its_first_day_unless_it_had_been_resolved():
    """f0 is still open from October: it keeps when it was first seen. f1 was resolved and is
    found again: it is new again, from today. f9 is no longer found on a list this run read:
    resolved today."""
    stored = {"f0": "open", "f1": "resolved", "f9": "open"}
    history = pd.DataFrame(
        [
            dict.fromkeys(HISTORY_COLUMNS)
            | {
                "finding_id": finding,
                "type": "name_differs",
                "list_kind": "welfare",
                "list_label": "welfare/tc",
                "values_hash": "x",
                "field_hashes": "",
                "first_seen": "2026-10-01",
                "first_run": "r1",
                "last_seen": "2026-10-02",
                "last_run": "r2",
                "status": status,
                "resolved_on": "2026-10-02" if status == "resolved" else None,
            }
            for finding, status in stored.items()
        ],
        columns=HISTORY_COLUMNS,
    )
    no_decisions = pd.DataFrame(columns=DECISION_COLUMNS)
    outcome = apply_review(_two_findings(), history, no_decisions, {"welfare/tc"}, "r3", RUN_DAY)
    now = outcome.history.set_index("finding_id")
    assert list(now.loc[["f0", "f1"], "status"]) == ["open", "new"]
    assert list(now.loc[["f0", "f1"], "first_seen"]) == ["2026-10-01", "2026-11-01"]
    assert list(now.loc[["f0", "f1"], "first_run"]) == ["r1", "r3"]
    assert now.at["f9", "status"] == "resolved" and now.at["f9", "resolved_on"] == "2026-11-01"
    assert outcome.resolved == 1


def test_a_missing_value_beside_a_finding_is_hashed_as_a_blank_one():
    """A not-in-register finding has no register side: missing cells and blank ones show the
    officer the same, so a later run must not say a field changed between them."""
    blank, missing = _two_findings(), _two_findings()
    missing[["register_name", "register_birth"]] = [None, float("nan")]
    hashed = [
        apply_review(
            f, pd.DataFrame(), pd.DataFrame(columns=DECISION_COLUMNS), set(), "r1", RUN_DAY
        )
        for f in (blank, missing)
    ]
    assert list(hashed[0].findings["field_hashes"]) == list(hashed[1].findings["field_hashes"])


def test_a_night_writes_only_the_history_rows_that_changed(two_runs, tmp_path, monkeypatch):
    """The store's history after each night is the whole history the review made, though the
    night wrote only the rows that changed: none on a night when nothing did, the resolved
    one on a night a list row was deleted."""
    from reconcile import pipeline

    config, _, _, picked, _ = two_runs
    folder = tmp_path / "commune"  # the lists, and the store in out/ as two runs left it
    shutil.copytree(config.population_register.path.parent, folder)
    night = load_config(folder / "reconcile.toml", out_dir=folder / "out")
    outcomes = []
    real_apply_review = pipeline.apply_review

    def spied(*args):
        outcomes.append(real_apply_review(*args))
        return outcomes[-1]

    monkeypatch.setattr(pipeline, "apply_review", spied)
    run_reconciliation(night, now=dt.datetime(2026, 11, 3, 2, 0))  # nothing changed
    _assert_stored_as_reviewed(night, outcomes[-1])
    assert len(outcomes[-1].change.rows) == 0 and outcomes[-1].change.seen_again_from

    unknown = picked["unknown"]  # its list row deleted: resolved on the fourth night
    path, row = folder / unknown["source_file"], int(unknown["source_row"])
    _edit_list(path, lambda ws: ws.delete_rows(row))
    run_reconciliation(night, now=dt.datetime(2026, 11, 4, 2, 0))
    _assert_stored_as_reviewed(night, outcomes[-1])
    written = outcomes[-1].change.rows.set_index("finding_id")
    assert written.at[unknown["finding_id"], "status"] == "resolved"
    assert 0 < len(written) < 0.1 * len(outcomes[-1].history)


def _assert_stored_as_reviewed(config, outcome) -> None:
    stored = DecisionStore(default_url(config.out_dir)).history()
    expected = outcome.history.astype(object).where(outcome.history.notna(), None)
    pd.testing.assert_frame_equal(
        stored.sort_values("finding_id").reset_index(drop=True),
        expected.sort_values("finding_id").reset_index(drop=True),
    )
