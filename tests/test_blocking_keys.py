"""Blocking's keys against their definition, checked by brute force over every pair: a rule pairs
two rows exactly when each of its columns is present and equal on both, a loose rule only where
few residents share the key, and no pair comes twice. Small alphabets make many rows share one
column but not the other, where a key that mixed its columns badly would pair them."""

import itertools

import numpy as np
import pandas as pd
import pytest

from reconcile.matching import blocking
from reconcile.matching.blocking import candidate_pairs

NAMES = ["nguyen van an", "tran thi binh", "le van cuong", "pham thi dung", "hoang van em"]
RULES = (("name_fold", "birth_year"), ("name_fold", "birth_month"), ("birth_year", "birth_month"))


def _table(rows: int, seed: int, start: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = rng.choice([1990, 1991, 1992, 1993, -1], rows)
    months = rng.choice([1, 2, 3, -1], rows)
    return pd.DataFrame(
        {
            "name_fold": np.array(rng.choice([*NAMES, None], rows), dtype=object),
            "birth_year": pd.array(np.where(years < 0, None, years), dtype="Int64"),
            "birth_month": pd.array(np.where(months < 0, None, months), dtype="Int64"),
        },
        index=pd.RangeIndex(start, start + rows),
    )


def _shares(a: pd.Series, b: pd.Series, rule) -> bool:
    return all(pd.notna(a[c]) and pd.notna(b[c]) and a[c] == b[c] for c in rule)


def _brute_force(left, right, rules, max_block=None) -> set:
    pairs = set()
    for rule in rules:
        sizes = right.dropna(subset=list(rule)).groupby(list(rule)).size()
        for (i, a), (j, b) in itertools.product(left.iterrows(), right.iterrows()):
            if not _shares(a, b, rule):
                continue
            if max_block is None or sizes[tuple(b[c] for c in rule)] <= max_block:
                pairs.add((i, j))
    return pairs


@pytest.fixture(params=itertools.product(["merge", "search"], ["all values", "rows' values"]))
def tables(request, monkeypatch):
    """Both joins: pandas' merge, and the sort-and-search join blocking uses when few residents
    share a key with any row; and both codings: every distinct value of both tables, and the
    register looked up among the rows' values (used when the rows are few)."""
    join, coding = request.param
    monkeypatch.setattr(blocking, "SEARCH_JOIN_BELOW", 10**9 if join == "merge" else 0)
    monkeypatch.setattr(blocking, "FEW_ROWS_BELOW", 10**9 if coding == "all values" else 0)
    return _table(60, 1, start=0), _table(90, 2, start=1000)


def _pairs(left, right, **rules) -> pd.DataFrame:
    return candidate_pairs(left, right, fuzzy=False, easy_rules=(), **rules)


def _as_set(pairs: pd.DataFrame) -> set:
    assert not pairs.duplicated().any()
    return set(zip(pairs["left"], pairs["right"], strict=True))


def test_exact_rules_pair_rows_equal_on_every_column(tables):
    left, right = tables
    pairs = _pairs(left, right, rules=RULES, loose_rules=())
    assert _as_set(pairs) == _brute_force(left, right, RULES)
    assert len(pairs) > 100


def test_a_loose_rule_pairs_only_where_few_residents_share_the_key(tables):
    left, right = tables
    rule = (("name_fold", "birth_year"),)
    pairs = _pairs(left, right, rules=(), loose_rules=rule, max_loose_block=3)
    assert _as_set(pairs) == _brute_force(left, right, rule, max_block=3)
    assert 0 < len(pairs) < len(_brute_force(left, right, rule))


def test_keys_made_dense_on_the_way_give_the_same_pairs(tables, monkeypatch):
    left, right = tables
    wide = _pairs(left, right, rules=RULES, loose_rules=())
    monkeypatch.setattr(blocking, "_KEY_LIMIT", 4)  # every column made dense before mixing
    dense = _pairs(left, right, rules=RULES, loose_rules=())
    pd.testing.assert_frame_equal(wide, dense)


def test_the_two_joins_give_the_same_pairs_in_the_same_order(monkeypatch):
    """The join chosen by how many residents are asked for changes nothing downstream: not the
    pairs, not their order (the decision's ties fall by it), on a few rows or on many."""
    right = _table(400, 4, start=5000)
    for left in (_table(8, 3, start=0), _table(300, 5, start=0)):
        found = {}
        for join, below in (("merge", 10**9), ("search", 0)):
            monkeypatch.setattr(blocking, "SEARCH_JOIN_BELOW", below)
            found[join] = _pairs(left, right, rules=RULES, loose_rules=RULES[:1])
        assert len(found["merge"]) > len(left)
        pd.testing.assert_frame_equal(found["merge"], found["search"])


def test_few_rows_coded_alone_give_the_pairs_of_the_full_coding(monkeypatch):
    """A night's few changed rows: the register is looked up among their values, not coded in
    full. Same pairs in the same order, also where a year is Int64 on one side and float on the
    other (1990 and 1990.0 are one year) and where a value is missing."""
    right = _table(400, 4, start=5000)
    right["birth_year"] = right["birth_year"].astype("float64")
    left = _table(12, 3, start=0)
    assert len(left) * blocking.FEW_ROWS_BELOW <= len(right)  # the lookup is taken
    found = {}
    for coding, below in (("few", blocking.FEW_ROWS_BELOW), ("all", 10**9)):
        monkeypatch.setattr(blocking, "FEW_ROWS_BELOW", below)
        found[coding] = _pairs(left, right, rules=RULES, loose_rules=RULES[:1])
    pd.testing.assert_frame_equal(found["few"], found["all"])
    assert _as_set(found["few"]) >= _brute_force(left, right, RULES)
    assert len(found["few"]) > len(left)
