"""How a resident is named across runs (shared/design.md §3): by his personal ID where the
register holds a valid one that no other row holds; else by the register's resident code; else by
a key made from his own data (name, full birth date, sex, hamlet). Never by a row number: a new
export reorders rows, and every finding id and decision keyed to them would be lost."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from reconcile.frames import joined
from reconcile.normalize.identifiers import PROVINCE_CODES


def _own_data_key(register: pd.DataFrame) -> np.ndarray:
    def text(column: str) -> pd.Series:
        if column not in register:
            return pd.Series("", index=register.index)
        return register[column].astype(object).where(register[column].notna(), "").astype(str)

    parts = (
        text("name_canonical")
        + "|"
        + text("birth_display")
        + "|"
        + text("sex")
        + "|"
        + text("hamlet_key")
    )
    return np.array(
        ["DL" + hashlib.sha1(p.encode("utf-8")).hexdigest()[:10].upper() for p in parts],
        dtype=object,
    )


def resident_ids(register: pd.DataFrame, resident_code: pd.Series | None = None) -> np.ndarray:
    """One id per register row, unique within the register, independent of row order."""
    pid = register["pid"].astype(object)
    valid = (
        pid.notna()
        & (pid.astype(str).str.len() == 12)
        & pid.astype(str).str[:3].isin(PROVINCE_CODES)
    )
    unique = ~pid.where(valid).duplicated(keep=False) | ~valid
    ids = np.where(valid & unique, pid.astype(str), "").astype(object)
    if resident_code is not None:
        code = resident_code.astype(object).where(resident_code.notna(), "").astype(str)
        code = code.where(~code.duplicated(keep=False) | (code == ""), "")
        ids = np.where(ids == "", code.to_numpy(dtype=object), ids)
    missing = ids == ""
    if missing.any():
        ids[missing] = _own_data_key(register.loc[missing])
    # the same id twice (one person entered twice with nothing to tell them apart): numbered
    # in the order of the rest of their data, never of their rows
    # (only the rows sharing an id are ordered: joining and sorting every row's text cost 4 s
    # for a district's register, nearly all of whose ids are unique)
    shared = pd.Series(ids).duplicated(keep=False).to_numpy()
    if not shared.any():
        return ids.astype(object)
    twice = register[shared]
    rest = [c for c in ("name_raw", "pid", "insurance", "household") if c in register]
    content = joined(twice, rest) if rest else ""
    frame = pd.DataFrame({"id": ids[shared], "content": content}, index=twice.index)
    order = frame.sort_values(["id", "content"], kind="stable")
    repeat = order.groupby("id").cumcount().reindex(frame.index).to_numpy()
    ids[shared] = np.where(repeat > 0, ids[shared] + "-" + repeat.astype(str), ids[shared])
    return ids.astype(object)
