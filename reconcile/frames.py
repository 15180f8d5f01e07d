"""Small helpers over whole columns."""

from __future__ import annotations

import pandas as pd


def joined(frame: pd.DataFrame, columns) -> pd.Series:
    """The columns' values as one text key per row ("a|b"), built column-wise: DataFrame.agg
    with str.join calls Python once per row, which costs seconds on a province register."""
    columns = list(columns)
    key = frame[columns[0]].astype(str)
    for column in columns[1:]:
        key = key + "|" + frame[column].astype(str)
    return key
