"""One file must never stop the night: a workbook whose one value sits in cell XFD1048576, a
cell that expands a 1 MB file to hundreds of MB, a reader that dies on a file; and what a killed
run leaves running is ended by the next. Synthetic data only."""

import datetime as dt
import json
import subprocess
import sys
import time
import zipfile

import psutil
from openpyxl import Workbook

from reconcile import pipeline
from reconcile.config import load_config
from reconcile.ingest import UnreadableListError, ingest_list
from reconcile.kinds import ListKind
from reconcile.leftovers import end_leftovers

from conftest import SAMPLE_DIR


def _far_cell(path, cell, with_table=True):
    wb = Workbook()
    ws = wb.active
    if with_table:
        ws.append(["STT", "Họ và tên", "Năm sinh"])
        ws.append([1, "Mai Văn A", 1950])
    ws[cell] = "x"
    wb.create_sheet("Tốt").append(["STT", "Họ và tên", "Năm sinh"])
    wb["Tốt"].append([1, "Lê Thị B", 1960])
    wb.save(path)
    return path


def test_a_value_in_cell_xfd1048576_costs_only_its_sheet(tmp_path):
    path = _far_cell(tmp_path / "xa.xlsx", "XFD1048576")
    ingested = ingest_list(path, ListKind.MEMBERSHIP)  # would ask for 550 GB unguarded
    assert list(ingested.frame["full_name"]) == ["Lê Thị B"]  # the other sheet is read
    (refused,) = [r for r in ingested.sheets if r.skipped]
    assert "XFD1048576" in refused.skipped and "too large" in refused.skipped


def test_a_sheet_too_wide_is_named_and_an_only_sheet_makes_the_list_unreadable(tmp_path):
    wb = Workbook()
    wb.active["A1"], wb.active["XFD2000"] = "Họ và tên", "x"
    wb.save(tmp_path / "rong.xlsx")
    try:
        ingest_list(tmp_path / "rong.xlsx", ListKind.MEMBERSHIP)
    except UnreadableListError as exc:
        assert "XFD2000" in str(exc) and "too large" in str(exc)
    else:
        raise AssertionError("a 2000 x 16384 sheet was read")


def test_a_cell_that_expands_to_hundreds_of_mb_is_refused_at_once(tmp_path):
    source = _far_cell(tmp_path / "nho.xlsx", "B3")
    bomb = tmp_path / "bom.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<t>x</t>", b"<t>" + b"a" * 60_000_000 + b"</t>")
            new.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 1_000_000
    started = time.perf_counter()
    try:
        ingest_list(bomb, ListKind.MEMBERSHIP)
    except UnreadableListError as exc:
        assert "expands to" in str(exc)
    else:
        raise AssertionError("the bomb was read")
    assert time.perf_counter() - started < 10  # refused from the zip's directory, not read


CRASHING_READER = """
import os
import reconcile.ingest as ingest
_read = ingest.read_grids

def read_grids(path):
    if path.name.startswith("giet"):
        os._exit(134)  # what a reader aborting on an allocation does to its process
    return _read(path)

ingest.read_grids = read_grids
"""


def test_a_reader_dying_on_one_file_costs_only_that_file(tmp_path, monkeypatch):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASHING_READER, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(hook))  # the spawned workers start with it
    killer = tmp_path / "giet_trinh_doc.xlsx"
    killer.write_bytes((SAMPLE_DIR / "tro_cap_xa_hoi.xlsx").read_bytes())
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path / "out")
    lists = [*config.lists, config.lists[0].model_copy(update={"path": killer, "name": "x"})]
    config = config.model_copy(update={"lists": lists})
    monkeypatch.setattr(pipeline, "PARALLEL_INPUT_BYTES", 0)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    result, run_dir = pipeline.run_reconciliation(config, now=dt.datetime(2026, 11, 3, 2, 0))
    skipped = {item.counts.file: item.counts.skipped for item in result.lists}
    assert "the reader died" in skipped[killer.name]
    assert all(reason is None for name, reason in skipped.items() if name != killer.name)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert [s["file"] for s in summary["skipped_lists"]] == [killer.name]


KILLED_RUN = """
import subprocess, sys, time
from pathlib import Path
from reconcile.leftovers import record_children
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
record_children(Path(sys.argv[1]))  # as a run does once its workers are up
print(worker.pid, flush=True)
time.sleep(120)
"""


def test_the_next_run_ends_what_a_killed_run_left_running(tmp_path):
    run = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    worker = psutil.Process(int(run.stdout.readline()))
    run.kill()  # the run dies; its worker is left running, orphaned
    run.wait()
    assert worker.is_running()
    assert end_leftovers(tmp_path) == 1
    psutil.wait_procs([worker], timeout=10)
    assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
    assert not (tmp_path / ".reconcile.children").exists()


def test_a_recycled_process_id_is_left_alone(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        started = psutil.Process(sleeper.pid).create_time()
        (tmp_path / ".reconcile.children").write_text(
            json.dumps([{"pid": sleeper.pid, "started": started - 1000}]), encoding="utf-8"
        )
        assert end_leftovers(tmp_path) == 0 and sleeper.poll() is None
    finally:
        sleeper.kill()
