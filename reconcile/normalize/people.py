"""Normalise a validated person table into canonical columns and matching keys.

Vectorised by value, not by row: each column is factorised, every distinct value is parsed once
(lists repeat names, hamlets, years and sexes a great deal), and the features are taken back to
the rows by code with numpy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from reconcile.frames import per_distinct, shared_values
from reconcile.identity import resident_ids
from reconcile.kinds import DECEASED_STATUSES, ListKind
from reconcile.normalize.dates import DateError, parse_date
from reconcile.normalize.identifiers import (
    parse_insurance_number,
    parse_phone,
    personal_id_digits,
)
from reconcile.normalize.names import Name, clean_text, fold, iy_key, parse_name, phonetic_syllable
from reconcile.normalize.sex_and_place import commune_key, hamlet_key, parse_sex, with_commune

SEX_LABELS = {"M": "Nam", "F": "Nữ"}
NAME_FEATURES = (
    "name_raw",
    "name",
    "name_upper",
    "name_canonical",
    "name_fold",
    "name_nomid",
    "name_nomid_fold",
    "family_fold",
    "given_fold",
    "given_phon",
    "name_phon",
    "name_nomid_phon",
    "name_iy",
    "name_has_diacritics",
    "family_canonical",
    "given_canonical",
    "name_nospace",
    "name_nospace_fold",
    "name_sorted_fold",
    "middle_sex",
)
# Blocking keys are None, never "", so an empty field never joins two rows.
_KEYS = (
    "commune",
    "name_fold",
    "name_nomid_fold",
    "given_fold",
    "given_phon",
    "family_fold",
    "hamlet_key",
    "name_phon",
    "name_nomid_phon",
    "name_iy",
    "name_nospace_fold",
    "name_sorted_fold",
    "pid_head",
    "pid_tail",
)


@lru_cache(maxsize=262144)
def name_features(raw: object) -> tuple:
    name: Name = parse_name(raw)
    folded = fold(name.canonical)
    given_fold = fold(name.given)
    nomid_fold = fold(name.without_common_middle)
    return (
        clean_text(raw),
        name.display,
        name.display.upper(),
        name.canonical,
        folded,
        name.without_common_middle,
        nomid_fold,
        fold(name.family),
        given_fold,
        phonetic_syllable(given_fold),
        " ".join(phonetic_syllable(w) for w in folded.split()),
        " ".join(phonetic_syllable(w) for w in nomid_fold.split()),
        iy_key(name.canonical),
        folded != name.canonical,
        name.family,
        name.given,
        name.canonical.replace(" ", ""),
        folded.replace(" ", ""),
        " ".join(sorted(folded.split())),
        _middle_sex(name.middle),
    )


def _middle_sex(middle: str) -> str | None:
    """Thị is a woman's middle name, Văn a man's (domain.md §1): what the name says of sex."""
    words = middle.split()
    if "thị" in words and "văn" not in words:
        return "F"
    if "văn" in words and "thị" not in words:
        return "M"
    return None


def _codes(values: pd.Series, fn: Callable[[object], object]) -> tuple[np.ndarray, list]:
    """Factorise a column: per-row codes into a table of fn(value) per distinct value, with the
    last entry for empty cells (code -1)."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    return codes, [fn(v) for v in uniques] + [fn(None)]


def _spread(codes: np.ndarray, table: Sequence) -> np.ndarray:
    column = np.empty(len(table), dtype=object)
    column[:] = table
    return column[codes]


def _by_value(values: pd.Series, fn: Callable[[object], object]) -> np.ndarray:
    """fn applied once per distinct value, spread back over the rows (object array)."""
    return per_distinct(values, fn, missing=fn(None))


def _by_value_columns(
    values: pd.Series, fn: Callable[[object], Sequence], names: Sequence[str]
) -> dict[str, np.ndarray]:
    """fn returns one tuple per distinct value; each position becomes a column."""
    codes, table = _codes(values, fn)
    return {name: _spread(codes, [t[i] for t in table]) for i, name in enumerate(names)}


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def _death_date(value, today, pivot):
    """Validation has rejected unreadable death dates; parse what is left."""
    try:
        return parse_date(value, today, pivot)
    except DateError:
        return None


def _date_parts(date) -> tuple:
    if date is None:
        return (None, None, None, "")
    return (date.year, date.month, date.day, date.display())


def normalize_people(
    frame: pd.DataFrame,
    kind: ListKind,
    today: dt.date | None = None,
    hamlet_aliases: dict[str, str] | None = None,
    list_date: dt.date | None = None,
) -> pd.DataFrame:
    """Canonical columns and keys. `list_date` decides the century of two-digit years."""
    out = frame[["source_file", "source_sheet", "source_row"]].copy()
    for name, values in _by_value_columns(
        _column(frame, "full_name"), name_features, NAME_FEATURES
    ).items():
        out[name] = values
    out["name_has_diacritics"] = out["name_has_diacritics"].astype(bool)

    codes, dates = _codes(_column(frame, "birth_date"), lambda v: parse_date(v, today, list_date))
    for i, name in enumerate(("birth_year", "birth_month", "birth_day", "birth_display")):
        column = _spread(codes, [_date_parts(d)[i] for d in dates])
        out[name] = column if i == 3 else pd.array(column, dtype="Int64")
    # windows of five years, one shifted by two: two years one or two apart share one of them
    out["birth_lustrum"] = out["birth_year"] // 5
    out["birth_lustrum_shifted"] = (out["birth_year"] + 2) // 5

    out["sex"] = _by_value(_column(frame, "sex"), parse_sex)
    out["pid"] = personal_id_digits(_column(frame, "personal_id"))
    # halves of a 12-digit ID as blocking keys: one mistyped digit leaves the other half intact
    pid = pd.Series(out["pid"], index=out.index, dtype=object)
    twelve = pid.str.len().eq(12).fillna(False).to_numpy(dtype=bool)
    out["pid_head"] = shared_values(np.where(twelve, pid.str[:6], None))
    out["pid_tail"] = np.where(twelve, pid.str[6:], None)
    out["insurance"] = _by_value(_column(frame, "insurance_number"), parse_insurance_number)
    out["phone"] = _by_value(_column(frame, "phone"), parse_phone)
    aliases = {hamlet_key(k): hamlet_key(v) for k, v in (hamlet_aliases or {}).items()}
    out["hamlet"] = _by_value(_column(frame, "hamlet"), clean_text)
    out["commune"] = _by_value(_column(frame, "commune"), commune_key)
    out["hamlet_key"] = with_commune(
        pd.Series(
            _by_value(_column(frame, "hamlet"), lambda v: hamlet_key(v, aliases)), index=out.index
        ),
        out["commune"],
    )

    out["household"] = _by_value(_column(frame, "household"), lambda v: clean_text(v) or None)
    death = _codes(_column(frame, "death_date"), lambda v: _death_date(v, today, list_date))
    out["death_display"] = _spread(death[0], [d.display() if d else "" for d in death[1]])
    if kind is ListKind.REGISTER:
        codes = pd.Series(_by_value(_column(frame, "resident_code"), clean_text), index=out.index)
        out["resident_code"] = codes
        out["person_id"] = resident_ids(out, codes)
        status = _by_value(_column(frame, "status"), lambda v: fold(clean_text(v)).lower())
        out["deceased"] = np.isin(status, DECEASED_STATUSES)
    else:
        out["deceased"] = kind is ListKind.DEATH
    for column in _KEYS:
        values = out[column].to_numpy(dtype=object)
        out[column] = np.where(values == "", None, values)
    return out


def inherit_commune(people: pd.DataFrame, commune: str) -> pd.DataFrame:
    """A commune's own list names no commune: its rows are in `commune` (the register's one
    commune, or the run's), so their hamlet keys carry it as the register's do. Both columns are
    set after reading, from the register: matching.memory.LATE_COLUMNS must name them."""
    if not commune or "commune" not in people or people["commune"].notna().any():
        return people
    out = people.copy()
    out["commune"] = commune
    out["hamlet_key"] = with_commune(out["hamlet_key"], out["commune"])
    return out


def single_commune(register: pd.DataFrame) -> str:
    """The register's commune when it names exactly one, else ''."""
    communes = register["commune"].dropna().unique() if "commune" in register else []
    return str(communes[0]) if len(communes) == 1 else ""
