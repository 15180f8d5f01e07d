"""Candidate pairs from several cheap keys taken together, so one error in any single field
(a typo in the given name, a wrong birth year, a missing ID) never hides a true match."""

from __future__ import annotations

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
    left_ix = left.reset_index(names="left")
    right_ix = right.reset_index(names="right")
    for rule in rules:
        cols = list(rule)
        a = left_ix[["left", *cols]].dropna(subset=cols)
        b = right_ix[["right", *cols]].dropna(subset=cols)
        if a.empty or b.empty:
            continue
        parts.append(a.merge(b, on=cols)[["left", "right"]])
    if not parts:
        return pd.DataFrame({"left": pd.Series(dtype="int64"), "right": pd.Series(dtype="int64")})
    pairs = pd.concat(parts, ignore_index=True).drop_duplicates()
    if same_table:
        pairs = pairs[pairs["left"] < pairs["right"]]
    return pairs.reset_index(drop=True)
