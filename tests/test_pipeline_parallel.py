"""Lists read in a worker process beside the register give exactly what one process gives."""

import datetime as dt
import gc

import pandas as pd
import pytest

from reconcile import pipeline
from reconcile.collection import BULK_THRESHOLDS
from reconcile.config import load_config
from reconcile.pipeline import PreparationError, run_reconciliation

from conftest import SAMPLE_DIR

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _run(tmp_path, monkeypatch, parallel: bool):
    monkeypatch.setattr(pipeline, "PARALLEL_INPUT_BYTES", 0 if parallel else 10**12)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path / str(parallel))
    # one installation (one store, one secret): finding ids are keyed per installation
    store = f"sqlite:///{(tmp_path / 'decisions.sqlite').as_posix()}"
    # nothing remembered from the other run: both read and compare everything (input_memory,
    # matching.memory)
    config = config.model_copy(
        update={
            "review": config.review.model_copy(update={"store": store}),
            "matching": config.matching.model_copy(update={"incremental": False}),
        }
    )
    said: list[str] = []
    result, _ = run_reconciliation(config, progress=said.append, now=NOW)
    return result, said


def test_lists_read_beside_the_register_give_the_same_run(tmp_path, monkeypatch):
    alone, said_alone = _run(tmp_path, monkeypatch, parallel=False)
    beside, said_beside = _run(tmp_path, monkeypatch, parallel=True)
    # the second run has seen the findings before: "open" where the first said "new"
    pd.testing.assert_frame_equal(
        alone.findings.drop(columns="status"), beside.findings.drop(columns="status")
    )
    pd.testing.assert_frame_equal(alone.links, beside.links)
    pd.testing.assert_frame_equal(alone.rejected, beside.rejected)
    assert [item.counts for item in alone.lists] == [item.counts for item in beside.lists]
    assert sorted(said_alone) == sorted(said_beside)  # every list's counts still reported


def _explode(spec, config, call, progress):
    raise ValueError("Nguyễn Văn A 034090000222")  # a message quoting a citizen's cells


def test_a_list_failing_in_the_worker_is_named_without_its_values(tmp_path, monkeypatch):
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path)
    monkeypatch.setattr(pipeline, "_prepare", _explode)
    with pytest.raises(PreparationError) as raised:
        pipeline._prepare_quietly(config.lists[0], config)
    assert str(raised.value) == f"{config.lists[0].path.name}: ValueError"


def test_an_unreadable_register_with_lists_in_a_worker_fails_cleanly(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_INPUT_BYTES", 0)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path / "out")
    broken = tmp_path / "dan_cu.xlsx"
    broken.write_bytes(b"not a workbook")
    register = config.population_register.model_copy(update={"path": broken})
    config = config.model_copy(update={"population_register": register})
    with pytest.raises(pipeline.RunError):
        run_reconciliation(config, now=NOW)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_a_register_the_last_run_read_leaves_the_lists_to_this_process(tmp_path, monkeypatch):
    """Recalling the register takes a moment: a worker for the lists would start later than
    this process can read them. The run is the same one."""
    monkeypatch.setattr(pipeline, "PARALLEL_INPUT_BYTES", 0)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path / "out")
    first, _ = run_reconciliation(config, now=NOW)
    pools: list[int] = []
    spawn = pipeline._spawn
    monkeypatch.setattr(pipeline, "_spawn", lambda n: pools.append(n) or spawn(n))
    said: list[str] = []
    second, _ = run_reconciliation(config, progress=said.append, now=NOW + dt.timedelta(days=1))
    assert second.register.remembered
    assert pools == [1]  # the helper only, started at once: no worker read the lists
    pd.testing.assert_frame_equal(first.links, second.links)
    assert set(first.findings["finding_id"]) == set(second.findings["finding_id"])
    assert len([line for line in said if "dòng / rows" in line]) == 1 + len(config.lists)


def test_a_run_collects_garbage_in_bulk_and_gives_the_thresholds_back(tmp_path):
    """Every stage runs with the bulk thresholds (reconcile.collection), so do the run's worker
    processes, and the caller's own thresholds are back once the run ends."""
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path)
    seen = []

    def call(stage, *args, **kwargs):
        seen.append(gc.get_threshold())
        return stage(*args, **kwargs)

    before = gc.get_threshold()
    gc.set_threshold(1234, 5, 6)
    try:
        run_reconciliation(config, call=call, now=NOW)
        assert gc.get_threshold() == (1234, 5, 6)
    finally:
        gc.set_threshold(*before)
    assert len(seen) >= 6 and set(seen) == {BULK_THRESHOLDS}
    with pipeline._spawn(1) as worker:
        assert worker.submit(gc.get_threshold).result() == BULK_THRESHOLDS


def test_readings_are_kept_for_the_next_run_by_the_worker_and_the_helper(tmp_path, monkeypatch):
    """The list worker makes its list's stored record (input_memory.to_record) beside the
    register's reading, and the helper the register's from the register it holds; the next run
    finds both files unchanged and recalls exactly those readings."""
    monkeypatch.setattr(pipeline, "PARALLEL_INPUT_BYTES", 0)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path)
    first, _ = run_reconciliation(config, now=NOW)
    assert all(item.record is not None for item in first.lists if item.people is not None)
    assert first.register.record is not None
    again, said = run_reconciliation(config, now=NOW + dt.timedelta(days=1))
    usable = [(a, b) for a, b in zip(first.lists, again.lists, strict=True) if a.people is not None]
    usable.append((first.register, again.register))
    assert len(usable) > 1 and all(b.remembered for _, b in usable)
    for read, recalled in usable:
        pd.testing.assert_frame_equal(read.people, recalled.people, check_index_type=False)
        assert (read.raw_keys == recalled.raw_keys).all()
    pd.testing.assert_frame_equal(
        first.findings.drop(columns="status"), again.findings.drop(columns="status")
    )
