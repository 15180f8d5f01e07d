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
from reconcile.report.workbook import (
    SHEET_ROW_LIMIT,
    UNPLACED_WORKBOOK,
    ReviewWorkbook,
    write_review_workbook,
)

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


def _commune_of(findings) -> pd.Series:
    register = findings.get("register_commune")
    listed = findings.get("list_commune")
    if register is None:
        return pd.Series("", index=findings.index)
    return register.where(register.astype(str).ne(""), listed).fillna("").astype(str)


# Past this many findings over several communes (a province), each commune has its own
# workbook: the police of a commune review theirs, a workbook of a hundred thousand rows opens
# slowly, and the process writing the workbooks then holds one commune's findings at a time.
SPLIT_FINDINGS = 100_000


def finding_parts(findings: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """review.xlsx's findings, or one review_<commune>.xlsx per commune (findings without a
    known commune in review_chua_ro_xa) when some finding sheet would pass Excel's row limit,
    or when more than SPLIT_FINDINGS findings span several communes. Every finding is in
    exactly one workbook."""
    counts = findings["type"].value_counts()
    past_a_sheet = len(counts) > 0 and counts.max() > SHEET_ROW_LIMIT
    if not past_a_sheet and len(findings) <= SPLIT_FINDINGS:
        return [("review.xlsx", findings)]
    communes = _commune_of(findings)
    if not past_a_sheet and communes.nunique() < 2:
        return [("review.xlsx", findings)]
    parts = []
    for commune, rows in findings.groupby(communes, sort=True):
        slug = re.sub(r"[^a-z0-9]+", "_", str(commune)).strip("_")
        if rows["type"].value_counts().max() > SHEET_ROW_LIMIT:
            raise ValueError(  # one commune past the limit: nothing sensible to split by
                f"{len(rows)} sai lệch của xã {commune} vượt giới hạn một trang Excel / "
                f"findings of commune {commune} exceed an Excel sheet"
            )
        name = f"review_{slug}.xlsx" if slug else UNPLACED_WORKBOOK
        parts.append((name, rows.reset_index(drop=True)))
    return parts


def workbooks_written(run_dir: Path) -> tuple[str, str]:
    """What a run folder's review workbooks are, told to the officer (bilingual title, where):
    review.xlsx, or the number of commune workbooks a province's run was split into."""
    books = sorted(run_dir.glob("review*.xlsx"))
    if [p.name for p in books] == ["review.xlsx"]:
        return "Sổ rà soát / review workbook", str(books[0])
    return (
        f"{len(books)} sổ rà soát, mỗi xã một sổ / {len(books)} review workbooks, one per commune",
        str(run_dir / "review_<xã>.xlsx"),
    )


def workbook_parts(result) -> list[tuple[str, object]]:
    """finding_parts, each as the run it reports. What belongs to a split run as a whole, not
    to a commune, is in UNPLACED_WORKBOOK alone (made for it if no finding lacks a commune):
    its rejected rows, which name a file and a row, never a commune, and its check sample, to be
    marked once. A hundred commune workbooks each repeating them wrote every rejected row a
    hundred times, showed each commune the others' rows, and asked a hundred officers to mark
    the same fifty links."""
    parts = finding_parts(result.findings)
    if len(parts) == 1:
        return [(parts[0][0], replace(result, findings=parts[0][1]))]
    sample = result.trust.check_sample
    has_unplaced = any(name == UNPLACED_WORKBOOK for name, _ in parts)
    if (len(result.rejected) or len(sample)) and not has_unplaced:
        parts.insert(0, (UNPLACED_WORKBOOK, result.findings.iloc[:0]))
    communes_own = {
        "rejected": result.rejected.iloc[:0],
        "trust": replace(result.trust, check_sample=sample.iloc[:0]),
    }
    return [
        (
            name,
            replace(result, findings=rows, **({} if name == UNPLACED_WORKBOOK else communes_own)),
        )
        for name, rows in parts
    ]


def for_workbook(result):
    """What write_review_workbook reads of a run (its findings, rejected rows, review and
    trust), without what it does not: what a helper process is sent, once per workbook. The
    register's reading goes nowhere: its stored form (`record`, the Parquet bytes of every
    resident) alone was 90 MB at a million residents, sent again with each commune's workbook."""
    empty = {"links": result.links.iloc[:0], "layout": result.layout.iloc[:0]}
    return replace(result, register=None, lists=[], **empty)


# In the helper process: the workbooks begun (begin_workbooks), by run and part name
_BEGUN: dict[str, ReviewWorkbook] = {}


def _begin(key: str, findings: pd.DataFrame) -> None:
    _BEGUN[key] = ReviewWorkbook(findings)


def _finish(key: str, result, data: dict, path: Path, token: str) -> bool:
    """(In the helper) save the workbook begun under `key`; False if none was (its begin
    failed, or a retried report already took it): this process then writes it whole."""
    begun = _BEGUN.pop(key, None)
    if begun is None:
        return False
    begun.save(result, data, path, token)
    return True


# A begun workbook holds its findings in the helper until it is saved (its rows' XML waits on
# disk). Parts are begun ahead only up to this many findings together (the first part always):
# the rest are written whole, one after another, so a province of millions of findings holds
# one commune's findings at a time in the helper, not the province's.
BEGIN_AHEAD_FINDINGS = 150_000


def begin_workbooks(helper: Executor | None, findings: pd.DataFrame, run_id: str) -> dict:
    """Start the workbooks' finding sheets in the helper as soon as the findings are reviewed,
    while this process writes the run's other files; write_run finishes them. {} without a
    helper."""
    if helper is None:
        return {}
    begun, held = {}, 0
    for name, rows in finding_parts(findings):
        held += len(rows)
        if begun and held > BEGIN_AHEAD_FINDINGS:
            break
        try:
            helper.submit(_begin, f"{run_id}/{name}", rows)
        except (BrokenProcessPool, RuntimeError):  # the helper is gone: written here
            return {}
        begun[name] = f"{run_id}/{name}"
    return begun


def _start_workbooks(
    parts, data: dict, staging: Path, token: str, helper: Executor | None, begun: dict
):
    """Each workbook part with its Future when a helper process writes it, else None."""
    if helper is None:
        return [(name, part, None) for name, part in parts]
    started = []
    for name, part in parts:
        try:
            slim = for_workbook(part)
            if name in begun:  # its finding sheets are in the helper already
                slim = replace(slim, findings=slim.findings.iloc[:0])
                future = helper.submit(_finish, begun[name], slim, data, staging / name, token)
            else:
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
    """Wait for the helper's workbooks. Meanwhile this process, its own files written, takes
    the parts the helper has not reached, from the last one back: a province's workbooks are
    written by both processes, which meet in the middle. A part begun in the helper is taken
    too, written whole here (its finding sheets then wait in the helper until it ends with
    the run): the helper begins every part of a province before this process is free, and
    this process would otherwise only wait while it finishes them (7 s of a 1M night)."""
    here = set()
    for name, part, future in reversed(started):
        if future is None or not future.cancel():
            break
        write_review_workbook(part, data, staging / name, token)
        here.add(name)
    for name, part, future in started:
        if name in here:
            continue
        if future is not None:
            try:
                if future.result() is not False:  # False: nothing begun in the helper
                    continue
            except BrokenProcessPool:  # the helper died: this process writes the part again
                pass
        write_review_workbook(part, data, staging / name, token)


def write_run(
    result,
    out_dir: Path,
    token: str = "",
    helper: Executor | None = None,
    meanwhile=None,
    begun: dict | None = None,
) -> Path:
    """Write everything into a hidden staging folder, and only then rename the folder into
    place. With `helper` (a warm process pool), the workbooks are written there while this
    process writes the rest; `begun`: the parts begin_workbooks started there. `meanwhile` is
    called once this process's own files are written, while the workbooks may still be made:
    a run records in it the findings they issue, so before the folder appears."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = _free_name(out_dir, result.run_id)
    staging = out_dir / f"{STAGING_PREFIX}{target.name}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(mode=0o700)
    started = []
    try:
        data = summary(result)
        parts = workbook_parts(result)
        started = _start_workbooks(parts, data, staging, token, helper, begun or {})
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
        os.replace(staging, target)
    except BaseException:
        _abandon(started)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
