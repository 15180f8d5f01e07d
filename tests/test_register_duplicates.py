"""Register duplicates as they really occur: one person under two numbers (a second registration,
an ID re-established after a corrected birth year or sex), the same number on two rows, a row
without any; and the pairs that must never be paired (twins, a father and son of one name,
namesakes). Hand-written cases among a seeded background of unrelated residents."""

import io
import multiprocessing
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reconcile.config import ListConfig, MatchingConfig
from reconcile.input_memory import to_record
from reconcile.kinds import ListKind
from reconcile.matching.duplicates import find_register_duplicates, id_difference
from reconcile.pipeline import ListCounts, PreparedList, match_stage
from schemas.tables import from_parquet

from conftest import people

FAMILIES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLES = ["Văn", "Thị", "Minh", "Đức", "Thu", "Ngọc"]
GIVENS = ["An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hương", "Khánh", "Lan", "Long"]
HAMLETS = ["Thôn Đông", "Thôn Đoài", "Thôn Trung", "Xóm Mới"]


def _background(n=600, seed=11):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        sex = rng.choice("MF")
        year = rng.randint(1935, 2020)
        digit = ("0" if year < 2000 else "2") if sex == "M" else ("1" if year < 2000 else "3")
        rows.append(
            {
                "resident_code": f"BG{i:04d}",
                "full_name": f"{rng.choice(FAMILIES)} {rng.choice(MIDDLES)} {rng.choice(GIVENS)}",
                "birth_date": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}",
                "sex": "Nam" if sex == "M" else "Nữ",
                "personal_id": f"034{digit}{year % 100:02d}{900000 + i:06d}",
                "hamlet": rng.choice(HAMLETS),
            }
        )
    return rows


PLANTED = [
    # one woman registered twice: a second number, same province, sex and year digits
    ("A1", "Nguyễn Thị Lụa", "12/03/1961", "Nữ", "034161001234", "Thôn Đông", "H1"),
    ("A2", "Nguyễn Thị Lụa", "12/03/1961", "Nữ", "034161998877", "Thôn Đông", "H9"),
    # a birth year corrected: the number re-established with the new year digits
    ("B1", "Trần Văn Khải", "05/06/1970", "Nam", "034070112233", "Thôn Đoài", "H2"),
    ("B2", "Trần Văn Khải", "05/06/1972", "Nam", "034072445566", "Thôn Đoài", "H2"),
    # sex redetermined: the sex digit changed with it
    ("C1", "Lê Minh Anh", "01/02/1995", "Nam", "034095333444", "Xóm Mới", "H3"),
    ("C2", "Lê Minh Anh", "01/02/1995", "Nữ", "034195777888", "Xóm Mới", "H3"),
    # the same number on two rows: a data-entry error
    ("D1", "Phạm Văn Đức", "20/10/1988", "Nam", "034088121212", "Thôn Trung", "H4"),
    ("D2", "Phạm Văn Đức", "20/10/1988", "Nam", "034088121212", "Thôn Trung", "H4"),
    # a record carried over without any number
    ("E1", "Hoàng Thị Én", "14/07/1949", "Nữ", "034149565656", "Thôn Đông", "H5"),
    ("E2", "Hoàng Thị Én", "14/07/1949", "Nữ", None, "Thôn Đông", "H8"),
    # twins: one household, one date, other given names
    ("T1", "Đỗ Văn Long", "03/03/2010", "Nam", "034210010101", "Thôn Đoài", "H6"),
    ("T2", "Đỗ Văn Lân", "03/03/2010", "Nam", "034210020202", "Thôn Đoài", "H6"),
    # a father and son of one name
    ("F1", "Bùi Văn Nam", "09/09/1950", "Nam", "034050030303", "Thôn Trung", "H7"),
    ("F2", "Bùi Văn Nam", "09/09/1978", "Nam", "034078040404", "Thôn Trung", "H7"),
    # namesakes born the same year, other dates and hamlets
    ("N1", "Ngô Thị Hà", "02/01/1980", "Nữ", "034180050505", "Thôn Đông", "H10"),
    ("N2", "Ngô Thị Hà", "17/08/1980", "Nữ", "034180060606", "Xóm Mới", "H11"),
]


@pytest.fixture(scope="module")
def register():
    rows = _background()
    for code, name, born, sex, pid, hamlet, household in PLANTED:
        rows.append(
            {
                "resident_code": code,
                "full_name": name,
                "birth_date": born,
                "sex": sex,
                "personal_id": pid,
                "hamlet": hamlet,
                "household": household,
            }
        )
    return people(ListKind.REGISTER, rows, file="dan_cu.xlsx")


def test_one_person_under_two_numbers_is_found_and_twins_and_namesakes_are_not(register):
    found = find_register_duplicates(register)
    pairs = {
        frozenset(register.loc[[a, b], "resident_code"]): kind
        for a, b, kind in found[["left", "right", "id_kind"]].itertuples(index=False)
    }
    assert pairs == {
        frozenset({"A1", "A2"}): "second_number",
        frozenset({"B1", "B2"}): "correction",
        frozenset({"C1", "C2"}): "correction",
        frozenset({"D1", "D2"}): "same",
        frozenset({"E1", "E2"}): "one_missing",
    }


def test_the_note_names_the_digits_that_differ_and_what_they_fit():
    kind, note = id_difference("034070112233", "034072445566")
    assert kind == "correction" and "năm sinh" in note
    assert note.startswith("các chữ số khác nhau: 6,")  # digit 6 is the year's last digit
    kind, note = id_difference("034095333444", "034195777888")
    assert kind == "correction" and "giới tính" in note
    assert id_difference("034088121212", "034088121213")[0] == "one_digit"
    assert id_difference("034088121212", "123456789")[0] == "old_cmnd"


COMMUNES = ["Xã An Bình", "Xã Hòa Lạc", "Phường Trung Tâm"]


def _province_register(seed: int, planted: list[tuple]):
    """3,000 background residents over COMMUNES and the planted rows (code, name, birth date,
    ID, hamlet, commune): a province's register."""
    rng = random.Random(seed)
    rows = [dict(row, commune=rng.choice(COMMUNES)) for row in _background(n=3000, seed=seed)]
    for code, name, born, pid, hamlet, commune in planted:
        rows.append(
            {
                "resident_code": code,
                "full_name": name,
                "birth_date": born,
                "sex": "Nữ" if " Thị " in name else "Nam",
                "personal_id": pid,
                "hamlet": hamlet,
                "commune": commune,
            }
        )
    return people(ListKind.REGISTER, rows, file="dan_cu_tinh.xlsx")


def _province(second_commune: str, second_hamlet: str):
    """Three communes' residents in one register (each with a Xã/phường column) and one woman
    registered a second time under another number, in the given commune and hamlet."""
    planted = [
        ("M1", "Nguyễn Thị Lan", "21/04/1983", "034183070707", "Thôn Đông", "Xã An Bình"),
        ("M2", "Nguyễn Thị Lan", "21/04/1983", "034183919191", second_hamlet, second_commune),
        # namesakes of one year in two communes: two people
        ("P1", "Trần Văn Long", "02/02/1990", "034090080808", "Thôn Đoài", "Xã An Bình"),
        ("P2", "Trần Văn Long", "19/11/1990", "034090929292", "Khu 2", "Xã Hòa Lạc"),
    ]
    register = _province_register(12, planted)
    found = find_register_duplicates(register)
    codes = register["resident_code"]
    return {
        frozenset(codes.loc[[a, b]]): score
        for a, b, score in found[["left", "right", "score"]].itertuples(index=False)
    }


def test_a_person_registered_again_in_another_commune_is_not_held_back_by_the_hamlet():
    """Moved and entered anew, a person is in another hamlet by the nature of the case: across
    communes the hamlet is no evidence, within one commune another hamlet still is."""
    moved = _province("Phường Trung Tâm", "Khu 4")
    same_commune = _province("Xã An Bình", "Thôn Đoài")
    assert frozenset({"M1", "M2"}) in moved
    assert moved[frozenset({"M1", "M2"})] > same_commune.get(frozenset({"M1", "M2"}), 0.0)
    assert frozenset({"P1", "P2"}) not in moved


def _birthday_namesakes():
    """A province register (3,000 residents over three communes) with two women of one name and
    birthday, born 15 years apart, in two communes; and a man whose ID was set anew after his
    birth year was corrected (1970 → 1971), both rows in one commune and hamlet."""
    planted = [
        ("H1", "Lê Thị Hoa", "07/08/1960", "034160121212", "Thôn Đông", "Xã An Bình"),
        ("H2", "Lê Thị Hoa", "07/08/1975", "034175343434", "Khu 2", "Xã Hòa Lạc"),
        ("Y1", "Đỗ Văn Hải", "05/06/1970", "034070565656", "Thôn Trung", "Xã Hòa Lạc"),
        ("Y2", "Đỗ Văn Hải", "05/06/1971", "034071787878", "Thôn Trung", "Xã Hòa Lạc"),
    ]
    return _province_register(13, planted)


def test_across_a_province_a_corrected_year_is_looked_for_within_a_commune():
    """A name and a birthday without the year pair residents province-wide in blocks that grow
    with the province; a corrected year is a correction in one commune's register."""
    from reconcile.matching.duplicates import duplicate_candidates

    register = _birthday_namesakes()
    codes = register["resident_code"]
    pairs = duplicate_candidates(register)
    met = {frozenset(codes.loc[[a, b]]) for a, b in pairs.itertuples(index=False)}
    assert frozenset({"Y1", "Y2"}) in met
    assert frozenset({"H1", "H2"}) not in met
    found = find_register_duplicates(register)
    reported = {frozenset(codes.loc[[a, b]]) for a, b in found[["left", "right"]].to_numpy()}
    assert frozenset({"Y1", "Y2"}) in reported


class _RecordingHelper(ProcessPoolExecutor):
    """A helper process that notes what it is given."""

    def __init__(self):
        super().__init__(1, mp_context=multiprocessing.get_context("spawn"))
        self.given: list[str] = []

    def submit(self, fn, /, *args, **kwargs):
        self.given.append(fn.__name__)
        return super().submit(fn, *args, **kwargs)


def _die() -> None:
    os._exit(1)


def _membership_list() -> list[PreparedList]:
    spec = ListConfig(kind=ListKind.MEMBERSHIP, path=Path("hoi_vien.xlsx"))
    listed = people(ListKind.MEMBERSHIP, _background(n=200, seed=11), file="hoi_vien.xlsx")
    return [PreparedList(spec, ListCounts(spec.label, "membership", spec.path.name), listed)]


def _with_a_dead_helper(register, lists, thresholds):
    """match_stage given a helper whose process died before it was used."""
    broken = _RecordingHelper()
    broken.submit(_die)
    try:
        return match_stage(register, lists, thresholds, helper=broken)
    finally:
        broken.shutdown()


def test_the_duplicates_searched_beside_the_matching_are_the_ones_searched_here(register):
    """A run sends the register to its helper process once, which searches its duplicates
    while this process links the lists; the duplicates are weighed with the model learnt here.
    Behind the search it makes the register's reading as the next run keeps it, and lets the
    register go. What the helper gives equals what this process makes (the duplicates, the
    reading, and the links and pairs the memory keeps), and a helper that died leaves the work
    to this process."""
    lists, thresholds = _membership_list(), MatchingConfig().thresholds()
    spec = ListConfig(kind=ListKind.REGISTER, path=Path("dan_cu.xlsx"))
    reading = PreparedList(spec, ListCounts(spec.label, "register", spec.path.name))
    here = match_stage(register, lists, thresholds, reading=reading)
    with _RecordingHelper() as helper:
        beside = match_stage(register, lists, thresholds, helper=helper, reading=reading)
        record = beside.record.result()
    # (the training's 200,000 random pairs are the run's first big comparison: shared); then
    # the register's reading as the next run keeps it, and the register is let go
    assert helper.given == ["hold", "compare_held", "held_evidence", "held_record", "let_go"]
    assert here.record is None  # no helper: made with the outputs
    made_here = to_record(replace(reading, people=register))
    assert record["counts"] == made_here["counts"]
    pd.testing.assert_frame_equal(
        from_parquet(io.BytesIO(record["people"])), from_parquet(io.BytesIO(made_here["people"]))
    )
    assert len(here.duplicates) == 5
    pd.testing.assert_frame_equal(beside.duplicates, here.duplicates)
    np.testing.assert_array_equal(beside.memory.register_keys, here.memory.register_keys)
    pd.testing.assert_frame_equal(beside.memory.pairs, here.memory.pairs)
    pd.testing.assert_frame_equal(beside.linked[0].links, here.linked[0].links)
    after_death = _with_a_dead_helper(register, lists, thresholds)
    pd.testing.assert_frame_equal(after_death.duplicates, here.duplicates)
    np.testing.assert_array_equal(after_death.memory.register_keys, here.memory.register_keys)


def test_a_comparison_shared_with_the_helper_is_the_one_made_here(register, monkeypatch):
    """On a full run the helper, holding the register, compares a share of the first big
    comparison's pairs before it searches the duplicates: the scored pairs, the links, the
    memory and the duplicates are this process's alone, and a dead helper changes nothing."""
    from reconcile.matching import beside

    monkeypatch.setattr(beside, "LOCAL_BELOW", 1)  # the few pairs of a small list shared too
    lists, thresholds = _membership_list(), MatchingConfig().thresholds()
    here = match_stage(register, lists, thresholds)
    with _RecordingHelper() as helper:
        shared = match_stage(register, lists, thresholds, helper=helper)
    assert helper.given == ["hold", "compare_held", "held_evidence", "let_go"]
    assert len(here.linked[0].scored) > 100
    pd.testing.assert_frame_equal(shared.linked[0].scored, here.linked[0].scored)
    pd.testing.assert_frame_equal(shared.linked[0].links, here.linked[0].links)
    pd.testing.assert_frame_equal(shared.memory.pairs, here.memory.pairs)
    pd.testing.assert_frame_equal(shared.duplicates, here.duplicates)
    after_death = _with_a_dead_helper(register, lists, thresholds)
    pd.testing.assert_frame_equal(after_death.linked[0].scored, here.linked[0].scored)


@pytest.mark.parametrize("labels", ["in order", "reversed"])
def test_rows_blocked_and_compared_in_the_helper_give_what_this_process_gives(
    register, monkeypatch, labels
):
    """The helper blocks the last half of a big list's rows against the register it holds and
    then compares their pairs (only the pairs travel): the candidates, scored pairs, links,
    memory and duplicates are this process's alone, and a dead helper changes nothing. With
    the labels reversed the helper's rows' pairs come first in label order, not last."""
    from reconcile.matching import beside

    monkeypatch.setattr(beside, "BLOCK_LOCAL_BELOW", 1)  # a 200-row list counts as big
    lists, thresholds = _membership_list(), MatchingConfig().thresholds()
    if labels == "reversed":
        lists[0].people.index = lists[0].people.index[::-1]
    here = match_stage(register, lists, thresholds)
    with _RecordingHelper() as helper:
        shared = match_stage(register, lists, thresholds, helper=helper)
    assert helper.given == [
        "hold",
        "block_held",
        "compare_held_rows",
        "held_evidence",
        "let_go",
    ]
    assert len(here.linked[0].scored) > 100
    pd.testing.assert_frame_equal(shared.linked[0].scored, here.linked[0].scored)
    pd.testing.assert_frame_equal(shared.linked[0].links, here.linked[0].links)
    pd.testing.assert_frame_equal(shared.memory.pairs, here.memory.pairs)
    pd.testing.assert_frame_equal(shared.memory.candidates, here.memory.candidates)
    pd.testing.assert_frame_equal(shared.duplicates, here.duplicates)
    after_death = _with_a_dead_helper(register, lists, thresholds)
    pd.testing.assert_frame_equal(after_death.linked[0].scored, here.linked[0].scored)


def test_rows_the_helper_keeps_serve_only_the_table_they_came_from(register, monkeypatch):
    """The helper keeps the rows it blocked for that table's comparison; a comparison of
    another table (labels 0, 1, ... again) is made with that table's own rows."""
    from reconcile.matching import beside
    from reconcile.matching.engine import PandasExecutor, comparison_of
    from reconcile.matching.weights import COMMUNE_MODEL

    monkeypatch.setattr(beside, "BLOCK_LOCAL_BELOW", 1)
    comparison = comparison_of(COMMUNE_MODEL)
    first, second = (
        people(ListKind.MEMBERSHIP, _background(n=120, seed=s), file="hoi_vien.xlsx")
        for s in (11, 12)
    )
    tables = [comparison.with_context(COMMUNE_MODEL, (t, register)) for t in (first, second)]
    here = PandasExecutor()
    pairs = here.block(COMMUNE_MODEL, tables[1])
    with _RecordingHelper() as helper:
        executor = beside.HelperExecutor(helper, beside.place(helper, register), register.index)
        executor.block(COMMUNE_MODEL, tables[0])
        compared = executor.compare(COMMUNE_MODEL, tables[1], pairs)
    assert "block_held" in helper.given and "compare_held_rows" not in helper.given
    assert len(pairs) > 50
    pd.testing.assert_frame_equal(compared, here.compare(COMMUNE_MODEL, tables[1], pairs))
