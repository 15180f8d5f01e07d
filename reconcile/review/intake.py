"""Which of a workbook's decisions the store accepts: only those of a workbook this installation
wrote (its token), and only for findings that workbook's own run issued, each tied to the values
that run showed the officer. A pre-seeded or edited workbook decides nothing, and says why."""

from __future__ import annotations

import hmac
from dataclasses import replace

from reconcile.review.store import DecisionStore
from reconcile.review.workbook_decisions import Decision, ReviewedWorkbook


def vouched(workbook: ReviewedWorkbook, store: DecisionStore) -> tuple[list[Decision], list[str]]:
    """(accepted decisions, problems) of one workbook read by read_workbook."""
    problems = list(workbook.problems)
    if not workbook.decisions:
        return [], problems
    expected = store.workbook_token(workbook.run_id) if workbook.run_id else ""
    if not workbook.run_id or not hmac.compare_digest(workbook.token, expected):
        problems.append(
            f"{workbook.path.name}: sổ không do hệ thống này lập (hoặc đã bị sửa phần nhận dạng), "
            f"các quyết định trong sổ bị bỏ qua / a workbook this installation did not write "
            f"(or whose identity was edited): its decisions are ignored"
        )
        return [], problems
    issued = store.issued(workbook.run_id, {d.finding_id for d in workbook.decisions})
    accepted = []
    for decision in workbook.decisions:
        if decision.finding_id not in issued:
            problems.append(
                f"{workbook.rows.get(decision.finding_id, workbook.path.name)}: mã phát hiện "
                f"không do lần chạy này cấp, bị bỏ qua / a finding id this workbook's run did not "
                f"issue: ignored"
            )
            continue
        values, fields = issued[decision.finding_id]
        accepted.append(replace(decision, values_hash=values, field_hashes=fields))
    return accepted, problems
