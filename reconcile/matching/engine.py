"""The one matching engine: a model (matching.model, plain data) run by an executor.

The linkage logic is a model's *comparison* (what a pair's levels are, how a pattern scores);
the *executor* decides where and in what pieces that logic runs. As Splink keeps its logic apart
from the SQL engine that executes it, every executor runs the same comparison code:

    prepare(model, left, right)                 -> the tables as the model's comparison reads them
    block(model, tables)                        -> pairs (left, right index labels)
    compare(model, tables, pairs)               -> pairs with one level column per field
    pattern_counts(model, compared)             -> fellegi_sunter.PatternCounts (they add up)
    score(model, params, tables, compared, n)   -> compared with weights and a log2-odds score
    decide(left, right, scored, thresholds)     -> one decision per left row

PandasExecutor runs each step over whole frames (numpy and rapidfuzz inside). An executor for a
cluster partitions the pairs by blocking key and runs the same five steps per partition; only
pattern counts travel to train the model (train below needs nothing else).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from reconcile.frames import pair_codes
from reconcile.matching import fellegi_sunter as fs
from reconcile.matching.memory import (
    PairMemory,
    candidates_key,
    changed_residents,
    in_same_order,
    keyed_by_resident,
    pair_keys,
    recall_candidates,
    recall_register_keys,
    remember,
    reuse_model,
    row_candidates,
    row_keys,
)
from reconcile.matching.model import MatchModel


class Comparison(Protocol):
    """A model's linkage logic over tables it has prepared (normalised people, coded columns)."""

    def prepare(self, model: MatchModel, left: pd.DataFrame, right: pd.DataFrame) -> Any: ...

    def candidates(self, model: MatchModel, tables: Any) -> pd.DataFrame: ...

    def compare(self, model: MatchModel, tables: Any, pairs: pd.DataFrame) -> pd.DataFrame: ...

    def patterns(self, model: MatchModel, compared: pd.DataFrame) -> np.ndarray: ...

    def exact_chance(self, model: MatchModel, tables: list[Any]) -> dict[int, float]:
        """Per field with an exact_column: the chance a random left and right value agree."""
        ...

    def score(
        self, model: MatchModel, params: fs.Model, tables: Any, compared: pd.DataFrame, rows: int
    ) -> pd.DataFrame: ...


class Executor(Protocol):
    def prepare(self, model: MatchModel, left: pd.DataFrame, right: pd.DataFrame) -> Any: ...

    def block(self, model: MatchModel, tables: Any) -> pd.DataFrame: ...

    def block_noting_reach(self, model: MatchModel, tables: Any) -> tuple[pd.DataFrame, Any]:
        """(block's pairs, each left row's blocking.REACH_*, by label)."""
        ...

    def compare(self, model: MatchModel, tables: Any, pairs: pd.DataFrame) -> pd.DataFrame: ...

    def pattern_counts(self, model: MatchModel, compared: pd.DataFrame) -> fs.PatternCounts: ...

    def score(
        self, model: MatchModel, params: fs.Model, tables: Any, compared: pd.DataFrame, rows: int
    ) -> pd.DataFrame: ...

    def decide(
        self, left: pd.DataFrame, right: pd.DataFrame, scored: pd.DataFrame, thresholds
    ) -> pd.DataFrame: ...


COMPARISONS: dict[str, Comparison] = {}


def comparison_of(model: MatchModel) -> Comparison:
    if not COMPARISONS:  # registered by the modules that define them
        import reconcile.matching.linker  # noqa: F401
        import reconcile.matching.weights  # noqa: F401
    return COMPARISONS[model.comparison]


def candidates_and_reach(model: MatchModel, tables: Any) -> tuple[pd.DataFrame, pd.Series]:
    """(the candidate pairs, how far blocking looked for each left row: blocking.REACH_*, by
    label). A comparison that does not say names no rows: they count as looked for by every
    means (a night recalls none of them once anything changed)."""
    comparison = comparison_of(model)
    if hasattr(comparison, "candidates_and_reach"):
        return comparison.candidates_and_reach(model, tables)
    return comparison.candidates(model, tables), pd.Series(dtype=np.int8)


class PandasExecutor:
    """Each step over whole frames in this process."""

    def prepare(self, model: MatchModel, left: pd.DataFrame, right: pd.DataFrame) -> Any:
        return comparison_of(model).prepare(model, left, right)

    def block(self, model: MatchModel, tables: Any) -> pd.DataFrame:
        return self.block_noting_reach(model, tables)[0]

    def block_noting_reach(self, model: MatchModel, tables: Any) -> tuple[pd.DataFrame, Any]:
        """(block's pairs, each left row's reach), as candidates_and_reach gives them."""
        return candidates_and_reach(model, tables)

    def compare(self, model: MatchModel, tables: Any, pairs: pd.DataFrame) -> pd.DataFrame:
        return comparison_of(model).compare(model, tables, pairs)

    def pattern_counts(self, model: MatchModel, compared: pd.DataFrame) -> fs.PatternCounts:
        return fs.PatternCounts.of(comparison_of(model).patterns(model, compared))

    def score(
        self, model: MatchModel, params: fs.Model, tables: Any, compared: pd.DataFrame, rows: int
    ) -> pd.DataFrame:
        return comparison_of(model).score(model, params, tables, compared, rows)

    def decide(
        self, left: pd.DataFrame, right: pd.DataFrame, scored: pd.DataFrame, thresholds
    ) -> pd.DataFrame:
        """decision.link: one resident per row and one row per resident, near-ties ambiguous."""
        from reconcile.matching.decision import link

        return link(left, right, thresholds, scored)[0]


def _random_pairs(
    model: MatchModel, tables: list[Any], sizes: list[tuple[int, pd.Index, pd.Index]], seed: int
):
    """Random (left, right) pairs spread over the tables in proportion to their rows."""
    total = sum(n for n, _, _ in sizes)
    for t, (n, left_index, right_index) in zip(tables, sizes, strict=True):
        if not n or not len(right_index):
            continue
        count = max(1, round(model.random_pairs * n / max(total, 1)))
        left, right = fs.random_pair_indexes(
            n, len(right_index), count, seed, every_pair_if_fewer=True
        )
        yield (
            t,
            pd.DataFrame(
                {"left": left_index.to_numpy()[left], "right": right_index.to_numpy()[right]}
            ),
        )


def one_resident_prior(residents: int) -> float:
    """A pair's prior when a row is one resident among the register's (pair_prior
    "one_resident"; each list's in-register share is learnt when it is scored)."""
    return 1.0 / max(2, residents)


def train(
    model: MatchModel,
    executor: Executor,
    tables: list[Any],
    compared: list[pd.DataFrame],
    sizes: list[tuple[int, pd.Index, pd.Index]],
    seed: int = 0,
) -> fs.Model:
    """Fit the model: u from random pairs' pattern counts (exact agreement from value
    frequencies), m by EM in the model's training sessions over the candidates' pattern
    counts of every table together (a 16-row death list alone says too little).

    `tables` are prepared table pairs, `compared` their compared candidates, `sizes` each
    pair's (left rows, left index, right index)."""
    comparison = comparison_of(model)
    field_sizes = [f.size for f in model.fields]
    random_counts = [
        executor.pattern_counts(model, executor.compare(model, t, pairs))
        for t, pairs in _random_pairs(model, tables, sizes, seed)
    ]
    exact = comparison.exact_chance(model, tables)
    u = fs.estimate_u(
        fs.PatternCounts.combine(random_counts, len(field_sizes)),
        field_sizes,
        exact,
        model.u_prior(),
        model.u_prior_pairs,
    )
    candidates = fs.PatternCounts.combine(
        [executor.pattern_counts(model, c) for c in compared], len(field_sizes)
    )
    max_share = 1 - 1e-6
    if model.max_match_share is not None and candidates.pairs:
        smaller = min(sizes[0][0], len(sizes[0][2]))
        max_share = min(model.max_match_share, smaller / candidates.pairs)
    sessions = [
        fs.Session(tuple(model.index(n) for n in s.fixed), s.start_share, max_share)
        for s in model.sessions
    ]
    m, shares = fs.train_m(candidates, u, model.m_prior(), sessions, model.prior_strength)
    if model.pair_prior == "one_resident":
        prior = one_resident_prior(len(sizes[0][2]))
    else:
        prior = shares[-1] if shares and shares[-1] == shares[-1] else 0.05
    return fs.Model(model.field_names, [list(f.levels) for f in model.fields], m, u, prior)


def run(
    model: MatchModel,
    lefts: list[pd.DataFrame],
    right: pd.DataFrame,
    executor: Executor | None = None,
    fitted: bool = True,
    seed: int = 0,
) -> tuple[list[pd.DataFrame], fs.Model | None]:
    """Block, compare, train and score every left table against `right`: the scored candidate
    pairs of each, and the fitted parameters (None with fitted=False: the comparison's hand-set
    prior weights score the pairs)."""
    executor = executor or PandasExecutor()
    tables = [executor.prepare(model, left, right) for left in lefts]
    compared = [executor.compare(model, t, executor.block(model, t)) for t in tables]
    if not fitted or not lefts:
        return compared, None
    params = _trained(model, executor, tables, compared, lefts, right, seed)
    return _scored(model, executor, params, tables, compared, lefts), params


def _trained(model, executor, tables, compared, lefts, right, seed) -> fs.Model:
    sizes = [(len(left), left.index, right.index) for left in lefts]
    return train(model, executor, tables, compared, sizes, seed)


def _scored(model, executor, params, tables, compared, lefts) -> list[pd.DataFrame]:
    return [
        executor.score(model, params, t, c, len(left))
        for t, c, left in zip(tables, compared, lefts, strict=True)
    ]


@dataclass
class MatchRun:
    """What run_remembering gives: each list's scored pairs, the parameters used, what to
    remember for the next run, and how much of tonight was remembered."""

    scored: list[pd.DataFrame]
    params: fs.Model | None
    memory: PairMemory
    pairs: int = 0
    recalled: int = 0
    retrained: bool = True
    register_keys: np.ndarray | None = None  # row_keys of the register (None without lists)
    candidates_recalled: int = 0  # list rows whose candidates were the last run's


def canonical(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs in (left, right) label order: recalled and fresh candidates come in the order a
    full blocking gives, so the decision's ties fall the same way."""
    left = pairs["left"].to_numpy(np.int64)
    right = pairs["right"].to_numpy(np.int64)
    # one int64 per pair, sorted once: lexsort's two passes took twice as long
    codes = pair_codes(left, right)
    order = np.lexsort((right, left)) if codes is None else np.argsort(codes, kind="stable")
    return pd.DataFrame({"left": left[order], "right": right[order]})


def _block_recalling(
    model: MatchModel,
    executor: Executor,
    tables: Any,
    memory: PairMemory,
    left_keys: np.ndarray,
    register: _RegisterKeys,
    changed: pd.DataFrame | None,
) -> tuple[pd.DataFrame, pd.Series, int]:
    """(a table's candidate pairs, in canonical order; each row's reach, by label; how many of
    its rows had their candidates recalled). Where the memory knows which residents changed
    since its register (`changed`: their rows, old and new), the rows it blocked that share
    no key with any of them take their candidates from it; only the others are blocked."""
    left, right = tables
    recalled = None
    touches = getattr(comparison_of(model), "rows_in_blocks_of", None)
    if changed is not None and touches is not None:
        steady = register.steady()
        blocked = touches(model, left, changed, memory.recalled_reach(left_keys), right, steady)
        recalled = recall_candidates(
            memory,
            register.key(),
            left.index,
            left_keys,
            right.index[steady],
            register.keys()[steady],
            blocked,
            fuzzy_sure=register.in_last_order(),
        )
    if recalled is None:
        pairs, reach = executor.block_noting_reach(model, tables)
        return canonical(pairs), reach, 0
    pairs, known, reach = recalled
    if not known.all():
        fresh, fresh_reach = executor.block_noting_reach(model, (left[~known], right))
        pairs, reach = pd.concat([pairs, fresh]), pd.concat([reach, fresh_reach])
    return canonical(pairs), reach, int(known.sum())


def _compare_recalling(
    model: MatchModel,
    executor: Executor,
    tables: Any,
    pairs: pd.DataFrame,
    memory: PairMemory,
    keys: tuple[np.ndarray, np.ndarray],
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """`pairs` compared, those memory holds recalled instead: (compared, pair keys, recalled).
    `keys` are the two tables' row_keys. The result equals executor.compare(model, tables,
    pairs) row for row."""
    pair_key = _pair_keys_of(pairs, tables, *keys)
    found, recalled = memory.recall(pair_key)
    fresh = np.ones(len(pairs), dtype=bool)
    fresh[found] = False
    if not len(found):
        return executor.compare(model, tables, pairs), pair_key, 0
    recalled.insert(0, "right", pairs["right"].to_numpy(np.int64)[found])
    recalled.insert(0, "left", pairs["left"].to_numpy(np.int64)[found])
    if not fresh.any():
        return recalled, pair_key, len(found)
    compared = executor.compare(model, tables, pairs[fresh].reset_index(drop=True))
    recalled = recalled.astype(compared.dtypes.to_dict())
    order = np.concatenate([np.flatnonzero(fresh), found])
    both = pd.concat([compared, recalled], ignore_index=True)
    both.index = order
    return both.sort_index().reset_index(drop=True), pair_key, len(found)


class _RegisterKeys:
    """The register's row keys, made once when first asked for: the memory's (same reading),
    else from its raw row keys, else from all its columns; and its candidates_key."""

    def __init__(self, memory, tag, tables, secret, model, raw=None):
        self._memory, self._tag, self._tables = memory, tag, tables
        self._secret, self._model = secret, model
        self._raw = raw
        self._keys: np.ndarray | None = None
        self._key: str | None = None
        self._steady: np.ndarray | None = None

    def keys(self) -> np.ndarray | None:
        if self._keys is None and self._tables:
            right = self._tables[0][1]
            self._keys = recall_register_keys(self._memory, self._tag, len(right))
            if self._keys is None and self._raw is not None:  # a few columns to hash
                self._keys = row_keys(right, self._secret, self._raw)
            if self._keys is None:
                self._keys = row_keys(right, self._secret)
        return self._keys

    def key(self) -> str:
        """candidates_key of the register ("" where its labels are not kept: candidates use
        -1 for none)."""
        if self._key is None:
            self._key = ""
            right = self._tables[0][1] if self._tables else None
            if right is not None and (right.empty or right.index.min() >= 0):
                spans = "commune" in right and right["commune"].nunique() > 1
                self._key = candidates_key(right, spans, self._model.blocking)
        return self._key

    def steady(self) -> np.ndarray | None:
        """A mask of the residents standing one for one for last night's (after changed)."""
        return self._steady

    def in_last_order(self) -> bool:
        """Whether the steady residents stand in last night's order (after changed): the fuzzy
        fallback keeps the first of equally close residents."""
        if self._steady is None:
            return False
        return in_same_order(self._memory.register_keys, self.keys()[self._steady])

    def changed(self, departed: tuple[str, pd.DataFrame] | None) -> pd.DataFrame | None:
        """The residents who changed since the memory's register, as rows with their
        blocking columns: tonight's not standing one for one for last night's
        (changed_residents) and the rows of last night's that tonight's reading no longer has
        (`departed`: the register_tag of the reading they were in, and the rows; not needed
        when every row of last night's is still there). None when who changed is unknown: a
        row of last night's is gone and the memory's register is not the reading `departed`
        names."""
        kept = self._memory.register_keys
        if kept is None or not self._tables:
            return None
        right = self._tables[0][1]
        self._steady = ~changed_residents(kept, self.keys())
        now = right[~self._steady]
        if pd.Series(kept).isin(self.keys()).all():  # what changed is all in tonight's rows
            return now
        if departed is None or not departed[0] or departed[0] != self._memory.register_tag:
            return None
        gone = departed[1]
        return pd.concat([now, gone[gone.columns.intersection(now.columns)]], ignore_index=True)


def _pair_keys_of(pairs, tables, left_keys, right_keys) -> np.ndarray:
    """pair_keys of `pairs` (left, right labels) from the two tables' row keys."""
    left, right = tables
    return pair_keys(
        left_keys[left.index.get_indexer(pairs["left"])],
        right_keys[right.index.get_indexer(pairs["right"])],
    )


def run_remembering(
    model: MatchModel,
    lefts: list[pd.DataFrame],
    right: pd.DataFrame,
    memory: PairMemory | None,
    executor: Executor | None = None,
    fitted: bool = True,
    retrain: bool | None = None,
    secret: bytes = b"",
    seed: int = 0,
    register_tag: str = "",
    departed: tuple[str, pd.DataFrame] | None = None,
    raw_keys: tuple[list[np.ndarray | None], np.ndarray | None] | None = None,
) -> MatchRun:
    """run, comparing only the pairs `memory` does not hold, and scoring with its model unless
    retrain (None: when more than memory.RETRAIN_SHARE of the pairs are new). Equal to run with
    the same parameters; the comparison must take (left, right) frames and give their context
    (`with_context`). `register_tag` (memory.register_tag) names the register's reading: the
    same one as the memory's keeps its row keys instead of hashing every resident again.
    `departed` (the register_tag of the register's last reading, and the rows of it tonight's
    reading no longer has) lets the rows far from every changed resident keep their
    candidates (_block_recalling). `raw_keys` (each list's and the register's
    input_memory.raw_row_keys, None where a table has none) key their rows by them (row_keys)."""
    executor = executor or PandasExecutor()
    left_raw, right_raw = raw_keys or ([None] * len(lefts), None)
    comparison = comparison_of(model)
    memory = memory or PairMemory.empty()
    tables = [
        comparison.with_context(model, executor.prepare(model, left, right)) for left in lefts
    ]
    # every table has the same right side (the register with its context): keyed once
    register = _RegisterKeys(memory, register_tag, tables, secret, model, right_raw)
    recalling = memory.recalls_anything()
    left_keys_of = [row_keys(t[0], secret, raw) for t, raw in zip(tables, left_raw, strict=True)]
    changed = register.changed(departed) if recalling and memory.candidates is not None else None
    compared, keys, found, recalled, rows_recalled = [], [], [], 0, 0
    for t, left_keys in zip(tables, left_keys_of, strict=True):
        if recalling:
            pairs, reach, n = _block_recalling(
                model, executor, t, memory, left_keys, register, changed
            )
            rows_recalled += n
            c, k, n = _compare_recalling(
                model, executor, t, pairs, memory, (left_keys, register.keys())
            )
            recalled += n
        else:
            pairs, reach = executor.block_noting_reach(model, t)
            pairs = canonical(pairs)
            c, k = executor.compare(model, t, pairs), None  # pair keys made when remembered
        found.append(row_candidates(t[0].index, left_keys, pairs, reach))
        compared.append(c)
        keys.append(k)
    pairs = sum(len(c) for c in compared)

    def remembered(params: fs.Model | None) -> PairMemory:
        # last, so that register keys made elsewhere had the matching's time to arrive
        pair_keys_of = [
            k if k is not None else _pair_keys_of(c, t, left_keys, register.keys())
            for c, k, t, left_keys in zip(compared, keys, tables, left_keys_of, strict=True)
        ]
        candidates = None
        if found:  # each row's candidates once (a row's reach is its content's, like its key)
            both = pd.concat(found, ignore_index=True)
            both = both[~both.duplicated(["left_key", "right"])]
            candidates = keyed_by_resident(both, right.index, register.keys())
        return remember(
            params,
            model.name,
            compared,
            pair_keys_of,
            candidates,
            register.key(),
            register.keys(),
            register_tag,
        )

    if not fitted or not lefts:
        memory = remembered(None)
        return MatchRun(
            compared, None, memory, pairs, recalled, True, register.keys(), rows_recalled
        )
    new_share = 1 - recalled / pairs if pairs else 0.0
    kept = reuse_model(memory, model.name, new_share, retrain)
    if kept:
        params = memory.params
        if model.pair_prior == "one_resident":  # the register's size is tonight's
            params = replace(params, prior=one_resident_prior(len(right)))
    else:
        params = _trained(model, executor, tables, compared, lefts, right, seed)
    scored = _scored(model, executor, params, tables, compared, lefts)
    memory = remembered(params)
    return MatchRun(
        scored, params, memory, pairs, recalled, not kept, register.keys(), rows_recalled
    )


@contextmanager
def executor_for(kind: str = "pandas", address: str | None = None, workers: int = 2) -> Iterator:
    """The executor a run asked for: "pandas" (this process) or "dask" (the cluster at
    `address`, else a LocalCluster of `workers` processes for the run's duration)."""
    if kind == "dask":
        from reconcile.matching.dask_executor import dask_executor

        with dask_executor(address, workers) as executor:
            yield executor
    else:
        yield PandasExecutor()
