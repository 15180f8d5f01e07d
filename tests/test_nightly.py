"""The nightly run: schedule, inbox and archive, retention, one run at a time, crash safety."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from flows.nightly_flow import NIGHTLY_CRON, TIMEZONE, nightly_deployment
from reconcile.cli import main
from reconcile.nightly import nightly_settings, purge_runs, run_folders, run_nightly
from reconcile.runlock import run_lock

from conftest import SAMPLE_DIR

LISTS = {
    "death": "khai_tu.xlsx",
    "welfare": "tro_cap_xa_hoi.xlsx",
    "vaccination": "tiem_chung.xlsx",
}


def make_inbox(root, lists=LISTS):
    inbox = root / "inbox"
    (inbox / "register").mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE_DIR / "dan_cu.xlsx", inbox / "register" / "dan_cu.xlsx")
    for kind, name in lists.items():
        (inbox / kind).mkdir(exist_ok=True)
        shutil.copy(SAMPLE_DIR / name, inbox / kind / name)
    return inbox


def _fingerprint(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_deployment_runs_at_two_in_the_morning_vietnam_time(tmp_path):
    deployment = nightly_deployment(nightly_settings(make_inbox(tmp_path), tmp_path / "out"))
    (schedule,) = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", TIMEZONE)
    assert NIGHTLY_CRON == "0 2 * * *"
    expected = {"inbox", "out_dir", "archive_dir", "keep_runs", "store", "commune"}
    assert set(deployment.parameters) == expected


def test_processed_lists_are_archived_and_the_register_stays(tmp_path):
    inbox = make_inbox(tmp_path)
    older = inbox / "register" / "dan_cu_cu.xlsx"
    shutil.copy(SAMPLE_DIR / "dan_cu.xlsx", older)
    a_month_ago = time.time() - 30 * 86400
    os.utime(older, (a_month_ago, a_month_ago))  # the newest register is the one used
    result, run_dir = run_nightly(nightly_settings(inbox, tmp_path / "out"))
    assert result.register.counts.file == "dan_cu.xlsx"
    archive = tmp_path / "inbox_luu_tru" / result.run_id
    assert sorted(p.relative_to(archive).as_posix() for p in archive.rglob("*.xlsx")) == sorted(
        [f"{k}/{n}" for k, n in LISTS.items()] + ["register/dan_cu_cu.xlsx"]
    )
    assert [p.name for p in (inbox / "register").iterdir()] == ["dan_cu.xlsx"]
    assert not any(any((inbox / kind).iterdir()) for kind in LISTS)
    assert (run_dir / "review.xlsx").is_file()
    # archived lists are personal data: owner-only, like the run folders
    for path in [archive, *archive.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path


def test_a_list_renamed_for_the_next_month_keeps_its_dismissals(tmp_path):
    from openpyxl import load_workbook

    lists = {"welfare": "tro_cap_thang_11.xlsx"}
    inbox = make_inbox(tmp_path, {})
    (inbox / "welfare").mkdir()
    shutil.copy(SAMPLE_DIR / "tro_cap_xa_hoi.xlsx", inbox / "welfare" / lists["welfare"])
    settings = nightly_settings(inbox, tmp_path / "out")
    first, first_dir = run_nightly(settings)
    dead = first.findings[first.findings["type"] == "benefit_to_deceased"]
    chosen = set(dead["finding_id"])
    assert chosen
    wb = load_workbook(first_dir / "review.xlsx")
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        if "Mã phát hiện" in header:
            for row in ws.iter_rows(min_row=2):
                if row[header.index("Mã phát hiện")].value in chosen:
                    row[header.index("Quyết định")].value = "Không phải cùng người"
    wb.save(first_dir / "review.xlsx")
    later = time.time() + 5
    os.utime(first_dir / "review.xlsx", (later, later))
    # December's list, the same office's, under December's name
    shutil.copy(SAMPLE_DIR / "tro_cap_xa_hoi.xlsx", inbox / "welfare" / "tro_cap_thang_12.xlsx")
    second, _ = run_nightly(settings)
    assert not chosen & set(second.findings["finding_id"])
    assert second.review.suppressed == len(chosen)


def test_the_same_inbox_twice_gives_the_same_findings(tmp_path):
    store = f"sqlite:///{(tmp_path / 'decisions.sqlite').as_posix()}"  # one installation
    first = run_nightly(
        nightly_settings(make_inbox(tmp_path / "a"), tmp_path / "a" / "out", store=store)
    )[1]
    second = run_nightly(
        nightly_settings(make_inbox(tmp_path / "b"), tmp_path / "b" / "out", store=store)
    )[1]
    columns = [
        "finding_id",
        "type",
        "source_file",
        "source_row",
        "field",
        "source_value",
        "register_value",
        "score",
    ]

    def read(folder):
        return pd.read_csv(folder / "findings.csv", dtype=str, encoding="utf-8-sig")[columns]

    pd.testing.assert_frame_equal(read(first), read(second))


def test_a_second_run_exits_with_a_clear_message_while_one_holds_the_lock(tmp_path):
    inbox, out = make_inbox(tmp_path), tmp_path / "out"
    with run_lock(out):
        result = CliRunner().invoke(
            main, ["nightly", "run", "--no-prefect", "--inbox", str(inbox), "--out", str(out)]
        )
    assert result.exit_code == 3
    assert "another reconciliation is running" in result.output
    assert all(any((inbox / kind).iterdir()) for kind in LISTS)  # nothing archived


def test_invalid_parameters_are_explained(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "nightly",
            "run",
            "--no-prefect",
            "--inbox",
            str(tmp_path / "missing"),
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2 and "the inbox folder does not exist" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(
        main,
        [
            "nightly",
            "run",
            "--no-prefect",
            "--inbox",
            str(empty),
            "--out",
            str(tmp_path / "out"),
            "--keep",
            "0",
        ],
    )
    assert result.exit_code == 2 and "keep_runs" in result.output


def test_retention_keeps_the_last_runs(tmp_path):
    out = tmp_path / "out"
    for name in ["20261101-020000", "20261102-020000", "20261103-020000", ".partial-x"]:
        (out / name).mkdir(parents=True)
        (out / name / "summary.json").write_text("{}")
    removed = purge_runs(out, keep=2)
    assert [p.name for p in removed] == ["20261101-020000"]
    assert [p.name for p in run_folders(out)] == ["20261102-020000", "20261103-020000"]
    result = CliRunner().invoke(main, ["purge", "--out", str(out), "--keep", "1"])
    assert result.exit_code == 0 and [p.name for p in run_folders(out)] == ["20261103-020000"]


def test_a_run_killed_at_any_moment_leaves_earlier_outputs_and_no_partial_folder(tmp_path):
    inbox, out = make_inbox(tmp_path), tmp_path / "out"
    _, first = run_nightly(nightly_settings(inbox, out))
    before = _fingerprint(first)
    command = [
        sys.executable,
        "-c",
        "from reconcile.cli import main; main()",
        "nightly",
        "run",
        "--no-prefect",
        "--inbox",
        str(inbox),
        "--out",
        str(out),
    ]
    # a run takes ~3.3 s here and writes its outputs from ~2.9 s: most kills land around that
    for delay in (0.5, 1.5, 2.5, 2.75, 2.9, 3.0, 3.1, 3.25, 3.5):
        make_inbox(tmp_path)  # the lists again (the first run archived them)
        runs_before = set(run_folders(out))
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.kill()
        process.wait()
        assert _fingerprint(first) == before
        for folder in (p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
            assert sorted(f.name for f in folder.iterdir()) == [
                "findings.csv",
                "layout.csv",
                "links.csv",
                "rejected.csv",
                "review.xlsx",
                "summary.json",
                "trust.html",
            ]
            assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["run_id"]
        archived = not any((inbox / "death").iterdir())
        if archived:  # inputs leave the inbox only after their run's outputs exist
            assert set(run_folders(out)) - runs_before
    make_inbox(tmp_path)
    _, last = run_nightly(nightly_settings(inbox, out))  # the lock died with the process
    assert (last / "review.xlsx").is_file()
    assert not list(out.glob(".partial-*"))


@pytest.mark.parametrize("keep", [1])
def test_a_nightly_run_applies_retention(tmp_path, keep):
    inbox, out = make_inbox(tmp_path), tmp_path / "out"
    for _ in range(2):
        make_inbox(tmp_path)
        run_nightly(nightly_settings(inbox, out, keep_runs=keep))
        time.sleep(1.1)  # run folders are named by the second they start
    assert len(run_folders(out)) == keep


def test_a_crash_after_the_outputs_but_before_archiving_is_redone_the_same(tmp_path, monkeypatch):
    import reconcile.nightly as nightly

    inbox, out = make_inbox(tmp_path), tmp_path / "out"

    def crash(*_):
        raise OSError("power cut")

    monkeypatch.setattr(nightly, "archive_inputs", crash)
    with pytest.raises(OSError):
        run_nightly(nightly_settings(inbox, out))
    (written,) = run_folders(out)
    assert all(any((inbox / kind).iterdir()) for kind in LISTS)  # nothing archived
    monkeypatch.undo()
    time.sleep(1.1)
    _, again = run_nightly(nightly_settings(inbox, out))

    def ids(folder):
        return set(
            pd.read_csv(folder / "findings.csv", dtype=str, encoding="utf-8-sig")["finding_id"]
        )

    assert ids(again) == ids(written)


def test_only_transient_io_errors_are_retried():
    from prefect.states import Completed, Failed

    from flows.common import _transient

    def failed(exc):
        return Failed(data=exc)

    assert _transient(None, None, failed(PermissionError("held open by Excel")))
    assert _transient(None, None, failed(TimeoutError("network share")))
    assert not _transient(None, None, failed(FileNotFoundError("gone")))
    assert not _transient(None, None, failed(ValueError("a bug")))
    assert not _transient(None, None, Completed())
