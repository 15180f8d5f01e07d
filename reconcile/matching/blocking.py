"""Candidate pairs from several cheap keys taken together, so one error in any single field
(a typo in the given name, a wrong birth year, a missing ID) never hides a true match."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Each rule: the columns that must all be present and equal on both sides.
BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("pid",),
    ("insurance",),
    ("name_fold", "birth_year"),
    ("name_nomid_fold", "birth_year"),
    ("family_fold", "given_fold", "hamlet_key"),  # a wrong birth year, a dropped middle name
    ("given_phon", "birth_year", "birth_month", "birth_day"),  # family or middle name errors
    ("family_fold", "birth_year", "birth_month", "birth_day"),  # given-name typos
    ("name_phon", "hamlet_key"),  # dialect spellings with a wrong date
    # dialect or i/y spellings, Văn/Thị dropped or not, on lists that give only a year
    ("name_nomid_phon", "birth_year"),
)


def _rule_keys(
    left: pd.DataFrame, right: pd.DataFrame, rule: tuple[str, ...], codes: dict
) -> tuple[np.ndarray, np.ndarray]:
    """One integer per row for a rule's columns together, equal across the two tables exactly
    when every column is equal; -1 where any is empty. Joining on one integer is several times
    faster than joining on several text columns."""
    key = None
    for column in rule:
        if column not in codes:
            both = pd.concat([left[column], right[column]], ignore_index=True).astype(object)
            codes[column] = pd.factorize(both, use_na_sentinel=True)[0]
        code = codes[column]
        if key is None:
            key = code.astype(np.int64)
        else:
            combined = np.where((key < 0) | (code < 0), -1, key * (code.max() + 1) + code)
            key = np.where(combined < 0, -1, pd.factorize(combined)[0])
    return key[: len(left)], key[len(left) :]


def candidate_pairs(
    left: pd.DataFrame,
    right: pd.DataFrame,
    same_table: bool = False,
    rules: tuple[tuple[str, ...], ...] = BLOCKING_RULES,
) -> pd.DataFrame:
    """Distinct (left index, right index) pairs sharing any blocking key of `rules`.

    With same_table, each unordered pair appears once (left < right) and no row pairs itself.
    """
    parts = []
    codes: dict[str, np.ndarray] = {}
    left_index, right_index = left.index.to_numpy(), right.index.to_numpy()
    for rule in rules:
        left_key, right_key = _rule_keys(left, right, rule, codes)
        a = pd.DataFrame({"left": left_index[left_key >= 0], "key": left_key[left_key >= 0]})
        b = pd.DataFrame({"right": right_index[right_key >= 0], "key": right_key[right_key >= 0]})
        if a.empty or b.empty:
            continue
        parts.append(a.merge(b, on="key")[["left", "right"]])
    if not parts:
        return pd.DataFrame({"left": pd.Series(dtype="int64"), "right": pd.Series(dtype="int64")})
    pairs = pd.concat(parts, ignore_index=True).drop_duplicates()
    if same_table:
        pairs = pairs[pairs["left"] < pairs["right"]]
    return pairs.reset_index(drop=True)
