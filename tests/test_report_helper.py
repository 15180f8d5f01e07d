"""The review workbook written in a helper process (report.output, while this process writes the
machine files) is the workbook this process writes; a helper that died costs nothing."""

import datetime as dt
import multiprocessing
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from reconcile.config import load_config
from reconcile.pipeline import run_reconciliation
from reconcile.report import output
from reconcile.report.output import begin_workbooks, for_workbook, warm_up, write_run
from reconcile.report.workbook import UNPLACED_WORKBOOK

from conftest import SAMPLE_DIR

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("helper") / "run"
    return run_reconciliation(load_config(SAMPLE_DIR / "reconcile.toml", out_dir=out), now=NOW)[0]


def _helper() -> ProcessPoolExecutor:
    helper = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    helper.submit(warm_up).result()
    return helper


def _cells(path):
    """Every sheet's values, and the custom properties (run id, token, finding sheets)."""
    wb = load_workbook(path)
    sheets = {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb}
    return sheets, {p.name: p.value for p in wb.custom_doc_props.props}


def test_the_helpers_workbook_is_the_one_written_here(result, tmp_path):
    here = write_run(result, tmp_path / "here", token="t0ken")
    with _helper() as helper:
        beside = write_run(result, tmp_path / "beside", token="t0ken", helper=helper)
    sheets, properties = _cells(here / "review.xlsx")
    assert len(sheets) > 4 and sum(len(rows) for rows in sheets.values()) > 50
    assert _cells(beside / "review.xlsx") == (sheets, properties)
    assert sorted(p.name for p in here.iterdir()) == sorted(p.name for p in beside.iterdir())


def _die() -> None:
    os._exit(1)


def test_a_helper_that_died_leaves_the_workbook_to_this_process(result, tmp_path):
    helper = _helper()
    helper.submit(_die)  # the pool breaks before or while the workbook is given to it
    try:
        run_dir = write_run(result, tmp_path / "out", token="t0ken", helper=helper)
    finally:
        helper.shutdown()
    here = write_run(result, tmp_path / "here", token="t0ken")
    assert _cells(run_dir / "review.xlsx") == _cells(here / "review.xlsx")


def _begun_in_helper() -> int:
    from reconcile.report import output

    return len(output._BEGUN)


def test_finding_sheets_begun_before_the_estimates_give_the_same_workbook(result, tmp_path):
    """begin_workbooks makes the finding sheets in the helper as soon as the findings are
    reviewed; write_run then finishes that workbook, the same one this process writes."""
    here = write_run(result, tmp_path / "here", token="t0ken")
    with _helper() as helper:
        begun = begin_workbooks(helper, result.findings, result.run_id)
        assert helper.submit(_begun_in_helper).result() == 1
        beside = write_run(result, tmp_path / "beside", token="t0ken", helper=helper, begun=begun)
        assert helper.submit(_begun_in_helper).result() == 0  # finished, not written anew
        # a report retried after its first try took the begun workbook: written here
        again = write_run(result, tmp_path / "again", token="t0ken", helper=helper, begun=begun)
    expected = _cells(here / "review.xlsx")
    assert _cells(beside / "review.xlsx") == expected
    assert _cells(again / "review.xlsx") == expected


def test_a_helper_that_died_after_beginning_leaves_the_workbook_to_this_process(result, tmp_path):
    helper = _helper()
    begun = begin_workbooks(helper, result.findings, result.run_id)
    helper.submit(_die)
    try:
        run_dir = write_run(result, tmp_path / "out", token="t0ken", helper=helper, begun=begun)
    finally:
        helper.shutdown()
    here = write_run(result, tmp_path / "here", token="t0ken")
    assert _cells(run_dir / "review.xlsx") == _cells(here / "review.xlsx")


def test_a_province_split_begun_in_the_helper_is_the_split_written_here(
    result, tmp_path, monkeypatch
):
    """Findings past a sheet's limit are split per commune in this process (finding_parts);
    each part's finding sheets begun in the helper give that part's workbook."""
    communes = [f"xa {'abc'[i % 3]}" for i in range(len(result.findings))]  # folded keys
    split = replace(result, findings=result.findings.assign(register_commune=communes))
    per_part = split.findings.groupby(["register_commune", "type"]).size().max()
    monkeypatch.setattr(output, "SHEET_ROW_LIMIT", int(per_part))
    here = write_run(split, tmp_path / "here", token="t0ken")
    with _helper() as helper:
        begun = begin_workbooks(helper, split.findings, split.run_id)
        beside = write_run(split, tmp_path / "beside", token="t0ken", helper=helper, begun=begun)
    books = sorted(p.name for p in here.glob("review*.xlsx"))
    # the sample's rejected rows have their own workbook, with no finding sheet to begin
    assert books == [UNPLACED_WORKBOOK, "review_xa_a.xlsx", "review_xa_b.xlsx", "review_xa_c.xlsx"]
    assert sorted(begun) == books[1:]
    for name in books:
        assert _cells(beside / name) == _cells(here / name)


def test_a_province_split_begins_ahead_only_what_the_helper_may_hold(result, tmp_path, monkeypatch):
    """A begun workbook holds its findings until saved: past BEGIN_AHEAD_FINDINGS the parts are
    not begun ahead but written whole one after another, and each is still the workbook written
    here."""
    communes = [f"xa {'abc'[i % 3]}" for i in range(len(result.findings))]
    split = replace(result, findings=result.findings.assign(register_commune=communes))
    per_part = split.findings.groupby(["register_commune", "type"]).size().max()
    monkeypatch.setattr(output, "SHEET_ROW_LIMIT", int(per_part))
    first = int((split.findings["register_commune"] == "xa a").sum())
    monkeypatch.setattr(output, "BEGIN_AHEAD_FINDINGS", first + 1)  # less than two parts
    here = write_run(split, tmp_path / "here", token="t0ken")
    with _helper() as helper:
        begun = begin_workbooks(helper, split.findings, split.run_id)
        assert sorted(begun) == ["review_xa_a.xlsx"]
        assert helper.submit(_begun_in_helper).result() == 1
        beside = write_run(split, tmp_path / "beside", token="t0ken", helper=helper, begun=begun)
        assert helper.submit(_begun_in_helper).result() == 0
    books = sorted(p.name for p in here.glob("review*.xlsx"))
    assert books == sorted(p.name for p in beside.glob("review*.xlsx")) and len(books) == 4
    for name in books:
        assert _cells(beside / name) == _cells(here / name)


def _wait_for(started: str, release: str) -> None:
    """(In the helper) keep it busy until `release` exists, at most 30 s."""
    Path(started).touch()
    deadline = time.monotonic() + 30
    while not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.02)


_WRITE = output.write_review_workbook


def _write_and_log(part, data, path, token) -> None:
    """write_review_workbook, logging which process wrote what in the folder above staging;
    the first write lets the busy helper go (_wait_for)."""
    _WRITE(part, data, path, token)
    with (path.parent.parent / "writers.log").open("a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {path.name}\n")
    (path.parent.parent / "release").touch()


def _split_in_four(result, tmp_path, monkeypatch):
    """The run with its findings over four communes, one workbook each; the folder written
    by this process alone, and its workbooks' names. Writes are logged from then on."""
    communes = [f"xa {'abcd'[i % 4]}" for i in range(len(result.findings))]
    split = replace(result, findings=result.findings.assign(register_commune=communes))
    monkeypatch.setattr(output, "SPLIT_FINDINGS", 1)
    here = write_run(split, tmp_path / "here", token="t0ken")
    monkeypatch.setattr(output, "write_review_workbook", _write_and_log)
    return split, here, sorted(p.name for p in here.glob("review*.xlsx"))


def _keep_busy(helper, out: Path) -> None:
    """Keep the helper busy until this process first writes a workbook into `out`."""
    helper.submit(_wait_for, str(out / "started"), str(out / "release"))
    waited = 0
    while not (out / "started").exists() and waited < 3000:
        waited += 1
        time.sleep(0.01)


def _writers(out: Path) -> tuple[list[list[str]], list[str]]:
    """Every logged write (process id, workbook), and the workbooks this process wrote."""
    writers = [line.split() for line in (out / "writers.log").read_text().splitlines()]
    return writers, [name for pid, name in writers if int(pid) == os.getpid()]


def test_workbooks_the_helper_has_not_reached_are_written_here_from_the_last(
    result, tmp_path, monkeypatch
):
    """While the helper is busy, this process takes the parts still waiting for it, from the
    last one back, and leaves it those it has taken: both write, and each part once."""
    split, here, books = _split_in_four(result, tmp_path, monkeypatch)
    assert len(books) == 5  # four communes, and the rejected rows'
    out = tmp_path / "beside"
    out.mkdir()
    with _helper() as helper:
        _keep_busy(helper, out)
        # the helper takes the first two parts into its queue; the other two wait for it
        beside = write_run(split, out, token="t0ken", helper=helper)
    writers, written_here = _writers(out)
    assert written_here[0] == books[-1] and books[0] not in written_here
    assert written_here == books[::-1][: len(written_here)]  # from the last back
    assert sorted(name for _, name in writers) == books  # each part once
    for name in books:
        assert _cells(beside / name) == _cells(here / name)


def test_parts_begun_in_the_helper_are_taken_here_from_the_last_when_it_is_busy(
    result, tmp_path, monkeypatch
):
    """A province's parts are all begun in the helper before this process is free: while the
    helper is busy, this process still takes the parts it has not finished, from the last one
    back, and writes them whole. Each workbook is the one written here alone."""
    split, here, books = _split_in_four(result, tmp_path, monkeypatch)
    out = tmp_path / "beside"
    out.mkdir()
    with _helper() as helper:
        _keep_busy(helper, out)
        begun = begin_workbooks(helper, split.findings, split.run_id)
        assert sorted(begun) == [name for name in books if name != UNPLACED_WORKBOOK]
        beside = write_run(split, out, token="t0ken", helper=helper, begun=begun)
    _, written_here = _writers(out)
    assert written_here and written_here == books[::-1][: len(written_here)]
    assert sorted(p.name for p in beside.glob("review*.xlsx")) == books
    for name in books:
        assert _cells(beside / name) == _cells(here / name)


def test_what_a_workbook_sends_the_helper_does_not_grow_with_the_register(result):
    """A province sends the helper one run per commune workbook: the register's reading (its
    residents, its stored form) must not travel with each, the workbook reads none of it."""
    from reconcile.input_memory import to_record

    people = result.register.people
    read = replace(result.register, record=to_record(result.register), departed=people)
    bare = replace(result.register, people=people.iloc[:0], raw_keys=None)
    sent = [len(pickle.dumps(for_workbook(replace(result, register=r)))) for r in (read, bare)]
    assert sent[0] == sent[1]


def test_a_split_runs_rejected_rows_and_check_sample_are_in_one_workbook_the_others_say_where(
    result, tmp_path, monkeypatch
):
    """A rejected row names its file and row, not a commune, and the check sample is the whole
    run's, marked once: a split run writes both in the workbook of rows without a commune
    alone, and each commune's workbook says where they are. Every rejected row and every
    sampled link is in exactly one workbook."""
    from reconcile.report.workbook import REJECTED_SHEET
    from reconcile.review.workbook_decisions import CHECK_SHEET

    sample = result.trust.check_sample
    assert len(result.rejected) > 0 and len(sample) > 0
    communes = [f"xa {'abc'[i % 3]}" for i in range(len(result.findings))]
    split = replace(result, findings=result.findings.assign(register_commune=communes))
    monkeypatch.setattr(output, "SPLIT_FINDINGS", 1)
    run_dir = write_run(split, tmp_path / "out", token="t0ken")
    rejected, sampled = {}, {}
    for book in sorted(run_dir.glob("review*.xlsx")):
        sheets = _cells(book)[0]
        rows = sheets[REJECTED_SHEET][1:]
        rejected[book.name] = [r[:3] for r in rows if r[0] is not None]
        sampled[book.name] = [r[0] for r in sheets[CHECK_SHEET][3:] if r[0] is not None]
        if book.name != UNPLACED_WORKBOOK:
            pointers = [r[4] for r in rows if r[0] is None]
            assert len(pointers) == 1 and UNPLACED_WORKBOOK in pointers[0]
            assert f"{len(result.rejected)} dòng bị loại" in pointers[0]
            assert UNPLACED_WORKBOOK in sheets[CHECK_SHEET][1][0]
    columns = ["source_file", "source_sheet", "source_row"]
    expected = [list(r) for r in result.rejected[columns].itertuples(index=False, name=None)]
    assert rejected.pop(UNPLACED_WORKBOOK) == expected
    assert sampled.pop(UNPLACED_WORKBOOK) == list(sample["sample_id"])
    assert len(rejected) == 3 and not any(rejected.values()) and not any(sampled.values())


def test_rejected_rows_past_a_sheets_limit_are_said_to_be_in_the_csv(result, tmp_path, monkeypatch):
    """A sheet holds 1,048,575 rows below its header; rows past it would be dropped silently.
    The rejected sheet keeps one row to say how many more there are, and where."""
    from reconcile.report import workbook
    from reconcile.report.workbook import REJECTED_SHEET

    rejected = len(result.rejected)
    assert rejected >= 3
    monkeypatch.setattr(workbook, "SHEET_ROW_LIMIT", rejected - 1)  # two rows past the last
    run_dir = write_run(result, tmp_path / "out", token="t0ken")
    rows = _cells(run_dir / "review.xlsx")[0][REJECTED_SHEET][1:]
    assert len([r for r in rows if r[0] is not None]) == rejected - 2
    assert rows[-1][0] is None and rows[-1][4].startswith("2 dòng bị loại nữa")
    assert "rejected.csv" in rows[-1][4]
    assert len(pd.read_csv(run_dir / "rejected.csv", encoding="utf-8-sig")) == rejected
