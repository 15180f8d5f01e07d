"""Vietnamese personal names: one canonical form for comparison, plus keys for finding candidates.

Formatting (case, spacing, NFC/NFD, old or new tone placement) never changes the canonical name;
a real spelling difference always does. Folded and phonetic keys deliberately collide distinct
names, so they find candidates and never decide a match (shared/domain.md §1).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from unidecode import unidecode

# The five tone marks as combining characters; vowel-quality marks (circumflex, breve, horn) stay.
TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_VOWELS = set("aăâeêioôơuưy")
_HAT_VOWELS = set("âêô")
_HORN_BREVE_VOWELS = set("ăơư")
# Middle names dropped in informal lists (practice): their absence is not a name difference.
DROPPABLE_MIDDLE = {"văn", "thị"}

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[\s\u00a0\u2007\u202f]+")
_BRACKETED = re.compile(r"[\(\[][^\)\]]*[\)\]]")
# Anything but letters, digits, spaces and the apostrophe of ethnic names (H'Hen) separates
# words: "Thị-Hoa", "Văn_Nam", "Nguyễn.Văn" are formatting.
_NAME_CHARS = re.compile(r"[^\w\s']|_")


def _unglue(text: str) -> str:
    """A space before a title-case syllable glued to the letters before it: a capital followed
    by a lower-case letter, after a lower-case letter ("VănToán", "ThuHạnh") or after a capital
    when a plain letter follows ("VĂNThuỷ"). A TCVN3 name typed in capitals keeps only its
    toned vowels lower case ("HUỳNH", "HOàNG", "NGUYễN"): those are never split."""
    if text.isupper() or text.islower():
        return text
    out = [text[:1]]
    for i in range(1, len(text)):
        ch, before, after = text[i], text[i - 1], text[i + 1 : i + 2]
        if ch.isupper() and after.islower():
            if before.islower() or (before.isupper() and after.isascii()):
                out.append(" ")
        out.append(ch)
    return "".join(out)


def _strip_tone(syllable: str) -> tuple[str, str | None]:
    """Split a lower-case NFC syllable into its toneless NFC form and its tone mark, if any."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tone = next((ch for ch in decomposed if ch in TONE_MARKS), None)
    if tone is None:
        return syllable, None
    bare = "".join(ch for ch in decomposed if ch not in TONE_MARKS)
    return unicodedata.normalize("NFC", bare), tone


def _tone_position(bare: str) -> int | None:
    """Index of the letter that carries the tone in canonical placement (domain.md §1 rules)."""
    start = next((i for i, ch in enumerate(bare) if ch in _VOWELS), None)
    if start is None:
        return None
    end = start
    while end < len(bare) and bare[end] in _VOWELS:
        end += 1
    # qu- and gi-: the u / i is part of the onset when another vowel follows it.
    if start > 0 and end - start > 1 and bare[start - 1 : start + 1] in ("qu", "gi"):
        start += 1
    cluster = bare[start:end]
    has_final = end < len(bare)
    if len(cluster) == 1:
        return start
    for i, ch in enumerate(cluster):
        if ch in _HAT_VOWELS:
            return start + i
    if "ơ" in cluster:
        return start + cluster.index("ơ")
    for i, ch in enumerate(cluster):
        if ch in _HORN_BREVE_VOWELS:
            return start + i
    if len(cluster) >= 3:
        return start + 1
    # Includes oa/oe/uy: canonical hòa, khỏe, thủy (the issues' "new" style); hoàng with a final.
    return start + 1 if has_final else start


@lru_cache(maxsize=65536)
def canonical_syllable(syllable: str) -> str:
    """Put a lower-case syllable's tone mark in one canonical place (hoà and hòa both give hòa)."""
    bare, tone = _strip_tone(syllable)
    if tone is None:
        return syllable
    if sum(ch in TONE_MARKS for ch in unicodedata.normalize("NFD", syllable)) > 1:
        return syllable  # syllables glued together ("NGUYỄNTHỊ"): each keeps its own tone
    pos = _tone_position(bare)
    if pos is None:
        return syllable
    decomposed = unicodedata.normalize("NFD", bare[pos]) + tone
    return unicodedata.normalize("NFC", bare[:pos] + decomposed + bare[pos + 1 :])


_COMBINING_RUN = re.compile(r"[\u0300-\u036f]{2,}")


def _tone_last(text: str) -> str:
    """Within each run of combining marks, the tone mark after the vowel's own mark (the hat,
    breve or horn). Unicode gives both the same combining class, so NFC keeps a tone typed first
    (e + acute + circumflex) apart from its letter, and the name would lose a syllable."""
    return _COMBINING_RUN.sub(
        lambda run: "".join(sorted(run.group(), key=lambda mark: mark in TONE_MARKS)), text
    )


def clean_text(raw: object) -> str:
    """NFC with tone marks after vowel marks, eth to đ, invisible characters removed,
    whitespace runs collapsed."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return ""
    text = str(raw)
    if text.isascii():  # most cells: codes, numbers, names typed without diacritics
        return " ".join(text.split())
    text = _tone_last(unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("Ð", "Đ").replace("ð", "đ")
    return _SPACES.sub(" ", text).strip()


def _fold_table() -> dict[int, str]:
    """Every precomposed Latin letter → its base letter (đ → d): one str.translate call."""
    table = {ord("đ"): "d", ord("Đ"): "D"}
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        decomposed = unicodedata.normalize("NFD", chr(code))
        if (
            len(decomposed) > 1
            and decomposed[0].isascii()
            and all(unicodedata.combining(c) for c in decomposed[1:])
        ):
            table[code] = decomposed[0]
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Remove every diacritic and map đ to d: a key that collides distinct names on purpose."""
    folded = text.translate(_FOLD)
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFD", folded)  # stray combining marks (NFD input)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # what Vietnamese never uses (full-width letters from an IME, "ø", "ł" pasted from
    # elsewhere) still folds to the ASCII a list typed without diacritics would hold
    return stripped if stripped.isascii() else unidecode(stripped)


# Onsets and finals typists confuse by dialect; mapped together only to find candidates.
_PHONETIC_ONSETS = (
    ("ngh", "ng"),
    ("gh", "g"),
    ("tr", "ch"),
    ("gi", "z"),
    ("d", "z"),
    ("r", "z"),
    ("v", "z"),
    ("s", "x"),
    ("l", "n"),
    ("k", "c"),
    ("q", "c"),
)
_PHONETIC_FINALS = (("nh", "n"), ("ng", "n"), ("ch", "t"), ("c", "t"))


# Regional forms of one family name (domain.md §1): one key, so a candidate is never missed;
# the spelling difference is still shown to a human.
_REGIONAL = {"huynh": "hoang", "vo": "vu"}


@lru_cache(maxsize=65536)
def phonetic_syllable(folded: str) -> str:
    word = folded.lower()
    word = _REGIONAL.get(word, word)
    for old, new in _PHONETIC_ONSETS:
        if word.startswith(old):
            word = new + word[len(old) :]
            break
    for old, new in _PHONETIC_FINALS:
        if word.endswith(old) and len(word) > len(old):
            word = word[: -len(old)] + new
            break
    return word.replace("y", "i")


@dataclass(frozen=True, slots=True)
class Name:
    """A parsed name. `canonical` is lower case, NFC, new-style tones: equal means same spelling."""

    display: str
    canonical: str
    family: str
    middle: str
    given: str
    note: str
    damaged: bool

    @property
    def folded(self) -> str:
        return fold(self.canonical)

    @property
    def has_diacritics(self) -> bool:
        return self.folded != self.canonical

    @property
    def without_common_middle(self) -> str:
        """Canonical name with the often-dropped Văn/Thị removed."""
        return " ".join(w for w in self.canonical.split() if w not in DROPPABLE_MIDDLE) or ""


@lru_cache(maxsize=262144)
def parse_name(raw: object) -> Name:
    text = clean_text(raw)
    damaged = "\ufffd" in text
    notes = [m.strip("()[] ") for m in _BRACKETED.findall(text)]
    text = _BRACKETED.sub(" ", text)
    text = _unglue(text)
    text = _SPACES.sub(" ", _NAME_CHARS.sub(" ", text)).strip()
    words = [canonical_syllable(w) for w in text.lower().split()]
    canonical = " ".join(words)
    display = " ".join(w[:1].upper() + w[1:] for w in words)
    family = words[0] if len(words) > 1 else ""
    given = words[-1] if words else ""
    middle = " ".join(words[1:-1])
    return Name(display, canonical, family, middle, given, "; ".join(notes), damaged)


_IY_SYLLABLE = re.compile(r"^([^aăâeêioôơuưy]+|qu)y$")


@lru_cache(maxsize=65536)
def _iy_syllable(syllable: str) -> str:
    bare, tone = _strip_tone(syllable)
    if not _IY_SYLLABLE.match(bare):
        return syllable
    spelled = bare[:-1] + "i" + (tone or "")
    return unicodedata.normalize("NFC", spelled)


def iy_key(canonical: str) -> str:
    """Lý/Lí, Mỹ/Mĩ, Kỳ/Kì, Quý/Quí share this key: spelling variants a human must still judge
    (domain.md §1), so it scores them near-equal and never makes them equal."""
    return " ".join(_iy_syllable(w) for w in canonical.split())
