import json

import pandas as pd
import pytest
from click.testing import CliRunner

from reconcile.cli import main
from reconcile.config import load_config

from conftest import SAMPLE_DIR
from synthetic.evaluate import score_findings


def _run_dir(output: str):
    line = next(line for line in output.splitlines() if line.startswith("Các tệp kết quả"))
    from pathlib import Path

    return Path(line.split(": ", 1)[1])


def _one_off(out, register, **lists):
    """`reconcile run --no-prefect` without a config file: a register and KIND=PATH lists."""
    args = ["run", "--no-prefect", "--register", str(register), "--out", str(out)]
    for kind, path in lists.items():
        args += ["--list", f"{kind}={path}"]
    return CliRunner().invoke(main, args)


def test_help_is_in_vietnamese_with_english_beside_it():
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0
    assert "Chạy một lần đối soát / run one reconciliation" in result.output
    assert "KIND=PATH" in result.output


def test_one_off_run_without_a_config_file(tmp_path):
    result = _one_off(
        tmp_path,
        SAMPLE_DIR / "dan_cu.xlsx",
        death=SAMPLE_DIR / "khai_tu.xlsx",
        welfare=SAMPLE_DIR / "tro_cap_xa_hoi.xlsx",
    )
    assert result.exit_code == 0, result.output
    run_dir = _run_dir(result.output)
    assert (run_dir / "review.xlsx").is_file()
    findings = pd.read_csv(run_dir / "findings.csv", dtype=str, encoding="utf-8-sig")
    assert {"deceased_still_active", "benefit_to_deceased"} <= set(findings["type"])
    assert set(findings["source_file"]) <= {"dan_cu.xlsx", "khai_tu.xlsx", "tro_cap_xa_hoi.xlsx"}


def test_a_second_run_reads_and_compares_only_what_changed_unless_full(tmp_path):
    config = SAMPLE_DIR / "reconcile.toml"
    outputs, summaries = [], []
    for extra in ([], [], ["--full"], []):
        result = CliRunner().invoke(
            main, ["run", "--no-prefect", str(config), "--out", str(tmp_path), *extra]
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
        summary = _run_dir(result.output) / "summary.json"
        summaries.append(json.loads(summary.read_text(encoding="utf-8"))["matching"])
    first, second, full, after_full = outputs
    assert "unchanged since the last run" not in first and "recalled" not in first
    assert second.count("unchanged since the last run") == 1 + len(load_config(config).lists)
    assert summaries[1]["recalled"] == summaries[1]["pairs"] > 0
    assert not summaries[1]["retrained"]
    assert "unchanged since the last run" not in full and "recalled" not in full
    assert summaries[2] == {**summaries[0], "retrained": True}
    # the full run keyed its rows as a night does: the next night recalls every pair from it
    assert summaries[3]["recalled"] == summaries[3]["pairs"] > 0


def test_an_unreadable_list_is_skipped_and_the_run_goes_on(tmp_path):
    broken = tmp_path / "hong.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    result = _one_off(
        tmp_path / "out",
        SAMPLE_DIR / "dan_cu.xlsx",
        membership=broken,
        death=SAMPLE_DIR / "khai_tu.xlsx",
    )
    assert result.exit_code == 4, result.output  # done, but a list was skipped
    assert "! hong.xlsx: " in result.output and "Cannot open hong.xlsx" in result.output
    summary = json.loads((_run_dir(result.output) / "summary.json").read_text(encoding="utf-8"))
    (skipped,) = summary["skipped_lists"]
    assert skipped["file"] == "hong.xlsx"
    assert "Cannot open hong.xlsx" in skipped["reason"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--list", "death=x.xlsx"], "--register is required"),
        (["--register", "nowhere.xlsx"], "register not found"),
        (["--register", "r.xlsx", "--list", "taxes=x.xlsx"], "unknown list kind"),
        (["--register", "r.xlsx", "--list", "death"], "KIND=PATH"),
    ],
)
def test_bad_invocations_explain_themselves(tmp_path, args, message):
    (tmp_path / "r.xlsx").write_bytes(b"")
    result = CliRunner().invoke(
        main, ["run", "--no-prefect", *args, "--out", str(tmp_path)], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert message in result.output


def test_the_sample_commune_end_to_end_through_the_prefect_flow(tmp_path, monkeypatch):
    """The sample commune as the installed command runs it through a Prefect flow (--prefect,
    on Prefect's temporary API here), scored on the planted truth. Prefect holds no stage's
    result for the flow's length: tonight's matching memory and scored pairs are let go before
    the review, as when the stages are called directly (test_incremental)."""
    from held import HeldAtReview

    import flows.reconcile_flow
    from flows.cli import main as installed

    call = HeldAtReview(flows.reconcile_flow.run_stage)
    monkeypatch.setattr(flows.reconcile_flow, "run_stage", call)
    result = CliRunner().invoke(
        installed, ["run", "--prefect", str(SAMPLE_DIR / "reconcile.toml"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert call.held["memory"] == [False, False]
    assert call.held["scored"] and not any(call.held["scored"])  # one per list
    run_dir = _run_dir(result.output)
    # the console shows our progress lines; Prefect's per-task lines and links go to the log
    assert "[5/5]" in result.output
    assert "Finished in state" not in result.output and "prefect.io" not in result.output
    assert "Finished in state" in (tmp_path / "reconcile.log").read_text(encoding="utf-8")
    found = pd.read_csv(run_dir / "findings.csv", dtype=str, encoding="utf-8-sig")
    truth = pd.read_csv(SAMPLE_DIR / "truth" / "findings.csv", dtype=str)
    scores = score_findings(found, truth).set_index("type")
    assert len(scores) == 12  # every finding type is planted and found
    # each type at most one miss and one false alarm (a row with two or three planted errors
    # can rightly come out ambiguous); over all types, 97% or better
    assert (scores["planted"] - scores["true_positive"] <= 1).all(), scores
    assert (scores["found"] - scores["true_positive"] <= 1).all(), scores
    assert scores["true_positive"].sum() >= 0.97 * scores["planted"].sum(), scores
    assert scores["true_positive"].sum() >= 0.97 * scores["found"].sum(), scores

    links = pd.read_csv(run_dir / "links.csv", dtype=str, encoding="utf-8-sig").fillna("")
    true_links = pd.read_csv(SAMPLE_DIR / "truth" / "links.csv", dtype=str).fillna("")
    merged = links.merge(true_links, on=["source_file", "source_row"], suffixes=("", "_true"))
    assert len(merged) == len(links) == len(true_links)
    certain = merged[merged["ambiguous"] == "0"]
    assert (certain["register_row"] == certain["register_row_true"]).mean() >= 0.99

    rejected = pd.read_csv(run_dir / "rejected.csv", dtype=str, encoding="utf-8-sig")
    true_rejected = pd.read_csv(SAMPLE_DIR / "truth" / "rejected.csv", dtype=str)
    assert sorted(
        zip(rejected["source_file"], rejected["source_row"], rejected["column"], strict=True)
    ) == sorted(
        zip(
            true_rejected["source_file"],
            true_rejected["source_row"],
            true_rejected["column"],
            strict=True,
        )
    )


def test_progress_and_errors_carry_no_personal_data(tmp_path, caplog):
    """Everything the run says while working: counts and file names, never a name or ID."""
    from reconcile.config import load_config
    from reconcile.pipeline import run_reconciliation

    said: list[str] = []
    caplog.set_level("DEBUG")
    config = load_config(SAMPLE_DIR / "reconcile.toml", out_dir=tmp_path)
    result, _ = run_reconciliation(config, progress=said.append)
    text = "\n".join(said) + caplog.text + "\n".join(result.rejected["reason"])
    register = result.register.people
    assert said and all(name not in text for name in register["name_raw"])
    assert all(pid not in text for pid in register["pid"].dropna())
