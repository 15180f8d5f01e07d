"""The nightly reconciliation: whatever the offices dropped in the inbox, every night at 02:00
Asia/Ho_Chi_Minh, under the output folder's lock; inputs archived only after success."""

from __future__ import annotations

from prefect import flow
from prefect.schedules import Cron

from flows.common import progress, publish_artifacts, run_stage
from reconcile.nightly import NightlySettings, nightly_settings, run_nightly

NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Asia/Ho_Chi_Minh"
DEPLOYMENT_NAME = "nightly"


@flow(name="reconcile-nightly", persist_result=False, log_prints=False)
def nightly_flow(
    inbox: str,
    out_dir: str,
    archive_dir: str | None = None,
    keep_runs: int = 30,
    store: str | None = None,
    commune: str | None = None,
    full: bool = False,
) -> str:
    """Reconcile the inbox (only what changed since the last night, unless `full`); return the
    run's output folder."""
    settings = nightly_settings(inbox, out_dir, archive_dir, keep_runs, store, commune, full)
    result, run_dir = run_nightly(settings, call=run_stage, progress=progress())
    publish_artifacts(result, run_dir)
    return str(run_dir)


def nightly_deployment(
    settings: NightlySettings, cron: str = NIGHTLY_CRON, timezone: str = TIMEZONE
):
    """The deployment `reconcile nightly serve` keeps running: same name, same schedule, so a
    restart of the serve process or the server re-registers the same thing."""
    return nightly_flow.to_deployment(
        name=DEPLOYMENT_NAME,
        schedules=[Cron(cron, timezone=timezone)],
        parameters={
            "inbox": str(settings.inbox),
            "out_dir": str(settings.out_dir),
            "archive_dir": str(settings.archive_dir) if settings.archive_dir else None,
            "keep_runs": settings.keep_runs,
            "store": settings.store,
            "commune": settings.commune,
        },
        description="Đối soát hằng đêm / nightly reconciliation",
    )
