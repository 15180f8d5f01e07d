"""Limits that keep one hostile or damaged workbook from stopping the night.

The fast reader allocates a sheet's whole bounding box: one value in cell XFD1048576 of a 5 KB
file asks for 17 billion cells (550 GB) and the process aborts without a word; a 1 MB file can
expand to a 420 MB cell. So before a sheet is read, its real extent is taken from its cells
(not from the <dimension> it claims) and the archive's expansion is checked; a sheet beyond the
limits is skipped with a message naming the far cell, and only that sheet.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from reconcile.xlsx_parts import may_hold_formulas, sheet_parts

# The bounding box the reader may allocate (32 bytes a cell: about 1 GB). A wide sheet of a few
# rows is fine; one far cell that stretches the box over a million rows is not.
MAX_CELLS = 30_000_000
# A part that expands beyond this, or more than this many times its compressed size once past
# MIN_BOMB_BYTES, is a bomb, not a list.
MAX_PART_BYTES = 2 * 1024**3
MAX_RATIO, MIN_BOMB_BYTES = 100, 20 * 1024**2

_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="(\d+)"')
_WIDE_CELL = {
    3: re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{3})(\d+)"'),
    2: re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{2})(\d+)"'),
}
# A literal-led superset of _WIDE_CELL: 15x faster to rule out (0.17 s, not 2.5 s, on a
# 300,000-row register's 123 MB sheet), so the exact pattern runs only where it may match.
_MAYBE_WIDE = {3: re.compile(rb'r="[A-Z]{3}\d'), 2: re.compile(rb'r="[A-Z]{2}\d')}


class WorkbookTooLarge(Exception):
    """The whole file is a bomb (bilingual message, file name only)."""


@dataclass(frozen=True)
class Extent:
    rows: int
    columns: int
    far_cell: str  # the cell that sets the width ("XFD1048576"), for the message
    # whether the part may hold a formula: xlsx_parts reads it a second time only then (a
    # 300,000-row register's sheet is 123 MB of XML, 0.4 s to inflate)
    may_hold_formulas: bool = True

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def check_archive(path: Path) -> None:
    """Raise WorkbookTooLarge when a part of the .xlsx would expand beyond reason."""
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > MAX_PART_BYTES or (
                info.file_size > MIN_BOMB_BYTES and ratio > MAX_RATIO
            ):
                raise WorkbookTooLarge(
                    f"Tệp {path.name} giải nén ra {info.file_size / 1024**2:,.0f} MB (gấp "
                    f"{ratio:,.0f} lần): không phải một danh sách bình thường, bị bỏ qua / "
                    f"{path.name} expands to {info.file_size / 1024**2:,.0f} MB ({ratio:,.0f} "
                    f"times its size): not an ordinary list, skipped"
                )


def extent_of(xml: bytes) -> Extent:
    """A sheet part's real extent, from its row and cell references."""
    tail = xml[-1_000_000:]
    rows = [int(r) for r in _ROW.findall(tail)]
    last_row = max(rows) if rows else xml.count(b"<row")
    columns, far = 26, ""
    for letters in (3, 2):
        if not _MAYBE_WIDE[letters].search(xml):
            continue
        refs = [(column_number(c.decode()), c + r) for c, r in _WIDE_CELL[letters].findall(xml)]
        if refs:
            columns, far = max(refs)
            far = far.decode()
            break
    return Extent(max(last_row, 1), columns, far, may_hold_formulas(xml))


def sheet_extents(path: Path) -> dict[str, Extent]:
    """Sheet name → real extent, for .xlsx/.xlsm; {} for other formats."""
    if not zipfile.is_zipfile(path):
        return {}
    out = {}
    with zipfile.ZipFile(path) as archive:
        try:
            parts = sheet_parts(archive)
        except Exception:  # an archive calamine will refuse with its own message
            return {}
        for name, part in parts.items():
            try:
                out[name] = extent_of(archive.read(part))
            except KeyError:
                continue
    return out


def refusal(path: Path, sheet: str, extent: Extent) -> str | None:
    """Why a sheet is too large to read (bilingual), or None."""
    if extent.cells <= MAX_CELLS:
        return None
    where = extent.far_cell or f"dòng {extent.rows}"
    return (
        f"trang '{sheet}' của {path.name} dùng tới ô {where} ({extent.rows:,} dòng × "
        f"{extent.columns:,} cột): quá rộng để đọc, trang bị bỏ qua; hãy xóa các ô thừa ở xa bảng "
        f"rồi lưu lại / sheet '{sheet}' of {path.name} reaches cell {where} ({extent.rows:,} "
        f"rows × {extent.columns:,} columns): too large to read, sheet skipped; delete the stray "
        f"cells far from the table and save again"
    )
