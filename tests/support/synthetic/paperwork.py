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

from reconcile.normalize.legacy import encode_tcvn3, encode_vni
from reconcile.normalize.sex_and_place import parse_sex

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
    # typed in a legacy font: "tcvn3" (.VnTime) or "vni" (VNI-Times)
    legacy: str | None = None
    # a header whose values sit under "Nam" / "Nữ" sub-columns by the person's sex
    # (the entry's "Giới tính" value chooses the column; there is then no sex column)
    split_by_sex: str | None = None
    # group rows: "merged" (the label merged across the table) or "numbered" (a Roman numeral
    # in STT and "CHI HỘI THÔN ĐÔNG" in the name column, as associations write them)
    group_style: str = "merged"


_LEGACY = {"tcvn3": (encode_tcvn3, ".VnTime"), "vni": (encode_vni, "VNI-Times")}
_ROMAN = "I II III IV V VI VII VIII IX X XI XII".split()


def _columns(doc: Paperwork) -> list[tuple[str, str | None]]:
    """(header, sex) per sheet column: a split header takes two columns, Nam then Nữ."""
    columns: list[tuple[str, str | None]] = []
    for name in doc.headers:
        if name == doc.split_by_sex:
            columns += [(name, "Nam"), (name, "Nữ")]
        else:
            columns.append((name, None))
    return columns


def write_paperwork(doc: Paperwork, path: Path) -> list[int]:
    """Write the workbook; return the Excel row of each dict entry, in order."""
    encode, legacy_font = _LEGACY.get(doc.legacy, (None, None))

    def put(ws, row: int, col: int, value):
        cell = ws.cell(row, col, encode(value) if encode and isinstance(value, str) else value)
        if legacy_font:
            cell.font = Font(name=legacy_font)
        return cell

    wb = Workbook()
    wb.properties.created = wb.properties.modified = FIXED_TIMESTAMP
    ws = wb.active
    ws.title = doc.sheet_name
    columns = _columns(doc)
    width = len(columns)
    right = max(4, width - 3)
    put(ws, 1, 1, doc.agency).font = Font(name=legacy_font, bold=True)
    put(ws, 1, right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM").font = Font(name=legacy_font, bold=True)
    put(ws, 2, right, "Độc lập - Tự do - Hạnh phúc").font = Font(
        name=legacy_font, bold=True, underline="single"
    )
    row = 4 + doc.extra_title_rows
    put(ws, row, 1, doc.title).font = Font(name=legacy_font, bold=True, size=14)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    ws.cell(row, 1).alignment = Alignment(horizontal="center")
    put(ws, row + 1, 1, doc.subtitle).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=width)
    header_row = row + 3
    sub_header = doc.split_by_sex is not None
    for col, (name, sex) in enumerate(columns, start=1):
        if sex != "Nữ":
            cell = put(ws, header_row, col, name)
            cell.font = Font(bold=True, name=legacy_font)
            cell.border = _BOX
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if sex:
            put(ws, header_row + 1, col, sex).font = Font(bold=True, name=legacy_font)
        ws.column_dimensions[get_column_letter(col)].width = 24 if col > 1 else 6
    if sub_header:
        split = next(i for i, (_, sex) in enumerate(columns, start=1) if sex)
        ws.merge_cells(
            start_row=header_row, start_column=split, end_row=header_row, end_column=split + 1
        )
    rows: list[int] = []
    current = header_row + (1 if sub_header else 0)
    number = 0
    groups = 0
    for entry in doc.entries:
        current += 1
        if isinstance(entry, str):
            groups += 1
            if doc.group_style == "numbered":
                put(ws, current, 1, _ROMAN[groups - 1]).font = Font(name=legacy_font, bold=True)
                label = put(ws, current, 2, f"CHI HỘI {entry.upper()}")
                label.font = Font(name=legacy_font, bold=True)
                continue
            put(ws, current, 1, entry).font = Font(name=legacy_font, bold=True, italic=True)
            ws.merge_cells(start_row=current, start_column=1, end_row=current, end_column=width)
            continue
        number += 1
        rows.append(current)
        for col, (name, sex) in enumerate(columns, start=1):
            value = number if name == "STT" else entry.get(name)
            if sex and parse_sex(entry.get("Giới tính")) != parse_sex(sex):
                value = None
            cell = put(ws, current, col, value)
            cell.border = _BOX
            if isinstance(value, dt.date):
                cell.number_format = "dd/mm/yyyy"
            elif isinstance(value, int) and name != "STT" and value > 10**8:
                cell.number_format = "0"  # an ID typed as a number: Excel drops its leading 0
    current += 1
    put(ws, current, 1, f"Tổng cộng: {number} người").font = Font(name=legacy_font, bold=True)
    put(ws, current + 2, right, doc.place_date).font = Font(name=legacy_font, italic=True)
    put(ws, current + 3, 1, doc.signer_left).font = Font(name=legacy_font, bold=True)
    put(ws, current + 3, right, doc.signer_right).font = Font(name=legacy_font, bold=True)
    put(ws, current + 7, 2, doc.signer_names[0])
    put(ws, current + 7, right, doc.signer_names[1])
    ws.print_options.horizontalCentered = True
    ws.page_setup.orientation = "landscape"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return rows
