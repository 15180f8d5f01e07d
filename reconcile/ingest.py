"""Read a list file as officers keep it: find the table under the title block, map its headers to
our fields, and remember the file, sheet and Excel row of every data row.

Every non-blank row between the header and the footer is a data row and comes out of here exactly
once; title, group ("Thôn Đông") and footer rows are layout, not people.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reconcile.kinds import HEADER_ALIASES, ListKind
from reconcile.normalize.names import clean_text, fold

HEADER_SEARCH_ROWS = 40
SOURCE_COLUMNS = ["source_file", "source_sheet", "source_row"]


class UnreadableListError(Exception):
    """A list that cannot be read at all. The message is bilingual and names the file only."""


@dataclass(frozen=True)
class SheetGrid:
    name: str
    rows: list[list[object]]


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


def header_key(text: object) -> str:
    """Fold a header cell for lookup: no diacritics, lower case, no notes in brackets."""
    folded = fold(clean_text(text)).lower()
    folded = re.sub(r"\([^)]*\)", " ", folded)
    folded = re.sub(r"[:*]+", " ", folded)
    return " ".join(folded.split()).strip(" .")


_ALIAS_TO_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
_FOOTER = re.compile(
    r"^(tong cong|tong so|cong\b|nguoi lap|tm\b|t/m\b|xac nhan|chu tich|thu truong|ke toan"
    r"|can bo|ky ten)|,?\s*ngay\s*\S*\s*thang\s*\S*\s*nam\b"
)
_GROUP = re.compile(r"^(thon|xom|ap|to dan pho|khu pho|ban|doi)\b")


def _read_csv_grid(path: Path) -> list[SheetGrid]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # cp1258 decodes to base letter + combining mark: NFC joins them again.
            text = unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))
    if "\x00" in text:
        raise UnreadableListError(
            f"Tệp {path.name} không phải bảng tính hay CSV đọc được / "
            f"{path.name} is not a readable spreadsheet or CSV"
        )
    rows = [list(r) for r in csv.reader(io.StringIO(text), delimiter=_delimiter(text))]
    return [SheetGrid(path.stem, rows)]


def _delimiter(text: str) -> str:
    """The separator most used on some line: title lines above the table have none, so the
    standard sniffer, which wants every line alike, guesses wrong on commune CSVs."""
    lines = text[:65536].splitlines()[:200]
    counts = {d: max((line.count(d) for line in lines), default=0) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d])


def _read_excel_grid(path: Path) -> list[SheetGrid]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own types; the text may quote the file only
        raise UnreadableListError(
            f"Không mở được tệp {path.name} (hỏng, có mật khẩu hoặc không phải Excel). "
            f"Hãy mở và lưu lại thành .xlsx không mật khẩu / Cannot open {path.name} "
            f"(corrupt, password-protected or not Excel): save it again as .xlsx without a password"
        ) from exc
    grids = []
    for name in workbook.sheet_names:
        # skip_empty_area=False keeps row 1 of the sheet at index 0, so Excel row numbers hold.
        rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        grids.append(SheetGrid(name, rows))
    return grids


def read_grids(path: Path) -> list[SheetGrid]:
    """Every sheet of a file as rows of raw cell values; row i is Excel row i + 1."""
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
        if suffix != ".xls" and not magic.startswith(b"PK"):
            if magic.startswith(b"\xd0\xcf\x11\xe0"):  # an .xls, or an encrypted .xlsx
                return _read_excel_grid(path)
            return _read_csv_grid(path)  # a "spreadsheet" that is really a CSV
        return _read_excel_grid(path)
    raise UnreadableListError(
        f"Không hỗ trợ loại tệp của {path.name} (cần .xlsx, .xls hoặc .csv) / "
        f"unsupported file type for {path.name} (need .xlsx, .xls or .csv)"
    )


def find_header(
    rows: list[list[object]], overrides: Mapping[str, str] | None = None
) -> tuple[int, dict[int, str], dict[str, str]] | None:
    """First row naming at least two known fields, one of them the name. Returns the row index,
    column → field, and field → header as written."""
    override_keys = {header_key(k): v for k, v in (overrides or {}).items()}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[int, str] = {}
        written: dict[str, str] = {}
        for col, cell in enumerate(row):
            key = header_key(cell)
            name = override_keys.get(key) or _ALIAS_TO_FIELD.get(key)
            if name and name not in written:
                columns[col] = name
                written[name] = clean_text(cell)
        if "full_name" in written and len(written) >= 2:
            return index, columns, written
    return None


def _is_number(value: object) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and value.strip().isdigit()


def _row_kind(cells: list[object], row_number_col: int | None) -> str:
    texts = [clean_text(c) for c in cells if clean_text(c)]
    if not texts:
        return "blank"
    if row_number_col is not None and row_number_col < len(cells):
        if _is_number(cells[row_number_col]):
            return "data"
    first = fold(texts[0]).lower()
    if _FOOTER.search(first):
        return "footer"
    if len(texts) <= 2 and _GROUP.match(first):
        return "group"
    return "data"


def extract_sheet(
    grid: SheetGrid, source_file: str, overrides: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, dict[str, str]] | None:
    found = find_header(grid.rows, overrides)
    if found is None:
        return None
    header_index, columns, written = found
    row_number_col = next((c for c, f in columns.items() if f == "row_number"), None)
    records = []
    group_hamlet = None
    for offset, cells in enumerate(grid.rows[header_index + 1 :], start=header_index + 1):
        kind = _row_kind(cells, row_number_col)
        if kind == "footer":
            break  # signatures below the footer are officials, not people on the list
        if kind == "blank":
            continue
        if kind == "group":
            group_hamlet = next(clean_text(c) for c in cells if clean_text(c))
            continue
        record = {f: (cells[c] if c < len(cells) else None) for c, f in columns.items()}
        if group_hamlet and not clean_text(record.get("hamlet")):
            record["hamlet"] = group_hamlet
        record.update(source_file=source_file, source_sheet=grid.name, source_row=offset + 1)
        records.append(record)
    fields = list(dict.fromkeys([*columns.values(), *(["hamlet"] if group_hamlet else [])]))
    frame = pd.DataFrame.from_records(records, columns=[*fields, *SOURCE_COLUMNS])
    if group_hamlet and "hamlet" not in written:
        written["hamlet"] = "Thôn/xóm (dòng nhóm / group row)"
    return frame.astype({"source_row": "int64"}), written


def ingest_list(
    path: Path, kind: ListKind, label: str | None = None, overrides: Mapping[str, str] | None = None
) -> IngestedList:
    """Read every sheet that holds a table. Raises UnreadableListError when none does."""
    grids = read_grids(path)
    frames, headers, without = [], {}, []
    for grid in grids:
        extracted = extract_sheet(grid, path.name, overrides)
        if extracted is None:
            without.append(grid.name)
            continue
        frame, written = extracted
        frames.append(frame)
        headers = {**written, **headers}
    if not frames:
        raise UnreadableListError(
            f"Không tìm thấy dòng tiêu đề (Họ và tên, Ngày sinh…) trong {path.name}. Hãy kiểm tra "
            f"tên cột hoặc khai báo cột trong tệp cấu hình / No header row (Họ và tên, Ngày sinh…) "
            f"found in {path.name}: check the column names or map them in the run config"
        )
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return IngestedList(label or path.stem, kind, path, frame, headers, without)
