"""A night whose register changed blocks again only the list rows a changed resident can
reach (matching.memory): rows written by hand, each night run twice, recalling and with every
row blocked and compared again under the same model, which must agree."""

import numpy as np
import pandas as pd
import pytest

from reconcile.kinds import ListKind
from reconcile.matching import blocking
from reconcile.matching.engine import run_remembering
from reconcile.matching.memory import changed_residents, in_same_order
from reconcile.matching.weights import COMMUNE_MODEL

from conftest import people

SECRET = b"d" * 16
# 21 men of one name: one more than a loose block may hold (blocking.MAX_LOOSE_BLOCK)
AN_YEARS = [1940 + 2 * i for i in range(21)]


def _resident(code: str, name: str, birth: str, sex: str, pid: str, hamlet: str) -> dict:
    return {
        "resident_code": code,
        "full_name": name,
        "birth_date": birth,
        "sex": sex,
        "personal_id": pid,
        "hamlet": hamlet,
        "status": "Đang cư trú",
    }


def _register(an_years: list[int], extra: list[dict] = ()) -> pd.DataFrame:
    rows = [
        _resident(
            f"AN{year}",
            "Nguyễn Văn An",
            f"0{1 + year % 9}/0{1 + year % 7}/{year}",
            "Nam",
            f"0340{year % 100:02d}00{year:04d}",
            f"Thôn {1 + year % 5}",
        )
        for year in an_years
    ]
    rows += [
        _resident("B1", "Trần Thị Bình", "14/02/1972", "Nữ", "034172000001", "Thôn 2"),
        _resident("C1", "Lê Văn Cường", "03/08/1965", "Nam", "034065000002", "Thôn 3"),
        *extra,
    ]
    # numbered afresh: a resident's row number changes whenever one before him leaves
    return people(ListKind.REGISTER, rows, file="dan_cu.xlsx").reset_index(drop=True)


LIST_ROWS = [
    # found by name and year, yet no easy key: the loose keys look for it too
    {"full_name": "Nguyễn Văn An", "birth_date": "1980", "sex": "Nam"},
    {"full_name": "Trần Thị Bình", "birth_date": "14/02/1972", "sex": "Nữ"},
    {"full_name": "Lê Văn Cường", "birth_date": "03/08/1965", "sex": "Nam"},
    # no key finds her: the fuzzy fallback looks at everyone born near her
    {"full_name": "Vũ Thị Lan", "birth_date": "1975", "sex": "Nữ"},
]


def _nights(first: pd.DataFrame, second: pd.DataFrame, departed, rows: list[dict] = LIST_ROWS):
    """The list of `rows` linked to `first`, then to `second` twice from that night's memory:
    recalling, and with every pair blocked and compared again (both under the kept model)."""
    listed = people(ListKind.MEMBERSHIP, rows)
    night_1 = run_remembering(
        COMMUNE_MODEL, [listed], first, None, secret=SECRET, register_tag="night-1"
    )
    runs = [
        run_remembering(
            COMMUNE_MODEL,
            [listed],
            second,
            kept,
            retrain=False,
            secret=SECRET,
            register_tag="night-2",
            departed=departed,
        )
        for kept in (night_1.memory, night_1.memory.forget_pairs())
    ]
    return listed, night_1, *runs


def _met(run, listed, name: str, register: pd.DataFrame) -> set[str]:
    """The resident codes of those the row of `name` was compared with."""
    row = listed.index[listed["name_fold"] == name][0]
    scored = run.scored[0]
    return set(register.loc[scored.loc[scored["left"] == row, "right"], "resident_code"])


def test_a_resident_leaving_opens_a_loose_block_to_the_row_sharing_its_key():
    """One of 21 namesakes leaves: the name's block falls to 20 and the row of that name now
    meets all of them. Only that row is blocked again; the residents the others met are found
    by row key on the rows they now stand on."""
    first = _register(AN_YEARS)
    gone = first[first["resident_code"] == "AN1950"]
    second = _register([y for y in AN_YEARS if y != 1950])
    listed, night_1, again, full = _nights(first, second, ("night-1", gone))

    assert len(_met(night_1, listed, "nguyen van an", first)) < 20
    assert len(_met(full, listed, "nguyen van an", second)) == 20
    assert again.candidates_recalled == len(LIST_ROWS) - 1
    pd.testing.assert_frame_equal(again.scored[0], full.scored[0])


def test_a_resident_leaving_a_block_still_too_big_changes_nothing_for_its_row():
    """Of 22 namesakes one leaves: 21 stay, the name's block is still skipped, and the row of
    that name keeps its candidates."""
    years = [*AN_YEARS, 1982]
    first = _register(years)
    gone = first[first["resident_code"] == "AN1950"]
    second = _register([y for y in years if y != 1950])
    listed, night_1, again, full = _nights(first, second, ("night-1", gone))

    before = _met(night_1, listed, "nguyen van an", first)
    assert before == _met(full, listed, "nguyen van an", second) and len(before) < 20
    assert again.candidates_recalled == len(LIST_ROWS)
    pd.testing.assert_frame_equal(again.scored[0], full.scored[0])


def test_without_the_rows_that_left_every_row_is_blocked_again():
    """Somebody left and the reading does not say who (a register from a table): no row can
    be sure of its candidates."""
    first = _register(AN_YEARS)
    second = _register([y for y in AN_YEARS if y != 1950])
    for departed in (None, ("another-reading", first.iloc[:0])):
        _, _, again, full = _nights(first, second, departed)
        assert again.candidates_recalled == 0
        pd.testing.assert_frame_equal(again.scored[0], full.scored[0])


def test_a_resident_arriving_near_the_row_no_key_found_is_compared_with_it():
    """A resident with no key in common with the row the fuzzy fallback served, but a name
    like hers born a year apart: that row is blocked again and meets her; the rows of names she
    shares no key with keep their candidates. (The residents who came or went in the other
    tests were born too far from her to be near.)"""
    first = _register(AN_YEARS)
    lam = _resident("L1", "Vũ Thị Lam", "09/09/1976", "Nữ", "034176000003", "Thôn 4")
    second = _register(AN_YEARS, [lam])
    assert not blocking.rows_sharing_a_key(
        people(ListKind.MEMBERSHIP, LIST_ROWS[3:]),
        second[second["resident_code"] == "L1"],
        _every_rule(),
    ).any()
    listed, night_1, again, full = _nights(first, second, None)  # nobody left

    assert _met(night_1, listed, "vu thi lan", first) == set()
    assert _met(full, listed, "vu thi lan", second) == {"L1"}
    assert again.candidates_recalled == len(LIST_ROWS) - 1
    pd.testing.assert_frame_equal(again.scored[0], full.scored[0])


def test_a_namesake_arriving_leaves_the_row_an_easy_key_found_as_it_was():
    """A second Trần Thị Bình, born another day in another hamlet, shares only loose keys with
    the list's Bình, whom her name and full date found: the loose keys never look for that
    row, so it keeps its candidates."""
    first = _register(AN_YEARS)
    namesake = _resident("B2", "Trần Thị Bình", "05/05/1990", "Nữ", "034190000004", "Thôn 5")
    second = _register(AN_YEARS, [namesake])
    listed, night_1, again, full = _nights(first, second, None)

    assert _met(full, listed, "tran thi binh", second) == {"B1"}
    assert again.candidates_recalled == len(LIST_ROWS)
    pd.testing.assert_frame_equal(again.scored[0], full.scored[0])


def test_the_same_residents_in_another_order_have_the_fuzzy_fallback_look_again():
    """Six residents as close to Vũ Thị Lan as each other (one letter off, none sharing a key
    with her row): the fuzzy fallback keeps the first five it meets. The register comes back
    in reverse order, nobody changed: the rows keys found keep their candidates, hers is
    blocked again and meets the five now first."""
    close = [
        _resident(f"V{given}", f"Vũ Thị {given}", "1976", "Nữ", f"03417600{i:04d}", "Thôn 4")
        for i, given in enumerate(("Lam", "Lai", "Lao", "Lau", "Lap", "Lat"))
    ]
    first = _register(AN_YEARS[:3], close)
    second = first.iloc[::-1].reset_index(drop=True)
    assert not blocking.rows_sharing_a_key(
        people(ListKind.MEMBERSHIP, LIST_ROWS[3:]), first, _every_rule()
    ).any()
    listed, night_1, again, full = _nights(first, second, None)

    before = _met(night_1, listed, "vu thi lan", first)
    after = _met(full, listed, "vu thi lan", second)
    assert len(before) == len(after) == 5 and before != after
    assert again.candidates_recalled == len(LIST_ROWS) - 1
    pd.testing.assert_frame_equal(again.scored[0], full.scored[0])


def _every_rule():
    rules = COMMUNE_MODEL.blocking
    return rules.rules + rules.easy_rules + rules.loose_rules


@pytest.mark.parametrize(
    ("before", "now", "changed"),
    [
        # the same residents on other rows: nobody changed
        ([1, 2, 3], [3, 1, 2], [False, False, False]),
        # one edited (2 -> 7), one arrived (9)
        ([1, 2, 3], [1, 7, 3, 9], [False, True, False, True]),
        # two alike last night, or tonight: neither stands one for one for anybody
        ([1, 2, 2, 3], [1, 2, 3, 3], [False, True, True, True]),
    ],
)
def test_changed_residents_are_those_not_standing_one_for_one(before, now, changed):
    mask = changed_residents(np.array(before, np.uint64), np.array(now, np.uint64))
    assert mask.tolist() == changed


def _province(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    """A register of two communes from (code, name, birth, sex, commune)."""
    residents = [
        {**_resident(code, name, birth, sex, f"0341{i:08d}", "Thôn 1"), "commune": commune}
        for i, (code, name, birth, sex, commune) in enumerate(rows)
    ]
    return people(ListKind.REGISTER, residents, file="dan_cu.xlsx").reset_index(drop=True)


def test_across_communes_a_resident_who_moved_reaches_the_rows_of_his_new_commune_only():
    """A province register: Nguyễn Văn Minh moves from Xã An Bình to Xã Phú Mỹ, and a Vũ Thị
    Lam close to the list's Vũ Thị Lan arrives in An Bình. Minh's row (Phú Mỹ, a year only,
    found by name and year within its commune) meets him tonight and is blocked again; Lan's
    row, which no key found, is in Phú Mỹ, where the fallback does not look at An Bình's
    residents, so it keeps its candidates."""
    others = [
        ("B1", "Trần Thị Bình", "14/02/1972", "Nữ", "Xã Phú Mỹ"),
        ("C1", "Lê Văn Cường", "03/08/1965", "Nam", "Xã An Bình"),
    ]
    first = _province([("M1", "Nguyễn Văn Minh", "07/07/1980", "Nam", "Xã An Bình"), *others])
    second = _province(
        [
            ("M1", "Nguyễn Văn Minh", "07/07/1980", "Nam", "Xã Phú Mỹ"),
            *others,
            ("L1", "Vũ Thị Lam", "09/09/1976", "Nữ", "Xã An Bình"),
        ]
    )
    rows = [
        {"full_name": "Nguyễn Văn Minh", "birth_date": "1980", "commune": "Xã Phú Mỹ"},
        {"full_name": "Trần Thị Bình", "birth_date": "14/02/1972", "commune": "Xã Phú Mỹ"},
        {"full_name": "Vũ Thị Lan", "birth_date": "1975", "commune": "Xã Phú Mỹ"},
    ]
    gone = first[first["resident_code"] == "M1"]
    listed, _, again, full = _nights(first, second, ("night-1", gone), rows)

    assert _met(full, listed, "nguyen van minh", second) >= {"M1"}
    assert _met(full, listed, "vu thi lan", second) == set()
    assert again.candidates_recalled == 2
    pd.testing.assert_frame_equal(again.scored[0], full.scored[0])


@pytest.mark.parametrize(
    ("before", "steady", "same"),
    [
        ([1, 2, 3, 4], [1, 3, 4], True),
        ([1, 2, 3, 4], [3, 1, 4], False),
        # a key twice last night (two residents alike) is no one's: the others still say
        ([5, 1, 5, 3], [1, 3], True),
        ([5, 1, 5, 3], [3, 1], False),
    ],
)
def test_the_steady_residents_order_is_read_among_those_once_last_night(before, steady, same):
    keys = np.array(before, np.uint64)
    assert in_same_order(keys, np.array(steady, np.uint64)) is same
