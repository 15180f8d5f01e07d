"""A one-off reconciliation as a Prefect flow: one task per stage, nothing else.

Parameters are paths and options only, and tasks neither cache (hashing big frames costs seconds)
nor persist results (they would be pickles of personal data on disk): stack-notes.md.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from flows.common import publish_artifacts, run_stage
from reconcile.config import build_config, load_config, parse_list_option
from reconcile.pipeline import run_locked


@flow(name="reconcile", persist_result=False, log_prints=False)
def reconcile_flow(
    config_path: str | None = None,
    register_path: str | None = None,
    lists: list[str] | None = None,
    out_dir: str | None = None,
) -> str:
    """Reconcile the register against the lists; return the run's output folder."""
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
    result, run_dir = run_locked(config, call=run_stage, progress=get_run_logger().info)
    publish_artifacts(result, run_dir)
    return str(run_dir)
