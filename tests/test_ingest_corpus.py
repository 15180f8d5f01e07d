"""One small file per layout, format and encoding officers produce, plus adversarial ones: each
asserts the rows read, the header mapping, the decoded names and the rejections."""

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.styles import PatternFill

from reconcile.ingest import UnreadableListError, ingest_list
from reconcile.kinds import ListKind
from reconcile.normalize.identifiers import parse_personal_id
from reconcile.normalize.names import parse_name
from reconcile.validate import validate_list

from listfiles import (
    NAMES,
    PEOPLE,
    cp1258_bytes,
    csv_text,
    encode_tcvn3,
    encode_vni,
    legacy_rows,
    simple_rows,
    workbook,
    xls,
)

M = ListKind.MEMBERSHIP


def _read(path, kind=M, **kwargs):
    return ingest_list(path, kind, **kwargs)


def _dates(values):
    return [v.date() if isinstance(v, dt.datetime) else v for v in values]


def _canonical(values):
    return [parse_name(v).canonical for v in values]


# ---- layouts ----


@pytest.mark.parametrize("title_height", [0, 3, 12])
def test_a_title_block_of_any_height(tmp_path, title_height):
    ingested = _read(workbook({"DS": simple_rows(title_height)}, tmp_path / "a.xlsx"))
    header_row = title_height + 1
    assert list(ingested.frame["source_row"]) == [header_row + i for i in range(1, 5)]
    assert list(ingested.frame["full_name"]) == NAMES  # and not the signer "Phạm Thị Hồng"
    assert ingested.headers == {
        "row_number": "STT",
        "full_name": "Họ và tên",
        "birth_date": "Ngày sinh",
        "sex": "Giới tính",
        "personal_id": "Số CCCD",
        "hamlet": "Thôn",
    }


def test_birth_date_under_nam_or_nu_columns_gives_date_and_sex(tmp_path):
    rows = [
        ["DANH SÁCH NGƯỜI CAO TUỔI"],
        [],
        ["STT", "Họ và tên", "Ngày sinh", "", "Thôn"],
        ["", "", "Nam", "Nữ", ""],
    ]
    for i, (name, born, sex, _, hamlet) in enumerate(PEOPLE, start=1):
        rows.append([i, name, born if sex == "Nam" else "", born if sex == "Nữ" else "", hamlet])
    path = workbook({"DS": rows}, tmp_path / "a.xlsx")
    wb = load_workbook(path)
    wb["DS"].merge_cells("C3:D3")
    wb.save(path)
    ingested = _read(path)
    frame = ingested.frame
    assert list(frame["source_row"]) == [5, 6, 7, 8]
    assert _dates(frame["birth_date"]) == [p[1] for p in PEOPLE]
    assert list(frame["sex"]) == [p[2] for p in PEOPLE]
    assert ingested.headers["birth_date"] == "Ngày sinh (Nam/Nữ)"


def test_sex_marked_with_x_in_nam_and_nu_columns(tmp_path):
    rows = [["STT", "Họ và tên", "Năm sinh", "Giới tính", ""], ["", "", "", "Nam", "Nữ"]]
    for i, (name, born, sex, _, _) in enumerate(PEOPLE, start=1):
        rows.append([i, name, born.year, "x" if sex == "Nam" else "", "X" if sex == "Nữ" else ""])
    frame = _read(workbook({"DS": rows}, tmp_path / "a.xlsx")).frame
    assert list(frame["sex"]) == [p[2] for p in PEOPLE]
    assert list(frame["source_row"]) == [3, 4, 5, 6]


def test_column_numbers_group_rows_blank_rows_and_subtotals(tmp_path):
    rows = [
        ["STT", "Họ và tên", "Năm sinh"],
        ["(1)", "(2)", "(3)"],
        ["Thôn Đông"],
        [1, NAMES[0], 1950],
        [],
        [2, NAMES[2], 1988],
        ["Cộng thôn Đông: 2 người"],
        ["Xóm Mới"],
        [3, NAMES[3], 2001],
        ["Tổng cộng: 3 người"],
        ["An Bình, ngày 15 tháng 11 năm 2026"],
        ["Người lập biểu"],
        ["Phạm Thị Hồng"],
    ]
    frame = _read(workbook({"DS": rows}, tmp_path / "a.xlsx")).frame
    assert list(frame["source_row"]) == [4, 6, 9]
    assert list(frame["hamlet"]) == ["Thôn Đông", "Thôn Đông", "Xóm Mới"]


def test_several_sheets_and_a_sheet_without_a_table(tmp_path):
    rows = simple_rows(2)
    sheets = {
        "Thôn Đông": rows[:5] + rows[-6:],
        "Thôn Đoài": rows[:3] + rows[5:7],
        "Ghi chú": [["Danh sách lập theo hướng dẫn của UBND xã"]],
    }
    ingested = _read(workbook(sheets, tmp_path / "a.xlsx"))
    assert list(zip(ingested.frame["source_sheet"], ingested.frame["source_row"], strict=True)) == [
        ("Thôn Đông", 4),
        ("Thôn Đông", 5),
        ("Thôn Đoài", 4),
        ("Thôn Đoài", 5),
    ]
    assert ingested.sheets_without_table == ["Ghi chú"]


def test_hidden_rows_and_columns_are_still_read(tmp_path):
    path = workbook({"DS": simple_rows(0)}, tmp_path / "a.xlsx")
    wb = load_workbook(path)
    wb["DS"].row_dimensions[3].hidden = True
    wb["DS"].column_dimensions["E"].hidden = True
    wb.save(path)
    frame = _read(path).frame
    assert list(frame["full_name"]) == NAMES
    assert [parse_personal_id(v).digits for v in frame["personal_id"]] == [p[3] for p in PEOPLE]


@pytest.mark.parametrize("two_rows", [False, True])
def test_names_split_into_ho_dem_ten(tmp_path, two_rows):
    if two_rows:
        rows = [["STT", "Họ và tên", "", "", "Năm sinh"], ["", "Họ", "Chữ đệm", "Tên", ""]]
    else:
        rows = [["STT", "Họ", "Đệm", "Tên", "Năm sinh"]]
    for i, name in enumerate(NAMES, start=1):
        words = name.split()
        rows.append([i, words[0], " ".join(words[1:-1]), words[-1], 1950])
    ingested = _read(workbook({"DS": rows}, tmp_path / "a.xlsx"))
    assert list(ingested.frame["full_name"]) == NAMES
    assert ingested.headers["full_name"].startswith("Họ + ")


def test_headers_in_any_case_or_diacritic_style(tmp_path):
    rows = [["stt", "HO VA TEN", "NĂM SINH", "GIỚI TÍNH", "số định danh cá nhân"]]
    rows += [[1, NAMES[0], 1950, "Nam", "034050001234"]]
    ingested = _read(workbook({"DS": rows}, tmp_path / "a.xlsx"))
    assert set(ingested.headers) == {"row_number", "full_name", "birth_date", "sex", "personal_id"}


# ---- formats ----


def test_legacy_xls(tmp_path):
    frame = _read(xls(simple_rows(4), tmp_path / "a.xls")).frame
    assert list(frame["full_name"]) == NAMES
    assert list(frame["source_row"]) == [6, 7, 8, 9]
    assert _dates(frame["birth_date"]) == [p[1] for p in PEOPLE]


@pytest.mark.parametrize(
    ("encode", "delimiter"),
    [
        (lambda t: t.encode("utf-8"), ","),
        (lambda t: t.encode("utf-8-sig"), ";"),
        (lambda t: t.encode("utf-16"), "\t"),
        (cp1258_bytes, ","),
    ],
    ids=["utf8", "utf8-bom", "utf16", "cp1258"],
)
def test_csv_encodings(tmp_path, encode, delimiter):
    path = tmp_path / "a.csv"
    path.write_bytes(encode(csv_text(delimiter)))
    frame = _read(path).frame
    assert list(frame["full_name"]) == NAMES
    assert list(frame["source_row"]) == [4, 5, 6, 7]


def test_ids_keep_the_leading_zero_excel_dropped(tmp_path):
    rows = [["Họ và tên", "Số CCCD"]] + [[p[0], int(p[3])] for p in PEOPLE]
    frame = _read(workbook({"DS": rows}, tmp_path / "a.xlsx")).frame
    assert [parse_personal_id(v).digits for v in frame["personal_id"]] == [p[3] for p in PEOPLE]


# ---- legacy encodings ----


def _fonts(sheet, rows, font, columns=(2, 4)):
    return {(sheet, r, c): font for r in range(1, len(rows) + 1) for c in columns}


def test_tcvn3_with_its_font_is_decoded_headers_included(tmp_path):
    rows = legacy_rows(encode_tcvn3)
    ingested = _read(workbook({"DS": rows}, tmp_path / "a.xlsx", _fonts("DS", rows, ".VnTime")))
    assert _canonical(ingested.frame["full_name"]) == _canonical(NAMES)
    assert list(ingested.frame["hamlet"]) == [p[4] for p in PEOPLE]
    assert ingested.headers["full_name"] == "Họ và tên"


def test_tcvn3_capital_font_is_upper_cased_after_decoding(tmp_path):
    rows = legacy_rows(lambda t: encode_tcvn3(t.lower()), header_encoded=False)
    ingested = _read(workbook({"DS": rows}, tmp_path / "a.xlsx", _fonts("DS", rows, ".VnTimeH")))
    assert list(ingested.frame["full_name"]) == [n.upper() for n in NAMES]


def test_vni_with_its_font_is_decoded_exactly(tmp_path):
    rows = legacy_rows(encode_vni)
    frame = _read(
        workbook({"DS": rows}, tmp_path / "a.xlsx", _fonts("DS", rows, "VNI-Times"))
    ).frame
    assert list(frame["full_name"]) == NAMES


@pytest.mark.parametrize("encode", [encode_tcvn3, encode_vni], ids=["tcvn3", "vni"])
def test_legacy_text_without_font_evidence_is_detected_from_the_text(tmp_path, encode):
    rows = legacy_rows(encode)
    lines = [",".join(str(c) for c in row) for row in rows]
    path = tmp_path / "a.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = _read(path).frame
    assert _canonical(frame["full_name"]) == _canonical(NAMES)


def test_a_sheet_mixing_unicode_and_tcvn3_rows(tmp_path):
    rows = [["STT", "Họ và tên", "Năm sinh"]]
    fonts = {}
    for i, (name, born, *_) in enumerate(PEOPLE, start=1):
        legacy = i % 2 == 0
        rows.append([i, encode_tcvn3(name) if legacy else name, born.year])
        fonts[("DS", i + 1, 2)] = ".VnTime" if legacy else "Times New Roman"
    frame = _read(workbook({"DS": rows}, tmp_path / "a.xlsx", fonts)).frame
    assert _canonical(frame["full_name"]) == _canonical(NAMES)


def test_unicode_is_never_mistaken_for_a_legacy_encoding(tmp_path):
    rows = [
        ["Họ và tên", "Thôn"],
        [encode_vni("Lê Đức Quý"), "Thái Bình"],
        ["Đoàn Văn Tú", "Thái Bình"],
        [encode_vni("Trần Văn Nam"), "Thái Bình"],
    ]
    path = tmp_path / "a.csv"
    path.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    frame = _read(path).frame
    assert list(frame["full_name"]) == ["Lê Đức Quý", "Đoàn Văn Tú", "Trần Văn Nam"]
    assert set(frame["hamlet"]) == {"Thái Bình"}  # never "Thỏi Bỡnh"


def test_utf8_read_as_windows_1252_is_repaired(tmp_path):
    def mojibake(text):
        return "".join(
            bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in text.encode("utf-8")
        )

    rows = [["Họ và tên", "Năm sinh"]] + [[mojibake(p[0]), p[1].year] for p in PEOPLE]
    frame = _read(workbook({"DS": rows}, tmp_path / "a.xlsx")).frame
    assert list(frame["full_name"]) == NAMES


# ---- adversarial ----


def test_ten_thousand_columns(tmp_path):
    header = ["Họ và tên", "Năm sinh"] + [f"Cột {i}" for i in range(3, 10_001)]
    rows = [header] + [[p[0], p[1].year] + [""] * 9_000 + ["ghi chú"] for p in PEOPLE]
    ingested = _read(workbook({"DS": rows}, tmp_path / "a.xlsx"))
    assert list(ingested.frame["full_name"]) == NAMES
    assert set(ingested.headers) == {"full_name", "birth_date"}


def test_a_million_formatted_empty_rows_and_a_row_far_below(tmp_path):
    path = workbook({"DS": simple_rows(0)[:5]}, tmp_path / "a.xlsx")
    wb = load_workbook(path)
    ws = wb["DS"]
    ws.cell(300_000, 2, NAMES[3])
    ws.cell(300_000, 3, dt.date(2001, 1, 31))
    ws.cell(1_000_000, 1).fill = PatternFill("solid", fgColor="FFFF00")
    wb.save(path)
    frame = _read(path).frame
    assert list(frame["source_row"]) == [2, 3, 4, 5, 300_000]
    assert list(frame["full_name"]) == [*NAMES, NAMES[3]]


def test_a_formula_in_a_name_cell_is_rejected_with_its_reason(tmp_path):
    path = workbook({"DS": simple_rows(0)}, tmp_path / "a.xlsx")
    wb = load_workbook(path)
    wb["DS"].cell(3, 2).value = '=CONCATENATE("Trần ","Thị Thuỷ")'  # no saved value
    wb.save(path)
    validated = validate_list(_read(path))
    assert len(validated.valid) == 3
    (rejected,) = validated.rejected.to_dict("records")
    assert (rejected["source_row"], rejected["column"]) == (3, "Họ và tên")
    assert "formula" in rejected["reason"]


def test_dates_typed_as_text(tmp_path):
    typed = ["05/03/1950", "5-3-1950", "ngày 5 tháng 3 năm 1950", "1950", "31/02/1950"]
    rows = [["Họ và tên", "Ngày sinh"]] + [[NAMES[0], d] for d in typed]
    validated = validate_list(_read(workbook({"DS": rows}, tmp_path / "a.xlsx"), kind=M))
    assert list(validated.valid["source_row"]) == [2, 3, 4, 5]
    assert validated.rejected.to_dict("records") == [
        {
            "source_file": "a.xlsx",
            "source_sheet": "DS",
            "source_row": 6,
            "column": "Ngày sinh",
            "reason": "Ngày không tồn tại / no such calendar date",
        }
    ]


def _valid_xlsx_bytes(tmp_path):
    return workbook({"DS": simple_rows()}, tmp_path / "ok.xlsx").read_bytes()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: _valid_xlsx_bytes(tmp)[:3000], "Cannot open"),  # truncated
        (lambda tmp: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "password"),  # encrypted
        (lambda tmp: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a readable"),
        (lambda tmp: b"", "empty"),
    ],
    ids=["truncated", "encrypted", "an-image", "empty"],
)
def test_files_that_cannot_be_read_name_the_file_and_the_fix(tmp_path, make, message):
    path = tmp_path / "danh_sach.xlsx"
    path.write_bytes(make(tmp_path))
    with pytest.raises(UnreadableListError) as error:
        _read(path)
    assert message in str(error.value) and "danh_sach.xlsx" in str(error.value)


def test_an_xlsx_that_is_really_a_csv(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_text(csv_text(), encoding="utf-8")
    assert list(_read(path).frame["full_name"]) == NAMES


# ---- every row ends in exactly one place ----

printable = st.characters(blacklist_categories=("Cc", "Cs"))
cell_values = st.one_of(
    st.sampled_from(NAMES),
    st.just(""),
    st.just("=SUM(A1)"),
    st.text(printable, min_size=1, max_size=8),
)
date_values = st.one_of(
    st.sampled_from(
        ["05/03/1950", "1950", "31/02/1950", "", "13/13/13", "ngày 1 tháng 2 năm 1990"]
    ),
    st.text(printable, max_size=6),
)
id_values = st.sampled_from(["", "034050001234", "34050001234", "12AB", "0340500012345"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(cell_values, date_values, id_values), min_size=1, max_size=25),
    st.integers(0, 5),
)
def test_rows_read_equal_valid_plus_rejected(rows, title_height):
    wb = Workbook()
    ws = wb.active
    for r in range(1, title_height + 1):
        ws.cell(r, 1, "DANH SÁCH")
    header = title_height + 1
    for c, title in enumerate(["STT", "Họ và tên", "Ngày sinh", "Số CCCD"], start=1):
        ws.cell(header, c, title)
    for i, (name, born, pid) in enumerate(rows, start=1):
        for c, value in enumerate([i, name, born, pid], start=1):
            if value != "":
                ws.cell(header + i, c, value)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.xlsx"
        wb.save(path)
        ingested = _read(path, kind=ListKind.VACCINATION)
        validated = validate_list(ingested)
    assert len(ingested.frame) == len(rows)
    assert len(validated.valid) + len(validated.rejected) == len(rows)
    every = sorted([*validated.valid["source_row"], *validated.rejected["source_row"]])
    assert every == [header + i for i in range(1, len(rows) + 1)]


@pytest.mark.parametrize("font", [".VnTime", None], ids=["font", "text alone"])
def test_tcvn3_group_rows_give_their_rows_decoded_hamlets(tmp_path, font):
    """A TCVN3 list with no hamlet column: the hamlets come from group rows above the people,
    decoded with the names. The TCVN3 text is glibc iconv's (TCVN5712-1, read as Windows-1252),
    typed here by hand."""
    rows = [
        ["DANH SACH HOI VIEN"],
        ["STT", "Họ và tên", "Năm sinh"],
        ["Th«n §«ng"],
        [1, "NguyÔn V¨n Hoµ", 1950],
        [2, "TrÇn ThÞ Lan", 1962],
        ["Th«n §oµi"],
        [3, "Lª V¨n Tó", 1970],
    ]
    fonts = {("DS", r, c): font for r in range(1, len(rows) + 1) for c in (1, 2)} if font else {}
    frame = _read(workbook({"DS": rows}, tmp_path / "a.xlsx", fonts)).frame
    assert list(frame["full_name"]) == ["Nguyễn Văn Hoà", "Trần Thị Lan", "Lê Văn Tú"]
    assert list(frame["hamlet"]) == ["Thôn Đông", "Thôn Đông", "Thôn Đoài"]
    assert list(frame["source_row"]) == [4, 5, 7]
