"""Hand-written layouts of real commune paperwork (shared/domain.md §4), typed cell by cell here
rather than made by the sample generator: headers that say more than the field, other people's
columns beside the person's, headers in legacy fonts, group rows of every common style, names
that fold to layout words, footers that are not the end. Each case asserts exactly which Excel
rows are people and which columns were mapped. Synthetic people only."""

import datetime as dt

from openpyxl import load_workbook

from reconcile.ingest import ingest_list
from reconcile.kinds import ListKind

from listfiles import workbook

TITLE = [
    ["TRẠM Y TẾ XÃ AN BÌNH", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
    [None, None, None, "Độc lập - Tự do - Hạnh phúc"],
    [],
]


def _read(tmp_path, rows, kind=ListKind.MEMBERSHIP, name="a.xlsx", fonts=None, sheets=None):
    path = workbook(sheets or {"DS": rows}, tmp_path / name, fonts)
    return ingest_list(path, kind)


def _people(ingested):
    return list(ingested.frame["source_row"])


def _column(ingested, name):
    return [None if v is None or v != v else v for v in ingested.frame[name]]


def test_vaccination_headers_that_say_more_and_the_mothers_columns_beside_them(tmp_path):
    rows = [
        *TITLE,
        ["DANH SÁCH TRẺ TIÊM CHỦNG THÁNG 10/2026"],
        [],
        [
            "STT",
            "Họ và tên trẻ được tiêm chủng",
            "Ngày sinh (ngày/tháng/năm)",
            "Giới tính",
            "Họ tên mẹ",
            "Số CCCD của mẹ",
            "Thôn/Xóm",
            "Tên vắc xin",
            "Ngày tiêm",
        ],
        [1, "Lò Văn Pháo", "03/02/2024", "Nam", "Lò Thị Xiêm", "034199001122", "Bản Mòng", "MR"],
        [2, "Nguyễn Ngọc Hân", dt.date(2025, 7, 9), "Nữ", "Vũ Thị Lụa", "034195003344", "Xóm 3"],
    ]
    ingested = _read(tmp_path, rows, ListKind.VACCINATION)
    assert _people(ingested) == [7, 8]
    assert ingested.headers == {
        "row_number": "STT",
        "full_name": "Họ và tên trẻ được tiêm chủng",
        "birth_date": "Ngày sinh (ngày/tháng/năm)",
        "sex": "Giới tính",
        "hamlet": "Thôn/Xóm",
    }
    assert _column(ingested, "full_name") == ["Lò Văn Pháo", "Nguyễn Ngọc Hân"]
    assert "personal_id" not in ingested.frame  # the mother's number is not the child's


def test_welfare_headers_and_a_guardians_columns(tmp_path):
    rows = [
        ["UBND XÃ AN BÌNH"],
        ["DANH SÁCH CHI TRẢ TRỢ CẤP XÃ HỘI THÁNG 11/2026"],
        [
            "TT",
            "Họ tên người hưởng trợ cấp",
            "Năm sinh",
            "Số CCCD/Số định danh",
            "Người giám hộ",
            "CCCD người giám hộ",
            "Số thẻ BHYT",
            "Địa chỉ",
            "Mức hưởng",
        ],
        [1, "Đinh Thị Nở", 1941, "034141002233", "Đinh Văn Tư", "034070001111", "", "Thôn Đông"],
    ]
    ingested = _read(tmp_path, rows, ListKind.WELFARE)
    assert _people(ingested) == [4]
    assert ingested.headers["full_name"] == "Họ tên người hưởng trợ cấp"
    assert ingested.headers["personal_id"] == "Số CCCD/Số định danh"
    assert _column(ingested, "personal_id") == ["034141002233"]  # not the guardian's number
    assert set(ingested.headers) == {
        "row_number",
        "full_name",
        "birth_date",
        "personal_id",
        "insurance_number",
        "hamlet",
    }


def test_birth_and_death_registry_headers(tmp_path):
    births = [
        ["SỔ ĐĂNG KÝ KHAI SINH"],
        [
            "Số",
            "Họ, chữ đệm, tên người được đăng ký khai sinh",
            "Ngày, tháng, năm sinh",
            "Giới tính",
            "Họ tên cha",
            "Họ tên mẹ",
            "Người đi khai",
            "Ngày đăng ký",
        ],
        [None, "Hà Minh Khôi", "01/02/2026", "Nam", "Hà Văn Long", "Trần Thị Mơ", "Hà Văn Long"],
    ]
    born = _read(tmp_path, births, ListKind.BIRTH, "ks.xlsx")
    assert set(born.headers) == {"full_name", "birth_date", "sex"}
    assert _column(born, "full_name") == ["Hà Minh Khôi"]
    deaths = [
        ["SỔ ĐĂNG KÝ KHAI TỬ"],
        [
            "STT",
            "Họ và tên người chết",
            "Ngày, tháng, năm sinh",
            "Ngày, tháng, năm chết",
            "Số CCCD",
            "Họ tên người đi khai",
            "Quan hệ với người chết",
        ],
        [1, "Lê Thị Gái", "1932", "12/10/2026", "034132004455", "Lê Văn Cả", "Con"],
    ]
    died = _read(tmp_path, deaths, ListKind.DEATH, "kt.xlsx")
    expected = {"row_number", "full_name", "birth_date", "death_date", "personal_id"}
    assert set(died.headers) == expected
    assert _column(died, "death_date") == ["12/10/2026"]


# VNI-Windows and TCVN3 header text as the fonts store it, typed here byte by byte from the
# two standards' letter codes (not produced by our own encoder).
VNI_HEADER = ["STT", "Hoï vaø teân", "Ngaøy sinh", "Giôùi tính", "Soá CMND/CCCD", "Thoân"]
TCVN3_HEADER = ["STT", "Hä vµ tªn", "Ngµy sinh", "Giíi tÝnh", "Sè CMND/CCCD", "Th«n"]
MAPPED = {
    "row_number": "STT",
    "full_name": "Họ và tên",
    "birth_date": "Ngày sinh",
    "sex": "Giới tính",
    "personal_id": "Số CMND/CCCD",
    "hamlet": "Thôn",
}


def test_legacy_font_headers_are_decoded_before_they_are_matched(tmp_path):
    for name, header, font, person in (
        ("vni.xlsx", VNI_HEADER, "VNI-Times", "Nguyeãn Vaên Hoaø"),
        ("tcvn3.xlsx", TCVN3_HEADER, ".VnTime", "NguyÔn V¨n Hoµ"),
    ):
        rows = [["DANH SACH"], header, [1, person, "05/03/1950", "Nam", "034050001234", "Ñoâng"]]
        fonts = {("DS", 2, c): font for c in range(1, 7)}
        fonts.update({("DS", 3, c): font for c in range(1, 7)})
        ingested = _read(tmp_path, rows, name=name, fonts=fonts)
        assert ingested.headers == MAPPED, name
        assert _column(ingested, "personal_id") == ["034050001234"], name
        assert _column(ingested, "full_name") == ["Nguyễn Văn Hoà"], name
        assert not ingested.warnings


def test_a_header_that_looks_like_an_id_column_but_is_not_understood_is_reported(tmp_path):
    header = ["STT", "Họ và tên", "Năm sinh", "Số giấy tờ tùy thân (CCCD/CMND)"]
    ingested = _read(tmp_path, [header, [1, "Mai Văn Tí", 1990, "034090001234"]])
    assert "personal_id" not in ingested.headers
    assert len(ingested.warnings) == 1 and "CCCD" in ingested.warnings[0]


GROUPED = [
    ["DANH SÁCH HỘI VIÊN HỘI NGƯỜI CAO TUỔI"],
    ["STT", "Họ và tên", "Năm sinh", "Giới tính", "Ghi chú"],
    ["I", "CHI HỘI THÔN ĐÔNG"],  # row 3: Roman numeral in STT
    [1, "Phạm Văn Bảy", 1944, "Nam"],
    [2, "Đỗ Thị Tám", 1950, "Nữ"],
    ["II. Thôn Bãi"],  # row 6: numeral and title in one cell
    [3, "Bùi Văn Chín", 1939, "Nam"],
    ["A - Xóm 3"],  # row 8: a letter
    [4, "Hà Thị Mười", 1946, "Nữ"],
    [None, "Tổ dân phố số 5"],  # row 10: a label in the name column
    [5, "Lại Văn Một", 1952, "Nam"],
    [None, "Chi đoàn Thôn Tây"],  # row 12
    [6, "Vi Thị Hai", 1948, "Nữ"],
    [None, "Danh sách bổ sung"],  # row 14: a label with nothing else, in a numbered list
    [7, "Lưu Văn Ba", 1937, "Nam"],
    ["Cộng: 7 hội viên"],
]


def test_group_rows_of_every_common_style_are_layout_and_set_the_hamlet(tmp_path):
    ingested = _read(tmp_path, GROUPED)
    assert _people(ingested) == [4, 5, 7, 9, 11, 13, 15]
    assert _column(ingested, "hamlet") == [
        "THÔN ĐÔNG",
        "THÔN ĐÔNG",
        "Thôn Bãi",
        "Xóm 3",
        "Tổ dân phố số 5",
        "Thôn Tây",
        None,
    ]
    roles = dict(zip(ingested.layout["source_row"], ingested.layout["role"], strict=True))
    assert roles == {
        1: "title",
        2: "header",
        3: "group",
        6: "group",
        8: "group",
        10: "group",
        12: "group",
        14: "label",
        16: "total",
    }


def test_a_group_label_merged_across_the_table(tmp_path):
    rows = [
        ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số định danh"],
        ["XÓM BÃI"],
        [1, "Lục Văn Sáu", "01/01/1990", "Nam", "034090001111"],
    ]
    path = workbook({"DS": rows}, tmp_path / "m.xlsx")
    wb = load_workbook(path)
    wb["DS"].merge_cells("A2:E2")
    wb.save(path)
    ingested = ingest_list(path, ListKind.MEMBERSHIP)
    assert _people(ingested) == [3]
    assert _column(ingested, "hamlet") == ["XÓM BÃI"]


def test_a_hamlet_merged_down_over_a_household_belongs_to_every_member(tmp_path):
    rows = [
        ["STT", "Họ và tên", "Ngày sinh", "Thôn"],
        [1, "Tạ Văn Hùng", "01/01/1970", "Thôn Đông"],
        [2, "Tạ Thị Hoa", "01/01/1972", None],
        [3, "Tạ Văn Khang", "01/01/1999", None],
        [4, "Lý Thị Mai", "01/01/1980", "Thôn Đoài"],
    ]
    path = workbook({"DS": rows}, tmp_path / "m.xlsx")
    wb = load_workbook(path)
    wb["DS"].merge_cells("D2:D4")
    wb.save(path)
    ingested = ingest_list(path, ListKind.MEMBERSHIP)
    assert _column(ingested, "hamlet") == ["Thôn Đông"] * 3 + ["Thôn Đoài"]


def test_names_that_fold_to_layout_words_are_people(tmp_path):
    rows = [
        ["Họ và tên", "Năm sinh", "Giới tính"],  # no STT column: nothing numbers the people
        ["Công Tằng Tôn Nữ Thị Lan", 1960, "Nữ"],
        ["Bàn Văn Minh", 1960, None],
        ["Tổng Văn Hải", 1971, "Nam"],
        ["Lang Văn Hùng", 1980, "Nam"],
        ["Đoàn Thị Thu", 1990, "Nữ"],
        ["Tô Thị Hoa", 1985, "Nữ"],
    ]
    ingested = _read(tmp_path, rows)
    assert _people(ingested) == [2, 3, 4, 5, 6, 7]
    assert ingested.frame["hamlet"].isna().all() if "hamlet" in ingested.frame else True


def test_an_unnumbered_list_typed_without_diacritics_tells_groups_from_people(tmp_path):
    """No STT column, and the rows typed without diacritics: "Lang" (the family name Lăng) folds
    to the group word "làng", so only the birth date says the row is a person; a group row with
    a head count beside it has no date."""
    rows = [
        ["Họ và tên", "Ngày sinh", "Giới tính"],
        ["Xom Bai"],
        ["Lang Thi Hoa", "05/11/1990"],
        ["Lang Van Tu", "12/03/1985", "Nam"],
        ["Thon Dong", "(12 nguoi)"],
        ["Doan Van Minh", "05/11/1990", "Nam"],
        ["Tổng cộng: 3 người"],
    ]
    ingested = _read(tmp_path, rows)
    assert _people(ingested) == [3, 4, 6]
    assert _column(ingested, "hamlet") == ["Xom Bai", "Xom Bai", "Thon Dong"]
    roles = dict(zip(ingested.layout["source_row"], ingested.layout["role"], strict=True))
    assert roles == {1: "header", 2: "group", 5: "group", 7: "total"}


def test_a_footer_word_followed_by_more_people_is_not_the_end(tmp_path):
    rows = [["Họ và tên", "Ngày sinh", "Giới tính"]]
    rows += [[f"Người Thứ {i}", f"0{1 + i % 9}/01/1990", "Nam"] for i in range(3)]
    rows += [["TM^"]]  # row 5: a stray cell that looks like "TM." (on behalf of)
    rows += [[f"Người Khác {i}", f"0{1 + i % 9}/02/1991", "Nữ"] for i in range(3)]
    rows += [["Người lập biểu"], [None, "Phạm Thị Hồng"]]
    ingested = _read(tmp_path, rows)
    assert _people(ingested) == [2, 3, 4, 5, 6, 7, 8]
    layout = dict(zip(ingested.layout["source_row"], ingested.layout["role"], strict=True))
    assert layout == {1: "header", 9: "footer", 10: "footer"}


def test_a_sub_header_naming_the_child_and_the_mother(tmp_path):
    rows = [
        ["STT", "Họ và tên", None, "Ngày sinh", "Thôn"],
        [None, "Trẻ", "Mẹ", None, None],
        [1, "Hứa Minh An", "Hứa Thị Bé", "02/03/2025", "Thôn Đông"],
    ]
    path = workbook({"DS": rows}, tmp_path / "s.xlsx")
    wb = load_workbook(path)
    wb["DS"].merge_cells("B1:C1")
    wb.save(path)
    ingested = ingest_list(path, ListKind.VACCINATION)
    assert _people(ingested) == [3]
    assert _column(ingested, "full_name") == ["Hứa Minh An"]


def test_a_workbook_with_a_notes_sheet_and_a_pivot_reads_the_others(tmp_path):
    sheets = {
        "Tháng 10": [
            ["STT", "Họ tên trẻ", "Ngày sinh", "Thôn"],
            [1, "Mạc Văn Ân", "01/05/2024", "Thôn Đông"],
        ],
        "Tháng 11": [
            ["DANH SÁCH TRẺ TIÊM THÁNG 11"],
            ["TT", "Họ và tên trẻ", "Ngày, tháng, năm sinh", "Giới tính", "Địa chỉ"],
            [1, "Kha Thị Bình", "09/09/2025", "Nữ", "Xóm Mới"],
        ],
        "Ghi chú": [["Lập theo hướng dẫn của TTYT huyện"]],
        "Tổng hợp": [["Thôn", "Số trẻ"], ["Thôn Đông", 1]],
    }
    ingested = _read(tmp_path, None, ListKind.VACCINATION, sheets=sheets)
    frame = ingested.frame
    assert list(zip(frame["source_sheet"], frame["source_row"], strict=True)) == [
        ("Tháng 10", 2),
        ("Tháng 11", 3),
    ]
    skipped = {r.sheet: r.skipped for r in ingested.sheets if r.skipped}
    assert set(skipped) == {"Ghi chú", "Tổng hợp"}
    assert "Thôn" in skipped["Tổng hợp"]  # the closest header it saw


def test_every_row_of_a_sheet_is_data_or_layout(tmp_path):
    ingested = _read(tmp_path, GROUPED)
    (sheet,) = ingested.sheets
    assert sheet.rows == len(GROUPED)
    assert sheet.rows == sheet.data + sum(sheet.layout.values())
    assert sheet.data == len(ingested.frame)


def test_a_sheet_numbers_its_people_when_most_filled_rows_carry_a_number():
    """Blank rows do not count against the numbering: half the filled rows numbered is enough,
    however many blank rows lie between them; a sheet with no numbers is not numbered."""
    from reconcile.ingest import _is_numbered

    numbered = [[1, "Lò Văn Pháo"], [2, "Vũ Thị Lụa"], ["3.", "Hà Văn Sơn"], [None, "Thôn 2"]]
    spaced = [[1, "Lò Văn Pháo"], [], [None, ""], [], [None, "Vũ Thị Lụa"], []]
    assert _is_numbered(numbered, 0)
    assert _is_numbered(spaced, 0)  # 1 of 2 filled rows, 6 rows in all
    assert not _is_numbered([[None, "Lò Văn Pháo"], [None, "Vũ Thị Lụa"], [1, "Thôn 2"]], 0)
    assert not _is_numbered([[], [None, ""]], 0)
    assert not _is_numbered([], 0)
    assert not _is_numbered(numbered, None)


def test_a_row_shorter_than_the_header_gives_none_for_the_cells_it_lacks():
    """Readers end a row at its last filled cell: the missing cells are None, not an error,
    and one mapped column gives its cell, not a tuple."""
    from reconcile.ingest import _record_picker

    pick = _record_picker({0: "row_number", 2: "full_name", 5: "birth_date"})
    assert pick([7, "x", "Lò Văn Pháo", None, None, "03/02/2024", "extra"]) == {
        "row_number": 7,
        "full_name": "Lò Văn Pháo",
        "birth_date": "03/02/2024",
    }
    assert pick([7, None, "Vũ Thị Lụa"]) == {
        "row_number": 7,
        "full_name": "Vũ Thị Lụa",
        "birth_date": None,
    }
    assert _record_picker({1: "full_name"})(["", "Hà Văn Sơn"]) == {"full_name": "Hà Văn Sơn"}
    assert _record_picker({})(["", "Hà Văn Sơn"]) == {}
