"""Small helpers over whole columns."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import numpy as np
import pandas as pd


def joined(frame: pd.DataFrame, columns) -> pd.Series:
    """The columns' values as one text key per row ("a|b"), built column-wise: DataFrame.agg
    with str.join calls Python once per row, which costs seconds on a province register."""
    columns = list(columns)
    key = frame[columns[0]].astype(str)
    for column in columns[1:]:
        key = key + "|" + frame[column].astype(str)
    return key


def per_distinct(values, fn: Callable[[object], object], missing=None, dtype=object) -> np.ndarray:
    """fn of every value, called once per distinct value (a column of 300,000 cells holds far
    fewer sexes, dates or hamlets); `missing` where a value is missing."""
    codes, distinct = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    return np.array([*map(fn, distinct), missing], dtype=dtype)[codes]


def equal_cells(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Where two object arrays hold the same value, a missing one (None, NaN) equal to any
    missing one. NaN differs from itself under ==, so only the cells that differ are asked."""
    equal = np.asarray(left == right, dtype=bool)
    differ = np.flatnonzero(~equal)
    equal[differ] = pd.isna(left[differ]) & pd.isna(right[differ])
    return equal


def shared_values(values) -> np.ndarray:
    """Equal values as one object: a key of few distinct values (an ID's first half, a hamlet)
    then costs a pointer a row instead of a string a row, in memory and in every pickle that
    carries the table to another process."""
    return per_distinct(values, lambda value: value)


def pair_codes(left: np.ndarray, right: np.ndarray) -> np.ndarray | None:
    """One int64 per (left, right) pair of integer labels: equal exactly where the pairs are,
    and in (left, right) order, so one sort or hash does what two columns need two for. None
    when the labels' ranges are too wide for an int64."""
    if not len(left):
        return np.zeros(0, dtype=np.int64)
    low_left, low_right = int(left.min()), int(right.min())
    width = int(right.max()) - low_right + 1
    if (int(left.max()) - low_left + 1) * width >= 1 << 62:
        return None
    left, right = left.astype(np.int64, copy=False), right.astype(np.int64, copy=False)
    return (left - low_left) * width + (right - low_right)


def pair_positions(pairs: pd.DataFrame, wanted: pd.DataFrame) -> np.ndarray | None:
    """The row positions in `pairs` of the `wanted` (left, right) pairs (right NaN or absent:
    -1); None unless the pairs' labels are non-negative integers that key each pair once."""
    if not pd.api.types.is_numeric_dtype(wanted["right"]):
        return None
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    want_left = wanted["left"].to_numpy()
    want_right = wanted["right"].to_numpy(dtype="float64", na_value=np.nan)
    if not len(right) or not len(want_left) or left.dtype.kind + right.dtype.kind != "ii":
        return None
    if want_left.dtype.kind != "i" or min(left.min(), right.min(), want_left.min()) < 0:
        return None
    width = int(max(right.max(), np.nanmax(want_right, initial=0))) + 2  # width - 1: no pair
    if (int(max(left.max(), want_left.max())) + 1) * width >= 1 << 62:
        return None
    keys = pd.Index(left.astype("int64") * width + right)
    if not keys.is_unique:
        return None
    absent = np.nan_to_num(want_right, nan=width - 1).astype("int64")
    return keys.get_indexer(want_left.astype("int64") * width + absent)


def pickled_by_column(frame: pd.DataFrame) -> list[bytes]:
    """`frame` pickled for another process as its index, its column names and one pickle per
    column: one pickle of the whole frame keeps a memo entry for every cell's object (13 M
    for a 300k register), and took 1.4 times as long. unpickled_by_column rebuilds it."""
    dump = pickle.HIGHEST_PROTOCOL
    if not frame.columns.is_unique:  # not one of our tables: pickled whole
        return [pickle.dumps(frame, protocol=dump)]
    return [
        pickle.dumps((frame.index, list(frame.columns)), protocol=dump),
        *(pickle.dumps(_values(frame[column]), protocol=dump) for column in frame.columns),
    ]


def _values(column: pd.Series):
    # a NumPy column as its ndarray: a DataFrame built from pandas' wrapper of an object array
    # looks for missing values in every cell (0.3 s for a 300k register)
    return column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array


def unpickled_by_column(parts: list[bytes]) -> pd.DataFrame:
    if len(parts) == 1:
        return pickle.loads(parts[0])
    index, columns = pickle.loads(parts[0])
    # each column's own dtype given: an object column of datetimes stays one
    arrays = (pickle.loads(part) for part in parts[1:])
    return pd.DataFrame(
        {
            name: pd.Series(values, index=index, dtype=values.dtype, copy=False)
            for name, values in zip(columns, arrays, strict=True)
        },
        copy=False,
    )
