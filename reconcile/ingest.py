"""Read a list file as officers keep it: find the table under the title block, map its headers to
our fields, decode legacy fonts, and remember the file, sheet and Excel row of every data row.

Every non-blank row between the header and the signature footer is a data row and comes out of
here exactly once; title, column-number, group ("Thôn Đông"), total and footer rows are layout.
A Parquet file or a database table whose column names are its header is a typed table: each of
its non-blank rows is a record, read column by column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd

from reconcile import xlsx_parts
from reconcile.headers import ALIASES, classify_header, header_key, keyed_overrides
from reconcile.kinds import ListKind
from reconcile.layout import (
    BLANK,
    DATA,
    FOOTER,
    GROUP,
    LABEL,
    REASONS,
    RowRoles,
    _text,
    classify_rows,
    is_number,
    readable,
)
from reconcile.normalize.dates import list_date
from reconcile.normalize.legacy import decode_column
from reconcile.normalize.names import clean_text
from reconcile.sheet_guard import WorkbookTooLarge, check_archive, refusal, sheet_extents

HEADER_SEARCH_ROWS = 40
SOURCE_COLUMNS = ["source_file", "source_sheet", "source_row"]
LAYOUT_COLUMNS = [*SOURCE_COLUMNS, "role", "reason"]
# Columns that may hold legacy-font text ("Nöõ", "ngµy 5 th¸ng 3"); IDs and numbers never do.
TEXT_FIELDS = (
    "full_name",
    "family_name",
    "middle_name",
    "given_name",
    "hamlet",
    "commune",
    "status",
    "sex",
    "birth_date",
    "death_date",
    "relation",
)
# Helper columns that two-row headers produce; folded into real fields before leaving ingest.
SPLIT_FIELDS = ("family_name", "middle_name", "given_name")
_SEX_MARKS = {"nam": "M", "nu": "F"}
# Sub-header words under "Họ và tên" that mean the person the list is about ("Trẻ" beside "Mẹ").
_SELF_WORDS = {"tre", "tre em", "con", "ban than", "nguoi chet", "nguoi huong", "doi tuong"}
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")


class UnreadableListError(Exception):
    """A list that cannot be read at all. The message is bilingual and names the file only."""


@dataclass
class SheetGrid:
    """A sheet's rows of raw cell values; the first row given is Excel row `first_row`.
    `merged`: merged ranges as ((first row, first col), (last row, last col)), 0-based."""

    name: str
    rows: Iterable[list[object]]
    first_row: int = 1
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    hidden: bool = False
    refused: str | None = None  # why the sheet is not read at all (sheet_guard)
    may_hold_formulas: bool = True  # False: its part was scanned and holds no formula


@dataclass
class SheetReport:
    """What became of one sheet's rows: counts by role, and why a sheet held no table."""

    sheet: str
    rows: int = 0  # physical rows, from row 1 to the last used one
    data: int = 0
    layout: dict[str, int] = field(default_factory=dict)
    skipped: str | None = None  # why the sheet was not read (no header, hidden…)


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
    # every non-data row with its role and reason (title, header, group, total, footer…)
    layout: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LAYOUT_COLUMNS))
    sheets: list[SheetReport] = field(default_factory=list)
    # bilingual doubts about the header: columns that look like ours but were not understood
    warnings: list[str] = field(default_factory=list)
    # text of the title block above the first table (evidence of what kind of list this is)
    title: str = ""


@dataclass(frozen=True)
class Header:
    row: int  # position of the (first) header row among the sheet's rows
    data_start: int  # position of the first row below the header block
    columns: dict[int, str]  # column → field (or helper field)
    written: dict[str, str]  # field → header text as written
    unread: tuple[str, ...] = ()  # headers that look like an ID/date/name column yet map to none


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


# Rows fetched at a time from a Parquet file or a database table: a province's register never
# has to be in memory twice (once as the source's batches, once as our rows).
TABLE_CHUNK_ROWS = 50_000


class TypedTable:
    """A table whose first row is its column names and every other row a record: a Parquet
    file or a database table. Read column by column (extract_typed), not row by row: such a
    table has no title, group, total or footer rows, and telling them from data row by row cost
    about 15 s a million rows where no STT column marks the data. `batches` yields chunks of
    rows, each as one sequence per column (a list, or a pyarrow array)."""

    def __init__(self, name: str, header: list[str], batches: Iterator[list]):
        self.name, self.header = name, [str(h) for h in header]
        self._batches = batches
        self._first: list | None = None

    def first_record(self) -> list[object] | None:
        """The first row below the column names (None for an empty table)."""
        if self._first is None:
            self._first = next((b for b in self._batches if len(b) and len(b[0])), [])
        if not self._first:
            return None
        return [_cells(column, [0])[0] for column in self._first]

    def batches(self) -> Iterator[list]:
        self.first_record()
        if self._first:
            yield self._first
        yield from self._batches

    def as_grid(self) -> SheetGrid:
        """The same rows as a sheet, for the row-by-row reading."""
        return SheetGrid(self.name, _typed_rows(self.header, self.batches()))


def _cells(column, positions: list[int] | None = None) -> list[object]:
    """A column's cells as Python values (all, or at `positions`), as to_pylist gives them."""
    if positions is not None:
        return [column[i].as_py() if hasattr(column, "to_pylist") else column[i] for i in positions]
    return column.to_pylist() if hasattr(column, "to_pylist") else list(column)


def _typed_rows(header: list[str], batches: Iterator[list]) -> Iterator[list[object]]:
    yield list(header)
    for batch in batches:
        yield from (list(row) for row in zip(*map(_cells, batch), strict=True))


def _parquet_batches(source) -> Iterator[list]:
    for batch in source.iter_batches(batch_size=TABLE_CHUNK_ROWS):
        yield list(batch.columns)


def _read_parquet_grid(path: Path) -> list[TypedTable]:
    try:
        import pyarrow.parquet as pq

        source = pq.ParquetFile(path)  # fails fast on a file that is not Parquet
    except Exception:
        raise UnreadableListError(
            f"Tệp {path.name} không phải Parquet đọc được / {path.name} is not readable Parquet"
        ) from None
    return [TypedTable(path.stem, source.schema_arrow.names, _parquet_batches(source))]


def _sql_batches(url: str, table: str) -> Iterator[list]:
    """The table's column names, then its rows in chunks, each as one tuple per column."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        schema, _, name = table.rpartition(".")
        reflected = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=engine)
        yield [c.name for c in reflected.columns]
        with engine.connect() as connection:
            result = connection.execution_options(
                stream_results=True, yield_per=TABLE_CHUNK_ROWS
            ).execute(sa.select(reflected))
            for chunk in result.partitions(TABLE_CHUNK_ROWS):
                yield list(zip(*chunk, strict=True))
    finally:
        engine.dispose()


def read_table_grid(url: str, table: str) -> list[TypedTable]:
    """A database table (SQLAlchemy URL; PostgreSQL for a province), its first row the column
    names, streamed in chunks."""
    batches = _sql_batches(url, table)
    try:
        header = next(batches)
    except Exception as exc:
        raise UnreadableListError(
            f"Không đọc được bảng {table} / cannot read table {table}: {type(exc).__name__}"
        ) from None
    return [TypedTable(table, header, batches)]


def _calamine_rows(sheet) -> Iterator[list[object]]:
    offset = sheet.start[1] if sheet.start else 0
    for row in sheet.iter_rows():
        yield [""] * offset + row if offset else row


def _read_excel_grid(path: Path) -> list[SheetGrid]:
    from python_calamine import CalamineWorkbook

    try:
        check_archive(path)
    except WorkbookTooLarge as exc:
        raise UnreadableListError(str(exc)) from None
    extents = sheet_extents(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        visible = {m.name: str(m.visible).endswith("Visible") for m in workbook.sheets_metadata}
        grids = []
        for name in workbook.sheet_names:
            refused = refusal(path, name, extents[name]) if name in extents else None
            if refused:  # never handed to the reader, which would allocate the whole box
                grids.append(SheetGrid(name, [], refused=refused))
                continue
            sheet = workbook.get_sheet_by_name(name)
            # iter_rows streams from the first used row: formatted empty rows cost nothing
            first = (sheet.start[0] + 1) if sheet.start else 1
            merged = list(sheet.merged_cell_ranges or [])
            hidden = not visible.get(sheet.name, True)
            formulas = extents[name].may_hold_formulas if name in extents else True
            rows = _calamine_rows(sheet)
            grids.append(
                SheetGrid(sheet.name, rows, first, merged, hidden, may_hold_formulas=formulas)
            )
    except PermissionError:
        raise _locked(path) from None
    except Exception as exc:  # calamine raises its own types; the text may quote the file only
        if "ermission denied" in str(exc) or "os error 13" in str(exc):
            raise _locked(path) from None
        raise UnreadableListError(
            f"Không mở được tệp {path.name} (hỏng, có mật khẩu hoặc không phải Excel). "
            f"Hãy mở và lưu lại thành .xlsx không mật khẩu / Cannot open {path.name} "
            f"(corrupt, password-protected or not Excel): save it again as .xlsx without a password"
        ) from exc
    return grids


def _locked(path: Path) -> UnreadableListError:
    return UnreadableListError(
        f"Không mở được {path.name}: tệp đang được chương trình khác (Excel?) mở hoặc không có "
        f"quyền đọc. Hãy đóng tệp rồi chạy lại / {path.name} is open in another program (Excel?) "
        f"or not readable: close it and run again"
    )


def read_grids(path: Path) -> list[SheetGrid]:
    """Every sheet of a file as rows of raw cell values (parsed already if read_ahead began
    it). A file another program holds (Excel locks what it has open, on Windows) is an
    UnreadableListError with that reason."""
    future = _AHEAD.pop(_file_key(path), None) if _AHEAD else None
    if future is not None:
        return future.result()
    return _read_grids_here(path)


def _read_grids_here(path: Path) -> list[SheetGrid]:
    try:
        return _read_grids(path)
    except PermissionError:
        raise _locked(path) from None


# Workbooks whose sheets are being parsed ahead (read_ahead), by file, size and modification
# time: a file changed since is read again
_AHEAD: dict[tuple[str, int, int], Future] = {}
_PARSED_AHEAD = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


def _file_key(path: Path) -> tuple[str, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return str(path.resolve()), status.st_size, status.st_mtime_ns


def read_ahead(paths: Iterable[Path]) -> None:
    """Begin parsing these workbooks' sheets in a thread; read_grids of each takes them.
    calamine parses without holding the GIL (a 200k-row sheet: about 1.2 s), so the caller
    goes on meanwhile. Turning rows into values, and all after it, waits for read_grids. A file
    that cannot be read fails there, as it would have."""
    wanted = [p for p in paths if p.suffix.lower() in _PARSED_AHEAD]
    if not wanted:
        return
    pool = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
    for path in wanted:
        key = _file_key(path)
        if key is not None and key not in _AHEAD:
            _AHEAD[key] = pool.submit(_read_grids_here, path)
    pool.shutdown(wait=False)


def drop_read_ahead() -> None:
    """Forget the sheets parsed ahead that no read_grids took (a list skipped, a run that
    failed): they would hold their parsed cells for nothing."""
    while _AHEAD:
        _, future = _AHEAD.popitem()
        future.cancel()


def _read_grids(path: Path) -> list[SheetGrid]:
    if not path.is_file():
        raise UnreadableListError(f"Không tìm thấy tệp {path} / file not found: {path}")
    if path.stat().st_size == 0:
        raise UnreadableListError(f"Tệp {path.name} rỗng / {path.name} is empty")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_csv_grid(path)
    if suffix in (".parquet", ".pq"):
        return _read_parquet_grid(path)
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        with path.open("rb") as handle:
            magic = handle.read(8)
        if suffix != ".xls" and not magic.startswith((b"PK", b"\xd0\xcf\x11\xe0")):
            return _read_csv_grid(path)  # a "spreadsheet" that is really a CSV
        return _read_excel_grid(path)
    raise UnreadableListError(
        f"Không hỗ trợ loại tệp của {path.name} (cần .xlsx, .xls, .csv hoặc .parquet) / "
        f"unsupported file type for {path.name} (need .xlsx, .xls, .csv or .parquet)"
    )


# ---- finding the header ----


def _map_row(
    row: list[object], overrides: Mapping[str, str]
) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """Columns → fields of one candidate header row, the headers as written, and the headers
    that look like one of ours but could not be mapped."""
    columns: dict[int, str] = {}
    written: dict[str, str] = {}
    unread: list[str] = []
    for col, cell in enumerate(row):
        header = classify_header(cell, overrides)
        name = header.field
        if name and name not in written:
            columns[col], written[name] = name, header.text
        elif header.wanted:
            unread.append(header.text)
    if (
        "family_name" in written
        and "full_name" in written
        and header_key(written["full_name"]) == "ten"
    ):
        # "Họ" | "Đệm" | "Tên": here "Tên" is the given name, not the whole name
        col = next(c for c, f in columns.items() if f == "full_name")
        columns[col] = "given_name"
        written["given_name"] = written.pop("full_name")
    sexed = [written.pop(f) for f in ("birth_date@M", "birth_date@F") if f in written]
    if sexed:  # "Năm sinh (Nam)" | "Năm sinh (Nữ)"
        written["birth_date"] = " / ".join(sexed)
    return columns, written, unread


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
    labels = {col: _text(c) for col, c in enumerate(sub) if _text(c)}

    def is_label(text: str) -> bool:
        key = header_key(readable(text))
        return (
            key in _SEX_MARKS
            or key in _SELF_WORDS
            or key in ALIASES
            or key in overrides
            or classify_header(text, overrides).other_person
            or bool(_COLUMN_NUMBER.match(text))
        )

    under_merge = any(col >= len(top) or not _text(top[col]) for col in labels)
    if not labels or not under_merge or not all(map(is_label, labels.values())):
        return False  # a data or group row: it holds values, not labels under a merged header
    found = False
    carried = None  # the header of a cell merged across several columns sits in its first cell
    updates: dict[int, str] = {}
    for col in range(max(len(top), len(sub))):
        above = _text(top[col]) if col < len(top) else ""
        if above:
            carried = classify_header(above, overrides).field or above
        below = _text(sub[col]) if col < len(sub) else ""
        if not below:
            continue
        key = header_key(readable(below))
        header = classify_header(below, overrides)
        if key in _SELF_WORDS and carried in ("full_name", "birth_date", "personal_id"):
            updates[col] = carried  # "Họ và tên" over "Trẻ" | "Mẹ": the child's column
            found = True
        elif key in _SEX_MARKS:
            sex = _SEX_MARKS[key]
            updates[col] = f"birth_date@{sex}" if carried == "birth_date" else f"sex_mark@{sex}"
            found = True
        elif header.other_person:
            if columns.get(col) and col not in updates:
                del columns[col]  # "Họ tên" over "Mẹ": someone else's column
            found = True
        elif (name := header.field) and not _COLUMN_NUMBER.match(below):
            if name == "full_name" and key == "ten" and carried in ("full_name", "family_name"):
                name = "given_name"
            updates[col] = name
            written.setdefault(name, header.text)
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
    and column-number row if any. `overrides` are keyed like header_key."""
    keyed = dict(overrides or {})
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns, written, unread = _map_row(row, keyed)
        if len(written) < 2 and not (len(written) == 1 and index + 1 < len(rows)):
            continue
        start = index + 1
        if start < len(rows) and _sub_header(row, rows[start], columns, written, keyed):
            start += 1
        if not (_names_a_person(written) and len(written) >= 2):
            continue
        if start < len(rows) and _is_column_number_row(rows[start]):
            start += 1
        return Header(index, start, columns, written, tuple(unread))
    return None


def closest_header(rows: list[list[object]], overrides: Mapping[str, str] | None = None) -> str:
    """For a sheet without a table: the row that came nearest to a header, as the header words
    we recognised in it (never other cells, which may be a person's data)."""
    best, best_row = [], None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        known = []
        for cell in row:
            header = classify_header(cell, overrides)
            if header.field or header.other_person or header.wanted:
                known.append(header.text)
        if len(known) > len(best):
            best, best_row = known, index
    if best_row is None:
        return "không có ô tiêu đề nào quen thuộc / no familiar header cell"
    return f"gần nhất: dòng {best_row + 1} / closest: row {best_row + 1}: " + " | ".join(best)


# ---- rows below the header ----


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


def _padded_rows(grid: SheetGrid, formulas: Mapping[tuple[int, int], str]) -> list[list]:
    """The sheet's rows, continued with empty rows down to the last uncomputed formula (which
    the fast reader does not see), so a row holding only such a formula is not lost."""
    # every reader yields fresh lists: copied only what is not one (a test's tuples)
    rows = [row if type(row) is list else list(row) for row in grid.rows]
    last = max((r for r, _ in formulas), default=0)
    rows += [[] for _ in range(grid.first_row + len(rows), last + 1)]
    return rows


def _fill_merged_down(
    rows: list[list],
    merged: list[tuple[tuple[int, int], tuple[int, int]]],
    first_excel_row: int,
    columns: Mapping[int, str],
) -> None:
    """A cell merged down over several rows (a hamlet or household over its members) holds its
    value in the top cell only: every row of the merge is given it. Merges across columns only
    (a group label over the table) are left alone. `first_excel_row`: the Excel row of rows[0];
    merges are 0-based."""
    for (top, left), (bottom, right) in merged:
        if bottom <= top:
            continue
        first = top + 1 - first_excel_row
        last = min(bottom + 1 - first_excel_row, len(rows) - 1)
        if not 0 <= first < len(rows):
            continue
        for col in range(left, right + 1):
            if columns.get(col) in (None, "row_number") or col >= len(rows[first]):
                continue
            value = rows[first][col]
            for row in rows[first + 1 : last + 1]:
                if len(row) <= col:
                    row.extend([""] * (col + 1 - len(row)))
                if not clean_text(row[col]):
                    row[col] = value


def _is_numbered(body: list[list], row_number_col: int | None) -> bool:
    """Does the sheet number its people? Most non-blank rows carry a number in STT."""
    if row_number_col is None:
        return False
    numbered = sum(1 for r in body if row_number_col < len(r) and is_number(r[row_number_col]))
    if numbered * 2 >= len(body):  # a numbered row is a filled one: no need to find the blanks
        return numbered > 0
    filled = sum(1 for r in body if any(_text(c) for c in r))
    return numbered * 2 >= filled > 0


def _record_picker(columns: Mapping[int, str]) -> Callable[[list], dict[str, object]]:
    """A data row's cells as {field: cell}, None past the row's end. Rows that reach the last
    mapped column (almost all) are picked by itemgetter, in C, not by a Python loop per cell."""
    fields, positions = list(columns.values()), list(columns)
    if not positions:
        return lambda cells: {}
    last, getter = max(positions), itemgetter(*positions)

    def pick(cells: list) -> dict[str, object]:
        if len(cells) > last:
            values = getter(cells)
            return dict(zip(fields, values if len(positions) > 1 else (values,), strict=True))
        return {f: (cells[c] if c < len(cells) else None) for c, f in columns.items()}

    return pick


@dataclass
class SheetTable:
    frame: pd.DataFrame
    headers: dict[str, str]
    list_date: dt.date | None
    layout: list[tuple[int, str, str]]  # (Excel row, role, reason)
    report: SheetReport
    unread: tuple[str, ...] = ()
    title: str = ""


def _layout_reason(role, hamlet_set: bool) -> str:
    reason = REASONS[role.kind]
    if role.kind in (GROUP, LABEL) and role.label:
        reason = f"{reason}: {role.label}"
        if hamlet_set:
            reason += " (thôn của các dòng dưới / hamlet of the rows below)"
    return reason


def extract_sheet(
    grid: SheetGrid,
    source_file: str,
    overrides: Mapping[str, str] | None = None,
    formulas: Mapping[tuple[int, int], str] | None = None,
    fonts_of=None,
) -> SheetTable | None:
    """The sheet's data rows as raw values, or None when the sheet holds no table.

    `overrides` are keyed like header_key. `fonts_of(first_row, last_row, columns)` gives cell
    fonts as encoding evidence, if known."""
    formulas = formulas or {}
    rows = _padded_rows(grid, formulas)
    header = find_header(rows[:HEADER_SEARCH_ROWS], overrides)
    if header is None:
        return None
    columns = header.columns
    first = grid.first_row
    layout: list[tuple[int, str, str]] = []
    title = " ".join(readable(t) for r in rows[: header.row] for t in map(_text, r) if t)
    blanks = first - 1  # rows above the first used row
    for offset in range(header.data_start):
        kind = "title" if offset < header.row else "header"
        if offset >= header.row + 1 and _is_column_number_row(rows[offset]):
            kind = "column_numbers"
        if any(_text(c) for c in rows[offset]):
            layout.append((first + offset, kind, REASONS[kind]))
        else:
            blanks += 1
    body = rows[header.data_start :]
    for (f_row, f_col), formula in formulas.items():
        position = f_row - first - header.data_start
        if f_col in columns and 0 <= position < len(body):
            cells = body[position]
            cells.extend([""] * (f_col + 1 - len(cells)))
            if not clean_text(cells[f_col]):
                cells[f_col] = formula
    _fill_merged_down(body, grid.merged, first + header.data_start, columns)
    row_number_col = next((c for c, f in columns.items() if f == "row_number"), None)
    roles = classify_rows(body, RowRoles(columns, _is_numbered(body, row_number_col)))
    records: list[dict[str, object]] = []
    excel_rows: list[int] = []
    pick = _record_picker(columns)
    group_hamlet = None
    footer_lines: list[str] = []
    for excel_row, cells, role in zip(
        range(first + header.data_start, first + len(rows)), body, roles, strict=True
    ):
        if role.kind == DATA:
            record = pick(cells)
            if group_hamlet and not clean_text(record.get("hamlet")):
                record["hamlet"] = group_hamlet
            records.append(record)
            excel_rows.append(excel_row)
            continue
        if role.kind == BLANK:
            blanks += 1
            continue
        if role.kind in (GROUP, LABEL):
            group_hamlet = role.hamlet
        if role.kind == FOOTER and len(footer_lines) < 10:
            footer_lines += [readable(t) for t in map(_text, cells) if t]
        layout.append((excel_row, role.kind, _layout_reason(role, bool(role.hamlet))))
    found_date = list_date(" ".join(footer_lines))
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
    if any(role.kind == GROUP for role in roles) and "hamlet" not in written:
        written["hamlet"] = "Thôn/xóm (dòng nhóm / group row)"
    fields = [f for f in dict.fromkeys(k for r in records for k in r) if f not in SOURCE_COLUMNS]
    if not records:
        fields = [f for f in dict.fromkeys(_combine(dict.fromkeys(columns.values())))]
    frame = pd.DataFrame.from_records(records, columns=[*fields, *SOURCE_COLUMNS])
    report = SheetReport(grid.name, first - 1 + len(rows), len(records))
    for _, kind, _ in layout:
        report.layout[kind] = report.layout.get(kind, 0) + 1
    if blanks:
        report.layout[BLANK] = blanks
    return SheetTable(
        frame.astype({"source_row": "int64"}),
        written,
        found_date,
        layout,
        report,
        header.unread,
        title,
    )


def extract_typed(
    table: TypedTable, source_file: str, overrides: Mapping[str, str] | None = None
) -> SheetTable | None:
    """A typed table's records column by column: what extract_sheet gives for the same rows,
    save that every row but a blank one is a record, never a title, group or total line. None
    where its header is not its column names alone (found in a later row, with a sub-header or
    a column-number row, or with split name or date columns): the caller reads it as a sheet."""
    first = table.first_record()
    header = find_header([table.header, *([first] if first is not None else [])], overrides)
    if (
        header is None
        or (header.row, header.data_start) != (0, 1)
        or any("@" in f or f in SPLIT_FIELDS for f in header.columns.values())
    ):
        return None
    fields = list(header.columns.values())
    cells: dict[str, list] = {f: [] for f in fields}
    data_rows: list[int] = []
    rows = blanks = 0
    for batch in table.batches():
        size = len(batch[0])
        values = {f: _cells(batch[c]) for c, f in header.columns.items()}
        numbers = range(2 + rows, 2 + rows + size)  # the column names are row 1
        blank = _blank_rows(batch, values, header.columns)
        if blank:
            keep = [i for i in range(size) if i not in blank]
            values = {f: [column[i] for i in keep] for f, column in values.items()}
            numbers = [numbers[i] for i in keep]
        for f, column in values.items():
            cells[f] += column
        data_rows += numbers
        rows, blanks = rows + size, blanks + len(blank)
    for f in fields:
        if f.split("@")[0] in TEXT_FIELDS:  # legacy fonts, on the evidence of the whole column
            cells[f] = decode_column(cells[f])
    frame = pd.DataFrame(
        {
            **cells,
            "source_file": np.full(len(data_rows), source_file, dtype=object),
            "source_sheet": np.full(len(data_rows), table.name, dtype=object),
            "source_row": np.asarray(data_rows, dtype=np.int64),
        },
        columns=[*fields, *SOURCE_COLUMNS],
    )
    report = SheetReport(table.name, rows + 1, len(data_rows), {"header": 1})
    if blanks:
        report.layout[BLANK] = blanks
    layout = [(1, "header", REASONS["header"])]
    return SheetTable(
        frame,
        dict(header.written),
        None,
        layout,
        report,
        header.unread,
    )


def _empty(cell: object) -> bool:
    """layout._text(cell) == "", without making the text of every cell."""
    if cell is None:
        return True
    if cell.__class__ is str:
        return not cell.strip()
    if cell.__class__ is float:
        return cell != cell
    return not _text(cell)


def _blank_rows(batch: list, values: dict[str, list], columns: Mapping[int, str]) -> set[int]:
    """Positions of the batch's rows with every cell empty, mapped or not (as the row-by-row
    reading counts blank rows). The mapped columns, already values, rule out nearly every row;
    the others are looked at only in the rows left."""
    left = range(len(batch[0]))
    for f in columns.values():
        left = [i for i in left if _empty(values[f][i])]
        if not left:
            return set()
    for c, column in enumerate(batch):
        if c not in columns:
            left = [i for i, v in zip(left, _cells(column, left), strict=True) if _empty(v)]
            if not left:
                return set()
    return set(left)


def _decode_text_columns(records, excel_rows, columns, fonts_of) -> None:
    """Decode legacy-font text column by column, on the evidence of the whole column."""
    text_columns = {c: f for c, f in columns.items() if f.split("@")[0] in TEXT_FIELDS}
    if not records or not text_columns:
        return
    fonts = fonts_of(excel_rows[0], excel_rows[-1], list(text_columns)) if fonts_of else None
    for col, name in text_columns.items():
        cells = [r.get(name) for r in records]
        column_fonts = [fonts.get((row, col)) for row in excel_rows] if fonts else None
        decoded = decode_column(cells, column_fonts)
        if decoded is cells:  # Unicode already, as nearly every column is: nothing to put back
            continue
        for record, value in zip(records, decoded, strict=True):
            record[name] = value
    if "hamlet" not in text_columns:  # hamlets that came from group rows
        cells = [r.get("hamlet") for r in records]
        decoded = decode_column(cells)
        if decoded is cells:
            return
        for record, value in zip(records, decoded, strict=True):
            if value is not None:
                record["hamlet"] = value


def _unread_warning(path: Path, sheet: str, unread: tuple[str, ...]) -> str:
    columns = ", ".join(f"'{h}'" for h in unread)
    return (
        f"{path.name}, trang '{sheet}': cột {columns} có vẻ là số định danh, BHYT, ngày sinh hoặc "
        f"họ tên nhưng không được hiểu, nên không được dùng; hãy khai báo cột trong tệp cấu hình / "
        f"{path.name}, sheet '{sheet}': column(s) {columns} look like an ID, insurance, date or "
        f"name column but were not understood and were not used: map them in the run config"
    )


def ingest_list(
    path: Path,
    kind: ListKind,
    label: str | None = None,
    overrides: Mapping[str, str] | None = None,
    url: str | None = None,
    table: str | None = None,
) -> IngestedList:
    """Read every visible sheet that holds a table (or, with `url` and `table`, a database
    table). A sheet without one costs only itself (the report says which header row came
    closest); UnreadableListError when no sheet holds one."""
    grids = read_table_grid(url, table or path.stem) if url else read_grids(path)
    keyed = keyed_overrides(overrides)
    spreadsheet = not url and path.suffix.lower() not in (".csv", ".txt", ".parquet", ".pq")
    formulas: dict[str, dict[tuple[int, int], str]] = {}
    if spreadsheet:
        suspects = [g.name for g in grids if g.may_hold_formulas and not g.refused]
        formulas = xlsx_parts.uncomputed_formulas(path, suspects)
    legacy_fonts = spreadsheet and xlsx_parts.has_legacy_fonts(path)
    frames, headers, without, dates, layout, reports, warnings = [], {}, [], [], [], [], []
    titles = []
    for grid in grids:
        table = None
        if isinstance(grid, TypedTable):
            table = extract_typed(grid, path.name, keyed)
            grid = grid if table is not None else grid.as_grid()  # read as a sheet instead
        if table is None:
            if grid.refused:
                reports.append(SheetReport(grid.name, skipped=grid.refused))
                without.append(grid.name)
                warnings.append(grid.refused)
                continue
            if grid.hidden:
                reports.append(SheetReport(grid.name, skipped="trang ẩn, không đọc / hidden sheet"))
                without.append(grid.name)
                continue
            fonts_of = None
            if legacy_fonts:

                def fonts_of(first, last, cols, sheet=grid.name):
                    return xlsx_parts.cell_fonts(path, sheet, first, last, cols)

            rows = _padded_rows(grid, formulas.get(grid.name, {}))
            grid = SheetGrid(grid.name, rows, grid.first_row, grid.merged)
            table = extract_sheet(grid, path.name, keyed, formulas.get(grid.name), fonts_of)
            if table is None:
                reason = "không tìm thấy dòng tiêu đề / no header row"
                closest = closest_header(rows[:HEADER_SEARCH_ROWS], keyed)
                reports.append(SheetReport(grid.name, skipped=f"{reason} ({closest})"))
                without.append(grid.name)
                continue
        frames.append(table.frame)
        headers = {**table.headers, **headers}
        dates.append(table.list_date)
        titles.append(table.title)
        reports.append(table.report)
        layout += [(path.name, grid.name, *entry) for entry in table.layout]
        if table.unread:
            warnings.append(_unread_warning(path, grid.name, table.unread))
    if not frames and reports and all(r.skipped in warnings for r in reports):
        raise UnreadableListError("; ".join(r.skipped for r in reports))  # all too large
    if not frames:
        details = "; ".join(f"'{r.sheet}': {r.skipped}" for r in reports)
        raise UnreadableListError(
            f"Không tìm thấy dòng tiêu đề (Họ và tên, Ngày sinh…) trong {path.name}. Hãy kiểm tra "
            f"tên cột hoặc khai báo cột trong tệp cấu hình / No header row (Họ và tên, Ngày sinh…) "
            f"found in {path.name}: check the column names or map them in the run config. "
            f"{details}"
        )
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    found = next((d for d in dates if d), None)
    return IngestedList(
        label or path.stem,
        kind,
        path,
        frame,
        headers,
        without,
        found,
        pd.DataFrame(layout, columns=LAYOUT_COLUMNS),
        reports,
        warnings,
        " ".join(titles),
    )
