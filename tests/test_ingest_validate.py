import datetime as dt

import pytest

from reconcile.ingest import UnreadableListError, ingest_list
from reconcile.kinds import ListKind
from reconcile.validate import MissingColumnsError, validate_list

from listfiles import cp1258_bytes
from synthetic.paperwork import Paperwork, write_paperwork

HEADERS = ["STT", "HỌ VÀ TÊN", "Ngày, tháng, năm sinh", "Giới tính", "Số CCCD"]


def _people():
    return [
        {
            "HỌ VÀ TÊN": "Nguyễn Văn Hòa",
            "Ngày, tháng, năm sinh": dt.date(1980, 5, 1),
            "Giới tính": "Nam",
            "Số CCCD": 34080001234,
        },
        "Thôn Đông",
        {
            "HỌ VÀ TÊN": "Trần Thị Lan",
            "Ngày, tháng, năm sinh": "03/04/1990",
            "Giới tính": "Nữ",
            "Số CCCD": "034190001111",
        },
        {
            "HỌ VÀ TÊN": "Lê Văn Tú",
            "Ngày, tháng, năm sinh": "31/02/1990",
            "Giới tính": "Nam",
            "Số CCCD": "03409000X111",
        },
        {"HỌ VÀ TÊN": "", "Ngày, tháng, năm sinh": "1950", "Giới tính": "Nữ"},
    ]


@pytest.fixture
def paperwork_file(tmp_path):
    doc = Paperwork(
        "UBND XÃ AN BÌNH", "DANH SÁCH", "Năm 2026", HEADERS, _people(), extra_title_rows=2
    )
    path = tmp_path / "ds.xlsx"
    rows = write_paperwork(doc, path)
    return path, rows


def test_table_found_under_any_title_block_with_excel_rows(paperwork_file):
    path, excel_rows = paperwork_file
    ingested = ingest_list(path, ListKind.MEMBERSHIP)
    frame = ingested.frame
    # title rows, the group row, the total row and the signer names are not people
    assert list(frame["source_row"]) == excel_rows
    assert ingested.headers["full_name"] == "HỌ VÀ TÊN"
    assert ingested.headers["birth_date"] == "Ngày, tháng, năm sinh"
    assert "Lê Văn Thọ" not in set(frame["full_name"])  # the signer under the footer
    # the group row sets the hamlet of the rows below it
    assert list(frame["hamlet"].fillna("")) == ["", "Thôn Đông", "Thôn Đông", "Thôn Đông"]


def test_every_row_is_valid_or_rejected_with_where_and_why(paperwork_file):
    path, excel_rows = paperwork_file
    validated = validate_list(ingest_list(path, ListKind.MEMBERSHIP))
    assert len(validated.valid) + len(validated.rejected) == 4
    assert list(validated.valid["source_row"]) == excel_rows[:2]
    rejected = validated.rejected.set_index("source_row")
    lost_row, blank_row = excel_rows[2], excel_rows[3]
    assert rejected.at[lost_row, "column"] == "Ngày, tháng, năm sinh ; Số CCCD"
    assert "no such calendar date" in rejected.at[lost_row, "reason"]
    assert "non-digits" in rejected.at[lost_row, "reason"]
    assert rejected.at[blank_row, "column"] == "HỌ VÀ TÊN"
    assert rejected.at[blank_row, "source_file"] == "ds.xlsx"
    # reasons name the problem, never the value a clerk typed
    assert "31/02" not in rejected.at[lost_row, "reason"]


def test_a_csv_with_bom_and_semicolons_reads_like_the_workbook(tmp_path):
    path = tmp_path / "ds.csv"
    path.write_bytes(
        "DANH SÁCH HỘI VIÊN\n\nSTT;Họ tên;Năm sinh;Giới tính\n1;Phạm Thị Mai;1950;Nữ\n"
        "2;Vũ Văn Nam;1948;Nam\n".encode("utf-8-sig")
    )
    frame = ingest_list(path, ListKind.MEMBERSHIP).frame
    assert list(frame["full_name"]) == ["Phạm Thị Mai", "Vũ Văn Nam"]
    assert list(frame["source_row"]) == [4, 5]


def test_a_cp1258_csv_decodes_to_nfc(tmp_path):
    path = tmp_path / "ds.csv"
    path.write_bytes(cp1258_bytes("Họ và tên,Năm sinh\nNguyễn Văn Hòa,1950\n"))
    frame = ingest_list(path, ListKind.MEMBERSHIP).frame
    assert frame.at[0, "full_name"] == "Nguyễn Văn Hòa"


def test_an_xlsx_that_is_really_a_csv_is_still_read(tmp_path):
    path = tmp_path / "ds.xlsx"
    path.write_text("Họ và tên,Năm sinh\nNguyễn Văn Hòa,1950\n", encoding="utf-8")
    assert len(ingest_list(path, ListKind.MEMBERSHIP).frame) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 truncated zip", "Cannot open"),
        ("Báo cáo tháng\nkhông có bảng\n".encode(), "No header row"),
    ],
)
def test_an_unreadable_file_gives_a_bilingual_message_naming_it(tmp_path, content, message):
    path = tmp_path / "hong.xlsx"
    path.write_bytes(content)
    with pytest.raises(UnreadableListError) as error:
        ingest_list(path, ListKind.MEMBERSHIP)
    assert message in str(error.value)
    assert "hong.xlsx" in str(error.value)


def test_a_list_without_a_required_column_is_refused_not_guessed(tmp_path):
    path = tmp_path / "tc.csv"
    path.write_text("Họ và tên,Giới tính\nNguyễn Văn Hòa,Nam\n", encoding="utf-8")
    with pytest.raises(MissingColumnsError, match="Ngày sinh"):
        validate_list(ingest_list(path, ListKind.VACCINATION))


def test_a_column_override_maps_an_unusual_header(tmp_path):
    path = tmp_path / "ds.csv"
    path.write_text("Tên hội viên,Năm sinh\nNguyễn Văn Hòa,1950\n", encoding="utf-8")
    with pytest.raises(UnreadableListError):
        ingest_list(path, ListKind.MEMBERSHIP)
    frame = ingest_list(path, ListKind.MEMBERSHIP, overrides={"Tên hội viên": "full_name"}).frame
    assert frame.at[0, "full_name"] == "Nguyễn Văn Hòa"


def test_cells_of_spaces_only_are_empty_not_values(tmp_path):
    """A clerk's space bar: ASCII, no-break and ideographic spaces and tabs make an empty
    cell. The row stays valid and the cell is missing, not an ID or date of blanks."""
    from listfiles import workbook

    rows = [
        ["STT", "Họ và tên", "Ngày sinh", "Số định danh cá nhân"],
        [1, "Nguyễn Văn An", "   ", "\u00a0"],
        [2, "Trần Thị Bích", "\u3000\t", "034190001111"],
        [3, "Lê Văn Cường", "01/02/1980", " \u00a0 "],
    ]
    path = workbook({"DS": rows}, tmp_path / "ds.xlsx")
    validated = validate_list(ingest_list(path, ListKind.MEMBERSHIP))
    assert validated.rejected.empty
    valid = validated.valid.set_index("source_row")
    assert valid["birth_date"].isna().tolist() == [True, True, False]
    assert valid["personal_id"].isna().tolist() == [True, False, True]
    assert valid.at[2, "full_name"] == "Nguyễn Văn An"  # text with spaces inside is kept
