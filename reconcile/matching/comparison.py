"""Graded comparison of candidate pairs, field by field, in bulk (no per-pair Python loop).

Each field lands on one level; each level has a weight (log2 of how much likelier that level is
for the same person than for two different people). The weights here are hand-set priors in the
spirit of Fellegi–Sunter; every level also has a Vietnamese label for the review workbook.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def compare(left: pd.DataFrame, right: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs with a level column per field and the total score."""
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


def explain(pair: pd.Series) -> str:
    """explain_pairs for one pair."""
    return explain_pairs(pair.to_frame().T)[0]


# ---- weights from the data (Fellegi–Sunter), replacing the priors above ----

# How many candidate pairs' worth of evidence the hand-set weights above count for: a commune's
# few hundred pairs barely move them, a district's hundreds of thousands decide for themselves.
PRIOR_STRENGTH = 2000.0
LEVEL_ORDER = {
    f: ["missing", *(lv for lv in levels if lv != "missing")] for f, levels in LEVELS.items()
}
# The estimator sees the birth date as two fields: rows that give a full date on both sides and
# rows that do not (year only). Whether a list gives only a year says nothing about who the row
# is, so each kind's weights are learnt among its own rows: an ID-bearing list typed with full
# dates then cannot teach the model that a year-only row rarely matches.
ESTIMATOR_FIELDS = ["name", "birth_precise", "birth_coarse", "sex", "pid", "insurance", "hamlet"]
_BIRTH = list(LEVEL_ORDER).index("birth")
# Training sessions (the estimator's fields each selects on): pairs with the same ID teach
# names, dates, sex and hamlets; pairs with the same name and full date teach IDs and the rest.
SESSIONS = [(ESTIMATOR_FIELDS.index("pid"),), (0, ESTIMATOR_FIELDS.index("birth_precise"))]
_EXACT_COLUMNS = {
    "name": "name_canonical",
    "pid": "pid",
    "insurance": "insurance",
    "hamlet": "hamlet_key",
    "sex": "sex",
}


def gamma_of(scored: pd.DataFrame) -> np.ndarray:
    """Level names → integer codes (0 = missing), one column per field of LEVEL_ORDER."""
    columns = []
    for field, order in LEVEL_ORDER.items():
        codes = {level: i for i, level in enumerate(order)}
        columns.append(scored[field].map(codes).to_numpy(dtype=np.int8))
    return np.column_stack(columns)


def estimator_gamma(gamma: np.ndarray, precise: np.ndarray) -> np.ndarray:
    """gamma with the birth column split into ESTIMATOR_FIELDS' precise and coarse columns."""
    birth = gamma[:, _BIRTH]
    return np.column_stack(
        [
            gamma[:, :_BIRTH],
            np.where(precise, birth, 0),
            np.where(precise, 0, birth),
            gamma[:, _BIRTH + 1 :],
        ]
    ).astype(np.int8)


def _exact_chance(left: pd.Series, right: pd.Series) -> float:
    """Chance that a random filled left value equals a random filled right value."""
    a = left.dropna().value_counts(normalize=True)
    b = right.dropna().value_counts(normalize=True)
    return float((a * b.reindex(a.index).fillna(0)).sum())


# How often the same person lands on each level, where both rows give the field: what hand-typed
# commune lists usually look like. With LEVELS' weights these imply each level's u too; both
# are the estimator's priors, which a commune's few pairs lean on and a district's outweigh.
TYPICAL_M: dict[str, dict[str, float]] = {
    "name": {
        "exact": 0.80,
        "dropped_middle": 0.06,
        "no_diacritics": 0.05,
        "iy_variant": 0.005,
        "folded": 0.03,
        "phonetic": 0.03,
        "close": 0.02,
        "other": 0.005,
    },
    "birth_precise": {
        "exact": 0.90,
        "swapped": 0.02,
        "day_typo": 0.02,
        "same_month": 0.02,
        "year_typo": 0.01,
        "year_off_by_one": 0.01,
        "other": 0.015,
        "far": 0.005,
    },
    "birth_coarse": {"partial": 0.96, "year_off_by_one": 0.03, "other": 0.005, "far": 0.005},
    "sex": {"equal": 0.98, "differ": 0.02},
    "pid": {"equal": 0.95, "one_digit": 0.02, "differ": 0.03},
    "insurance": {"equal": 0.95, "differ": 0.05},
    "hamlet": {"equal": 0.95, "differ": 0.05},
}
U_PRIOR_PAIRS = 200.0  # random pairs' worth of belief in the implied u


def _priors(field: str) -> tuple[np.ndarray, np.ndarray]:
    """(m, u) priors of an estimator field over its levels (index 0 missing): u = m / 2^weight,
    the least alike level taking what is left so that u sums to one."""
    base = "birth" if field.startswith("birth") else field
    levels = LEVEL_ORDER[base]
    m = np.array([TYPICAL_M[field].get(level, 0.0) for level in levels])
    weight = np.array([LEVELS[base][level][0] for level in levels])
    u = m / np.exp2(weight)
    present = m > 0
    lowest = int(np.flatnonzero(present)[np.argmin(weight[present])])
    u[lowest] = 0.0
    u[lowest] = max(1.0 - u.sum(), 0.5)
    return m / m.sum(), u / u.sum()


def _random_pairs(rows: int, residents: int, count: int, seed: int) -> tuple[np.ndarray, ...]:
    """Every pair when there are few, else `count` drawn at random."""
    if rows * residents <= count:
        return np.repeat(np.arange(rows), residents), np.tile(np.arange(residents), rows)
    rng = np.random.default_rng(seed)
    return rng.integers(0, rows, count), rng.integers(0, residents, count)


def fit_weights(
    lists: list[pd.DataFrame],
    register: pd.DataFrame,
    candidates: pd.DataFrame,
    random_pairs: int = 200_000,
    seed: int = 0,
) -> fs.Model:
    """u from random list/register pairs (exact agreement from value frequencies), m by EM in
    Splink-style training sessions over the candidate pairs of all lists together (a 16-row
    death list alone says too little); both shrunk towards the priors (TYPICAL_M, LEVELS)."""
    people = pd.concat(lists, ignore_index=True)
    left, right = _random_pairs(len(people), len(register), random_pairs, seed)
    sample = pd.DataFrame({"left": left, "right": register.index.to_numpy()[right]})
    random_scored = compare(people, register, sample)
    random_gamma = estimator_gamma(
        gamma_of(random_scored), random_scored["birth_precise"].to_numpy()
    )
    priors = [_priors(field) for field in ESTIMATOR_FIELDS]
    u = []
    for f, field in enumerate(ESTIMATOR_FIELDS):
        size = len(priors[f][1])
        counts = np.bincount(random_gamma[:, f], minlength=size).astype(float)
        counts[0] = 0.0
        seen = counts.sum()
        if field in _EXACT_COLUMNS:
            # the chance two different people agree exactly, known from value frequencies (rare
            # values are agreed on too seldom for a sample to see); the sample shares the rest
            column = _EXACT_COLUMNS[field]
            chance = _exact_chance(people[column], register[column])
            rest = counts.copy()
            rest[1] = 0.0
            counts = rest / rest.sum() * (1 - chance) * seen if rest.sum() else rest
            counts[1] = chance * seen
        u_field = counts + U_PRIOR_PAIRS * priors[f][1]
        u.append(u_field / u_field.sum())
    gamma = estimator_gamma(gamma_of(candidates), candidates["birth_precise"].to_numpy())
    m_prior = [m for m, _ in priors]
    m = fs.estimate_m_by_sessions(gamma, u, m_prior, SESSIONS, PRIOR_STRENGTH)
    levels = [LEVEL_ORDER["birth" if f.startswith("birth") else f] for f in ESTIMATOR_FIELDS]
    return fs.Model(ESTIMATOR_FIELDS, levels, m, u, prior=1.0 / max(2, len(register)))


# How many list rows' worth of belief that 90% of a list's rows are residents.
IN_REGISTER_PRIOR, IN_REGISTER_STRENGTH = 0.9, 20.0


def in_register_share(base: np.ndarray, left: np.ndarray, rows: int) -> float:
    """The share of a list's rows that are residents at all, learnt from the list's own pairs:
    each row counts with its chance of being one of its candidates rather than nobody's."""
    share = IN_REGISTER_PRIOR
    for _ in range(30):
        odds = np.exp2(np.clip(base + np.log2(share / (1 - share)), -60, 60))
        per_row = np.bincount(left, weights=odds)
        found = (per_row / (1 + per_row)).sum()
        new = (found + IN_REGISTER_STRENGTH * IN_REGISTER_PRIOR) / (rows + IN_REGISTER_STRENGTH)
        new = float(np.clip(new, 0.5, 0.99))
        if abs(new - share) < 1e-4:
            return new
        share = new
    return share


def rescore(
    scored: pd.DataFrame, model: fs.Model, register: pd.DataFrame, rows: int
) -> pd.DataFrame:
    """Score pairs with the fitted weights, plus the term-frequency bonus on exact names: agreeing
    on a rare name says more than agreeing on "Nguyễn Văn Nam".

    A pair's score is the log2 odds that the list row is this resident rather than someone
    outside the register: each of the `rows` list rows is one of the N residents (prior 1/N
    each) with the list's in-register share, or nobody's."""
    gamma = estimator_gamma(gamma_of(scored), scored["birth_precise"].to_numpy())
    names = register["name_canonical"]
    frequency = names.map(names.value_counts(normalize=True)).to_numpy(dtype=float)
    position = register.index.get_indexer(scored["right"])
    u_exact = max(model.u[0][1], 1e-9)
    exact = gamma[:, 0] == 1
    bonus = np.where(exact, np.log2(u_exact / np.maximum(frequency[position], 1e-9)), 0.0)
    out = scored.copy()
    weights = dict(zip(ESTIMATOR_FIELDS, model.weights(), strict=True))
    columns = dict(zip(ESTIMATOR_FIELDS, gamma.T, strict=True))
    for field in LEVEL_ORDER:
        if field == "birth":
            out["w_birth"] = (
                weights["birth_precise"][columns["birth_precise"]]
                + weights["birth_coarse"][columns["birth_coarse"]]
            )
        else:
            out[f"w_{field}"] = weights[field][columns[field]] + (bonus if field == "name" else 0.0)
    base = model.scores(gamma, bonus)
    left = pd.factorize(scored["left"])[0] if len(scored) else np.zeros(0, dtype=np.int64)
    share = in_register_share(base, left, rows)
    out["score"] = (base + np.log2(share / (1 - share))).round(2)
    return out
