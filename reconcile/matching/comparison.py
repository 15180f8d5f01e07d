"""Graded comparison of candidate pairs, field by field, in bulk (no per-pair Python loop).

Each field lands on one level; each level has a weight (log2 of how much likelier that level is
for the same person than for two different people). The weights here are hand-set priors in the
spirit of Fellegi–Sunter; every level also has a Vietnamese label for the review workbook.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Hamming

from reconcile.matching import fellegi_sunter as fs

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
        "same_month": (1.0, "cùng tháng, năm sinh"),
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


def _take(frame: pd.DataFrame, index: pd.Series, column: str) -> np.ndarray:
    return frame[column].to_numpy()[frame.index.get_indexer(index)]


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
            lp == rp,
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


def _birth_levels(left, right, pairs) -> np.ndarray:
    def parts(frame, index):
        return [
            frame[c].astype("float64").to_numpy()[frame.index.get_indexer(index)]
            for c in ("birth_year", "birth_month", "birth_day")
        ]

    ly, lm, ld = parts(left, pairs.left)
    ry, rm, rd = parts(right, pairs.right)
    missing = np.isnan(ly) | np.isnan(ry)
    both_days = ~np.isnan(ld) & ~np.isnan(rd)
    both_months = ~np.isnan(lm) & ~np.isnan(rm)
    same_year = ly == ry
    return _select(
        [
            missing,
            both_days & same_year & (lm == rm) & (ld == rd),
            ~both_days & same_year & (~both_months | (lm == rm)),
            both_days & same_year & (lm == rd) & (ld == rm),
            same_year & (lm == rm),
            np.abs(ly - ry) == 1,
            np.abs(ly - ry) > 2,
        ],
        ["missing", "exact", "partial", "swapped", "same_month", "year_off_by_one", "far"],
        "other",
    )


def _simple_levels(left, right, pairs, column: str) -> np.ndarray:
    a, b = _take(left, pairs.left, column), _take(right, pairs.right, column)
    present = pd.notna(a) & pd.notna(b)
    return _select([~present, a == b], ["missing", "equal"], "differ")


def _pid_levels(left, right, pairs) -> np.ndarray:
    a, b = _take(left, pairs.left, "pid"), _take(right, pairs.right, "pid")
    levels = _simple_levels(left, right, pairs, "pid")
    differ = np.flatnonzero(levels == "differ")
    if len(differ):  # one digit off: same length, Hamming distance 1
        same_length = np.array(
            [len(x) == len(y) for x, y in zip(a[differ], b[differ], strict=True)]
        )
        distance = process.cpdist(
            list(a[differ]), list(b[differ]), scorer=Hamming.distance, workers=1
        )
        levels[differ[same_length & (distance == 1)]] = "one_digit"
    return levels


def compare(left: pd.DataFrame, right: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs with a level column per field and the total score."""
    out = pairs.copy()
    out["name"] = _name_levels(left, right, pairs)
    out["birth"] = _birth_levels(left, right, pairs)
    out["sex"] = _simple_levels(left, right, pairs, "sex")
    out["pid"] = _pid_levels(left, right, pairs)
    out["insurance"] = _simple_levels(left, right, pairs, "insurance")
    out["hamlet"] = _simple_levels(left, right, pairs, "hamlet_key")
    score = np.zeros(len(out))
    for field, levels in LEVELS.items():
        weights = {level: weight for level, (weight, _) in levels.items()}
        score += out[field].map(weights).to_numpy(dtype=float)
    out["score"] = score.round(2)
    return out


def explain(pair: pd.Series) -> str:
    """Why the tool thinks two rows are the same person, field by field, in Vietnamese: each
    field's level and its weight (fitted to the data where the pair was rescored)."""
    parts = []
    for field, levels in LEVELS.items():
        prior_weight, label = levels[pair[field]]
        weight = pair.get(f"w_{field}", prior_weight)
        if pair[field] != "missing":
            parts.append(f"{label} ({weight:+.1f})")
    return "; ".join(parts) + f". Tổng điểm {pair['score']:g}"


# ---- weights from the data (Fellegi–Sunter with EM), replacing the priors above ----

# How many candidate pairs' worth of evidence the hand-set weights above count for: a commune's
# few hundred pairs barely move them, a district's hundreds of thousands decide for themselves.
PRIOR_STRENGTH = 2000.0
LEVEL_ORDER = {
    f: ["missing", *(lv for lv in levels if lv != "missing")] for f, levels in LEVELS.items()
}
_EXACT_COLUMNS = {
    "name": "name_canonical",
    "pid": "pid",
    "insurance": "insurance",
    "hamlet": "hamlet_key",
    "sex": "sex",
}


def gamma_of(scored: pd.DataFrame) -> np.ndarray:
    """Level names → integer codes (0 = missing), one column per field."""
    columns = []
    for field, order in LEVEL_ORDER.items():
        codes = {level: i for i, level in enumerate(order)}
        columns.append(scored[field].map(codes).to_numpy(dtype=np.int8))
    return np.column_stack(columns)


def _exact_chance(left: pd.Series, right: pd.Series) -> float:
    """Chance that a random filled left value equals a random filled right value."""
    a = left.dropna().value_counts(normalize=True)
    b = right.dropna().value_counts(normalize=True)
    return float((a * b.reindex(a.index).fillna(0)).sum())


def fit_weights(
    lists: list[pd.DataFrame],
    register: pd.DataFrame,
    candidates: pd.DataFrame,
    random_pairs: int = 200_000,
    seed: int = 0,
) -> fs.Model:
    """m by EM over the candidate pairs of all lists together (a 16-row death list alone says
    too little), u from random list/register pairs, exact agreement from value frequencies."""
    people = pd.concat(lists, ignore_index=True)
    rng = np.random.default_rng(seed)
    count = min(random_pairs, len(people) * len(register))
    sample = pd.DataFrame(
        {
            "left": rng.integers(0, len(people), count),
            "right": register.index.to_numpy()[rng.integers(0, len(register), count)],
        }
    )
    random_gamma = gamma_of(compare(people, register, sample))
    exact_u = {}
    for f, field in enumerate(LEVEL_ORDER):
        if field in _EXACT_COLUMNS:
            column = _EXACT_COLUMNS[field]
            exact_u[f] = _exact_chance(people[column], register[column])
    prior_weights = [
        np.array([LEVELS[field][lv][0] for lv in order]) for field, order in LEVEL_ORDER.items()
    ]
    return fs.estimate(
        list(LEVEL_ORDER),
        list(LEVEL_ORDER.values()),
        gamma_of(candidates),
        random_gamma,
        exact_u=exact_u,
        max_prior=min(0.99, len(people) / max(1, len(candidates))),
        prior_weights=prior_weights,
        prior_strength=PRIOR_STRENGTH,
    )


def rescore(scored: pd.DataFrame, model: fs.Model, register: pd.DataFrame) -> pd.DataFrame:
    """Score pairs with the fitted weights, plus the term-frequency bonus on exact names: agreeing
    on a rare name says more than agreeing on "Nguyễn Văn Nam"."""
    gamma = gamma_of(scored)
    names = register["name_canonical"]
    frequency = names.map(names.value_counts(normalize=True)).to_numpy(dtype=float)
    position = register.index.get_indexer(scored["right"])
    name_field = list(LEVEL_ORDER).index("name")
    u_exact = max(model.u[name_field][1], 1e-9)
    exact = gamma[:, name_field] == 1
    bonus = np.where(exact, np.log2(u_exact / np.maximum(frequency[position], 1e-9)), 0.0)
    out = scored.copy()
    for f, (field, w) in enumerate(zip(LEVEL_ORDER, model.weights(), strict=True)):
        out[f"w_{field}"] = w[gamma[:, f]] + (bonus if field == "name" else 0.0)
    # EM's prior is the share of matches among candidates, which blocking chose for agreeing:
    # scoring from it counts that agreement twice. A pair's posterior starts instead from a
    # random pair's prior: each list row is at most one of the register's residents.
    random_prior = 1.0 / max(2, len(register))
    shift = np.log2(random_prior / (1 - random_prior)) - np.log2(model.prior / (1 - model.prior))
    out["score"] = (model.scores(gamma, bonus) + shift).round(2)
    return out
