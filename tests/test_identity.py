"""A resident is known by his personal ID, never by a row number (design.md §3): a new register
export, its rows in another order, some residents gone and some new, without a resident-code
column (as the national database's extracts are), keeps the finding ids of unchanged facts and
every decision the police recorded on them."""

import datetime as dt
import os
import random

import pandas as pd
from openpyxl import Workbook, load_workbook

from reconcile.config import load_config
from reconcile.ingest import ingest_list
from reconcile.kinds import ListKind
from reconcile.pipeline import run_reconciliation
from reconcile.review.workbook_decisions import DECISION_HEADER, ID_HEADER

from synthetic.commune import generate_commune

FIELDS = {
    "full_name": "Họ và tên",
    "birth_date": "Ngày sinh",
    "sex": "Giới tính",
    "personal_id": "Số định danh cá nhân",
    "insurance_number": "Số thẻ BHYT",
    "hamlet": "Thôn/xóm",
    "household": "Mã hộ",
    "relation": "Quan hệ với chủ hộ",
    "status": "Tình trạng",
}


def _export(rows: pd.DataFrame, path) -> None:
    """A register export without a resident-code column, rows in the given order."""
    wb = Workbook()
    ws = wb.active
    ws.append(["DỮ LIỆU DÂN CƯ XÃ AN BÌNH"])
    ws.append(["STT", *FIELDS.values()])
    for number, row in enumerate(rows[list(FIELDS)].itertuples(index=False), start=1):
        ws.append([number, *(None if v is None or v != v else v for v in row)])
    wb.save(path)


def _dismiss(workbook, ids) -> None:
    wb = load_workbook(workbook)
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        if ID_HEADER not in header:
            continue
        for row in ws.iter_rows(min_row=2):
            if row[header.index(ID_HEADER)].value in ids:
                row[header.index(DECISION_HEADER)].value = "Không sai"
    wb.save(workbook)
    later = workbook.stat().st_mtime + 5
    os.utime(workbook, (later, later))


def test_a_reordered_export_with_residents_added_and_removed_keeps_ids_and_decisions(tmp_path):
    folder = tmp_path / "commune"
    config = load_config(generate_commune(folder, seed=21, size=900), out_dir=tmp_path / "out")
    register = ingest_list(folder / "dan_cu.xlsx", ListKind.REGISTER).frame
    _export(register, folder / "dan_cu.xlsx")
    first, first_dir = run_reconciliation(config, now=dt.datetime(2026, 11, 1, 2, 0))
    found = first.findings

    # the police dismiss a dozen findings in the first workbook
    dismissed = set(found["finding_id"].sample(12, random_state=3))
    _dismiss(first_dir / "review.xlsx", dismissed)

    # the next export: another order, 2% of the residents no list names gone, 15 newcomers
    linked = set(pd.to_numeric(first.links["register_row"], errors="coerce").dropna().astype(int))
    involved = set(found["register_row"]) | set(found["related_register_row"]) | linked
    rng = random.Random(5)
    rows = zip(register.index, register["source_row"], strict=True)
    free = [i for i, row in rows if row not in involved]
    removed = set(rng.sample(free, len(register) // 50))
    kept = register.drop(index=list(removed)).sample(frac=1.0, random_state=8)
    newcomers = pd.DataFrame(
        {
            "full_name": [f"Khổng Minh Mới {chr(65 + i)}" for i in range(15)],
            "birth_date": [f"{1 + i:02d}/03/1999" for i in range(15)],
            "sex": "Nam",
            "personal_id": [f"034099{900000 + i:06d}" for i in range(15)],
            "hamlet": "Thôn Đông",
            "household": [f"HOMOI{i}" for i in range(15)],
            "relation": "Chủ hộ",
            "status": "Đang cư trú",
        }
    )
    _export(pd.concat([kept, newcomers], ignore_index=True), folder / "dan_cu.xlsx")
    second, _ = run_reconciliation(config, now=dt.datetime(2026, 11, 2, 2, 0))

    removed_ids = set(
        first.register.people.loc[
            first.register.people["source_row"].isin(register.loc[list(removed), "source_row"]),
            "person_id",
        ]
    )
    unchanged = found[
        ~found["person_id"].isin(removed_ids) & ~found["related_person_id"].isin(removed_ids)
    ]
    still = set(second.findings["finding_id"]) | dismissed
    kept_share = unchanged["finding_id"].isin(still).mean()
    assert kept_share >= 0.999, unchanged[~unchanged["finding_id"].isin(still)][["type", "field"]]
    # every decision honoured: the dismissed findings stay quiet
    assert not dismissed & set(second.findings["finding_id"])
    assert second.review.suppressed == len(dismissed)
    # and nobody is known by a row number
    ids = second.register.people["person_id"]
    assert not ids.str.fullmatch(r"R\d+").any() and ids.is_unique
