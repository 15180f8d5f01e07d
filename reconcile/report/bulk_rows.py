"""A worksheet whose many data rows go straight to XML when the workbook closes.

XlsxWriter spends about 16 µs on a cell: a cell object when it is written, then an XML element
built from attribute lists at close. A district's finding sheets hold a million cells, which
cost more than the whole matching stage. Rows given to `BulkRowsWorksheet.add_row` are kept as
the plain values and style names they came in, and rendered once, at close, by `_write_rows`,
with the same rules as `cells.put`: text always as text (inline, never a formula), dates as date
cells, numbers as numbers, an empty cell kept only for its style. Everything else on the sheet
(header row, column widths, validation, filter, print set-up) is still XlsxWriter's.

This reaches into XlsxWriter's worksheet internals (`_write_rows`, `fh`, the escaping helpers),
which pyproject pins to one major version; tests/test_bulk_rows.py compares every cell and row
height with what `cells.put` writes through the public API.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import shutil
import tempfile
from typing import IO

import pandas as pd
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from reconcile.report.cells import FORMULA_START, Styles

POINTS_PER_PIXEL = 0.75
# Rows are rendered to the sheet's temporary file this many at a time: a sheet of a million
# findings holds one batch's values (and rendered cells) in memory, not the sheet's.
RENDER_BATCH = 20_000


class _SharedText(int):
    """The index of a text kept in the workbook's shared string table."""

    quoted = False


class BulkRowsWorksheet(Worksheet):
    """Add it with `workbook.add_worksheet(name, worksheet_class=BulkRowsWorksheet)`, give it
    the workbook's `Styles`, write any header rows with `put`, then `add_row` the rest in
    order."""

    def __init__(self) -> None:
        super().__init__()
        self.styles: Styles | None = None
        self._xfs: dict[tuple[str, bool], int] = {}
        self._rows: list[tuple[int, float | None, list, list[str]]] = []
        self._first_row: int | None = None
        self._last_row = -1
        # the rows' XML, kept on disk until the workbook closes: about 2 KB a finding, which a
        # province's many begun workbooks could not all hold in memory
        self._rendered: IO[str] | None = None
        self._finished = False  # render() was called: no more rows

    def add_row(
        self, row: int, values: list, styles: list[str], height: float | None = None
    ) -> None:
        """One row from column 0: a value and a style name (cells.FORMATS) per cell, and the
        row's height in points. Rows come after every row written through XlsxWriter."""
        if self._finished:
            raise ValueError("rows added after the sheet was rendered")
        if row <= self._last_row:
            raise ValueError(f"bulk rows come in order: row {row} after {self._last_row}")
        self._check_dimensions(row, max(len(values) - 1, 0))
        if self._first_row is None:
            self._first_row = row
        self._last_row = row
        self._rows.append((row, height, [self._shared_if_escaped(v) for v in values], styles))
        if len(self._rows) >= RENDER_BATCH:
            self._render_batch()

    def _shared_if_escaped(self, value: object) -> object:
        # openpyxl reads "_xHHHH_" back as written in an inline string but decodes it in the
        # shared table, as Excel and LibreOffice do: such rare text goes to the table, which
        # XlsxWriter closes before any sheet is rendered
        if not isinstance(value, str) or ("_x" not in value and value.isprintable()):
            return value
        if self._escape_control_characters(value) == value:
            return value
        shared = _SharedText(self.str_table._get_shared_string_index(value))
        shared.quoted = value.startswith(FORMULA_START)
        return shared

    def render(self) -> None:
        """Make the rows' XML now, after the last add_row: the costly part of closing, done
        while the rest of the workbook still waits for its data (report.workbook)."""
        if not self._finished:
            self._render_batch()
            self._finished = True

    def _render_batch(self) -> None:
        """The rows added since the last batch, to the temporary file; their values let go."""
        if not self._rows:
            return
        if self._rendered is None:
            self._rendered = tempfile.TemporaryFile(
                "w+", encoding="utf-8", newline="", dir=self.tmpdir
            )
        self._render_rows(self._rendered.write)
        self._rows = []

    def _write_rows(self) -> None:
        super()._write_rows()
        if self._first_row is None:
            return
        if max((r for r, cells in self.table.items() if cells), default=-1) >= self._first_row:
            raise ValueError("a bulk row overlaps a row written cell by cell")
        self.render()
        with self._rendered as rendered:
            rendered.seek(0)
            shutil.copyfileobj(rendered, self.fh)

    def _render_rows(self, write) -> None:
        width = max(len(values) for _, _, values, _ in self._rows)
        letters = [xl_col_to_name(col) for col in range(width)]
        # a cell's element after its reference depends only on its value and style, and a
        # finding sheet repeats them (lists, types, hamlets, statuses): each made once a batch
        tails: dict[tuple, str] = {}
        for row, height, values, styles in self._rows:
            number = row + 1
            parts = [self._row_tag(number, height)]
            for col, (value, style) in enumerate(zip(values, styles, strict=True)):
                key = (value.__class__, value, style)
                try:
                    tail = tails.get(key)
                except TypeError:  # an unhashable value
                    key, tail = None, None
                if tail is None:
                    tail = self._tail(value, style)
                    # a NaN is never equal to another, so never found again: not kept
                    if key is not None and not (isinstance(value, float) and value != value):
                        tails[key] = tail
                if tail:
                    parts.append(f'<c r="{letters[col]}{number}"{tail}')
            parts.append("</row>")
            write("".join(parts))

    def _row_tag(self, number: int, height: float | None) -> str:
        # the same rule as XlsxWriter's set_row: points to whole pixels, default height unsaid
        if height is None:
            return f'<row r="{number}">'
        pixels = int(height * 4.0 / 3.0 + 0.5)
        if pixels == self.default_row_height == self.original_row_height:
            return f'<row r="{number}">'
        return f'<row r="{number}" ht="{pixels * POINTS_PER_PIXEL:.16g}" customHeight="1">'

    def _tail(self, value: object, style: str) -> str:
        """A cell's <c> element after its reference, by the rules of cells.put; "" for no cell."""
        if (
            value is None
            or value is pd.NA
            or value == ""
            or (isinstance(value, float) and value != value)
        ):
            return "" if style == "plain" else f' s="{self._xf(style)}"/>'
        if isinstance(value, str):
            return self._text(value, self._xf(style, value.startswith(FORMULA_START)))
        if isinstance(value, _SharedText):
            return f' s="{self._xf(style, value.quoted)}" t="s"><v>{value}</v></c>'
        if isinstance(value, bool):
            return f' s="{self._xf(style)}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, dt.datetime | dt.date):
            serial = self._convert_date_time(value)
            return f' s="{self._xf(style)}"><v>{serial:.16G}</v></c>'
        if isinstance(value, numbers.Number):
            number = float(value)
            if math.isinf(number):  # as XlsxWriter's nan_inf_to_errors writes it
                formula = "1/0" if number > 0 else "-1/0"
                return f' s="{self._xf(style)}" t="e"><f>{formula}</f><v>#DIV/0!</v></c>'
            return f' s="{self._xf(style)}"><v>{number:.16G}</v></c>'
        return self._text(str(value), self._xf(style))

    @staticmethod
    def _text(text: str, xf: int) -> str:
        # XlsxWriter's own escaping, without its regular expressions: this runs a million times
        space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
        if "&" in text or "<" in text or ">" in text:
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f' s="{xf}" t="inlineStr"><is><t{space}>{text}</t></is></c>'

    def _xf(self, style: str, quoted: bool = False) -> int:
        key = (style, quoted)
        if key not in self._xfs:
            self._xfs[key] = self.styles(style, quoted)._get_xf_index()
        return self._xfs[key]
