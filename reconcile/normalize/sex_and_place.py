"""Sex codes and hamlet names."""

from __future__ import annotations

import re

import pandas as pd

from reconcile.frames import shared_values
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
    r"^(?:(?:thon|xom|ap|ban|buon|lang|soc|to dan pho|tdp|to|khu pho|kp|khu dan cu|khu|doi|"
    r"cum)\.?\s+(?:so\s+)?|t\.?\s*(?=\d))"
)
# An association's branch before the place it serves: "Chi hội thôn Đông", "Chi đoàn Xóm 3".
_BRANCH_PREFIX = re.compile(
    r"^(?:chi hoi|chi doan|chi bo|phan hoi|to hoi|hoi vien|doan vien|hoi|doan)\b\s*"
)
# Where a place starts inside a longer label ("CHI HỘI PHỤ NỮ THÔN ĐÔNG").
_PLACE_WORD = re.compile(
    r"\b(thon|xom|ap|ban|buon|lang|soc|to dan pho|tdp|khu pho|khu dan cu|doi|cum)\b"
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


def place_of(label: object) -> str:
    """The place a label names, as written: "I. CHI HỘI THÔN ĐÔNG" → "THÔN ĐÔNG", "Chi đoàn
    Xóm 3" → "Xóm 3", "Chi hội Đông" → "Đông"; "" when it names no place ("Danh sách bổ sung")."""
    text = clean_text(label)
    folded = fold(text).lower()
    if len(folded) != len(text):  # a letter that folds to two (rare): no position mapping
        return ""
    found = _PLACE_WORD.search(folded)
    if found:
        return text[found.start() :].strip(" .:-")
    branch = _BRANCH_PREFIX.match(folded)
    if branch:
        return text[branch.end() :].strip(" .:-")
    return ""


def hamlet_key(raw: object, aliases: dict[str, str] | None = None) -> str:
    """'Thôn 3', 'thôn Ba', 'T3', 'Tổ dân phố số 3' → '3'; 'Xóm Đông', 'Chi hội thôn Đông' →
    'dong'. Aliases map keys to one key."""
    text = fold(place_of(raw) or clean_text(raw)).lower()
    text = text.split(",")[0].strip()  # "Thôn Đông, xã …": the hamlet comes first
    text = _HAMLET_PREFIX.sub("", text).strip()
    text = _NUMBER_WORDS.get(text, text)
    if aliases:
        text = aliases.get(text, text)
    return text


_COMMUNE_PREFIX = re.compile(r"^(?:xa|phuong|thi tran|dac khu|tt|p)\.?\s+")


def commune_key(raw: object) -> str:
    """'Xã Tân Lập', 'xa tan lap', 'X. Tân Lập' → 'tan lap'; '' where none is given."""
    text = fold(clean_text(raw)).lower().strip()
    text = re.sub(r"^x\.\s*", "", text)
    return _COMMUNE_PREFIX.sub("", text).strip()


def with_commune(hamlets: pd.Series, communes: pd.Series) -> pd.Series:
    """Hamlet keys that carry their commune ('tan lap/1'): "Thôn 1" of two communes of one
    province are two places. Rows without a commune keep the bare hamlet key."""
    both = communes.fillna("").astype(str).ne("") & hamlets.fillna("").astype(str).ne("")
    joined = hamlets.where(~both, communes.astype(str) + "/" + hamlets.astype(str))
    # joined row by row: a province's few hundred keys as one string each, not one a row
    return pd.Series(shared_values(joined), index=joined.index)
