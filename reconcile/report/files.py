"""The machine-readable outputs: findings.csv, links.csv, rejected.csv, summary.json.

CSV is UTF-8 with BOM so Excel shows Vietnamese right. The CSV files sit in the owner-only run
folder beside the workbook and carry full values, to correct the register from; summary.json,
which may travel, holds counts only (domain.md §5).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from reconcile.findings import FINDING_COLUMNS, FINDING_LABELS, SIDE_COLUMNS
from reconcile.frames import per_distinct

# A cell Excel would run as a formula (OWASP "CSV injection"): = + - @, tab and carriage return
# at the start. Such text is written with a leading apostrophe, which Excel shows as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _formula_like(value: object) -> bool:
    """Text a spreadsheet would execute."""
    return isinstance(value, str) and value.startswith(_FORMULA_START)


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that spreadsheets would execute, made inert; numbers stay numbers."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype != object:
            continue
        text = per_distinct(values, _formula_like, missing=False, dtype=bool)
        if text.any():
            out.loc[text, column] = "'" + values[text].astype(str)
    header = [("'" + c) if isinstance(c, str) and c.startswith(_FORMULA_START) else c for c in out]
    out.columns = header
    return out


def _as_text(column: pd.Series) -> pa.Array:
    """A column's cells as the text pandas' to_csv writes for them, a missing or empty cell as
    null (written as nothing)."""
    if isinstance(column.dtype, np.dtype) and column.dtype != object:
        # numpy's shortest round-trip text, as pandas writes it
        values = column.to_numpy().astype(str)
        return pa.array(values, mask=column.isna().to_numpy(), type=pa.string())
    values = column.to_numpy(dtype=object)  # text, numbers among text, or a nullable extension
    try:  # text and missing cells only: made in C
        text = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        missing = pd.isna(values)
        text = pa.array(
            [
                None if gone else v if isinstance(v, str) else str(v)
                for v, gone in zip(values, missing, strict=True)
            ],
            type=pa.string(),
        )
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


# Rows made into text and written at a time: the text of a dirty province's million findings
# is never all held at once.
CSV_BATCH = 100_000


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """`frame` as CSV (UTF-8 with BOM, so Excel shows Vietnamese; CRLF), formulas made inert.
    Written by Arrow's CSV writer, in C: pandas' to_csv took 1.2 s for a district's 200,000
    links. Arrow quotes every text cell; each cell's text is the one to_csv writes."""
    with open(path, "wb") as out:
        out.write("\ufeff".encode())
        writer = None
        for start in range(0, max(len(frame), 1), CSV_BATCH):  # an empty frame: its header
            part = neutralised(frame.iloc[start : start + CSV_BATCH])
            table = pa.Table.from_arrays(
                [_as_text(part[c]) for c in part.columns], names=[str(c) for c in part.columns]
            )
            if writer is None:
                writer = pa_csv.CSVWriter(
                    out, table.schema, write_options=pa_csv.WriteOptions(eol="\r\n")
                )
            writer.write_table(table)
        writer.close()


def summary(result) -> dict:
    """Counts of one run, no personal data: rows read = valid + rejected per file, and
    valid = match + possible + none per list."""
    inputs = [asdict(result.register.counts)] + [asdict(item.counts) for item in result.lists]
    warnings = [{"file": e["file"], "warning": w} for e in inputs for w in e.pop("warnings")]
    by_type = Counter(result.findings["type"])
    by_list = Counter(result.findings["list_label"])
    checks = {
        "rows_read_equals_valid_plus_rejected": all(
            e["rows_read"] == e["valid"] + e["rejected"] for e in inputs if not e["skipped"]
        ),
        "sheet_rows_equal_data_plus_layout": all(
            e["sheet_rows"] == e["rows_read"] + sum(e["layout"].values())
            for e in inputs
            if not e["skipped"]
        ),
        "valid_equals_match_possible_none": all(
            e["valid"] == e["match"] + e["possible"] + e["none"]
            for e in inputs[1:]
            if not e["skipped"]
        ),
    }
    return {
        "run_id": result.run_id,
        "started": result.started.isoformat(timespec="seconds"),
        "inputs": inputs,
        "skipped_lists": [
            {"file": e["file"], "reason": e["skipped"]} for e in inputs if e["skipped"]
        ],
        "warnings": warnings,
        "register_duplicate_pairs": result.duplicates,
        # how much of the matching the last run's memory saved (matching.memory)
        "matching": asdict(result.matching),
        "findings_total": int(len(result.findings)),
        "findings_by_type": {t: by_type.get(t, 0) for t in FINDING_LABELS},
        "findings_by_list": dict(sorted(by_list.items())),
        "rejected_rows": int(len(result.rejected)),
        # counts only: the problems name files, sheets and rows, and stay in the workbook
        "review": {k: v for k, v in asdict(result.review).items() if k != "problems"},
        "checks": checks,
        # expected errors per list, from the model's posterior (estimates.py): numbers only
        "estimates": {label: e.as_dict() for label, e in result.trust.estimates.items()},
        "check_sample": {
            "drawn": int(len(result.trust.check_sample)),
            "marks_read": int(result.review.check_marks),
        },
    }


def write_machine_files(result, folder: Path, data: dict | None = None) -> dict:
    """The CSV files and summary.json (`data`: the run's summary, when made already)."""
    # the run folder is the police's own, owner-only: full values, to correct the register from
    write_csv(result.findings[FINDING_COLUMNS + SIDE_COLUMNS], folder / "findings.csv")
    write_csv(result.links, folder / "links.csv")
    write_csv(result.rejected, folder / "rejected.csv")
    write_csv(result.layout, folder / "layout.csv")
    data = summary(result) if data is None else data
    (folder / "summary.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return data
