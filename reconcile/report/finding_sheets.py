"""One sheet per finding type, laid out so a police officer acts on a row without another file:
the person as the list gives him beside the person as the register does, the cells that differ
highlighted, where the row came from, how sure the match is and why, and two columns for the
officer (a decision from a drop-down and a note), with earlier work carried over.

Nothing is locked: sorting, filtering and deleting rows work in Excel and LibreOffice, and the
decisions are read back by finding id wherever the row went. The first columns are the print
area: on A4 landscape, fitted to the page width, the body text stays at 9 pt or more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from reconcile.findings import FINDING_LABELS
from reconcile.report.bulk_rows import RENDER_BATCH, BulkRowsWorksheet
from reconcile.report.cells import Styles, full_date, put
from reconcile.review.workbook_decisions import (
    DECISION_HEADER,
    DECISIONS,
    ID_HEADER,
    NOTE_HEADER,
    TO_VERIFY,
)

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
MATCH_LABELS = {
    "match": "Khớp",
    "possible": "Có thể khớp, cần xác minh",
    "none": "Không tìm thấy",
    "ambiguous": "Nhiều người phù hợp",
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
# the side columns' field, for highlighting (findings' "differing" names these)
_SIDE_FIELD = {"name": "name", "birth": "birth", "sex": "sex", "id": "pid", "hamlet": "hamlet"}


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: float
    style: str = "cell"  # cell, wrap, date, percent
    side: str = ""  # list or register: one of the person's fields on that side


def _person(side: str, label: str) -> list[Column]:
    return [
        Column(f"{side}_name", f"Họ tên ({label})", 15, "wrap", side),
        Column(f"{side}_birth", f"Ngày sinh ({label})", 10.5, "date", side),
        Column(f"{side}_sex", f"GT ({label})", 5, "cell", side),
        Column(f"{side}_id", f"Số định danh ({label})", 13, "cell", side),
        Column(f"{side}_hamlet", f"Thôn ({label})", 9, "wrap", side),
    ]


# The print area: what an officer needs on paper.
PRINTED = [
    Column("status_label", "Trạng thái", 9, "wrap"),
    Column("match_label", "Mức ghép", 9, "wrap"),
    Column("probability", "Xác suất", 7, "percent"),
    Column("source_label", "Nguồn (tệp, dòng)", 12, "wrap"),
    *_person("list", "DS"),
    *_person("register", "DLDC"),
    Column("decision_input", DECISION_HEADER, 11, "input"),
    Column("note_input", NOTE_HEADER, 12, "input"),
]
# Beside it, for the screen: details, the explanation, history, the identifiers.
DETAILS = [
    Column("field_label", "Thông tin", 11),
    Column("source_value", "Chi tiết theo danh sách", 24, "wrap"),
    Column("register_value", "Chi tiết theo DLDC", 28, "wrap"),
    Column("explanation", "Vì sao ghép / giải thích", 60, "wrap"),
    Column("history", "Lần trước", 28, "wrap"),
    Column("death_date", "Ngày chết", 10.5, "date"),
    Column("person_id", "Mã cư dân", 14),
    Column("register_row", "Dòng DLDC", 7),
    Column("related_person_id", "Người liên quan", 16, "wrap"),
    Column("list_label", "Danh sách", 18, "wrap"),
    Column("source_file", "Tệp", 20, "wrap"),
    Column("source_sheet", "Trang tính", 12),
    Column("source_row", "Dòng", 6),
    Column("score", "Điểm (log2)", 8),
    Column("finding_id", ID_HEADER, 22),
]
COLUMNS = PRINTED + DETAILS
# Page geometry of A4 landscape with our margins, and the default font's size: the body text
# printed must stay at 9 pt or more, so the print area may be scaled down to 9/11 at most.
A4_LANDSCAPE_INCHES, MARGIN_INCHES, BODY_POINTS, MIN_POINTS = 11.69, 0.4, 11, 9


def column_pixels(width: float) -> int:
    """Excel's width in characters of the default font → pixels at 96 dpi."""
    return int(width * 7 + 5)


def print_scale(columns: list[Column] = PRINTED) -> float:
    """The scale that fits the print area to A4 landscape's width (at most 1)."""
    page = (A4_LANDSCAPE_INCHES - 2 * MARGIN_INCHES) * 96
    return min(1.0, page / sum(column_pixels(c.width) for c in columns))


def _rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The values shown per column, derived from the findings frame."""
    out = rows.copy()
    ambiguous = out["type"] == "ambiguous_match"
    out["status_label"] = out["status"].map(STATUS_LABELS).fillna(out["status"])
    again = out.get("raised_again", pd.Series(False, index=out.index)).astype(bool)
    out.loc[again, "status_label"] = "Nêu lại: thông tin đã thay đổi"
    out["match_label"] = out["decision"].map(MATCH_LABELS).fillna("")
    out.loc[ambiguous, "match_label"] = MATCH_LABELS["ambiguous"]
    out.loc[out["list_kind"] == "register", "match_label"] = ""
    out["probability"] = pd.to_numeric(out["probability"], errors="coerce")
    out["source_label"] = out["source_file"].astype(str) + ", dòng " + out["source_row"].astype(str)
    out["field_label"] = out["field"].map(FIELD_NAMES).fillna(out["field"])
    previous = out.get("previous_decision", pd.Series("", index=out.index)).fillna("")
    note = out.get("previous_note", pd.Series("", index=out.index)).fillna("")
    changed = out.get("changed", pd.Series("", index=out.index)).fillna("")
    out["history"] = [
        "; ".join(
            part
            for part in (
                f"Đã kết luận: {p}" if p else "",
                f"Đã thay đổi: {c}" if c else "",
            )
            if part
        )
        for p, c in zip(previous, changed, strict=True)
    ]
    # work in progress comes back in the officer's own columns
    out["decision_input"] = [p if p == TO_VERIFY else "" for p in previous]
    out["note_input"] = note
    return out


def shown_at_once(findings: pd.DataFrame) -> pd.DataFrame | None:
    """The values shown of a workbook's findings made once for all its sheets, where they fit
    one slice (RENDER_BATCH); None for more, whose sheets show a slice at a time. Every shown
    value depends on its own row only, and making them costs about 7 ms a call whatever the
    rows: a province's hundred small commune workbooks of twelve sheets each paid it 1,200
    times."""
    return _rows(findings) if len(findings) <= RENDER_BATCH else None


def write_finding_sheet(
    wb: xlsxwriter.Workbook, styles: Styles, kind: str, rows: pd.DataFrame, shown: bool = False
):
    """The sheet of `kind`'s findings `rows` (`shown`: their values shown already, as
    shown_at_once makes them)."""
    ws = wb.add_worksheet(SHEET_NAMES[kind], worksheet_class=BulkRowsWorksheet)
    ws.styles = styles
    for col, column in enumerate(COLUMNS):
        put(ws, styles, 0, col, column.title, "header")
        ws.set_column(col, col, column.width)
    ws.set_row(0, 45)
    ws.freeze_panes(1, 0)
    # a slice at a time: a province's million findings are not all shown at once (every
    # value depends on its own row only)
    for start in range(0, len(rows), RENDER_BATCH):
        batch = rows.iloc[start : start + RENDER_BATCH]
        _add_rows(ws, batch if shown else _rows(batch), first=start + 1)
    last = max(1, len(rows))
    decision_col = next(i for i, c in enumerate(COLUMNS) if c.key == "decision_input")
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
    ws.autofilter(0, 0, last, len(COLUMNS) - 1)
    print_setup(ws, FINDING_LABELS[kind], last, len(PRINTED) - 1)
    return ws


def _add_rows(ws: BulkRowsWorksheet, shown: pd.DataFrame, first: int) -> None:
    """Findings (their shown values, _rows) as the sheet's rows, from row `first` on."""
    differing = shown["differing"].fillna("").astype(str).str.split(",").map(set).tolist()
    cells = [_column_cells(column, shown[column.key].tolist(), differing) for column in COLUMNS]
    lines = [1] * len(shown)
    for col, column in enumerate(COLUMNS):
        if column.style in ("wrap", "input"):
            per_line = max(column.width - 1, 1)
            # the long explanation beside the print area may show three lines; the officer
            # widens the column or opens the cell for the rest
            most = 8 if col < len(PRINTED) else 3
            for r, value in enumerate(cells[col][0]):
                if isinstance(value, str) and value:
                    lines[r] = max(lines[r], min(math.ceil(len(value) / per_line), most))
    values_by_row = zip(*(values for values, _ in cells), strict=True)
    styles_by_row = zip(*(cell_styles for _, cell_styles in cells), strict=True)
    for r, (values, cell_styles, height) in enumerate(
        zip(values_by_row, styles_by_row, lines, strict=True), start=first
    ):
        # LibreOffice does not grow rows for wrapped text on opening: size them here
        ws.add_row(r, list(values), list(cell_styles), 15 * min(height, 8))


def _column_cells(column: Column, values: list, differing: list[set[str]]):
    """A column's shown values and the style of each cell: the person's fields that differ
    highlighted, full dates as dates (partial ones stay text), uncertain matches marked."""
    if column.style == "input":
        return values, ["input"] * len(values)
    styles = [column.style] * len(values)
    if column.side:
        field = _SIDE_FIELD[column.key.split("_", 1)[1]]
        marked = "differs_date" if column.style == "date" else "differs"
        styles = [
            marked if field in fields else s for s, fields in zip(styles, differing, strict=True)
        ]
    if column.style == "date":
        values = [full_date(value) or value for value in values]
        styles = [
            s if hasattr(v, "year") else ("differs" if s == "differs_date" else "cell")
            for s, v in zip(styles, values, strict=True)
        ]
    if column.key == "match_label":
        sure = MATCH_LABELS["match"]
        styles = ["possible" if v and v != sure else s for s, v in zip(styles, values, strict=True)]
    return values, styles


def print_setup(ws: Worksheet, title: str, last_row: int | None = None, last_col: int = 0):
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=MARGIN_INCHES, right=MARGIN_INCHES, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    if last_row is not None:
        ws.print_area(0, 0, last_row, last_col)
    ws.set_header("&C" + title.replace("&", "&&"))
    ws.set_footer("&RTrang &P / &N")
