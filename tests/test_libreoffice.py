"""The review workbook in LibreOffice, as a police office without Excel uses it: it opens as
written (converted headless, same sheets and rows), file names with underscores read back as
written, nothing is locked, the drop-down survives, and a decision saved by LibreOffice is
read back by the next run (the workbook's identity survives LibreOffice's save)."""

import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from reconcile.config import load_config
from reconcile.pipeline import run_reconciliation
from reconcile.review.intake import vouched
from reconcile.review.store import store_for
from reconcile.review.workbook_decisions import DECISION_HEADER, ID_HEADER, read_workbook

from conftest import SAMPLE_DIR

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _through_libreoffice(source, folder, home):
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{home}",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return folder / source.name


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is installed by .ci/run")
def test_review_workbook_survives_libreoffice(tmp_path):
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path / "out")
    result, run_dir = run_reconciliation(config)
    edited = tmp_path / "edited" / "review.xlsx"
    edited.parent.mkdir()
    wb = load_workbook(run_dir / "review.xlsx")
    sheet = wb[wb.sheetnames[2]]  # the first finding sheet
    header = [c.value for c in sheet[1]]
    finding = sheet.cell(2, header.index(ID_HEADER) + 1).value
    sheet.cell(2, header.index(DECISION_HEADER) + 1).value = "Cần xác minh"
    wb.save(edited)

    opened = _through_libreoffice(run_dir / "review.xlsx", tmp_path / "opened", tmp_path / "lo")
    ours, theirs = load_workbook(run_dir / "review.xlsx"), load_workbook(opened)
    assert theirs.sheetnames == ours.sheetnames
    for name in ours.sheetnames:
        assert theirs[name].max_row == ours[name].max_row, name
        assert not theirs[name].protection.sheet  # nothing locked: sort, filter, delete
    assert theirs[sheet.title].data_validations.dataValidation  # the drop-down survives
    files = {c.value for ws in theirs.worksheets for row in ws.iter_rows() for c in row}
    assert "tro_cap_xa_hoi.xlsx" in files  # not broken at "_xa_" into two lines

    # (openpyxl stands in for the officer's hand, LibreOffice saves the result)
    converted = _through_libreoffice(edited, tmp_path / "converted", tmp_path / "lo")
    store = store_for(config)
    accepted, problems = vouched(read_workbook(converted), store)
    assert [(d.finding_id, d.decision) for d in accepted] == [(finding, "Cần xác minh")]
    assert problems == []
