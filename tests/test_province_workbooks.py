"""A province's findings pass what one Excel sheet holds: the review workbook is split per
commune, every finding lands in exactly one workbook, and decisions typed into any of them
come back."""

import datetime as dt

import pandas as pd
from openpyxl import load_workbook

from reconcile.config import load_config
from reconcile.pipeline import run_reconciliation
from reconcile.report import output
from reconcile.review.workbook_decisions import DECISION_HEADER, ID_HEADER

from synthetic.commune import generate_commune


def _two_communes(register_path) -> None:
    """Give the register a Xã/phường column: its first half in one commune, the rest in another."""
    wb = load_workbook(register_path)
    ws = wb.active
    header_row = next(r for r in range(1, 40) if any(c.value == "Họ và tên" for c in ws[r]))
    col = ws.max_column + 1
    ws.cell(header_row, col).value = "Xã/phường"
    last = ws.max_row
    for r in range(header_row + 1, last + 1):
        if ws.cell(r, 4).value:
            ws.cell(r, col).value = "Xã Tân An" if r < (header_row + last) / 2 else "Xã Tân Bình"
    wb.save(register_path)


def _ids(workbook) -> list[str]:
    wb = load_workbook(workbook, read_only=True)
    ids = []
    for ws in wb.worksheets:
        rows = ws.iter_rows(values_only=True)
        header = list(next(rows, ()))
        if ID_HEADER in header:
            ids += [r[header.index(ID_HEADER)] for r in rows if r[header.index(ID_HEADER)]]
    wb.close()
    return ids


def test_findings_past_a_sheets_limit_are_split_per_commune(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    config = load_config(generate_commune(folder, seed=23, size=600), out_dir=tmp_path / "out")
    _two_communes(config.population_register.path)
    monkeypatch.setattr(output, "SHEET_ROW_LIMIT", 12)
    result, run_dir = run_reconciliation(config, now=dt.datetime(2026, 11, 5, 2, 0))
    books = sorted(p.name for p in run_dir.glob("review*.xlsx"))
    assert "review.xlsx" not in books
    assert {"review_tan_an.xlsx", "review_tan_binh.xlsx"} <= set(books)
    everywhere = [i for name in books for i in _ids(run_dir / name)]
    assert len(everywhere) == len(set(everywhere))  # no finding twice
    found = pd.read_csv(run_dir / "findings.csv", dtype=str, encoding="utf-8-sig")
    assert set(everywhere) == set(found["finding_id"])  # and none lost
    in_tan_an = set(_ids(run_dir / "review_tan_an.xlsx"))
    communes = found.set_index("finding_id").loc[list(in_tan_an), "register_commune"]
    assert set(communes.fillna("")) <= {"tan an"}

    # a decision typed into one commune's workbook is honoured by the next run
    book = run_dir / "review_tan_binh.xlsx"
    chosen = sorted(_ids(book))[0]
    wb = load_workbook(book)
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        if ID_HEADER in header:
            for row in ws.iter_rows(min_row=2):
                if row[header.index(ID_HEADER)].value == chosen:
                    row[header.index(DECISION_HEADER)].value = "Không sai"
    wb.save(book)
    import os

    later = (run_dir / "summary.json").stat().st_mtime + 5
    os.utime(book, (later, later))
    second, _ = run_reconciliation(config, now=dt.datetime(2026, 11, 6, 2, 0))
    assert second.review.decisions_recorded == 1 and second.review.suppressed >= 1
    assert chosen not in set(second.findings["finding_id"])


def _findings(register_communes, list_communes):
    return pd.DataFrame(
        {
            "finding_id": [f"F{i}" for i in range(len(register_communes))],
            "type": ["wrong_name", "not_in_register", "wrong_birth_date", "wrong_name", "dead"][
                : len(register_communes)
            ],
            "register_commune": register_communes,
            "list_commune": list_communes,
        }
    )


def test_many_findings_over_several_communes_give_a_workbook_per_commune(monkeypatch):
    """Past SPLIT_FINDINGS a province's findings go to one workbook per commune, each finding in
    exactly one; a register row's commune first, else the list row's; one commune alone, or
    fewer findings, keep review.xlsx."""
    monkeypatch.setattr(output, "SPLIT_FINDINGS", 4)
    findings = _findings(["tan an", "", "tan binh", "tan an", None], ["", "tan binh", "", "", ""])
    parts = output.finding_parts(findings)
    assert [name for name, _ in parts] == [
        "review_chua_ro_xa.xlsx",
        "review_tan_an.xlsx",
        "review_tan_binh.xlsx",
    ]
    assert [list(rows["finding_id"]) for _, rows in parts] == [["F4"], ["F0", "F3"], ["F1", "F2"]]
    one_commune = _findings(["tan an"] * 5, [""] * 5)
    assert [name for name, _ in output.finding_parts(one_commune)] == ["review.xlsx"]
    assert [name for name, _ in output.finding_parts(findings.iloc[:4])] == ["review.xlsx"]


def test_the_officer_is_told_of_the_commune_workbooks_not_of_a_missing_review_xlsx(
    tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from reconcile.cli import main

    config = generate_commune(tmp_path / "in", seed=23, size=600)
    _two_communes(load_config(config).population_register.path)
    args = ["run", "--no-prefect", str(config), "--out", str(tmp_path / "out")]
    whole = CliRunner().invoke(main, args)
    monkeypatch.setattr(output, "SHEET_ROW_LIMIT", 12)
    split = CliRunner().invoke(main, [*args, "--full"])
    assert whole.exit_code == 0 and split.exit_code == 0, whole.output + split.output
    assert "Sổ rà soát / review workbook: " in whole.output
    books = len(list((tmp_path / "out").glob("*/review_*.xlsx")))
    assert books >= 2
    told = f"{books} sổ rà soát, mỗi xã một sổ / {books} review workbooks, one per commune"
    assert told in split.output and "review.xlsx" not in split.output


def test_a_split_runs_check_sample_is_marked_in_one_workbook_and_comes_back(tmp_path, monkeypatch):
    """The check sample of a split run is in review_chua_ro_xa.xlsx alone; marks typed there
    are read back by the next run, as a single workbook's are."""
    from test_trust import _mark

    from reconcile.report.workbook import UNPLACED_WORKBOOK

    config = load_config(
        generate_commune(tmp_path / "in", seed=23, size=600), out_dir=tmp_path / "out"
    )
    _two_communes(config.population_register.path)
    monkeypatch.setattr(output, "SHEET_ROW_LIMIT", 12)
    first, run_dir = run_reconciliation(config, now=dt.datetime(2026, 11, 5, 2, 0))
    assert len(first.trust.check_sample) > 0 and (run_dir / "review_tan_an.xlsx").is_file()
    marked = _mark(run_dir / UNPLACED_WORKBOOK, wrong=2)
    second, _ = run_reconciliation(config, now=dt.datetime(2026, 11, 6, 2, 0))
    assert second.review.check_marks == len(marked) == len(first.trust.check_sample)
