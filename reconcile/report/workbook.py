"""review.xlsx: the workbook a police officer opens in Excel or LibreOffice (design.md §4).

A summary sheet, one sheet per finding type, and the rejected rows. The officer's two columns
(decision drop-down and note) are the only unlocked cells; text that looks like a formula is
stored as text so nothing in a citizen's data can execute.

Written with XlsxWriter, which streams cells straight to XML: a district's 40,000 findings take a
few seconds where openpyxl's cell objects took half a minute. Rows and columns here are 0-based.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from reconcile.findings import FINDING_LABELS
from reconcile.kinds import KIND_LABELS, ListKind
from reconcile.review.workbook_decisions import DECISION_HEADER, DECISIONS, ID_HEADER, NOTE_HEADER

SHEET_NAMES = {
    "not_in_register": "Không có trong DLDC",
    "name_differs": "Họ tên khác",
    "birth_date_differs": "Ngày sinh khác",
    "sex_differs": "Giới tính khác",
    "id_differs": "Số định danh khác",
    "id_invalid": "Số ĐD không hợp lệ",
    "deceased_still_active": "Đã khai tử còn hoạt động",
    "birth_not_in_register": "Khai sinh chưa có DLDC",
    "benefit_to_deceased": "Hưởng chế độ đã chết",
    "register_duplicate": "Trùng lặp DLDC",
    "ambiguous_match": "Cần xác minh",
    "missing_in_register": "DLDC thiếu thông tin",
}
STATUS_LABELS = {
    "new": "Mới",
    "open": "Chưa xử lý",
    "reported_fixed_still_differs": "Báo đã sửa nhưng vẫn khác",
}
FIELD_NAMES = {
    "full_name": "Họ và tên",
    "birth_date": "Ngày sinh",
    "sex": "Giới tính",
    "personal_id": "Số định danh",
    "insurance_number": "Số thẻ BHYT",
    "status": "Tình trạng",
    "": "",
}
FINDING_HEADERS = [
    ("finding_id", ID_HEADER, 18),
    ("status", "Trạng thái", 12),
    ("list_label", "Danh sách", 20),
    ("source_file", "Tệp", 22),
    ("source_sheet", "Trang tính", 12),
    ("source_row", "Dòng", 7),
    ("person_id", "Mã nhân khẩu", 13),
    ("related_person_id", "Người liên quan", 16),
    ("field", "Thông tin", 13),
    ("source_value", "Theo danh sách", 30),
    ("register_value", "Theo dữ liệu dân cư", 30),
    ("score", "Điểm ghép", 9),
    ("explanation", "Lý do ghép / giải thích", 60),
]
REJECTED_HEADERS = [
    ("source_file", "Tệp", 24),
    ("source_sheet", "Trang tính", 14),
    ("source_row", "Dòng", 7),
    ("column", "Cột", 22),
    ("reason", "Lý do", 70),
]

_FORMULA_START = ("=", "+", "-", "@")
# wrapped columns → characters per line at their width
_WRAPPED = {"register_value": 28, "explanation": 58}
_TOP = {"valign": "top"}
_FORMATS = {
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
    "warning": {"bold": True, "font_color": "#C00000"},
    "problem": {"font_color": "#C00000"},
    "link": {"font_color": "#0563C1", "underline": 1},
    "cell": _TOP,
    "wrap": {**_TOP, "text_wrap": True},
    "differs": {**_TOP, "bg_color": "#F8CBAD", "pattern": 1},
    "differs_wrap": {**_TOP, "text_wrap": True, "bg_color": "#F8CBAD", "pattern": 1},
    "input": {**_TOP, "bg_color": "#FFF2CC", "pattern": 1, "locked": False},
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
            properties = {**_FORMATS[name], **({"quote_prefix": True} if quoted else {})}
            self._made[key] = self._workbook.add_format(properties)
        return self._made[key]


def put(ws: Worksheet, styles: Styles, row: int, col: int, value: object, style: str = "plain"):
    """Write a value by its type: text always as text (never parsed as a formula), numbers as
    numbers, empty cells keep their style."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        if style != "plain":
            ws.write_blank(row, col, None, styles(style))
    elif isinstance(value, str):
        ws.write_string(row, col, value, styles(style, value.startswith(_FORMULA_START)))
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, styles(style))
    elif isinstance(value, numbers.Number):
        ws.write_number(row, col, float(value), styles(style))
    else:
        ws.write_string(row, col, str(value), styles(style))


def _header(ws: Worksheet, styles: Styles, headers: list[tuple[str, int]]) -> None:
    for col, (title, width) in enumerate(headers):
        put(ws, styles, 0, col, title, "header")
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 0)


def _print_setup(ws: Worksheet, title: str) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_header("&C" + title.replace("&", "&&"))
    ws.set_footer("&RTrang &P / &N")


def _protect(ws: Worksheet) -> None:
    """Locked cells stay read-only; filtering, sorting and resizing stay allowed."""
    ws.protect(
        "",
        {"autofilter": True, "sort": True, "format_columns": True, "format_rows": True},
    )


def _summary_sheet(ws: Worksheet, styles: Styles, result, summary: dict) -> None:
    put(ws, styles, 0, 0, "KẾT QUẢ ĐỐI SOÁT DỮ LIỆU DÂN CƯ", "title")
    put(ws, styles, 1, 0, f"Lần chạy {result.run_id}, lúc {result.started:%H:%M ngày %d/%m/%Y}")
    row = 3
    headers = [
        "Danh sách",
        "Loại",
        "Tệp",
        "Số dòng đọc",
        "Hợp lệ",
        "Bị loại",
        "Khớp",
        "Có thể khớp",
        "Không khớp",
        "Ghi chú",
    ]
    for col, title in enumerate(headers):
        put(ws, styles, row, col, title, "header")
    for entry in summary["inputs"]:
        row += 1
        kind_label = KIND_LABELS[ListKind(entry["kind"])]
        is_register = entry["kind"] == ListKind.REGISTER.value
        values = [
            entry["label"],
            kind_label,
            entry["file"],
            entry["rows_read"],
            entry["valid"],
            entry["rejected"],
            None if is_register else entry["match"],
            None if is_register else entry["possible"],
            None if is_register else entry["none"],
            f"BỎ QUA: {entry['skipped']}"
            if entry["skipped"]
            else "; ".join(w["warning"] for w in summary["warnings"] if w["file"] == entry["file"]),
        ]
        for col, value in enumerate(values[:-1]):
            put(ws, styles, row, col, value)
        put(ws, styles, row, len(values) - 1, values[-1] or None, "warning")
    row += 2
    for col, title in enumerate(["Loại sai lệch", "Mã", "Số lượng", "Trang tính"]):
        put(ws, styles, row, col, title, "header")
    for kind, label in FINDING_LABELS.items():
        row += 1
        count = summary["findings_by_type"].get(kind, 0)
        put(ws, styles, row, 0, label)
        put(ws, styles, row, 1, kind)
        put(ws, styles, row, 2, count)
        if count:
            sheet = SHEET_NAMES[kind]
            ws.write_url(row, 3, f"internal:'{sheet}'!A1", styles("link"), string=sheet)
    row += 1
    put(ws, styles, row, 0, "Tổng cộng", "bold")
    put(ws, styles, row, 2, summary["findings_total"], "bold")
    review = summary["review"]
    row += 2
    put(ws, styles, row, 0, "Quyết định của cán bộ từ các lần trước", "bold")
    for label, value in [
        ("Số sổ rà soát đã đọc", review["workbooks_read"]),
        ("Quyết định mới ghi nhận", review["decisions_recorded"]),
        ("Không nêu lại (đã kết luận Không sai / Không phải cùng người)", review["suppressed"]),
        ("Đã khắc phục từ lần trước", review["resolved"]),
    ]:
        row += 1
        put(ws, styles, row, 0, label)
        put(ws, styles, row, 2, value)
    for problem in review["problems"]:
        row += 1
        put(ws, styles, row, 0, problem, "problem")
    _per_list_table(ws, styles, row + 2, result.findings)
    for col, width in enumerate([34, 22, 28, 12, 10, 10, 10, 12, 12, 60]):
        ws.set_column(col, col, width)
    _print_setup(ws, "Tổng hợp kết quả đối soát")


def _per_list_table(ws: Worksheet, styles: Styles, row: int, findings: pd.DataFrame) -> None:
    """Findings per list and type: which office has what to look at."""
    put(ws, styles, row, 0, "Số sai lệch theo danh sách", "bold")
    if not len(findings):
        return
    counts = pd.crosstab(findings["list_label"], findings["type"])
    row += 1
    kinds = [k for k in FINDING_LABELS if k in counts.columns]
    for col, title in enumerate(["Danh sách", *(SHEET_NAMES[k] for k in kinds)]):
        put(ws, styles, row, col, title, "header")
    for label, counted in counts.iterrows():
        row += 1
        put(ws, styles, row, 0, label)
        for col, kind in enumerate(kinds, start=1):
            put(ws, styles, row, col, int(counted[kind]) or None)


def _finding_sheet(wb: xlsxwriter.Workbook, styles: Styles, kind: str, rows: pd.DataFrame):
    ws = wb.add_worksheet(SHEET_NAMES[kind])
    headers = [(title, width) for _, title, width in FINDING_HEADERS]
    headers += [(DECISION_HEADER, 22), (NOTE_HEADER, 30)]
    _header(ws, styles, headers)
    decision_col, note_col = len(FINDING_HEADERS), len(FINDING_HEADERS) + 1
    keys = [key for key, _, _ in FINDING_HEADERS]
    value_keys = ("source_value", "register_value")
    for r, record in enumerate(rows[keys].itertuples(index=False, name=None), start=1):
        values = dict(zip(keys, record, strict=True))
        differs = bool(
            values["source_value"]
            and values["register_value"]
            and values["source_value"] != values["register_value"]
        )
        values["status"] = STATUS_LABELS.get(values["status"], values["status"])
        values["field"] = FIELD_NAMES.get(values["field"], values["field"])
        for c, key in enumerate(keys):
            style = "differs" if differs and key in value_keys else "cell"
            if key in _WRAPPED:
                style = "differs_wrap" if style == "differs" else "wrap"
            put(ws, styles, r, c, values[key], style)
        # LibreOffice does not grow rows for wrapped text on opening: size them here.
        lines = max(len(str(values[key] or "")) / chars for key, chars in _WRAPPED.items())
        ws.set_row(r, 15 * max(1, math.ceil(lines)))
        ws.write_blank(r, decision_col, None, styles("input"))
        ws.write_blank(r, note_col, None, styles("input"))
    last = max(1, len(rows))
    ws.data_validation(
        1,
        decision_col,
        last,
        decision_col,
        {
            "validate": "list",
            "source": DECISIONS,
            "ignore_blank": True,
            "error_title": "Quyết định",
            "error_message": "Chọn một giá trị trong danh sách",
        },
    )
    ws.autofilter(0, 0, last, note_col)
    _protect(ws)
    _print_setup(ws, FINDING_LABELS[kind])


def _rejected_sheet(wb: xlsxwriter.Workbook, styles: Styles, rejected: pd.DataFrame) -> None:
    ws = wb.add_worksheet("Dòng bị loại")
    _header(ws, styles, [(title, width) for _, title, width in REJECTED_HEADERS])
    keys = [key for key, _, _ in REJECTED_HEADERS]
    for r, record in enumerate(rejected[keys].itertuples(index=False, name=None), start=1):
        for c, value in enumerate(record):
            put(ws, styles, r, c, value)
    ws.autofilter(0, 0, max(1, len(rejected)), len(REJECTED_HEADERS) - 1)
    _print_setup(ws, "Các dòng bị loại khi kiểm tra")


def write_review_workbook(result, summary: dict, path: Path) -> None:
    # strings_to_* off: a citizen's text is text, never a number, formula or link
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )
    styles = Styles(wb)
    _summary_sheet(wb.add_worksheet("Tổng hợp"), styles, result, summary)
    for kind in FINDING_LABELS:
        rows = result.findings[result.findings["type"] == kind]
        if len(rows):
            _finding_sheet(wb, styles, kind, rows)
    _rejected_sheet(wb, styles, result.rejected)
    wb.close()
