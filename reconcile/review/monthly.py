"""The monthly report the commune sends on the 14th: per list and finding type, how many were
found, resolved and still open. Counts only: no names, no ID numbers."""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from pathlib import Path

import pandas as pd

from reconcile.findings import FINDING_LABELS

OPEN_STATUSES = ("new", "open", "reported_fixed_still_differs")
COLUMNS = ["list_label", "type", "found", "resolved", "open"]


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2026-11' → (1 Nov 2026, 30 Nov 2026)."""
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise ValueError("Tháng phải có dạng YYYY-MM / month must be YYYY-MM")
    year, number = int(month[:4]), int(month[5:])
    if not 1 <= number <= 12:
        raise ValueError("Tháng phải có dạng YYYY-MM / month must be YYYY-MM")
    return dt.date(year, number, 1), dt.date(year, number, calendar.monthrange(year, number)[1])


def monthly_counts(history: pd.DataFrame, month: str) -> pd.DataFrame:
    first, last = (d.isoformat() for d in month_bounds(month))
    if history.empty:
        return pd.DataFrame(columns=COLUMNS)
    seen = history["first_seen"].fillna("")
    resolved_on = history["resolved_on"].fillna("")
    found = seen.between(first, last)
    resolved = resolved_on.between(first, last)
    still_open = (seen <= last) & (
        history["status"].isin(OPEN_STATUSES)
        | (history["status"].eq("resolved") & (resolved_on > last))
    )
    counts = (
        pd.DataFrame(
            {
                "list_label": history["list_label"],
                "type": history["type"],
                "found": found.astype(int),
                "resolved": resolved.astype(int),
                "open": still_open.astype(int),
            }
        )
        .groupby(["list_label", "type"], as_index=False)
        .sum()
    )
    counts = counts[(counts[["found", "resolved", "open"]] > 0).any(axis=1)]
    order = {t: i for i, t in enumerate(FINDING_LABELS)}
    counts = counts.assign(order=counts["type"].map(order)).sort_values(["list_label", "order"])
    return counts.drop(columns="order").reset_index(drop=True)


def monthly_text(counts: pd.DataFrame, month: str) -> str:
    first, _ = month_bounds(month)
    totals = counts[["found", "resolved", "open"]].sum() if len(counts) else None
    lines = [f"BÁO CÁO KẾT QUẢ ĐỐI SOÁT DỮ LIỆU DÂN CƯ THÁNG {first:%m/%Y}", ""]
    if totals is None:
        lines.append("Trong tháng không có trường hợp sai lệch nào được ghi nhận.")
    else:
        lines.append(
            f"Trong tháng phát hiện mới {totals['found']} trường hợp sai lệch, đã khắc phục "
            f"{totals['resolved']} trường hợp; đến cuối tháng còn {totals['open']} trường hợp "
            f"chưa xử lý xong."
        )
        lines.append("")
        for label, group in counts.groupby("list_label", sort=False):
            parts = [
                f"{FINDING_LABELS.get(r.type, r.type).lower()}: mới {r.found}, "
                f"đã khắc phục {r.resolved}, còn {r.open}"
                for r in group.itertuples()
            ]
            lines.append(f"- {label}: " + "; ".join(parts) + ".")
    return "\n".join(lines) + "\n"


def _replace(path: Path, write) -> None:
    """Write beside the target, then rename: a reader never sees half a report."""
    partial = path.with_name(f".partial-{path.name}")
    write(partial)
    os.replace(partial, path)


def write_monthly_report(history: pd.DataFrame, month: str, folder: Path) -> tuple[Path, Path]:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    counts = monthly_counts(history, month)
    first, _ = month_bounds(month)
    folder.mkdir(parents=True, exist_ok=True)
    workbook_path = folder / f"bao_cao_{month}.xlsx"
    text_path = folder / f"bao_cao_{month}.txt"

    def write_workbook(path: Path) -> None:
        wb = Workbook()
        ws = wb.active
        ws.title = f"Tháng {first:%m-%Y}"
        ws.append([f"BÁO CÁO KẾT QUẢ ĐỐI SOÁT DỮ LIỆU DÂN CƯ THÁNG {first:%m/%Y}"])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append([])
        ws.append(["Danh sách", "Loại sai lệch", "Phát hiện mới", "Đã khắc phục", "Còn tồn"])
        for cell in ws[3]:
            cell.font = Font(bold=True)
        for r in counts.itertuples():
            ws.append(
                [r.list_label, FINDING_LABELS.get(r.type, r.type), r.found, r.resolved, r.open]
            )
        ws.append(
            [
                "Tổng cộng",
                "",
                int(counts["found"].sum()),
                int(counts["resolved"].sum()),
                int(counts["open"].sum()),
            ]
        )
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for col, width in zip("ABCDE", (28, 48, 14, 14, 12), strict=True):
            ws.column_dimensions[col].width = width
        ws.page_setup.orientation = "landscape"
        wb.save(path)

    _replace(workbook_path, write_workbook)
    _replace(text_path, lambda p: p.write_text(monthly_text(counts, month), encoding="utf-8"))
    return workbook_path, text_path
