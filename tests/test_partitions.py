"""What crosses to another process arrives as it left. A partition of the pairs, sent with only
the rows and columns it needs (`subset`), compares exactly as the whole tables do; a table
pickled column by column (the register placed in the helper) is the table. Rows are typed by
hand in the ways domain.md lists, and every row is paired with every resident so that every
level is met."""

import datetime as dt
import itertools

import pandas as pd

from reconcile.frames import pickled_by_column, unpickled_by_column
from reconcile.kinds import ListKind
from reconcile.matching.engine import comparison_of
from reconcile.matching.weights import COMMUNE_MODEL

from conftest import people

ROWS = [
    # old tone placement, Thị dropped, year only
    {"full_name": "NGUYỄN HOÀ", "birth_date": "1951", "sex": "nữ", "hamlet": "thôn đông"},
    # no diacritics, the ID's leading zero lost
    {"full_name": "Tran Van Lam", "birth_date": "2/9/1990", "personal_id": 34090000222},
    # a dialect spelling, one ID digit mistyped, day and month swapped
    {"full_name": "Trần Văn Nâm", "birth_date": "09/02/1990", "personal_id": "034090000223"},
    # old tone placement, the year mistyped, an insurance number
    {
        "full_name": "Nguyễn Thị Hoà",
        "birth_date": "12/03/1952",
        "sex": "Nữ",
        "insurance_number": "HT3343400000001",
    },
    # syllables glued, a wrong sex against a name that says Thị, a day mistyped
    {"full_name": "Lê VănTú", "birth_date": "06/05/1960", "sex": "Nữ", "hamlet": "Thôn Trung"},
    # one mark left off, and a sex no resident of that name has
    {"full_name": "Phạm Thi Gấm", "birth_date": "1938", "sex": "Nam", "hamlet": "Thôn Hạ"},
    # another middle name; the year's digits swapped
    {"full_name": "Lê Minh Tú", "birth_date": "20/11/1960", "personal_id": "034060000444"},
    {"full_name": "Phạm Thị Gấm", "birth_date": "1983", "sex": "Nữ"},
    # a stranger
    {"full_name": "Đỗ Quang Huy", "birth_date": "1979", "sex": "Nam", "hamlet": "Xóm Mới"},
]


def test_a_partition_of_rows_and_columns_compares_as_the_whole_tables(register):
    model = COMMUNE_MODEL
    comparison = comparison_of(model)
    rows = people(ListKind.WELFARE, ROWS)
    whole = comparison.with_context(model, (rows, register))
    every = pd.DataFrame(
        list(itertools.product(rows.index, register.index)), columns=["left", "right"]
    )
    expected = comparison.compare(model, whole, every)
    met = {f: set(expected[f]) for f in ("name", "birth", "sex", "pid", "insurance", "hamlet")}
    assert met["name"] >= {"exact", "no_diacritics", "phonetic", "dropped_middle", "other"}
    assert met["birth"] >= {"exact", "partial", "swapped", "year_typo", "day_typo"}
    assert met["sex"] >= {"equal", "differ", "differ_slip"}
    assert met["pid"] >= {"equal", "one_digit", "differ", "missing"}
    assert met["insurance"] >= {"equal", "missing"}
    assert met["hamlet"] >= {"equal", "differ", "missing"}
    # three partitions, each with only what it names
    for part in (every.iloc[:10], every.iloc[10:25], every.iloc[25:]):
        part = part.reset_index(drop=True)
        sent = comparison.subset(model, whole, part)
        assert len(sent[1]) <= part["right"].nunique()
        assert len(sent[1].columns) < len(register.columns) / 2
        pd.testing.assert_frame_equal(
            comparison.compare(model, sent, part),
            comparison.compare(model, whole, part),
        )


def test_a_table_pickled_column_by_column_is_the_table(register):
    rows = people(ListKind.WELFARE, ROWS)
    rows["flag"] = pd.Categorical(["a", None, "b", "a", "b", None, "a", "a", "b"])
    # an object column of datetimes stays one (a DataFrame built from the bare array makes it
    # datetime64)
    rows["seen"] = pd.Series([dt.datetime(2026, 1, i + 1) for i in range(len(rows))], dtype=object)
    rows.index = rows.index * 7 + 3  # labels that are not positions
    for table in (register, rows, rows.iloc[2:6], rows.iloc[:0]):
        back = unpickled_by_column(pickled_by_column(table))
        pd.testing.assert_frame_equal(back, table, check_exact=True)
        assert len(pickled_by_column(table)) == len(table.columns) + 1
