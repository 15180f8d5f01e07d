"""The register's own work done in the helper process (pipeline._helper) while this process
links the lists: its duplicate evidence, and its row keys for the matching memory.

The register crosses to the helper once (`place`: pickling 300k residents costs this process
about 0.8 s, in a thread that holds its GIL); the calls after it name the register by token.
The helper runs its calls in the order given, one at a time. A helper that is gone leaves the
work to this process: every call here has a fallback (`result_or`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

import numpy as np
import pandas as pd

from reconcile.matching.duplicates import DuplicateEvidence, duplicate_evidence
from reconcile.matching.engine import comparison_of
from reconcile.matching.memory import row_keys
from reconcile.matching.model import MatchModel

T = TypeVar("T")

# In the helper process: the register placed there, by token
_HELD: dict[str, pd.DataFrame] = {}


def hold(token: str, register: pd.DataFrame) -> None:
    """(In the helper) keep `register` for the calls that name `token`."""
    _HELD.clear()
    _HELD[token] = register


def let_go(token: str) -> None:
    """(In the helper) forget the register: the workbook is written next."""
    _HELD.pop(token, None)


def held_evidence(token: str) -> DuplicateEvidence:
    return duplicate_evidence(_HELD[token])


def held_row_keys(token: str, model: MatchModel, secret: bytes) -> np.ndarray:
    """The register's row_keys as run_remembering makes them: with the model's context,
    judged on the whole register (what a row carries does not depend on the lists)."""
    register = _HELD[token]
    comparison = comparison_of(model)
    tables = comparison.prepare(model, register.iloc[:0], register)
    return row_keys(comparison.with_context(model, tables)[1], secret)


def place(helper: ProcessPoolExecutor | None, register: pd.DataFrame) -> str | None:
    """Send `register` to the helper; its token, or None without a helper (or a dead one)."""
    if helper is None:
        return None
    token = secrets.token_hex(8)
    return token if submitted(helper, hold, token, register) is not None else None


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
