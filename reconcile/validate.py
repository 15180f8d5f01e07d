"""Split a list's data rows into valid rows and rejected rows, each rejection with where and why.

Every row comes out in exactly one of the two frames. pandera's own error text quotes cell values,
so it is never shown or logged: only the check names and row indexes are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from reconcile.ingest import SOURCE_COLUMNS, IngestedList
from reconcile.kinds import FIELD_LABELS, REQUIRED_FIELDS
from reconcile.normalize.dates import us_order_suspected
from schemas.lists import REASONS, detail_of, schema_for

REJECTED_COLUMNS = [*SOURCE_COLUMNS, "column", "reason"]


class MissingColumnsError(Exception):
    """A list without a column its kind needs. Bilingual message naming the file only."""


@dataclass
class Validated:
    valid: pd.DataFrame
    rejected: pd.DataFrame
    # column-level doubts for a human (bilingual, no values), e.g. US-ordered dates
    warnings: list[str] = field(default_factory=list)


def column_warnings(ingested: IngestedList) -> list[str]:
    warnings = []
    for name in ("birth_date", "death_date"):
        if name in ingested.frame.columns and us_order_suspected(list(ingested.frame[name])):
            header = ingested.headers.get(name, FIELD_LABELS[name])
            warnings.append(
                f"Cột '{header}' của {ingested.path.name}: ngày có thể đã bị Excel đảo ngày/tháng "
                f"(kiểu Mỹ), hãy kiểm tra / column '{header}' of {ingested.path.name} looks "
                f"day/month swapped by a US-locale Excel: please check"
            )
    return warnings


def _blank_to_none(column: pd.Series) -> pd.Series:
    """Cells of spaces only become empty."""
    column = column.astype(object)
    # isspace, unlike strip, makes no new string: half the time on a 300k register
    blank = np.array(
        [isinstance(v, str) and (not v or v.isspace()) for v in column.to_numpy()], dtype=bool
    )
    return column.where(~blank, None) if blank.any() else column


def validate_list(ingested: IngestedList) -> Validated:
    frame = ingested.frame.copy()
    data_columns = [c for c in frame.columns if c not in SOURCE_COLUMNS]
    for column in data_columns:
        frame[column] = _blank_to_none(frame[column])
    missing = [f for f in REQUIRED_FIELDS[ingested.kind] if f not in frame.columns]
    if missing:
        labels = ", ".join(FIELD_LABELS[f] for f in missing)
        raise MissingColumnsError(
            f"Tệp {ingested.path.name} thiếu cột {labels}: danh sách này chưa đối soát được / "
            f"{ingested.path.name} lacks the column(s) {labels}: this list was not reconciled"
        )
    try:
        schema_for(ingested.kind).validate(frame, lazy=True, inplace=True)
        return Validated(frame, pd.DataFrame(columns=REJECTED_COLUMNS), column_warnings(ingested))
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases.dropna(subset=["index"])
    problems: dict[int, list[tuple[str, str]]] = {}
    for column, check, index in failures[["column", "check", "index"]].itertuples(index=False):
        index = int(index)
        check_name = str(check)
        reason = (
            detail_of(column, frame.at[index, column]) if check_name.endswith("_readable") else None
        )
        reason = reason or REASONS.get(check_name, "Giá trị không hợp lệ / invalid value")
        header = ingested.headers.get(column, FIELD_LABELS.get(column, column))
        problems.setdefault(index, []).append((header, reason))
    rejected = frame.loc[list(problems), SOURCE_COLUMNS].copy()
    rejected["column"] = [" ; ".join(dict.fromkeys(h for h, _ in problems[i])) for i in problems]
    rejected["reason"] = [" ; ".join(dict.fromkeys(r for _, r in problems[i])) for i in problems]
    valid = frame.drop(index=list(problems))
    return Validated(
        valid, rejected.reset_index(drop=True)[REJECTED_COLUMNS], column_warnings(ingested)
    )
