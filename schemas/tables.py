"""The columnar contract between stages: pandera schemas of the normalised person tables and the
scored pair tables, checked where they are made (normalize_stage, matching.engine.run).

Every column is a primitive a columnar engine holds (Arrow, Parquet, Dask, DuckDB): text or
null, nullable integers, booleans, floats and level categories. A date is birth_year /
birth_month / birth_day, its precision being which of them are present; no Python object
travels between stages. `to_parquet` / `from_parquet` keep the contract across a file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from reconcile.matching.comparison import LEVELS


def _text_or_null(series: pd.Series) -> bool:
    """Python str or None in an object column (vectorised: pandas' own type inference)."""
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


# ignore_na=False: the check skips nulls itself, and pandera's own skipping first tests every
# column for nulls and copies it without them (a third of a 300k register's validation)
TEXT = pa.Column(
    object, pa.Check(_text_or_null, name="text_or_null", ignore_na=False), nullable=True
)
INTEGER = pa.Column("Int64", nullable=True)

_NAME_KEYS = (
    "name_raw name name_upper name_canonical name_fold name_nomid name_nomid_fold family_fold "
    "given_fold given_phon name_phon name_nomid_phon name_iy family_canonical given_canonical "
    "name_nospace name_nospace_fold name_sorted_fold middle_sex"
).split()
_OTHER_TEXT = (
    "source_file source_sheet birth_display sex pid pid_head pid_tail insurance phone hamlet "
    "hamlet_key commune household death_display"
).split()
_INTEGERS = "birth_year birth_month birth_day birth_lustrum birth_lustrum_shifted".split()

PEOPLE = pa.DataFrameSchema(
    {
        "source_row": pa.Column("int64"),
        **{c: TEXT for c in _NAME_KEYS + _OTHER_TEXT},
        **{c: INTEGER for c in _INTEGERS},
        "birth_month": pa.Column("Int64", pa.Check.in_range(1, 12), nullable=True),
        "birth_day": pa.Column("Int64", pa.Check.in_range(1, 31), nullable=True),
        "sex": pa.Column(object, pa.Check.isin(["M", "F"]), nullable=True),
        "name_has_diacritics": pa.Column(bool),
        "deceased": pa.Column(bool),
    },
    name="people",
    strict=False,  # a list may carry more (its own columns for the report)
)
REGISTER = PEOPLE.add_columns(
    {
        "resident_code": TEXT,
        # what the resident is known by (identity.py): never empty, never shared
        "person_id": pa.Column(object, unique=True, nullable=False),
    }
).set_name("register")

PAIRS = pa.DataFrameSchema(
    {
        "left": pa.Column("int64"),
        "right": pa.Column("int64"),
        **{
            field: pa.Column(
                pd.CategoricalDtype(list(levels)), pa.Check.notin([""]), nullable=False
            )
            for field, levels in LEVELS.items()
        },
        "birth_precise": pa.Column(bool),
        "score": pa.Column(float),
    },
    name="pairs",
    strict=False,  # weights (w_*) come with fitted scores
)


# The schemas coerce nothing, so validating in place only spares a copy of the table (0.4 s for
# a 300k register); the callers hand over tables they have just made.
def check_people(frame: pd.DataFrame, register: bool = False) -> pd.DataFrame:
    return (REGISTER if register else PEOPLE).validate(frame, inplace=True)


def check_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    return PAIRS.validate(frame, inplace=True)


def to_parquet(frame: pd.DataFrame, path, extra: dict | None = None) -> None:
    """`frame` with its index, and `extra` columns (name → array, one value a row) after its
    own: added to the Arrow table, since adding them to a wide frame copies it whole (about a
    second for a 300,000-row register)."""
    import pyarrow
    import pyarrow.parquet

    table = pyarrow.Table.from_pandas(frame, preserve_index=True)
    for name, values in (extra or {}).items():
        table = table.append_column(name, pyarrow.array(values))
    pyarrow.parquet.write_table(table, path)


def from_parquet(path: Path) -> pd.DataFrame:
    """A table written by to_parquet, with its object text columns as they were."""
    frame = pd.read_parquet(path)
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.StringDtype) or frame[column].dtype == "string":
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame
