"""Recording what each night's workbook issues, in the decisions store: every row written each
night (as before spans), against spans that carry on what the last night showed the same.

Run by hand: python bench/bench_issued.py [FINDINGS] [POSTGRES_URL]
(default 1,000,000 findings; the dirty 3M province issues 3.4M a night). Random hashes. Nights:
the first; the same findings again; 1% of them shown with other values, 0.5% gone and 0.5% new.
Reports each night's seconds and the rows the issued table holds after it, and how long reading
back one finding's record (a workbook's decision) takes.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa


def _findings(count: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "finding_id": [f"{n:032x}" for n in rng.integers(0, 2**62, count)],
            "values_hash": [f"{n:016x}" for n in rng.integers(0, 2**62, count)],
            "field_hashes": [f"{n:040x}" for n in rng.integers(0, 2**62, count)],
        }
    )


def _nights(count: int) -> list[pd.DataFrame]:
    rng = np.random.default_rng(13)
    first = _findings(count, rng)
    changed = first.copy()
    step = 100  # 1% retyped; 0.5% gone and as many new
    retyped = changed.index[::step]
    changed.loc[retyped, "values_hash"] = _findings(len(retyped), rng)["values_hash"].to_numpy()
    gone = changed.index[1 :: step * 2]
    fresh = _findings(len(gone), rng)
    changed = pd.concat([changed.drop(gone), fresh], ignore_index=True)
    return [first, first, changed]


def _rows(store) -> int:
    from reconcile.review.store import ISSUED

    with store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(ISSUED)).scalar()


def _whole(store, run_id: str, shown: pd.DataFrame) -> None:
    """As the store recorded a night before spans: every row, keyed by the run (a workbook's
    decisions were then looked up by the run's key alone)."""
    from reconcile.review.store import ISSUED, _column_values, _insert

    with store.engine.begin() as connection:
        also = {"scope": store.scope, "run_id": run_id}
        _insert(connection, ISSUED, _column_values(shown, also))


def _whole_lookup(store, run_id: str, wanted: set[str]) -> dict:
    """As a workbook's decisions were looked up before spans: the run's rows, filtered here."""
    from reconcile.review.store import ISSUED

    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(ISSUED.c.finding_id, ISSUED.c.values_hash).where(
                (ISSUED.c.scope == store.scope) & (ISSUED.c.run_id == run_id)
            )
        ).all()
    return {r[0]: r[1] for r in rows if r[0] in wanted}


def _case(url: str, spans: bool, nights: list[pd.DataFrame]) -> None:
    from reconcile.review.store import DecisionStore

    store = DecisionStore(url, "bench")
    if not spans:  # as the store was before spans: no index by finding id either
        with store.engine.begin() as connection:
            connection.execute(sa.text("DROP INDEX issued_by_finding"))
    for number, shown in enumerate(nights, start=1):
        began = time.perf_counter()
        if spans:
            store.record_issued(f"r{number}", shown)
        else:
            _whole(store, f"r{number}", shown)
        took = time.perf_counter() - began
        print(f"  night {number}: {took:6.1f} s, {_rows(store):>10,} rows held", flush=True)
    wanted = {nights[0]["finding_id"].iloc[7]}
    began = time.perf_counter()
    found = store.issued("r1", wanted) if spans else _whole_lookup(store, "r1", wanted)
    took = time.perf_counter() - began
    print(f"  one finding of night 1 read back in {took:.1f} s: {found != {}}")


def _postgres_database(admin_url: str, name: str) -> str:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    postgres = sys.argv[2] if len(sys.argv) > 2 else None
    nights = _nights(count)
    with tempfile.TemporaryDirectory() as folder:
        for spans in (False, True):
            name = "spans" if spans else "whole"
            url = f"sqlite:///{(Path(folder) / f'{name}.sqlite').as_posix()}"
            print(f"SQLite, {name}, {count:,} findings a night", flush=True)
            _case(url, spans, nights)
            if postgres:
                print(f"PostgreSQL, {name}", flush=True)
                _case(_postgres_database(postgres, f"bench_issued_{name}"), spans, nights)


if __name__ == "__main__":
    main()
