"""How far to trust a run: estimates checked against planted truth, the check sample read back,
and the pictures present, on seeded synthetic communes (tests/support/synthetic)."""

import datetime as dt
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from reconcile.config import load_config
from reconcile.estimates import poisson_binomial_interval
from reconcile.pipeline import run_reconciliation
from reconcile.review.workbook_decisions import CHECK_SHEET, MARK_HEADER, SAMPLE_ID_HEADER

from synthetic.commune import generate_commune

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_estimates import truth_counts  # noqa: E402


def test_poisson_binomial_interval_matches_its_distribution():
    rng = np.random.default_rng(2)
    p = rng.uniform(0, 0.3, 200)
    low, high = poisson_binomial_interval(p)
    draws = (rng.random((20_000, len(p))) < p).sum(axis=1)
    inside = ((draws >= low) & (draws <= high)).mean()
    assert 0.88 <= inside <= 0.97, (low, high, inside)
    assert poisson_binomial_interval(np.zeros(10)) == (0, 0)


@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trust")
    config_path = generate_commune(folder / "in", seed=13, size=1500, multi_error_rate=0.15)
    config = load_config(config_path, out_dir=folder / "out")
    result, run_dir = run_reconciliation(config, now=dt.datetime(2026, 11, 3, 9, 0))
    return folder, config, result, run_dir


def test_estimates_hold_the_truth_in_their_intervals(noisy_run):
    folder, _, _, run_dir = noisy_run
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    files = {e["label"]: e["file"] for e in summary["inputs"]}
    truth = truth_counts(run_dir, folder / "in" / "truth")
    inside, checked, possible_total, possible_estimate = 0, 0, 0, 0.0
    for label, estimate in summary["estimates"].items():
        true = truth[files[label]]
        for measure in ("false_links", "true_possible"):
            low, high = estimate[f"{measure}_interval"]
            checked += 1
            inside += low <= true[measure] <= high
        possible_total += true["true_possible"]
        possible_estimate += estimate["true_possible"]
    assert possible_total >= 5  # the set is noisy enough for the estimate to say something
    assert inside >= 0.75 * checked, (inside, checked)
    assert abs(possible_estimate - possible_total) <= max(3, 0.35 * possible_total)


def _mark(workbook: Path, wrong: int) -> list[str]:
    wb = load_workbook(workbook)
    ws = wb[CHECK_SHEET]
    rows = list(ws.iter_rows())
    header = next(i for i, r in enumerate(rows) if any(c.value == SAMPLE_ID_HEADER for c in r))
    titles = [c.value for c in rows[header]]
    id_col, mark_col = titles.index(SAMPLE_ID_HEADER), titles.index(MARK_HEADER)
    marked = []
    for n, row in enumerate(rows[header + 1 :]):
        row[mark_col].value = "Sai" if n < wrong else "Đúng"
        marked.append(row[id_col].value)
    forged = rows[header + 1][id_col].row + len(marked)
    ws.cell(forged + 1, id_col + 1).value = "0123456789abcdef0123"  # an id nobody issued
    ws.cell(forged + 1, mark_col + 1).value = "Sai"
    wb.save(workbook)
    later = workbook.stat().st_mtime + 5
    os.utime(workbook, (later, later))
    return marked


def test_marks_on_the_check_sample_come_back_and_correct_the_estimate(noisy_run):
    _, config, result, run_dir = noisy_run
    sample = result.trust.check_sample
    assert 40 <= len(sample) <= 50
    uncertain = (sample["band"] == "uncertain").sum()
    assert uncertain >= min(30, len(sample))  # most from the uncertain band
    marked = _mark(run_dir / "review.xlsx", wrong=5)
    second, second_dir = run_reconciliation(config, now=dt.datetime(2026, 11, 4, 9, 0))
    assert second.review.check_marks == len(marked)  # the forged id is not one of them
    checked = [e.checked for e in second.trust.estimates.values() if e.checked]
    assert sum(c["marked"] for c in checked) == len(marked)
    assert sum(c["wrong"] for c in checked) == 5
    model = sum(e.false_links for e in second.trust.estimates.values())
    corrected = sum(c["false_links"] for c in checked)
    assert corrected > model  # five wrong links among the marks say the model was too sure
    summary = json.loads((second_dir / "summary.json").read_text(encoding="utf-8"))
    assert any("checked" in e for e in summary["estimates"].values())


def test_pictures_are_in_the_workbook_and_the_html(noisy_run):
    _, _, _, run_dir = noisy_run
    page = (run_dir / "trust.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 3 and "http" not in page.replace("http://www.w3.org", "")
    assert "ước tính khoảng" in page
    import zipfile

    with zipfile.ZipFile(run_dir / "review.xlsx") as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3


def test_the_monthly_report_carries_the_estimates_as_numbers(noisy_run, tmp_path):
    from reconcile.review.monthly import write_monthly_report
    from reconcile.review.store import store_for

    _, config, result, _ = noisy_run
    store = store_for(config)
    _, text_path = write_monthly_report(store.history(), "2026-11", tmp_path, store.estimates())
    text = text_path.read_text(encoding="utf-8")
    assert "Độ tin cậy" in text and "ước tính khoảng" in text
    names = result.register.people["name"].dropna().head(200)
    assert not any(name in text for name in names)
