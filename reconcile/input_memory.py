"""An input file read last run and unchanged since is not read again: its normalised rows, its
rejected and layout rows and its counts come back from the decisions store.

The police replace the register when they export a new one, not every night, so most nights
the register (the biggest file) is the one read last night. A file is "unchanged" when its
bytes, the columns the config maps, the hamlet aliases and the code that reads and normalises
it are all the same (digest); anything else reads it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import asdict
from functools import cache
from pathlib import Path

import pandas as pd

from schemas.tables import from_parquet, to_parquet

_PACKAGE = Path(__file__).resolve().parent
_CHUNK = 1 << 20


@cache
def reader_version() -> str:
    """A digest of the package's code (the readers, normalisers and what they use)."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def input_digest(spec, hamlet_aliases: dict[str, str]) -> str | None:
    """What decides a file's prepared rows, or None for a source that is not a file (a
    database table changes without its bytes being ours to hash)."""
    if spec.url or not spec.path.is_file():
        return None
    digest = hashlib.sha256()
    with spec.path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    settings = {
        # two-digit years take their century from the current year
        "year": dt.date.today().year,
        "kind": spec.kind.value,
        "file": spec.path.name,
        "columns": spec.columns,
        "aliases": hamlet_aliases,
        "code": reader_version(),
    }
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _frame_bytes(frame: pd.DataFrame | None) -> bytes | None:
    if frame is None:
        return None
    buffer = io.BytesIO()
    to_parquet(frame, buffer)
    return buffer.getvalue()


def _frame(payload: bytes | None) -> pd.DataFrame | None:
    return None if payload is None else from_parquet(io.BytesIO(payload))


def to_record(prepared) -> dict:
    """A prepared list as the store keeps it: Parquet bytes and its counts as JSON."""
    return {
        "counts": json.dumps(asdict(prepared.counts), ensure_ascii=False),
        "people": _frame_bytes(prepared.people),
        "rejected": _frame_bytes(prepared.rejected),
        "layout": _frame_bytes(prepared.layout),
    }


# A cell rejected for a date in the future (normalize.dates) may be valid on a later day: a file
# with such rows is read again rather than taken as it was. No other verdict depends on the day.
_LATER_VALID = "in the future"


def still_valid(record: dict) -> bool:
    """Whether a stored reading of a file is what reading it today would give."""
    rejected = _frame(record["rejected"])
    if rejected is None or rejected.empty:
        return True
    return not rejected["reason"].astype(str).str.contains(_LATER_VALID, regex=False).any()


def from_record(record: dict, spec, counts_type, prepared_type):
    counts = counts_type(**json.loads(record["counts"]))
    return prepared_type(
        spec,
        counts,
        _frame(record["people"]),
        _frame(record["rejected"]),
        _frame(record["layout"]),
    )
