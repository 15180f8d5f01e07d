"""A Parquet file or a database table is read column by column (ingest.extract_typed), and gives
what reading the same rows one by one as a sheet gives. Rows typed by hand; the TCVN3 names are
glibc iconv's bytes (iconv -f UTF-8 -t TCVN5712-1), not our encoder's."""

import math
import unicodedata

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reconcile import ingest
from reconcile.kinds import ListKind
from reconcile.pipeline import validate_stage

NAN = math.nan
COLUMNS = {
    "STT": pa.int64(),
    "Họ và tên": pa.string(),  # TCVN3 throughout, as a list typed in .VnTime and exported
    "Ngày sinh": pa.string(),
    "Giới tính": pa.string(),
    "Số định danh cá nhân": pa.string(),
    "Thôn/xóm": pa.string(),
    "Ghi chú": pa.string(),  # not ours: read only to tell a blank row
    "Số tiền": pa.float64(),  # not ours either
}
ROWS = [
    [1, "NguyÔn V¨n Hoµ", "12/03/1980", "Nam", "001080012345", "Thôn 1", None, 1_500_000.0],
    [None, None, None, None, None, None, None, None],  # blank
    [2, "TrÇn ThÞ Lan", "1975", "Nữ", None, unicodedata.normalize("NFD", "Thôn Đông"), "", NAN],
    [None, "  ", " ", "", None, "\t", None, NAN],  # blank: only spaces and an empty amount
    [3, "Lª ThÞ Hoa", "5/11/1990", "Nữ", "001190054321", "Thôn 2", "", 800_000.0],
    [4, "Ph¹m V¨n §øc", "1948", "Nam", "001048000123", "Thôn 1", None, NAN],
]


def _write_parquet(path, rows=ROWS, columns=COLUMNS, chunk=None):
    names = list(columns)
    table = pa.table(
        {n: pa.array([r[i] for r in rows], type=t) for i, (n, t) in enumerate(columns.items())}
    )
    pq.write_table(table, path, row_group_size=chunk or len(rows))
    return names


def _read_both(path, monkeypatch, **kwargs):
    """(column by column, row by row as a sheet) ingest_list of the same table, and how many
    tables the column-by-column reading took."""
    taken = []
    extract = ingest.extract_typed

    def spying(*args, **kw):
        table = extract(*args, **kw)
        taken.append(table is not None)
        return table

    monkeypatch.setattr(ingest, "extract_typed", spying)
    typed = ingest.ingest_list(path, ListKind.WELFARE, **kwargs)
    monkeypatch.setattr(ingest, "extract_typed", lambda *args, **kw: None)
    sheet = ingest.ingest_list(path, ListKind.WELFARE, **kwargs)
    return typed, sheet, taken


def _assert_same(typed, sheet):
    pd.testing.assert_frame_equal(typed.frame, sheet.frame)
    pd.testing.assert_frame_equal(typed.layout, sheet.layout)
    assert [vars(r) for r in typed.sheets] == [vars(r) for r in sheet.sheets]
    assert (typed.headers, typed.warnings, typed.title, typed.list_date) == (
        sheet.headers,
        sheet.warnings,
        sheet.title,
        sheet.list_date,
    )


def _read_as_a_sheet(tmp_path, monkeypatch, rows, columns):
    """A Parquet list of Nguyễn Văn Hoà and Trần Thị Lan that the column-by-column reading
    declines: read row by row, as a sheet."""
    path = tmp_path / "tro_cap.parquet"
    _write_parquet(path, rows, columns)
    typed, sheet, taken = _read_both(path, monkeypatch)
    assert taken == [False]
    _assert_same(typed, sheet)
    assert list(typed.frame["full_name"]) == ["Nguyễn Văn Hoà", "Trần Thị Lan"]
    return typed


def test_a_parquet_list_reads_column_by_column_as_it_reads_row_by_row(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "TABLE_CHUNK_ROWS", 3)  # blank rows in two different chunks
    path = tmp_path / "tro_cap.parquet"
    _write_parquet(path, chunk=2)
    typed, sheet, taken = _read_both(path, monkeypatch)
    assert taken == [True]
    _assert_same(typed, sheet)
    frame = typed.frame
    # the two blank rows are counted, not read
    assert list(frame["source_row"]) == [2, 4, 6, 7]
    assert typed.sheets[0].rows == len(ROWS) + 1 and typed.sheets[0].layout["blank"] == 2
    # TCVN3 decoded on the evidence of the whole column
    assert list(frame["full_name"]) == [
        "Nguyễn Văn Hoà",
        "Trần Thị Lan",
        "Lê Thị Hoa",
        "Phạm Văn Đức",
    ]
    assert frame["row_number"].tolist()[:2] == [1.0, 2.0]  # as from_records gives it
    assert "Ghi chú" not in frame and "Số tiền" not in frame


def test_a_record_of_a_typed_table_is_never_taken_for_layout(tmp_path, monkeypatch):
    """A sheet's row holding one text alone in a numbered list is a section title; a table's
    row is a record, however empty: it is read, and validation rejects it with its reason."""
    note = [None, None, None, None, None, None, "chuyển đi", NAN]
    path = tmp_path / "tro_cap.parquet"
    _write_parquet(path, [*ROWS, note])
    typed, sheet, taken = _read_both(path, monkeypatch)
    assert taken == [True]
    assert list(sheet.layout["role"]) == ["header", "label"]  # what a sheet would make of it
    assert list(typed.layout["role"]) == ["header"]
    assert typed.frame["source_row"].iloc[-1] == len(ROWS) + 2
    validated = validate_stage(typed)
    assert len(validated.valid) + len(validated.rejected) == len(typed.frame) == 5
    rejected = validated.rejected.set_index("source_row").loc[len(ROWS) + 2]
    assert rejected["column"] == "Họ và tên" and "required cell is empty" in rejected["reason"]


@pytest.mark.parametrize("title", [True, False])
def test_a_table_whose_column_names_are_not_its_header_is_read_as_a_sheet(
    tmp_path, monkeypatch, title
):
    """A sheet saved as Parquet as it stood: the column names are pandas' own, and the header
    is a record (below the title block, if it had one)."""
    columns = {f"Unnamed: {i}": pa.string() for i in range(4)}
    rows = [
        *([["DANH SÁCH HƯỞNG TRỢ CẤP THÁNG 11", None, None, None]] if title else []),
        ["Họ và tên", "Ngày sinh", "Giới tính", "Thôn/xóm"],
        ["Nguyễn Văn Hoà", "12/03/1980", "Nam", "Thôn 1"],
        ["Trần Thị Lan", "1975", "Nữ", "Thôn 2"],
    ]
    typed = _read_as_a_sheet(tmp_path, monkeypatch, rows, columns)
    assert list(typed.frame["source_row"]) == ([4, 5] if title else [3, 4])
    assert set(typed.layout["role"]) == {"title", "header"}  # the column names are a title row


def test_a_table_with_split_name_columns_is_read_as_a_sheet(tmp_path, monkeypatch):
    columns = {"Họ": pa.string(), "Tên": pa.string(), "Ngày sinh": pa.string()}
    rows = [["Nguyễn Văn", "Hoà", "12/03/1980"], ["Trần Thị", "Lan", "1975"]]
    _read_as_a_sheet(tmp_path, monkeypatch, rows, columns)


def test_a_postgresql_list_reads_column_by_column_as_it_reads_row_by_row(postgres_url, monkeypatch):
    import sqlalchemy as sa

    monkeypatch.setattr(ingest, "TABLE_CHUNK_ROWS", 3)
    frame = pd.DataFrame(ROWS, columns=list(COLUMNS)).astype({"STT": "Int64"})
    engine = sa.create_engine(postgres_url)
    frame.to_sql("tro_cap_tinh", engine, index=False)
    engine.dispose()
    typed, sheet, taken = _read_both(
        ingest.Path("tro_cap_tinh"), monkeypatch, url=postgres_url, table="tro_cap_tinh"
    )
    assert taken == [True]
    _assert_same(typed, sheet)
    assert len(typed.frame) == 4 and typed.frame["full_name"].iloc[0] == "Nguyễn Văn Hoà"


CELLS = [None, "", "   ", "\u00a0", NAN, 0, 0.0, False, "\u00ad", "x", " a "]


@pytest.mark.parametrize("cell", CELLS)
def test_a_cell_is_empty_exactly_when_the_sheet_reading_finds_no_text_in_it(cell):
    from reconcile.layout import _text

    assert ingest._empty(cell) == (_text(cell) == "")
    if cell is None or cell != cell or isinstance(cell, str) and not cell.strip():
        assert ingest._empty(cell)  # the blanks: None, NaN, spaces (U+00A0 too)
