"""Since July 2025 a province's register spans many communes, each with its own "Thôn 1": every
key that uses a place carries the commune, or the same hamlet name joins strangers."""

import pandas as pd

from reconcile.kinds import ListKind
from reconcile.matching.blocking import candidate_pairs
from reconcile.matching.comparison import compare
from reconcile.normalize.people import inherit_commune, normalize_people, single_commune

COMMUNES = [f"Xã Tân {n}" for n in ("An", "Bình", "Châu", "Định", "Hòa", "Khánh")] * 5


def _raw(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.insert(0, "source_row", range(2, 2 + len(frame)))
    frame.insert(0, "source_sheet", "S")
    frame.insert(0, "source_file", "f.xlsx")
    return frame


def province_register() -> pd.DataFrame:
    """One "Nguyễn Văn Minh" in Thôn 3 of each of 30 communes, each born another year."""
    rows = [
        {
            "full_name": "Nguyễn Văn Minh",
            "birth_date": f"{1950 + i}",
            "sex": "Nam",
            "hamlet": "Thôn 3",
            "commune": f"{commune} {i}",
            "status": "Đang cư trú",
        }
        for i, commune in enumerate(COMMUNES)
    ]
    return normalize_people(_raw(rows), ListKind.REGISTER)


def test_the_same_hamlet_name_in_two_communes_is_two_places():
    register = province_register()
    assert register["hamlet_key"].nunique() == len(register)
    listed = normalize_people(
        _raw([{"full_name": "Nguyễn Văn Minh", "hamlet": "thôn 3", "commune": COMMUNES[7] + " 7"}]),
        ListKind.MEMBERSHIP,
    )
    pairs = pd.DataFrame({"left": [0] * len(register), "right": register.index})
    levels = compare(listed, register, pairs)["hamlet"].astype(str)
    assert (levels == "equal").sum() == 1 and levels.iloc[7] == "equal"


def test_a_wrong_year_still_finds_its_resident_among_thirty_namesakes_of_one_hamlet_name():
    """Year 1999 instead of 1957, no ID: only the name-and-hamlet key can find him; with hamlet
    keys that forget the commune its block holds 30 residents and is skipped as too common."""
    register = province_register()
    listed = normalize_people(
        _raw(
            [
                {
                    "full_name": "Nguyễn Văn Minh",
                    "birth_date": "1999",
                    "hamlet": "Thôn 3",
                    "commune": COMMUNES[7] + " 7",
                }
            ]
        ),
        ListKind.MEMBERSHIP,
    )
    pairs = candidate_pairs(listed, register, fuzzy=False)
    assert list(pairs["right"]) == [register.index[7]]


def test_a_communes_own_list_takes_the_registers_one_commune():
    rows = [{"full_name": "Lê Thị Hoa", "birth_date": "1970", "hamlet": "Thôn 1"}]
    register = normalize_people(
        _raw([{**rows[0], "commune": "Xã Tân An", "status": "Đang cư trú"}]), ListKind.REGISTER
    )
    listed = normalize_people(_raw(rows), ListKind.MEMBERSHIP)
    assert single_commune(register) == "tan an"
    listed = inherit_commune(listed, single_commune(register))
    level = compare(listed, register, pd.DataFrame({"left": [0], "right": [0]}))["hamlet"]
    assert str(level.iloc[0]) == "equal"


def _model_pairs(listed: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """Candidate pairs as the commune model blocks them (its rules, its fuzzy fallback)."""
    from reconcile.matching.engine import comparison_of
    from reconcile.matching.weights import COMMUNE_MODEL

    return comparison_of(COMMUNE_MODEL).candidates(COMMUNE_MODEL, (listed, register))


def namesakes_register() -> pd.DataFrame:
    """One "Trần Thị Lan" born in 1980 (the year only) in each of 30 communes, no IDs."""
    rows = [
        {
            "full_name": "Trần Thị Lan",
            "birth_date": "1980",
            "sex": "Nữ",
            "hamlet": f"Thôn {i % 4 + 1}",
            "commune": f"{commune} {i}",
            "status": "Đang cư trú",
        }
        for i, commune in enumerate(COMMUNES)
    ]
    return normalize_people(_raw(rows), ListKind.REGISTER)


def test_a_province_meets_a_row_with_its_own_communes_namesakes_not_the_provinces():
    """A name and a birth year say nothing of where: across a province such a block grows with
    the register (30 namesakes here, hundreds in a real one). A row naming its commune meets
    that commune's namesake; a row naming none still meets all of them."""
    register = namesakes_register()
    own = {"full_name": "Trần Thị Lan", "birth_date": "1980", "hamlet": "Thôn 2"}
    listed = normalize_people(
        _raw([{**own, "commune": COMMUNES[5] + " 5"}, {**own, "commune": None}]),
        ListKind.MEMBERSHIP,
    )
    pairs = _model_pairs(listed, register)
    assert list(pairs.loc[pairs["left"] == listed.index[0], "right"]) == [register.index[5]]
    assert set(pairs.loc[pairs["left"] == listed.index[1], "right"]) == set(register.index)


def test_a_resident_who_moved_is_still_found_by_full_date_or_id_across_communes():
    register = namesakes_register()
    moved = register.index[11]
    listed = normalize_people(
        _raw(
            [
                # registered in commune 11, listed in commune 3, a full date only she has
                {"full_name": "Nguyễn Thị Mai", "birth_date": "14/03/1979", "commune": "Xã X 3"},
            ]
        ),
        ListKind.MEMBERSHIP,
    )
    mover = normalize_people(
        _raw(
            [
                {
                    "full_name": "Nguyễn Thị Mai",
                    "birth_date": "14/03/1979",
                    "sex": "Nữ",
                    "hamlet": "Thôn 1",
                    "commune": "Xã Y 11",
                    "status": "Đang cư trú",
                }
            ]
        ),
        ListKind.REGISTER,
    )
    register = pd.concat([register.drop(index=moved), mover.set_axis([moved])]).sort_index()
    pairs = _model_pairs(listed, register)
    assert list(pairs["right"]) == [moved]


def test_the_fuzzy_fallback_looks_within_the_rows_commune():
    """A name no key finds ("Tran Thi Lann", no year) is compared by similarity with the
    residents of its own commune, not the province's 30 namesakes."""
    register = namesakes_register()
    listed = normalize_people(
        _raw([{"full_name": "Trần Thị Lann", "commune": COMMUNES[9] + " 9"}]),
        ListKind.MEMBERSHIP,
    )
    pairs = _model_pairs(listed, register)
    assert list(pairs["right"]) == [register.index[9]]
