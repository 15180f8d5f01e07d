"""The comparison's levels on hand-written pairs: each name level where a reader would put it,
the strongest level winning where several hold, and the score the sum of the levels' weights."""

import pandas as pd

from reconcile.kinds import ListKind
from reconcile.matching.comparison import LEVELS, compare

from conftest import people

# (list row's name, sex, ID) → (name level, sex level, ID level) against the conftest
# register's NK2, Trần Văn Lâm, born 02/09/1990, a man, ID 034090000222. The levels
# that only a weaker test (names alike by rapidfuzz) would give sit between stronger ones, so
# a level put on the wrong pair shows.
CASES = [
    (("Trần Văn Lâm", "Nam", "034090000222"), ("exact", "equal", "equal")),
    (("Tran Van Lam", "Nam", "034090000223"), ("no_diacritics", "equal", "one_digit")),
    (("Trần Văn Lâmm", "Nam", None), ("close", "equal", "missing")),
    (("TRẦN LÂM", "Nam", None), ("dropped_middle", "equal", "missing")),
    (("Hoàng Thị Mai", "Nữ", "001090000999"), ("other", "differ", "differ")),
    (("Trần Văn Lầm", "Nữ", None), ("folded", "differ_slip", "missing")),
    (("Trần Văn Lăm", "Nam", None), ("folded", "equal", "missing")),
    (("Trần Minh Lâm", "Nam", None), ("middle_differs", "equal", "missing")),
    (("Trần Văn Lâmn", "Nam", None), ("close", "equal", "missing")),
    (("Trương Văn Lâm", "Nam", None), ("other", "equal", "missing")),  # 84.6 alike
    (("Trầnn Văn Lâm", "Nam", None), ("close", "equal", "missing")),
    (("Trần Văn Tâm", "Nam", None), ("close", "equal", "missing")),
    (("Trần Văn Lâm", "Nam", "034090000222"), ("exact", "equal", "equal")),
    (("Lê Thị Lan", "Nữ", None), ("other", "differ", "missing")),
]


def _compared(register, cases):
    listed = people(
        ListKind.MEMBERSHIP,
        [
            {"full_name": name, "birth_date": "02/09/1990", "sex": sex, "personal_id": pid}
            for (name, sex, pid), _ in cases
        ],
    )
    lam = register.index[register["resident_code"] == "NK2"][0]
    pairs = pd.DataFrame({"left": listed.index, "right": lam})
    return compare(listed, register, pairs)


def test_each_pair_lands_on_the_level_a_reader_would_give(register):
    compared = _compared(register, CASES)
    got = list(zip(compared["name"], compared["sex"], compared["pid"], strict=True))
    assert got == [levels for _, levels in CASES]
    assert (compared["birth"] == "exact").all()


def test_the_score_is_the_sum_of_the_levels_weights(register):
    compared = _compared(register, CASES)
    for _, pair in compared.iterrows():
        weights = sum(LEVELS[field][pair[field]][0] for field in LEVELS)
        assert pair["score"] == round(weights, 2)
    assert compared["score"].nunique() > 4
