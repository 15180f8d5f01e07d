"""The decisions store: SQLite beside the outputs by default, any SQLAlchemy URL (one PostgreSQL
for a province). It keeps finding ids, statuses, dates and hashes of the values a finding
showed, the findings each run issued, and the officers' decisions with their notes. Notes are
the officers' own words and may name people: the store is the police's, owner-only like the run
folders, and nothing read from it leaves them (summary.json, Prefect and the monthly report
carry counts only).

Several communes can share one store: every row carries its commune's scope, and a run reads
and writes only its own. Finding ids are keyed with a secret made at the store's first use,
so nobody can compute an id from public data and pre-seed a decision for it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Iterator
from hashlib import sha256
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from reconcile.frames import equal_cells, per_distinct
from reconcile.review.rules import DECISION_COLUMNS, HISTORY_COLUMNS, HistoryChange

DEFAULT_SCOPE = "default"
_METADATA = sa.MetaData()
HISTORY = sa.Table(
    "finding_history",
    _METADATA,
    sa.Column("finding_id", sa.String(40), primary_key=True),
    sa.Column("scope", sa.String(200), index=True),
    sa.Column("type", sa.String(40)),
    sa.Column("list_kind", sa.String(20)),
    sa.Column("list_label", sa.String(200)),
    sa.Column("values_hash", sa.String(32)),
    sa.Column("field_hashes", sa.String(200)),
    sa.Column("first_seen", sa.String(10)),
    sa.Column("first_run", sa.String(40)),
    sa.Column("last_seen", sa.String(10)),
    sa.Column("last_run", sa.String(40)),
    sa.Column("status", sa.String(40)),
    sa.Column("resolved_on", sa.String(10), nullable=True),
    sa.Column("dismissed_on", sa.String(10), nullable=True),
)
DECISIONS = sa.Table(
    "decisions",
    _METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scope", sa.String(200), index=True),
    sa.Column("finding_id", sa.String(40), index=True),
    sa.Column("run_id", sa.String(40)),
    sa.Column("decision", sa.String(40)),
    sa.Column("note", sa.Text),
    sa.Column("values_hash", sa.String(32)),
    sa.Column("field_hashes", sa.String(200)),
    sa.Column("source", sa.String(260)),
    sa.Column("decided_at", sa.DateTime),
)
ISSUED = sa.Table(
    "issued",
    _METADATA,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("finding_id", sa.String(40), primary_key=True),
    sa.Column("values_hash", sa.String(32)),
    sa.Column("field_hashes", sa.String(200)),
    # The span of runs (ISSUED_RUNS.seq) that issued the finding showing these values; `run_id`
    # is the first of them. No last: the latest run issued it too (so a night changes only the
    # rows it ends). No first: a row written before spans, issued by `run_id` alone.
    sa.Column("first_seq", sa.Integer, nullable=True),
    sa.Column("last_seq", sa.Integer, nullable=True),
    # a workbook's few decisions are looked up by finding id: without it, every returned
    # workbook scanned the province's whole record (33.8 s at 13.6M rows on SQLite)
    sa.Index("issued_by_finding", "scope", "finding_id"),
)
# The last run's spans, read every night to see which it shows again: through this index, not
# a scan of every span and every row written before spans (13.5 s against 52.3 s on the dirty
# 3M province's store: 3.4M open spans among 13.6M rows)
OPEN_SPAN = ISSUED.c.first_seq.is_not(None) & ISSUED.c.last_seq.is_(None)
sa.Index("issued_open", ISSUED.c.scope, sqlite_where=OPEN_SPAN, postgresql_where=OPEN_SPAN)
# Each run that recorded what it issued, numbered in order within its scope (a second run
# numbered the same, at the same time, fails rather than mixing their spans).
ISSUED_RUNS = sa.Table(
    "issued_runs",
    _METADATA,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.UniqueConstraint("scope", "seq"),
)
RUNS = sa.Table(
    "run_log",  # "runs" in stores before scopes, keyed by run id alone
    _METADATA,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("started", sa.DateTime),
    sa.Column("findings", sa.Integer),
    sa.Column("suppressed", sa.Integer),
    sa.Column("resolved", sa.Integer),
)
# The check sample each run drew (sampled links, ids keyed like finding ids) and the marks an
# officer gave them: numbers and ids only, no names.
CHECKS = sa.Table(
    "check_sample",
    _METADATA,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("sample_id", sa.String(40), primary_key=True),
    sa.Column("run_id", sa.String(40)),
    sa.Column("series", sa.String(500)),
    sa.Column("band", sa.String(20)),
    sa.Column("p_wrong", sa.Float),
    sa.Column("mark", sa.String(20)),
    sa.Column("marked_at", sa.DateTime),
)
# Each run's estimates per list, for the monthly report.
ESTIMATES = sa.Table(
    "run_estimates",
    _METADATA,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("series", sa.String(500), primary_key=True),
    sa.Column("started", sa.DateTime),
    sa.Column("estimate", sa.Text),  # estimates.ListEstimate.as_dict() as JSON
)
# What the last run's matching learnt (matching.memory): its model and its compared pairs, keyed
# by keyed hashes of the rows' contents. No name or number is stored in the clear.
MEMORY = sa.Table(
    "match_memory",
    _METADATA,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("run_id", sa.String(40)),
    sa.Column("meta", sa.Text),
    sa.Column("pairs", sa.LargeBinary),
)
# Input files as they were last read (input_memory): a file unchanged since is not read again.
INPUTS = sa.Table(
    "input_memory",
    _METADATA,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("series", sa.String(500), primary_key=True),
    sa.Column("digest", sa.String(64)),
    sa.Column("counts", sa.Text),
    sa.Column("people", sa.LargeBinary, nullable=True),
    sa.Column("rejected", sa.LargeBinary, nullable=True),
    sa.Column("layout", sa.LargeBinary, nullable=True),
)
# The values above that the next run reuses (the memory's pairs, a reading's frames), kept in
# pieces: SQLite refuses a value over 1,000,000,000 bytes and PostgreSQL over 1 GB, and a
# province's matching memory nears that (742 MB for the dirty 3M one). A piece also bounds what
# the driver copies at once (psycopg sends a bytea as hex text: twice its size). Stores written
# before hold these values in their own cells, which are read as they are.
PIECES = sa.Table(
    "kept_pieces",
    _METADATA,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("holder", sa.String(600), primary_key=True),  # table/series/column
    sa.Column("part", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("data", sa.LargeBinary),
)
PIECE_BYTES = 64 * 2**20
_PIECED = {MEMORY: ("pairs",), INPUTS: ("people", "rejected", "layout")}
INSTALLATION = sa.Table(
    "installation",
    _METADATA,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200)),
)


def default_url(out_dir: Path) -> str:
    return f"sqlite:///{(out_dir / 'decisions.sqlite').resolve().as_posix()}"


# The history's columns with few distinct values, and the rows read at a time.
SHARED_HISTORY_COLUMNS = frozenset(HISTORY_COLUMNS) - {"finding_id", "values_hash", "field_hashes"}
READ_BATCH = 100_000


def _shared(cells: np.ndarray, seen: dict) -> np.ndarray:
    """`cells` with each value replaced by the one object `seen` keeps for it, across batches
    (missing ones by None)."""
    return per_distinct(cells, lambda value: seen.setdefault(value, value))


def _holder(table: sa.Table, key: dict, column: str) -> str:
    """The name a pieced value is kept under: its table, its row's key values and its column."""
    return "/".join([table.name, *map(str, key.values()), column])


# Rows given to the database driver at a time: a province's million findings are never all
# held as parameter rows at once.
INSERT_BATCH = 20_000
# Ids in one IN list: within every SQLite's limit of bound parameters (999 before 3.32).
IN_LIST_BATCH = 500


def _in_lists(ids: list) -> Iterator[list]:
    """`ids` in slices of IN_LIST_BATCH, each for one IN list."""
    for start in range(0, len(ids), IN_LIST_BATCH):
        yield ids[start : start + IN_LIST_BATCH]


def _column_values(frame: pd.DataFrame, also: dict[str, object]) -> dict[str, list]:
    """The frame's columns as lists with missing values as None, and a column repeating each of
    `also`'s values."""
    columns = {
        name: frame[name].astype(object).where(frame[name].notna(), None).tolist()
        for name in frame.columns
    }
    return columns | {name: [value] * len(frame) for name, value in also.items()}


def _insert(connection: sa.Connection, table: sa.Table, columns: dict[str, list]) -> None:
    """Rows of text given column by column, inserted a batch at a time through the driver, as
    they are (no SQLAlchemy type processing: text columns only). SQLAlchemy's executemany
    makes and processes a dict a row: for the dirty 1M province's 1.1 million findings that
    took 23.6 s and raised the main process's peak by 0.6 GB. PostgreSQL (psycopg) takes the
    rows by COPY; a driver with positional parameters, by its executemany; any other, through
    SQLAlchemy."""
    names = list(columns)
    rows = zip(*columns.values(), strict=True)
    dialect = connection.dialect
    target = dialect.identifier_preparer.format_table(table)
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    if dialect.driver == "psycopg":
        statement = f"COPY {target} ({quoted}) FROM STDIN"
        try:
            # a cursor of this transaction's own connection: the COPY commits or rolls back
            # with it
            with connection.connection.driver_connection.cursor() as cursor:
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
        except dialect.loaded_dbapi.Error as error:  # raised as SQLAlchemy raises the rest
            raise sa.exc.DBAPIError.instance(
                statement, None, error, dialect.loaded_dbapi.Error, dialect=dialect
            ) from error
        return
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    while batch := list(islice(rows, INSERT_BATCH)):
        if marker is None:  # named parameters: SQLAlchemy names them
            dicts = [dict(zip(names, row, strict=True)) for row in batch]
            connection.execute(sa.insert(table), dicts)
        else:
            markers = ", ".join([marker] * len(names))
            connection.exec_driver_sql(f"INSERT INTO {target} ({quoted}) VALUES ({markers})", batch)


def _carried(
    connection: sa.Connection, open_span, shown: pd.DataFrame, ids: pd.Index
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Which of `shown` (indexed by `ids`) the last run issued with the same values, and the
    keys (first run, finding id) of its issued rows (those `open_span`) that are not shown so
    again. Its rows are read a batch at a time."""
    carried = np.zeros(len(shown), dtype=bool)
    ended: list[tuple[str, str]] = []
    tonight = [shown[c].to_numpy(dtype=object) for c in ("values_hash", "field_hashes")]
    chosen = sa.select(
        ISSUED.c.run_id, ISSUED.c.finding_id, ISSUED.c.values_hash, ISSUED.c.field_hashes
    ).where(open_span)
    result = connection.execute(chosen.execution_options(yield_per=READ_BATCH))
    for rows in result.partitions():
        first, found, *before = (
            np.array(column, dtype=object) for column in zip(*rows, strict=True)
        )
        at = ids.get_indexer(found)
        same = at >= 0
        for was, now in zip(before, tonight, strict=True):
            same[same] = equal_cells(was[same], now[at[same]])
        carried[at[same]] = True
        ended += zip(first[~same].tolist(), found[~same].tolist(), strict=True)
    return carried, ended


def store_for(config) -> DecisionStore:
    """The run configuration's store, scoped to its commune."""
    url = config.review.store or default_url(config.out_dir)
    return DecisionStore(url, config.review.commune or DEFAULT_SCOPE)


def existing_store(config) -> DecisionStore | None:
    """store_for, but None where the default SQLite store has not been made yet: a lookup
    never creates the output folder (a run that fails early leaves nothing behind)."""
    if not config.review.store and not (config.out_dir / "decisions.sqlite").is_file():
        return None
    return store_for(config)


def _add_missing_columns_and_indexes(engine: sa.Engine) -> None:
    """Stores written by earlier versions lack the newer columns and indexes: add them (every
    dialect we use supports ADD COLUMN)."""
    inspector = sa.inspect(engine)
    with engine.begin() as connection:
        for table in _METADATA.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    kind = column.type.compile(engine.dialect)
                    connection.execute(
                        sa.text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                    )
            indexed = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in indexed:
                    index.create(connection)


class DecisionStore:
    def __init__(self, url: str, scope: str = DEFAULT_SCOPE):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.scope = scope
        self.engine = sa.create_engine(url)
        _METADATA.create_all(self.engine)
        _add_missing_columns_and_indexes(self.engine)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).chmod(0o600)  # personal data's neighbour

    # ---- the installation's secret ----

    def secret(self) -> bytes:
        """The key finding ids and workbook tokens are made with; made once per store."""
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(INSTALLATION.c.value).where(INSTALLATION.c.key == "secret")
            ).first()
            if row:
                return bytes.fromhex(row[0])
            value = secrets.token_hex(32)
            connection.execute(sa.insert(INSTALLATION), [{"key": "secret", "value": value}])
            return bytes.fromhex(value)

    def workbook_token(self, run_id: str) -> str:
        """What a run writes into its workbook to show the workbook is ours."""
        message = f"workbook|{self.scope}|{run_id}".encode()
        return hmac.new(self.secret(), message, sha256).hexdigest()[:24]

    # ---- reading ----

    def history(self) -> pd.DataFrame:
        """This scope's finding history, read a batch of rows at a time. The driver makes a
        new string for every cell, and most columns hold a few values (a type, a status, a
        run's date): each is kept once, shared by its rows. The dirty 3M province's 3.4M rows
        took 3.5 GB, 1.9 GB of it in nine columns of at most eight values."""
        chosen = sa.select(*(HISTORY.c[c] for c in HISTORY_COLUMNS)).where(self._mine(HISTORY))
        parts: dict[str, list[np.ndarray]] = {column: [] for column in HISTORY_COLUMNS}
        shared: dict[str, dict] = {column: {} for column in SHARED_HISTORY_COLUMNS}
        with self.engine.connect() as connection:
            result = connection.execute(chosen.execution_options(yield_per=READ_BATCH))
            for rows in result.partitions():  # tuples: a mapping per row cost 0.3 s
                for column, values in zip(HISTORY_COLUMNS, zip(*rows, strict=True), strict=True):
                    cells = np.empty(len(values), dtype=object)
                    cells[:] = values
                    if column in shared:
                        cells = _shared(cells, shared[column])
                    parts[column].append(cells)
        return pd.DataFrame(
            {
                column: np.concatenate(arrays) if arrays else np.empty(0, dtype=object)
                for column, arrays in parts.items()
            },
            columns=HISTORY_COLUMNS,
        )

    def decisions(self) -> pd.DataFrame:
        with self.engine.connect() as connection:
            rows = (
                connection.execute(sa.select(DECISIONS).where(self._mine(DECISIONS)))
                .mappings()
                .all()
            )
        return pd.DataFrame([dict(r) for r in rows], columns=["id", *DECISION_COLUMNS])

    def issued(
        self, run_id: str, finding_ids: set[str] | None = None
    ) -> dict[str, tuple[str, str]]:
        """finding id → (values hash, field hashes) of what that run's workbook showed; only
        for `finding_ids` when given (a workbook decides on a few of a province's millions)."""
        with self.engine.connect() as connection:
            seq = connection.execute(
                sa.select(ISSUED_RUNS.c.seq).where(
                    (ISSUED_RUNS.c.scope == self.scope) & (ISSUED_RUNS.c.run_id == run_id)
                )
            ).scalar()
            if seq is None:  # a run recorded before spans (or never)
                when = ISSUED.c.run_id == run_id
            else:
                when = (ISSUED.c.first_seq <= seq) & (
                    ISSUED.c.last_seq.is_(None) | (ISSUED.c.last_seq >= seq)
                )
            chosen = sa.select(
                ISSUED.c.finding_id, ISSUED.c.values_hash, ISSUED.c.field_hashes
            ).where((ISSUED.c.scope == self.scope) & when)
            if finding_ids is None:
                rows = connection.execute(chosen.execution_options(yield_per=READ_BATCH))
            else:
                rows = (
                    row
                    for batch in _in_lists(sorted(finding_ids))
                    for row in connection.execute(chosen.where(ISSUED.c.finding_id.in_(batch)))
                )
            return {r[0]: (r[1], r[2] or "") for r in rows}

    def _scoped(self, table: sa.Table, columns: list[str]) -> pd.DataFrame:
        """These columns of this scope's rows of `table`."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(*(table.c[c] for c in columns)).where(table.c.scope == self.scope)
            ).all()
        return pd.DataFrame(rows, columns=columns)

    def check_marks(self) -> pd.DataFrame:
        """Every sampled link of this scope with its mark (None until marked)."""
        return self._scoped(CHECKS, ["sample_id", "series", "band", "p_wrong", "mark"])

    def estimates(self) -> pd.DataFrame:
        return self._scoped(ESTIMATES, ["run_id", "series", "started", "estimate"])

    def pair_memory(self):
        """The last run's matching memory of this scope, or None before the first run (or when
        a newer version cannot read it: then the run compares everything again)."""
        from reconcile.matching.memory import from_bytes

        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(MEMORY.c.meta, MEMORY.c.pairs).where(MEMORY.c.scope == self.scope)
            ).first()
            if row is None:
                return None
            pairs = row[1] if row[1] is not None else self._joined(connection, MEMORY, {}, "pairs")
        try:
            return from_bytes(row[0], pairs)
        except (ValueError, KeyError, TypeError, OSError):
            return None

    def prepared(self, series: str) -> dict | None:
        """The input of `series` as last read (its `digest` says from what)."""
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    sa.select(INPUTS).where(
                        (INPUTS.c.scope == self.scope) & (INPUTS.c.series == series)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            record = dict(row)
            for column in _PIECED[INPUTS]:
                if record[column] is None:
                    record[column] = self._joined(connection, INPUTS, {"series": series}, column)
        return record

    def prepared_digest(self, series: str) -> str | None:
        """The digest of the input of `series` as last read, without its reading."""
        with self.engine.connect() as connection:
            return connection.execute(
                sa.select(INPUTS.c.digest).where(
                    (INPUTS.c.scope == self.scope) & (INPUTS.c.series == series)
                )
            ).scalar()

    def save_prepared(self, series: str, digest: str, record: dict) -> None:
        """Keep a reading for the next run."""
        self._replace_pieced(INPUTS, {"series": series}, {"digest": digest, **record})

    def _replace(self, table: sa.Table, key: dict, records: list[dict]) -> None:
        """In one transaction, this scope's rows of `table` with these key values replaced by
        `records`."""
        with self.engine.begin() as connection:
            self._delete(connection, table, key)
            if records:
                connection.execute(sa.insert(table), records)

    def _replace_pieced(self, table: sa.Table, key: dict, record: dict) -> None:
        """_replace for one row of a table whose large values are kept in pieces."""
        values = {column: record[column] for column in _PIECED[table]}
        row = {"scope": self.scope, **key, **record} | dict.fromkeys(values)
        with self.engine.begin() as connection:
            self._delete(connection, table, key)
            connection.execute(sa.insert(table), [row])
            for column, value in values.items():
                holder = _holder(table, key, column)
                self._delete(connection, PIECES, {"holder": holder})
                if value is None:
                    continue
                view = memoryview(value)
                for part, start in enumerate(range(0, max(len(view), 1), PIECE_BYTES)):
                    piece = {"scope": self.scope, "holder": holder, "part": part}
                    connection.execute(
                        sa.insert(PIECES), [piece | {"data": view[start : start + PIECE_BYTES]}]
                    )

    def _joined(
        self, connection: sa.Connection, table: sa.Table, key: dict, column: str
    ) -> bytearray | None:
        """A value _replace_pieced kept in pieces, or None. The pieces come one at a time
        (yield_per) and are appended as they come: all of them fetched and then joined held
        the value twice (710 MB more for a 742 MB value on SQLite, bench_kept_values)."""
        mine = (PIECES.c.scope == self.scope) & (PIECES.c.holder == _holder(table, key, column))
        pieces = connection.execute(
            sa.select(PIECES.c.data)
            .where(mine)
            .order_by(PIECES.c.part)
            .execution_options(yield_per=1)
        ).scalars()
        value = None
        for piece in pieces:
            if value is None:
                value = bytearray(piece)
            else:
                value += piece  # in place: a large bytearray grows by remapping, not copying
        return value

    def _delete(self, connection: sa.Connection, table: sa.Table, key: dict) -> None:
        """This scope's rows of `table` with these key values."""
        where = table.c.scope == self.scope
        for column, value in key.items():
            where &= table.c[column] == value
        connection.execute(sa.delete(table).where(where))

    def _mine(self, table: sa.Table):
        if self.scope == DEFAULT_SCOPE:  # rows of stores older than scopes are the default's
            return (table.c.scope == self.scope) | table.c.scope.is_(None)
        return table.c.scope == self.scope

    # ---- writing ----

    def record_issued(self, run_id: str, findings: pd.DataFrame) -> None:
        """The findings a run is about to put in its workbook, with the values they show:
        recorded before the run's folder appears, so decisions typed into that workbook are
        never lost, and a workbook can decide nothing else. Kept as spans of runs, the last one
        open: the last run's findings shown again with the same values are left as they are,
        the others' spans are ended, and only new or changed ones are written. Written whole,
        the dirty 3M province's issued rows grew by 3.4M a night. A run recorded already is
        left as it is (its findings are made once: a second call is a retried stage)."""
        shown = findings[["finding_id", "values_hash", "field_hashes"]]
        ids = pd.Index(shown["finding_id"])
        if not ids.is_unique:
            raise ValueError("a run issues each finding id once")
        with self.engine.begin() as connection:
            recorded = connection.execute(
                sa.select(ISSUED_RUNS.c.run_id, ISSUED_RUNS.c.seq)
                .where(ISSUED_RUNS.c.scope == self.scope)
                .order_by(ISSUED_RUNS.c.seq.desc())
                .limit(1)
            ).first()
            if recorded is not None and recorded.run_id == run_id:
                return
            seq = recorded.seq + 1 if recorded is not None else 1
            connection.execute(
                sa.insert(ISSUED_RUNS), [{"scope": self.scope, "run_id": run_id, "seq": seq}]
            )
            open_span = (ISSUED.c.scope == self.scope) & OPEN_SPAN
            carried, ended = _carried(connection, open_span, shown, ids)
            if ended:
                # by primary key, one row each. An IN list of ids scanned the table; so did
                # PostgreSQL's generic plan for the open span's own condition, through the
                # partial index (0.25 s an update on the bench's 3.4M spans)
                connection.execute(
                    sa.update(ISSUED)
                    .where(
                        (ISSUED.c.scope == self.scope)
                        & (ISSUED.c.run_id == sa.bindparam("first_run"))
                        & (ISSUED.c.finding_id == sa.bindparam("finding"))
                    )
                    .values(last_seq=seq - 1),
                    [{"first_run": run, "finding": finding} for run, finding in ended],
                )
            also = {"scope": self.scope, "run_id": run_id, "first_seq": seq, "last_seq": None}
            _insert(connection, ISSUED, _column_values(shown[~carried], also))

    def record_sample(self, run_id: str, sample: pd.DataFrame) -> None:
        """The links a run's check sheet shows (a link sampled before keeps its mark)."""
        known = set(self.check_marks()["sample_id"])
        records = [
            {
                "scope": self.scope,
                "sample_id": r.sample_id,
                "run_id": run_id,
                "series": r.series,
                "band": r.band,
                "p_wrong": float(r.p_wrong),
                "mark": None,
                "marked_at": None,
            }
            for r in sample.itertuples()
            if r.sample_id not in known
        ]
        if records:
            with self.engine.begin() as connection:
                connection.execute(sa.insert(CHECKS), records)

    def record_marks(self, marks: dict[str, tuple[str, dt.datetime]]) -> tuple[int, int]:
        """Marks by sample id; only ids this scope issued count. (recorded, unknown ids)"""
        known = set(self.check_marks()["sample_id"])
        mine = {k: v for k, v in marks.items() if k in known}
        with self.engine.begin() as connection:
            for sample_id, (mark, at) in mine.items():
                connection.execute(
                    sa.update(CHECKS)
                    .where((CHECKS.c.scope == self.scope) & (CHECKS.c.sample_id == sample_id))
                    .values(mark=mark, marked_at=at)
                )
        return len(mine), len(marks) - len(mine)

    def record_estimates(self, run_id: str, started: dt.datetime, estimates: dict) -> None:
        import json

        records = [
            {
                "scope": self.scope,
                "run_id": run_id,
                "series": series,
                "started": started.replace(tzinfo=None),
                "estimate": json.dumps(e, ensure_ascii=False),
            }
            for series, e in estimates.items()
        ]
        self._replace(ESTIMATES, {"run_id": run_id}, records)

    def save_pair_memory(self, run_id: str, memory) -> None:
        """Keep the matching memory for the next run."""
        from reconcile.matching.memory import to_bytes

        meta, payload = to_bytes(memory)
        self._replace_pieced(MEMORY, {}, {"run_id": run_id, "meta": meta, "pairs": payload})

    def record_decisions(self, decisions: list) -> int:
        """Store decisions not stored yet. Each is tied to the values its own workbook showed
        (the issued record of the run that wrote it). Returns how many were new."""
        stored = {
            (r.finding_id, r.decision, r.note or "", r.source, pd.Timestamp(r.decided_at))
            for r in self.decisions().itertuples()
        }
        fresh = [
            d
            for d in decisions
            if (d.finding_id, d.decision, d.note, d.source, pd.Timestamp(d.decided_at))
            not in stored
        ]
        if fresh:
            with self.engine.begin() as connection:
                connection.execute(
                    sa.insert(DECISIONS),
                    [
                        {
                            "scope": self.scope,
                            "finding_id": d.finding_id,
                            "run_id": d.run_id,
                            "decision": d.decision,
                            "note": d.note,
                            "values_hash": d.values_hash,
                            "field_hashes": d.field_hashes,
                            "source": d.source,
                            "decided_at": d.decided_at,
                        }
                        for d in fresh
                    ],
                )
        return len(fresh)

    def save(
        self,
        change: HistoryChange,
        started: dt.datetime,
        findings: int,
        suppressed: int,
        resolved: int,
    ) -> None:
        """Change this scope's history to this run's view of it (rules.HistoryChange), and log
        the run, in one transaction."""
        mine, rows = self._mine(HISTORY), change.rows
        with self.engine.begin() as connection:
            if change.seen_again_from is None:
                connection.execute(sa.delete(HISTORY).where(mine))
            else:
                connection.execute(
                    sa.update(HISTORY)
                    .where(mine & (HISTORY.c.last_run == change.seen_again_from))
                    .values(last_seen=change.seen_on, last_run=change.run_id)
                )
                ids = rows["finding_id"].tolist()
                for batch in _in_lists(ids):
                    connection.execute(
                        sa.delete(HISTORY).where(mine & HISTORY.c.finding_id.in_(batch))
                    )
            _insert(connection, HISTORY, _column_values(rows, {"scope": self.scope}))
            connection.execute(
                sa.delete(RUNS).where(
                    (RUNS.c.run_id == change.run_id) & (RUNS.c.scope == self.scope)
                )
            )
            connection.execute(
                sa.insert(RUNS),
                [
                    {
                        "run_id": change.run_id,
                        "scope": self.scope,
                        "started": started.replace(tzinfo=None),
                        "findings": findings,
                        "suppressed": suppressed,
                        "resolved": resolved,
                    }
                ],
            )
