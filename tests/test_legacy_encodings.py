import shutil
import subprocess
import unicodedata

import pytest

from reconcile.normalize.legacy import (
    TCVN3_TABLE,
    Encoding,
    decode_cell,
    decode_column,
    decode_tcvn3,
    decode_vni,
    detect_encoding,
    encode_tcvn3,
    encode_vni,
    fix_mojibake,
)

VOWELS = "aăâeêioôơuưy"
TONES = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]
LETTERS = [unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES] + ["đ"]


@pytest.mark.skipif(shutil.which("iconv") is None, reason="glibc iconv is the oracle")
def test_tcvn3_table_agrees_with_glibc_iconv_on_every_byte_it_defines():
    assert len(TCVN3_TABLE) == 74  # 67 lower-case letters + Ă Â Ê Ô Ơ Ư Đ
    for byte, letter in TCVN3_TABLE.items():
        oracle = subprocess.run(
            ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"],
            input=bytes([byte]),
            capture_output=True,
            check=True,
        )
        assert oracle.stdout.decode() == letter, hex(byte)
        # as it reaches us: the byte read as Windows-1252 text
        assert decode_tcvn3(bytes([byte]).decode("cp1252", errors="strict")) == letter


def test_every_tcvn3_lower_case_letter_and_capital_round_trips():
    capitals = "ĂÂÊÔƠƯĐ"
    for letter in [*LETTERS, *capitals]:
        if letter.isascii():
            continue
        assert decode_tcvn3(encode_tcvn3(letter)) == letter


@pytest.mark.parametrize("case", [str.lower, str.upper], ids=["lower", "upper"])
def test_every_vietnamese_letter_round_trips_through_vni(case):
    for letter in map(case, LETTERS):
        encoded = encode_vni(letter)
        assert decode_vni(encoded) == letter, (letter, encoded)
        assert decode_vni(f"x{encoded}n") == f"x{letter}n"


@pytest.mark.parametrize(
    ("legacy", "decoder", "unicode"),
    [
        ("NguyÔn V¨n Hoµ", decode_tcvn3, "Nguyễn Văn Hoà"),
        ("Lª §øc Quý", decode_tcvn3, "Lê Đức Quý"),
        ("Hä vµ tªn", decode_tcvn3, "Họ và tên"),
        ("Nguyeãn Vaên Hoaø", decode_vni, "Nguyễn Văn Hoà"),
        ("Leâ Ñöùc Quyù", decode_vni, "Lê Đức Quý"),
        ("Hoï vaø teân", decode_vni, "Họ và tên"),
    ],
)
def test_the_domain_examples(legacy, decoder, unicode):
    assert decoder(legacy) == unicode


# VNI as another converter writes it, not as our table does: the published examples of the
# vietnamese-conversion package (npm, github.com/duydev/vietnamese-conversion, README and test
# data), and VNI text typed as offices type it (separate tone bytes after the vowel, the
# single-byte Ñ/ñ for Đ/đ, Ö/ö for Ư/ư, Ô/ô for Ơ/ơ, Ò/ò for ị, Î/î for Ỵ/ỵ).
@pytest.mark.parametrize(
    ("vni", "unicode"),
    [
        ("Xin chaøo caùc baïn", "Xin chào các bạn"),
        ("Toâi ñi hoïc", "Tôi đi học"),
        ("Tröôøng Tieåu hoïc", "Trường Tiểu học"),
        ("Ngöôøi ñöôïc tieâm chuûng", "Người được tiêm chủng"),
        ("Hoà Thò Myõ Leä", "Hồ Thị Mỹ Lệ"),
        ("Ñaëng Vaên Vyõ", "Đặng Văn Vỹ"),
    ],
)
def test_vni_written_by_another_converter_decodes(vni, unicode):
    assert decode_vni(vni) == unicode
    assert detect_encoding([vni, "Nguyeãn Vaên Hoaø"]) is Encoding.VNI


def test_wrong_guesses_never_destroy_unicode():
    vni_column = [encode_vni("Lê Đức Quý"), encode_vni("Phạm Thị Thu"), "Đoàn Văn Tú"]
    assert detect_encoding(vni_column) is Encoding.VNI
    assert decode_column(vni_column)[2] == "Đoàn Văn Tú"  # never "Đồn"
    tcvn_column = [encode_tcvn3("Nguyễn Văn Hoà"), encode_tcvn3("Trần Thị Mai"), "Thái Bình"]
    assert detect_encoding(tcvn_column) is Encoding.TCVN3
    assert decode_column(tcvn_column)[2] == "Thái Bình"  # never "Thỏi Bỡnh"
    assert decode_column(["Lê Hà", "Tô Hoài"]) == ["Lê Hà", "Tô Hoài"]


def test_a_cell_font_is_decisive_even_where_the_text_is_ambiguous():
    assert decode_cell("Th¸i B×nh", Encoding.UNICODE, font=".VnTime") == "Thái Bình"
    assert decode_cell("Th¸i B×nh", Encoding.UNICODE, font="Times New Roman") == "Th¸i B×nh"
    assert decode_cell("th¸i b×nh", Encoding.TCVN3, font=".VnTimeH") == "THÁI BÌNH"


def test_mojibake_is_repaired_and_plain_text_is_left_alone():
    assert fix_mojibake("Nguyá»…n VÄƒn HoÃ\xa0") == "Nguyễn Văn Hoà"
    assert fix_mojibake("Nguyễn Văn Hoà") is None
    assert detect_encoding(["Nguyá»…n VÄƒn A", "Tráº§n Thá»‹ B"]) is Encoding.MOJIBAKE


def test_a_unicode_column_comes_back_as_the_list_given():
    """ingest skips putting a column back into its rows when decode_column returns the list
    it was given: it must do so for Unicode, and only then."""
    unicode = ["Nguyễn Văn Hoà", None, "Trần Thị Lan", 1950, "Thôn Đông"]
    assert decode_column(unicode) is unicode
    tcvn3 = ["NguyÔn V¨n Hoµ", None, "TrÇn ThÞ Lan", 1950, "Th«n §«ng"]  # iconv's bytes
    decoded = decode_column(tcvn3)
    assert decoded is not tcvn3
    assert decoded == ["Nguyễn Văn Hoà", None, "Trần Thị Lan", 1950, "Thôn Đông"]
