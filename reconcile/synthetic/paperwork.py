"""Write a synthetic list the way commune paperwork looks: agency and motto title block, the
list's title, a bordered header, STT numbers, optional hamlet group rows, a total row and a
signature footer whose signer names must never be read as people."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
FIXED_TIMESTAMP = dt.datetime(2026, 11, 15, 8, 0, 0)


@dataclass
class Paperwork:
    agency: str
    title: str
    subtitle: str
    headers: list[str]
    # each entry: a dict header → value, or a str for a group row ("Thôn Đông")
    entries: list[dict[str, object] | str] = field(default_factory=list)
    signer_left: str = "Người lập biểu"
    signer_right: str = "TM. UBND XÃ\nCHỦ TỊCH"
    signer_names: tuple[str, str] = ("Trần Thị Hằng", "Lê Văn Thọ")
    place_date: str = "An Bình, ngày 15 tháng 11 năm 2026"
    sheet_name: str = "Danh sách"
    extra_title_rows: int = 0


def write_paperwork(doc: Paperwork, path: Path) -> list[int]:
    """Write the workbook; return the Excel row of each dict entry, in order."""
    wb = Workbook()
    wb.properties.created = wb.properties.modified = FIXED_TIMESTAMP
    ws = wb.active
    ws.title = doc.sheet_name
    width = len(doc.headers)
    right = max(4, width - 3)
    ws.cell(1, 1, doc.agency).font = Font(bold=True)
    ws.cell(1, right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM").font = Font(bold=True)
    ws.cell(2, right, "Độc lập - Tự do - Hạnh phúc").font = Font(bold=True, underline="single")
    row = 4 + doc.extra_title_rows
    ws.cell(row, 1, doc.title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    ws.cell(row, 1).alignment = Alignment(horizontal="center")
    ws.cell(row + 1, 1, doc.subtitle).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=width)
    header_row = row + 3
    for col, name in enumerate(doc.headers, start=1):
        cell = ws.cell(header_row, col, name)
        cell.font = Font(bold=True)
        cell.border = _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = 24 if col > 1 else 6
    rows: list[int] = []
    current = header_row
    number = 0
    for entry in doc.entries:
        current += 1
        if isinstance(entry, str):
            ws.cell(current, 1, entry).font = Font(bold=True, italic=True)
            ws.merge_cells(start_row=current, start_column=1, end_row=current, end_column=width)
            continue
        number += 1
        rows.append(current)
        for col, name in enumerate(doc.headers, start=1):
            value = number if name == "STT" else entry.get(name)
            cell = ws.cell(current, col, value)
            cell.border = _BOX
            if isinstance(value, dt.date):
                cell.number_format = "dd/mm/yyyy"
            elif isinstance(value, int) and name != "STT" and value > 10**8:
                cell.number_format = "0"  # an ID typed as a number: Excel drops its leading 0
    current += 1
    ws.cell(current, 1, f"Tổng cộng: {number} người").font = Font(bold=True)
    ws.cell(current + 2, right, doc.place_date).font = Font(italic=True)
    ws.cell(current + 3, 1, doc.signer_left).font = Font(bold=True)
    ws.cell(current + 3, right, doc.signer_right).font = Font(bold=True)
    ws.cell(current + 7, 2, doc.signer_names[0])
    ws.cell(current + 7, right, doc.signer_names[1])
    ws.print_options.horizontalCentered = True
    ws.page_setup.orientation = "landscape"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return rows
