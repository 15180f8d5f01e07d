"""How far to trust the run, shown: the estimates in Vietnamese, the check sheet an officer marks,
and pictures (native Excel charts on the summary sheet, inline SVG in trust.html, no network).

The pictures: the distribution of the best match score per list row, by decision, with the
thresholds; each field's learnt weight by level; per list, the rows matched / possible / not
matched / rejected. All of them are counts and weights only.
"""

from __future__ import annotations

import html

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from reconcile.check_sample import MARK_RIGHT, MARK_WRONG
from reconcile.estimates import BIN, sentence
from reconcile.report.cells import Styles, put
from reconcile.report.finding_sheets import MATCH_LABELS, print_setup
from reconcile.review.workbook_decisions import CHECK_SHEET, MARK_HEADER, SAMPLE_ID_HEADER

DECISION_LABELS = {d: MATCH_LABELS[d] for d in ("match", "possible", "none")}


def per_list_counts(summary: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "label": e["label"],
                "match": e["match"],
                "possible": e["possible"],
                "none": e["none"],
                "rejected": e["rejected"],
            }
            for e in summary["inputs"][1:]
            if not e["skipped"]
        ],
        columns=["label", "match", "possible", "none", "rejected"],
    )


def estimate_lines(result) -> list[str]:
    return [sentence(label, e) for label, e in result.trust.estimates.items()]


# ---- the workbook ----


def _table(ws: Worksheet, styles: Styles, row: int, col: int, frame: pd.DataFrame, titles):
    for c, title in enumerate(titles):
        put(ws, styles, row, col + c, title, "header")
    for r, values in enumerate(frame.itertuples(index=False), start=1):
        for c, value in enumerate(values):
            put(ws, styles, row + r, col + c, value)
    return row + len(frame)


def write_trust_section(
    wb: xlsxwriter.Workbook, ws: Worksheet, styles: Styles, result, summary, row: int
):
    """Below the summary: the estimates, then the charts with their data beside them."""
    put(ws, styles, row, 0, "Độ tin cậy của lần chạy (ước tính, không cần nhãn)", "bold")
    for line in estimate_lines(result) or ["Không có danh sách nào được ghép."]:
        row += 1
        put(ws, styles, row, 0, line)
    sheet = ws.get_name()
    row += 2
    trust = result.trust
    histogram = trust.histogram.copy()
    histogram.insert(1, "label", [f"{a:g}…{a + BIN:g}" for a in histogram["from"]])
    data_col = 12
    last = _table(
        ws, styles, row, data_col, histogram, ["Từ điểm", "Khoảng điểm", *DECISION_LABELS.values()]
    )
    chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    for i, (_, label) in enumerate(DECISION_LABELS.items()):
        chart.add_series(
            {
                "name": label,
                "categories": [sheet, row + 1, data_col + 1, last, data_col + 1],
                "values": [sheet, row + 1, data_col + 2 + i, last, data_col + 2 + i],
                "gap": 10,
            }
        )
    chart.set_title(
        {
            "name": f"Điểm ghép (log2 tỉ số khả năng): ngưỡng khớp {trust.match_threshold:g}, "
            f"có thể khớp {trust.possible_threshold:g}",
            "name_font": {"size": 10},
        }
    )
    chart.set_x_axis({"name": "Điểm của người phù hợp nhất", "num_font": {"rotation": -45}})
    chart.set_y_axis({"name": "Số dòng"})
    chart.set_size({"width": 760, "height": 320})
    ws.insert_chart(row, 0, chart)
    row = max(last, row + 17) + 2

    weights = trust.weights
    if len(weights):
        shown = weights[["field", "label", "median", "p10", "p90"]].copy()
        shown["name"] = shown["field"] + ": " + shown["label"]
        shown = shown[["name", "median", "p10", "p90"]]
        last = _table(
            ws, styles, row, data_col, shown, ["Trường: mức", "Trọng số (trung vị)", "P10", "P90"]
        )
        chart = wb.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": "Trọng số đã học",
                "categories": [sheet, row + 1, data_col, last, data_col],
                "values": [sheet, row + 1, data_col + 1, last, data_col + 1],
                "invert_if_negative": False,
            }
        )
        chart.set_title(
            {"name": "Mô hình đã học gì: trọng số từng mức so khớp", "name_font": {"size": 10}}
        )
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True, "num_font": {"size": 7}})
        chart.set_size({"width": 760, "height": max(320, 14 * len(shown))})
        ws.insert_chart(row, 0, chart)
        row = max(last, row + max(17, len(shown) * 14 // 20)) + 2

    counts = per_list_counts(summary)
    if len(counts):
        last = _table(
            ws, styles, row, data_col, counts, ["Danh sách", *DECISION_LABELS.values(), "Bị loại"]
        )
        chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
        for i, label in enumerate([*DECISION_LABELS.values(), "Bị loại"]):
            chart.add_series(
                {
                    "name": label,
                    "categories": [sheet, row + 1, data_col, last, data_col],
                    "values": [sheet, row + 1, data_col + 1 + i, last, data_col + 1 + i],
                }
            )
        chart.set_title({"name": "Kết quả theo danh sách", "name_font": {"size": 10}})
        chart.set_size({"width": 760, "height": max(240, 40 * len(counts))})
        ws.insert_chart(row, 0, chart)
        row = max(last, row + 14) + 2
    return row


CHECK_COLUMNS = [
    ("sample_id", SAMPLE_ID_HEADER, 22),
    ("list_label", "Danh sách", 22),
    ("list_row", "Dòng", 7),
    ("list_name", "Họ tên (danh sách)", 24),
    ("list_birth", "Ngày sinh (danh sách)", 12),
    ("list_sex", "Giới tính (DS)", 8),
    ("list_pid", "Số định danh (DS)", 15),
    ("person_id", "Mã cư dân", 15),
    ("register_row", "Dòng sổ", 8),
    ("register_name", "Họ tên (sổ)", 24),
    ("register_birth", "Ngày sinh (sổ)", 12),
    ("register_sex", "Giới tính (sổ)", 8),
    ("register_pid", "Số định danh (sổ)", 15),
    ("probability", "Xác suất đúng", 10),
    ("decision", "Kết luận của máy", 12),
]


def write_check_sheet(
    wb: xlsxwriter.Workbook, styles: Styles, sample: pd.DataFrame, elsewhere: str = ""
) -> None:
    """About 50 links for an officer to mark Đúng/Sai; the next run reads the marks back.
    `elsewhere`: the workbook that holds the run's sample instead (a split run's), said here."""
    ws = wb.add_worksheet(CHECK_SHEET)
    put(
        ws,
        styles,
        0,
        0,
        "Kiểm tra mẫu: xem từng cặp (danh sách – sổ) và ghi Đúng hoặc Sai ở cột cuối. Lần "
        "chạy sau đọc lại và báo độ chính xác đo được bên cạnh ước tính.",
        "bold",
    )
    if elsewhere:
        put(
            ws,
            styles,
            1,
            0,
            f"Mẫu kiểm tra của lần chạy này ở sổ {elsewhere} / this run's check sample is in "
            f"{elsewhere}",
        )
    header = 2
    for col, (_, title, width) in enumerate([*CHECK_COLUMNS, (None, MARK_HEADER, 10)]):
        put(ws, styles, header, col, title, "header")
        ws.set_column(col, col, width)
    for r, record in enumerate(sample.to_dict("records"), start=header + 1):
        for col, (key, _, _) in enumerate(CHECK_COLUMNS):
            value = record[key]
            if key == "probability":
                value = f"{float(value):.1%}".replace(".", ",")
            elif key == "decision":
                value = DECISION_LABELS.get(value, value)
            put(ws, styles, r, col, value)
    if len(sample):
        mark_col = len(CHECK_COLUMNS)
        ws.data_validation(
            header + 1,
            mark_col,
            header + len(sample),
            mark_col,
            {"validate": "list", "source": [MARK_RIGHT, MARK_WRONG]},
        )
    ws.freeze_panes(header + 1, 1)
    ws.autofilter(header, 0, header + max(len(sample), 1), len(CHECK_COLUMNS))
    print_setup(ws, CHECK_SHEET)


# ---- trust.html ----


def _bars_svg(title: str, labels: list[str], series: dict[str, list[float]], colors) -> str:
    """Horizontal stacked bars as inline SVG."""
    width, left, bar, gap = 720, 260, 16, 6
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    low = min([0.0, *(v for values in series.values() for v in values)])
    high = max([1e-9, *totals, *(v for values in series.values() for v in values)])
    scale = (width - left - 20) / (high - low)
    zero = left + (-low) * scale
    height = 40 + len(labels) * (bar + gap) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="16" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, label in enumerate(labels):
        y = 30 + i * (bar + gap)
        parts.append(
            f'<text x="{left - 6}" y="{y + bar - 4}" text-anchor="end" font-size="11">'
            f"{html.escape(label)}</text>"
        )
        x_pos, x_neg = zero, zero
        for (name, values), color in zip(series.items(), colors, strict=False):
            v = values[i]
            w = abs(v) * scale
            x = x_pos if v >= 0 else x_neg - w
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{color}">'
                f"<title>{html.escape(name)}: {v:g}</title></rect>"
            )
            if v >= 0:
                x_pos += w
            else:
                x_neg -= w
    parts.append(
        f'<line x1="{zero:.1f}" y1="26" x2="{zero:.1f}" y2="{height - 20}" stroke="#333"/>'
    )
    legend_y = height - 6
    for k, ((name, _), color) in enumerate(zip(series.items(), colors, strict=False)):
        parts.append(
            f'<rect x="{left + k * 130}" y="{legend_y - 10}" width="10" height="10" '
            f'fill="{color}"/><text x="{left + k * 130 + 14}" y="{legend_y}" font-size="11">'
            f"{html.escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


COLORS = ["#2e7d32", "#f9a825", "#c62828", "#757575"]


def trust_html(result, summary: dict) -> str:
    trust = result.trust
    histogram = trust.histogram
    labels = [f"{a:g} … {a + BIN:g}" for a in histogram["from"]]
    marks = (
        f"ngưỡng khớp {trust.match_threshold:g}, ngưỡng có thể khớp {trust.possible_threshold:g} "
        "(điểm là log2 tỉ số khả năng)"
    )
    score_svg = _bars_svg(
        f"Điểm ghép của người phù hợp nhất: {marks}",
        labels,
        {DECISION_LABELS[d]: histogram[d].tolist() for d in DECISION_LABELS},
        COLORS,
    )
    weights_svg = ""
    if len(trust.weights):
        w = trust.weights
        weights_svg = _bars_svg(
            "Mô hình đã học gì: trọng số (trung vị) từng mức so khớp",
            (w["field"] + ": " + w["label"]).tolist(),
            {"trọng số": w["median"].tolist()},
            ["#1565c0"],
        )
    counts = per_list_counts(summary)
    counts_svg = _bars_svg(
        "Kết quả theo danh sách",
        counts["label"].tolist(),
        {
            **{DECISION_LABELS[d]: counts[d].tolist() for d in DECISION_LABELS},
            "Bị loại": counts["rejected"].tolist(),
        },
        COLORS,
    )
    estimates = "".join(f"<li>{html.escape(line)}</li>" for line in estimate_lines(result))
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>Độ tin cậy – lần chạy {html.escape(result.run_id)}</title>"
        "<style>body{font-family:sans-serif;max-width:760px;margin:2em auto}</style></head>"
        f"<body><h1>Độ tin cậy của lần chạy {html.escape(result.run_id)}</h1>"
        f"<h2>Ước tính sai số (không cần nhãn)</h2><ul>{estimates}</ul>"
        f"<figure>{score_svg}</figure><figure>{weights_svg}</figure>"
        f"<figure>{counts_svg}</figure></body></html>"
    )
