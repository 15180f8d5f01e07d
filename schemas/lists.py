"""pandera schemas of every list kind, over the raw cells that ingest hands on.

Each check has a name that `REASONS` turns into a reason a clerk understands, in Vietnamese with
English beside it. Checks parse with the same functions normalisation uses, so a row that passes
here always normalises.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pandas as pd
import pandera.pandas as pa

from reconcile.frames import per_distinct
from reconcile.kinds import REQUIRED_FIELDS, ListKind
from reconcile.normalize.dates import DateError, parse_date
from reconcile.normalize.identifiers import (
    IdError,
    parse_insurance_number,
    parse_personal_id,
    personal_id_readable,
)
from reconcile.normalize.names import parse_name

REASONS = {
    "not_nullable": "Ô bắt buộc bị trống / required cell is empty",
    "name_present": "Họ tên trống hoặc không có chữ / name is empty or has no letters",
    "name_not_damaged": "Họ tên bị hỏng phông (ký tự �) / name text is damaged (� character)",
    "name_not_formula": "Ô họ tên chứa công thức / name cell holds a formula",
    "date_readable": "Ngày không hợp lệ / invalid date",
    "id_readable": "Số định danh không hợp lệ / invalid ID number",
    "insurance_readable": "Số thẻ BHYT không hợp lệ / invalid insurance number",
}


def _parses(parser: Callable[[object], object], error: type[Exception]) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        try:
            parser(value)
        except error:
            return False
        return True

    return check


def _name_present(value: object) -> bool:
    return any(ch.isalpha() for ch in parse_name(value).canonical)


def _name_not_formula(value: object) -> bool:
    return not str(value).lstrip().startswith("=")


def _per_value(test: Callable[[object], bool], name: str) -> pa.Check:
    """A check that tests each distinct value once: a column of 300,000 cells holds far fewer
    distinct names or dates, and the parsers are the expensive part."""

    def check(column: pd.Series) -> pd.Series:
        passed = per_distinct(column, test, missing=True, dtype=bool)
        return pd.Series(passed, index=column.index)

    # missing cells pass here (nullability is the column's own check), so pandera need not
    # look for them and copy the column without them first
    return pa.Check(check, name=name, ignore_na=False)


_NAME_CHECKS = [
    _per_value(_name_not_formula, "name_not_formula"),
    _per_value(_name_present, "name_present"),
    _per_value(lambda v: not parse_name(v).damaged, "name_not_damaged"),
]
_DATE_CHECK = _per_value(_parses(parse_date, DateError), "date_readable")


_ID_CHECK = _per_value(personal_id_readable, "id_readable")
_INSURANCE_CHECK = _per_value(_parses(parse_insurance_number, IdError), "insurance_readable")


@cache
def schema_for(kind: ListKind) -> pa.DataFrameSchema:
    """The schema of one list kind. Columns other than these pass through untouched."""
    required = REQUIRED_FIELDS[kind]

    def column(checks: list[pa.Check], name: str) -> pa.Column:
        return pa.Column(object, checks=checks, nullable=name not in required, required=False)

    return pa.DataFrameSchema(
        {
            "full_name": column(_NAME_CHECKS, "full_name"),
            "birth_date": column([_DATE_CHECK], "birth_date"),
            "death_date": column([_DATE_CHECK], "death_date"),
            "personal_id": column([_ID_CHECK], "personal_id"),
            "insurance_number": column([_INSURANCE_CHECK], "insurance_number"),
        },
        name=f"list:{kind.value}",
        strict=False,
        coerce=False,
    )


def detail_of(field: str, value: object) -> str | None:
    """The parser's own bilingual reason for a failed cell (never the value itself)."""
    parser = {
        "birth_date": parse_date,
        "death_date": parse_date,
        "personal_id": parse_personal_id,
        "insurance_number": parse_insurance_number,
    }.get(field)
    if parser is None:
        return None
    try:
        parser(value)
    except (DateError, IdError) as exc:
        return str(exc)
    return None
