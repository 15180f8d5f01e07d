"""Link any two person tables, given which column holds what.

    result = link_tables(left, right, {"given_name": "name", "surname": "name",
                                       "date_of_birth": "date", "soc_sec_id": "id",
                                       "postcode": "id", "suburb": "text", "state": "category"})
    result.links     # left, right, score, probability, one row per linked pair (one-to-one)
    result.explain(i)  # field by field: level and weight

Each field kind has graded comparison levels; weights come from the data (fellegi_sunter);
candidates from several blocking rules derived from the kinds, so no single error hides a pair.
The Vietnamese commune pipeline uses its own, richer levels over the same engine's ideas
(matching.comparison); this is the general entry point.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from reconcile.matching import fellegi_sunter as fs
from reconcile.normalize.names import clean_text, fold

KINDS: dict[str, list[str]] = {
    "name": [
        "missing",
        "exact",
        "other_name_field",
        "jaro_winkler_0.92",
        "jaro_winkler_0.80",
        "other",
    ],
    "date": ["missing", "exact", "one_edit", "day_month_swapped", "same_year", "other"],
    "id": ["missing", "exact", "one_edit", "two_edits", "other"],
    "text": ["missing", "exact", "jaro_winkler_0.90", "other"],
    "category": ["missing", "exact", "other"],
}


@dataclass
class Coded:
    """A field in both tables as integer codes into one vocabulary (-1: missing), so equality
    is an integer comparison and fuzzy scores are computed once per distinct pair of values."""

    left: np.ndarray
    right: np.ndarray
    vocabulary: np.ndarray


def _code(left_values: pd.Series, right_values: pd.Series, kind: str) -> Coded:
    def clean(values: pd.Series) -> np.ndarray:
        uniques = pd.unique(values.astype(object))
        prepared = {}
        for value in uniques:
            if value is None or (isinstance(value, float) and value != value):
                prepared[value] = None
                continue
            if isinstance(value, float) and value.is_integer():
                value_text = str(int(value))
            else:
                value_text = value
            text = clean_text(value_text)
            if kind in ("name", "text", "category"):
                text = fold(text).lower()
            prepared[value] = text or None
        return np.array([prepared[v] for v in values.astype(object)], dtype=object)

    a, b = clean(left_values), clean(right_values)
    codes, vocabulary = pd.factorize(np.concatenate([a, b]), use_na_sentinel=True)
    return Coded(codes[: len(a)], codes[len(a) :], np.asarray(vocabulary, dtype=object))


def _per_distinct(ca: np.ndarray, cb: np.ndarray, vocabulary: np.ndarray, fn) -> np.ndarray:
    """fn(values_a, values_b) evaluated once per distinct (code, code) pair."""
    keys = ca.astype(np.int64) * (len(vocabulary) + 1) + cb
    unique, inverse = np.unique(keys, return_inverse=True)
    ua, ub = unique // (len(vocabulary) + 1), unique % (len(vocabulary) + 1)
    return np.asarray(fn(vocabulary[ua], vocabulary[ub]))[inverse]


def _similarity(scorer):
    def score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return process.cpdist(list(a), list(b), scorer=scorer, workers=-1)

    return score


def _date_swapped(a, b) -> np.ndarray:
    return np.array(
        [
            len(x) == 8 and len(y) == 8 and x[:4] == y[:4] and x[4:6] == y[6:] and x[6:] == y[4:6]
            for x, y in zip(a, b, strict=True)
        ],
        dtype=bool,
    )


def _same_year(a, b) -> np.ndarray:
    return np.array([len(x) >= 4 and x[:4] == y[:4] for x, y in zip(a, b, strict=True)])


def _levels(
    kind: str, field: Coded, li: np.ndarray, ri: np.ndarray, other: Coded | None = None
) -> np.ndarray:
    names = KINDS[kind]
    ca, cb = field.left[li], field.right[ri]
    missing = (ca < 0) | (cb < 0)
    exact = ~missing & (ca == cb)
    fuzzy = ~missing & ~exact
    levels = np.full(len(ca), len(names) - 1, dtype=np.int8)
    levels[missing], levels[exact] = 0, 1
    idx = np.flatnonzero(fuzzy)
    if not len(idx):
        return levels
    fa, fb, vocab = ca[idx], cb[idx], field.vocabulary

    def distinct(fn):
        return _per_distinct(fa, fb, vocab, fn)

    if kind == "name":
        jw = distinct(_similarity(JaroWinkler.normalized_similarity))
        crossed = np.zeros(len(idx), dtype=bool)
        if other is not None:  # given and family name the other way round
            crossed = (ca[idx] == other.right[ri][idx]) | (other.left[li][idx] == cb[idx])
        conditions = [crossed, jw >= 0.92, jw >= 0.80]
    elif kind == "date":
        edits = distinct(_similarity(DamerauLevenshtein.distance))
        conditions = [edits <= 1, distinct(_date_swapped), distinct(_same_year)]
    elif kind == "id":
        edits = distinct(_similarity(DamerauLevenshtein.distance))
        conditions = [edits <= 1, edits <= 2]
    elif kind == "text":
        conditions = [distinct(_similarity(JaroWinkler.normalized_similarity)) >= 0.90]
    else:
        conditions = []
    if conditions:
        levels[idx] = np.select(conditions, range(2, 2 + len(conditions)), default=len(names) - 1)
    return levels


def default_blocking(fields: dict[str, str]) -> list[tuple[str, ...]]:
    """Rules from the kinds alone: each identifier and date on its own, and every pair of the
    name and text fields, so a single typo anywhere leaves other rules to find the pair."""
    singles = [(c,) for c, k in fields.items() if k in ("id", "date")]
    wordy = [c for c, k in fields.items() if k in ("name", "text")]
    pairs = list(itertools.combinations(wordy, 2))
    return singles + pairs


@dataclass
class LinkResult:
    links: pd.DataFrame  # left, right, score, probability: the one-to-one links
    pairs: pd.DataFrame  # every scored candidate pair, with a level column per field
    model: fs.Model

    def explain(self, row: int) -> str:
        """Why a candidate pair scored as it did: each field's level and weight."""
        pair = self.pairs.iloc[row]
        weights = self.model.weights()
        parts = []
        for f, (field, levels) in enumerate(zip(self.model.fields, self.model.levels, strict=True)):
            level = int(pair[field])
            parts.append(f"{field}: {levels[level]} ({weights[f][level]:+.1f})")
        return "; ".join(parts) + f" → {pair['score']:+.1f}"


def _candidates(
    coded: dict[str, Coded], rules: list[tuple[str, ...]], names: list[str]
) -> np.ndarray:
    frames = []
    for rule in rules:
        a = pd.DataFrame({c: coded[c].left for c in rule})
        b = pd.DataFrame({c: coded[c].right for c in rule})
        a = a[(a >= 0).all(axis=1)].reset_index(names="left")
        b = b[(b >= 0).all(axis=1)].reset_index(names="right")
        frames.append(a.merge(b, on=list(rule))[["left", "right"]])
    if len(names) == 2:  # given and family name written the other way round
        first, second = coded[names[0]], coded[names[1]]
        a = pd.DataFrame({"x": first.left, "y": second.left}).reset_index(names="left")
        b = pd.DataFrame({"x": second.right, "y": first.right}).reset_index(names="right")
        a, b = a[(a.x >= 0) & (a.y >= 0)], b[(b.x >= 0) & (b.y >= 0)]
        frames.append(a.merge(b, on=["x", "y"])[["left", "right"]])
    pairs = pd.concat(frames, ignore_index=True).drop_duplicates()
    return pairs.to_numpy()


def _gamma(fields: dict[str, str], coded: dict[str, Coded], li, ri) -> np.ndarray:
    names = [c for c, k in fields.items() if k == "name"]
    columns = []
    for column, kind in fields.items():
        other = None
        if kind == "name" and len(names) == 2:
            other = coded[names[1] if column == names[0] else names[0]]
        columns.append(_levels(kind, coded[column], li, ri, other))
    return np.column_stack(columns) if columns else np.zeros((len(li), 0), dtype=np.int8)


def _exact_agreement(field: Coded) -> float:
    """Chance that a random left row and right row, both filled, hold the same value."""
    size = len(field.vocabulary)
    left = np.bincount(field.left[field.left >= 0], minlength=size).astype(float)
    right = np.bincount(field.right[field.right >= 0], minlength=size).astype(float)
    if not left.sum() or not right.sum():
        return 0.0
    return float((left / left.sum()) @ (right / right.sum()))


def _tf_bonus(fields, model, coded, ri, gamma) -> np.ndarray:
    """Agreeing on a rare name says more than agreeing on a common one: for exact name matches,
    replace the average u with the value's own frequency (Splink's term-frequency adjustment)."""
    bonus = np.zeros(len(ri))
    for f, (column, kind) in enumerate(fields.items()):
        if kind != "name":
            continue
        codes = coded[column].right
        counts = np.bincount(codes[codes >= 0], minlength=len(coded[column].vocabulary))
        frequency = counts[np.maximum(codes, 0)] / max(1, (codes >= 0).sum())
        exact = gamma[:, f] == 1
        u_exact = max(model.u[f][1], 1e-9)
        bonus += np.where(exact, np.log2(u_exact / np.maximum(frequency[ri], 1e-9)), 0.0)
    return bonus


def link_tables(
    left: pd.DataFrame,
    right: pd.DataFrame,
    fields: dict[str, str],
    blocking: list[tuple[str, ...]] | None = None,
    threshold: float = 0.5,
    one_to_one: bool = True,
    random_pairs: int = 200_000,
    seed: int = 0,
) -> LinkResult:
    """Link rows of `left` to rows of `right` (positions, not index labels)."""
    unknown = {k for k in fields.values()} - KINDS.keys()
    if unknown:
        raise ValueError(f"unknown field kinds: {sorted(unknown)}; use {sorted(KINDS)}")
    coded = {c: _code(left[c], right[c], k) for c, k in fields.items()}
    names = [c for c, k in fields.items() if k == "name"]
    if len(names) == 2:  # one vocabulary for both name fields, so they can be compared across
        both = _code(
            pd.concat([left[names[0]], left[names[1]]]),
            pd.concat([right[names[0]], right[names[1]]]),
            "name",
        )
        n_l, n_r = len(left), len(right)
        coded[names[0]] = Coded(both.left[:n_l], both.right[:n_r], both.vocabulary)
        coded[names[1]] = Coded(both.left[n_l:], both.right[n_r:], both.vocabulary)
    pairs = _candidates(coded, blocking or default_blocking(fields), names)
    li, ri = pairs[:, 0], pairs[:, 1]
    gamma = _gamma(fields, coded, li, ri)
    count = min(random_pairs, len(left) * len(right))
    rl, rr = fs.random_pair_indexes(len(left), len(right), count, seed)
    random_gamma = _gamma(fields, coded, rl, rr)
    exact_u = {f: _exact_agreement(coded[c]) for f, c in enumerate(fields)}
    most_matches = min(len(left), len(right)) / max(1, len(gamma))
    model = fs.estimate(
        list(fields),
        [KINDS[k] for k in fields.values()],
        gamma,
        random_gamma,
        exact_u=exact_u,
        max_prior=min(0.99, most_matches),
    )
    score = model.scores(gamma, _tf_bonus(fields, model, coded, ri, gamma))
    scored = pd.DataFrame(gamma, columns=list(fields)).assign(
        left=li, right=ri, score=score, probability=1 / (1 + np.exp2(-np.clip(score, -60, 60)))
    )
    likely = scored[scored["probability"] >= threshold].sort_values(
        "score", ascending=False, kind="stable"
    )
    if one_to_one:  # greedy: the strongest pair claims both rows
        likely = likely.drop_duplicates("left").drop_duplicates("right")
    links = likely[["left", "right", "score", "probability"]].reset_index(drop=True)
    return LinkResult(links, scored.reset_index(drop=True), model)
