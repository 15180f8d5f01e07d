"""Lists read in a worker process beside the register give exactly what one process gives."""

import datetime as dt
import gc

import pandas as pd
import pytest

from reconcile import pipeline
from reconcile.collection import BULK_THRESHOLDS
from reconcile.config import build_config, load_config
from reconcile.pipeline import PreparationError, run_reconciliation

from conftest import SAMPLE_DIR
from listfiles import REGISTER_TOP

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


# A commune written by hand, not by our generator: a register export with a title row and
# Excel dates, a death list keyed by ID, and an elders' list typed without diacritics and with
# birth years only. The worker and helper paths must read and link it as one process does.
HAND_REGISTER = [
    *REGISTER_TOP,
    [1, "Nguyễn Văn Hoà", dt.date(1950, 3, 5), "Nam", "034050001234", "Thôn Đông", "Đang cư trú"],
    [2, "Trần Thị Thuỷ", dt.date(1962, 11, 20), "Nữ", "034162004321", "Thôn Đoài", "Đang cư trú"],
    [3, "Lê Đức Quý", "01/07/1988", "Nam", "034088000777", "Thôn Đông", "Đang cư trú"],
    [4, "Phạm Văn Khải", "1941", "Nam", "034041000555", "Thôn Đoài", "Đang cư trú"],
    [5, "Hoàng Minh Tuấn", dt.date(1979, 9, 9), "Nam", "034079001111", "Xóm Mới", "Đang cư trú"],
    # a candidate pair for the helper's duplicate search (eight residents are too few for
    # the weighing to report it: every value is common in so small a register)
    [6, "Hoàng Minh Tuấn", dt.date(1979, 9, 9), "Nam", "034079002222", "Xóm Mới", "Đang cư trú"],
    [7, "Bùi Thị Hạnh", dt.date(1995, 12, 3), "Nữ", "034195003333", "Thôn Đoài", "Đang cư trú"],
    [8, "Đặng Văn Bình", dt.date(1970, 4, 27), "Nam", "034070004444", "Thôn Đông", "Đang cư trú"],
]
HAND_DEATHS = [
    ["UBND XÃ AN BÌNH"],
    ["SỔ ĐĂNG KÝ KHAI TỬ NĂM 2026"],
    ["STT", "Họ và tên người chết", "Năm sinh", "Giới tính", "Số định danh cá nhân", "Ngày chết"],
    [1, "Phạm Văn Khải", 1941, "Nam", "034041000555", "02/10/2026"],
]
HAND_ELDERS = [
    ["DANH SÁCH HỘI VIÊN HỘI NGƯỜI CAO TUỔI"],
    ["TT", "HO VA TEN", "NAM SINH", "GIOI TINH", "THON"],
    [1, "Nguyen Van Hoa", 1950, "Nam", "Thon Dong"],
    [2, "Tran Thi Thuy", 1962, "Nu", "Thon Doai"],
    [3, "Ngo Thi Xuan", 1948, "Nu", "Thon Doai"],
    [4, "Dang Van Binh", 1970, "Nam", "Thon Dong"],
]


def _hand_written_commune(folder) -> dict:
    from listfiles import workbook

    folder.mkdir()
    return {
        "register": workbook({"Dân cư": HAND_REGISTER}, folder / "dan_cu.xlsx"),
        "death": workbook({"Khai tử": HAND_DEATHS}, folder / "khai_tu.xlsx"),
        "membership": workbook({"NCT": HAND_ELDERS}, folder / "nguoi_cao_tuoi.xlsx"),
    }


def _hand_run(files, out, store, monkeypatch, parallel: bool, now=NOW):
    monkeypatch.setattr(pipeline, "PARALLEL_INPUT_BYTES", 0 if parallel else 10**12)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    config = build_config(
        {"kind": "register", "path": files["register"]},
        [{"kind": kind, "path": files[kind]} for kind in ("death", "membership")],
        out,
        review={"store": store},
    )
    return run_reconciliation(config, now=now)[0]


def test_a_hand_written_commune_read_by_the_worker_and_the_helper(tmp_path, monkeypatch):
    """The list worker, the helper's duplicate search and its stored readings, on a commune our
    generator did not make: the same findings and links as one process, the facts an officer
    would find by eye, and a next run that recalls every reading."""
    files = _hand_written_commune(tmp_path / "commune")
    # two installations: a shared store would hand the second run the first one's readings
    store = f"sqlite:///{(tmp_path / 'decisions.sqlite').as_posix()}"
    elsewhere = f"sqlite:///{(tmp_path / 'alone.sqlite').as_posix()}"
    alone = _hand_run(files, tmp_path / "alone", elsewhere, monkeypatch, parallel=False)
    pools: list[int] = []
    spawn = pipeline._spawn
    monkeypatch.setattr(pipeline, "_spawn", lambda n: pools.append(n) or spawn(n))
    beside = _hand_run(files, tmp_path / "beside", store, monkeypatch, parallel=True)
    assert pools == [1]  # one process: the helper read the lists, then helped
    keyed = ["finding_id", "status"]  # finding ids are keyed per installation
    pd.testing.assert_frame_equal(
        alone.findings.drop(columns=keyed), beside.findings.drop(columns=keyed)
    )
    pd.testing.assert_frame_equal(alone.links, beside.links)

    found = beside.findings
    by_type = {t: group for t, group in found.groupby("type")}
    assert set(by_type["deceased_still_active"]["person_id"]) == {"034041000555"}
    missing = by_type["not_in_register"]
    assert list(missing["source_file"]) == ["nguoi_cao_tuoi.xlsx"]
    assert list(missing["source_row"]) == [5]  # Ngo Thi Xuan, typed on Excel row 5
    elders = beside.links[beside.links["source_file"] == "nguoi_cao_tuoi.xlsx"]
    matched = elders[elders["decision"] == "match"].set_index("source_row")["person_id"]
    assert matched.to_dict() == {3: "034050001234", 4: "034162004321", 6: "034070004444"}

    # the next day nothing changed: every reading the worker and the helper kept is recalled
    again = _hand_run(
        files, tmp_path / "beside", store, monkeypatch, True, NOW + dt.timedelta(days=1)
    )
    assert again.register.remembered and all(item.remembered for item in again.lists)
    readings = zip([beside.register, *beside.lists], [again.register, *again.lists], strict=True)
    for read, recalled in readings:
        pd.testing.assert_frame_equal(read.people, recalled.people, check_index_type=False)
    pd.testing.assert_frame_equal(beside.links, again.links)
    assert set(beside.findings["finding_id"]) == set(again.findings["finding_id"])


def _cached_parses() -> int:
    from reconcile.normalize import names, people

    cached = (names.parse_name, names.canonical_syllable, names.phonetic_syllable)
    return sum(f.cache_info().currsize for f in (*cached, people.name_features))


def test_reading_leaves_no_parses_cached_for_the_stages_after_it(tmp_path, monkeypatch):
    """The parsers' memo of every value read (about 150 MB after a 300k register) is let go
    once reading ends, in this process and in the helper that read the lists."""
    from reconcile.collection import let_readings_go
    from reconcile.normalize.names import parse_name

    parse_name("Nguyễn Văn Hoà")
    assert _cached_parses() > 0
    let_readings_go()
    assert _cached_parses() == 0

    monkeypatch.setattr(pipeline, "PARALLEL_INPUT_BYTES", 0)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path / "out")
    left: dict[str, int] = {}
    match_stage = pipeline.match_stage

    def matching(*args, **kwargs):
        left["here"] = _cached_parses()
        left["helper"] = args[8].submit(_cached_parses).result()  # the helper
        return match_stage(*args, **kwargs)

    monkeypatch.setattr(pipeline, "match_stage", matching)
    run_reconciliation(config, now=NOW)
    assert left == {"here": 0, "helper": 0}


def test_a_hand_written_commune_blocked_and_compared_partly_in_the_helper(tmp_path, monkeypatch):
    """The helper blocking the last half of the first list's rows (the elders' list, read
    first here) and comparing their pairs (matching.beside), on the hand-written commune: the
    findings and links one process gives, and the links an officer would find by eye."""
    from reconcile.matching import beside

    files = _hand_written_commune(tmp_path / "commune")
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)

    def run(out, store, parallel):
        monkeypatch.setattr(pipeline, "PARALLEL_INPUT_BYTES", 0 if parallel else 10**12)
        config = build_config(
            {"kind": "register", "path": files["register"]},
            [{"kind": kind, "path": files[kind]} for kind in ("membership", "death")],
            out,
            review={"store": f"sqlite:///{(tmp_path / store).as_posix()}"},
        )
        return run_reconciliation(config, now=NOW)[0]

    alone = run(tmp_path / "alone", "alone.sqlite", parallel=False)
    given: list[str] = []
    helper = pipeline._helper

    def recording(config):
        made = helper(config)
        if made is not None:
            submit = made.submit
            made.submit = lambda fn, *a, **k: given.append(fn.__name__) or submit(fn, *a, **k)
        return made

    monkeypatch.setattr(pipeline, "_helper", recording)
    monkeypatch.setattr(beside, "BLOCK_LOCAL_BELOW", 1)  # a hand-written list counts as big
    shared = run(tmp_path / "shared", "shared.sqlite", parallel=True)
    assert "block_held" in given and "compare_held_rows" in given
    keyed = ["finding_id", "status"]
    pd.testing.assert_frame_equal(
        alone.findings.drop(columns=keyed), shared.findings.drop(columns=keyed)
    )
    pd.testing.assert_frame_equal(alone.links, shared.links)
    elders = shared.links[shared.links["source_file"] == "nguoi_cao_tuoi.xlsx"]
    matched = elders[elders["decision"] == "match"].set_index("source_row")["person_id"]
    assert matched.to_dict() == {3: "034050001234", 4: "034162004321", 6: "034070004444"}


def test_the_lists_findings_are_made_before_the_duplicates_searched_beside_are_awaited(
    tmp_path, monkeypatch
):
    """On the hand-written commune with a helper: the register's duplicates are searched
    there while this process links the lists, and on a full run that search ends last. The
    findings stage is given the duplicates still to be asked for, and asks for them only once
    both lists' findings are made (this process would otherwise sit idle waiting for them)."""
    from reconcile import findings as findings_module

    files = _hand_written_commune(tmp_path / "commune")
    alone = _hand_run(files, tmp_path / "alone", "sqlite://", monkeypatch, parallel=False)
    events: list[str] = []
    list_findings = findings_module.list_findings

    def noting_list_findings(linked, *args):
        events.append(f"list {linked.label}")
        return list_findings(linked, *args)

    def call(stage, *args):
        if stage is pipeline.findings_stage:
            register, duplicates, *rest = args
            assert callable(duplicates)  # not weighed yet

            def asked():
                events.append("duplicates")
                return duplicates()

            return stage(register, asked, *rest)
        return stage(*args)

    given: list[str] = []
    helper = pipeline._helper

    def recording(config):
        made = helper(config)
        submit = made.submit
        made.submit = lambda fn, *a, **k: given.append(fn.__name__) or submit(fn, *a, **k)
        return made

    monkeypatch.setattr(findings_module, "list_findings", noting_list_findings)
    monkeypatch.setattr(pipeline, "_helper", recording)
    monkeypatch.setattr(pipeline, "PARALLEL_INPUT_BYTES", 0)
    config = build_config(
        {"kind": "register", "path": files["register"]},
        [{"kind": kind, "path": files[kind]} for kind in ("death", "membership")],
        tmp_path / "beside",
        review={"store": "sqlite://"},
    )
    beside = run_reconciliation(config, call=call, now=NOW)[0]
    assert "held_evidence" in given
    assert events == ["list khai_tu", "list nguoi_cao_tuoi", "duplicates"]
    assert beside.duplicates == alone.duplicates
    keyed = ["finding_id", "status"]
    pd.testing.assert_frame_equal(
        alone.findings.drop(columns=keyed), beside.findings.drop(columns=keyed)
    )
