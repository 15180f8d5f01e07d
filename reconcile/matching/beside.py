"""The register's own work done in the helper process (pipeline._helper) while this process
links the lists: a share of the big comparisons (HelperExecutor), its duplicate evidence and,
behind it, its reading as the next run keeps it; then the helper lets the register go.

The register crosses to the helper once (`place`, column by column: pickling 300k residents
costs this process about 0.75 s); the calls after it name the register by token.
The helper runs its calls in the order given, one at a time. A helper that is gone leaves the
work to this process: every call here has a fallback (`result_or`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import TypeVar

import numpy as np
import pandas as pd

from reconcile.collection import give_back
from reconcile.frames import pickled_by_column, unpickled_by_column
from reconcile.input_memory import to_record
from reconcile.matching.duplicates import DuplicateEvidence, duplicate_evidence
from reconcile.matching.engine import PandasExecutor, candidates_and_reach, comparison_of
from reconcile.matching.model import MatchModel

T = TypeVar("T")

# In the helper process: the register placed there, and with each model's context, by token;
# and the list rows it blocked (block_held), kept for their comparison
_HELD: dict[str, pd.DataFrame] = {}
_WITH_CONTEXT: dict[tuple[str, str], pd.DataFrame] = {}
_ROWS: dict[str, pd.DataFrame] = {}


def hold(token: str, pickled: list[bytes]) -> None:
    """(In the helper) keep the register `pickled` (frames.pickled_by_column) for the calls
    that name `token`."""
    _HELD.clear()
    _WITH_CONTEXT.clear()
    _ROWS.clear()
    _HELD[token] = unpickled_by_column(pickled)


def let_go(token: str) -> None:
    """(In the helper) forget the register, and give its memory back to the system: the
    workbooks are written next, while this process still holds the run (the helper kept 3 GB
    of a 3M province's register through the review and report)."""
    _HELD.pop(token, None)
    _WITH_CONTEXT.clear()
    _ROWS.clear()
    give_back()


def held_record(token: str, reading):
    """(In the helper) input_memory.to_record of the register's `reading` (a PreparedList sent
    without its people: they are the register held here)."""
    return to_record(replace(reading, people=_HELD[token]))


def held_evidence(token: str) -> DuplicateEvidence:
    return duplicate_evidence(_HELD[token])


def _held_with_context(token: str, model: MatchModel) -> pd.DataFrame:
    """The register as run_remembering's tables carry it: with the model's context, judged on
    the whole register (what a resident row carries does not depend on the lists)."""
    if (token, model.name) not in _WITH_CONTEXT:
        register = _HELD[token]
        comparison = comparison_of(model)
        tables = comparison.prepare(model, register.iloc[:0], register)
        _WITH_CONTEXT[token, model.name] = comparison.with_context(model, tables)[1]
    return _WITH_CONTEXT[token, model.name]


def compare_held(token: str, model: MatchModel, left: pd.DataFrame, pairs: pd.DataFrame):
    """The comparison of `pairs` between `left` (the rows they name, with their context) and
    the held register."""
    return comparison_of(model).compare(model, (left, _held_with_context(token, model)), pairs)


def block_held(token: str, model: MatchModel, pickled_rows: list[bytes]):
    """(In the helper) engine.candidates_and_reach of the list rows `pickled_rows` (with
    their context; frames.pickled_by_column) against the held register; the rows are kept for
    compare_held_rows."""
    rows = unpickled_by_column(pickled_rows)
    _ROWS.clear()
    _ROWS[token] = rows
    return candidates_and_reach(model, (rows, _held_with_context(token, model)))


def compare_held_rows(token: str, model: MatchModel, pairs: pd.DataFrame) -> pd.DataFrame:
    """(In the helper) compare_held of pairs between the rows block_held kept and the held
    register; the rows are let go."""
    return compare_held(token, model, _ROWS.pop(token), pairs)


def place(helper: ProcessPoolExecutor | None, register: pd.DataFrame) -> str | None:
    """Send `register` to the helper; its token, or None without a helper (or a dead one)."""
    if helper is None:
        return None
    token = secrets.token_hex(8)
    # pickled here, at once: left to the executor's feeder thread, the pickling took turns
    # with the matching for the GIL and slowed both (about 2 s for 0.8 s of work)
    pickled = pickled_by_column(register)
    return token if submitted(helper, hold, token, pickled) is not None else None


def submitted(helper: ProcessPoolExecutor | None, fn: Callable, *args) -> Future | None:
    """fn(*args) started in the helper; None when there is none or it is gone."""
    if helper is None:
        return None
    try:
        return helper.submit(fn, *args)
    except (BrokenProcessPool, RuntimeError):
        return None


def result_or(future: Future | None, here: Callable[[], T]) -> T:
    """The helper's result, or here() when there was no helper or it died."""
    if future is not None:
        try:
            return future.result()
        except BrokenProcessPool:
            pass
    return here()


# The share of a comparison's pairs sent to the helper: it also pays for carrying them.
HELPER_SHARE = 0.45
# Below this many pairs, sending them costs more than the helper saves (a night's few).
LOCAL_BELOW = 50_000
# The share of a big table's rows the helper blocks (and then compares the pairs of), and
# the rows below which blocking stays here.
HELPER_ROWS_SHARE = 0.5
BLOCK_LOCAL_BELOW = 20_000


class HelperExecutor(PandasExecutor):
    """PandasExecutor, with a share of the run's first big table blocked and compared in the
    helper holding the register (`token`, from place). A row's candidates depend only on the
    row and the register, and a pair's levels only on its two rows, so the parts, put back in
    order, are PandasExecutor's frames. The helper blocks the last rows of a big table and keeps
    them, so their pairs' comparison sends it only the pairs; a big comparison of other rows
    (a small list's training pairs) sends it a share of the pairs with the rows they name.
    `then` is called once a comparison's share is sent (the duplicate search queued behind
    it); later comparisons, tables whose right side is not that register and comparisons that
    code by position (no `subset`) run here: the helper is busy with what `then` gave it."""

    def __init__(
        self,
        helper: ProcessPoolExecutor,
        token: str,
        register_index: pd.Index,
        then: Callable[[], object] = lambda: None,
    ):
        self.helper, self.token, self.register_index = helper, token, register_index
        self.then: Callable[[], object] | None = then
        # the table whose last rows the helper blocked and keeps, and their labels
        self._rows_held: tuple[pd.DataFrame, pd.Index] | None = None

    def _shares(self, model: MatchModel, right) -> bool:
        return (
            self.then is not None
            and hasattr(comparison_of(model), "subset")
            and isinstance(right, pd.DataFrame)
            and right.index.equals(self.register_index)
        )

    def block_noting_reach(self, model: MatchModel, tables):
        left, right = tables
        if len(left) < BLOCK_LOCAL_BELOW or not self._shares(model, right):
            return super().block_noting_reach(model, tables)
        theirs = left.iloc[len(left) - int(len(left) * HELPER_ROWS_SHARE) :]
        # pickled here: the executor's feeder thread would take turns with the blocking
        pickled = pickled_by_column(theirs)
        future = submitted(self.helper, block_held, self.token, model, pickled)
        ours = super().block_noting_reach(model, (left.iloc[: len(left) - len(theirs)], right))
        rest = result_or(future, lambda: None)
        if rest is None:  # the helper died: blocked here, and nothing is held there
            rest = super().block_noting_reach(model, (theirs, right))
        else:
            self._rows_held = left, theirs.index
        return pd.concat([ours[0], rest[0]], ignore_index=True), pd.concat([ours[1], rest[1]])

    def compare(self, model: MatchModel, tables, pairs: pd.DataFrame) -> pd.DataFrame:
        held, self._rows_held = self._rows_held, None
        left, right = tables
        if held is not None and held[0] is left:  # the pairs of the table just blocked
            theirs_at = held[1].get_indexer(pairs["left"].to_numpy()) >= 0
            return self._shared(
                model,
                tables,
                pairs,
                theirs_at,
                lambda theirs: submitted(self.helper, compare_held_rows, self.token, model, theirs),
            )
        if len(pairs) < LOCAL_BELOW or not self._shares(model, right):
            return super().compare(model, tables, pairs)
        theirs_at = np.arange(len(pairs)) >= len(pairs) - int(len(pairs) * HELPER_SHARE)

        def with_rows(theirs: pd.DataFrame) -> Future | None:
            named = left.loc[pd.unique(theirs["left"].to_numpy())]
            return submitted(self.helper, compare_held, self.token, model, named, theirs)

        return self._shared(model, tables, pairs, theirs_at, with_rows)

    def _shared(self, model, tables, pairs: pd.DataFrame, theirs_at: np.ndarray, send):
        """The pairs at `theirs_at` compared in the helper (`send` gives its future), the
        others here; put back in the pairs' order."""
        theirs = pairs[theirs_at].reset_index(drop=True)
        future = send(theirs)
        self.finish()
        ours = PandasExecutor.compare(self, model, tables, pairs[~theirs_at].reset_index(drop=True))
        rest = result_or(future, lambda: PandasExecutor.compare(self, model, tables, theirs))
        compared = pd.concat([ours, rest], ignore_index=True)
        order = np.concatenate([np.flatnonzero(~theirs_at), np.flatnonzero(theirs_at)])
        if not (order[1:] > order[:-1]).all():  # the helper's pairs were not the last ones
            at = np.empty_like(order)
            at[order] = np.arange(len(order))
            compared = compared.take(at)
        compared.index = pairs.index
        return compared

    def finish(self) -> None:
        """Call `then` if no comparison has yet: nothing more is shared."""
        if self.then is not None:
            then, self.then = self.then, None
            then()
