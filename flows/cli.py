"""The installed `reconcile` command: reconcile.cli's commands, with Prefect as the orchestrator
of runs when a Prefect server is configured (or --prefect is given), and `nightly serve`.

Prefect's own per-task lines and hints go to a log file in the output folder; the console shows
our progress lines and Prefect's errors only.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from reconcile import cli
from reconcile.config import ConfigError
from reconcile.nightly import nightly_settings

main = cli.main
LOG_NAME = "reconcile.log"


def _prefect_defaults() -> None:
    """Embedded defaults for a laptop: no analytics, time for a slow machine to start the
    temporary API when --prefect is given without a server (stack-notes.md)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _quiet_console(out_dir: Path) -> None:
    """Prefect's console handler shows errors only; everything Prefect says goes to the log
    file in the output folder (owner-only, like the runs; it holds no personal data)."""
    import prefect  # noqa: F401  (configures Prefect's logging)
    from prefect.logging.handlers import PrefectConsoleHandler

    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, PrefectConsoleHandler):
            handler.setLevel(logging.ERROR)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOG_NAME
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
        path.chmod(0o600)


class PrefectOrchestrator:
    def _start(self, out_dir: Path, progress) -> None:
        _prefect_defaults()
        if not os.environ.get("PREFECT_API_URL"):
            progress(
                "Khởi động Prefect tạm thời (có thể mất 20 giây) / starting a temporary Prefect "
                "API (may take 20 s)…"
            )
        _quiet_console(out_dir)
        import flows.common

        flows.common.CONSOLE = progress

    def run(self, config, progress) -> Path:
        self._start(config.out_dir, progress)
        from flows.common import task_runner_for
        from flows.reconcile_flow import reconcile_flow

        runner = task_runner_for(config.engine)
        chosen = reconcile_flow.with_options(task_runner=runner) if runner else reconcile_flow
        return Path(chosen(config=config))

    def nightly(self, settings, progress) -> Path:
        self._start(settings.out_dir, progress)
        from flows.nightly_flow import nightly_flow

        return Path(
            nightly_flow(
                inbox=str(settings.inbox),
                out_dir=str(settings.out_dir),
                archive_dir=str(settings.archive_dir) if settings.archive_dir else None,
                keep_runs=settings.keep_runs,
                store=settings.store,
                commune=settings.commune,
                full=settings.full,
            )
        )


cli.ORCHESTRATOR = PrefectOrchestrator()


@cli.nightly.command("serve")
@cli._nightly_options
@click.option(
    "--cron",
    default="0 2 * * *",
    show_default=True,
    help="Lịch (giờ Việt Nam) / schedule, Asia/Ho_Chi_Minh time.",
)
def nightly_serve(inbox, out, archive, keep_runs, store, commune, cron) -> None:
    """Đăng ký lịch và phục vụ các lần chạy / register the schedule and serve its runs.

    Cần một Prefect server đang chạy (PREFECT_API_URL) / needs a running Prefect server.
    """
    if not os.environ.get("PREFECT_API_URL"):
        click.echo(
            "Cần PREFECT_API_URL trỏ tới Prefect server (xem README, Chạy hằng đêm) / "
            "PREFECT_API_URL must point at a Prefect server (README, Nightly run)",
            err=True,
        )
        sys.exit(2)
    try:
        settings = nightly_settings(inbox, out, archive, keep_runs, store, commune)
    except ConfigError as exc:
        click.echo(f"Lỗi cấu hình / configuration error: {exc}", err=True)
        sys.exit(2)
    from prefect import serve

    from flows.nightly_flow import nightly_deployment

    # pause_on_shutdown=False: stopping this process must not pause the nightly schedule
    serve(nightly_deployment(settings, cron=cron), pause_on_shutdown=False)
