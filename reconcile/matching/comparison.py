"""Graded comparison of candidate pairs, field by field, in bulk (no per-pair Python loop).

Each field lands on one level; each level has a weight (log2 of how much likelier that level is
for the same person than for two different people). The weights here are hand-set priors in the
spirit of Fellegi–Sunter (matching.weights learns them from each run's data); every level also
has a Vietnamese label for the review workbook.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Hamming

# field → level → (weight, Vietnamese explanation)
LEVELS: dict[str, dict[str, tuple[float, str]]] = {
    "name": {
        "exact": (10.0, "họ tên trùng khớp"),
        "dropped_middle": (7.0, "họ tên trùng, thiếu tên đệm Văn/Thị"),
        "no_diacritics": (7.0, "họ tên trùng khi bỏ dấu (danh sách gõ không dấu)"),
        "iy_variant": (6.0, "họ tên khác cách viết i/y (Lý/Lí)"),
        "folded": (5.0, "họ tên chỉ khác dấu"),
        "phonetic": (4.0, "họ tên đọc giống nhau (lỗi phương ngữ)"),
        "close": (3.0, "họ tên gần giống"),
        "other": (-8.0, "họ tên khác"),
        "missing": (0.0, "thiếu họ tên"),
    },
    "birth": {
        "exact": (8.0, "ngày sinh trùng khớp"),
        "partial": (3.0, "năm sinh trùng (chỉ có năm)"),
        "swapped": (3.0, "ngày sinh đảo ngày/tháng"),
        "day_typo": (3.0, "ngày sinh gõ nhầm ngày (cùng tháng, năm)"),
        "same_month": (1.0, "cùng tháng, năm sinh"),
        "year_typo": (3.0, "năm sinh gõ nhầm một chữ số (cùng ngày, tháng)"),
        "year_off_by_one": (-1.0, "năm sinh lệch 1 năm"),
        "other": (-5.0, "ngày sinh khác"),
        "far": (-15.0, "năm sinh cách xa nhau"),
        "missing": (0.0, "thiếu ngày sinh"),
    },
    "sex": {
        "equal": (0.5, "giới tính trùng"),
        "differ": (-4.0, "giới tính khác"),
        "missing": (0.0, "thiếu giới tính"),
    },
    "pid": {
        "equal": (12.0, "số định danh trùng khớp"),
        "one_digit": (4.0, "số định danh lệch một chữ số"),
        "differ": (-4.0, "số định danh khác"),
        "missing": (0.0, "thiếu số định danh"),
    },
    "insurance": {
        "equal": (8.0, "số BHYT/BHXH trùng"),
        "differ": (-2.0, "số BHYT/BHXH khác"),
        "missing": (0.0, "thiếu số BHYT"),
    },
    "hamlet": {
        "equal": (1.0, "cùng thôn/xóm"),
        "differ": (-1.0, "khác thôn/xóm"),
        "missing": (0.0, "thiếu thôn/xóm"),
    },
}
FIELD_TITLES = {
    "name": "Họ tên",
    "birth": "Ngày sinh",
    "sex": "Giới tính",
    "pid": "Số định danh",
    "insurance": "BHYT",
    "hamlet": "Thôn",
}
CLOSE_NAME_SIMILARITY = 85.0


@dataclass(frozen=True)
class _Positions:
    """Each pair's row positions in the left and right tables, looked up once per compare."""

    left: np.ndarray
    right: np.ndarray

    def __len__(self) -> int:
        return len(self.left)


def _take(frame: pd.DataFrame, positions: np.ndarray, column: str) -> np.ndarray:
    return frame[column].to_numpy()[positions]


def _select(conditions: list[np.ndarray], labels: list[str], default: str) -> np.ndarray:
    return np.select(conditions, labels, default=default).astype(object)


def _eq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal and present (None == None is no agreement), over whole object arrays."""
    return pd.notna(a) & (a == b)


def _name_levels(left, right, pairs) -> np.ndarray:
    lc, rc = _take(left, pairs.left, "name_canonical"), _take(right, pairs.right, "name_canonical")
    lf, rf = _take(left, pairs.left, "name_fold"), _take(right, pairs.right, "name_fold")
    ln, rn = _take(left, pairs.left, "name_nomid"), _take(right, pairs.right, "name_nomid")
    lnf, rnf = (
        _take(left, pairs.left, "name_nomid_fold"),
        _take(right, pairs.right, "name_nomid_fold"),
    )
    lp, rp = _take(left, pairs.left, "name_phon"), _take(right, pairs.right, "name_phon")
    # a dialect spelling and a dropped Văn/Thị together
    phonetic_equal = _eq(lp, rp) | _eq(
        _take(left, pairs.left, "name_nomid_phon"), _take(right, pairs.right, "name_nomid_phon")
    )
    ldia = _take(left, pairs.left, "name_has_diacritics").astype(bool)
    rdia = _take(right, pairs.right, "name_has_diacritics").astype(bool)
    similarity = (
        process.cpdist([s or "" for s in lf], [s or "" for s in rf], scorer=fuzz.ratio, workers=1)
        if len(pairs)
        else np.array([])
    )
    folded_equal = _eq(lf, rf) | _eq(lnf, rnf)
    iy_equal = _eq(_take(left, pairs.left, "name_iy"), _take(right, pairs.right, "name_iy"))
    return _select(
        [
            (lc == "") | (rc == ""),
            lc == rc,
            ln == rn,
            folded_equal & (~ldia | ~rdia),
            iy_equal,
            folded_equal,
            phonetic_equal,
            similarity >= CLOSE_NAME_SIMILARITY,
        ],
        [
            "missing",
            "exact",
            "dropped_middle",
            "no_diacritics",
            "iy_variant",
            "folded",
            "phonetic",
            "close",
        ],
        "other",
    )


def _one_keystroke(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Numbers one typing slip apart: one digit changed (1975/1965, 12/17), the last two digits
    transposed (1975/1957, 12/21), or one more or less (1975/1976, 29/30)."""
    a, b = np.nan_to_num(a, nan=-1.0), np.nan_to_num(b, nan=-2.0)
    slip = np.abs(a - b) == 1
    for place in (1.0, 10.0, 100.0, 1000.0):
        slip |= (a // (place * 10) == b // (place * 10)) & (a % place == b % place) & (a != b)
    transposed = (a // 100 == b // 100) & (a % 10 == (b // 10) % 10) & ((a // 10) % 10 == b % 10)
    return slip | (transposed & (a != b))


def _where(mask: np.ndarray, test, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """test(a, b) evaluated only where mask holds (False elsewhere)."""
    out = np.zeros(len(mask), dtype=bool)
    out[mask] = test(a[mask], b[mask])
    return out


def _birth_levels(left, right, pairs) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's birth level, and whether both sides give a full date."""

    def parts(frame, index):
        return [
            frame[c].astype("float64").to_numpy()[index]
            for c in ("birth_year", "birth_month", "birth_day")
        ]

    ly, lm, ld = parts(left, pairs.left)
    ry, rm, rd = parts(right, pairs.right)
    missing = np.isnan(ly) | np.isnan(ry)
    both_days = ~np.isnan(ld) & ~np.isnan(rd)
    both_months = ~np.isnan(lm) & ~np.isnan(rm)
    same_year = ly == ry
    same_day_month = both_days & (lm == rm) & (ld == rd)
    levels = _select(
        [
            missing,
            same_day_month & same_year,
            ~both_days & same_year & (~both_months | (lm == rm)),
            both_days & same_year & (lm == rd) & (ld == rm),
            _where(both_days & same_year & (lm == rm), _one_keystroke, ld, rd),
            same_year & (lm == rm),
            _where(same_day_month, _one_keystroke, ly, ry),
            np.abs(ly - ry) == 1,
            np.abs(ly - ry) > 2,
        ],
        [
            "missing",
            "exact",
            "partial",
            "swapped",
            "day_typo",
            "same_month",
            "year_typo",
            "year_off_by_one",
            "far",
        ],
        "other",
    )
    return levels, both_days


def _simple_levels(left, right, pairs, column: str) -> np.ndarray:
    a, b = _take(left, pairs.left, column), _take(right, pairs.right, column)
    present = pd.notna(a) & pd.notna(b)
    return _select([~present, a == b], ["missing", "equal"], "differ")


def _pid_levels(left, right, pairs) -> np.ndarray:
    a, b = _take(left, pairs.left, "pid"), _take(right, pairs.right, "pid")
    levels = _simple_levels(left, right, pairs, "pid")
    differ = np.flatnonzero(levels == "differ")
    if len(differ):  # one digit off: Hamming distance 1 (IDs of 9 and 12 digits differ by 3+)
        distance = process.cpdist(
            list(a[differ]), list(b[differ]), scorer=Hamming.distance, workers=1
        )
        levels[differ[distance == 1]] = "one_digit"
    return levels


# Pairs compared at a time: a compare holds a few dozen temporary arrays per pair, so chunks keep
# a district's million candidate pairs to a bounded working set.
CHUNK_PAIRS = 250_000


def compare(left: pd.DataFrame, right: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs with a level column per field (categorical: one byte a pair) and the total score."""
    if len(pairs) <= CHUNK_PAIRS:
        return _compare_chunk(left, right, pairs)
    chunks = [
        _compare_chunk(left, right, pairs.iloc[start : start + CHUNK_PAIRS])
        for start in range(0, len(pairs), CHUNK_PAIRS)
    ]
    return pd.concat(chunks, ignore_index=True)


def _compare_chunk(left: pd.DataFrame, right: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    out = pairs.copy()
    pairs = _Positions(left.index.get_indexer(pairs.left), right.index.get_indexer(pairs.right))
    out["name"] = _name_levels(left, right, pairs)
    out["birth"], out["birth_precise"] = _birth_levels(left, right, pairs)
    out["sex"] = _simple_levels(left, right, pairs, "sex")
    out["pid"] = _pid_levels(left, right, pairs)
    out["insurance"] = _simple_levels(left, right, pairs, "insurance")
    out["hamlet"] = _simple_levels(left, right, pairs, "hamlet_key")
    score = np.zeros(len(out))
    for field, levels in LEVELS.items():
        weights = {level: weight for level, (weight, _) in levels.items()}
        score += out[field].map(weights).to_numpy(dtype=float)
        out[field] = pd.Categorical(out[field], categories=list(levels))
    out["score"] = score.round(2)
    return out


def explain_pairs(scored: pd.DataFrame) -> list[str]:
    """Why the tool thinks each pair is one person, field by field, in Vietnamese: each field's
    level and its weight (fitted to the data where the pairs were rescored)."""
    columns = []
    for field, levels in LEVELS.items():
        level = scored[field].to_numpy()
        if f"w_{field}" in scored:
            weight = scored[f"w_{field}"].to_numpy(dtype=float)
        else:
            weight = scored[field].map({lv: w for lv, (w, _) in levels.items()}).to_numpy(float)
        columns.append(
            [
                f"{levels[lv][1]} ({w:+.1f})" if lv != "missing" else ""
                for lv, w in zip(level, weight, strict=True)
            ]
        )
    totals = scored["score"].to_numpy(dtype=float)
    return [
        "; ".join(part for part in parts if part) + f". Tổng điểm {total:g}"
        for *parts, total in zip(*columns, totals, strict=True)
    ]
