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
