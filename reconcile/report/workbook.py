"""review.xlsx: the workbook a police officer opens in Excel or LibreOffice (design.md §4).

A summary sheet (counts per list and type, skipped lists and sheets in red), a legend of what
each column and decision means, one sheet per finding type (report.finding_sheets), and the
rejected rows. Written with XlsxWriter, which streams cells straight to XML: a district's
40,000 findings take a few seconds. Rows and columns here are 0-based.

The workbook carries its run's id and a token made with the installation's secret as custom
document properties: the next run accepts decisions only from a workbook it can vouch for.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from reconcile.findings import FINDING_LABELS
from reconcile.kinds import KIND_LABELS, ListKind
from reconcile.report.cells import WORKBOOK_OPTIONS, Styles, Workbook, put
from reconcile.report.finding_sheets import (
    COLUMNS,
    MATCH_LABELS,
    SHEET_NAMES,
    print_setup,
    shown_at_once,
    write_finding_sheet,
)
from reconcile.report.trust import write_check_sheet, write_trust_section
from reconcile.review.workbook_decisions import (
    DECISIONS,
    NOT_SAME_PERSON,
    NOT_WRONG,
    RUN_PROPERTY,
    SHEETS_PROPERTY,
    TO_VERIFY,
    TOKEN_PROPERTY,
    UPDATED,
)

LEGEND_SHEET, REJECTED_SHEET, SUMMARY_SHEET = "Hướng dẫn", "Dòng bị loại", "Tổng hợp"
# Rows a sheet may hold below its header (Excel's and LibreOffice's limit: 1,048,576); a finding
# sheet past it splits the workbook per commune (report.output.finding_parts)
SHEET_ROW_LIMIT = 1_048_575
# A split run's workbook of the findings no commune is known for: it also holds what belongs to
# the whole run, not to a commune: its rejected rows, which name a file and a row, never a
# commune, and its check sample, marked once (report.output.workbook_parts)
UNPLACED_WORKBOOK = "review_chua_ro_xa.xlsx"
REJECTED_HEADERS = [
    ("source_file", "Tệp", 24),
    ("source_sheet", "Trang tính", 14),
    ("source_row", "Dòng", 7),
    ("column", "Cột", 22),
    ("reason", "Lý do", 70),
]
DECISION_MEANINGS = {
    UPDATED: "Đã sửa dữ liệu dân cư. Lần chạy sau kiểm tra lại: nếu vẫn khác, dòng quay lại "
    "với trạng thái 'Báo đã sửa nhưng vẫn khác'.",
    NOT_WRONG: "Không có sai sót (ví dụ hai cách viết cùng một tên). Không nêu lại, trừ khi "
    "thông tin thay đổi.",
    NOT_SAME_PERSON: "Hai bản ghi không phải cùng một người. Không nêu lại, trừ khi thông tin "
    "thay đổi.",
    TO_VERIFY: "Đang xác minh. Dòng nêu lại ở lần chạy sau, kèm quyết định và ghi chú này.",
}


def _summary_sheet(
    wb: xlsxwriter.Workbook, ws: Worksheet, styles: Styles, result, summary: dict
) -> None:
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
        is_register = entry["kind"] == ListKind.REGISTER.value
        notes = [w["warning"] for w in summary["warnings"] if w["file"] == entry["file"]]
        notes += [f"Trang '{s}' không đọc: {why}" for s, why in entry["sheets_skipped"].items()]
        if entry["skipped"]:
            notes.insert(0, f"BỎ QUA / SKIPPED: {entry['skipped']}")
        values = [
            entry["label"],
            KIND_LABELS[ListKind(entry["kind"])],
            entry["file"],
            entry["rows_read"],
            entry["valid"],
            entry["rejected"],
            None if is_register else entry["match"],
            None if is_register else entry["possible"],
            None if is_register else entry["none"],
        ]
        for col, value in enumerate(values):
            put(ws, styles, row, col, value)
        put(ws, styles, row, len(values), "\n".join(notes) or None, "warning")
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
        ("Quyết định bị bỏ qua (xem chi tiết bên dưới)", review["ignored"]),
    ]:
        row += 1
        put(ws, styles, row, 0, label)
        put(ws, styles, row, 2, value)
    for problem in result.review.problems:
        row += 1
        put(ws, styles, row, 0, problem, "problem")
    row = _per_list_table(ws, styles, row + 2, result.findings)
    write_trust_section(wb, ws, styles, result, summary, row + 2)
    for col, width in enumerate([34, 22, 28, 12, 10, 10, 10, 12, 12, 70]):
        ws.set_column(col, col, width)
    print_setup(ws, "Tổng hợp kết quả đối soát")


def _per_list_table(ws: Worksheet, styles: Styles, row: int, findings) -> int:
    """Findings per list and type: which office has what to look at."""
    import pandas as pd

    put(ws, styles, row, 0, "Số sai lệch theo danh sách", "bold")
    if not len(findings):
        return row
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
    return row


def _legend_sheet(ws: Worksheet, styles: Styles) -> None:
    """What each decision does and what each column means."""
    put(ws, styles, 0, 0, "HƯỚNG DẪN ĐỌC VÀ GHI SỔ RÀ SOÁT", "title")
    rows = [
        ("", ""),
        ("Cột Quyết định (chọn trong danh sách)", ""),
        *((d, DECISION_MEANINGS[d]) for d in DECISIONS),
        ("", ""),
        ("Cột Ghi chú", "Ghi tự do. Ghi chú được mang sang sổ của lần chạy sau, bên cạnh dòng."),
        ("", ""),
        ("Mức ghép", ""),
        *(
            (label, text)
            for label, text in (
                (MATCH_LABELS["match"], "Chắc chắn là người này (xác suất từ 99%)."),
                (
                    MATCH_LABELS["possible"],
                    "Có thể là người này: kiểm tra trước khi sửa dữ liệu dân cư.",
                ),
                (MATCH_LABELS["none"], "Không ai trong dữ liệu dân cư đủ giống; xem 'Gần nhất'."),
                (MATCH_LABELS["ambiguous"], "Hai người trở lên giống như nhau: cần xác minh."),
            )
        ),
        ("Xác suất", "Khả năng dòng danh sách là cư dân bên cạnh, theo mô hình ghép."),
        (
            "Điểm (log2)",
            "Cùng con số, tính bằng log2 của tỷ lệ cược; cột 'Vì sao ghép' cộng từng thông tin.",
        ),
        ("", ""),
        ("Các cột", ""),
        *((c.title, _COLUMN_MEANINGS.get(c.key, "")) for c in COLUMNS),
        ("", ""),
        ("Ô tô màu cam", "Thông tin khác nhau giữa danh sách và dữ liệu dân cư."),
        ("Sắp xếp, lọc, xóa dòng", "Được phép: quyết định đọc lại theo Mã phát hiện."),
    ]
    for r, (term, meaning) in enumerate(rows, start=2):
        put(ws, styles, r, 0, term, "bold" if term in _SECTIONS else "cell")
        put(ws, styles, r, 1, meaning, "wrap")
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 100)
    print_setup(ws, "Hướng dẫn")


_COLUMN_MEANINGS = {
    "status_label": "Mới; Chưa xử lý (đã nêu lần trước); Báo đã sửa nhưng vẫn khác; Nêu lại (đã "
    "kết luận trước đây nhưng thông tin đã thay đổi).",
    "match_label": "Mức chắc chắn của việc ghép dòng danh sách với cư dân (xem trên).",
    "probability": "Khả năng dòng danh sách là cư dân ở cột DLDC.",
    "source_label": "Tệp danh sách và số dòng Excel, để tìm lại dòng gốc.",
    "list_name": "Họ tên theo danh sách (DS).",
    "list_birth": "Ngày sinh theo danh sách; chỉ có năm khi danh sách chỉ ghi năm.",
    "list_sex": "Giới tính theo danh sách.",
    "list_id": "Số định danh theo danh sách.",
    "list_hamlet": "Thôn, xóm theo danh sách (hoặc theo dòng nhóm phía trên).",
    "register_name": "Họ tên theo dữ liệu dân cư (DLDC). Với 'Không có trong DLDC': người gần "
    "giống nhất đã xét.",
    "register_birth": "Ngày sinh theo dữ liệu dân cư.",
    "register_sex": "Giới tính theo dữ liệu dân cư.",
    "register_id": "Số định danh theo dữ liệu dân cư.",
    "register_hamlet": "Thôn, xóm theo dữ liệu dân cư.",
    "decision_input": "Cán bộ chọn quyết định (xem trên).",
    "note_input": "Cán bộ ghi chú; được mang sang lần chạy sau.",
    "field_label": "Thông tin khác nhau.",
    "source_value": "Giá trị theo danh sách (với khai tử: ngày chết).",
    "register_value": "Giá trị theo dữ liệu dân cư (với hưởng chế độ: nơi ghi người đã chết).",
    "explanation": "Từng thông tin đã so sánh và trọng số của nó; với người không tìm thấy: "
    "những cư dân gần nhất và vì sao không chọn.",
    "history": "Quyết định lần trước và thông tin đã thay đổi từ đó.",
    "death_date": "Ngày chết theo sổ khai tử.",
    "person_id": "Số định danh của cư dân, hoặc mã nhân khẩu khi không có số hợp lệ duy nhất.",
    "register_row": "Dòng Excel của cư dân trong tệp dữ liệu dân cư.",
    "related_person_id": "Người còn lại của một cặp trùng lặp, hoặc những người cùng phù hợp.",
    "list_label": "Tên danh sách.",
    "source_file": "Tệp danh sách.",
    "source_sheet": "Trang tính trong tệp.",
    "source_row": "Dòng Excel trong tệp.",
    "score": "Xác suất viết dưới dạng log2 của tỷ lệ cược (7 ≈ 99,2%).",
    "finding_id": "Mã của dòng này; không sửa: lần chạy sau đọc quyết định theo mã này.",
}
_SECTIONS = {"Cột Quyết định (chọn trong danh sách)", "Mức ghép", "Các cột"}


def _rejected_sheet(wb: xlsxwriter.Workbook, styles: Styles, rejected, elsewhere: int) -> None:
    """The rejected rows this workbook holds; `elsewhere`: how many of the run's are in the
    split run's UNPLACED_WORKBOOK instead, said in a line where there are any."""
    ws = wb.add_worksheet(REJECTED_SHEET)
    for col, (_, title, width) in enumerate(REJECTED_HEADERS):
        put(ws, styles, 0, col, title, "header")
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 0)
    keys = [key for key, _, _ in REJECTED_HEADERS]
    # a row past the sheet's last would be dropped without a word: one row is kept to say so
    shown = rejected.iloc[: SHEET_ROW_LIMIT - 1]
    for r, record in enumerate(shown[keys].itertuples(index=False, name=None), start=1):
        for c, value in enumerate(record):
            put(ws, styles, r, c, value, "wrap" if c == 4 else "cell")
    more = len(rejected) - len(shown)
    line = ""
    if more:
        line = (
            f"{more} dòng bị loại nữa không vừa trang này: xem tệp rejected.csv / {more} more "
            f"rejected rows do not fit this sheet: see rejected.csv"
        )
    elif elsewhere > 0:
        line = (
            f"{elsewhere} dòng bị loại của lần chạy này ở sổ {UNPLACED_WORKBOOK} và tệp "
            f"rejected.csv / this run's {elsewhere} rejected rows are in {UNPLACED_WORKBOOK} "
            f"and rejected.csv"
        )
    if line:
        put(ws, styles, len(shown) + 1, 4, line, "wrap")
    ws.autofilter(0, 0, max(1, len(shown)), len(REJECTED_HEADERS) - 1)
    print_setup(ws, "Các dòng bị loại khi kiểm tra")


class ReviewWorkbook:
    """review.xlsx made in two steps. The finding sheets (nearly all of its cells, about 2 s
    for a district's 35,000 findings) need only the findings after review, so they are made
    first, while the run's estimates are still being made; `save` then adds the summary, the
    check sample and the rejected rows, and writes the file. The sheets keep their order."""

    def __init__(self, findings) -> None:
        self.findings = findings
        self._buffer = io.BytesIO()  # the staging folder to save into comes later
        shown = shown_at_once(findings)  # None past one slice of rows
        # a small workbook is packed in memory: on disk, each of its thirty-odd XML parts cost
        # a temporary file (a province's hundred commune workbooks opened thousands)
        small = shown is not None
        self._wb = Workbook(self._buffer, {**WORKBOOK_OPTIONS, "in_memory": small})
        self._styles = Styles(self._wb)
        self._summary = self._wb.add_worksheet(SUMMARY_SHEET)
        _legend_sheet(self._wb.add_worksheet(LEGEND_SHEET), self._styles)
        self._written = []
        for kind in FINDING_LABELS:
            of_kind = (findings["type"] == kind).to_numpy()
            if of_kind.any():
                rows = findings[of_kind] if shown is None else shown[of_kind]
                sheet = write_finding_sheet(self._wb, self._styles, kind, rows, shown is not None)
                sheet.render()
                self._written.append(sheet.name)

    def save(self, result, summary: dict, path: Path, token: str = "") -> None:
        """`result`'s review, trust and rejected rows beside this workbook's findings."""
        result = replace(result, findings=self.findings)
        wb, styles = self._wb, self._styles
        _summary_sheet(wb, self._summary, styles, result, summary)
        drawn = summary.get("check_sample", {}).get("drawn", len(result.trust.check_sample))
        sample_elsewhere = drawn > len(result.trust.check_sample)
        write_check_sheet(
            wb, styles, result.trust.check_sample, UNPLACED_WORKBOOK if sample_elsewhere else ""
        )
        elsewhere = summary.get("rejected_rows", len(result.rejected)) - len(result.rejected)
        _rejected_sheet(wb, styles, result.rejected, elsewhere)
        wb.set_custom_property(RUN_PROPERTY, result.run_id)
        wb.set_custom_property(TOKEN_PROPERTY, token or "-")
        wb.set_custom_property(SHEETS_PROPERTY, "|".join(self._written))
        wb.close()
        Path(path).write_bytes(self._buffer.getvalue())


def write_review_workbook(result, summary: dict, path: Path, token: str = "") -> None:
    ReviewWorkbook(result.findings).save(result, summary, path, token)
