"""Personal ID (CCCD, 12 digits), old CMND (9 digits) and health-insurance numbers.

The 12-digit number encodes province, century-and-sex and birth year (domain.md §3): a number
that contradicts its own record is a finding in itself. Messages never quote the number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Province codes of Thông tư 07/2016/TT-BCA (the 63 provinces before the 2025 merger).
PROVINCE_CODES = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 035"
    " 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 070 072"
    " 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)
# Digit 4: (century, sex) — even digits men, odd women.
_CENTURY_SEX = {
    "0": (1900, "M"),
    "1": (1900, "F"),
    "2": (2000, "M"),
    "3": (2000, "F"),
    "4": (2100, "M"),
    "5": (2100, "F"),
    "6": (2200, "M"),
    "7": (2200, "F"),
    "8": (1800, "M"),
    "9": (1800, "F"),
}
# what people type between digit groups
ID_SEPARATORS = re.compile(r"[\s.\-_']")


PROBLEM_PROVINCE = "mã tỉnh không tồn tại / unknown province code"
PROBLEM_SEX = "chữ số giới tính mâu thuẫn / sex digit contradicts the record"
PROBLEM_YEAR = "năm sinh trong số mâu thuẫn / birth-year digits contradict the record"
CENTURY_OF_DIGIT = {d: century for d, (century, _) in _CENTURY_SEX.items()}


class IdError(ValueError):
    """Bilingual reason why an ID cell cannot be read; never quotes the value."""


@dataclass(frozen=True, slots=True)
class PersonalId:
    digits: str  # 12 digits (CCCD) or 9 digits (CMND)

    @property
    def is_cccd(self) -> bool:
        return len(self.digits) == 12

    @property
    def birth_year(self) -> int | None:
        if not self.is_cccd:
            return None
        century, _ = _CENTURY_SEX[self.digits[3]]
        return century + int(self.digits[4:6])

    @property
    def sex(self) -> str | None:
        return _CENTURY_SEX[self.digits[3]][1] if self.is_cccd else None

    def contradictions(self, sex: str | None, birth_year: int | None) -> list[str]:
        """What in the number disagrees with its own record (bilingual, no values)."""
        if not self.is_cccd:
            return []
        problems = []
        if self.digits[:3] not in PROVINCE_CODES:
            problems.append(PROBLEM_PROVINCE)
        if sex in ("M", "F") and sex != self.sex:
            problems.append(PROBLEM_SEX)
        if birth_year is not None and birth_year != self.birth_year:
            problems.append(PROBLEM_YEAR)
        return problems

    def masked(self) -> str:
        return self.digits[:3] + "*" * (len(self.digits) - 5) + self.digits[-2:]


def _ascii_digits(text: str) -> str:
    """Digits of any script as ASCII: full-width ones from an IME or a web page ("０３４…") too."""
    return text if text.isascii() else "".join(str(int(c)) for c in text)


def parse_personal_id(raw: object) -> PersonalId | None:
    """Read a CCCD/CMND cell. Restores the leading zero Excel drops from a numeric cell."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    numeric = isinstance(raw, int | float) and not isinstance(raw, bool)
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # a number that went through a float
        text, numeric = text[:-2], True
    text = ID_SEPARATORS.sub("", text)
    if not text:
        return None
    if not text.isdigit():
        raise IdError("Số định danh chứa ký tự không phải chữ số / ID contains non-digits")
    text = _ascii_digits(text)
    # A numeric cell drops leading zeros: province 001 loses two. Text keeps them, except an
    # 11-digit text, which is a number that was pasted from such a cell.
    if numeric and 9 < len(text) < 12 or len(text) == 11:
        text = text.zfill(12)
    elif numeric and 6 < len(text) < 9:
        text = text.zfill(9)
    if len(text) not in (9, 12):
        raise IdError("Số định danh phải có 12 chữ số (CMND 9) / ID must have 12 digits (CMND 9)")
    return PersonalId(text)


_CENTURY_BY_DIGIT = np.array([CENTURY_OF_DIGIT[str(d)] for d in range(10)])
_PROVINCE_NUMBERS = np.array(sorted(int(code) for code in PROVINCE_CODES))


def _digit_matrix(texts: np.ndarray) -> np.ndarray:
    """12-digit IDs as a (rows, 12) int64 array of digit values."""
    joined = "".join(texts)
    if not joined.isascii():
        joined = "".join(_ascii_digits(t) for t in texts)
    codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 12)
    return codes.astype(np.int64) - ord("0")


def id_contradictions(pid: pd.Series, sex: pd.Series, birth_year: pd.Series) -> pd.Series:
    """PersonalId.contradictions over whole columns: '; '-joined problems, '' where none."""
    out = pd.Series("", index=pid.index, dtype=object)
    text = pid.to_numpy(dtype=object)
    cccd = np.array([isinstance(t, str) and len(t) == 12 for t in text], dtype=bool)
    if not cccd.any():
        return out
    digits = _digit_matrix(text[cccd])
    id_sex = np.where(digits[:, 3] % 2 == 0, "M", "F")
    id_year = _CENTURY_BY_DIGIT[digits[:, 3]] + digits[:, 4] * 10 + digits[:, 5]
    province = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    row_sex = sex.to_numpy(dtype=object)[cccd]
    year = pd.to_numeric(birth_year, errors="coerce").to_numpy(dtype=float)[cccd]
    checks = [
        (~np.isin(province, _PROVINCE_NUMBERS), PROBLEM_PROVINCE),
        (np.isin(row_sex, ["M", "F"]) & (row_sex != id_sex), PROBLEM_SEX),
        (~np.isnan(year) & (year != id_year), PROBLEM_YEAR),
    ]
    messages = np.full(int(cccd.sum()), "", dtype=object)
    for failed, problem in checks:
        so_far = messages[failed]
        messages[failed] = np.where(so_far == "", problem, so_far + "; " + problem)
    out[cccd] = messages
    return out


def personal_id_digits(values: pd.Series) -> np.ndarray:
    """parse_personal_id over a whole column: the digits, or None where the cell is empty or
    unreadable (validation has already rejected unreadable ones)."""
    return np.array([_id_digits(v) for v in values.astype(object)], dtype=object)


def _id_digits(raw: object) -> str | None:
    if isinstance(raw, str) and len(raw) == 12 and raw.isascii() and raw.isdigit():
        return raw  # the usual cell, typed as text: nothing to restore
    try:
        parsed = parse_personal_id(raw)
    except IdError:
        return None
    return parsed.digits if parsed else None


def personal_id_readable(raw: object) -> bool:
    """Empty, or an ID parse_personal_id reads."""
    if _id_digits(raw) is not None:
        return True
    try:
        return parse_personal_id(raw) is None  # empty once spaces and separators are gone
    except IdError:
        return False


_BHYT = re.compile(r"^[A-Z]{2}[1-5]\d{2}(\d{10})$")


def parse_insurance_number(raw: object) -> str | None:
    """BHYT card (15 chars) or BHXH number (10 digits) → the 10-digit BHXH number to compare."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = ID_SEPARATORS.sub("", str(raw).strip()).upper()
    if not text:
        return None
    if m := _BHYT.match(text):
        return m.group(1)
    if text.isdigit() and len(text) in (9, 10):
        return text.zfill(10)
    raise IdError("Số thẻ BHYT/BHXH không đúng định dạng / malformed insurance number")


# The 2018 renumbering of 11-digit mobiles: old prefix → new 3-digit prefix.
_MOBILE_REMAP = {
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    "0162": "032",
    "0163": "033",
    "0164": "034",
    "0165": "035",
    "0166": "036",
    "0167": "037",
    "0168": "038",
    "0169": "039",
    "0186": "056",
    "0188": "058",
    "0199": "059",
}


def parse_phone(raw: object) -> str | None:
    """A phone in its 10-digit national form (landlines keep their 11 digits); None if unusable.

    Accepts +84, 84 and 0084 prefixes, restores the 0 a numeric cell dropped, and maps the
    11-digit mobiles of before 2018 to their 10-digit numbers."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = re.sub(r"[\s.\-()/]", "", str(raw))
    if text.startswith("+"):
        text = text[1:]
    if not text.isdigit():
        return None
    for prefix in ("0084", "84"):
        if text.startswith(prefix) and len(text) - len(prefix) in (9, 10):
            text = "0" + text[len(prefix) :]
            break
    if not text.startswith("0"):
        text = "0" + text
    if len(text) == 11 and text[:4] in _MOBILE_REMAP:
        text = _MOBILE_REMAP[text[:4]] + text[4:]
    if len(text) == 10 or (len(text) == 11 and text.startswith("02")):
        return text
    return None
