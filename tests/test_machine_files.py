"""The machine-readable CSV files: the cells pandas' to_csv would write, formulas inert, read
back the same by pandas and by Python's csv module (as a script correcting the register would)."""

import csv
import io

import numpy as np
import pandas as pd
import pytest

from reconcile.report import files
from reconcile.report.files import write_csv


def _frame() -> pd.DataFrame:
    """Every kind of column the run's files hold (findings: objects mixing text and numbers;
    links: int64, nullable Int64, float64), with the text a clerk types."""
    return pd.DataFrame(
        {
            "source_file": ["danh sách, xã A.xlsx", 'hội "NCT".xlsx', "a\nb.xlsx", "", None],
            "source_row": np.array([3, 10, 999_999, 4, 5], dtype=np.int64),
            "register_row": pd.array([7, None, 300_000, 1, None], dtype="Int64"),
            "score": [12.25, np.nan, -3.0, 1e20, 0.1 + 0.2],
            "probability": [1.0, 0.0, 3.2e-07, np.nan, 0.5],
            "mixed": [14, "034050001234", 2.5, None, np.nan],
            "formula": ["=HYPERLINK(1)", "-Lê Văn Tú", "+1", "@x", "Nguyễn Thị Hoà"],
            "raised_again": [True, False, True, False, False],
        }
    )


def _cells(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # Excel shows Vietnamese only with the BOM
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


@pytest.mark.parametrize("batch", [2, files.CSV_BATCH])  # slices of a file, or one
def test_a_csv_file_holds_the_cells_pandas_writes(tmp_path, monkeypatch, batch):
    monkeypatch.setattr(files, "CSV_BATCH", batch)
    frame = _frame()
    write_csv(frame, tmp_path / "ours.csv")
    ours = (tmp_path / "ours.csv").read_bytes()
    assert ours.count(b"\r\n") == len(frame) + 1  # rows end in CRLF, a cell its own line break
    expected = frame.copy()
    expected["formula"] = "'" + expected["formula"]
    expected.loc[4, "formula"] = "Nguyễn Thị Hoà"
    expected.to_csv(tmp_path / "pandas.csv", index=False, encoding="utf-8-sig")
    cells = _cells(ours)
    assert cells == _cells((tmp_path / "pandas.csv").read_bytes())
    assert cells[1][:5] == ["danh sách, xã A.xlsx", "3", "7", "12.25", "1.0"]
    assert cells[3][3:5] == ["-3.0", "3.2e-07"]
    read = pd.read_csv(tmp_path / "ours.csv", encoding="utf-8-sig", dtype=str)
    assert read["mixed"].tolist()[:2] == ["14", "034050001234"]
    assert read["formula"].tolist()[:4] == ["'=HYPERLINK(1)", "'-Lê Văn Tú", "'+1", "'@x"]


def test_an_empty_frame_is_a_header_alone(tmp_path):
    write_csv(pd.DataFrame(columns=["source_file", "reason"]), tmp_path / "rejected.csv")
    assert _cells((tmp_path / "rejected.csv").read_bytes()) == [["source_file", "reason"]]
