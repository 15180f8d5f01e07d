"""Link any two person tables, given which column holds what.

    result = link_tables(left, right, {"given_name": "name", "surname": "name",
                                       "date_of_birth": "date", "soc_sec_id": "id",
                                       "postcode": "id", "suburb": "text", "state": "category"})
    result.links     # left, right, score, probability, one row per linked pair (one-to-one)
    result.explain(i)  # field by field: level and weight

link_tables is a model configuration over the one engine (matching.engine): generic_model
turns the column kinds into a MatchModel (graded levels per kind, blocking rules derived from the
kinds so no single error hides a pair, one EM session over all candidates), GenericComparison is
its linkage logic, and the same Fellegi–Sunter core and decision step as the commune's run it.
The commune pipeline runs COMMUNE_MODEL (matching.weights) on the same engine.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from reconcile.matching import engine
from reconcile.matching import fellegi_sunter as fs
from reconcile.matching.decision import Thresholds
from reconcile.matching.model import BlockingModel, FieldModel, MatchModel, SessionModel
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


def _candidates(
    coded: dict[str, Coded], rules: tuple[tuple[str, ...], ...], names: tuple[str, ...]
) -> pd.DataFrame:
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
    return pd.concat(frames, ignore_index=True).drop_duplicates().reset_index(drop=True)


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


def generic_model(
    fields: dict[str, str],
    blocking: list[tuple[str, ...]] | None = None,
    random_pairs: int = 200_000,
) -> MatchModel:
    """The MatchModel of a column → kind mapping."""
    unknown = set(fields.values()) - KINDS.keys()
    if unknown:
        raise ValueError(f"unknown field kinds: {sorted(unknown)}; use {sorted(KINDS)}")
    names = tuple(c for c, k in fields.items() if k == "name")
    return MatchModel(
        name="generic",
        comparison="generic",
        fields=tuple(
            FieldModel(column, tuple(KINDS[kind]), exact_column=column)
            for column, kind in fields.items()
        ),
        blocking=BlockingModel(
            rules=tuple(tuple(r) for r in (blocking or default_blocking(fields))),
            crossed=names if len(names) == 2 else (),
        ),
        sessions=(SessionModel((), start_share=0.05),),
        random_pairs=random_pairs,
        max_match_share=0.99,
        kinds=dict(fields),
    )


@dataclass
class CodedTables:
    coded: dict[str, Coded]


class GenericComparison:
    """generic_model's linkage logic: columns coded once into shared vocabularies, then
    integer comparisons and per-distinct-value fuzzy scores. Tables are addressed by position."""

    def prepare(self, model: MatchModel, left: pd.DataFrame, right: pd.DataFrame) -> CodedTables:
        fields = model.kinds
        coded = {c: _code(left[c], right[c], k) for c, k in fields.items()}
        names = model.blocking.crossed
        if len(names) == 2:  # one vocabulary for both name fields, so they compare across
            both = _code(
                pd.concat([left[names[0]], left[names[1]]]),
                pd.concat([right[names[0]], right[names[1]]]),
                "name",
            )
            n_l, n_r = len(left), len(right)
            coded[names[0]] = Coded(both.left[:n_l], both.right[:n_r], both.vocabulary)
            coded[names[1]] = Coded(both.left[n_l:], both.right[n_r:], both.vocabulary)
        return CodedTables(coded)

    def candidates(self, model: MatchModel, tables: CodedTables) -> pd.DataFrame:
        return _candidates(tables.coded, model.blocking.rules, model.blocking.crossed)

    def compare(self, model: MatchModel, tables: CodedTables, pairs: pd.DataFrame):
        li, ri = pairs["left"].to_numpy(), pairs["right"].to_numpy()
        gamma = _gamma(model.kinds, tables.coded, li, ri)
        return pd.DataFrame(gamma, columns=model.field_names).assign(left=li, right=ri)

    def patterns(self, model: MatchModel, compared: pd.DataFrame) -> np.ndarray:
        return compared[model.field_names].to_numpy(dtype=np.int8)

    def exact_chance(self, model: MatchModel, tables: list[CodedTables]) -> dict[int, float]:
        return {f: _exact_agreement(tables[0].coded[c]) for f, c in enumerate(model.field_names)}

    def score(self, model, params: fs.Model, tables: CodedTables, compared, rows: int):
        gamma = self.patterns(model, compared)
        ri = compared["right"].to_numpy()
        score = params.scores(gamma, _tf_bonus(model.kinds, params, tables.coded, ri, gamma))
        return compared.assign(score=score, probability=1 / (1 + np.exp2(-np.clip(score, -60, 60))))


engine.COMPARISONS["generic"] = GenericComparison()


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
    model = generic_model(fields, blocking, random_pairs)
    left, right = left.reset_index(drop=True), right.reset_index(drop=True)
    executor = engine.PandasExecutor()
    (scored,), params = engine.run(model, [left], right, executor, seed=seed)
    scored = scored.reset_index(drop=True)
    threshold = min(max(threshold, 1e-12), 1 - 1e-12)
    odds = float(np.log2(threshold / (1 - threshold)))
    if one_to_one:  # the engine's decision step: the stronger pair claims both rows
        decided = executor.decide(left, right, scored, Thresholds(odds, odds, 0.0))
        links = decided[decided["decision"] == "match"][["left", "right", "score"]]
        links = links.astype({"right": "int64"})
    else:
        links = scored.loc[scored["score"] >= odds, ["left", "right", "score"]]
    links = links.sort_values("score", ascending=False, kind="stable")
    links = links.assign(probability=1 / (1 + np.exp2(-np.clip(links["score"], -60, 60))))
    return LinkResult(links.reset_index(drop=True), scored, params)
