"""Sex codes and hamlet names."""

from __future__ import annotations

import re

from reconcile.normalize.names import clean_text, fold

_SEX = {
    "nam": "M",
    "m": "M",
    "male": "M",
    "1": "M",
    "trai": "M",
    "con trai": "M",
    "nu": "F",
    "f": "F",
    "female": "F",
    "0": "F",
    "gai": "F",
    "con gai": "F",
}


def parse_sex(raw: object) -> str | None:
    """'Nam'/'Nữ' in any spelling, M/F, 1/0 → 'M'/'F'; anything else stays unknown (None)."""
    text = fold(clean_text(raw)).lower().removesuffix(".0")
    return _SEX.get(text)


_HAMLET_PREFIX = re.compile(
    r"^(?:(?:thon|xom|ap|ban|to dan pho|to|khu pho|khu|doi|lang)\.?\s+|t\.?\s*(?=\d))"
)
# "năm" (five) is left out: folded it is "nam", which is also the hamlet name Nam (south).
_NUMBER_WORDS = {
    "mot": "1",
    "hai": "2",
    "ba": "3",
    "bon": "4",
    "tu": "4",
    "sau": "6",
    "bay": "7",
    "tam": "8",
    "chin": "9",
    "muoi": "10",
}


def hamlet_key(raw: object, aliases: dict[str, str] | None = None) -> str:
    """'Thôn 3', 'thôn Ba', 'T3' → '3'; 'Xóm Đông' → 'dong'. Aliases map keys to one key."""
    text = fold(clean_text(raw)).lower()
    text = text.split(",")[0].strip()  # "Thôn Đông, xã …": the hamlet comes first
    text = _HAMLET_PREFIX.sub("", text).strip()
    text = _NUMBER_WORDS.get(text, text)
    if aliases:
        text = aliases.get(text, text)
    return text
