import numpy as np
import pandas as pd

from reconcile.findings import ALL_COLUMNS, LinkedList, _filled_in_order, build_findings
from reconcile.kinds import ListKind
from reconcile.matching.decision import link, score_lists
from reconcile.matching.duplicates import find_register_duplicates

from conftest import people


def _link(kind, rows, register):
    table = people(kind, rows)
    links, scored = link(table, register)
    return table, links, scored


def _person(register, links, i):
    """The resident code of the row's resident (person ids are personal IDs where valid)."""
    right = links.at[i, "right"]
    return None if pd.isna(right) else register.at[right, "resident_code"]


def _codes(register, person_ids):
    code = dict(zip(register["person_id"], register["resident_code"], strict=True))
    return sorted(code.get(p, p) for p in person_ids)


def test_informal_spellings_still_match_the_right_person(register):
    rows = [
        # dropped Thị, old tone placement, upper case, year only
        {"full_name": "NGUYỄN HOÀ", "birth_date": "1951", "sex": "nữ", "hamlet": "thôn đông"},
        # typed without diacritics, ID lost its leading zero
        {"full_name": "Tran Van Lam", "birth_date": "2/9/1990", "personal_id": 34090000222},
    ]
    _, links, _ = _link(ListKind.MEMBERSHIP, rows, register)
    assert list(links["decision"]) == ["match", "match"]
    assert [_person(register, links, i) for i in range(2)] == ["NK1", "NK2"]


def test_a_dialect_misspelling_with_a_wrong_year_is_still_a_candidate(register):
    rows = [
        {
            "full_name": "Trần Văn Nâm",
            "birth_date": "02/09/1990",
            "sex": "Nam",
            "personal_id": "034090000222",
        }
    ]
    _, links, scored = _link(ListKind.VACCINATION, rows, register)
    assert links.at[0, "decision"] == "match"
    assert scored.loc[scored["right"] == links.at[0, "right"], "name"].item() in (
        "phonetic",
        "close",
    )


def test_two_namesakes_that_fit_equally_are_flagged_never_chosen(register):
    rows = [{"full_name": "Lê Văn Tú", "birth_date": "1960", "sex": "Nam", "hamlet": "Thôn Trung"}]
    _, links, _ = _link(ListKind.WELFARE, rows, register)
    assert bool(links.at[0, "ambiguous"])
    assert links.at[0, "decision"] == "possible"
    others = register.loc[links.at[0, "others"], "resident_code"]
    candidates = {_person(register, links, 0), *others}
    assert candidates == {"NK3", "NK4"}


def test_one_resident_is_claimed_by_one_row_of_a_list(register):
    rows = [
        {"full_name": "Trần Văn Lâm", "birth_date": "02/09/1990", "personal_id": "034090000222"},
        {"full_name": "Trần Văn Lâm", "birth_date": "1990"},
    ]
    _, links, _ = _link(ListKind.MEMBERSHIP, rows, register)
    assert links.at[0, "decision"] == "match"
    assert links.at[1, "decision"] == "none"


def test_a_stranger_is_not_matched(register):
    rows = [{"full_name": "Nguyễn Thị Hòa", "birth_date": "04/07/2022", "sex": "Nữ"}]
    _, links, _ = _link(ListKind.VACCINATION, rows, register)
    assert links.at[0, "decision"] == "none"


def _findings(register, lists):
    linked = []
    for kind, rows in lists:
        table, links, scored = _link(kind, rows, register)
        linked.append(LinkedList(kind.value, kind, table, links, scored))
    return build_findings(register, find_register_duplicates(register), linked)


def test_formatting_only_differences_raise_nothing(register):
    found = _findings(
        register,
        [
            (
                ListKind.MEMBERSHIP,
                [
                    {
                        "full_name": "nguyễn  thị hoà",
                        "birth_date": "12/03/1951",
                        "sex": "Nữ",
                        "personal_id": "034 151 000111",
                        "hamlet": "Đông",
                    },
                    {"full_name": "TRAN LAM", "birth_date": "1990", "sex": "nam"},
                ],
            )
        ],
    )
    assert set(found.loc[found["list_kind"] != "register", "type"]) == set()


def test_real_differences_become_typed_findings(register):
    found = _findings(
        register,
        [
            (
                ListKind.MEMBERSHIP,
                [
                    {
                        "full_name": "Nguyễn Thị Hoa",
                        "birth_date": "12/03/1951",
                        "sex": "Nam",
                        "personal_id": "034151000111",
                        "insurance_number": "HT3343400000001",
                    },
                ],
            ),
            (
                ListKind.WELFARE,
                [
                    {
                        "full_name": "Trần Văn Lâm",
                        "birth_date": "1990",
                        "sex": "Nam",
                        "personal_id": "034090000299",
                        "insurance_number": "HT3343400000002",
                    },
                ],
            ),
        ],
    )
    list_findings = found[found["list_kind"] != "register"]
    by_field = dict(
        zip(
            list_findings["type"] + ":" + list_findings["field"],
            list_findings["source_value"],
            strict=True,
        )
    )
    assert by_field == {
        "name_differs:full_name": "Nguyễn Thị Hoa",
        # the list's number is the resident's: its sex digit contradicts the list's wrong sex,
        # which is the difference to report, not an invalid number (issue 11)
        "sex_differs:sex": "Nam",
        "id_differs:personal_id": "034090000299",
        "missing_in_register:insurance_number": "3400000002",
    }


def test_deaths_and_benefits_follow_the_kind_rules(register):
    found = _findings(
        register,
        [
            (
                ListKind.DEATH,
                [
                    {
                        "full_name": "Trần Văn Lâm",
                        "birth_date": "1990",
                        "sex": "Nam",
                        "personal_id": "034090000222",
                    }
                ],
            ),
            (
                ListKind.WELFARE,
                [
                    {
                        "full_name": "Trần Văn Lâm",
                        "birth_date": "1990",
                        "personal_id": "034090000222",
                    },
                    {
                        "full_name": "Phạm Thị Gấm",
                        "birth_date": "1938",
                        "sex": "Nữ",
                        "personal_id": "034138000555",
                    },
                ],
            ),
            (
                ListKind.BIRTH,
                [{"full_name": "Lê Minh Khôi", "birth_date": "01/02/2026", "sex": "Nam"}],
            ),
        ],
    )
    kinds = {t: _codes(register, g) for t, g in found.groupby("type")["person_id"]}
    assert kinds["deceased_still_active"] == ["NK2"]
    assert kinds["benefit_to_deceased"] == ["NK2", "NK5"]  # per death list; per register
    assert kinds["birth_not_in_register"] == [""]


def test_finding_ids_are_stable_across_runs(register):
    lists = [(ListKind.MEMBERSHIP, [{"full_name": "Nguyễn Thị Hoa", "birth_date": "12/03/1951"}])]
    first, second = _findings(register, lists), _findings(register, list(reversed(lists)))
    assert list(first["finding_id"]) == list(second["finding_id"])
    assert first["finding_id"].is_unique


def test_an_i_y_variant_matches_and_is_still_reported(register):
    reg = people(
        ListKind.REGISTER,
        [{"resident_code": "NK9", "full_name": "Lê Thị Lý", "birth_date": "1970", "sex": "Nữ"}],
    )
    table, links, scored = _link(
        ListKind.MEMBERSHIP, [{"full_name": "Lê Thị Lí", "birth_date": "1970", "sex": "Nữ"}], reg
    )
    assert links.at[0, "decision"] in ("match", "possible")  # name and year only
    assert scored.at[0, "name"] == "iy_variant"
    found = build_findings(
        reg,
        find_register_duplicates(reg),
        [LinkedList("m", ListKind.MEMBERSHIP, table, links, scored)],
    )
    assert found["type"].tolist() == ["name_differs"]


def test_namesakes_outside_the_register_get_findings_of_their_own(register):
    twins = [{"full_name": "Hoàng Văn Mạnh", "birth_date": "1990"}] * 2
    found = _findings(register, [(ListKind.MEMBERSHIP, twins)])
    missing = found[found["type"] == "not_in_register"]
    assert len(missing) == 2 and missing["finding_id"].is_unique
    assert found["finding_id"].is_unique


def _levels(register, row, kind=ListKind.MEMBERSHIP):
    _, links, scored = _link(kind, [row], register)
    right = links.at[0, "right"]
    pair = scored[scored["right"] == right].iloc[0] if pd.notna(right) else None
    return links.iloc[0], pair


def test_one_keystroke_slips_in_the_birth_date_are_told_apart_from_other_dates(register):
    base = {"full_name": "Trần Văn Lâm", "sex": "Nam", "hamlet": "Thôn Đoài"}
    cases = {
        "03/09/1990": "day_typo",  # 02 → 03
        "02/09/1980": "year_typo",  # 1990 → 1980
        "02/09/1909": "year_typo",  # last two digits transposed
        "02/09/1991": "year_typo",  # one year more, same day and month
        "25/09/1990": "same_month",
        "09/02/1990": "swapped",
    }
    for typed, level in cases.items():
        _, pair = _levels(register, {**base, "birth_date": typed})
        assert pair["birth"] == level, typed


def test_a_dialect_spelling_with_the_middle_name_dropped_is_phonetic_not_other(register):
    link_row, pair = _levels(
        register, {"full_name": "Trần Nâm", "birth_date": "02/09/1990", "sex": "Nam"}
    )
    assert pair["name"] == "phonetic"
    assert register.at[link_row["right"], "resident_code"] == "NK2"


def test_a_list_with_no_valid_rows_or_no_candidates_is_scored_without_error(register):
    nobody = people(ListKind.MEMBERSHIP, [{"full_name": "Zzz Qqq", "birth_date": "1990"}])
    for table in (nobody.iloc[0:0], nobody):
        (scored,) = score_lists([table], register)
        links, _ = link(table, register, scored=scored)
        assert len(links) == len(table)
        assert set(links["decision"]) <= {"none"}


def test_findings_are_ordered_by_type_file_and_row_with_empty_cells_as_text():
    """build_findings' last step on hand-written rows: sorted by type, file, row and field,
    ties kept in the order found; a missing value or a column no finding has is ""."""
    rows = pd.DataFrame(
        {
            "type": ["name_differs", "birth_date_differs", "name_differs", "name_differs"],
            "source_file": ["b.xlsx", "a.xlsx", "a.xlsx", "a.xlsx"],
            "source_row": [3, 9, 7, 7],
            "field": ["name", "birth_date", "name", "name"],
            "finding_id": ["n-b3", "d-a9", "n-a7-first", "n-a7-second"],
            "register_value": ["Lê Văn Tư", None, np.nan, "Hoà"],
        }
    )
    shown = _filled_in_order(rows)
    assert list(shown.columns) == ALL_COLUMNS
    assert list(shown["finding_id"]) == ["d-a9", "n-a7-first", "n-a7-second", "n-b3"]
    assert list(shown["register_value"]) == ["", "", "Hoà", "Lê Văn Tư"]
    assert (shown["related_person_id"] == "").all() and not shown.isna().any().any()


def test_rows_are_ordered_by_their_row_numbers_as_numbers_not_as_text():
    """Row 9 comes before row 10 and row 100 of the same file and type (as text, "10" < "9");
    a file's name and a field are ordered as text."""
    rows = pd.DataFrame(
        {
            "type": ["name_differs"] * 5,
            "source_file": ["b.xlsx", "a.xlsx", "a.xlsx", "a.xlsx", "a.xlsx"],
            "source_row": [2, 100, 10, 9, 10],
            "field": ["name", "name", "name", "name", "birth_date"],
            "finding_id": ["b2", "a100", "a10-name", "a9", "a10-birth"],
        }
    )
    shown = _filled_in_order(rows)
    assert list(shown["finding_id"]) == ["a9", "a10-birth", "a10-name", "a100", "b2"]


def test_a_repeated_id_is_numbered_in_row_order_and_the_others_kept():
    """Three findings of one unregistered namesake and two of another, among unique ones: the
    first of each keeps its id, the later ones take -1, -2 in the order found."""
    from reconcile.findings import numbered_repeats

    ids = pd.Series(["x", "same", "y", "twice", "same", "z", "same", "twice"])
    assert list(numbered_repeats(ids)) == [
        "x", "same", "y", "twice", "same-1", "z", "same-2", "twice-1",
    ]  # fmt: skip
    assert list(numbered_repeats(pd.Series(["a", "b"]))) == ["a", "b"]
