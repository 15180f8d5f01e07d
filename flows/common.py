"""What both flows share: each stage as a Prefect task, and the run's summary as artifacts.

Prefect keeps task state messages (exception text included) in its database, where a log filter
does not reach, so a stage's unexpected exception is re-raised as its type and stage name only.
Our own errors carry file names and row numbers, never cell values, and pass through.
"""

from __future__ import annotations

import functools
from collections import Counter

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from reconcile.config import ConfigError, EngineConfig, RunConfig
from reconcile.ingest import UnreadableListError
from reconcile.kinds import KIND_LABELS, ListKind
from reconcile.nightly import NIGHTLY_STAGES
from reconcile.pipeline import STAGES, RunError, ingest_stage, record_stage, report_stage
from reconcile.report.output import workbooks_written
from reconcile.runlock import RunLocked
from reconcile.validate import MissingColumnsError

OUR_ERRORS = (UnreadableListError, MissingColumnsError, RunError, ConfigError, RunLocked, OSError)


# Where the officer's console is, when the flow runs inside the `reconcile` command (flows.cli
# sets it): our progress lines go there as well as to the flow run's log.
CONSOLE = None


def progress():
    """The flow run's progress callback: our own lines, counts and file names only."""
    logger = get_run_logger()

    def say(message: str) -> None:
        logger.info(message)
        if CONSOLE is not None:
            CONSOLE(message)

    return say


class StageError(Exception):
    """An unexpected failure, described without the data that caused it."""


def _without_values(stage: str, fn):
    @functools.wraps(fn)
    def run(*args):
        try:
            return fn(*args)
        except OUR_ERRORS:
            raise
        except Exception as exc:
            raise StageError(f"{stage}: {type(exc).__name__}") from None

    return run


def _transient(task, task_run, state) -> bool:
    """Retry what a second try can fix: a file held open by Excel, a share that blinked."""
    try:
        state.result()
    except (FileNotFoundError, IsADirectoryError):
        return False
    except OSError:
        return True
    except Exception:
        return False
    return False


_RETRIED = (ingest_stage, report_stage, record_stage)


def _task_of(fn):
    name = fn.__name__.removesuffix("_stage")
    return task(
        _without_values(name, fn),
        name=name,
        cache_policy=NO_CACHE,
        persist_result=False,
        retries=2 if fn in _RETRIED else 0,
        retry_delay_seconds=5,
        retry_condition_fn=_transient,
    )


# one Prefect task per stage function, built once
TASKS = {fn: _task_of(fn) for fn in (*STAGES, *NIGHTLY_STAGES)}


def run_stage(stage, /, *args, **kwargs):
    """pipeline.StageRunner that runs each stage as its Prefect task."""
    return TASKS[stage](*args, **kwargs)


def task_runner_for(engine: EngineConfig):
    """The flow's task runner: with the Dask engine, prefect-dask's DaskTaskRunner on the
    cluster at engine.address, else on a LocalCluster of engine.workers processes for the
    flow's duration; otherwise Prefect's default."""
    if engine.kind != "dask":
        return None
    from prefect_dask import DaskTaskRunner

    if engine.address:
        return DaskTaskRunner(address=engine.address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": engine.workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": ":0",
        }
    )


def on_task_runner_cluster(config: RunConfig) -> RunConfig:
    """The config with the Dask engine pointed at the flow's DaskTaskRunner's cluster, so the
    matching runs where the flow's tasks do (one cluster, not a second LocalCluster)."""
    if config.engine.kind != "dask":
        return config
    from prefect.context import FlowRunContext
    from prefect_dask import DaskTaskRunner

    context = FlowRunContext.get()
    if context is None or not isinstance(context.task_runner, DaskTaskRunner):
        return config
    # the runner's client starts (or connects to) its cluster on first use
    address = context.task_runner.client.scheduler.address
    return config.model_copy(
        update={"engine": config.engine.model_copy(update={"address": address})}
    )


def publish_artifacts(result, run_dir) -> None:
    """Counts, rejected rows (where and why, no values), skipped lists, the workbook's path.
    A skipped list is also a warning in the flow run's log."""
    logger = get_run_logger()
    for item in [result.register, *result.lists]:
        if item.counts.skipped:
            logger.warning(f"Bỏ qua / skipped {item.counts.file}: {item.counts.skipped}")
    by_type = Counter(result.findings["type"])
    by_list = Counter(result.findings["list_label"])
    create_table_artifact(
        key="reconcile-findings-by-type",
        table=[{"type": t, "count": n} for t, n in sorted(by_type.items())],
        description=f"Sai lệch theo loại / findings by type, run {result.run_id}",
    )
    create_table_artifact(
        key="reconcile-findings-by-list",
        table=[{"list": t, "count": n} for t, n in sorted(by_list.items())],
        description=f"Sai lệch theo danh sách / findings by list, run {result.run_id}",
    )
    create_table_artifact(
        key="reconcile-rejected-rows",
        table=result.rejected.astype(str).to_dict("records") or [{"rejected": "0"}],
        description="Dòng bị loại: tệp, trang, dòng, cột, lý do / rejected rows",
    )
    create_table_artifact(
        key="reconcile-estimates",
        table=[
            {
                "list": label,
                "matched": e.matched,
                "false_links": round(e.false_links, 1),
                "false_links_interval": f"{e.false_links_interval[0]}-{e.false_links_interval[1]}",
                "unmatched": e.unmatched,
                "missed_residents": round(e.missed_residents, 1),
                "possible": e.possible,
                "true_possible": round(e.true_possible, 1),
                "check_marked": (e.checked or {}).get("marked", 0),
                "check_wrong": (e.checked or {}).get("wrong", 0),
            }
            for label, e in result.trust.estimates.items()
        ]
        or [{"list": "-"}],
        description="Ước tính sai số không cần nhãn / label-free error estimates (numbers only)",
    )
    inputs = [result.register, *result.lists]
    lines = [
        f"# Đối soát {result.run_id}",
        "",
        "{}: `{}`".format(*workbooks_written(run_dir)),
        "",
        "| danh sách | loại | đọc | hợp lệ | bị loại |",
        "|---|---|---|---|---|",
    ]
    for item in inputs:
        c = item.counts
        lines.append(
            f"| {c.label} | {KIND_LABELS[ListKind(c.kind)]} | {c.rows_read} | "
            f"{c.valid} | {c.rejected} |"
        )
    skipped = [item.counts for item in inputs if item.counts.skipped]
    if skipped:
        lines += ["", "## Bỏ qua / skipped", *(f"- {c.file}: {c.skipped}" for c in skipped)]
    create_markdown_artifact(
        "\n".join(lines), key="reconcile-run-summary", description="Tóm tắt lần chạy / run summary"
    )
