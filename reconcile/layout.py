"""Which rows under a header are people and which are layout: group rows ("I | CHI HỘI THÔN
ĐÔNG", "A - Xóm 3", "Tổ dân phố số 5"), totals, the signature footer, blank rows.

Every row gets a role and, when it is layout, a reason a clerk can read. A row that carries a
person's evidence (a date, an ID, a sex) or a number in the STT column is data whatever its first
cell says, so "Công Tằng Tôn Nữ Thị Lan | 1960" is a person and not a total; a footer or total
is the end of the table only when no data row follows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from reconcile.headers import readings
from reconcile.normalize.dates import DateError, parse_date
from reconcile.normalize.names import clean_text, fold
from reconcile.normalize.sex_and_place import parse_sex, place_of
from reconcile.normalize.syllables import vietnamese_share

DATA, BLANK, GROUP, TOTAL, FOOTER, LABEL = "data", "blank", "group", "total", "footer", "label"
REASONS = {
    "title": "tiêu đề phía trên bảng / title above the table",
    "header": "dòng tiêu đề cột / column header",
    "column_numbers": "dòng đánh số cột / column-number row",
    BLANK: "dòng trống / blank row",
    GROUP: "dòng nhóm (thôn, chi hội…) / group row",
    TOTAL: "dòng cộng / total row",
    FOOTER: "chân trang, chữ ký / footer or signatures",
    LABEL: "dòng chú thích không có STT / label row without a number",
}
EVIDENCE_FIELDS = ("birth_date", "death_date", "personal_id", "insurance_number", "sex")

# Totals: "Tổng cộng", "Tổng số", "Cộng: 45", "Cộng thôn Đông". With diacritics "cộng" is told
# from the family name "Công"; without them only a trailing colon or number says total.
_TOTAL_MARKED = re.compile(
    r"^(tổng cộng|tổng số)(\s|:|$)|^(tổng|cộng)\s*(:|\d|$)|^cộng (thôn|xóm|ấp|tổ|bản|khu)\b"
)
_TOTAL_FOLDED = re.compile(r"^(tong cong|tong so)\b|^(tong|cong)\s*(:|\d|$)")
_FOOTER = re.compile(
    r"^(người lập|nguoi lap|tm\.|t/m|tm |xác nhận|xac nhan|chủ tịch|chu tich|thủ trưởng|"
    r"thu truong|kế toán|ke toan|cán bộ|can bo|ký tên|ky ten|trưởng công an|truong cong an|"
    r"bí thư|bi thu|trưởng thôn|truong thon|trưởng ban|truong ban|giám đốc|giam doc)"
    r"|,?\s*ngày\s*\S*\s*tháng\s*\S*\s*năm\b|,?\s*ngay\s*\S*\s*thang\s*\S*\s*nam\b"
)
# Group labels: a place or an association's branch. With diacritics "Bản" is told from the
# family name "Bàn"; a label typed without them is matched folded.
_GROUP_MARKED = re.compile(
    r"^(thôn|xóm|ấp|bản|buôn|làng|sóc|tổ dân phố|tổ|khu phố|khu dân cư|khu|đội|cụm|"
    r"chi hội|chi đoàn|chi bộ|phân hội|tổ hội|hội viên thôn|tdp)\b"
)
_GROUP_FOLDED = re.compile(
    r"^(thon|xom|ap|buon|lang|soc|to dan pho|khu pho|khu dan cu|doi|cum|chi hoi|chi doan|"
    r"chi bo|phan hoi|to hoi|tdp)\b"
)
# "I", "II.", "IV -", "A.", "B)" before a group title, or alone in the STT column.
_ENUMERATOR = re.compile(r"^(?=[IVXLC]+\b|[A-Z]\b)([IVXLC]{1,6}|[A-Z])\s*[.)/:\-–]?\s*(.*)$")
_ROMAN = re.compile(r"^[IVXLC]{1,6}$")


@dataclass(frozen=True)
class Role:
    kind: str
    label: str = ""  # a group's title, as written
    hamlet: str | None = None  # the place a group row names, for the rows below it


def _text(cell: object) -> str:
    """A cell as text for layout decisions. Keeps U+00AD, which is the letter ư in TCVN3."""
    if cell is None or (isinstance(cell, float) and cell != cell):
        return ""
    return " ".join(str(cell).split())


@lru_cache(maxsize=65536)
def readable(text: str) -> str:
    """The most Vietnamese-looking reading of a cell (raw, TCVN3 or VNI), for classifying layout
    rows only; data cells are decoded per column, on evidence."""
    if text.isascii():
        return text
    return max(readings(text), key=vietnamese_share)


def is_number(value: object) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # noqa: UP038 (faster)
        return value == value
    return isinstance(value, str) and value.strip().rstrip(".").isdigit()


def _lower(text: str) -> str:
    return clean_text(readable(text)).lower()


def is_total(text: str) -> bool:
    # every total begins with tổng, cộng, tong or cong: a text of ASCII alone (a code, a number,
    # a name typed without diacritics) that begins otherwise is none, without reading it again
    if text.isascii() and text.lstrip()[:1] not in ("t", "T", "c", "C"):
        return False
    lowered = _lower(text)
    if _TOTAL_MARKED.match(lowered):
        return True
    return fold(lowered) == lowered and bool(_TOTAL_FOLDED.match(lowered))


def is_footer(text: str) -> bool:
    return bool(_FOOTER.search(_lower(text)))


def group_title(text: str) -> str | None:
    """The title of a group label ("II. Thôn Bãi" → "Thôn Bãi"), or None if it is not one."""
    clean = clean_text(readable(text))
    match = _ENUMERATOR.match(clean)
    if match and match.group(2):
        return match.group(2)
    lowered = clean.lower()
    if _GROUP_MARKED.match(lowered):
        return clean
    if fold(lowered) == lowered and _GROUP_FOLDED.match(lowered):
        return clean
    return None


def _is_enumerator(value: object) -> bool:
    text = clean_text(value)
    return bool(_ROMAN.match(text.rstrip(".)"))) or (
        len(text.rstrip(".)")) == 1 and text[:1].isupper() and text[:1].isalpha()
    )


def has_evidence(value: object, field: str) -> bool:
    """A cell that says something about a person: a readable date, ID digits, a sex."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    if field in ("birth_date", "death_date"):
        if isinstance(value, str) and is_footer(value):
            return False
        try:
            return parse_date(value) is not None
        except DateError:
            return False
    if field in ("personal_id", "insurance_number"):
        digits = sum(ch.isdigit() for ch in str(value))
        return digits >= 9
    if field == "sex":
        return parse_sex(value) is not None
    return False


# one shared instance each for the commonest roles (Role is frozen): one per row cost 0.2 s a file
_DATA_ROLE, _BLANK_ROLE = Role(DATA), Role(BLANK)


class RowRoles:
    """Classifies the rows below one header. `columns`: column → field."""

    def __init__(self, columns: dict[int, str], numbered: bool):
        self.row_number_col = next((c for c, f in columns.items() if f == "row_number"), None)
        self.evidence_cols = [
            (c, f.split("@")[0]) for c, f in columns.items() if f.split("@")[0] in EVIDENCE_FIELDS
        ]
        self.numbered = numbered
        # has_evidence of each distinct date text met: a column of dates repeats its values, and
        # parsing them was most of an unnumbered row's cost
        self._dated: dict[tuple[str, str], bool] = {}

    def _numbered(self, cells: Sequence[object]) -> bool:
        col = self.row_number_col
        return col is not None and col < len(cells) and is_number(cells[col])

    def evidence(self, cells: Sequence[object]) -> bool:
        return any(
            c < len(cells) and self._has_evidence(cells[c], f) for c, f in self.evidence_cols
        )

    def _has_evidence(self, value: object, field: str) -> bool:
        if value.__class__ is not str or field not in ("birth_date", "death_date"):
            return has_evidence(value, field)
        known = self._dated.get((value, field))
        if known is None:
            known = self._dated[(value, field)] = has_evidence(value, field)
        return known

    def is_data_for_sure(self, cells: Sequence[object]) -> bool:
        """Numbered or carrying a person's evidence, and not a footer or total line."""
        if self._numbered(cells):
            return True
        texts = [t for t in map(_text, cells) if t]
        if not texts or is_footer(texts[0]) or is_total(texts[0]):
            return False
        return self.evidence(cells)

    def role(self, cells: Sequence[object], footer_allowed: bool) -> Role:
        """The role of one row. `footer_allowed`: no data row follows this one."""
        if self._numbered(cells):
            return _DATA_ROLE  # decided before turning every cell into text: most of the cost
        first = next((t for t in map(_text, cells) if t), None)  # the others only if needed
        if first is None:
            return _BLANK_ROLE
        if footer_allowed and is_footer(first):
            return Role(FOOTER)
        if is_total(first):
            return Role(TOTAL)
        if self.evidence(cells):
            return _DATA_ROLE
        texts = [t for t in map(_text, cells) if t]
        col = self.row_number_col
        if col is not None and col < len(cells) and _is_enumerator(cells[col]):
            title = " ".join(t for c, t in enumerate(map(_text, cells)) if t and c != col)
            return self._group(title or first)
        if len(texts) <= 2:
            title = group_title(first)
            if title:
                return self._group(title)
        if self.numbered and len(texts) == 1:
            # in a numbered list every person has a number: this is a section title
            return Role(LABEL, clean_text(readable(first)), place_of(readable(first)) or None)
        return _DATA_ROLE

    @staticmethod
    def _group(title: str) -> Role:
        label = clean_text(readable(title))
        return Role(GROUP, label, place_of(label) or None)


def classify_rows(
    rows: Sequence[Sequence[object]], roles: RowRoles, progress: Callable[[int], None] | None = None
) -> list[Role]:
    """The role of every row: the table ends at the first footer line after the last row that is
    data for sure; everything after that end is footer."""
    last_data = -1
    for index in range(len(rows) - 1, -1, -1):
        if roles.is_data_for_sure(rows[index]):
            last_data = index
            break
    out: list[Role] = []
    ended = False
    for index, cells in enumerate(rows):
        if ended:
            out.append(Role(FOOTER) if any(map(_text, cells)) else Role(BLANK))
            continue
        role = roles.role(cells, footer_allowed=index > last_data)
        ended = role.kind == FOOTER
        out.append(role)
    return out
