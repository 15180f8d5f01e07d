import unicodedata

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.kinds import ListKind
from reconcile.matching.comparison import compare, differs
from reconcile.normalize.names import canonical_syllable, fold, parse_name

from conftest import people
from synthetic.people import FAMILIES, GIVEN, MIDDLE, old_tone_style


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Hoà", "hòa"),
        ("hòa", "hòa"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("Qúy", "quý"),
        ("hoàng", "hoàng"),  # oa with a final consonant: always the second vowel
        ("Nguyễn", "nguyễn"),
        ("người", "người"),  # ươ: the mark sits on ơ
        ("khuya", "khuya"),
        ("giữa", "giữa"),  # gi- is the onset, ư carries the mark
        ("gì", "gì"),
        ("tuyết", "tuyết"),
        ("hoài", "hoài"),  # three vowels: the middle one
    ],
)
def test_tone_marks_are_placed_canonically(written, canonical):
    assert parse_name(written).canonical == canonical


@pytest.mark.parametrize(
    "variant",
    [
        "NGUYỄN THỊ HOÀ",
        "nguyễn thị hòa",
        unicodedata.normalize("NFD", "Nguyễn Thị Hoà"),
        "  Nguyễn\u00a0Thị   Hòa ",
        "Nguyễn Thị\u200b Hòa",
        "Nguyễn Thị Hòa (đã chết)",
    ],
)
def test_formatting_never_changes_the_canonical_name(variant):
    assert parse_name(variant).canonical == "nguyễn thị hòa"


def test_eth_becomes_d_stroke_and_notes_are_kept_apart():
    name = parse_name("Ðỗ Văn Nam (con)")
    assert name.canonical == "đỗ văn nam"
    assert name.note == "con"
    assert (name.family, name.middle, name.given) == ("đỗ", "văn", "nam")
    assert name.display == "Đỗ Văn Nam"


def test_damaged_text_is_flagged():
    assert parse_name("Nguy\ufffdn Văn A").damaged
    assert not parse_name("Nguyễn Văn A").damaged


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [
        ("Nguyễn Thị Lan", "Nguyễn Lan", True),  # dropped Thị: informal lists
        ("Nguyen Van Hoa", "Nguyễn Văn Hòa", True),  # typed without diacritics
        ("Lê Thị Lý", "Lê Thị Lí", False),  # i/y variants are for a human to judge
        ("Đoàn Văn Tú", "Doãn Văn Tú", False),  # folding collides distinct names
        ("Trần Thị Hương", "Trần Thị Hường", False),
        ("Phạm Minh Lan", "Phạm Minh Nan", False),  # dialect l/n is a real difference
    ],
)
def test_names_agree_only_on_formatting(a, b, agree):
    """The one definition of "the same name": the comparison level and comparison.AGREEING,
    which the matcher scores with and the findings report from."""
    left = people(ListKind.MEMBERSHIP, [{"full_name": a}])
    right = people(ListKind.REGISTER, [{"full_name": b}])
    level = compare(left, right, pd.DataFrame({"left": [0], "right": [0]}))["name"]
    assert differs("name", level.astype(str).to_numpy())[0] is not agree


def test_folding_removes_every_mark():
    assert fold("Đặng Thị Ngọc Ánh") == "Dang Thi Ngoc Anh"
    # letters Vietnamese never uses still fold to ASCII (unidecode): full-width input from an
    # East Asian IME, a pasted "Ł" or "ø"
    assert fold("Ｎｇｕｙễｎ Ｔｈị") == "Nguyen Thi"
    assert fold("Łê Văn Ø") == "Le Van O"


real_names = st.builds(
    lambda f, m, g: f"{f} {m} {g}",
    st.sampled_from([f for f, _ in FAMILIES]),
    st.sampled_from([m for m, _ in MIDDLE["F"] + MIDDLE["M"]]),
    st.sampled_from(GIVEN["F"] + GIVEN["M"]),
)


def _reformat(name: str, upper: bool, nfd: bool, old: bool, spaces: int) -> str:
    if old:
        name = old_tone_style(name)
    if upper:
        name = name.upper()
    if nfd:
        name = unicodedata.normalize("NFD", name)
    return (" " * spaces) + name.replace(" ", " " * (spaces + 1))


@given(real_names, st.booleans(), st.booleans(), st.booleans(), st.integers(0, 3))
def test_any_formatting_gives_the_same_canonical_name_and_keys(name, upper, nfd, old, spaces):
    a, b = parse_name(name), parse_name(_reformat(name, upper, nfd, old, spaces))
    assert (a.canonical, a.folded, a.family, a.given) == (b.canonical, b.folded, b.family, b.given)


@given(real_names)
def test_normalising_is_idempotent(name):
    once = parse_name(name)
    assert parse_name(once.display).canonical == once.canonical
    assert canonical_syllable(once.given) == once.given


@given(real_names, st.integers(0, 40), st.sampled_from("aeiouyđnmtghc"))
def test_a_real_letter_change_always_changes_the_canonical_name(name, position, letter):
    words = name.split()
    given_name = words[-1]
    i = position % len(given_name)
    if given_name[i].lower() == letter:
        return
    changed = " ".join([*words[:-1], given_name[:i] + letter + given_name[i + 1 :]])
    assert parse_name(changed).canonical != parse_name(name).canonical


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Hie\u0301\u0302n", "hiến"),  # acute typed before the circumflex
        ("KIE\u0301\u0302N", "kiến"),
        ("Hie\u0309\u0302u", "hiểu"),
        ("Thu\u0309\u031b", "thử"),  # hook above before the horn
        ("Hie\u0302\u0301n", "hiến"),  # the usual order is unchanged
    ],
)
def test_a_tone_typed_before_the_vowel_mark_still_joins_its_letter(typed, canonical):
    assert parse_name(typed).canonical == canonical


def test_glued_syllables_are_split_but_tcvn3_capitals_are_not():
    assert parse_name("Trần VănToán").canonical == "trần văn toán"
    assert parse_name("NguyễnThị Hồng").canonical == "nguyễn thị hồng"
    assert parse_name("Võ ThuHạnh").canonical == "võ thu hạnh"
    assert parse_name("HỒ VĂNThuỷ").canonical == "hồ văn thủy"
    # TCVN3 in a non-capital font: capitals without a code of their own come out lower case
    assert parse_name("HUỳNH THị HOè").canonical == "huỳnh thị hòe"
    assert parse_name("HOàNG VĂN NGọC").canonical == "hoàng văn ngọc"
    assert parse_name("Nguyễn Thị-Hoa").canonical == "nguyễn thị hoa"
    assert parse_name("H'Hen Niê").canonical == "h'hen niê"
