"""The `reconcile` command. Help in Vietnamese with English beside it, for the justice officer.

This module knows nothing of Prefect: a run goes through Prefect only when an orchestrator is
registered (flows.cli, the installed console command, registers it) and a Prefect server is
configured (PREFECT_API_URL) or --prefect is given; otherwise the stages run directly, with no
temporary server to wait for.

Exit status, for scripts and schedulers: 0 done; 1 the run could not go on; 2 bad
configuration or invocation; 3 another run holds the output folder; 4 done, but some lists
were skipped (the console, the summary sheet and summary.json say which and why).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import click

from reconcile.config import ConfigError, RunConfig, build_config, load_config, parse_list_option
from reconcile.console import Console
from reconcile.pipeline import RunError
from reconcile.runlock import RunLocked

KINDS_HELP = "birth, death, vaccination, welfare, membership"
EXIT_SKIPPED = 4


class Orchestrator(Protocol):
    """Runs a configuration as a Prefect flow; returns the run folder."""

    def run(self, config: RunConfig, progress: Callable[[str], None]) -> Path: ...

    def nightly(self, settings, progress: Callable[[str], None]) -> Path: ...


ORCHESTRATOR: Orchestrator | None = None


def _use_prefect(choice: bool | None) -> bool:
    """--prefect / --no-prefect, else Prefect when a server is configured."""
    wanted = bool(os.environ.get("PREFECT_API_URL")) if choice is None else choice
    if wanted and ORCHESTRATOR is None:
        raise ConfigError(
            "Chạy qua Prefect cần lệnh reconcile đã cài đầy đủ / running through Prefect needs "
            "the installed reconcile command (flows.cli)"
        )
    return wanted


@contextmanager
def _explained_exits():
    """Our errors become a bilingual line and an exit code: 2 bad configuration, 3 another run
    holds the folder, 1 the run could not go on."""
    try:
        yield
    except ConfigError as exc:
        click.echo(f"Lỗi cấu hình / configuration error: {exc}", err=True)
        sys.exit(2)
    except RunLocked as exc:
        click.echo(f"Dừng / stopped: {exc}", err=True)
        sys.exit(3)
    except RunError as exc:
        click.echo(f"Lỗi / error: {exc}", err=True)
        sys.exit(1)


def _finish(run_dir: Path, started: float) -> None:
    """The closing lines, and exit status 4 when a list was skipped."""
    elapsed = time.perf_counter() - started
    click.echo(f"Xong trong {elapsed:.1f} giây / done in {elapsed:.1f} s")
    from reconcile.report.output import workbooks_written

    title, where = workbooks_written(run_dir)
    click.echo(f"{title}: {where}")
    click.echo(f"Các tệp kết quả / all outputs: {run_dir}")
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    skipped = summary.get("skipped_lists", [])
    if skipped:
        click.echo(
            f"CHÚ Ý: {len(skipped)} danh sách bị bỏ qua (xem trang Tổng hợp) / WARNING: "
            f"{len(skipped)} list(s) skipped (see the summary sheet):",
            err=True,
        )
        for item in skipped:
            click.echo(f"  ! {item['file']}: {item['reason']}", err=True)
        sys.exit(EXIT_SKIPPED)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="reconcile")
def main() -> None:
    """Đối soát dữ liệu dân cư với các danh sách của xã.
    / Reconcile the commune's population register against its other lists."""


@main.command()
@click.argument("config", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--register",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tệp dữ liệu dân cư (khi không dùng tệp cấu hình) / register file (without a config).",
)
@click.option(
    "--list",
    "lists",
    multiple=True,
    metavar="KIND=PATH",
    help=f"Một danh sách, lặp lại được; KIND: {KINDS_HELP} / a list, repeatable.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Thư mục kết quả / output folder (default: from the config, else ./out).",
)
@click.option(
    "--prefect/--no-prefect",
    "prefect",
    default=None,
    help="Chạy qua Prefect (mặc định: khi có PREFECT_API_URL) / run as a Prefect flow "
    "(default: when PREFECT_API_URL names a server).",
)
@click.option(
    "--engine",
    type=click.Choice(["pandas", "dask"]),
    default=None,
    help="Bộ máy ghép / matching engine (default: [engine] of the config, else pandas).",
)
@click.option(
    "--dask-address",
    default=None,
    help="Cụm Dask có sẵn / an existing Dask scheduler (default: a local cluster).",
)
@click.option(
    "--full",
    is_flag=True,
    help="Đọc và so lại tất cả, học lại mô hình / read and compare everything again and learn "
    "the model again (default: only what changed since the last run).",
)
def run(
    config: Path | None,
    register: Path | None,
    lists: tuple[str, ...],
    out: Path | None,
    prefect: bool | None,
    engine: str | None,
    dask_address: str | None,
    full: bool,
) -> None:
    """Chạy một lần đối soát / run one reconciliation.

    \b
    Với tệp cấu hình / with a config file:
      reconcile run sample_data/reconcile.toml
    Không cần tệp cấu hình / one-off, no config file:
      reconcile run --register dan_cu.xlsx --list death=khai_tu.xlsx --out ket_qua
    """
    started = time.perf_counter()
    with _explained_exits():
        if config and (register or lists):
            raise ConfigError(
                "Dùng tệp cấu hình hoặc --register/--list, không dùng cả hai / "
                "give a config file or --register/--list, not both"
            )
        if not config and not register:
            raise ConfigError(
                "Cần tệp cấu hình hoặc --register / a config file or --register is required"
            )
        if config:
            settings = load_config(config, out_dir=out)
        else:
            parsed = [parse_list_option(item) for item in lists]
            settings = build_config(
                {"kind": "register", "path": register},
                [{"kind": kind, "path": path} for kind, path in parsed],
                out or Path("out"),
            )
        if engine or dask_address:
            chosen = engine or ("dask" if dask_address else settings.engine.kind)
            settings = settings.model_copy(
                update={
                    "engine": settings.engine.model_copy(
                        update={"kind": chosen, "address": dask_address or settings.engine.address}
                    )
                }
            )
        if full:
            settings = settings.model_copy(
                update={"matching": settings.matching.model_copy(update={"incremental": False})}
            )
        register_path = settings.population_register.path
        if not settings.population_register.url and not register_path.exists():
            raise ConfigError(
                f"Không tìm thấy dữ liệu dân cư / register not found: {register_path}"
            )
        console = Console()
        try:
            if _use_prefect(prefect):
                run_dir = ORCHESTRATOR.run(settings, console)
            else:
                from reconcile.pipeline import run_locked

                _, run_dir = run_locked(settings, progress=console)
        finally:
            console.close()
    _finish(run_dir, started)


@main.command()
@click.option("--month", required=True, metavar="YYYY-MM", help="Tháng báo cáo / the month.")
@click.argument("config", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Thư mục kết quả của các lần chạy / the runs' output folder (default: from the config).",
)
@click.option("--store", help="URL kho quyết định / decisions store URL (SQLAlchemy).")
@click.option("--commune", help="Xã, khi kho dùng chung / the commune, in a shared store.")
def report(
    month: str, config: Path | None, out: Path | None, store: str | None, commune: str | None
) -> None:
    """Báo cáo tháng (gửi ngày 14) / the monthly report: found, resolved, open per list.

    \b
    reconcile report --month 2026-11 sample_data/reconcile.toml
    """
    from reconcile.review.monthly import month_bounds, write_monthly_report
    from reconcile.review.store import DEFAULT_SCOPE, DecisionStore, default_url

    try:
        month_bounds(month)
        settings = load_config(config, out_dir=out) if config else None
    except (ValueError, ConfigError) as exc:
        click.echo(f"Lỗi / error: {exc}", err=True)
        sys.exit(2)
    out_dir = settings.out_dir if settings else (out or Path("out"))
    url = store or (settings.review.store if settings else None) or default_url(out_dir)
    scope = commune or (settings.review.commune if settings else None) or DEFAULT_SCOPE
    decisions = DecisionStore(url, scope)
    workbook, text = write_monthly_report(
        decisions.history(), month, out_dir / "bao_cao_thang", decisions.estimates()
    )
    click.echo(text.read_text(encoding="utf-8"))
    click.echo(f"Báo cáo / report: {workbook}")


@main.group()
def nightly() -> None:
    """Chạy hằng đêm trên hộp thư / the nightly run over an inbox folder."""


def _nightly_options(fn):
    fn = click.option("--commune", help="Xã, khi kho dùng chung / the commune, shared store.")(fn)
    fn = click.option("--store", help="URL kho quyết định / decisions store URL.")(fn)
    fn = click.option(
        "--keep",
        "keep_runs",
        type=int,
        default=30,
        show_default=True,
        help="Giữ N lần chạy gần nhất / keep the last N run folders.",
    )(fn)
    fn = click.option(
        "--archive",
        type=click.Path(file_okay=False, path_type=Path),
        help="Nơi lưu tệp đã xử lý / where processed files go "
        "(default: INBOX_luu_tru beside the inbox).",
    )(fn)
    fn = click.option(
        "--out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Thư mục kết quả / output folder.",
    )(fn)
    fn = click.option(
        "--inbox",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Hộp thư: register/, birth/, death/, vaccination/, welfare/, "
        "membership/ / the inbox folder.",
    )(fn)
    return fn


@nightly.command("run")
@_nightly_options
@click.option(
    "--prefect/--no-prefect",
    "prefect",
    default=None,
    help="Chạy qua Prefect (mặc định: khi có PREFECT_API_URL) / as a Prefect flow.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Đọc và so lại tất cả, học lại mô hình / read and compare everything again and learn "
    "the model again (default: only what changed since the last run).",
)
def nightly_run(inbox, out, archive, keep_runs, store, commune, prefect, full) -> None:
    """Chạy ngay một lần / run the nightly reconciliation once, now."""
    from reconcile.nightly import nightly_settings, run_nightly

    started = time.perf_counter()
    with _explained_exits():
        settings = nightly_settings(inbox, out, archive, keep_runs, store, commune, full)
        console = Console()
        try:
            if _use_prefect(prefect):
                run_dir = ORCHESTRATOR.nightly(settings, console)
            else:
                _, run_dir = run_nightly(settings, progress=console)
        finally:
            console.close()
    _finish(Path(run_dir), started)


@main.command()
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--keep", type=int, required=True, help="Giữ N lần chạy / keep the last N runs.")
def purge(out: Path, keep: int) -> None:
    """Xóa các lần chạy cũ / delete all but the last N run folders."""
    from reconcile.nightly import purge_runs
    from reconcile.runlock import run_lock

    try:
        with run_lock(out):
            removed = purge_runs(out, keep)
    except (ValueError, RunLocked) as exc:
        click.echo(f"Dừng / stopped: {exc}", err=True)
        sys.exit(2)
    click.echo(f"Đã xóa {len(removed)} lần chạy cũ / removed {len(removed)} old runs")
