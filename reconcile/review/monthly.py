"""The monthly report the commune sends on the 14th: per list and finding type, what was open at
the start of the month, found, resolved and judged not wrong during it, and still open at its
end, so that open at the start + found = resolved + dismissed + open at the end. Counts only, in
Vietnamese: no names, no ID numbers, no officer's notes."""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from pathlib import Path

import pandas as pd

from reconcile.findings import FINDING_LABELS
from reconcile.kinds import KIND_LABELS, ListKind

COUNTS = ["open_start", "found", "resolved", "dismissed", "open_end"]
COLUMNS = ["list_label", "type", *COUNTS]
HEADINGS = {
    "list_label": "Danh sách",
    "type": "Loại sai lệch",
    "open_start": "Tồn đầu tháng",
    "found": "Phát hiện mới",
    "resolved": "Đã khắc phục",
    "dismissed": "Kết luận không sai",
    "open_end": "Còn tồn cuối tháng",
}


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2026-11' → (1 Nov 2026, 30 Nov 2026)."""
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise ValueError("Tháng phải có dạng YYYY-MM / month must be YYYY-MM")
    year, number = int(month[:4]), int(month[5:])
    if not 1 <= number <= 12:
        raise ValueError("Tháng phải có dạng YYYY-MM / month must be YYYY-MM")
    return dt.date(year, number, 1), dt.date(year, number, calendar.monthrange(year, number)[1])


def list_name(series: str) -> str:
    """'welfare/tro_cap_thang' → 'Bảo trợ xã hội: tro_cap_thang'; 'register' → its label."""
    kind, _, name = str(series).partition("/")
    try:
        label = KIND_LABELS[ListKind(kind)]
    except ValueError:
        return str(series)
    return f"{label}: {name}" if name else label


def monthly_counts(history: pd.DataFrame, month: str) -> pd.DataFrame:
    first, last = (d.isoformat() for d in month_bounds(month))
    if history.empty:
        return pd.DataFrame(columns=COLUMNS)
    seen = history["first_seen"].fillna("")
    resolved_on = history["resolved_on"].fillna("")
    dismissed_on = history["dismissed_on"].fillna("") if "dismissed_on" in history else ""

    def closed_before(day: str) -> pd.Series:
        return ((resolved_on != "") & (resolved_on < day)) | (
            (dismissed_on != "") & (dismissed_on < day)
        )

    counts = pd.DataFrame(
        {
            "list_label": history["list_label"],
            "type": history["type"],
            "open_start": ((seen < first) & ~closed_before(first)).astype(int),
            "found": seen.between(first, last).astype(int),
            "resolved": resolved_on.between(first, last).astype(int),
            "dismissed": pd.Series(dismissed_on, index=history.index)
            .between(first, last)
            .astype(int),
            "open_end": ((seen != "") & (seen <= last) & ~closed_before(f"{last}~")).astype(int),
        }
    )
    counts = counts.groupby(["list_label", "type"], as_index=False)[COUNTS].sum()
    counts = counts[(counts[COUNTS] > 0).any(axis=1)]
    order = {t: i for i, t in enumerate(FINDING_LABELS)}
    counts = counts.assign(order=counts["type"].map(order)).sort_values(["list_label", "order"])
    return counts.drop(columns="order").reset_index(drop=True)


def month_estimates(estimates: pd.DataFrame | None, month: str) -> dict:
    """Per list series, the estimates of the month's last run (from the store's run_estimates)."""
    import json

    from reconcile.estimates import ListEstimate

    if estimates is None or not len(estimates):
        return {}
    first, last = month_bounds(month)
    started = pd.to_datetime(estimates["started"])
    in_month = estimates[(started.dt.date >= first) & (started.dt.date <= last)]
    out = {}
    for series, group in in_month.sort_values("started").groupby("series"):
        data = json.loads(group["estimate"].iloc[-1])
        out[series] = ListEstimate(**data)
    return out


def monthly_text(counts: pd.DataFrame, month: str, estimates: dict | None = None) -> str:
    first, _ = month_bounds(month)
    lines = [f"BÁO CÁO KẾT QUẢ ĐỐI SOÁT DỮ LIỆU DÂN CƯ THÁNG {first:%m/%Y}", ""]
    trust = _trust_lines(estimates)
    if not len(counts):
        lines.append("Trong tháng không có trường hợp sai lệch nào được ghi nhận.")
        return "\n".join(lines + trust) + "\n"
    t = counts[COUNTS].sum()
    lines.append(
        f"Đầu tháng còn tồn {t['open_start']} trường hợp; trong tháng phát hiện mới {t['found']}, "
        f"đã khắc phục {t['resolved']}, kết luận không sai {t['dismissed']}; cuối tháng còn tồn "
        f"{t['open_end']} trường hợp."
    )
    lines.append("")
    for label, group in counts.groupby("list_label", sort=False):
        parts = [
            f"{FINDING_LABELS.get(r.type, r.type).lower()}: tồn đầu {r.open_start}, mới "
            f"{r.found}, đã khắc phục {r.resolved}, không sai {r.dismissed}, còn {r.open_end}"
            for r in group.itertuples()
        ]
        lines.append(f"- {list_name(label)}: " + "; ".join(parts) + ".")
    return "\n".join(lines + trust) + "\n"


def _trust_lines(estimates: dict | None) -> list[str]:
    from reconcile.estimates import sentence

    if not estimates:
        return []
    return [
        "",
        "Độ tin cậy của lần đối soát cuối tháng (ước tính, không cần nhãn):",
        *(f"- {sentence(list_name(series), e)}" for series, e in estimates.items()),
    ]


def _replace(path: Path, write) -> None:
    """Write beside the target, then rename: a reader never sees half a report."""
    partial = path.with_name(f".partial-{path.name}")
    write(partial)
    os.replace(partial, path)


def write_monthly_report(
    history: pd.DataFrame, month: str, folder: Path, estimates: pd.DataFrame | None = None
) -> tuple[Path, Path]:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    counts = monthly_counts(history, month)
    trust = month_estimates(estimates, month)
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
        ws.append([HEADINGS[c] for c in COLUMNS])
        for cell in ws[3]:
            cell.font = Font(bold=True)
        for r in counts.itertuples(index=False):
            ws.append(
                [list_name(r.list_label), FINDING_LABELS.get(r.type, r.type)]
                + [int(getattr(r, c)) for c in COUNTS]
            )
        ws.append(["Tổng cộng", ""] + [int(counts[c].sum()) if len(counts) else 0 for c in COUNTS])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for col, width in zip("ABCDEFG", (34, 48, 13, 13, 13, 15, 15), strict=True):
            ws.column_dimensions[col].width = width
        ws.page_setup.orientation = "landscape"
        if trust:
            ws = wb.create_sheet("Độ tin cậy")
            ws.append(["Độ tin cậy của lần đối soát cuối tháng (ước tính, không cần nhãn)"])
            ws.cell(ws.max_row, 1).font = Font(bold=True)
            ws.append(
                [
                    "Danh sách",
                    "Dòng đã ghép",
                    "Ước tính ghép nhầm",
                    "Khoảng (90%)",
                    "Dòng không ghép",
                    "Ước tính người có trong sổ bị bỏ sót",
                    "Khoảng (90%)",
                ]
            )
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
            for series, e in trust.items():
                ws.append(
                    [
                        list_name(series),
                        e.matched,
                        round(e.false_links, 1),
                        "{}–{}".format(*e.false_links_interval),
                        e.unmatched,
                        round(e.missed_residents, 1),
                        "{}–{}".format(*e.missed_residents_interval),
                    ]
                )
        for col, width in zip("ABCDEFG", (34, 48, 13, 13, 13, 15, 15), strict=True):
            ws.column_dimensions[col].width = width
        ws.page_setup.orientation = "landscape"
        wb.save(path)

    _replace(workbook_path, write_workbook)
    text = monthly_text(counts, month, trust)
    _replace(text_path, lambda p: p.write_text(text, encoding="utf-8"))
    return workbook_path, text_path
