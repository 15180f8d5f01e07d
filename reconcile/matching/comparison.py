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
        "middle_differs": (5.0, "cùng họ và tên chính, tên đệm khác hoặc thiếu"),
        "phonetic": (4.0, "họ tên đọc giống nhau (lỗi phương ngữ)"),
        "close": (3.0, "họ tên gần giống"),
        "other": (-8.0, "họ tên khác"),
        "missing": (0.0, "thiếu họ tên"),
    },
    "birth": {
        "exact": (8.0, "ngày sinh trùng khớp"),
        "partial": (3.0, "năm sinh trùng (chỉ có năm)"),
        "placeholder": (3.0, "năm sinh trùng (ngày 01/01 ghi thay khi chỉ biết năm)"),
        "swapped": (3.0, "ngày sinh đảo ngày/tháng"),
        "day_typo": (3.0, "ngày sinh gõ nhầm ngày (cùng tháng, năm)"),
        "same_month": (1.0, "cùng tháng, năm sinh"),
        "year_typo": (3.0, "năm sinh gõ nhầm một chữ số (cùng ngày, tháng)"),
        "year_off_by_one": (-1.0, "năm sinh lệch 1 năm"),
        "same_day_month": (1.0, "cùng ngày, tháng sinh; năm sinh khác"),
        "other": (-5.0, "ngày sinh khác"),
        "far": (-10.0, "năm sinh cách nhau 3–10 năm"),
        # a generation apart: a father and son, a child named after a grandparent
        "very_far": (-15.0, "năm sinh cách nhau trên 10 năm"),
        "missing": (0.0, "thiếu ngày sinh"),
    },
    "sex": {
        "equal": (0.5, "giới tính trùng"),
        "differ": (-4.0, "giới tính khác"),
        # one side's sex is not the one its own name says (Thị, Văn, a given name nearly all
        # residents of one sex bear): likely a slip in that cell, weak evidence either way
        "differ_slip": (-0.5, "giới tính khác, nhưng tên cho thấy một bên ghi nhầm"),
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
# Levels at which the two records say the same thing: formatting, a dropped Văn/Thị, a list
# without diacritics, a date at a coarser precision. Every other level but "missing" is a real
# difference to report (findings read it from here, so they never disagree with the matcher).
AGREEING = {
    "name": ("exact", "dropped_middle", "no_diacritics"),
    "birth": ("exact", "partial", "placeholder"),
    "sex": ("equal",),
    "pid": ("equal",),
    "insurance": ("equal",),
    "hamlet": ("equal",),
}


def differs(field: str, levels: np.ndarray) -> np.ndarray:
    """Pairs whose `field` level is a real difference."""
    return ~np.isin(levels, (*AGREEING[field], "missing", ""))


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


# Each field's levels as small integers (positions in LEVELS[field]): a level column is built,
# weighed and made categorical without a string per pair.
CODES: dict[str, dict[str, int]] = {
    field: {level: code for code, level in enumerate(levels)} for field, levels in LEVELS.items()
}
_WEIGHTS: dict[str, np.ndarray] = {
    field: np.array([weight for weight, _ in levels.values()]) for field, levels in LEVELS.items()
}


def _select(field: str, conditions: list[np.ndarray], labels: list[str], default: str):
    """The first level whose condition holds, as the field's level code (int8)."""
    codes = CODES[field]
    return np.select(
        conditions, [np.int8(codes[label]) for label in labels], default=np.int8(codes[default])
    ).astype(np.int8)


def _eq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal and present (None == None is no agreement), over whole object arrays."""
    return pd.notna(a) & (a == b)


def _name_levels(left, right, pairs) -> np.ndarray:
    def both(column):
        return _take(left, pairs.left, column), _take(right, pairs.right, column)

    lc, rc = both("name_canonical")
    lf, rf = both("name_fold")
    ln, rn = both("name_nomid")
    lnf, rnf = both("name_nomid_fold")
    lp, rp = both("name_phon")
    lsp, rsp = both("name_nospace")
    lfam, rfam = both("family_canonical")
    lgiv, rgiv = both("given_canonical")
    # a dialect spelling and a dropped Văn/Thị together
    phonetic_equal = _eq(lp, rp) | _eq(*both("name_nomid_phon"))
    ldia, rdia = (x.astype(bool) for x in both("name_has_diacritics"))
    folded_equal = _eq(lf, rf) | _eq(lnf, rnf) | _eq(*both("name_nospace_fold"))
    iy_equal = _eq(*both("name_iy"))
    # family and given name the same, the middle changed or dropped ("Nguyễn Minh" for
    # "Nguyễn Duy Minh"): a real difference to report, not another person
    middle_differs = (lfam != "") & _eq(lfam, rfam) & _eq(lgiv, rgiv)
    conditions = [
        (lc == "") | (rc == ""),
        (lc == rc) | _eq(lsp, rsp),  # spacing alone ("Trần VănToán") is formatting
        ln == rn,
        folded_equal & (~ldia | ~rdia),
        iy_equal,
        folded_equal,
        middle_differs,
        phonetic_equal,
    ]
    # how alike the names are decides only the pairs no level above took
    close = np.zeros(len(pairs), dtype=bool)
    open_ = np.flatnonzero(~np.logical_or.reduce(conditions))
    if len(open_):
        similarity = process.cpdist(
            [s or "" for s in lf[open_]], [s or "" for s in rf[open_]], scorer=fuzz.ratio, workers=1
        )
        close[open_] = similarity >= CLOSE_NAME_SIMILARITY
    return _select(
        "name",
        [*conditions, close],
        [
            "missing",
            "exact",
            "dropped_middle",
            "no_diacritics",
            "iy_variant",
            "folded",
            "middle_differs",
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
    # 01/01/yyyy is typed when only the year is known (practice)
    placeholder = ((ld == 1) & (lm == 1)) | ((rd == 1) & (rm == 1))
    both_months = ~np.isnan(lm) & ~np.isnan(rm)
    same_year = ly == ry
    same_day_month = both_days & (lm == rm) & (ld == rd)
    levels = _select(
        "birth",
        [
            missing,
            same_day_month & same_year,
            ~both_days & same_year & (~both_months | (lm == rm)),
            both_days & same_year & placeholder,
            both_days & same_year & (lm == rd) & (ld == rm),
            _where(both_days & same_year & (lm == rm), _one_keystroke, ld, rd),
            same_year & (lm == rm),
            _where(same_day_month, _one_keystroke, ly, ry),
            np.abs(ly - ry) == 1,
            same_day_month,
            np.abs(ly - ry) > 10,
            np.abs(ly - ry) > 2,
        ],
        [
            "missing",
            "exact",
            "partial",
            "placeholder",
            "swapped",
            "day_typo",
            "same_month",
            "year_typo",
            "year_off_by_one",
            "same_day_month",
            "very_far",
            "far",
        ],
        "other",
    )
    return levels, both_days


def _simple_levels(left, right, pairs, column: str, field: str) -> np.ndarray:
    a, b = _take(left, pairs.left, column), _take(right, pairs.right, column)
    present = pd.notna(a) & pd.notna(b)
    return _select(field, [~present, a == b], ["missing", "equal"], "differ")


def _pid_levels(left, right, pairs) -> np.ndarray:
    a, b = _take(left, pairs.left, "pid"), _take(right, pairs.right, "pid")
    levels = _simple_levels(left, right, pairs, "pid", "pid")
    differ = np.flatnonzero(levels == CODES["pid"]["differ"])
    if len(differ):  # one digit off: Hamming distance 1 (IDs of 9 and 12 digits differ by 3+)
        distance = process.cpdist(
            list(a[differ]), list(b[differ]), scorer=Hamming.distance, workers=1
        )
        levels[differ[distance == 1]] = CODES["pid"]["one_digit"]
    return levels


# Pairs compared at a time: a compare holds a few dozen temporary arrays per pair, so chunks keep
# a district's million candidate pairs to a bounded working set.
CHUNK_PAIRS = 250_000


# A given name is a sex's when at least this share of the residents who bear it (and this many)
# are of that sex.
SEX_OF_NAME_SHARE, SEX_OF_NAME_COUNT = 0.95, 5


def sex_slips(people: pd.DataFrame, reference: pd.DataFrame) -> np.ndarray:
    """Rows whose sex is not the one their own name says: Thị is a woman's middle name, Văn a
    man's (domain.md §1), and a given name that nearly every resident bearing it in `reference`
    (the register) has of one sex."""
    sex = people["sex"].to_numpy(dtype=object)
    middle = people["middle_sex"].to_numpy(dtype=object)
    says_f, says_m = middle == "F", middle == "M"
    known = reference.loc[reference["sex"].isin(["M", "F"]), ["given_canonical", "sex"]]
    stats = (
        known.assign(female=known["sex"].eq("F"))
        .groupby("given_canonical")["female"]
        .agg(["size", "mean"])
        .reindex(people["given_canonical"])
    )
    share_f = stats["mean"].to_numpy(dtype=float)
    enough = stats["size"].fillna(0).to_numpy() >= SEX_OF_NAME_COUNT
    says_f |= enough & (share_f >= SEX_OF_NAME_SHARE)
    says_m |= enough & (share_f <= 1 - SEX_OF_NAME_SHARE)
    return ((sex == "M") & says_f & ~says_m) | ((sex == "F") & says_m & ~says_f)


SEX_SLIP = "sex_slip"
# Every column compare() reads of a table carrying SEX_SLIP: a partition sent to another process
# carries these alone (less than half a normalised table's columns, and half the pickling).
COMPARED_COLUMNS = (
    "name_canonical",
    "name_fold",
    "name_nomid",
    "name_nomid_fold",
    "name_phon",
    "name_nomid_phon",
    "name_iy",
    "name_has_diacritics",
    "family_canonical",
    "given_canonical",
    "name_nospace",
    "name_nospace_fold",
    "birth_year",
    "birth_month",
    "birth_day",
    "sex",
    "pid",
    "insurance",
    "hamlet_key",
    SEX_SLIP,
)


def compare(left: pd.DataFrame, right: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs with a level column per field (categorical: one byte a pair) and the total score."""
    # a slip is judged against the whole register; a partition of it carries the judgement made
    # on the whole (SEX_SLIP, set by the executor), so a subset compares as the whole would
    slips = tuple(
        frame[SEX_SLIP].to_numpy(dtype=bool) if SEX_SLIP in frame else sex_slips(frame, right)
        for frame in (left, right)
    )
    if len(pairs) <= CHUNK_PAIRS:
        return _compare_chunk(left, right, pairs, slips)
    chunks = [
        _compare_chunk(left, right, pairs.iloc[start : start + CHUNK_PAIRS], slips)
        for start in range(0, len(pairs), CHUNK_PAIRS)
    ]
    return pd.concat(chunks, ignore_index=True)


def _compare_chunk(
    left: pd.DataFrame, right: pd.DataFrame, pairs: pd.DataFrame, slips: tuple
) -> pd.DataFrame:
    out = pairs.copy()
    pairs = _Positions(left.index.get_indexer(pairs.left), right.index.get_indexer(pairs.right))
    levels = {"name": _name_levels(left, right, pairs)}
    levels["birth"], precise = _birth_levels(left, right, pairs)
    sex = _simple_levels(left, right, pairs, "sex", "sex")
    slip = slips[0][pairs.left] | slips[1][pairs.right]
    differ = sex == CODES["sex"]["differ"]
    levels["sex"] = np.where(differ & slip, np.int8(CODES["sex"]["differ_slip"]), sex)
    levels["pid"] = _pid_levels(left, right, pairs)
    levels["insurance"] = _simple_levels(left, right, pairs, "insurance", "insurance")
    levels["hamlet"] = _simple_levels(left, right, pairs, "hamlet_key", "hamlet")
    score = np.zeros(len(out))
    for field, categories in LEVELS.items():
        score += _WEIGHTS[field][levels[field]]
        out[field] = pd.Categorical.from_codes(levels[field], categories=list(categories))
        if field == "birth":
            out["birth_precise"] = precise
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
