import gc
import json
import weakref
import zipfile
import zlib

import pandas as pd
import pytest
from openpyxl import load_workbook

from reconcile.config import load_config
from reconcile.findings import FINDING_COLUMNS, SIDE_COLUMNS
from reconcile.pipeline import run_reconciliation
from reconcile.report import output
from reconcile.report.cells import Workbook
from reconcile.report.files import summary
from reconcile.report.finding_sheets import (
    BODY_POINTS,
    MIN_POINTS,
    PRINTED,
    SHEET_NAMES,
    print_scale,
)
from reconcile.report.workbook import ReviewWorkbook
from reconcile.review.workbook_decisions import DECISIONS

from synthetic.commune import generate_commune


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A run on a small synthetic commune, with a formula-like name planted in one list."""
    folder = tmp_path_factory.mktemp("commune")
    config_path = generate_commune(folder, seed=11, size=600)
    wb = load_workbook(folder / "tiem_chung.xlsx")
    ws = wb.active
    ws.cell(9, 2).value = '=HYPERLINK("http://x")'  # a name cell holding a formula
    ws.cell(10, 2).value = "-Lê Văn Tú"  # text that a spreadsheet would run as a formula
    wb.save(folder / "tiem_chung.xlsx")
    config = load_config(config_path, out_dir=folder / "out")
    result, run_dir = run_reconciliation(config)
    return result, run_dir


def test_run_folder_has_exactly_the_contract_files(small_run):
    _, run_dir = small_run
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "findings.csv",
        "layout.csv",
        "links.csv",
        "rejected.csv",
        "review.xlsx",
        "summary.json",
        "trust.html",
    ]
    findings = pd.read_csv(run_dir / "findings.csv", dtype=str, encoding="utf-8-sig")
    assert list(findings.columns) == FINDING_COLUMNS + SIDE_COLUMNS
    links = pd.read_csv(run_dir / "links.csv", dtype=str, encoding="utf-8-sig")
    assert list(links.columns) == [
        "source_file",
        "source_sheet",
        "source_row",
        "person_id",
        "register_row",
        "decision",
        "score",
        "probability",
    ]
    assert (run_dir / "findings.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert run_dir.stat().st_mode & 0o077 == 0  # owner only
    assert not any(p.name.startswith(output.STAGING_PREFIX) for p in run_dir.parent.iterdir())


def test_counts_add_up_per_file(small_run):
    result, run_dir = small_run
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    links = pd.read_csv(run_dir / "links.csv", dtype=str, encoding="utf-8-sig")
    rejected = pd.read_csv(run_dir / "rejected.csv", dtype=str, encoding="utf-8-sig")
    assert all(summary["checks"].values())
    for entry in summary["inputs"]:
        assert entry["rows_read"] == entry["valid"] + entry["rejected"]
        assert entry["rejected"] == (rejected["source_file"] == entry["file"]).sum()
        if entry["kind"] != "register":
            assert entry["valid"] == entry["match"] + entry["possible"] + entry["none"]
            assert entry["valid"] == (links["source_file"] == entry["file"]).sum()
    assert summary["findings_total"] == len(result.findings)


def test_no_personal_data_in_summary_and_full_ids_in_the_run_folders_files(small_run):
    result, run_dir = small_run
    text = (run_dir / "summary.json").read_text(encoding="utf-8")
    findings = pd.read_csv(run_dir / "findings.csv", dtype=str, encoding="utf-8-sig")
    register = result.register.people
    for name in register["name_raw"].head(200):
        assert name not in text
    for pid in register["pid"].dropna():
        assert pid not in text
    # findings.csv stays in the owner-only run folder and is what the register is corrected from
    ids = findings.loc[findings["type"] == "id_differs", ["source_value", "register_value"]]
    assert ids.map(lambda v: isinstance(v, str) and v.isdigit()).all().all()


def test_formula_like_text_is_rejected_or_stored_as_text(small_run):
    result, run_dir = small_run
    rejected = result.rejected
    formula_row = rejected[
        (rejected["source_file"] == "tiem_chung.xlsx") & (rejected["source_row"] == 9)
    ]
    # calamine reads an uncached formula as empty: the row is rejected, on the name column
    assert formula_row["column"].item() == "Họ và tên trẻ được tiêm chủng"
    wb = load_workbook(run_dir / "review.xlsx")
    cells = [
        c
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))
    ]
    assert any(c.value.startswith("-Lê Văn Tú") for c in cells)
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_workbook_is_built_for_the_officer(small_run):
    result, run_dir = small_run
    wb = load_workbook(run_dir / "review.xlsx")
    assert wb.sheetnames[:2] == ["Tổng hợp", "Hướng dẫn"]
    assert wb.sheetnames[-1] == "Dòng bị loại"
    counts = result.findings["type"].value_counts()
    for kind, n in counts.items():
        ws = wb[SHEET_NAMES[kind]]
        assert ws.max_row == n + 1
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref.startswith("A1:")
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
        assert not ws.protection.sheet  # sorting, filtering, deleting rows all work
        assert ws.print_title_rows == "$1:$1"  # the header repeats on every printed page
        (validation,) = ws.data_validations.dataValidation
        assert validation.formula1 == '"' + ",".join(DECISIONS) + '"'
        header = [c.value for c in ws[1]]
        assert header[: len(PRINTED)] == [c.title for c in PRINTED]
        assert {"Mã phát hiện", "Quyết định", "Ghi chú"} <= set(header)
    # on A4 landscape the print area's body text stays at 9 pt or more
    assert print_scale() * BODY_POINTS >= MIN_POINTS
    ws = wb[SHEET_NAMES["name_differs"]]
    header = [c.value for c in ws[1]]
    listed, registered = header.index("Họ tên (DS)") + 1, header.index("Họ tên (DLDC)") + 1
    for row in range(2, ws.max_row + 1):  # the person on both sides, the names highlighted
        assert ws.cell(row, listed).value and ws.cell(row, registered).value
        assert ws.cell(row, listed).fill.fgColor.rgb.endswith("F8CBAD")
    births = [ws.cell(r, header.index("Ngày sinh (DLDC)") + 1) for r in range(2, ws.max_row + 1)]
    assert all(c.is_date for c in births if c.value and not str(c.value).isdigit())
    chance = ws.cell(2, header.index("Xác suất") + 1)
    assert 0 < chance.value <= 1 and chance.number_format == "0.0%"
    missing = wb[SHEET_NAMES["not_in_register"]]
    header = [c.value for c in missing[1]]
    why = missing.cell(2, header.index("Vì sao ghép / giải thích") + 1).value
    assert why.startswith("Gần nhất")  # the nearest residents considered, and why not taken
    assert wb["Dòng bị loại"].max_row == len(result.rejected) + 1


def test_a_failed_write_leaves_no_folder_behind(small_run, tmp_path, monkeypatch):
    result, _ = small_run

    def broken(*_):
        raise OSError("disk full")

    monkeypatch.setattr(output, "write_review_workbook", broken)
    with pytest.raises(OSError):
        output.write_run(result, tmp_path)
    assert list(tmp_path.iterdir()) == []


def _workbook_cells(path):
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb}, {
        ws.title: {r: d.height for r, d in ws.row_dimensions.items()} for ws in wb
    }


def test_finding_sheets_made_a_slice_at_a_time_are_the_sheets_made_at_once(
    small_run, tmp_path, monkeypatch
):
    """A province's finding sheet is shown and rendered a slice of rows at a time, so that a
    million findings are never all in memory as cells: the workbook is the same."""
    from reconcile.report import bulk_rows, finding_sheets

    result, run_dir = small_run
    assert result.findings["type"].value_counts().max() > 7  # several slices on a sheet
    at_once = output.write_run(result, tmp_path / "at_once")
    monkeypatch.setattr(finding_sheets, "RENDER_BATCH", 7)
    monkeypatch.setattr(bulk_rows, "RENDER_BATCH", 5)
    sliced = output.write_run(result, tmp_path / "sliced")
    assert _workbook_cells(sliced / "review.xlsx") == _workbook_cells(at_once / "review.xlsx")


def test_a_findings_empty_cells_are_empty_text(small_run):
    """Every finding carries every column; a cell a finding type does not fill is "", never a
    missing value (the workbook, the CSV and the decisions' hashes all read it as text)."""
    result, _ = small_run
    findings = result.findings
    assert len(findings["type"].unique()) >= 3
    assert not findings.isna().any().any()
    assert (findings["related_person_id"] == "").sum() > 0


def _deflated_at(level: int, data: bytes) -> int:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return len(packer.compress(data) + packer.flush())


def test_a_saved_workbook_is_freed_without_the_garbage_collector(small_run, tmp_path):
    """A province run writes a hundred commune workbooks in a process holding millions of
    objects, where full collections are rare: each saved workbook goes at once, not when a
    collection finds its cycle."""
    result, run_dir = small_run
    review = ReviewWorkbook(result.findings)
    book = weakref.ref(review._wb)
    sheets = [weakref.ref(sheet) for sheet in review._wb.worksheets()]
    gc.disable()
    try:
        review.save(result, summary(result), tmp_path / "review.xlsx")
        del review
        assert book() is None
        assert len(sheets) > 3 and all(sheet() is None for sheet in sheets)
    finally:
        gc.enable()
    written = load_workbook(tmp_path / "review.xlsx", read_only=True)
    assert written.sheetnames == load_workbook(run_dir / "review.xlsx", read_only=True).sheetnames


@pytest.mark.parametrize("in_memory", [True, False])
def test_a_workbook_is_packed_at_the_faster_zip_level(small_run, tmp_path, in_memory):
    """XlsxWriter deflates at zlib's default level unless told: the run's workbook (a small
    one, packed in memory) and a big one (its parts on disk first) are deflated at level 3."""
    _, run_dir = small_run
    path = run_dir / "review.xlsx"
    if not in_memory:
        path = tmp_path / "big.xlsx"
        wb = Workbook(str(path), {"in_memory": False})
        ws = wb.add_worksheet()
        for row in range(3000):
            ws.write_row(row, 0, [f"Nguyễn Văn Hoà {row}", f"{row % 28 + 1:02d}/03/1950", "Nam"])
        wb.close()
    with zipfile.ZipFile(path) as packed:
        parts = [(info, packed.read(info)) for info in packed.infolist()]
    sheets = [(info, data) for info, data in parts if info.filename.startswith("xl/worksheets/")]
    assert sheets and all(len(data) > 2000 for _, data in sheets[:1])
    assert all(info.compress_size == _deflated_at(3, data) for info, data in parts)
    assert any(info.compress_size != _deflated_at(6, data) for info, data in sheets)
