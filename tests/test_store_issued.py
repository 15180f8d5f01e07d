"""What each run issued (the findings its workbook shows, with the values shown) is kept as spans
of runs: a night writes only the findings it shows differently from the night before, and every
run's workbook is still vouched for exactly what that run showed. Hand-written nights on SQLite
(both parameter styles) and PostgreSQL."""

import re

import pandas as pd
import pytest
import sqlalchemy as sa

from reconcile.review import store as store_module
from reconcile.review.store import ISSUED, DecisionStore

# night 1 as its workbook shows it: finding id → (values hash, field hashes)
NIGHT_1 = {f"f{i:02d}": (f"v{i}", f"n{i}.b{i}") for i in range(14)}
NIGHT_1["f02"] = ("v2", None)  # no side columns
NIGHT_1["f03"] = ("v3", "")
NIGHT_1["f04"] = ("Nguyê\u0303n\t\\N", "")  # awkward text is a hash's worst neighbour


def _night(shown: dict[str, tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [(finding, values, fields) for finding, (values, fields) in shown.items()],
        columns=["finding_id", "values_hash", "field_hashes"],
    )


def _as_read(shown: dict[str, tuple]) -> dict[str, tuple]:
    """What DecisionStore.issued gives for a night: missing field hashes read as ''."""
    return {
        finding: (values, "" if pd.isna(fields) else fields)
        for finding, (values, fields) in shown.items()
    }


def _rows(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(ISSUED)).scalar()


def _nights() -> list[dict[str, tuple]]:
    second = dict(NIGHT_1)
    second["f05"] = ("v5 changed", "n5.b5")
    second["f06"] = ("v6", "n6 changed.b6")
    del second["f07"]  # resolved, or dismissed: no longer shown
    second["f20"] = ("v20", "n20.b20")  # new
    second["f02"] = ("v2", float("nan"))  # missing, as pandas leaves it: the same as None
    third = dict(second)
    third["f05"] = NIGHT_1["f05"]  # changed back
    third["f07"] = NIGHT_1["f07"]  # shown again after a night away
    del third["f08"]
    return [NIGHT_1, second, third, dict(third)]


def test_each_run_is_vouched_for_what_it_showed_and_a_night_writes_what_changed(
    open_store, monkeypatch
):
    monkeypatch.setattr(store_module, "IN_LIST_BATCH", 2)  # ids looked up a few at a time
    store, other = open_store("Xã A"), open_store("Xã B")
    nights = _nights()
    rows = []
    for number, shown in enumerate(nights, start=1):
        store.record_issued(f"r{number}", _night(shown))
        rows.append(_rows(store))
        if number == 2:  # another commune's runs between: numbered and read apart
            other.record_issued("r1", _night({"f01": ("b", "b")}))
            rows[-1] += 1
    for number, shown in enumerate(nights, start=1):
        assert store.issued(f"r{number}") == _as_read(shown), number
    assert other.issued("r1") == {"f01": ("b", "b")}
    # night 2 wrote f05, f06, f20; night 3 f05 and f07 again; night 4 nothing
    assert rows == [14, 14 + 3 + 1, 18 + 2, 20]
    assert store.issued("r2", {"f05", "f07", "f99"}) == {"f05": ("v5 changed", "n5.b5")}
    assert store.issued("r3", set(nights[2])) == _as_read(nights[2])


def test_a_run_recorded_again_is_left_as_it_was(open_store):
    store = open_store("Xã A")
    store.record_issued("r1", _night(NIGHT_1))
    store.record_issued("r2", _night(NIGHT_1))
    store.record_issued("r2", _night({"f99": ("x", "y")}))  # a retried stage
    assert store.issued("r2") == _as_read(NIGHT_1) and _rows(store) == 14


def test_a_failure_in_a_later_batch_leaves_every_run_as_it_was(open_store):
    store = open_store("Xã A")
    store.record_issued("r1", _night(NIGHT_1))
    second = _night({finding: ("changed", fields) for finding, (_, fields) in NIGHT_1.items()})
    second.loc[12, "finding_id"] = None  # the second batch of inserts fails
    with pytest.raises(sa.exc.IntegrityError):
        store.record_issued("r2", second)
    assert store.issued("r1") == _as_read(NIGHT_1) and store.issued("r2") == {}
    store.record_issued("r2", _night(NIGHT_1))  # the night can be recorded after all
    assert store.issued("r2") == _as_read(NIGHT_1) and _rows(store) == 14


def test_runs_recorded_before_spans_are_still_read(open_store):
    """A store written by an earlier version holds a row per run and finding, without spans;
    the first night with spans writes its own, even for a finding shown the same."""
    store = open_store("Xã A")
    old = {"r0": ("r0", None), "r00": NIGHT_1["f01"]}
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(ISSUED),
            [
                {"scope": "Xã A", "run_id": run, "finding_id": "f01", "values_hash": values}
                | {"field_hashes": fields}
                for run, (values, fields) in old.items()
            ],
        )
    store.record_issued("r1", _night(NIGHT_1))
    assert store.issued("r0") == {"f01": ("r0", "")}
    assert store.issued("r00") == {"f01": NIGHT_1["f01"]}
    assert store.issued("r1") == _as_read(NIGHT_1)


def test_a_run_cannot_issue_one_finding_twice(open_store):
    store = open_store("Xã A")
    twice = _night(NIGHT_1 | {"f99": ("x", "y")})
    twice.loc[14, "finding_id"] = "f00"
    with pytest.raises(ValueError):
        store.record_issued("r1", twice)
    assert _rows(store) == 0


def test_a_store_made_before_the_indexes_gains_them_and_a_night_reads_through_them(tmp_path):
    """A decision is looked up by its finding id, a night reads the last run's open spans and
    ends those it no longer shows, through indexes: scans of a province's millions of rows took
    33.8 s, 52.3 s and 109 s."""
    url = f"sqlite:///{(tmp_path / 'decisions.sqlite').as_posix()}"
    store = DecisionStore(url, "Xã A")
    with store.engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX issued_by_finding"))
        connection.execute(sa.text("DROP INDEX issued_open"))
    store = DecisionStore(url, "Xã A")
    names = {i["name"] for i in sa.inspect(store.engine).get_indexes("issued")}
    assert {"issued_by_finding", "issued_open"} <= names
    reads = []

    def planned(connection, cursor, statement, parameters, context, executemany):
        if re.match(r"\s*(SELECT\b.*\bFROM|UPDATE)\s+issued\b(?!_)", statement, re.S):
            first = parameters[0] if executemany else parameters
            plan = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}", first)
            reads.append(statement.split()[0] + ": " + " ".join(str(step[-1]) for step in plan))

    sa.event.listen(store.engine, "before_cursor_execute", planned)
    store.record_issued("r1", _night(NIGHT_1))
    store.record_issued("r2", _night(_nights()[1]))  # ends a few spans
    store.issued("r1", {"f01"})
    assert sum("UPDATE" in plan for plan in reads) == 1
    assert all("USING" in plan and "INDEX" in plan for plan in reads), reads
    # an ended span by its whole key: PostgreSQL's generic plan for the open span's condition
    # went through the partial index, a scan of the open spans per update
    assert any(p.startswith("UPDATE") and "run_id=? AND finding_id=?" in p for p in reads)
