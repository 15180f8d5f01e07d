"""Read a list file as officers keep it: find the table under the title block, map its headers to
our fields, decode legacy fonts, and remember the file, sheet and Excel row of every data row.

Every non-blank row between the header and the signature footer is a data row and comes out of
here exactly once; title, column-number, group ("Thôn Đông"), total and footer rows are layout.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from reconcile import xlsx_parts
from reconcile.kinds import HEADER_ALIASES, ListKind
from reconcile.normalize.dates import list_date
from reconcile.normalize.legacy import decode_column, decode_tcvn3, decode_vni
from reconcile.normalize.names import clean_text, fold
from reconcile.normalize.syllables import vietnamese_share

HEADER_SEARCH_ROWS = 40
SOURCE_COLUMNS = ["source_file", "source_sheet", "source_row"]
# Columns that may hold legacy-font text ("Nöõ", "ngµy 5 th¸ng 3"); IDs and numbers never do.
TEXT_FIELDS = (
    "full_name",
    "family_name",
    "middle_name",
    "given_name",
    "hamlet",
    "status",
    "sex",
    "birth_date",
    "death_date",
)
# Helper columns that two-row headers produce; folded into real fields before leaving ingest.
SPLIT_FIELDS = ("family_name", "middle_name", "given_name")
_SEX_MARKS = {"nam": "M", "nu": "F"}


class UnreadableListError(Exception):
    """A list that cannot be read at all. The message is bilingual and names the file only."""


@dataclass
class SheetGrid:
    """A sheet's rows of raw cell values; the first row given is Excel row `first_row`."""

    name: str
    rows: Iterable[list[object]]
    first_row: int = 1


@dataclass
class IngestedList:
    """The data rows of one list file, raw values in field-named columns."""

    label: str
    kind: ListKind
    path: Path
    frame: pd.DataFrame
    # field → header text as written in the file, for messages a clerk can follow
    headers: dict[str, str] = field(default_factory=dict)
    sheets_without_table: list[str] = field(default_factory=list)
    # the list's own date, from its "…, ngày … tháng … năm …" line: the pivot for d/m/yy
    list_date: dt.date | None = None


@dataclass(frozen=True)
class Header:
    row: int  # position of the (first) header row among the sheet's rows
    data_start: int  # position of the first row below the header block
    columns: dict[int, str]  # column → field (or helper field)
    written: dict[str, str]  # field → header text as written


@lru_cache(maxsize=65536)
def header_key(text: object) -> str:
    """Fold a header cell for lookup: no diacritics, lower case, no notes in brackets."""
    folded = fold(clean_text(text)).lower()
    folded = re.sub(r"\([^)]*\)", " ", folded)
    folded = re.sub(r"[:*]+", " ", folded)
    return " ".join(folded.split()).strip(" .")


def _text(cell: object) -> str:
    """A cell as text for layout decisions. Unlike clean_text it keeps U+00AD, which is the
    letter ư in TCVN3 and must survive until the text is decoded."""
    if cell is None or (isinstance(cell, float) and cell != cell):
        return ""
    return " ".join(str(cell).split())


@lru_cache(maxsize=65536)
def readable(text: str) -> str:
    """The most Vietnamese-looking reading of a cell (raw, TCVN3 or VNI), for classifying layout
    rows only; data cells are decoded per column, on evidence."""
    if text.isascii():
        return text
    options = [text, decode_tcvn3(text), decode_vni(text)]
    return max((o for o in options if o), key=vietnamese_share)


_ALIAS_TO_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
_ALIAS_TO_FIELD.update(
    {
        "ho": "family_name",
        "ho dem": "family_name",
        "chu dem": "middle_name",
        "dem": "middle_name",
        "ten dem": "middle_name",
        "ten lot": "middle_name",
    }
)
_TOTAL = re.compile(r"^(tong cong|tong so|cong\b|cong thon|cong xom)")
_FOOTER = re.compile(
    r"^(nguoi lap|tm\b|t/m\b|xac nhan|chu tich|thu truong|ke toan|can bo|ky ten|truong cong an)"
    r"|,?\s*ngay\s*\S*\s*thang\s*\S*\s*nam\b"
)
_GROUP = re.compile(r"^(thon|xom|ap|to dan pho|khu pho|ban|doi)\b")
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")


# ---- reading files into rows ----


def _decode_csv_bytes(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # cp1258 decodes to base letter + combining mark: NFC joins them again.
        return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))


def _delimiter(text: str) -> str:
    """The separator most used on some line: title lines above the table have none, so the
    standard sniffer, which wants every line alike, guesses wrong on commune CSVs."""
    lines = text[:65536].splitlines()[:200]
    counts = {d: max((line.count(d) for line in lines), default=0) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d])


def _read_csv_grid(path: Path) -> list[SheetGrid]:
    text = _decode_csv_bytes(path.read_bytes())
    if "\x00" in text:
        raise UnreadableListError(
            f"Tệp {path.name} không phải bảng tính hay CSV đọc được / "
            f"{path.name} is not a readable spreadsheet or CSV"
        )
    rows = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    return [SheetGrid(path.stem, ([*r] for r in rows))]


def _calamine_rows(sheet) -> Iterator[list[object]]:
    offset = sheet.start[1] if sheet.start else 0
    for row in sheet.iter_rows():
        yield [""] * offset + row if offset else row


def _read_excel_grid(path: Path) -> list[SheetGrid]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = [workbook.get_sheet_by_name(name) for name in workbook.sheet_names]
    except Exception as exc:  # calamine raises its own types; the text may quote the file only
        raise UnreadableListError(
            f"Không mở được tệp {path.name} (hỏng, có mật khẩu hoặc không phải Excel). "
            f"Hãy mở và lưu lại thành .xlsx không mật khẩu / Cannot open {path.name} "
            f"(corrupt, password-protected or not Excel): save it again as .xlsx without a password"
        ) from exc
    grids = []
    for sheet in sheets:
        # iter_rows streams from the first used row: a million formatted empty rows cost nothing
        first = (sheet.start[0] + 1) if sheet.start else 1
        grids.append(SheetGrid(sheet.name, _calamine_rows(sheet), first_row=first))
    return grids


def read_grids(path: Path) -> list[SheetGrid]:
    """Every sheet of a file as rows of raw cell values."""
    if not path.is_file():
        raise UnreadableListError(f"Không tìm thấy tệp {path} / file not found: {path}")
    if path.stat().st_size == 0:
        raise UnreadableListError(f"Tệp {path.name} rỗng / {path.name} is empty")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_csv_grid(path)
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        with path.open("rb") as handle:
            magic = handle.read(8)
        if suffix != ".xls" and not magic.startswith((b"PK", b"\xd0\xcf\x11\xe0")):
            return _read_csv_grid(path)  # a "spreadsheet" that is really a CSV
        return _read_excel_grid(path)
    raise UnreadableListError(
        f"Không hỗ trợ loại tệp của {path.name} (cần .xlsx, .xls hoặc .csv) / "
        f"unsupported file type for {path.name} (need .xlsx, .xls or .csv)"
    )


# ---- finding the header ----


def _field_of(cell: object, overrides: Mapping[str, str]) -> str | None:
    text = _text(cell)
    if not text:
        return None
    for reading in dict.fromkeys([text, readable(text)]):
        key = header_key(reading)
        name = overrides.get(key) or _ALIAS_TO_FIELD.get(key)
        if name:
            return name
    return None


def _map_row(row: list[object], overrides: Mapping[str, str]) -> tuple[dict[int, str], dict]:
    columns: dict[int, str] = {}
    written: dict[str, str] = {}
    for col, cell in enumerate(row):
        name = _field_of(cell, overrides)
        if name and name not in written:
            columns[col], written[name] = name, clean_text(readable(_text(cell)))
    if (
        "family_name" in written
        and "full_name" in written
        and header_key(readable(written["full_name"])) == "ten"
    ):
        # "Họ" | "Đệm" | "Tên": here "Tên" is the given name, not the whole name
        col = next(c for c, f in columns.items() if f == "full_name")
        columns[col] = "given_name"
        written["given_name"] = written.pop("full_name")
    return columns, written


def _names_a_person(written: Mapping[str, str]) -> bool:
    return "full_name" in written or {"family_name", "given_name"} <= written.keys()


def _sub_header(
    top: list[object],
    sub: list[object],
    columns: dict[int, str],
    written: dict[str, str],
    overrides: Mapping[str, str],
) -> bool:
    """Fold a second header row (Nam/Nữ under Ngày sinh or Giới tính; Họ/Tên under Họ và tên)
    into the mapping. False when `sub` is not a sub-header row."""
    labels = [_text(c) for c in sub if _text(c)]
    if not labels or any(
        header_key(readable(c)) not in _SEX_MARKS
        and not _field_of(c, overrides)
        and not _COLUMN_NUMBER.match(c)
        for c in labels
    ):
        return False  # a data row: it holds values, not labels
    found = False
    carried = None  # the header of a cell merged across several columns sits in its first cell
    updates: dict[int, str] = {}
    for col in range(max(len(top), len(sub))):
        above = _text(top[col]) if col < len(top) else ""
        if above:
            carried = _field_of(above, overrides) or above
        below = _text(sub[col]) if col < len(sub) else ""
        if not below:
            continue
        key = header_key(readable(below))
        if key in _SEX_MARKS:
            sex = _SEX_MARKS[key]
            updates[col] = f"birth_date@{sex}" if carried == "birth_date" else f"sex_mark@{sex}"
            found = True
        elif (name := _field_of(below, overrides)) and not _COLUMN_NUMBER.match(below):
            if name == "full_name" and key == "ten" and carried in ("full_name", "family_name"):
                name = "given_name"
            updates[col] = name
            written.setdefault(name, clean_text(readable(below)))
            found = True
    if not found:
        return False
    columns.update(updates)
    if any(f.startswith("birth_date@") for f in columns.values()):
        written["birth_date"] = f"{written.get('birth_date', 'Ngày sinh')} (Nam/Nữ)"
    if any(f.startswith("sex_mark@") for f in columns.values()):
        written["sex"] = f"{written.get('sex', 'Giới tính')} (Nam/Nữ)"
    if {"family_name", "given_name"} <= set(columns.values()):
        for col, name in list(columns.items()):
            if name == "full_name" and col not in updates:  # "Họ và tên" was only a group title
                del columns[col]
    return True


def _is_column_number_row(row: list[object]) -> bool:
    cells = [clean_text(c) for c in row if clean_text(c)]
    return len(cells) >= 2 and all(_COLUMN_NUMBER.match(c) for c in cells)


def find_header(
    rows: list[list[object]], overrides: Mapping[str, str] | None = None
) -> Header | None:
    """The first row naming a person's name and another known field, with its sub-header row
    and column-number row if any."""
    keyed = {header_key(k): v for k, v in (overrides or {}).items()}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns, written = _map_row(row, keyed)
        if len(written) < 2 and not (len(written) == 1 and index + 1 < len(rows)):
            continue
        start = index + 1
        if start < len(rows) and _sub_header(row, rows[start], columns, written, keyed):
            start += 1
        if not (_names_a_person(written) and len(written) >= 2):
            continue
        if start < len(rows) and _is_column_number_row(rows[start]):
            start += 1
        return Header(index, start, columns, written)
    return None


# ---- rows below the header ----


def _is_number(value: object) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and value.strip().rstrip(".").isdigit()


def _row_kind(cells: list[object], row_number_col: int | None) -> str:
    # a numbered row is data: decided before turning every cell into text, which is most of
    # the cost of reading a long list
    if row_number_col is not None and row_number_col < len(cells):
        if _is_number(cells[row_number_col]):
            return "data"
    texts = [t for t in map(_text, cells) if t]
    if not texts:
        return "blank"
    first = fold(readable(texts[0])).lower()
    if _FOOTER.search(first):
        return "footer"
    if _TOTAL.match(first):
        return "total"
    if len(texts) <= 2 and _GROUP.match(first):
        return "group"
    return "data"


def _combine(record: dict[str, object]) -> dict[str, object]:
    """Fold helper columns into fields: Nam/Nữ date or mark columns, split name parts."""
    for sex in ("M", "F"):
        value = record.pop(f"birth_date@{sex}", None)
        if clean_text(value):
            record.setdefault("birth_date", value)
            if not clean_text(record.get("birth_date")):
                record["birth_date"] = value
            if not clean_text(record.get("sex")):
                record["sex"] = "Nam" if sex == "M" else "Nữ"
        mark = record.pop(f"sex_mark@{sex}", None)
        if clean_text(mark) and not clean_text(record.get("sex")):
            record["sex"] = "Nam" if sex == "M" else "Nữ"
    if any(f in record for f in SPLIT_FIELDS):
        parts = [clean_text(record.pop(f, None)) for f in SPLIT_FIELDS]
        record["full_name"] = " ".join(p for p in parts if p)
    return record


def _padded_rows(grid: SheetGrid, formulas: Mapping[tuple[int, int], str]) -> Iterator[list]:
    """The sheet's rows, continued with empty rows down to the last uncomputed formula (which
    the fast reader does not see), so a row holding only such a formula is not lost."""
    next_row = grid.first_row
    for row in grid.rows:
        next_row += 1
        yield row
    for _ in range(next_row, max((r for r, _ in formulas), default=0) + 1):
        yield []


@dataclass
class SheetTable:
    frame: pd.DataFrame
    headers: dict[str, str]
    list_date: dt.date | None


def extract_sheet(
    grid: SheetGrid,
    source_file: str,
    overrides: Mapping[str, str] | None = None,
    formulas: Mapping[tuple[int, int], str] | None = None,
    fonts_of=None,
) -> SheetTable | None:
    """The sheet's data rows as raw values, or None when the sheet holds no table.

    `fonts_of(first_row, last_row, columns)` gives cell fonts as encoding evidence, if known."""
    formulas = formulas or {}
    rows = _padded_rows(grid, formulas)
    buffered = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
    header = find_header(buffered, overrides)
    if header is None:
        return None
    columns = header.columns
    row_number_col = next((c for c, f in columns.items() if f == "row_number"), None)
    records: list[dict[str, object]] = []
    excel_rows: list[int] = []
    group_hamlet = None
    found_date = None
    formulas_by_row: dict[int, dict[int, str]] = {}
    for (f_row, f_col), formula in formulas.items():
        if f_col in columns:
            formulas_by_row.setdefault(f_row, {})[f_col] = formula
    body = itertools.chain(buffered[header.data_start :], rows)
    for excel_row, cells in enumerate(body, start=grid.first_row + header.data_start):
        for f_col, formula in formulas_by_row.get(excel_row, {}).items():
            cells = [*cells, *[""] * (f_col + 1 - len(cells))]
            if not clean_text(cells[f_col]):
                cells[f_col] = formula
        kind = _row_kind(cells, row_number_col)
        if kind == "footer":
            # signatures below the footer are officials, not people on the list; the date line
            # is among the first footer rows
            footer_text = " ".join(
                readable(t) for r in [cells, *itertools.islice(body, 8)] for t in map(_text, r) if t
            )
            found_date = list_date(footer_text)
            break
        if kind in ("blank", "total"):
            continue
        if kind == "group":
            group_hamlet = next(t for t in map(_text, cells) if t)
            continue
        record = {f: (cells[c] if c < len(cells) else None) for c, f in columns.items()}
        if group_hamlet and not clean_text(record.get("hamlet")):
            record["hamlet"] = group_hamlet
        records.append(record)
        excel_rows.append(excel_row)
    _decode_text_columns(records, excel_rows, columns, fonts_of)
    if any("@" in f or f in SPLIT_FIELDS for f in columns.values()):
        records = [_combine(r) for r in records]
    for record, excel_row in zip(records, excel_rows, strict=True):
        record.update(source_file=source_file, source_sheet=grid.name, source_row=excel_row)
    written = dict(header.written)
    for helper in SPLIT_FIELDS:
        written.pop(helper, None)
    if any(f in columns.values() for f in SPLIT_FIELDS):
        written["full_name"] = " + ".join(
            header.written[f] for f in SPLIT_FIELDS if f in header.written
        )
    if group_hamlet and "hamlet" not in written:
        written["hamlet"] = "Thôn/xóm (dòng nhóm / group row)"
    fields = [f for f in dict.fromkeys(k for r in records for k in r) if f not in SOURCE_COLUMNS]
    if not records:
        fields = [f for f in dict.fromkeys(_combine(dict.fromkeys(columns.values())))]
    frame = pd.DataFrame.from_records(records, columns=[*fields, *SOURCE_COLUMNS])
    return SheetTable(frame.astype({"source_row": "int64"}), written, found_date)


def _decode_text_columns(records, excel_rows, columns, fonts_of) -> None:
    """Decode legacy-font text column by column, on the evidence of the whole column."""
    text_columns = {c: f for c, f in columns.items() if f.split("@")[0] in TEXT_FIELDS}
    if not records or not text_columns:
        return
    fonts = fonts_of(excel_rows[0], excel_rows[-1], list(text_columns)) if fonts_of else None
    for col, name in text_columns.items():
        cells = [r.get(name) for r in records]
        column_fonts = [fonts.get((row, col)) for row in excel_rows] if fonts else None
        for record, value in zip(records, decode_column(cells, column_fonts), strict=True):
            record[name] = value
    if "hamlet" not in text_columns:  # hamlets that came from group rows
        cells = [r.get("hamlet") for r in records]
        for record, value in zip(records, decode_column(cells), strict=True):
            if value is not None:
                record["hamlet"] = value


def ingest_list(
    path: Path, kind: ListKind, label: str | None = None, overrides: Mapping[str, str] | None = None
) -> IngestedList:
    """Read every sheet that holds a table. Raises UnreadableListError when none does."""
    grids = read_grids(path)
    formulas = xlsx_parts.uncomputed_formulas(path) if path.suffix.lower() != ".csv" else {}
    legacy_fonts = path.suffix.lower() != ".csv" and xlsx_parts.has_legacy_fonts(path)
    frames, headers, without, dates = [], {}, [], []
    for grid in grids:
        fonts_of = None
        if legacy_fonts:

            def fonts_of(first, last, cols, sheet=grid.name):
                return xlsx_parts.cell_fonts(path, sheet, first, last, cols)

        table = extract_sheet(grid, path.name, overrides, formulas.get(grid.name), fonts_of)
        if table is None:
            without.append(grid.name)
            continue
        frames.append(table.frame)
        headers = {**table.headers, **headers}
        dates.append(table.list_date)
    if not frames:
        raise UnreadableListError(
            f"Không tìm thấy dòng tiêu đề (Họ và tên, Ngày sinh…) trong {path.name}. Hãy kiểm tra "
            f"tên cột hoặc khai báo cột trong tệp cấu hình / No header row (Họ và tên, Ngày sinh…) "
            f"found in {path.name}: check the column names or map them in the run config"
        )
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    found = next((d for d in dates if d), None)
    return IngestedList(label or path.stem, kind, path, frame, headers, without, found)
