"""Text typed in the legacy TCVN3 (ABC) and VNI-Windows fonts, and common mojibake, back to Unicode.

Such text reaches us as the Windows-1252 characters of its bytes ("NguyÔn V¨n Hoµ"). A wrong guess
destroys data ("Đoàn" read as VNI becomes "Đồn"), so nothing is decoded without evidence: a legacy
font on the cell, characters that Unicode Vietnamese never uses, and decoded words that are
Vietnamese syllables (domain.md §2). The tables are our own, written from the standards.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache

from reconcile.normalize.syllables import vietnamese_share


class Encoding(StrEnum):
    UNICODE = "unicode"
    TCVN3 = "tcvn3"
    VNI = "vni"
    MOJIBAKE = "utf8-as-cp1252"


# TCVN3 (TCVN 5712:1993, VN3): one byte per letter; only Ă Â Ê Ô Ơ Ư Đ have capital codes.
# Runs of consecutive byte values starting at the given byte.
_TCVN3_RUNS = {
    0xA1: "ĂÂÊÔƠƯĐăâêôơưđ",
    0xB5: "àảãáạ",
    0xBB: "ằẳẵắ",
    0xC6: "ặầẩẫấậè",
    0xCE: "ẻẽéẹềểễếệìỉ",
    0xDC: "ĩíịò",
    0xE1: "ỏõóọồổỗốộờởỡớợù",
    0xF1: "ủũúụừửữứựỳỷỹýỵ",
}
TCVN3_TABLE: dict[int, str] = {
    start + i: ch for start, run in _TCVN3_RUNS.items() for i, ch in enumerate(run)
}

# VNI-Windows: a base letter, then a mark character. Marks differ after â/ê/ô and after ă.
_VNI_TONES = "\u0301\u0300\u0309\u0303\u0323"  # sắc huyền hỏi ngã nặng
_VNI_PLAIN_MARKS = "ùøûõï"
_VNI_HAT_MARKS = "áàåãä"
_VNI_BREVE_MARKS = "éèúüë"
_VNI_SINGLE = {
    "đ": "ñ",
    "ơ": "ô",
    "ư": "ö",
    "ỉ": "æ",
    "ĩ": "ó",
    "ị": "ò",
    "ỵ": "î",
    "í": "í",
    "ì": "ì",
}


def _vni_pairs() -> dict[str, str]:
    """Unicode letter → its VNI spelling (as Windows-1252 text), lower and upper case."""
    table: dict[str, str] = {}
    for base in "aeiouy":
        table[base] = base
    table.update({"â": "aâ", "ê": "eâ", "ô": "oâ", "ă": "aê", "ơ": "ô", "ư": "ö", "đ": "ñ"})
    for letter, spelled in list(table.items()):
        if letter == "đ":
            continue
        if letter in "âêô":  # one mark character carries both the hat and the tone
            marks, stem = _VNI_HAT_MARKS, spelled[0]
        elif letter == "ă":
            marks, stem = _VNI_BREVE_MARKS, "a"
        else:
            marks, stem = _VNI_PLAIN_MARKS, spelled
        for tone, mark in zip(_VNI_TONES, marks, strict=True):
            toned = unicodedata.normalize("NFC", letter + tone)
            table[toned] = stem + mark
    for letter, single in _VNI_SINGLE.items():
        table[letter] = single
    upper = {}
    for letter, spelled in table.items():
        upper[letter.upper()] = spelled.upper()
    table.update(upper)
    # plain ASCII vowels stand for themselves and need no entry
    return {k: v for k, v in table.items() if not k.isascii()}


VNI_ENCODE = _vni_pairs()
VNI_DECODE = {v: k for k, v in VNI_ENCODE.items()}  # í and ì are themselves in VNI too
_VNI_MAX = max(len(k) for k in VNI_DECODE)

# Latin-1 letters that Unicode Vietnamese itself uses: their presence proves nothing.
_UNICODE_VIETNAMESE_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
# Letters only Unicode Vietnamese has: a cell holding one is already decoded.
_VIETNAMESE_ONLY = re.compile("[\u1ea0-\u1ef9ăĂơƠưƯđĐĩĨũŨ]")
_MOJIBAKE = re.compile("Ã.|Ä.|Æ.|á[º»]|Å[©¸]")

LEGACY_FONT_PREFIXES = {Encoding.TCVN3: (".vn",), Encoding.VNI: ("vni-", "vni ")}


def font_encoding(font_name: str | None) -> Encoding | None:
    """.VnTime, .VnArialH → TCVN3; VNI-Times → VNI; anything else → no evidence."""
    name = (font_name or "").strip().lower()
    for encoding, prefixes in LEGACY_FONT_PREFIXES.items():
        if name.startswith(prefixes):
            return encoding
    return None


def is_capital_font(font_name: str | None) -> bool:
    """TCVN3 capital fonts (.VnTimeH) draw the lowercase codes as capitals."""
    name = (font_name or "").strip()
    return name.lower().startswith(".vn") and name.endswith("H")


def _invisible(ch: str) -> bool:
    """Spaces and format characters (NBSP, zero-width space): the same in every encoding."""
    return ch != "\u00ad" and unicodedata.category(ch) in ("Zs", "Cf", "Zl", "Zp")


def _byte(ch: str) -> int | None:
    if ord(ch) < 0x100:
        return ord(ch)
    try:
        return ch.encode("cp1252")[0]
    except UnicodeEncodeError:
        return None


@lru_cache(maxsize=65536)
def decode_tcvn3(text: str) -> str | None:
    """None when text holds a character TCVN3 does not define (so it cannot be TCVN3)."""
    out = []
    for ch in text:
        if _invisible(ch):
            out.append(ch)
            continue
        b = _byte(ch)
        if b is None:
            return None
        if b < 0x80:
            out.append(ch)
        elif b in TCVN3_TABLE:
            out.append(TCVN3_TABLE[b])
        else:
            return None
    return "".join(out)


@lru_cache(maxsize=65536)
def decode_vni(text: str) -> str | None:
    """Greedy, two characters before one. None when a non-ASCII character is left over."""
    out, i = [], 0
    while i < len(text):
        for size in range(_VNI_MAX, 0, -1):
            chunk = text[i : i + size]
            if chunk in VNI_DECODE:
                out.append(VNI_DECODE[chunk])
                i += size
                break
        else:
            if ord(text[i]) >= 0x80 and not _invisible(text[i]):
                return None
            out.append(text[i])
            i += 1
    return "".join(out)


def encode_vni(text: str) -> str:
    return "".join(VNI_ENCODE.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def encode_tcvn3(text: str) -> str:
    """Unicode → TCVN3 as Windows-1252 text (capitals without a code are lower-cased)."""
    inverse = {ch: b for b, ch in TCVN3_TABLE.items()}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in inverse:
            out.append(bytes([inverse[ch]]).decode("cp1252", errors="replace"))
        elif ch.lower() in inverse:
            out.append(bytes([inverse[ch.lower()]]).decode("cp1252", errors="replace"))
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=65536)
def fix_mojibake(text: str) -> str | None:
    """UTF-8 bytes that were read as Windows-1252 ("Nguyá»…n") → the UTF-8 text, else None."""
    if not _MOJIBAKE.search(text):
        return None
    raw = bytearray()
    for ch in text:
        b = _byte(ch)
        if b is None:
            return None
        raw.append(b)
    try:
        return unicodedata.normalize("NFC", raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _candidate(text: str) -> bool:
    """Worth examining: non-ASCII, and not already Vietnamese Unicode."""
    return not text.isascii() and not _VIETNAMESE_ONLY.search(text)


def _has_markers(text: str) -> bool:
    """Characters outside plain Unicode Vietnamese: some legacy encoding made them."""
    return any(
        ord(ch) >= 0x80 and ch not in _UNICODE_VIETNAMESE_LATIN1 and ch != "\u00a0" for ch in text
    )


_DECODERS = {Encoding.TCVN3: decode_tcvn3, Encoding.VNI: decode_vni}


def detect_encoding(cells: list[str], fonts: list[str | None] | None = None) -> Encoding:
    """The legacy encoding of a column, from the evidence of all its cells."""
    if fonts:
        votes: dict[Encoding, int] = {}
        for font in fonts:
            encoding = font_encoding(font)
            if encoding:
                votes[encoding] = votes.get(encoding, 0) + 1
        if votes:
            return max(votes, key=lambda e: votes[e])
    scores = {Encoding.TCVN3: 0.0, Encoding.VNI: 0.0, Encoding.MOJIBAKE: 0.0}
    for text in {c for c in set(cells) if c and _candidate(c)}:
        if fix_mojibake(text):
            scores[Encoding.MOJIBAKE] += 1
            continue
        if not _has_markers(text) and vietnamese_share(text) == 1.0:
            continue  # reads as Vietnamese already: no evidence either way
        for encoding, decode in _DECODERS.items():
            decoded = decode(text)
            if decoded is not None and vietnamese_share(decoded) > vietnamese_share(text):
                scores[encoding] += vietnamese_share(decoded)
    best = max(scores, key=lambda e: scores[e])
    return best if scores[best] >= 1 else Encoding.UNICODE


def decode_cell(text: str, encoding: Encoding, font: str | None = None) -> str:
    """Decode one cell of a column judged to be in `encoding`, unless the cell itself says no.

    A cell already in Vietnamese Unicode is never touched; a cell that reads as valid Vietnamese as
    it is and carries no legacy marker is decoded only when its own font says legacy.
    """
    if not text or not _candidate(text):
        return text
    if encoding is Encoding.MOJIBAKE:
        return fix_mojibake(text) or text
    cell_encoding = font_encoding(font) or encoding
    if cell_encoding is Encoding.UNICODE:
        return text
    decoded = _DECODERS[cell_encoding](text)
    if decoded is None:
        return text
    own_font = font_encoding(font) is not None
    if not own_font and not _has_markers(text):
        if vietnamese_share(text) >= vietnamese_share(decoded):
            return text
    if not own_font and vietnamese_share(decoded) < 0.5:
        return text
    if cell_encoding is Encoding.TCVN3 and is_capital_font(font):
        decoded = decoded.upper()
    return unicodedata.normalize("NFC", decoded)


def decode_column(cells: list[object], fonts: list[str | None] | None = None) -> list[object]:
    """Decode a whole column; non-text cells pass through untouched. A column judged Unicode
    comes back as the very list given (callers skip putting it back)."""
    texts = [c for c in cells if isinstance(c, str)]
    encoding = detect_encoding(texts, fonts)
    font_says_legacy = bool(fonts) and any(font_encoding(f) for f in fonts)
    if encoding is Encoding.UNICODE and not font_says_legacy:
        return cells
    return [
        decode_cell(c, encoding, fonts[i] if fonts else None) if isinstance(c, str) else c
        for i, c in enumerate(cells)
    ]
