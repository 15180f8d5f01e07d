"""Dates as commune lists write them, each kept with the precision it was given at.

"1950" is a birth year, not 1 January 1950: it agrees with 05/03/1950 at year precision.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import IntEnum

EARLIEST_YEAR = 1890
EXCEL_EPOCH = dt.date(1899, 12, 30)


class Precision(IntEnum):
    YEAR = 1
    MONTH = 2
    DAY = 3


@dataclass(frozen=True, slots=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> Precision:
        if self.day is not None:
            return Precision.DAY
        return Precision.MONTH if self.month is not None else Precision.YEAR

    def iso(self) -> str:
        if self.day is not None:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def display(self) -> str:
        if self.day is not None:
            return f"{self.day:02d}/{self.month:02d}/{self.year:04d}"
        if self.month is not None:
            return f"{self.month:02d}/{self.year:04d}"
        return f"{self.year:04d}"


# The one verdict that depends on the day a list is read: what is in the future today may not be
# tomorrow (input_memory reads such a file again).
IN_THE_FUTURE = "in the future"


class DateError(ValueError):
    """Carries a bilingual reason; never the offending value (it may be personal data)."""


_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})$")
_YMD = re.compile(r"^(\d{4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})(?:[ T].*)?$")
_MY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")
_WORDS = re.compile(
    r"^(?:ngày\s*(\d{1,2})\s*)?(?:tháng\s*(\d{1,2})\s*)?năm\s*(\d{4})$", re.IGNORECASE
)


def _two_digit_year(yy: int, pivot: dt.date) -> int:
    """d/m/yy: the latest century that does not put the date after the pivot (the list's own
    date when known: a list of 1995 writing "5/3/98" means 1898 only if nothing else fits)."""
    return next(c + yy for c in (2000, 1900, 1800) if c + yy <= pivot.year)


def _build(year: int, month: int | None, day: int | None, today: dt.date) -> PartialDate:
    if month == 0 and day in (0, None):  # 00/00/yyyy: only the year is known
        month = day = None
    if year < EARLIEST_YEAR:
        raise DateError("Năm trước 1890 / year before 1890")
    if month is not None and not 1 <= month <= 12:
        raise DateError("Tháng không hợp lệ / month out of range")
    if day is not None:
        try:
            value = dt.date(year, month, day)
        except ValueError:
            raise DateError("Ngày không tồn tại / no such calendar date") from None
        if value > today:
            raise DateError(f"Ngày ở tương lai / date {IN_THE_FUTURE}")
    elif year > today.year:
        raise DateError(f"Năm ở tương lai / year {IN_THE_FUTURE}")
    return PartialDate(year, month, day)


def parse_date(
    raw: object, today: dt.date | None = None, pivot: dt.date | None = None
) -> PartialDate | None:
    """Parse one cell. None for an empty cell; DateError (bilingual) for an unreadable one.

    `pivot` (the list's own date) decides the century of two-digit years; default today."""
    today = today or dt.date.today()
    pivot = min(pivot or today, today)
    if raw is None or (isinstance(raw, float) and raw != raw) or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        return _build(raw.year, raw.month, raw.day, today)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        number = int(raw)
        if number != raw:
            raise DateError("Không đọc được ngày / unreadable date")
        if EARLIEST_YEAR <= number <= today.year:
            return _build(number, None, None, today)
        if 0 < number < 80000:  # an Excel serial number
            value = EXCEL_EPOCH + dt.timedelta(days=number)
            return _build(value.year, value.month, value.day, today)
        raise DateError("Không đọc được ngày / unreadable date")
    text = " ".join(str(raw).split()).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        return parse_date(int(text[:-2]), today, pivot)
    if m := _DMY.match(text):
        day, month, year = (int(g) for g in m.groups())
        if len(m.group(3)) == 2:
            year = _two_digit_year(year, pivot)
        return _build(year, month, day, today)
    if m := _YMD.match(text):
        year, month, day = (int(g) for g in m.groups())
        return _build(year, month, day, today)
    if m := _MY.match(text):
        return _build(int(m.group(2)), int(m.group(1)), None, today)
    if m := _YEAR.match(text):
        return _build(int(m.group(1)), None, None, today)
    if m := _WORDS.match(text):
        day, month, year = (int(g) if g else None for g in m.groups())
        return _build(year, month, day, today)
    if text.isdigit():
        return parse_date(int(text), today, pivot)
    raise DateError("Không đọc được ngày / unreadable date")


_DAY_FIRST_TEXT = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*\d{2,4}\s*$")


def us_order_suspected(cells: list[object], minimum: int = 3) -> bool:
    """An en-US Excel turns "05/09/1985" into 9 May and leaves "13/05/1985" as text. A column
    whose real dates never have a day above 12, beside typed dates whose first number is above
    12, has had its day and month swapped on the way in: flag it for a human."""
    real = [c for c in cells if isinstance(c, dt.date)]
    if len(real) < minimum or any(d.day > 12 for d in real):
        return False  # decided before matching every typed cell, each distinct text once
    typed = {c for c in cells if isinstance(c, str)}
    return any((m := _DAY_FIRST_TEXT.match(c)) and int(m.group(1)) > 12 for c in typed)


_LIST_DATE = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})", re.IGNORECASE)


def list_date(text: str) -> dt.date | None:
    """The date in a footer line such as "An Bình, ngày 15 tháng 11 năm 2026"."""
    m = _LIST_DATE.search(text or "")
    if not m:
        return None
    try:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None
