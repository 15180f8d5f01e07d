"""The commune's match model (COMMUNE_MODEL: Vietnamese names, partial dates, IDs, hamlets) and
its comparison: levels from matching.comparison, u from random pairs and value frequencies, m by
EM in Splink-style training sessions, both shrunk towards priors, names weighted by how common
they are. The engine (matching.engine) runs it; the Fellegi–Sunter core trains it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reconcile.frames import joined
from reconcile.matching import blocking
from reconcile.matching import fellegi_sunter as fs
from reconcile.matching.comparison import (
    COMPARED_COLUMNS,
    LEVELS,
    SEX_SLIP,
    compare,
    sex_slips,
)
from reconcile.matching.engine import COMPARISONS
from reconcile.matching.model import BlockingModel, FieldModel, MatchModel, SessionModel
from schemas.tables import check_pairs

LEVEL_ORDER = {
    f: ["missing", *(lv for lv in levels if lv != "missing")] for f, levels in LEVELS.items()
}
# The estimator sees the birth date as two fields: rows that give a full date on both sides and
# rows that do not (year only). Whether a list gives only a year says nothing about who the row
# is, so each kind's weights are learnt among its own rows: an ID-bearing list typed with full
# dates then cannot teach the model that a year-only row rarely matches.
ESTIMATOR_FIELDS = ["name", "birth_precise", "birth_coarse", "sex", "pid", "insurance", "hamlet"]
_BIRTH = list(LEVEL_ORDER).index("birth")
_EXACT_COLUMNS = {
    "name": "name_canonical",
    "pid": "pid",
    "insurance": "insurance",
    "hamlet": "hamlet_key",
    "sex": "sex",
}


def _base(field: str) -> str:
    """The comparison field an estimator field comes from (birth_precise → birth)."""
    return "birth" if field.startswith("birth") else field


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
        "middle_differs": 0.02,
        "phonetic": 0.03,
        "close": 0.02,
        "other": 0.005,
    },
    "birth_precise": {
        "exact": 0.90,
        "placeholder": 0.01,
        "swapped": 0.02,
        "day_typo": 0.02,
        "same_month": 0.02,
        "year_typo": 0.01,
        "year_off_by_one": 0.01,
        "same_day_month": 0.01,
        "other": 0.01,
        "far": 0.003,
        "very_far": 0.0005,
    },
    "birth_coarse": {
        "partial": 0.96,
        "year_off_by_one": 0.03,
        "other": 0.005,
        "far": 0.004,
        "very_far": 0.001,
    },
    "sex": {"equal": 0.97, "differ": 0.01, "differ_slip": 0.02},
    "pid": {"equal": 0.95, "one_digit": 0.02, "differ": 0.03},
    "insurance": {"equal": 0.95, "differ": 0.05},
    "hamlet": {"equal": 0.95, "differ": 0.05},
}
U_PRIOR_PAIRS = 200.0  # random pairs' worth of belief in the implied u
# How many candidate pairs' worth of evidence the priors (TYPICAL_M) count for: a commune's few
# hundred pairs barely move them, a district's hundreds of thousands decide for themselves.
PRIOR_STRENGTH = 2000.0


def _field(name: str) -> FieldModel:
    base = _base(name)
    levels = tuple(LEVEL_ORDER[base])
    return FieldModel(
        name,
        levels,
        prior_m=tuple(TYPICAL_M[name].get(level, 0.0) for level in levels),
        prior_weights=tuple(LEVELS[base][level][0] for level in levels),
        exact_column=_EXACT_COLUMNS.get(name),
    )


COMMUNE_MODEL = MatchModel(
    name="commune",
    comparison="commune",
    fields=tuple(_field(name) for name in ESTIMATOR_FIELDS),
    blocking=BlockingModel(
        rules=blocking.BLOCKING_RULES,
        easy_rules=blocking.EASY_RULES,
        loose_rules=blocking.LOOSE_RULES,
        max_loose_block=blocking.MAX_LOOSE_BLOCK,
        fuzzy=True,
        commune_rules=blocking.COMMUNE_RULES,
    ),
    # pairs with the same ID teach names, dates, sex and hamlets; pairs with the same name and
    # full date teach IDs and the rest
    sessions=(SessionModel(("pid",)), SessionModel(("name", "birth_precise"))),
    prior_strength=PRIOR_STRENGTH,
    u_prior_pairs=U_PRIOR_PAIRS,
    random_pairs=200_000,
    pair_prior="one_resident",  # weights.in_register_share learns each list's share
)


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


# Name levels whose weight is adjusted by how common the agreed value is (Splink's term
# frequency adjustment), and the register columns that hold that value: the whole name, the
# name without Văn/Thị, and family + given name when only the middle name differs.
TF_LEVELS = {
    "exact": ("name_canonical",),
    "dropped_middle": ("name_nomid",),
    "middle_differs": ("family_canonical", "given_canonical"),
}


def name_frequency_bonus(
    name_level: np.ndarray, u_name: np.ndarray, register: pd.DataFrame, right: pd.Series
) -> np.ndarray:
    """log2(how often two residents share the agreed value on average / how often they share
    this one) for the TF_LEVELS: agreeing on a rare name says more than agreeing on "Nguyễn Văn
    Nam", a rare family and given name more than "Nguyễn … Anh". Averages zero over residents,
    so the level's fitted weight keeps its meaning. (`u_name` is kept for the exact level, whose
    u the model computed from the same frequencies.)"""
    bonus = np.zeros(len(name_level))
    position = register.index.get_indexer(right)
    order = LEVEL_ORDER["name"]
    for level, columns in TF_LEVELS.items():
        rows = name_level == order.index(level)
        if not rows.any() or not all(c in register for c in columns):
            continue
        values = joined(register, columns)
        shares = values.value_counts(normalize=True)
        share = values.map(shares).to_numpy(dtype=float)
        average = (
            float(u_name[order.index(level)]) if level == "exact" else float((shares**2).sum())
        )
        bonus[rows] = np.log2(max(average, 1e-9) / np.maximum(share[position[rows]], 1e-9))
    return bonus


def rescore(
    scored: pd.DataFrame, model: fs.Model, register: pd.DataFrame, rows: int
) -> pd.DataFrame:
    """Score pairs with the fitted weights, plus the names' term-frequency bonus
    (name_frequency_bonus).

    A pair's score is the log2 odds that the list row is this resident rather than someone
    outside the register: each of the `rows` list rows is one of the N residents (prior 1/N
    each) with the list's in-register share, or nobody's."""
    gamma = estimator_gamma(gamma_of(scored), scored["birth_precise"].to_numpy())
    bonus = name_frequency_bonus(gamma[:, 0], model.u[0], register, scored["right"])
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


def _with_column(frame: pd.DataFrame, slips: np.ndarray) -> pd.DataFrame:
    """frame with SEX_SLIP, sharing frame's columns (assign copied a 300k register each list)."""
    out = frame.copy(deep=False)
    out[SEX_SLIP] = slips
    return out


def _compared_part(frame: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    # rows first, columns after, and no column step for a table narrowed already: pandas'
    # loc[rows, columns] took three times as long
    part = frame.loc[pd.unique(labels)]
    columns = [c for c in COMPARED_COLUMNS if c in frame]
    return part if len(columns) == len(part.columns) else part[columns]


class CommuneComparison:
    """COMMUNE_MODEL's linkage logic over normalised people tables (normalize.people)."""

    def prepare(self, model: MatchModel, left: pd.DataFrame, right: pd.DataFrame):
        return left, right

    def candidates(self, model: MatchModel, tables) -> pd.DataFrame:
        return self.candidates_and_reach(model, tables)[0]

    def candidates_and_reach(self, model: MatchModel, tables) -> tuple[pd.DataFrame, Any]:
        """(candidates, each left row's blocking.REACH_*, by label)."""
        left, right = tables
        rules = model.blocking
        pairs, reach = blocking.candidate_pairs(
            left,
            right,
            rules=rules.rules,
            loose_rules=rules.loose_rules,
            fuzzy=rules.fuzzy,
            easy_rules=rules.easy_rules,
            max_loose_block=rules.max_loose_block,
            commune_rules=rules.commune_rules,
            reach=True,
        )
        return pairs, pd.Series(reach, index=left.index)

    def rows_in_blocks_of(
        self,
        model: MatchModel,
        left: pd.DataFrame,
        residents: pd.DataFrame,
        reach: np.ndarray,
        register: pd.DataFrame,
        steady: np.ndarray | None,
    ) -> np.ndarray:
        """A mask of the `left` rows whose candidates the coming or going of `residents` can
        change, by each row's `reach` last night (blocking.REACH_*, -1 for a new row): those
        sharing some rule's key with one of them (a loose rule's only for the rows the loose
        keys looked for, and only where the `register`'s `steady` rows do not fill its block
        already), and the rows no key found for which the fuzzy fallback finds one of them."""
        rules = model.blocking
        # a commune-scoped loose rule caps blocks within a commune: its plain blocks say less
        capped = tuple(r for r in rules.loose_rules if r not in rules.commune_rules)
        return blocking.rows_sharing_a_key(
            left,
            residents,
            rules=tuple(dict.fromkeys(rules.rules + rules.easy_rules)),
            loose=rules.loose_rules,
            loose_rows=reach != blocking.REACH_EASY,
            capped=capped,
            register=register,
            steady=steady,
            max_block=rules.max_loose_block,
            fuzzy_rows=reach == blocking.REACH_FUZZY if rules.fuzzy else None,
        )

    def compare(self, model: MatchModel, tables, pairs: pd.DataFrame) -> pd.DataFrame:
        return compare(*tables, pairs)

    def with_context(self, model: MatchModel, tables):
        """The tables with what a pair's comparison needs of the whole register (whether a
        row's sex contradicts its name, judged on all residents), so a partition of rows
        compares exactly as the whole tables would."""
        left, right = tables
        if SEX_SLIP in left and SEX_SLIP in right:  # given already (run_remembering's)
            return tables
        left_slips, right_slips = sex_slips(left, right), sex_slips(right, right)
        return _with_column(left, left_slips), _with_column(right, right_slips)

    def subset(self, model: MatchModel, tables, pairs: pd.DataFrame):
        """Only the rows `pairs` name, and only the columns their comparison reads: a worker's
        memory follows its partition, not the register's size."""
        left, right = tables
        return (
            _compared_part(left, pairs["left"].to_numpy()),
            _compared_part(right, pairs["right"].to_numpy()),
        )

    def patterns(self, model: MatchModel, compared: pd.DataFrame) -> np.ndarray:
        return estimator_gamma(gamma_of(compared), compared["birth_precise"].to_numpy(bool))

    def exact_chance(self, model: MatchModel, tables) -> dict[int, float]:
        if not tables:
            return {}
        people = pd.concat([left for left, _ in tables], ignore_index=True)
        register = tables[0][1]
        return {
            f: _exact_chance(people[field.exact_column], register[field.exact_column])
            for f, field in enumerate(model.fields)
            if field.exact_column
        }

    def score(self, model: MatchModel, params: fs.Model, tables, compared, rows: int):
        return check_pairs(rescore(compared, params, tables[1], rows))


COMPARISONS["commune"] = CommuneComparison()
