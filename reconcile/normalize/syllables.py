"""Is a word a well-formed Vietnamese syllable? Evidence for choosing a legacy-encoding decode:
text decoded with the right table reads as Vietnamese, with the wrong one it mostly does not."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from reconcile.normalize.names import TONE_MARKS

_ONSETS = ("ngh ng gh gi kh nh ph qu th tr ch b c d đ g h k l m n p r s t v x").split()
_NUCLEI = set(
    (
        "a ă â e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê "
        "ui uô uơ uy ưa ưi ươ ưu yê iêu oai oay oeo uây uôi ươi ươu uya uyê uyu yêu"
    ).split()
)
_FINALS = ("", "c", "ch", "m", "n", "ng", "nh", "p", "t")
_STOP_FINALS = ("c", "ch", "p", "t")
_STOP_TONES = {"\u0301", "\u0323"}  # a syllable ending in c/ch/p/t takes sắc or nặng only
_SPLIT = re.compile(r"^([^aăâeêioôơuưy]*)([aăâeêioôơuưy]+)([^aăâeêioôơuưy]*)$")


@lru_cache(maxsize=65536)
def is_syllable(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = [c for c in decomposed if c in TONE_MARKS]
    if len(tones) > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
    m = _SPLIT.match(bare)
    if not m:
        return False
    onset, nucleus, final = m.groups()
    if onset == "q" and nucleus.startswith("u"):  # "qu" + vowel: u belongs to the onset
        onset, nucleus = "qu", nucleus[1:]
    if onset == "g" and nucleus.startswith("i") and len(nucleus) > 1:
        onset, nucleus = "gi", nucleus[1:]
    if onset and onset not in _ONSETS:
        return False
    if nucleus not in _NUCLEI or final not in _FINALS:
        return False
    if final in ("nh", "ch") and nucleus[-1] not in "aêiy":  # anh, ênh, inh, uynh; never ơnh
        return False
    if final in ("ng", "c") and nucleus in ("i", "y", "ê"):  # inh, not ing
        return False
    return not (final in _STOP_FINALS and tones and tones[0] not in _STOP_TONES)


def vietnamese_share(text: str) -> float:
    """Share of the words in text that are Vietnamese syllables (1.0 for no words)."""
    words = [w for w in re.findall(r"[^\W\d_]+", text)]
    if not words:
        return 1.0
    return sum(is_syllable(w) for w in words) / len(words)
