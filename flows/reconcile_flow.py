"""The reconciliation as a Prefect flow: one task per stage, nothing else.

Parameters are paths and options only, and tasks neither cache (hashing big frames costs seconds)
nor persist results (they would be pickles of personal data on disk): stack-notes.md.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from reconcile.config import build_config, load_config, parse_list_option
from reconcile.pipeline import STAGES, run_reconciliation

TASKS = {
    name: task(fn, name=name, cache_policy=NO_CACHE, persist_result=False)
    for name, fn in STAGES.items()
}


def _run_stage(stage: str, *args):
    return TASKS[stage](*args)


@flow(name="reconcile", persist_result=False, log_prints=False)
def reconcile_flow(
    config_path: str | None = None,
    register_path: str | None = None,
    lists: list[str] | None = None,
    out_dir: str | None = None,
) -> str:
    """Reconcile the register against the lists; return the run's output folder."""
    logger = get_run_logger()
    out = Path(out_dir) if out_dir else None
    if config_path:
        config = load_config(Path(config_path), out_dir=out)
    else:
        parsed = [parse_list_option(item) for item in lists or []]
        config = build_config(
            {"kind": "register", "path": register_path},
            [{"kind": kind, "path": path} for kind, path in parsed],
            out or Path("out"),
        )
    result, run_dir = run_reconciliation(config, call=_run_stage, progress=logger.info)
    counts = result.findings["type"].value_counts()
    create_table_artifact(
        key="reconcile-findings",
        table=[{"type": t, "count": int(n)} for t, n in counts.items()],
        description=f"Sai lệch theo loại / findings by type, run {result.run_id}",
    )
    return str(run_dir)
