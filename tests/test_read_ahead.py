"""Sheets parsed ahead in a thread (ingest.read_ahead) while the register is recalled: the
lists read after it give what a plain read gives, and nothing parsed ahead outlives the run."""

import datetime as dt
import shutil
import threading

import pandas as pd
import pytest
from test_incremental import _edit_night

from reconcile import ingest, pipeline
from reconcile.config import load_config
from reconcile.ingest import UnreadableListError, drop_read_ahead, read_ahead, read_grids
from reconcile.pipeline import run_reconciliation

from listfiles import workbook
from synthetic.commune import generate_commune

NIGHT_1 = dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
ROWS = [["DANH SÁCH"], ["STT", "Họ và tên", "Năm sinh"], [1, "Nguyễn Văn An", 1950]]


@pytest.fixture
def parsed_where(monkeypatch):
    """{file name: the threads that parsed it}."""
    seen: dict[str, list[str]] = {}
    parse = ingest._read_grids

    def spying(path):
        seen.setdefault(path.name, []).append(threading.current_thread().name)
        return parse(path)

    monkeypatch.setattr(ingest, "_read_grids", spying)
    return seen


def _rows(grids):
    return [(g.name, [list(r) for r in g.rows]) for g in grids]


def test_a_workbook_parsed_ahead_reads_as_it_would_have(tmp_path, parsed_where):
    path = workbook({"DS": ROWS}, tmp_path / "ds.xlsx")
    plain = _rows(read_grids(path))
    read_ahead([path])
    assert _rows(read_grids(path)) == plain
    assert parsed_where["ds.xlsx"][0] == "MainThread"
    assert parsed_where["ds.xlsx"][1].startswith("read-ahead")
    assert not ingest._AHEAD


def test_a_workbook_changed_after_it_was_parsed_ahead_is_read_again(tmp_path, parsed_where):
    path = workbook({"DS": ROWS}, tmp_path / "ds.xlsx")
    read_ahead([path])
    workbook({"DS": [*ROWS, [2, "Trần Thị Bích", 1962]]}, path)  # saved again, one row more
    grids = read_grids(path)
    assert len(list(grids[0].rows)) == 4
    assert parsed_where["ds.xlsx"][-1] == "MainThread"
    drop_read_ahead()
    assert not ingest._AHEAD


def test_an_unreadable_workbook_parsed_ahead_fails_where_it_is_read(tmp_path):
    path = tmp_path / "hong.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    read_ahead([path])
    with pytest.raises(UnreadableListError, match="hong.xlsx"):
        read_grids(path)


def test_lists_parsed_ahead_of_a_recalled_register_give_the_same_night(
    tmp_path, parsed_where, monkeypatch
):
    """A night with the register unchanged and the lists edited: the edited lists' sheets are
    parsed in the read-ahead thread while the register is recalled, the register's file is
    not parsed at all, and the night equals one read without parsing ahead."""
    config = load_config(generate_commune(tmp_path / "commune", seed=31, size=300))
    run_reconciliation(config.model_copy(update={"out_dir": tmp_path / "night1"}), now=NIGHT_1)
    register_file = config.population_register.path.name
    assert _edit_night(tmp_path / "commune", 5, 0.2, keep=register_file) > 10
    for name in ("ahead", "plain"):
        shutil.copytree(tmp_path / "night1", tmp_path / name)
    parsed_where.clear()
    night = NIGHT_1 + dt.timedelta(days=1)
    ahead = run_reconciliation(config.model_copy(update={"out_dir": tmp_path / "ahead"}), now=night)
    assert ahead[0].register.remembered and register_file not in parsed_where
    edited = [s.path.name for s in config.lists if s.path.suffix == ".xlsx"]
    # each edited list parsed once, ahead: the read took that parse
    assert edited and all(
        len(parsed_where[n]) == 1 and parsed_where[n][0].startswith("read-ahead") for n in edited
    )
    assert not ingest._AHEAD
    monkeypatch.setattr(pipeline, "read_ahead", lambda paths: None)
    plain = run_reconciliation(config.model_copy(update={"out_dir": tmp_path / "plain"}), now=night)
    pd.testing.assert_frame_equal(ahead[0].links, plain[0].links)
    keyed = ["finding_id", "status"]
    pd.testing.assert_frame_equal(
        ahead[0].findings.drop(columns=keyed), plain[0].findings.drop(columns=keyed)
    )
