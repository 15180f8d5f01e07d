"""Rows with two errors at once still find their resident, and the finding names what differs
(issue 11, points 5–7). Hand-written rows against a register of namesakes and strangers."""

import random

import pytest

from reconcile.findings import LinkedList, build_findings
from reconcile.kinds import ListKind
from reconcile.matching.blocking import candidate_pairs
from reconcile.matching.decision import link
from reconcile.matching.duplicates import find_register_duplicates

from conftest import people

FAMILIES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Hồ"]
MIDDLES = {"M": ["Văn", "Đức", "Minh", "Quang"], "F": ["Thị", "Thu", "Ngọc", "Kim"]}
GIVENS = {
    "M": ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Long", "Nam", "Sơn", "Tuấn"],
    "F": ["Anh", "Dung", "Giang", "Hà", "Hương", "Lan", "Mai", "Nga", "Thảo", "Yến"],
}
HAMLETS = ["Thôn Đông", "Thôn Đoài", "Thôn Trung", "Xóm Mới"]
# the residents the rows below are about
TARGETS = [
    ("T1", "Nguyễn Duy Minh", "14/03/1985", "Nam", "034085123456", "Thôn Đông"),
    ("T2", "Lò Thị Xiêm", "02/09/1970", "Nữ", "034170654321", "Thôn Đoài"),
    ("T3", "Khúc Văn Thịnh", "11/11/1958", "Nam", "034058111222", "Xóm Mới"),
    ("T4", "Trần Văn Toán", "05/05/1990", "Nam", "034090333444", "Thôn Trung"),
    ("T5", "Mạc Thị Huệ", "20/01/1965", "Nữ", "034165555666", "Thôn Đông"),
]


def _background(n=1500, seed=5):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        sex = rng.choice("MF")
        year = rng.randint(1940, 2020)
        digit = ("0" if year < 2000 else "2") if sex == "M" else ("1" if year < 2000 else "3")
        name = f"{rng.choice(FAMILIES)} {rng.choice(MIDDLES[sex])} {rng.choice(GIVENS[sex])}"
        rows.append(
            {
                "resident_code": f"BG{i:04d}",
                "full_name": name,
                "birth_date": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}",
                "sex": "Nam" if sex == "M" else "Nữ",
                "personal_id": f"034{digit}{year % 100:02d}{500000 + i:06d}",
                "hamlet": rng.choice(HAMLETS),
            }
        )
    return rows


@pytest.fixture(scope="module")
def register():
    rows = _background()
    for code, name, born, sex, pid, hamlet in TARGETS:
        rows.append(
            {
                "resident_code": code,
                "full_name": name,
                "birth_date": born,
                "sex": sex,
                "personal_id": pid,
                "hamlet": hamlet,
            }
        )
    return people(ListKind.REGISTER, rows, file="dan_cu.xlsx")


ROWS = [
    # a mistyped ID digit and a wrong year
    (
        "T1",
        {
            "full_name": "Nguyễn Duy Minh",
            "birth_date": "14/03/1986",
            "sex": "Nam",
            "personal_id": "034085123457",
        },
    ),
    # a middle name dropped (not Văn/Thị) and no hamlet column
    ("T1", {"full_name": "Nguyễn Minh", "birth_date": "14/03/1985", "sex": "Nam"}),
    # a typo in the given name of a row that gives only a year, and no hamlet
    ("T2", {"full_name": "Lò Thị Xiên", "birth_date": "1970", "sex": "Nữ"}),
    # a wrong year and the ID's sex digit mistyped
    (
        "T3",
        {
            "full_name": "Khúc Văn Thịnh",
            "birth_date": "11/11/1959",
            "sex": "Nam",
            "personal_id": "034158111222",
        },
    ),
    # glued syllables (formatting) and a wrong sex
    (
        "T4",
        {
            "full_name": "Trần VănToán",
            "birth_date": "05/05/1990",
            "sex": "Nữ",
            "hamlet": "Thôn Trung",
        },
    ),
    # the resident's own ID, a wrong birth year: the year is what differs
    (
        "T5",
        {
            "full_name": "Mạc Thị Huệ",
            "birth_date": "20/01/1966",
            "sex": "Nữ",
            "personal_id": "034165555666",
        },
    ),
]


def _code(register, right):
    return register.at[right, "resident_code"]


@pytest.mark.parametrize("index", range(len(ROWS)))
def test_two_errors_at_once_still_give_a_candidate_and_the_right_link(register, index):
    target, row = ROWS[index]
    table = people(ListKind.MEMBERSHIP, [row])
    pairs = candidate_pairs(table, register)
    assert target in set(register.loc[pairs["right"], "resident_code"])
    links, _ = link(table, register)
    assert links.at[0, "decision"] in ("match", "possible")
    assert _code(register, links.at[0, "right"]) == target


def _findings(register, rows):
    """Each row as a list of its own (within one list a resident is claimed by one row)."""
    linked = []
    for number, row in enumerate(rows):
        table = people(ListKind.MEMBERSHIP, [row], file=f"list{number}.xlsx")
        links, scored = link(table, register)
        linked.append(LinkedList(f"m{number}", ListKind.MEMBERSHIP, table, links, scored))
    found = build_findings(register, find_register_duplicates(register), linked)
    return found[found["list_kind"] != "register"]


def test_each_finding_names_what_differs(register):
    found = _findings(register, [row for _, row in ROWS])
    by_row = found.groupby("source_file")["type"].apply(sorted).to_dict()
    assert by_row == {
        "list0.xlsx": ["birth_date_differs", "id_differs"],
        "list1.xlsx": ["name_differs"],  # Duy dropped: a real difference, not another person
        "list2.xlsx": ["name_differs"],
        "list3.xlsx": ["birth_date_differs", "id_differs"],  # a digit off, invalid too
        "list4.xlsx": ["sex_differs"],  # glued syllables are formatting
        "list5.xlsx": ["birth_date_differs"],  # never id_invalid: the number is his own
    }
    ids = found[found["type"] == "id_differs"].set_index("source_file")
    assert ids.loc["list3.xlsx", "source_value"] == "034158111222"
    assert ids.loc["list3.xlsx", "register_value"] == "034058111222"
    assert "mâu thuẫn" in ids.loc["list3.xlsx", "explanation"]  # its own sex digit is noted


def test_formatting_alone_is_never_a_difference(register):
    rows = [
        {"full_name": "TRẦN VĂN TOÁN", "birth_date": "5/5/1990", "sex": "nam"},
        {"full_name": "Trần  VănToán", "birth_date": "05/05/1990"},
        {"full_name": "tran van toan", "birth_date": "1990", "hamlet": "thôn trung"},
        {"full_name": "Trần Toán", "birth_date": "05/05/1990", "sex": "Nam"},  # Văn dropped
        {"full_name": "Mạc Thị Huệ (đã chuyển đi)", "birth_date": "01/01/1965"},  # placeholder
    ]
    found = _findings(register, rows)
    assert found.empty, found[["source_file", "type", "field"]]
