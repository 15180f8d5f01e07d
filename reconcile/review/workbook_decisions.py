"""Read the police officer's decisions back from review workbooks.

Rows are found by their finding id, never by position: a workbook that was re-sorted, filtered or
only partly filled reads back the same. A decision that is not one of the drop-down values (they
can be pasted past the validation) is reported, never guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from reconcile.normalize.names import clean_text, fold

DECISIONS = ["Đã cập nhật", "Không sai", "Không phải cùng người", "Cần xác minh"]
UPDATED, NOT_WRONG, NOT_SAME_PERSON, TO_VERIFY = DECISIONS
DISMISSING = (NOT_WRONG, NOT_SAME_PERSON)
ID_HEADER, DECISION_HEADER, NOTE_HEADER = "Mã phát hiện", "Quyết định", "Ghi chú"
_BY_KEY = {fold(d).lower(): d for d in DECISIONS}


@dataclass(frozen=True)
class Decision:
    finding_id: str
    decision: str
    note: str
    source: str  # workbook file name
    decided_at: dt.datetime  # the workbook's modification time: later workbooks win


def canonical_decision(text: object) -> str | None:
    """'không sai', 'KHONG SAI', 'Không sai ' → 'Không sai'; anything else → None."""
    return _BY_KEY.get(" ".join(fold(clean_text(text)).lower().split()))


def read_decisions(path: Path) -> tuple[list[Decision], list[str]]:
    """Decisions in one workbook, and bilingual problems (sheet, row) for unknown values."""
    from openpyxl import load_workbook

    decided_at = dt.datetime.fromtimestamp(path.stat().st_mtime)
    decisions: list[Decision] = []
    problems: list[str] = []
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # a corrupt or foreign file in the officers' folder stops only itself
        return [], [f"Không đọc được sổ {path.name} / cannot read workbook {path.name}"]
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = [clean_text(c) for c in next(rows, ())]
            if ID_HEADER not in header or DECISION_HEADER not in header:
                continue
            id_col, decision_col = header.index(ID_HEADER), header.index(DECISION_HEADER)
            note_col = header.index(NOTE_HEADER) if NOTE_HEADER in header else None
            for excel_row, row in enumerate(rows, start=2):
                cells = list(row) + [None] * (len(header) - len(row))
                finding = clean_text(cells[id_col])
                written = clean_text(cells[decision_col])
                if not finding or not written:
                    continue
                decision = canonical_decision(written)
                if decision is None:
                    problems.append(
                        f"{path.name}, trang '{sheet.title}', dòng {excel_row}: quyết định "
                        f"'{written}' không có trong danh sách, bị bỏ qua / unknown decision "
                        f"in sheet '{sheet.title}', row {excel_row}: ignored"
                    )
                    continue
                note = clean_text(cells[note_col]) if note_col is not None else ""
                source = f"{path.parent.name}/{path.name}"  # every run's workbook is review.xlsx
                decisions.append(Decision(finding, decision, note, source, decided_at))
    finally:
        workbook.close()
    return decisions, problems


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
            workbook, summary = run / "review.xlsx", run / "summary.json"
            if (
                workbook.is_file()
                and summary.is_file()
                and (workbook.stat().st_mtime > summary.stat().st_mtime + 1)
            ):
                found.append(workbook)
    return sorted(set(found), key=lambda p: p.stat().st_mtime)
