"""The decisions store: SQLite beside the outputs by default, any SQLAlchemy URL (PostgreSQL for a
district). It keeps finding ids, statuses, dates and hashes of the judged values: no names, no ID
numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from reconcile.review.rules import DECISION_COLUMNS, HISTORY_COLUMNS
from reconcile.review.workbook_decisions import Decision

_METADATA = sa.MetaData()
HISTORY = sa.Table(
    "finding_history",
    _METADATA,
    sa.Column("finding_id", sa.String(32), primary_key=True),
    sa.Column("type", sa.String(40)),
    sa.Column("list_kind", sa.String(20)),
    sa.Column("list_label", sa.String(200)),
    sa.Column("values_hash", sa.String(32)),
    sa.Column("first_seen", sa.String(10)),
    sa.Column("first_run", sa.String(40)),
    sa.Column("last_seen", sa.String(10)),
    sa.Column("last_run", sa.String(40)),
    sa.Column("status", sa.String(40)),
    sa.Column("resolved_on", sa.String(10), nullable=True),
)
DECISIONS = sa.Table(
    "decisions",
    _METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("finding_id", sa.String(32), index=True),
    sa.Column("decision", sa.String(40)),
    sa.Column("note", sa.Text),
    sa.Column("values_hash", sa.String(32)),
    sa.Column("source", sa.String(260)),
    sa.Column("decided_at", sa.DateTime),
)
RUNS = sa.Table(
    "runs",
    _METADATA,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("started", sa.DateTime),
    sa.Column("findings", sa.Integer),
    sa.Column("suppressed", sa.Integer),
    sa.Column("resolved", sa.Integer),
)


def default_url(out_dir: Path) -> str:
    return f"sqlite:///{(out_dir / 'decisions.sqlite').resolve().as_posix()}"


class DecisionStore:
    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url)
        _METADATA.create_all(self.engine)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).chmod(0o600)  # personal data's neighbour

    def history(self) -> pd.DataFrame:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(HISTORY)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=HISTORY_COLUMNS)

    def decisions(self) -> pd.DataFrame:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(DECISIONS)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=["id", *DECISION_COLUMNS])

    def record_decisions(self, decisions: list[Decision]) -> int:
        """Store decisions not stored yet; each is tied to the values it judged (the finding's
        values as of the run that wrote the workbook). Returns how many were new."""
        known = self.history().set_index("finding_id")["values_hash"].to_dict()
        stored = {
            (r.finding_id, r.decision, r.source, pd.Timestamp(r.decided_at))
            for r in self.decisions().itertuples()
        }
        fresh = [
            d
            for d in decisions
            if d.finding_id in known
            and (d.finding_id, d.decision, d.source, pd.Timestamp(d.decided_at)) not in stored
        ]
        if fresh:
            with self.engine.begin() as connection:
                connection.execute(
                    sa.insert(DECISIONS),
                    [
                        {
                            "finding_id": d.finding_id,
                            "decision": d.decision,
                            "note": d.note,
                            "values_hash": known[d.finding_id],
                            "source": d.source,
                            "decided_at": d.decided_at,
                        }
                        for d in fresh
                    ],
                )
        return len(fresh)

    def save(
        self,
        history: pd.DataFrame,
        run_id: str,
        started: dt.datetime,
        findings: int,
        suppressed: int,
        resolved: int,
    ) -> None:
        """Replace the history with this run's view of it, and log the run, in one transaction."""
        records = history.astype(object).where(history.notna(), None).to_dict("records")
        with self.engine.begin() as connection:
            connection.execute(sa.delete(HISTORY))
            if records:
                connection.execute(sa.insert(HISTORY), records)
            connection.execute(sa.delete(RUNS).where(RUNS.c.run_id == run_id))
            connection.execute(
                sa.insert(RUNS),
                [
                    {
                        "run_id": run_id,
                        "started": started.replace(tzinfo=None),
                        "findings": findings,
                        "suppressed": suppressed,
                        "resolved": resolved,
                    }
                ],
            )
