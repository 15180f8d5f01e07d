"""Writing cells for the police workbook: text always as text (never a formula, a number or a
link), full dates as date cells, formats made once.

XlsxWriter escapes a literal "_xHHHH_" in a string so Excel shows it as written, but LibreOffice
also decodes shorter forms: "tro_cap_xa_hoi.xlsx" opened there as "tro_cap", a line break and
"hoi.xlsx". Every "_x…_" run of hex digits is escaped here, which both programs read back as
written.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
import zipfile

import pandas as pd
import xlsxwriter
import xlsxwriter.workbook
import xlsxwriter.xmlwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

xlsxwriter.xmlwriter.re_control_chars_1 = re.compile("(_x[0-9a-fA-F]+_)")

# XlsxWriter deflates a workbook's XML at zlib's default level (6): 1.19 s for the 69 MB of a
# district's review.xlsx, the last step of the report while the run waits. Level 3 takes
# 0.56 s for a file of 9.4 MB instead of 8.0 MB.
ZIP_LEVEL = 3


class _LeveledZipFile(zipfile.ZipFile):
    """A ZipFile deflating at ZIP_LEVEL both the parts XlsxWriter gives by file name (a big
    workbook's, on disk) and those it gives with their own ZipInfo (a small one's, in memory),
    which would otherwise take zlib's default."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, compresslevel=ZIP_LEVEL, **kwargs)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None) -> None:
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel or ZIP_LEVEL)


class Workbook(xlsxwriter.Workbook):
    """An XlsxWriter workbook packed at ZIP_LEVEL (XlsxWriter has no option for it: its
    packing is given a ZipFile that deflates at that level), and freed as soon as it closes."""

    def close(self) -> None:
        """Pack the workbook, then let go of what it held. XlsxWriter's workbook and sheets
        refer to each other, so a closed workbook waits for a full garbage collection, which a
        process holding a province's findings seldom runs: in a run of the dirty 1M province,
        the commune workbooks written in the main process piled up 1.2 GB there."""
        if self.fileclosed:
            super().close()  # warns, as XlsxWriter does
            return
        super().close()
        for sheet in self.worksheets():
            vars(sheet).clear()
        vars(self).clear()
        self.fileclosed = True

    def _store_workbook(self) -> None:
        zip_file = xlsxwriter.workbook.ZipFile
        xlsxwriter.workbook.ZipFile = _LeveledZipFile
        try:
            super()._store_workbook()
        finally:
            xlsxwriter.workbook.ZipFile = zip_file


FORMULA_START = ("=", "+", "-", "@")
# strings_to_* off: a citizen's text is text, never a number, formula or link
WORKBOOK_OPTIONS = {
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "nan_inf_to_errors": True,
}
_FULL_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_TOP = {"valign": "top"}
_FILL = {"pattern": 1}
FORMATS = {
    "header": {
        "bold": True,
        "font_color": "#FFFFFF",
        "bg_color": "#1F4E78",
        "pattern": 1,
        "text_wrap": True,
        "valign": "vcenter",
    },
    "plain": {},
    "title": {"bold": True, "font_size": 14},
    "bold": {"bold": True},
    "warning": {"bold": True, "font_color": "#C00000", "text_wrap": True, "valign": "top"},
    "problem": {"font_color": "#C00000"},
    "link": {"font_color": "#0563C1", "underline": 1},
    "cell": _TOP,
    "wrap": {**_TOP, "text_wrap": True},
    "date": {**_TOP, "num_format": "dd/mm/yyyy"},
    "percent": {**_TOP, "num_format": "0.0%"},
    "differs": {**_TOP, "text_wrap": True, "bg_color": "#F8CBAD", **_FILL},
    "differs_date": {**_TOP, "num_format": "dd/mm/yyyy", "bg_color": "#F8CBAD", **_FILL},
    "possible": {**_TOP, "text_wrap": True, "bg_color": "#FFE699", **_FILL},
    "input": {**_TOP, "text_wrap": True, "bg_color": "#FFF2CC", **_FILL},
}


class Styles:
    """The workbook's formats, each made once; a quote-prefixed twin on demand for text that a
    spreadsheet would otherwise take for a formula when the officer edits the cell."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self._workbook = workbook
        self._made: dict[tuple[str, bool], Format] = {}

    def __call__(self, name: str, quoted: bool = False) -> Format:
        key = (name, quoted)
        if key not in self._made:
            properties = {**FORMATS[name], **({"quote_prefix": True} if quoted else {})}
            self._made[key] = self._workbook.add_format(properties)
        return self._made[key]


def full_date(text: object) -> dt.datetime | None:
    """A dd/mm/yyyy display string as a date (partial dates stay text)."""
    match = _FULL_DATE.match(text) if isinstance(text, str) else None
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return dt.datetime(year, month, day)
    except ValueError:
        return None


def put(ws: Worksheet, styles: Styles, row: int, col: int, value: object, style: str = "plain"):
    """Write a value by its type: text always as text (never parsed as a formula), numbers as
    numbers, dates as dates, empty cells keep their style."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        if style != "plain":
            ws.write_blank(row, col, None, styles(style))
    elif isinstance(value, str):
        if value == "" and style != "plain":
            ws.write_blank(row, col, None, styles(style))
        elif value:
            ws.write_string(row, col, value, styles(style, value.startswith(FORMULA_START)))
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, styles(style))
    elif isinstance(value, dt.datetime | dt.date):
        ws.write_datetime(row, col, value, styles(style))
    elif isinstance(value, numbers.Number):
        ws.write_number(row, col, float(value), styles(style))
    else:
        ws.write_string(row, col, str(value), styles(style))
