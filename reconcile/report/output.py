"""Write a run's folder all at once: everything goes into a hidden staging folder, which is renamed
into place only when complete. A crash leaves earlier runs untouched and no partial folder under
its final name. Files are readable by their owner only (personal data)."""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

import pandas as pd

from reconcile.report.files import summary, write_machine_files
from reconcile.report.trust import trust_html
from reconcile.report.workbook import write_review_workbook

STAGING_PREFIX = ".partial-"


def _owner_only(path: Path) -> None:
    # On Windows chmod only toggles read-only; the user profile's ACLs already keep files private.
    path.chmod(0o700 if path.is_dir() else 0o600)


def _free_name(out_dir: Path, run_id: str) -> Path:
    target, n = out_dir / run_id, 1
    while target.exists():
        n += 1
        target = out_dir / f"{run_id}-{n}"
    return target


# Rows a finding sheet may hold below its header (Excel's and LibreOffice's limit: 1,048,576).
SHEET_ROW_LIMIT = 1_048_575


def _commune_of(findings) -> pd.Series:
    register = findings.get("register_commune")
    listed = findings.get("list_commune")
    if register is None:
        return pd.Series("", index=findings.index)
    return register.where(register.astype(str).ne(""), listed).fillna("").astype(str)


def workbook_parts(result) -> list[tuple[str, object]]:
    """review.xlsx, or, when some finding sheet would pass Excel's row limit (a province), one
    review_<commune>.xlsx per commune (findings without a known commune in review_chua_ro_xa).
    Every finding is in exactly one workbook."""
    counts = result.findings["type"].value_counts()
    if not len(counts) or counts.max() <= SHEET_ROW_LIMIT:
        return [("review.xlsx", result)]
    parts = []
    communes = _commune_of(result.findings)
    for commune, rows in result.findings.groupby(communes, sort=True):
        slug = re.sub(r"[^a-z0-9]+", "_", str(commune)).strip("_") or "chua_ro_xa"
        if rows["type"].value_counts().max() > SHEET_ROW_LIMIT:
            raise ValueError(  # one commune past the limit: nothing sensible to split by
                f"{len(rows)} sai lệch của xã {commune} vượt giới hạn một trang Excel / "
                f"findings of commune {commune} exceed an Excel sheet"
            )
        parts.append((f"review_{slug}.xlsx", replace(result, findings=rows.reset_index(drop=True))))
    return parts


def for_workbook(result):
    """What write_review_workbook reads of a run (its findings, rejected rows, review and
    trust), without the tables it does not: what a helper process is sent."""
    register = replace(result.register, people=None, rejected=None, layout=None, raw_keys=None)
    empty = {"links": result.links.iloc[:0], "layout": result.layout.iloc[:0]}
    return replace(result, register=register, lists=[], **empty)


def _start_workbooks(parts, data: dict, staging: Path, token: str, helper: Executor | None):
    """Each workbook part with its Future when a helper process writes it, else None."""
    if helper is None:
        return [(name, part, None) for name, part in parts]
    started = []
    for name, part in parts:
        try:
            slim = for_workbook(part)
            future = helper.submit(write_review_workbook, slim, data, staging / name, token)
        except (BrokenProcessPool, RuntimeError):  # the helper is gone: written here
            future = None
        started.append((name, part, future))
    return started


def warm_up() -> None:
    """Run in a helper process as soon as it starts: unpickling this imports the writers."""


def _abandon(started) -> None:
    """Let the helper finish or drop what it was given, so nothing writes into a staging
    folder after it is removed."""
    for _, _, future in started:
        if future is not None and not future.cancel():
            try:
                future.exception()
            except BaseException:  # noqa: BLE001 - only waiting for it to end
                pass


def _finish_workbooks(started, data: dict, staging: Path, token: str) -> None:
    for name, part, future in started:
        if future is not None:
            try:
                future.result()
                continue
            except BrokenProcessPool:  # the helper died: this process writes the part again
                pass
        write_review_workbook(part, data, staging / name, token)


def write_run(
    result,
    out_dir: Path,
    token: str = "",
    before_publish=None,
    helper: Executor | None = None,
    meanwhile=None,
) -> Path:
    """Write everything into a hidden staging folder; call `before_publish` (the store records
    the issued findings) and only then rename the folder into place. With `helper` (a warm
    process pool), the workbooks are written there while this process writes the rest and
    calls `meanwhile`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = _free_name(out_dir, result.run_id)
    staging = out_dir / f"{STAGING_PREFIX}{target.name}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(mode=0o700)
    started = []
    try:
        data = summary(result)
        started = _start_workbooks(workbook_parts(result), data, staging, token, helper)
        write_machine_files(result, staging, data)
        (staging / "trust.html").write_text(trust_html(result, data), encoding="utf-8")
        if meanwhile is not None:
            meanwhile()
        _finish_workbooks(started, data, staging, token)
        # summary.json is touched last: a review.xlsx newer than it was edited by an officer
        # (review_workbooks relies on this to read decisions only from edited workbooks)
        os.utime(staging / "summary.json")
        for path in staging.iterdir():
            _owner_only(path)
        _owner_only(staging)
        if before_publish is not None:
            before_publish()
        os.replace(staging, target)
    except BaseException:
        _abandon(started)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
