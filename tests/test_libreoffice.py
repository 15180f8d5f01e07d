"""The review workbook opens in LibreOffice as written: converted headless, the result has the
same sheets and rows (a file that needed repair would fail or lose them)."""

import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from reconcile.config import load_config
from reconcile.pipeline import run_reconciliation

from conftest import SAMPLE_DIR

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is installed by .ci/run")
def test_review_workbook_survives_libreoffice(tmp_path):
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path / "out")
    _, run_dir = run_reconciliation(config)
    converted = tmp_path / "converted"
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(converted),
            str(run_dir / "review.xlsx"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    ours = load_workbook(run_dir / "review.xlsx")
    theirs = load_workbook(converted / "review.xlsx")
    assert theirs.sheetnames == ours.sheetnames
    for name in ours.sheetnames:
        assert theirs[name].max_row == ours[name].max_row, name
    finding_sheet = theirs.sheetnames[1]
    assert theirs[finding_sheet].protection.sheet  # protection survives
    assert theirs[finding_sheet].data_validations.dataValidation  # the drop-down too
