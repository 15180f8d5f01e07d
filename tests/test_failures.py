"""Failures are loud and safe, through the command line as an officer or a scheduler meets them:
an empty list is a list of no rows, a list of the wrong kind or a locked file is skipped with its
reason and exit status 4, a register with no rows or a typo in the configuration is a clear
error. Synthetic people only."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from reconcile.cli import main

from conftest import SAMPLE_DIR


def _sheet(path: Path, rows) -> Path:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def _run(tmp_path, register, **lists):
    args = ["run", "--no-prefect", "--register", str(register), "--out", str(tmp_path / "out")]
    for kind, path in lists.items():
        args += ["--list", f"{kind}={path}"]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _summary(result):
    line = next(x for x in result.output.splitlines() if x.startswith("Các tệp kết quả"))
    return json.loads((Path(line.split(": ", 1)[1]) / "summary.json").read_text("utf-8"))


def test_a_month_with_no_deaths_is_a_list_of_no_rows(tmp_path):
    empty = _sheet(tmp_path / "khai_tu_t11.xlsx", [["STT", "Họ và tên", "Năm sinh", "Ngày chết"]])
    result = _run(tmp_path, SAMPLE_DIR / "dan_cu.xlsx", death=empty)
    assert result.exit_code == 0, result.output
    (entry,) = [e for e in _summary(result)["inputs"] if e["file"] == empty.name]
    assert (entry["rows_read"], entry["skipped"]) == (0, None)


def test_a_list_whose_every_row_is_rejected_is_reported_not_a_crash(tmp_path):
    rows = [["STT", "Họ và tên", "Ngày sinh"], [1, "Mai Văn A", "31/02/1990"], [2, "   ", "1990"]]
    bad = _sheet(tmp_path / "hoi_vien.xlsx", rows)
    result = _run(tmp_path, SAMPLE_DIR / "dan_cu.xlsx", membership=bad)
    assert result.exit_code == 0, result.output
    (entry,) = [e for e in _summary(result)["inputs"] if e["file"] == bad.name]
    assert (entry["rows_read"], entry["valid"], entry["rejected"]) == (2, 0, 2)


def test_a_register_without_rows_stops_with_a_clear_message(tmp_path):
    header = [["STT", "Mã nhân khẩu", "Họ và tên", "Ngày sinh", "Số định danh", "Mã hộ"]]
    register = _sheet(tmp_path / "dan_cu.xlsx", header)
    result = _run(tmp_path, register, death=SAMPLE_DIR / "khai_tu.xlsx")
    assert result.exit_code == 1
    assert "has no valid rows" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("2*"))


def test_a_list_of_the_wrong_kind_is_refused_before_it_does_harm(tmp_path):
    # vaccination given as deaths would report living children as dead
    result = _run(tmp_path, SAMPLE_DIR / "dan_cu.xlsx", death=SAMPLE_DIR / "tiem_chung.xlsx")
    assert result.exit_code == 4, result.output
    assert "! tiem_chung.xlsx:" in result.output and "Tiêm chủng" in result.output
    assert _summary(result)["findings_by_type"]["deceased_still_active"] == 0
    # a death list given as the register would report its people "not in the register"
    result = _run(tmp_path, SAMPLE_DIR / "khai_tu.xlsx", death=SAMPLE_DIR / "tiem_chung.xlsx")
    assert result.exit_code == 1 and "register" in result.output


def test_a_death_list_without_a_date_of_death_or_such_a_title_is_refused(tmp_path):
    rows = [["DANH SÁCH HỘ NGHÈO"], ["STT", "Họ và tên", "Năm sinh"], [1, "Mai Văn A", 1950]]
    listed = _sheet(tmp_path / "ds.xlsx", rows)
    result = _run(tmp_path, SAMPLE_DIR / "dan_cu.xlsx", death=listed)
    assert result.exit_code == 4 and "no date of death" in result.output


def test_a_list_held_open_by_excel_is_skipped_with_that_reason(tmp_path, monkeypatch):
    from reconcile import ingest

    listed = tmp_path / "tro_cap.xlsx"
    listed.write_bytes((SAMPLE_DIR / "tro_cap_xa_hoi.xlsx").read_bytes())
    original = ingest._read_excel_grid

    def held_by_excel(path):  # what Windows answers while Excel has the file open
        if path.name == listed.name:
            raise PermissionError(13, "Permission denied")
        return original(path)

    monkeypatch.setattr(ingest, "_read_excel_grid", held_by_excel)
    result = _run(tmp_path, SAMPLE_DIR / "dan_cu.xlsx", welfare=listed)
    assert result.exit_code == 4, result.output
    assert "open in another program" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[register]\npath = "d.xlsx"\n[[list]]\nkind = "death"\npath = "k.xlsx"\n', "'lists'"),
        ('[register]\npath = "d.xlsx"\n[[lists]]\nkind = "death"\nfile = "k.xlsx"\n', "file"),
        ('[register]\npath = "d.xlsx"\n[output]\nfolder = "x"\n', "[output]"),
    ],
)
def test_a_typo_in_the_configuration_is_a_clear_error(tmp_path, text, message):
    config = tmp_path / "reconcile.toml"
    config.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--no-prefect", str(config)])
    assert result.exit_code == 2 and message in result.output


def test_a_workbook_given_as_the_configuration_is_a_clear_error():
    result = CliRunner().invoke(main, ["run", "--no-prefect", str(SAMPLE_DIR / "dan_cu.xlsx")])
    assert result.exit_code == 2 and "not a TOML run configuration" in result.output
