"""A one-off reconciliation as a Prefect flow: one task per stage, nothing else.

The flow takes the run configuration itself (paths and options only, never personal data:
Prefect stores its parameters). Tasks neither cache (hashing big frames costs seconds) nor
persist results (they would be pickles of personal data on disk): stack-notes.md.
"""

from __future__ import annotations

from prefect import flow

from flows.common import on_task_runner_cluster, progress, publish_artifacts, run_stage
from reconcile.config import RunConfig
from reconcile.pipeline import run_locked


@flow(name="reconcile", persist_result=False, log_prints=False)
def reconcile_flow(config: RunConfig) -> str:
    """Reconcile the register against the lists; return the run's output folder. With the
    Dask engine the flow runs on a DaskTaskRunner (task_runner_for), and the matching compares
    on that runner's cluster."""
    config = on_task_runner_cluster(config)
    result, run_dir = run_locked(config, call=run_stage, progress=progress())
    publish_artifacts(result, run_dir)
    return str(run_dir)
