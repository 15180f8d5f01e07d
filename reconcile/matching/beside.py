"""The register's own work done in the helper process (pipeline._helper) while this process
links the lists: its duplicate evidence, its row keys for the matching memory, a share of the
big comparisons (HelperExecutor), and, while the findings are made, its reading as the next
run keeps it.

The register crosses to the helper once (`place`: pickling 300k residents costs this process
about 0.8 s); the calls after it name the register by token.
The helper runs its calls in the order given, one at a time. A helper that is gone leaves the
work to this process: every call here has a fallback (`result_or`).
"""

from __future__ import annotations

import pickle
import secrets
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import TypeVar

import numpy as np
import pandas as pd

from reconcile.input_memory import to_record
from reconcile.matching.duplicates import DuplicateEvidence, duplicate_evidence
from reconcile.matching.engine import PandasExecutor, comparison_of
from reconcile.matching.memory import row_keys
from reconcile.matching.model import MatchModel

T = TypeVar("T")

# In the helper process: the register placed there, and with each model's context, by token
_HELD: dict[str, pd.DataFrame] = {}
_WITH_CONTEXT: dict[tuple[str, str], pd.DataFrame] = {}


def hold(token: str, pickled: bytes) -> None:
    """(In the helper) keep the register pickled in `pickled` for the calls that name `token`."""
    _HELD.clear()
    _WITH_CONTEXT.clear()
    _HELD[token] = pickle.loads(pickled)


def let_go(token: str) -> None:
    """(In the helper) forget the register: the workbook is written next."""
    _HELD.pop(token, None)
    _WITH_CONTEXT.clear()


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


def held_row_keys(token: str, model: MatchModel, secret: bytes) -> np.ndarray:
    return row_keys(_held_with_context(token, model), secret)


def compare_held(token: str, model: MatchModel, left: pd.DataFrame, pairs: pd.DataFrame):
    """The comparison of `pairs` between `left` (the rows they name, with their context) and
    the held register."""
    return comparison_of(model).compare(model, (left, _held_with_context(token, model)), pairs)


def place(helper: ProcessPoolExecutor | None, register: pd.DataFrame) -> str | None:
    """Send `register` to the helper; its token, or None without a helper (or a dead one)."""
    if helper is None:
        return None
    token = secrets.token_hex(8)
    # pickled here, at once: left to the executor's feeder thread, the pickling took turns
    # with the matching for the GIL and slowed both (about 2 s for 0.8 s of work)
    pickled = pickle.dumps(register, protocol=pickle.HIGHEST_PROTOCOL)
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


class HelperExecutor(PandasExecutor):
    """PandasExecutor, with a share of the run's first big comparison made in the helper
    holding the register (`token`, from place): a pair's levels depend only on its two rows,
    so the two parts, put back in order, are PandasExecutor.compare's frame. `then` is called
    once that share is sent (the duplicate search queued behind it); later comparisons, and
    tables whose right side is not that register or comparisons that code by position (no
    `subset`), run here: the helper is busy with what `then` gave it."""

    def __init__(
        self,
        helper: ProcessPoolExecutor,
        token: str,
        register_index: pd.Index,
        then: Callable[[], object] = lambda: None,
    ):
        self.helper, self.token, self.register_index = helper, token, register_index
        self.then: Callable[[], object] | None = then

    def compare(self, model: MatchModel, tables, pairs: pd.DataFrame) -> pd.DataFrame:
        left, right = tables
        shared = (
            self.then is not None
            and len(pairs) >= LOCAL_BELOW
            and hasattr(comparison_of(model), "subset")
            and isinstance(right, pd.DataFrame)
            and right.index.equals(self.register_index)
        )
        if not shared:
            return super().compare(model, tables, pairs)
        cut = len(pairs) - int(len(pairs) * HELPER_SHARE)
        theirs = pairs.iloc[cut:].reset_index(drop=True)
        named = left.loc[pd.unique(theirs["left"].to_numpy())]
        future = submitted(self.helper, compare_held, self.token, model, named, theirs)
        self.finish()
        ours = super().compare(model, tables, pairs.iloc[:cut].reset_index(drop=True))
        rest = result_or(future, lambda: PandasExecutor.compare(self, model, tables, theirs))
        compared = pd.concat([ours, rest], ignore_index=True)
        compared.index = pairs.index
        return compared

    def finish(self) -> None:
        """Call `then` if no comparison has yet: nothing more is shared."""
        if self.then is not None:
            then, self.then = self.then, None
            then()
