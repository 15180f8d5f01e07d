"""Normalise a validated person table into canonical columns and matching keys.

Each distinct raw value is parsed once (lists repeat family names, hamlets and years a lot), then
mapped back over the column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from reconcile.kinds import DECEASED_STATUSES, ListKind
from reconcile.normalize.dates import parse_date
from reconcile.normalize.identifiers import parse_insurance_number, parse_personal_id
from reconcile.normalize.names import clean_text, fold, parse_name, phonetic_syllable
from reconcile.normalize.sex_and_place import hamlet_key, parse_sex

SEX_LABELS = {"M": "Nam", "F": "Nữ"}


def _per_unique(series: pd.Series, fn: Callable[[object], object]) -> pd.Series:
    """Apply fn once per distinct value (object identity of NaN/None is folded to None)."""
    values = series.astype(object).where(series.notna(), None)
    cache: dict[object, object] = {}
    out = []
    for value in values:
        key = (type(value), value)
        if key not in cache:
            cache[key] = fn(value)
        out.append(cache[key])
    return pd.Series(out, index=series.index, dtype=object)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return (
        frame[name] if name in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    )


def normalize_people(
    frame: pd.DataFrame,
    kind: ListKind,
    today: dt.date | None = None,
    hamlet_aliases: dict[str, str] | None = None,
) -> pd.DataFrame:
    out = frame[["source_file", "source_sheet", "source_row"]].copy()

    names = _per_unique(_column(frame, "full_name"), parse_name)
    out["name_raw"] = _column(frame, "full_name").map(clean_text)
    out["name"] = names.map(lambda n: n.display)
    out["name_canonical"] = names.map(lambda n: n.canonical)
    out["name_fold"] = out["name_canonical"].map(fold)
    out["name_nomid"] = names.map(lambda n: n.without_common_middle)
    out["name_nomid_fold"] = out["name_nomid"].map(fold)
    out["family_fold"] = names.map(lambda n: fold(n.family))
    out["given_fold"] = names.map(lambda n: fold(n.given))
    out["given_phon"] = out["given_fold"].map(phonetic_syllable)
    out["name_phon"] = out["name_fold"].map(
        lambda s: " ".join(phonetic_syllable(w) for w in s.split())
    )
    out["name_has_diacritics"] = out["name_fold"] != out["name_canonical"]
    out["name_obj"] = names

    dates = _per_unique(_column(frame, "birth_date"), lambda v: parse_date(v, today))
    out["birth"] = dates
    out["birth_year"] = dates.map(lambda d: d.year if d else None).astype("Int64")
    out["birth_month"] = dates.map(lambda d: d.month if d else None).astype("Int64")
    out["birth_day"] = dates.map(lambda d: d.day if d else None).astype("Int64")
    out["birth_display"] = dates.map(lambda d: d.display() if d else "")

    out["sex"] = _per_unique(_column(frame, "sex"), parse_sex)
    ids = _per_unique(_column(frame, "personal_id"), parse_personal_id)
    out["pid"] = ids.map(lambda p: p.digits if p else None)
    out["pid_obj"] = ids
    out["insurance"] = _per_unique(_column(frame, "insurance_number"), parse_insurance_number)
    out["hamlet"] = _column(frame, "hamlet").map(clean_text)
    out["hamlet_key"] = _per_unique(
        _column(frame, "hamlet"), lambda v: hamlet_key(v, hamlet_aliases)
    )

    if kind is ListKind.REGISTER:
        codes = _column(frame, "resident_code").map(clean_text)
        fallback = "R" + frame["source_row"].astype(str)
        out["person_id"] = codes.where(codes != "", fallback)
        status = _column(frame, "status").map(lambda v: fold(clean_text(v)).lower())
        out["deceased"] = status.isin(DECEASED_STATUSES)
    else:
        out["deceased"] = kind is ListKind.DEATH
    # Blocking keys use None, never "", so an empty field never joins two rows.
    for column in ("name_fold", "given_fold", "given_phon", "family_fold", "hamlet_key"):
        out[column] = out[column].where(out[column] != "", None)
    return out
