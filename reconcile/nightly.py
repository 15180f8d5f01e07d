"""The nightly run's side of the file system: an inbox with one folder per list kind, archiving
what was processed, and keeping only the last N run folders.

    inbox/register/      the police register (the newest file is used; older ones are archived)
    inbox/birth/ death/ vaccination/ welfare/ membership/   any number of lists each
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reconcile.config import ConfigError, RunConfig, build_config
from reconcile.kinds import ListKind
from reconcile.pipeline import StageRunner, call_directly, run_reconciliation
from reconcile.report.output import STAGING_PREFIX
from reconcile.runlock import run_lock

LIST_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".csv"}


class NightlySettings(BaseModel):
    """The nightly flow's parameters: paths and options only, never personal data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: Path
    out_dir: Path
    archive_dir: Path | None = None
    keep_runs: int = Field(30, ge=1, le=3650)
    store: str | None = None
    commune: str | None = None  # required with a shared store (config.ReviewConfig)
    # read and compare everything again, learn the model again (default: only what changed)
    full: bool = False

    @field_validator("inbox")
    @classmethod
    def _inbox_exists(cls, inbox: Path) -> Path:
        if not inbox.is_dir():
            raise ValueError(f"hộp thư không tồn tại / the inbox folder does not exist: {inbox}")
        return inbox

    @property
    def archive(self) -> Path:
        return self.archive_dir or self.inbox.parent / f"{self.inbox.name}_luu_tru"


def nightly_settings(
    inbox: str | Path,
    out_dir: str | Path,
    archive_dir: str | Path | None = None,
    keep_runs: int = 30,
    store: str | None = None,
    commune: str | None = None,
    full: bool = False,
) -> NightlySettings:
    """Validated parameters, or a ConfigError that says what is wrong in both languages."""
    try:
        return NightlySettings(
            inbox=inbox,
            out_dir=out_dir,
            archive_dir=archive_dir,
            keep_runs=keep_runs,
            store=store,
            commune=commune,
            full=full,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(
            f"Tham số chạy đêm không hợp lệ / invalid nightly parameters: {problems}"
        ) from None


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        (
            p
            for p in folder.iterdir()
            if p.is_file()
            and p.suffix.lower() in LIST_SUFFIXES
            and not p.name.startswith(("~$", "."))
        ),
        key=lambda p: (p.stat().st_mtime, p.name),
    )


def inbox_config(settings: NightlySettings) -> RunConfig:
    registers = _files(settings.inbox / ListKind.REGISTER.value)
    if not registers:
        raise ConfigError(
            f"Hộp thư chưa có dữ liệu dân cư trong {settings.inbox / 'register'} / "
            f"no register in {settings.inbox / 'register'}"
        )
    lists = [
        {"kind": kind.value, "path": path, "name": f"{kind.value}/{path.stem}"}
        for kind in ListKind
        if kind is not ListKind.REGISTER
        for path in _files(settings.inbox / kind.value)
    ]
    review = {"store": settings.store, "commune": settings.commune}
    return build_config(
        {"kind": "register", "path": registers[-1]},
        lists,
        settings.out_dir,
        matching={"incremental": not settings.full},
        source=str(settings.inbox),
        review=review,
    )


def archive_inputs(config: RunConfig, settings: NightlySettings, run_id: str) -> list[Path]:
    """Move the processed lists, and registers older than the one used, out of the inbox.
    The register in use stays: it is the register until the police drop a newer one."""
    moved = []
    target = settings.archive / run_id
    older_registers = [
        p
        for p in _files(settings.inbox / ListKind.REGISTER.value)
        if p != config.population_register.path
    ]
    for path in [*(spec.path for spec in config.lists), *older_registers]:
        if not path.exists():
            continue
        destination = target / path.parent.name / path.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(destination))
        destination.chmod(0o600)  # personal data: owner-only, like the run folders
        moved.append(destination)
    for folder in (settings.archive, target, *{m.parent for m in moved}):
        if folder.is_dir():
            folder.chmod(0o700)
    return moved


def run_folders(out_dir: Path) -> list[Path]:
    """Finished run folders, oldest first (their names are their start times)."""
    if not out_dir.is_dir():
        return []
    return sorted(
        p
        for p in out_dir.iterdir()
        if p.is_dir() and (p / "summary.json").is_file() and not p.name.startswith(".")
    )


def remove_stale_staging(out_dir: Path) -> int:
    """Staging folders left by a killed run. Call only while holding the run lock."""
    if not out_dir.is_dir():
        return 0
    stale = [p for p in out_dir.glob(f"{STAGING_PREFIX}*") if p.is_dir()]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return len(stale)


def purge_runs(out_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` run folders; return what was deleted."""
    if keep < 1:
        raise ValueError("keep phải >= 1 / keep must be at least 1")
    old = run_folders(out_dir)[:-keep]
    for path in old:
        shutil.rmtree(path)
    return old


def run_nightly(settings: NightlySettings, call: StageRunner | None = None, progress=None):
    """One nightly run: under the lock, clear what a killed run left, reconcile the inbox, then
    (only after the outputs exist) archive the inputs and apply retention."""
    call = call or call_directly
    say = progress or (lambda _: None)
    from reconcile.leftovers import end_leftovers

    with run_lock(settings.out_dir):
        ended = end_leftovers(settings.out_dir)
        if ended:
            say(f"Đã dừng {ended} tiến trình lần chạy trước để lại / ended {ended} leftovers")
        removed = remove_stale_staging(settings.out_dir)
        if removed:
            say(f"Đã dọn {removed} thư mục dở dang / removed {removed} partial folders")
        config = inbox_config(settings)
        result, run_dir = run_reconciliation(config, call, say)
        moved = call(archive_inputs, config, settings, result.run_id)
        purged = call(purge_runs, settings.out_dir, settings.keep_runs)
        say(
            f"Lưu trữ {len(moved)} tệp, xóa {len(purged)} lần chạy cũ / archived {len(moved)} "
            f"files, purged {len(purged)} old runs"
        )
    return result, run_dir


# The nightly run's own stages (flows/ makes a Prefect task of each, beside pipeline.STAGES).
NIGHTLY_STAGES = (archive_inputs, purge_runs)
