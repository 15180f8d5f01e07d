import datetime as dt

import pandas as pd
import pytest

from reconcile.kinds import ListKind
from reconcile.matching.comparison import compare, differs
from reconcile.normalize.dates import DateError, PartialDate, Precision, parse_date
from reconcile.normalize.identifiers import (
    IdError,
    parse_insurance_number,
    parse_personal_id,
)
from reconcile.normalize.sex_and_place import hamlet_key, parse_sex

from conftest import people

TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(
    ("cell", "expected", "precision"),
    [
        (dt.datetime(1985, 9, 5), PartialDate(1985, 9, 5), Precision.DAY),
        ("05/09/1985", PartialDate(1985, 9, 5), Precision.DAY),
        ("5/9/1985", PartialDate(1985, 9, 5), Precision.DAY),
        ("5/3/50", PartialDate(1950, 3, 5), Precision.DAY),  # 2050 would be in the future
        ("5/3/19", PartialDate(2019, 3, 5), Precision.DAY),
        ("1985-09-05", PartialDate(1985, 9, 5), Precision.DAY),
        (31295, PartialDate(1985, 9, 5), Precision.DAY),  # an Excel serial number
        ("1950", PartialDate(1950), Precision.YEAR),
        (1950.0, PartialDate(1950), Precision.YEAR),
        ("00/00/1948", PartialDate(1948), Precision.YEAR),
        ("03/1961", PartialDate(1961, 3), Precision.MONTH),
        ("ngày 5 tháng 3 năm 1950", PartialDate(1950, 3, 5), Precision.DAY),
        ("Năm 1950", PartialDate(1950), Precision.YEAR),
    ],
)
def test_dates_as_lists_write_them(cell, expected, precision):
    parsed = parse_date(cell, TODAY)
    assert parsed == expected
    assert parsed.precision is precision


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("31/02/1990", "no such calendar date"),
        ("12/13/2001", "month out of range"),
        ("01/01/2030", "future"),
        ("1850", "before 1890"),
        ("không rõ", "unreadable"),
    ],
)
def test_impossible_dates_are_rejected_with_a_reason(cell, reason):
    with pytest.raises(DateError, match=reason):
        parse_date(cell, TODAY)


@pytest.mark.parametrize(
    ("listed", "registered", "agree"),
    [
        ("1950", "05/03/1950", True),  # a bare year agrees with any date of that year
        ("01/01/1950", "05/03/1950", True),  # 01/01 typed when only the year is known
        ("1951", "05/03/1950", False),
        ("06/03/1950", "05/03/1950", False),
        ("05/03/1950", "5/3/1950", True),
    ],
)
def test_dates_agree_at_the_precision_both_sides_share(listed, registered, agree):
    left = people(ListKind.MEMBERSHIP, [{"full_name": "A", "birth_date": listed}])
    right = people(ListKind.REGISTER, [{"full_name": "A", "birth_date": registered}])
    level = compare(left, right, pd.DataFrame({"left": [0], "right": [0]}))["birth"]
    assert (not differs("birth", level.astype(str).to_numpy())[0]) is agree


@pytest.mark.parametrize(
    ("cell", "digits"),
    [
        ("034085001234", "034085001234"),
        (34085001234, "034085001234"),  # a numeric cell lost the leading zero
        (1196026437.0, "001196026437"),  # province 001 loses two
        ("034 085 001234", "034085001234"),
        ("34085001234", "034085001234"),  # pasted from such a cell
        ("012345678", "012345678"),  # old CMND
    ],
)
def test_personal_ids_keep_their_leading_zeros(cell, digits):
    assert parse_personal_id(cell).digits == digits


@pytest.mark.parametrize("cell", ["03408500123A", "1234", "0340850012345"])
def test_malformed_ids_are_rejected_without_quoting_them(cell):
    with pytest.raises(IdError) as error:
        parse_personal_id(cell)
    assert cell not in str(error.value)


def test_an_id_contradicting_its_record_is_reported():
    pid = parse_personal_id("034185001234")  # woman (1), 1900s, born 1985, Thái Bình
    assert pid.sex == "F" and pid.birth_year == 1985
    assert pid.contradictions("F", 1985) == []
    assert len(pid.contradictions("M", 1985)) == 1
    assert len(pid.contradictions("M", 1986)) == 2
    assert "province" in parse_personal_id("003185001234").contradictions("F", 1985)[0]
    assert pid.masked() == "034*******34"


def test_the_column_check_agrees_with_each_id_checked_alone():
    """id_contradictions over a column gives what PersonalId.contradictions gives row by row:
    every century digit, known and unknown provinces, sexes and years that fit or not, a CMND,
    an empty cell and an ID typed in full-width digits."""
    import random

    from reconcile.normalize.identifiers import id_contradictions

    rng = random.Random(7)
    rows = []
    for _ in range(400):
        digits = f"{rng.choice(['001', '034', '003', '079', '099'])}{rng.randint(0, 9)}"
        digits += f"{rng.randint(0, 99):02d}{rng.randint(0, 999999):06d}"
        rows.append((digits, rng.choice(["M", "F", None]), rng.choice([1985, 2001, None])))
    rows += [("034185001", "F", 1985), (None, "M", 1990), ("０３４１８５００１２３４", "M", 1985)]
    assert parse_personal_id("０３４１８５００１２３４").digits == "034185001234"
    expected = []
    for pid, sex, year in rows:
        parsed = parse_personal_id(pid) if pid and len(pid) == 12 else None
        expected.append("; ".join(parsed.contradictions(sex, year)) if parsed else "")
    # ASCII digits only (read as one digit matrix), then with the full-width one among them
    for count in (len(rows) - 1, len(rows)):
        frame = pd.DataFrame(rows[:count], columns=["pid", "sex", "birth_year"])
        frame["birth_year"] = frame["birth_year"].astype("Int64")
        got = id_contradictions(frame["pid"], frame["sex"], frame["birth_year"]).tolist()
        assert got == expected[:count]
    assert sum(1 for g in got if g) > 100 and got[-1] != ""


def test_insurance_numbers_compare_on_the_last_ten_digits():
    assert parse_insurance_number("HT3343412345678") == "3412345678"
    assert parse_insurance_number("3412345678") == "3412345678"
    with pytest.raises(IdError):
        parse_insurance_number("HT93434123")


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("Nam", "M"),
        ("nữ", "F"),
        ("NỮ", "F"),
        ("Nu", "F"),
        ("M", "M"),
        ("F", "F"),
        (1, "M"),
        (0, "F"),
        ("x", None),
        (None, None),
    ],
)
def test_sex_codes(cell, code):
    assert parse_sex(cell) == code


@pytest.mark.parametrize(
    ("cell", "key"),
    [
        ("Thôn 3", "3"),
        ("thôn Ba", "3"),
        ("T3", "3"),
        ("Thôn Trung", "trung"),
        ("Xóm Đông, xã An Bình", "dong"),
        ("thôn Nam", "nam"),
    ],
)
def test_hamlet_keys(cell, key):
    assert hamlet_key(cell) == key
