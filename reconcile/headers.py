"""What a header cell names: one of our fields, someone else's name or number, or nothing.

Officers write headers that say more than the field ("Họ và tên trẻ được tiêm chủng", "Ngày sinh
(ngày/tháng/năm)", "Số CCCD/Số định danh"): a header that begins with a known field name is that
field. Other people's columns sit beside the person's ("Họ tên mẹ", "CCCD của mẹ", "Người giám
hộ"): they are never taken for the person's own. Header cells typed in TCVN3 or VNI fonts are
decoded before they are matched (shared/domain.md §4).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from reconcile.kinds import HEADER_ALIASES
from reconcile.normalize.legacy import decode_tcvn3, decode_vni, fix_mojibake
from reconcile.normalize.names import clean_text, fold
from reconcile.normalize.syllables import vietnamese_share

# Helper fields that split-name and two-row headers produce; ingest folds them into real fields.
SPLIT_ALIASES = {
    "ho": "family_name",
    "ho dem": "family_name",
    "chu dem": "middle_name",
    "dem": "middle_name",
    "ten dem": "middle_name",
    "ten lot": "middle_name",
}
# Words that make a column someone else's: the mother's name, the guardian's ID, the head of
# household. Whole words of the folded header.
OTHER_PERSON = re.compile(
    r"\b(me|cha|bo|vo|chong|chu ho|giam ho|nguoi di khai|nguoi khai|nguoi yeu cau|dai dien|"
    r"nguoi nuoi|nguoi bao tin|nguoi lap|nhan thay|linh thay|than nhan|nguoi cham soc|"
    r"nguoi duoc uy quyen|uy quyen|nguoi bao ho|nguoi thua ke|nguoi lien he)\b"
)
# Short aliases that are a field only when they are the whole header ("Tên", "GT", "NS"): as a
# prefix they would take "Tên vắc xin" for a name.
_WHOLE_ONLY = {"ten", "gt", "ns", "tt", "ap", "ban", "phai", "dem", "ho", "to", "quan he", "so ho"}
# Columns that look like a date or a number of ours but are not the person's: the date a record
# was registered, a vaccine was given, an ID card was issued.
_NOT_OURS = re.compile(
    r"\b(ngay (dang ky|tiem|cap|lap|nhan|huong|bat dau|ket thuc|vao|ra|chuyen)|"
    r"noi cap|ngay thang (dang ky|tiem|cap)|thang huong|muc huong|so tien)\b"
)
# Vocabulary of columns we would want: a header holding one of these that maps to nothing
# is worth a warning ("Số CMND/CCCD" typed in a font we could not read).
_WANTED = re.compile(
    r"\b(cccd|cmnd|dinh danh|can cuoc|bhyt|bhxh|the bao hiem|ngay sinh|nam sinh|"
    r"gioi tinh|ho va ten|ho ten)\b"
)


def header_key(text: object) -> str:
    """A header cell folded for lookup: no diacritics, lower case, no notes in brackets, no
    punctuation ("Ngày, tháng, năm sinh (dd/mm/yyyy)" → "ngay thang nam sinh")."""
    return _key(clean_text(text))


@lru_cache(maxsize=65536)
def _key(text: str) -> str:
    folded = fold(text).lower()
    folded = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", folded)
    folded = re.sub(r"[^a-z0-9]+", " ", folded)
    return " ".join(folded.split())


def bracket_note(text: str) -> str:
    """The folded text inside the header's brackets ("Năm sinh (Nam)" → "nam")."""
    found = re.findall(r"\(([^)]*)\)", fold(clean_text(text)).lower())
    return " ".join(" ".join(re.sub(r"[^a-z0-9]+", " ", f).split()) for f in found)


def _alias_table() -> dict[str, str]:
    table = {_key(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
    table.update(SPLIT_ALIASES)
    return table


ALIASES = _alias_table()
# Longest first, so "ho va ten khai sinh" is tried before "ho va ten".
_PREFIXES = sorted((a for a in ALIASES if a not in _WHOLE_ONLY), key=len, reverse=True)
_SEX_NOTES = {"nam": "M", "nu": "F"}


@dataclass(frozen=True)
class HeaderCell:
    """What one header cell names. `field` is None for a column we do not read."""

    field: str | None
    text: str  # as written, decoded from a legacy font where it was one
    other_person: bool = False
    wanted: bool = False  # looks like an ID, date or name column, yet maps to nothing


def _field_of_key(key: str, overrides: Mapping[str, str]) -> tuple[str | None, bool]:
    """(field, other_person) of a folded header."""
    if not key:
        return None, False
    if key in overrides:
        return overrides[key], False
    exact = ALIASES.get(key)
    if exact:  # the curated spellings, "Quan hệ với chủ hộ" among them
        return exact, False
    if OTHER_PERSON.search(key):
        return None, True
    if _NOT_OURS.search(key):
        return None, False
    for alias in _PREFIXES:
        if key.startswith(alias + " "):
            return ALIASES[alias], False
    return None, False


def readings(text: str) -> list[str]:
    """The cell as written, then as TCVN3, VNI and mojibake would decode it (where they can)."""
    out = [text]
    if not text.isascii():
        for decode in (decode_tcvn3, decode_vni, fix_mojibake):
            decoded = decode(text)
            if decoded and decoded != text:
                out.append(clean_text(decoded))
    return out


@lru_cache(maxsize=65536)
def _classify(text: str, overrides: tuple[tuple[str, str], ...]) -> HeaderCell:
    keyed = dict(overrides)
    options = readings(text)
    for reading in options:
        field, other = _field_of_key(_key(reading), keyed)
        if field or other:
            if field == "birth_date" and (sex := _SEX_NOTES.get(_sex_note(reading))):
                field = f"birth_date@{sex}"  # "Năm sinh (Nam)" | "Năm sinh (Nữ)"
            return HeaderCell(field, reading, other)
    best = max(options, key=vietnamese_share)
    key = _key(best)
    everything = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(best).lower()).split())  # brackets too
    wanted = bool(_WANTED.search(everything)) and not _NOT_OURS.search(key)
    return HeaderCell(None, best, wanted=wanted)


def _sex_note(reading: str) -> str:
    note = bracket_note(reading)
    if note:
        return note
    key = _key(reading)
    for alias in ("nam sinh", "ngay sinh", "ngay thang nam sinh"):
        if key.startswith(alias + " "):
            return key[len(alias) + 1 :]
    return ""


def classify_header(cell: object, overrides: Mapping[str, str] | None = None) -> HeaderCell:
    """What a header cell names. `overrides`: folded header text → field, from the run config."""
    text = clean_text(cell) if not isinstance(cell, str) else " ".join(cell.split())
    if not text:
        return HeaderCell(None, "")
    return _classify(text, tuple(sorted((overrides or {}).items())))


def keyed_overrides(columns: Mapping[str, str] | None) -> dict[str, str]:
    """The run config's `columns` (header as written → field) keyed like header_key."""
    return {header_key(k): v for k, v in (columns or {}).items()}
