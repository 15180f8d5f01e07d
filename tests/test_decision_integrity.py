"""Decisions apply only to what the officer saw, and only a workbook this installation issued can
make them: a decision typed into an old workbook does not silence a finding whose values changed
since; a pre-seeded or edited workbook, a hidden or added sheet, a formula, a deleted column
decide nothing and are reported; a kill between the run folder's rename and the store's update
loses nothing; a list renamed for next month keeps its dismissals; two communes sharing a store
stay apart; nothing a citizen typed executes in a CSV. Synthetic people only."""

import datetime as dt
import os
import re
import shutil

import pandas as pd
import pytest
from openpyxl import load_workbook

from reconcile import pipeline
from reconcile.config import load_config
from reconcile.ingest import find_header
from reconcile.pipeline import run_reconciliation
from reconcile.review.store import DecisionStore, store_for
from reconcile.review.workbook_decisions import DECISION_HEADER, ID_HEADER

from synthetic.commune import generate_commune


def _at(day: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, 2, 0)


def _decide(workbook, choices: dict, edit=None) -> None:
    """Type decisions by finding id (openpyxl stands in for the officer), optionally editing
    the workbook further, and leave it newer than its run's summary."""
    wb = load_workbook(workbook)
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        if ID_HEADER not in header or DECISION_HEADER not in header:
            continue
        for row in ws.iter_rows(min_row=2):
            if row[header.index(ID_HEADER)].value in choices:
                row[header.index(DECISION_HEADER)].value = choices[
                    row[header.index(ID_HEADER)].value
                ]
    if edit:
        edit(wb)
    wb.save(workbook)
    summary = workbook.parent / "summary.json"
    later = max(workbook.stat().st_mtime, summary.stat().st_mtime if summary.exists() else 0) + 5
    os.utime(workbook, (later, later))


@pytest.fixture
def commune(tmp_path):
    folder = tmp_path / "commune"
    config = load_config(generate_commune(folder, seed=31, size=500), out_dir=tmp_path / "out")
    return folder, config


def _rename_in_list(folder, finding, new_name) -> None:
    path = folder / finding["source_file"]
    wb = load_workbook(path)
    ws = wb.active
    header = find_header([list(r) for r in ws.iter_rows(max_row=40, values_only=True)])
    col = next(c for c, f in header.columns.items() if f == "full_name")
    ws.cell(int(finding["source_row"]), col + 1).value = new_name
    wb.save(path)


def test_a_decision_in_an_old_workbook_does_not_silence_changed_values(commune):
    folder, config = commune
    first, first_dir = run_reconciliation(config, now=_at(1))
    target = first.findings[first.findings["type"] == "name_differs"].iloc[0]
    _rename_in_list(folder, target, "Nguyễn Thị Đổi Khác")  # the values behind it change
    second, _ = run_reconciliation(config, now=_at(2))
    assert target["finding_id"] in set(second.findings["finding_id"])
    # only now does the officer judge the first workbook's (old) row "not wrong"
    _decide(first_dir / "review.xlsx", {target["finding_id"]: "Không sai"})
    third, _ = run_reconciliation(config, now=_at(3))
    assert third.review.decisions_recorded == 1
    assert target["finding_id"] in set(third.findings["finding_id"])  # still raised
    raised = third.findings.set_index("finding_id").loc[target["finding_id"]]
    assert raised["raised_again"] and raised["changed"] == "họ tên (danh sách)"


def test_only_findings_a_workbook_issued_can_be_decided_there(commune, tmp_path):
    _, config = commune
    first, first_dir = run_reconciliation(config, now=_at(1))
    ids = list(first.findings["finding_id"])
    # a forged workbook: the run's own file, its identity replaced (another installation's)
    forged = tmp_path / "inbox" / "gia.xlsx"
    forged.parent.mkdir()
    shutil.copy(first_dir / "review.xlsx", forged)

    def other_installation(wb):
        for prop in wb.custom_doc_props.props:
            if prop.name == "reconcile_token":
                prop.value = "0" * 24

    _decide(forged, {ids[0]: "Không sai"}, other_installation)

    def tamper(wb):
        sheets = [wb[n] for n in wb.sheetnames[2:-1]]
        first_sheet = sheets[0]
        header = [c.value for c in first_sheet[1]]
        id_col, decision_col = header.index(ID_HEADER) + 1, header.index(DECISION_HEADER) + 1
        first_sheet.cell(2, id_col).value = "deadbeef" * 2  # an id the run did not issue
        first_sheet.cell(2, decision_col).value = "Không sai"
        first_sheet.cell(3, decision_col).value = '=IF(1,"Không sai")'  # a formula
        added = wb.copy_worksheet(first_sheet)  # an added sheet
        added.title = "Thêm"
        if len(sheets) > 1:
            sheets[1].sheet_state = "hidden"  # a hidden sheet
        if len(sheets) > 2:
            sheets[2].delete_cols(decision_col)  # a deleted decision column

    _decide(first_dir / "review.xlsx", {}, tamper)
    config = config.model_copy(
        update={"review": config.review.model_copy(update={"inbox": forged.parent})}
    )
    second, _ = run_reconciliation(config, now=_at(2))
    assert second.review.decisions_recorded == 0
    problems = "\n".join(second.review.problems)
    assert "did not write" in problems  # the forged workbook
    assert "did not issue" in problems and "a formula" in problems
    assert "a sheet the run did not write" in problems and "hidden sheet" in problems
    assert "were deleted" in problems
    assert set(ids) <= set(second.findings["finding_id"])  # nothing was silenced


def test_a_kill_between_the_rename_and_the_stores_update_loses_no_decision(commune, monkeypatch):
    _, config = commune

    def killed(*_):
        raise KeyboardInterrupt  # the power fails after the folder is in place

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "record_stage", killed)
        with pytest.raises(KeyboardInterrupt):
            run_reconciliation(config, now=_at(1))
    (run_dir,) = [p for p in config.out_dir.iterdir() if p.is_dir()]
    findings = pd.read_csv(run_dir / "findings.csv", dtype=str, encoding="utf-8-sig")
    chosen = findings["finding_id"].iloc[0]
    _decide(run_dir / "review.xlsx", {chosen: "Không sai"})  # the police work in it
    second, _ = run_reconciliation(config, now=_at(2))
    assert second.review.decisions_recorded == 1 and second.review.problems == []
    assert chosen not in set(second.findings["finding_id"])


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_two_communes_sharing_a_store_stay_apart(tmp_path, engine, request):
    if engine == "postgresql":  # one PostgreSQL for a province, a real server
        store = request.getfixturevalue("postgres_url")
    else:
        store = f"sqlite:///{(tmp_path / 'tinh.sqlite').as_posix()}"
    configs = []
    for name, seed in (("Xã A", 41), ("Xã B", 42)):
        config = load_config(
            generate_commune(tmp_path / name, seed=seed, size=400), out_dir=tmp_path / f"out{seed}"
        )
        review = config.review.model_copy(update={"store": store, "commune": name})
        configs.append(config.model_copy(update={"review": review}))
    a, _ = run_reconciliation(configs[0], now=_at(1))
    b, _ = run_reconciliation(configs[1], now=_at(2))
    a_history = store_for(configs[0]).history()
    assert set(a_history["finding_id"]) == set(a.findings["finding_id"])  # B resolved none of A's
    assert (a_history["status"] != "resolved").all()
    assert not set(a.findings["finding_id"]) & set(b.findings["finding_id"])
    assert len(DecisionStore(store, "Xã B").history()) == len(b.findings)


def test_formula_text_never_reaches_a_csv_raw(tmp_path):
    folder = tmp_path / "c"
    config = load_config(generate_commune(folder, seed=51, size=300), out_dir=tmp_path / "out")
    path = next(folder.glob("doan_thanh_nien.xlsx"))
    wb = load_workbook(path)
    ws = wb.active
    header = find_header([list(r) for r in ws.iter_rows(max_row=40, values_only=True)])
    col = next(c for c, f in header.columns.items() if f == "full_name") + 1
    first = header.data_start + 1
    for offset, text in enumerate(["+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "=1+1"]):
        cell = ws.cell(first + offset, col)
        cell.value, cell.data_type = text, "s"
    ws.title = "=Trang"
    wb.save(path)
    os.replace(path, folder / "+doan.xlsx")
    lists = [
        spec.model_copy(update={"path": folder / "+doan.xlsx"})
        if spec.path.name == path.name
        else spec
        for spec in config.lists
    ]
    _, run_dir = run_reconciliation(config.model_copy(update={"lists": lists}), now=_at(1))
    for name in ("findings.csv", "links.csv", "rejected.csv", "layout.csv"):
        frame = pd.read_csv(run_dir / name, dtype=str, encoding="utf-8-sig").fillna("")
        cells = [c for c in frame.to_numpy().ravel() if not re.fullmatch(r"-?\d+(\.\d+)?", c)]
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), name  # numbers aside
    findings = pd.read_csv(run_dir / "findings.csv", dtype=str, encoding="utf-8-sig")
    assert (findings["source_file"] == "'+doan.xlsx").any()
