"""review.xlsx: the workbook a police officer opens in Excel or LibreOffice (design.md §4).

A summary sheet, one sheet per finding type, and the rejected rows. The officer's two columns
(decision drop-down and note) are the only unlocked cells; text that looks like a formula is
stored as text so nothing in a citizen's data can execute.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

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

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_DIFF_FILL = PatternFill("solid", fgColor="F8CBAD")
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_FORMULA_START = ("=", "+", "-", "@")
# wrapped columns → characters per line at their width
_WRAPPED = {"register_value": 28, "explanation": 58}


def put(ws: Worksheet, row: int, col: int, value: object, style: str | None = None):
    """Write a value; text that a spreadsheet would run as a formula stays text. A named style
    goes on first: assigning one afterwards would clear the quote prefix."""
    if isinstance(value, float) and value != value:
        value = None
    cell = ws.cell(row, col)
    if style:
        cell.style = style
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _named_styles() -> list[NamedStyle]:
    """The finding sheets' cell styles, registered once per workbook: building and hashing an
    Alignment per cell cost most of the time of a 40,000-finding workbook."""
    top, wrap = Alignment(vertical="top"), Alignment(vertical="top", wrap_text=True)
    return [
        NamedStyle("rc_cell", alignment=top),
        NamedStyle("rc_wrap", alignment=wrap),
        NamedStyle("rc_differs", alignment=top, fill=_DIFF_FILL),
        NamedStyle("rc_differs_wrap", alignment=wrap, fill=_DIFF_FILL),
        NamedStyle(
            "rc_input", alignment=top, fill=_INPUT_FILL, protection=Protection(locked=False)
        ),
    ]


def _header(ws: Worksheet, headers: list[tuple[str, int]]) -> None:
    for col, (title, width) in enumerate(headers, start=1):
        cell = put(ws, 1, col, title)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"


def _print_setup(ws: Worksheet, title: str) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.oddHeader.center.text = title
    ws.oddFooter.right.text = "Trang &P / &N"


def _protect(ws: Worksheet) -> None:
    ws.protection.sheet = True
    ws.protection.autoFilter = False  # False = allowed even while protected
    ws.protection.sort = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _summary_sheet(ws: Worksheet, result, summary: dict) -> None:
    ws.title = "Tổng hợp"
    put(ws, 1, 1, "KẾT QUẢ ĐỐI SOÁT DỮ LIỆU DÂN CƯ").font = Font(bold=True, size=14)
    put(ws, 2, 1, f"Lần chạy {result.run_id}, lúc {result.started:%H:%M ngày %d/%m/%Y}")
    row = 4
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
    for col, title in enumerate(headers, start=1):
        cell = put(ws, row, col, title)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
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
        for col, value in enumerate(values, start=1):
            put(ws, row, col, value)
        if values[-1]:
            ws.cell(row, 10).font = Font(color="C00000", bold=True)
    row += 2
    for col, title in enumerate(["Loại sai lệch", "Mã", "Số lượng", "Trang tính"], start=1):
        cell = put(ws, row, col, title)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
    for kind, label in FINDING_LABELS.items():
        row += 1
        count = summary["findings_by_type"].get(kind, 0)
        put(ws, row, 1, label)
        put(ws, row, 2, kind)
        put(ws, row, 3, count)
        if count:
            link = ws.cell(row, 4, SHEET_NAMES[kind])
            link.hyperlink = f"#'{SHEET_NAMES[kind]}'!A1"
            link.font = Font(color="0563C1", underline="single")
    row += 1
    put(ws, row, 1, "Tổng cộng").font = Font(bold=True)
    put(ws, row, 3, summary["findings_total"]).font = Font(bold=True)
    review = summary["review"]
    row += 2
    put(ws, row, 1, "Quyết định của cán bộ từ các lần trước").font = Font(bold=True)
    for label, value in [
        ("Số sổ rà soát đã đọc", review["workbooks_read"]),
        ("Quyết định mới ghi nhận", review["decisions_recorded"]),
        ("Không nêu lại (đã kết luận Không sai / Không phải cùng người)", review["suppressed"]),
        ("Đã khắc phục từ lần trước", review["resolved"]),
    ]:
        row += 1
        put(ws, row, 1, label)
        put(ws, row, 3, value)
    for problem in review["problems"]:
        row += 1
        put(ws, row, 1, problem).font = Font(color="C00000")
    _per_list_table(ws, row + 2, result.findings)
    for col, width in enumerate([34, 22, 28, 12, 10, 10, 10, 12, 12, 60], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    _print_setup(ws, "Tổng hợp kết quả đối soát")


def _per_list_table(ws: Worksheet, row: int, findings: pd.DataFrame) -> None:
    """Findings per list and type: which office has what to look at."""
    counts = pd.crosstab(findings["list_label"], findings["type"]) if len(findings) else None
    put(ws, row, 1, "Số sai lệch theo danh sách").font = Font(bold=True)
    if counts is None:
        return
    row += 1
    kinds = [k for k in FINDING_LABELS if k in counts.columns]
    for col, title in enumerate(["Danh sách", *(SHEET_NAMES[k] for k in kinds)], start=1):
        cell = put(ws, row, col, title)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True)
    for label, counted in counts.iterrows():
        row += 1
        put(ws, row, 1, label)
        for col, kind in enumerate(kinds, start=2):
            put(ws, row, col, int(counted[kind]) or None)


def _finding_sheet(wb: Workbook, kind: str, rows: pd.DataFrame) -> None:
    ws = wb.create_sheet(SHEET_NAMES[kind])
    headers = [(title, width) for _, title, width in FINDING_HEADERS]
    headers += [(DECISION_HEADER, 22), (NOTE_HEADER, 30)]
    _header(ws, headers)
    decision_col, note_col = len(FINDING_HEADERS) + 1, len(FINDING_HEADERS) + 2
    value_cols = [
        i + 1
        for i, (key, _, _) in enumerate(FINDING_HEADERS)
        if key in ("source_value", "register_value")
    ]
    for r, record in enumerate(rows.to_dict("records"), start=2):
        differs = bool(
            record["source_value"]
            and record["register_value"]
            and record["source_value"] != record["register_value"]
        )
        for c, (key, _, _) in enumerate(FINDING_HEADERS, start=1):
            value = record[key]
            if key == "status":
                value = STATUS_LABELS.get(value, value)
            elif key == "field":
                value = FIELD_NAMES.get(value, value)
            style = "rc_differs" if differs and c in value_cols else "rc_cell"
            if key in _WRAPPED:
                style = "rc_differs_wrap" if style == "rc_differs" else "rc_wrap"
            put(ws, r, c, value, style)
        # LibreOffice does not grow rows for wrapped text written by openpyxl: size them here.
        lines = max(len(str(record[key] or "")) / chars for key, chars in _WRAPPED.items())
        ws.row_dimensions[r].height = 15 * max(1, math.ceil(lines))
        for c in (decision_col, note_col):
            ws.cell(r, c).style = "rc_input"
    last = max(2, len(rows) + 1)
    validation = DataValidation(
        type="list",
        formula1='"' + ",".join(DECISIONS) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Quyết định",
        error="Chọn một giá trị trong danh sách",
    )
    validation.add(f"{get_column_letter(decision_col)}2:{get_column_letter(decision_col)}{last}")
    ws.add_data_validation(validation)
    ws.auto_filter.ref = f"A1:{get_column_letter(note_col)}{last}"
    _protect(ws)
    _print_setup(ws, FINDING_LABELS[kind])


def _rejected_sheet(wb: Workbook, rejected: pd.DataFrame) -> None:
    ws = wb.create_sheet("Dòng bị loại")
    _header(ws, [(title, width) for _, title, width in REJECTED_HEADERS])
    for r, record in enumerate(rejected.to_dict("records"), start=2):
        for c, (key, _, _) in enumerate(REJECTED_HEADERS, start=1):
            put(ws, r, c, record[key])
    ws.auto_filter.ref = f"A1:{get_column_letter(len(REJECTED_HEADERS))}{max(2, len(rejected) + 1)}"
    _print_setup(ws, "Các dòng bị loại khi kiểm tra")


def write_review_workbook(result, summary: dict, path: Path) -> None:
    wb = Workbook()
    for style in _named_styles():
        wb.add_named_style(style)
    _summary_sheet(wb.active, result, summary)
    for kind in FINDING_LABELS:
        rows = result.findings[result.findings["type"] == kind]
        if len(rows):
            _finding_sheet(wb, kind, rows)
    _rejected_sheet(wb, result.rejected)
    wb.save(path)
