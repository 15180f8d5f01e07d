"""Read the police officer's decisions back from review workbooks, defensively.

Rows are found by their finding id, never by position: a workbook that was re-sorted, filtered
or had rows deleted reads back the same. What a workbook can decide is only what its own run
put into it (checked against the store's record of issued findings, by the caller); anything
else is ignored and reported by file, sheet and row, never by the cell's text: a decision that
is not one of the drop-down values (they can be pasted past the validation), a formula, a
finding sheet that was hidden or added, a deleted id or decision column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from reconcile.normalize.names import clean_text, fold

DECISIONS = ["Đã cập nhật", "Không sai", "Không phải cùng người", "Cần xác minh"]
UPDATED, NOT_WRONG, NOT_SAME_PERSON, TO_VERIFY = DECISIONS
DISMISSING = (NOT_WRONG, NOT_SAME_PERSON)
ID_HEADER, DECISION_HEADER, NOTE_HEADER = "Mã phát hiện", "Quyết định", "Ghi chú"
# custom document properties a run writes into its workbook
RUN_PROPERTY, TOKEN_PROPERTY = "reconcile_run", "reconcile_token"
SHEETS_PROPERTY = "reconcile_sheets"
_BY_KEY = {fold(d).lower(): d for d in DECISIONS}


@dataclass(frozen=True)
class Decision:
    finding_id: str
    decision: str
    note: str
    source: str  # folder/file of the workbook
    decided_at: dt.datetime  # the workbook's modification time: later workbooks win
    run_id: str = ""  # the run that wrote the workbook
    values_hash: str = ""  # what that run's workbook showed (from the store's issued record)
    field_hashes: str = ""


@dataclass
class ReviewedWorkbook:
    """What one workbook says, before the store has vouched for it."""

    path: Path
    run_id: str = ""
    token: str = ""
    decisions: list[Decision] = field(default_factory=list)
    rows: dict[str, str] = field(default_factory=dict)  # finding id → "sheet 'X', row N"
    problems: list[str] = field(default_factory=list)


def canonical_decision(text: object) -> str | None:
    """'không sai', 'KHONG SAI', 'Không sai ' → 'Không sai'; anything else → None."""
    return _BY_KEY.get(" ".join(fold(clean_text(text)).lower().split()))


def _where(path: Path, sheet: str, row: int | None = None) -> str:
    place = f"{path.name}, trang '{sheet}'"
    return f"{place}, dòng {row}" if row else place


def _properties(workbook) -> dict[str, str]:
    try:
        return {p.name: str(p.value) for p in workbook.custom_doc_props.props}
    except AttributeError:
        return {}


def read_workbook(path: Path) -> ReviewedWorkbook:
    """The decisions one workbook holds, with every problem met on the way."""
    from openpyxl import load_workbook

    out = ReviewedWorkbook(path)
    decided_at = dt.datetime.fromtimestamp(path.stat().st_mtime)
    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception:  # a corrupt or foreign file in the officers' folder stops only itself
        out.problems.append(f"Không đọc được sổ {path.name} / cannot read workbook {path.name}")
        return out
    try:
        props = _properties(workbook)
        out.run_id, out.token = props.get(RUN_PROPERTY, ""), props.get(TOKEN_PROPERTY, "")
        issued_sheets = set(filter(None, props.get(SHEETS_PROPERTY, "").split("|")))
        source = f"{path.parent.name}/{path.name}"  # every run's workbook is review.xlsx
        for sheet in workbook.worksheets:
            _read_sheet(out, sheet, issued_sheets, source, decided_at)
    finally:
        workbook.close()
    return out


def _read_sheet(out: ReviewedWorkbook, sheet, issued_sheets, source, decided_at) -> None:
    path = out.path
    rows = sheet.iter_rows()
    header_cells = next(rows, ())
    header = [clean_text(c.value) for c in header_cells]
    ours = sheet.title in issued_sheets
    has_columns = ID_HEADER in header and DECISION_HEADER in header
    if not ours:
        if has_columns:
            out.problems.append(
                f"{_where(path, sheet.title)}: trang không do lần chạy tạo ra, bị bỏ qua / a "
                f"sheet the run did not write: ignored"
            )
        return
    if sheet.sheet_state != "visible":
        out.problems.append(
            f"{_where(path, sheet.title)}: trang bị ẩn, bị bỏ qua / hidden sheet: ignored"
        )
        return
    if not has_columns:
        missing = [h for h in (ID_HEADER, DECISION_HEADER) if h not in header]
        out.problems.append(
            f"{_where(path, sheet.title)}: mất cột {', '.join(missing)}, trang bị bỏ qua / "
            f"the column(s) {', '.join(missing)} were deleted: sheet ignored"
        )
        return
    id_col, decision_col = header.index(ID_HEADER), header.index(DECISION_HEADER)
    note_col = header.index(NOTE_HEADER) if NOTE_HEADER in header else None
    for excel_row, cells in enumerate(rows, start=2):
        cells = list(cells) + [None] * (len(header) - len(cells))
        id_cell, decision_cell = cells[id_col], cells[decision_col]
        written = clean_text(getattr(decision_cell, "value", None))
        if not written:
            continue
        where = _where(path, sheet.title, excel_row)
        if any(getattr(c, "data_type", None) == "f" for c in (id_cell, decision_cell)):
            out.problems.append(f"{where}: ô chứa công thức, bị bỏ qua / a formula: ignored")
            continue
        finding = clean_text(getattr(id_cell, "value", None))
        decision = canonical_decision(written)
        if decision is None:
            out.problems.append(
                f"{where}: quyết định không có trong danh sách chọn, bị bỏ qua / a decision "
                f"that is not one of the drop-down values: ignored"
            )
            continue
        if not finding:
            out.problems.append(f"{where}: thiếu mã phát hiện / no finding id: ignored")
            continue
        note_cell = cells[note_col] if note_col is not None else None
        note = clean_text(getattr(note_cell, "value", None))
        if getattr(note_cell, "data_type", None) == "f":
            note = ""
        out.decisions.append(Decision(finding, decision, note, source, decided_at, out.run_id))
        out.rows[finding] = where


def review_workbooks(inbox: Path | None, out_dir: Path) -> list[Path]:
    """Workbooks to read decisions from, oldest first: everything in the officers' inbox folder,
    and each earlier run's review.xlsx that was edited after the run wrote it."""
    found: list[Path] = []
    if inbox and inbox.is_dir():
        found += [p for p in inbox.rglob("*.xlsx") if not p.name.startswith("~$")]
    elif inbox and inbox.is_file():
        found.append(inbox)
    if out_dir.is_dir():
        for run in out_dir.iterdir():
            summary = run / "summary.json"
            if not summary.is_file():
                continue
            # review.xlsx, or review_<commune>.xlsx where a province's run was split
            for workbook in run.glob("review*.xlsx"):
                if workbook.stat().st_mtime > summary.stat().st_mtime + 1:
                    found.append(workbook)
    return sorted(set(found), key=lambda p: p.stat().st_mtime)


CHECK_SHEET = "Kiểm tra mẫu"
SAMPLE_ID_HEADER, MARK_HEADER = "Mã mẫu", "Đúng/Sai"


def _mark(value: object) -> str | None:
    text = fold(clean_text(value)).lower().strip()
    if text in ("dung", "d", "right", "yes", "x"):
        return "Đúng"
    if text in ("sai", "s", "wrong", "no"):
        return "Sai"
    return None


def read_check_marks(path: Path) -> dict[str, tuple[str, dt.datetime]]:
    """Sample id → (mark, when) from a workbook's check sheet; rows without a mark are left
    out, and so is anything a formula wrote."""
    from openpyxl import load_workbook

    marks: dict[str, tuple[str, dt.datetime]] = {}
    at = dt.datetime.fromtimestamp(path.stat().st_mtime)
    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception:
        return marks
    try:
        if CHECK_SHEET not in workbook.sheetnames:
            return marks
        rows = workbook[CHECK_SHEET].iter_rows(values_only=True)
        header = None
        for row in rows:
            cells = [clean_text(c) for c in row]
            if header is None:
                if SAMPLE_ID_HEADER in cells and MARK_HEADER in cells:
                    header = (cells.index(SAMPLE_ID_HEADER), cells.index(MARK_HEADER))
                continue
            sample_id, mark = (row[i] if i < len(row) else None for i in header)
            if isinstance(mark, str) and mark.startswith("="):
                continue
            if sample_id and _mark(mark):
                marks[clean_text(sample_id)] = (_mark(mark), at)
    finally:
        workbook.close()
    return marks
