import datetime as dt
import unicodedata

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.ingest import ingest_list
from reconcile.kinds import ListKind
from reconcile.normalize.dates import parse_date, us_order_suspected
from reconcile.normalize.identifiers import parse_phone
from reconcile.normalize.legacy import decode_column, encode_tcvn3, encode_vni
from reconcile.normalize.names import iy_key, parse_name
from reconcile.normalize.people import name_features, normalize_people
from reconcile.validate import validate_list

from listfiles import workbook
from synthetic.people import FAMILIES, GIVEN, MIDDLE, old_tone_style

KEY_FEATURES = slice(3, 13)  # canonical … name_iy: every key the matcher uses

real_names = st.builds(
    lambda f, m, g: f"{f} {m} {g}",
    st.sampled_from([f for f, _ in FAMILIES]),
    st.sampled_from([m for m, _ in MIDDLE["F"] + MIDDLE["M"]]),
    st.sampled_from(GIVEN["F"] + GIVEN["M"]),
)
FORMATTING = {
    "upper": str.upper,
    "nfd": lambda n: unicodedata.normalize("NFD", n),
    "old-tones": old_tone_style,
    "spacing": lambda n: "  " + n.replace(" ", " \u00a0 ") + "\u200b",
    "tcvn3": lambda n: decode_column([encode_tcvn3(n)], [".VnTime"])[0],
    "vni": lambda n: decode_column([encode_vni(n)], ["VNI-Times"])[0],
    "tcvn3-capital-font": lambda n: decode_column([encode_tcvn3(n.lower())], [".VnTimeH"])[0],
}


@given(real_names, st.lists(st.sampled_from(sorted(FORMATTING)), max_size=3))
def test_formatting_and_legacy_round_trips_give_identical_canonical_names_and_keys(name, steps):
    written = name
    for step in steps:
        written = FORMATTING[step](written)
    assert name_features(written)[KEY_FEATURES] == name_features(name)[KEY_FEATURES]


@given(real_names)
def test_name_features_are_idempotent(name):
    features = name_features(name)
    assert name_features(features[1])[KEY_FEATURES] == features[KEY_FEATURES]  # from display
    assert name_features(features[2])[KEY_FEATURES] == features[KEY_FEATURES]  # from capitals


@pytest.mark.parametrize(
    ("a", "b", "phonetic_equal"),
    [
        ("Nguyễn Thị Lan", "Nguyễn Thị Nan", True),  # northern l/n
        ("Trần Văn Sơn", "Trần Văn Xơn", True),  # s/x
        ("Lê Thị Trang", "Lê Thị Chang", True),  # tr/ch
        ("Phạm Văn Dũng", "Phạm Văn Giũng", True),  # d/gi
        ("Võ Văn Vinh", "Võ Văn Dinh", True),  # southern v/d
        ("Hồ Văn Thắng", "Hồ Văn Thắn", True),  # final ng/n
        ("Hồ Văn Phúc", "Hồ Văn Phút", True),  # final c/t
        ("Hồ Văn Phúc", "Hồ Văn Lộc", False),
    ],
)
def test_dialect_confusions_share_the_phonetic_key_but_not_the_canonical(a, b, phonetic_equal):
    fa, fb = name_features(a), name_features(b)
    assert fa[3] != fb[3]  # canonical: a real spelling difference
    assert (fa[10] == fb[10]) is phonetic_equal  # name_phon: for finding candidates only


@pytest.mark.parametrize(
    ("a", "b"), [("Lý", "Lí"), ("Mỹ", "Mĩ"), ("Kỳ", "Kì"), ("Sỹ", "Sĩ"), ("Quý", "Quí")]
)
def test_i_y_variants_share_a_key_and_stay_different_names(a, b):
    assert iy_key(parse_name(a).canonical) == iy_key(parse_name(b).canonical)
    assert parse_name(a).canonical != parse_name(b).canonical
    assert iy_key("thủy") == "thủy"  # uy is its own vowel, not a variant


def test_display_in_title_case_and_capitals_as_on_forms():
    features = name_features("nguyễn thị  hoà (con)")
    assert features[1:3] == ("Nguyễn Thị Hòa", "NGUYỄN THỊ HÒA")


@pytest.mark.parametrize(
    ("cell", "phone"),
    [
        ("0912 345 678", "0912345678"),
        ("+84 912345678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0084912345678", "0912345678"),
        (912345678, "0912345678"),
        ("01662345678", "0362345678"),
        ("0123 456 7890", "0834567890"),
        ("0243 812 3456", "02438123456"),
        ("12345", None),
        ("gọi sau", None),
    ],
)
def test_phones(cell, phone):
    assert parse_phone(cell) == phone


def test_two_digit_years_take_the_century_of_the_list_date():
    assert parse_date("5/3/98", pivot=dt.date(2026, 11, 15)).year == 1998
    assert parse_date("5/3/20", pivot=dt.date(2026, 11, 15)).year == 2020
    assert parse_date("5/3/20", pivot=dt.date(2010, 6, 1)).year == 1920


def test_the_list_date_is_read_from_the_footer_and_used(tmp_path):
    rows = [
        ["Họ và tên", "Ngày sinh"],
        ["Nguyễn Văn An", "5/3/20"],
        [],
        ["Xã An Bình, ngày 02 tháng 6 năm 2010"],
        ["Người lập biểu"],
    ]
    ingested = ingest_list(workbook({"DS": rows}, tmp_path / "a.xlsx"), ListKind.MEMBERSHIP)
    assert ingested.list_date == dt.date(2010, 6, 2)
    people = normalize_people(
        validate_list(ingested).valid, ListKind.MEMBERSHIP, list_date=ingested.list_date
    )
    assert people["birth_year"].tolist() == [1920]


def test_a_us_ordered_date_column_is_flagged(tmp_path):
    rows = [
        ["Họ và tên", "Ngày sinh"],
        ["Nguyễn Văn An", dt.date(1985, 5, 9)],
        ["Trần Thị Bình", dt.date(1990, 3, 4)],
        ["Lê Văn Cường", dt.date(1970, 1, 2)],
        ["Phạm Thị Dung", "13/05/1985"],
    ]
    validated = validate_list(
        ingest_list(workbook({"DS": rows}, tmp_path / "a.xlsx"), ListKind.MEMBERSHIP)
    )
    (warning,) = validated.warnings
    assert "Ngày sinh" in warning and "a.xlsx" in warning and "13/05" not in warning


def test_hamlet_aliases_from_the_run_config():
    raw = pd.DataFrame(
        {
            "full_name": ["An", "Bình", "Chi"],
            "hamlet": ["Thôn 3", "thôn Ba", "Xóm Chùa"],
            "source_file": "a",
            "source_sheet": "s",
            "source_row": [2, 3, 4],
        }
    )
    out = normalize_people(raw, ListKind.MEMBERSHIP, hamlet_aliases={"Xóm Chùa": "Thôn 3"})
    assert out["hamlet_key"].tolist() == ["3", "3", "3"]


@pytest.mark.parametrize(
    "cells, suspected",
    [
        ([dt.date(1985, 5, 9), dt.date(1990, 3, 4), dt.date(1970, 1, 2), "13/05/1985"], True),
        # a real date past the 12th: Excel read the column day-first, nothing was swapped
        ([dt.date(1985, 5, 9), dt.date(1990, 3, 24), dt.date(1970, 1, 2), "13/05/1985"], False),
        # typed dates whose first number could be a month say nothing
        ([dt.date(1985, 5, 9), dt.date(1990, 3, 4), dt.date(1970, 1, 2), "12/05/1985"], False),
        ([dt.date(1985, 5, 9), dt.date(1990, 3, 4), "13/05/1985", "25/12/1990"], False),
        ([dt.date(1985, 5, 9), dt.date(1990, 3, 4), dt.date(1970, 1, 2), None, 1985], False),
        ([dt.datetime(1985, 5, 9), dt.date(1990, 3, 4), dt.date(1970, 1, 2), " 31-1-85 "], True),
    ],
)
def test_us_order_needs_real_dates_within_the_12th_and_a_typed_day_past_it(cells, suspected):
    assert us_order_suspected(cells) is suspected


def test_a_key_few_residents_differ_in_is_one_object_per_value():
    """A province's register is held whole by the driver and pickled to other processes: an ID's
    first half and a hamlet key, made row by row, are kept as one string per distinct value."""
    raw = pd.DataFrame(
        {
            "full_name": ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"],
            "birth_date": ["01/02/1990", "03/04/1990", "1991"],
            "personal_id": ["034090000101", "034090000202", "001091000303"],
            "hamlet": ["Thôn 1", "Thôn 1", "Thôn 2"],
            "commune": ["Xã An Bình", "Xã An Bình", "Xã An Bình"],
            "source_file": "dan_cu.xlsx",
            "source_sheet": "Sheet1",
            "source_row": [2, 3, 4],
        }
    )
    people = normalize_people(raw, ListKind.MEMBERSHIP)
    head, hamlet = people["pid_head"].to_numpy(), people["hamlet_key"].to_numpy()
    assert list(head) == ["034090", "034090", "001091"]
    assert head[0] is head[1] and hamlet[0] is hamlet[1] and hamlet[0] != hamlet[2]
