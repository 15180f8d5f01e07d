"""Formulas without saved values, found in sheet XML written by hand the ways other tools write
it: a namespace prefix on every element (`<x:c>`, as .NET's Open XML SDK writes), and shared
formulas whose children carry only an index (as Excel writes a filled-down column)."""

import zipfile

from reconcile.xlsx_parts import uncomputed_formulas

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKBOOK = (
    f'<x:workbook xmlns:x="{MAIN}" xmlns:r="{REL}"><x:sheets>'
    '<x:sheet name="DS" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>'
)
RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET = (
    f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData>'
    '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Họ tên</x:t></x:is></x:c>'
    '<x:c r="B1"><x:f>CONCAT("Năm"," sinh")</x:f></x:c></x:row>'
    '<x:row r="2"><x:c r="B2"><x:f t="shared" ref="B2:B4" si="0">A2*2</x:f></x:c>'
    '<x:c r="C2"><x:f>1+1</x:f><x:v>2</x:v></x:c></x:row>'
    '<x:row r="3"><x:c r="B3"><x:f t="shared" si="0"/></x:c></x:row>'
    '<x:row r="4"><x:c r="B4"><x:f t="shared" si="0"/></x:c></x:row>'
    "</x:sheetData></x:worksheet>"
)


def test_prefixed_cells_and_shared_formula_children_are_read_as_excel_shows_them(tmp_path):
    path = tmp_path / "sdk.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", RELS)
        archive.writestr("xl/worksheets/sheet1.xml", SHEET)
    found = uncomputed_formulas(path)
    assert found == {
        "DS": {
            (1, 1): '=CONCAT("Năm"," sinh")',
            (2, 1): "=A2*2",
            (3, 1): "=A3*2",  # a child is its master's formula moved down, never "="
            (4, 1): "=A4*2",
        }
    }  # C2 has a saved value: the fast reader sees it, so it is not listed
