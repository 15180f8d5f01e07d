"""A province's register or list from Parquet or a PostgreSQL table reads as the same people as
the .xlsx of the same rows (streamed in chunks; the header is the column names)."""

import datetime as dt

import pandas as pd
import pytest
from openpyxl import Workbook

from reconcile import ingest
from reconcile.config import build_config
from reconcile.kinds import ListKind
from reconcile.normalize.people import normalize_people
from reconcile.pipeline import validate_stage

HEADERS = ["Mã nhân khẩu", "Họ và tên", "Ngày sinh", "Giới tính", "Số định danh cá nhân",
           "Thôn/xóm", "Xã/phường"]  # fmt: skip
ROWS = [
    ["NK1", "Nguyễn Văn An", dt.date(1980, 3, 12), "Nam", "001080012345", "Thôn 1", "Xã Tân An"],
    ["NK2", "Lê Thị Hoà", "1975", "Nữ", None, "Thôn 2", "Xã Tân An"],
    ["NK3", "Trần Quốc Tuấn", "05/11/1990", "Nam", "001090054321", "Thôn 1", "Xã Tân Bình"],
] * 40  # more rows than one chunk, below


def _people(ingested) -> pd.DataFrame:
    valid = validate_stage(ingested).valid
    people = normalize_people(valid, ListKind.REGISTER)
    return people.drop(columns=["source_file", "source_sheet", "source_row", "person_id"])


@pytest.fixture
def xlsx_people(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for row in ROWS:
        ws.append(row)
    path = tmp_path / "dan_cu.xlsx"
    wb.save(path)
    return _people(ingest.ingest_list(path, ListKind.REGISTER))


def test_a_parquet_register_reads_as_its_xlsx(tmp_path, xlsx_people, monkeypatch):
    monkeypatch.setattr(ingest, "TABLE_CHUNK_ROWS", 7)
    path = tmp_path / "dan_cu.parquet"
    frame = pd.DataFrame(ROWS, columns=HEADERS)
    frame["Ngày sinh"] = frame["Ngày sinh"].astype(str)
    frame.to_parquet(path)
    people = _people(ingest.ingest_list(path, ListKind.REGISTER))
    assert len(people) == len(ROWS)
    pd.testing.assert_frame_equal(people, xlsx_people)
    assert set(people["commune"]) == {"tan an", "tan binh"}


def test_a_postgresql_table_reads_as_its_xlsx(postgres_url, xlsx_people, monkeypatch):
    import sqlalchemy as sa

    monkeypatch.setattr(ingest, "TABLE_CHUNK_ROWS", 7)
    frame = pd.DataFrame(ROWS, columns=HEADERS)
    frame["Ngày sinh"] = frame["Ngày sinh"].astype(str)
    engine = sa.create_engine(postgres_url)
    frame.to_sql("dan_cu_tinh", engine, index=False)
    engine.dispose()
    ingested = ingest.ingest_list(
        ingest.Path("dan_cu_tinh"), ListKind.REGISTER, url=postgres_url, table="dan_cu_tinh"
    )
    people = _people(ingested)
    pd.testing.assert_frame_equal(people, xlsx_people)


def test_a_run_config_names_a_table_instead_of_a_file(tmp_path):
    config = build_config(
        {"kind": "register", "url": "postgresql+psycopg://h/db", "table": "cu_dan.dan_cu"},
        [],
        tmp_path,
    )
    spec = config.population_register
    assert spec.url and spec.table == "cu_dan.dan_cu"
    assert spec.label == "cu_dan_dan_cu"  # the schema's dot is not taken for a file suffix
