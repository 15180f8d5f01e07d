"""Rows rendered straight to XML read back exactly as the same rows written cell by cell through
XlsxWriter's public API with cells.put: value, type, style and row height."""

from __future__ import annotations

import datetime as dt
import itertools
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from reconcile.report import bulk_rows
from reconcile.report.bulk_rows import BulkRowsWorksheet
from reconcile.report.cells import WORKBOOK_OPTIONS, Styles, put

VALUES = [
    "Nguyễn Thị Hoà",
    "  leading and trailing  ",
    '=HYPERLINK("http://x")',
    "+84912345678",
    "-",
    "@lệnh",
    "tro_cap_xa_hoi.xlsx",
    "_x000D_ literal escape",
    "a<b & c>d \"q\" 'a'",
    "bell\x07inside",
    "dòng một\ndòng hai",
    "Windows\r\nline end",  # line ends as typed on Windows, and a lone carriage return
    "lone\rreturn",
    "",
    None,
    float("nan"),
    pd.NA,
    True,
    False,
    dt.datetime(1987, 3, 9),
    dt.date(2001, 12, 31),
    42,
    np.int64(7),
    3.25,
    np.float64(-0.5),
    float("inf"),
    dt.time(8, 30),
]
STYLES = ["plain", "cell", "wrap", "date", "differs", "differs_date", "possible", "input"]
HEIGHTS = [None, 15, 15.5, 30, 45, 120]


def _rows():
    """Every value in every style, in rows of varying width and height."""
    pairs = list(itertools.product(VALUES, STYLES))
    rows, width = [], 9
    for start in range(0, len(pairs), width):
        rows.append(pairs[start : start + width])
        width = 5 if width == 9 else 9
    return rows


def _write(path, bulk: bool) -> None:
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    styles = Styles(wb)
    ws = wb.add_worksheet("Sheet", worksheet_class=BulkRowsWorksheet if bulk else None)
    if bulk:
        ws.styles = styles
    put(ws, styles, 0, 0, "Tiêu đề", "header")
    for r, row in enumerate(_rows(), start=1):
        height = HEIGHTS[r % len(HEIGHTS)]
        if bulk:
            ws.add_row(r, [v for v, _ in row], [s for _, s in row], height)
        else:
            for c, (value, style) in enumerate(row):
                put(ws, styles, r, c, value, style)
            if height is not None:
                ws.set_row(r, height)
    ws.freeze_panes(1, 0)
    wb.close()


def _cells(path):
    ws = openpyxl.load_workbook(path)["Sheet"]
    seen = {}
    for row in ws.iter_rows():
        for cell in row:
            seen[cell.coordinate] = (
                cell.value,
                cell.data_type,
                cell.number_format,
                cell.fill.fgColor.rgb if cell.fill.fill_type else None,
                cell.font.color.rgb if cell.font.color is not None else None,
                cell.font.b,
                cell.alignment.wrap_text,
                cell.alignment.vertical,
                cell.quotePrefix,
            )
    heights = {
        r: (d.height, d.customHeight) for r, d in ws.row_dimensions.items() if d.height is not None
    }
    # openpyxl lets a row written twice overwrite itself: the XML must hold each row once
    with zipfile.ZipFile(path) as package:
        rows = package.read("xl/worksheets/sheet1.xml").count(b"<row ")
    return seen, heights, ws.dimensions, ws.freeze_panes, rows


@pytest.mark.parametrize("batch", [bulk_rows.RENDER_BATCH, 4, 1])
def test_bulk_rows_read_back_as_the_same_cells_written_one_by_one(tmp_path, monkeypatch, batch):
    """Also when the rows are rendered to disk a few at a time, as a province's are."""
    monkeypatch.setattr(bulk_rows, "RENDER_BATCH", batch)
    _write(tmp_path / "put.xlsx", bulk=False)
    _write(tmp_path / "bulk.xlsx", bulk=True)
    by_put, by_bulk = _cells(tmp_path / "put.xlsx"), _cells(tmp_path / "bulk.xlsx")
    cells_put, cells_bulk = by_put[0], by_bulk[0]
    assert set(cells_bulk) == set(cells_put)
    for ref in cells_put:
        assert cells_bulk[ref] == cells_put[ref], ref
    assert by_bulk[1:] == by_put[1:]
    # the cases that matter are really in the file
    texts = {v[0] for v in cells_bulk.values()}
    assert {"tro_cap_xa_hoi.xlsx", "_x000D_ literal escape", "a<b & c>d \"q\" 'a'"} <= texts
    assert "  leading and trailing  " in texts
    assert any(v[8] for v in cells_bulk.values())  # a formula-like text kept as quoted text
    assert any(isinstance(v[0], dt.datetime) for v in cells_bulk.values())
    assert len(by_bulk[1]) >= 3  # rows taller than the default


def test_bulk_rows_must_follow_the_rows_written_cell_by_cell(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    ws = wb.add_worksheet("S", worksheet_class=BulkRowsWorksheet)
    ws.styles = Styles(wb)
    ws.add_row(1, ["a"], ["cell"])
    try:
        ws.add_row(1, ["b"], ["cell"])
    except ValueError:
        pass
    else:
        raise AssertionError("a row added twice was accepted")
    put(ws, ws.styles, 3, 0, "late", "cell")
    try:
        wb.close()
    except ValueError:
        return
    raise AssertionError("a bulk row before a cell-by-cell row was written")
