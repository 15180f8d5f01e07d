"""Small list files in every layout, format and encoding officers produce, made by code so each
test knows exactly what is in them. Synthetic people only."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from reconcile.normalize.legacy import encode_tcvn3, encode_vni
from reconcile.normalize.names import TONE_MARKS

PEOPLE = [
    ("Nguyễn Văn Hoà", dt.date(1950, 3, 5), "Nam", "034050001234", "Thôn Đông"),
    ("Trần Thị Thuỷ", dt.date(1962, 11, 20), "Nữ", "001162004321", "Thôn Đoài"),
    ("Lê Đức Quý", dt.date(1988, 7, 1), "Nam", "034088000777", "Thôn Đông"),
    ("Đoàn Thị Ngọc Ánh", dt.date(2001, 1, 31), "Nữ", "034301009999", "Xóm Mới"),
]
NAMES = [p[0] for p in PEOPLE]
TITLE = [
    "UBND XÃ AN BÌNH",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "",
    "DANH SÁCH HỘI VIÊN NĂM 2026",
    "",
]
FOOTER = [
    "Tổng cộng: 4 người",
    "",
    "An Bình, ngày 15 tháng 11 năm 2026",
    "Người lập biểu",
    "",
    "Phạm Thị Hồng",
]


# The top of a register export as the police hand it over (title row, then the header).
REGISTER_TOP = [
    ["DỮ LIỆU DÂN CƯ XÃ AN BÌNH (giả lập)"],
    [
        "STT",
        "HỌ VÀ TÊN",
        "Ngày sinh",
        "Giới tính",
        "Số định danh cá nhân",
        "Thôn/xóm",
        "Tình trạng",
    ],
]


def workbook(sheets: dict[str, list[list[object]]], path: Path, fonts: dict | None = None) -> Path:
    """Write sheets of rows; fonts: {(sheet, row, col): font name} with 1-based row/col."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None and value != "":
                    ws.cell(r, c, value)
    for (sheet, r, c), font in (fonts or {}).items():
        wb[sheet].cell(r, c).font = Font(name=font)
    wb.save(path)
    return path


def simple_rows(title_height: int = len(TITLE)) -> list[list[object]]:
    rows = [[line] for line in (TITLE * 3)[:title_height]]
    rows.append(["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Thôn"])
    for i, (name, born, sex, pid, hamlet) in enumerate(PEOPLE, start=1):
        rows.append([i, name, born, sex, pid, hamlet])
    rows += [[line] for line in FOOTER]
    return rows


def cp1258_bytes(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed base letter, then the tone as a combining mark."""
    out = b""
    for ch in text:
        decomposed = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in decomposed if c in TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
        out += (base + tone).encode("cp1258")
    return out


def csv_text(delimiter: str = ",") -> str:
    lines = ["DANH SÁCH HỘI VIÊN", "", delimiter.join(["STT", "Họ tên", "Năm sinh", "Giới tính"])]
    for i, (name, born, sex, _, _) in enumerate(PEOPLE, start=1):
        lines.append(delimiter.join([str(i), name, str(born.year), sex]))
    return "\n".join(lines) + "\n"


def xls(rows: list[list[object]], path: Path) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Danh sach")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date_style)
            elif value not in (None, ""):
                sheet.write(r, c, value)
    book.save(str(path))
    return path


def legacy_rows(encode, header_encoded: bool = True) -> list[list[object]]:
    header = ["STT", "Họ và tên", "Năm sinh", "Thôn"]
    rows = [
        [encode("DANH SÁCH HỘI VIÊN")],
        [],
        [encode(h) if header_encoded else h for h in header],
    ]
    for i, (name, born, _, _, hamlet) in enumerate(PEOPLE, start=1):
        rows.append([i, encode(name), born.year, encode(hamlet)])
    rows.append([encode("Người lập biểu")])
    return rows


__all__ = ["encode_tcvn3", "encode_vni"]
