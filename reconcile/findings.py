"""The rules of each list kind, turning links into typed discrepancies the police act on.

What differs is read from the comparison levels the matcher scored the chosen pair with, so a
finding never disagrees with the match about what agrees: formatting (case, spacing, glued
syllables, NFD, tone placement), a dropped Văn/Thị, a list typed without diacritics and a date
given at a coarser precision are never differences; an i/y spelling, another middle name, a
different digit are. Rules run on whole columns; each finding row carries the person as the list
and as the register give him, for a workbook the police can act on without another file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reconcile.frames import pair_positions
from reconcile.kinds import ListKind
from reconcile.matching.comparison import LEVELS, differs, explain_pairs
from reconcile.normalize.identifiers import id_contradictions
from reconcile.normalize.people import SEX_LABELS

FINDING_COLUMNS = [
    "finding_id",
    "type",
    "list_kind",
    "source_file",
    "source_sheet",
    "source_row",
    "person_id",
    "register_row",
    "related_person_id",
    "related_register_row",
    "field",
    "source_value",
    "register_value",
    "score",
    "probability",
    "decision",
    "status",
]
# The person on both sides, for the workbook (findings.csv carries them too).
PERSON_FIELDS = ("name", "birth", "sex", "id", "hamlet", "commune")
SIDE_COLUMNS = [f"{side}_{f}" for side in ("list", "register") for f in PERSON_FIELDS]
# Kept for the workbook: the list's label and the explanation in Vietnamese.
EXTRA_COLUMNS = [
    "list_label",
    "list_series",
    "explanation",
    "death_date",
    "differing",
    *SIDE_COLUMNS,
]
ALL_COLUMNS = FINDING_COLUMNS + EXTRA_COLUMNS

FINDING_LABELS = {
    "not_in_register": "Không có trong dữ liệu dân cư",
    "name_differs": "Họ tên khác",
    "birth_date_differs": "Ngày sinh khác",
    "sex_differs": "Giới tính khác",
    "id_differs": "Số định danh khác",
    "id_invalid": "Số định danh không hợp lệ hoặc mâu thuẫn",
    "deceased_still_active": "Đã khai tử nhưng còn hoạt động",
    "birth_not_in_register": "Đã khai sinh nhưng chưa có trong dữ liệu dân cư",
    "benefit_to_deceased": "Đang hưởng chế độ nhưng đã chết",
    "register_duplicate": "Trùng lặp trong dữ liệu dân cư",
    "ambiguous_match": "Nhiều người phù hợp, cần xác minh",
    "missing_in_register": "Dữ liệu dân cư thiếu thông tin danh sách có",
}
ID_FIELDS = ("personal_id", "insurance_number")
LEVEL_COLUMNS = list(LEVELS)


@dataclass
class LinkedList:
    """One list after matching: its normalised valid rows and one link per row."""

    label: str
    kind: ListKind
    people: pd.DataFrame
    links: pd.DataFrame  # decision.LINK_COLUMNS
    scored: pd.DataFrame  # every compared pair, for explanations
    series: str = ""  # the list's identity across monthly file names (default: label)


def finding_id(kind: str, series: str, subject: str, field: str, secret: bytes = b"") -> str:
    """Stable across runs for the same person, list and fact. Keyed with the installation's
    secret where there is one, so ids cannot be predicted from public data."""
    return finding_ids([kind], [series], [subject], [field], secret)[0]


# HMAC's pads (RFC 2104), as byte maps: the key XOR 0x36 keys the inner hash, XOR 0x5C the outer
_INNER_PAD = bytes(b ^ 0x36 for b in range(256))
_OUTER_PAD = bytes(b ^ 0x5C for b in range(256))
_BLOCK = hashlib.sha256().block_size


def finding_ids(
    kinds: Iterable[str],
    series: Iterable[str],
    subjects: Iterable[str],
    fields: Iterable[str],
    secret: bytes = b"",
) -> list[str]:
    """finding_id of each (kind, series, subject, field): HMAC-SHA256 keyed with the secret,
    else SHA-1. The secret's inner and outer hash states are made once and copied for each id,
    where hmac.new makes both again for every one (3.4M ids, as at the dirty 3M province: 5-8 s
    against 13-15)."""
    messages = (
        f"{k}|{s}|{subject}|{f}".encode()
        for k, s, subject, f in zip(kinds, series, subjects, fields, strict=True)
    )
    if not secret:
        return [hashlib.sha1(m).hexdigest()[:16] for m in messages]
    key = hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret
    key = key.ljust(_BLOCK, b"\0")
    inner, outer = (hashlib.sha256(key.translate(pad)) for pad in (_INNER_PAD, _OUTER_PAD))

    def keyed(message: bytes) -> str:
        hashed = inner.copy()
        hashed.update(message)
        wrapped = outer.copy()
        wrapped.update(hashed.digest())
        return wrapped.hexdigest()[:20]

    return [keyed(m) for m in messages]


def probability(score: pd.Series | np.ndarray) -> np.ndarray:
    """The model's match probability of a log2-odds score."""
    values = np.asarray(pd.to_numeric(score, errors="coerce"), dtype=float)
    return 1.0 / (1.0 + np.exp2(-np.clip(values, -60, 60)))


def _text(values) -> np.ndarray:
    """Object array with '' for empty cells."""
    series = pd.Series(values, dtype=object)
    return series.where(series.notna(), "").astype(str).to_numpy(dtype=object)


def _side(frame: pd.DataFrame, positions: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    """The person as one table gives him, at the given row positions (-1: nobody)."""
    ok = positions >= 0
    safe = np.maximum(positions, 0)

    def take(column: str) -> np.ndarray:
        if column not in frame:
            return np.full(len(positions), "", dtype=object)
        values = _text(frame[column].to_numpy(dtype=object)[safe])
        return np.where(ok, values, "")

    sex = np.array([SEX_LABELS.get(s, "") for s in take("sex")], dtype=object)
    return {
        f"{prefix}_name": take("name_raw"),
        f"{prefix}_birth": take("birth_display"),
        f"{prefix}_sex": sex,
        f"{prefix}_id": take("pid"),
        f"{prefix}_hamlet": take("hamlet"),
        f"{prefix}_commune": take("commune"),
    }


def _frame(rows: dict[str, object], index: np.ndarray) -> pd.DataFrame:
    """A findings frame from column arrays restricted to `index` (positions)."""
    return pd.DataFrame(
        {k: (v[index] if isinstance(v, np.ndarray) else v) for k, v in rows.items()}
    )


def register_findings(
    register: pd.DataFrame, duplicates: pd.DataFrame, secret: bytes = b""
) -> list[pd.DataFrame]:
    out = []
    positions = np.arange(len(register))
    base = {
        "list_kind": "register",
        "list_label": "register",
        "list_series": "register",
        "source_file": register["source_file"].to_numpy(dtype=object),
        "source_sheet": register["source_sheet"].to_numpy(dtype=object),
        "source_row": register["source_row"].to_numpy(),
        "person_id": register["person_id"].to_numpy(dtype=object),
        "register_row": register["source_row"].to_numpy(),
        **_side(register, positions, "register"),
    }
    problems = id_contradictions(register["pid"], register["sex"], register["birth_year"])
    bad = np.flatnonzero((problems != "").to_numpy())
    if len(bad):
        part = _frame(base, bad)
        part["type"], part["field"] = "id_invalid", "personal_id"
        part["register_value"] = part["register_id"]
        part["explanation"] = problems.to_numpy()[bad]
        part["subject"] = part["person_id"]
        out.append(part)
    if len(duplicates):
        first = register.index.get_indexer(duplicates["left"])
        second = register.index.get_indexer(duplicates["right"])
        # each pair told in the order of its person ids, not of the register's rows, so a new
        # export in another order shows the officer the same finding
        ids = register["person_id"].to_numpy(dtype=object)
        swap = ids[first] > ids[second]
        first, second = np.where(swap, second, first), np.where(swap, first, second)
        part = _frame(base, second)
        other = _frame(_side(register, first, "list"), np.arange(len(first)))
        for column in other:
            part[column] = other[column].to_numpy()
        part["type"], part["field"] = "register_duplicate", ""
        part["related_person_id"] = register["person_id"].to_numpy(dtype=object)[first]
        part["related_register_row"] = register["source_row"].to_numpy()[first]
        part["source_value"] = part["list_name"] + ", " + part["list_birth"]
        part["register_value"] = part["register_name"] + ", " + part["register_birth"]
        part["score"] = duplicates["score"].to_numpy()
        part["differing"] = _differing(
            {f: duplicates[f].astype(object).fillna("").to_numpy() for f in LEVEL_COLUMNS}
        )
        part["explanation"] = [
            f"{why}. {note}"
            for why, note in zip(explain_pairs(duplicates), duplicates["id_note"], strict=True)
        ]
        part["subject"] = [
            "|".join(sorted(pair))
            for pair in zip(part["person_id"], part["related_person_id"], strict=True)
        ]
        out.append(part)
    return out


def _shown_pairs(linked: LinkedList) -> pd.DataFrame:
    """The pair each finding shows: the link's chosen resident, or for a row linked to nobody
    the nearest candidate considered. Its level columns and weights, in link order."""
    columns = ["left", "right", "score", *LEVEL_COLUMNS]
    columns += [c for c in linked.scored if c.startswith("w_")]
    scored = linked.scored
    links = linked.links[["left", "right"]].astype({"right": "float64"})
    unlinked = links["right"].isna().to_numpy()
    if unlinked.any():
        # only the candidates of rows linked to nobody are sorted: the same best pair, at a
        # fraction of sorting every pair
        theirs = scored[scored["left"].isin(links["left"].to_numpy()[unlinked])]
        best = (
            theirs.sort_values(["left", "score"], ascending=[True, False], kind="stable")
            .drop_duplicates("left")
            .set_index("left")["right"]
            .astype("float64")
        )
        links.loc[unlinked, "right"] = links.loc[unlinked, "left"].map(best)
    kept = [c for c in columns if c in scored]
    position = pair_positions(scored, links)
    if position is None:
        pairs = scored[kept].rename(columns={"score": "shown_score"})
        return links.merge(pairs.astype({"right": "float64"}), on=["left", "right"], how="left")
    # what the left merge gives, by a lookup on one int64 per pair; only the shown rows are
    # copied (copying every scored pair's columns cost most of this function)
    values = [c for c in kept if c not in ("left", "right")]
    found = position >= 0
    at = [scored.columns.get_loc(c) for c in values]
    shown = scored.iloc[position[found], at].rename(columns={"score": "shown_score"})
    shown.index = np.flatnonzero(found)
    shown = shown.reindex(np.arange(len(position))) if not found.all() else shown
    return pd.concat([links.reset_index(drop=True), shown.reset_index(drop=True)], axis=1)


def _differing(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Per shown pair, the fields that really differ ("name,birth"), for highlighting."""
    fields = [f for f in ("name", "birth", "sex", "pid", "hamlet") if f in levels]
    flags = {f: differs(f, levels[f]) for f in fields}
    n = len(levels[fields[0]]) if fields else 0
    return np.array([",".join(f for f in fields if flags[f][i]) for i in range(n)], dtype=object)


def _nearest(linked: LinkedList, register: pd.DataFrame, rows: np.ndarray) -> list[str]:
    """For rows linked to nobody: the closest residents the matcher considered, and why not."""
    lefts = linked.links["left"].to_numpy()[rows]
    scored = linked.scored[linked.scored["left"].isin(lefts)]
    if scored.empty:
        return ["Không có cư dân nào gần giống / no resident came close"] * len(rows)
    top = scored.sort_values(["left", "score"], ascending=[True, False]).groupby("left").head(3)
    why = explain_pairs(top)
    position = register.index.get_indexer(top["right"])
    people = register.iloc[position]
    lines = [
        f"{pid}: {name}, {birth} (xác suất {p:.1%}): {reason}"
        for pid, name, birth, p, reason in zip(
            people["person_id"],
            people["name"],
            people["birth_display"],
            probability(top["score"]),
            why,
            strict=True,
        )
    ]
    by_left: dict[object, list[str]] = {}
    for left, line in zip(top["left"], lines, strict=True):
        by_left.setdefault(left, []).append(line)
    empty = ["Không có cư dân nào gần giống / no resident came close"]
    return ["Gần nhất / nearest: " + " | ".join(by_left.get(left, empty)) for left in lefts]


def list_findings(
    linked: LinkedList,
    register: pd.DataFrame,
    dead: dict[int, str],
    secret: bytes = b"",
) -> list[pd.DataFrame]:
    """Findings of one list. `dead`: register index → where a death list of this run says the
    resident died ("khai_tu.xlsx, dòng 12, ngày chết 03/04/2026")."""
    kind, label = linked.kind.value, linked.label
    series = linked.series or label
    links = linked.links.reset_index(drop=True)
    if links.empty:  # a month with no deaths: a list of no rows has nothing to report
        return []
    people = linked.people
    left = people.index.get_indexer(links["left"])
    right = register.index.get_indexer(links["right"].astype("float64").fillna(-1))
    levels = _shown_pairs(linked)
    shown = register.index.get_indexer(levels["right"].fillna(-1))
    decision = links["decision"].to_numpy(dtype=object)
    ambiguous = links["ambiguous"].to_numpy(dtype=bool)
    matched = (decision != "none") & ~ambiguous & (right >= 0)
    base = {
        "list_kind": kind,
        "list_label": label,
        "list_series": series,
        "source_file": people["source_file"].to_numpy(dtype=object)[left],
        "source_sheet": people["source_sheet"].to_numpy(dtype=object)[left],
        "source_row": people["source_row"].to_numpy()[left],
        "person_id": np.where(
            right >= 0, register["person_id"].to_numpy(dtype=object)[np.maximum(right, 0)], ""
        ),
        "register_row": np.where(
            right >= 0, register["source_row"].to_numpy()[np.maximum(right, 0)], None
        ),
        # the chosen pair's score, or for a row linked to nobody the nearest candidate's
        "score": np.where(
            decision == "none", levels["shown_score"].to_numpy(dtype=float), links["score"]
        ),
        "decision": decision,
        "death_date": _text(people["death_display"].to_numpy(dtype=object)[left])
        if "death_display" in people
        else "",
        **_side(people, left, "list"),
        **_side(register, shown, "register"),
    }
    level = {c: levels[c].astype(object).fillna("").to_numpy() for c in LEVEL_COLUMNS}
    base["differing"] = _differing(level)
    unmatched_subject = (
        _text(people["name_fold"].to_numpy(dtype=object)[left]) + "|" + base["list_birth"]
    )
    subject = np.where(matched, base["person_id"], unmatched_subject)
    own = (
        id_contradictions(people["pid"], people["sex"], people["birth_year"])
        .reindex(links["left"])
        .to_numpy()
    )
    register_pid = np.array([bool(x) for x in base["register_id"]]) & (right >= 0)
    list_pid = np.array([bool(x) for x in base["list_id"]])
    deceased = register["deceased"].to_numpy(dtype=bool)[np.maximum(right, 0)] & (right >= 0)
    death_elsewhere = np.array([r in dead for r in links["right"].astype("float64").fillna(-1)])

    # A pair's explanation is written only for rows that become findings: most matched rows
    # raise none, and explaining all of them cost as much as the rest of this function.
    explainable = matched | ambiguous
    explanation = np.full(len(links), "", dtype=object)
    explained = np.zeros(len(links), dtype=bool)

    def explanation_of(rows: np.ndarray) -> np.ndarray:
        todo = rows[explainable[rows] & ~explained[rows]]
        if len(todo):
            pairs = levels.iloc[todo].assign(score=links["score"].to_numpy()[todo])
            explanation[todo] = explain_pairs(pairs)
            explained[todo] = True
        return explanation[rows]

    list_insurance = _text(people["insurance"].to_numpy(dtype=object)[left])
    register_insurance = np.where(
        matched, _text(register["insurance"].to_numpy(dtype=object)[np.maximum(right, 0)]), ""
    )

    out = []

    def add(
        mask,
        finding_type,
        field="",
        source=None,
        registered=None,
        note=None,
        subj=None,
        then_explain=False,
    ):
        """Findings of `finding_type` on the rows of `mask`. Their explanation is `note`, or
        with then_explain the note followed by the pair's explanation, or (no note) the pair's
        explanation alone."""
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        part = _frame(base, rows)
        part["type"], part["field"] = finding_type, field
        part["source_value"] = source[rows] if isinstance(source, np.ndarray) else (source or "")
        part["register_value"] = (
            registered[rows] if isinstance(registered, np.ndarray) else (registered or "")
        )
        if note is None:
            part["explanation"] = explanation_of(rows)
        else:
            noted = note[rows] if isinstance(note, np.ndarray) else np.full(len(rows), note, object)
            part["explanation"] = noted + explanation_of(rows) if then_explain else noted
        part["subject"] = (subj if subj is not None else subject)[rows]
        out.append(part)

    none = decision == "none"
    missing_type = "birth_not_in_register" if linked.kind is ListKind.BIRTH else "not_in_register"
    listed = base["list_name"] + ", " + base["list_birth"]
    nearest = np.full(len(links), "", dtype=object)
    if none.any():
        nearest[np.flatnonzero(none)] = _nearest(linked, register, np.flatnonzero(none))
    add(none, missing_type, source=listed, note=nearest, subj=unmatched_subject)
    # the list's own number contradicts its own row, and no register number answers it
    add(
        (own != "") & (none | (matched & ~register_pid)),
        "id_invalid",
        "personal_id",
        base["list_id"],
        base["register_id"],
        note=own,
    )
    if ambiguous.any():
        others = links["others"]
        described = []
        related = []
        for i in np.flatnonzero(ambiguous):
            candidates = [links.at[i, "right"], *others.iat[i]]
            described.append(
                "; ".join(
                    f"{register.at[c, 'person_id']}: {register.at[c, 'name']}, "
                    f"{register.at[c, 'birth_display']}, {register.at[c, 'hamlet']}"
                    for c in candidates
                )
            )
            related.append(";".join(register.at[c, "person_id"] for c in others.iat[i]))
        described_all = np.full(len(links), "", dtype=object)
        related_all = np.full(len(links), "", dtype=object)
        described_all[ambiguous] = described
        related_all[ambiguous] = related
        add(
            ambiguous,
            "ambiguous_match",
            source=listed,
            registered=described_all,
            subj=unmatched_subject,
        )
        out[-1]["related_person_id"] = related_all[ambiguous]

    name_note = np.where(
        level["name"] == "middle_differs",
        "Tên đệm khác hoặc thiếu / the middle name differs or is missing. ",
        "",
    )
    add(
        matched & differs("name", level["name"]),
        "name_differs",
        "full_name",
        base["list_name"],
        base["register_name"],
        note=name_note,
        then_explain=True,
    )
    add(
        matched & differs("birth", level["birth"]),
        "birth_date_differs",
        "birth_date",
        base["list_birth"],
        base["register_birth"],
    )
    add(
        matched & differs("sex", level["sex"]),
        "sex_differs",
        "sex",
        base["list_sex"],
        base["register_sex"],
    )
    # text only where the list's own number contradicts its row: a fixed-width string array
    # over every row cost more than the rest of the list's findings
    own_note = np.full(len(own), "", dtype=object)
    contradicted = np.flatnonzero(own != "")
    own_note[contradicted] = [
        f"Số trong danh sách cũng mâu thuẫn với chính dòng đó: {problem}. "
        for problem in own[contradicted]
    ]
    add(
        matched & differs("pid", level["pid"]),
        "id_differs",
        "personal_id",
        base["list_id"],
        base["register_id"],
        note=own_note,
        then_explain=True,
    )
    add(
        matched & differs("insurance", level["insurance"]),
        "id_differs",
        "insurance_number",
        list_insurance,
        register_insurance,
    )
    add(
        matched & list_pid & ~register_pid,
        "missing_in_register",
        "personal_id",
        base["list_id"],
        "",
    )
    add(
        matched & (list_insurance != "") & (register_insurance == ""),
        "missing_in_register",
        "insurance_number",
        list_insurance,
        "",
    )
    if linked.kind is ListKind.DEATH:
        died = np.where(
            base["death_date"] != "", "Đã khai tử, ngày chết " + base["death_date"], "Đã khai tử"
        )
        add(matched & ~deceased, "deceased_still_active", "status", died, "Đang cư trú")
    if linked.kind is ListKind.WELFARE:
        where = np.array(
            [
                "Đã chết (theo dữ liệu dân cư)"
                if d
                else f"Đã chết (theo sổ khai tử: {dead.get(r, '')})"
                for d, r in zip(deceased, links["right"].astype("float64").fillna(-1), strict=True)
            ],
            dtype=object,
        )
        add(
            matched & (deceased | death_elsewhere),
            "benefit_to_deceased",
            "status",
            "Đang hưởng chế độ",
            where,
        )
    return out


def deaths_known(linked_lists: list[LinkedList]) -> dict[int, str]:
    """Register index → where a death list of this run confidently says the resident died."""
    dead: dict[int, str] = {}
    for linked in linked_lists:
        if linked.kind is not ListKind.DEATH:
            continue
        sure = linked.links[(linked.links["decision"] != "none") & ~linked.links["ambiguous"]]
        rows = linked.people.loc[sure["left"]]
        dates = (
            rows["death_display"] if "death_display" in rows else pd.Series("", index=rows.index)
        )
        for right, file, row, date in zip(
            sure["right"], rows["source_file"], rows["source_row"], dates, strict=True
        ):
            if pd.notna(right):
                when = f", ngày chết {date}" if date else ""
                dead.setdefault(int(right), f"{file}, dòng {row}{when}")
    return dead


def build_findings(
    register: pd.DataFrame,
    duplicates: pd.DataFrame | Callable[[], pd.DataFrame],
    linked_lists: list[LinkedList],
    secret: bytes = b"",
    scope: str = "",
) -> pd.DataFrame:
    """Every finding of a run. Ids are keyed with the installation's `secret` and carry the
    commune's `scope`, so two communes sharing a store never share an id. `duplicates` (the
    register's duplicate pairs) may be a call that gives them: it is made after the lists'
    findings, so that a search still running elsewhere has that time to end."""
    dead = deaths_known(linked_lists)
    of_lists = [p for linked in linked_lists for p in list_findings(linked, register, dead, secret)]
    if callable(duplicates):
        duplicates = duplicates()
    parts = [*register_findings(register, duplicates, secret), *of_lists]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=ALL_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)
    # the pieces are a second copy of every finding: let go before the columns are copied again
    del parts, of_lists
    prefix = f"{scope}|" if scope else ""
    frame["finding_id"] = finding_ids(
        frame["type"],
        (prefix + s for s in frame["list_series"]),
        frame["subject"],
        frame["field"],
        secret,
    )
    frame["status"] = "new"
    frame["probability"] = probability(frame["score"]) if "score" in frame else np.nan
    frame = _filled_in_order(frame)
    frame["finding_id"] = numbered_repeats(frame["finding_id"])
    return frame


def numbered_repeats(ids: pd.Series) -> pd.Series:
    """`ids` with each repeat of an id numbered in row order ("-1", "-2"): two rows with no
    resident can share name and birth date (a district has many namesakes), and every finding
    keeps an id of its own. Counted among the repeated ids alone: grouping all 3.4M of a dirty
    province's took 13-20 s (2.7-3.8 s so)."""
    repeated = ids[ids.duplicated(keep=False).to_numpy()]
    repeat = repeated.groupby(repeated, sort=False).cumcount()
    repeat = repeat[repeat > 0]
    numbered = ids.copy()
    numbered.loc[repeat.index] = repeated.loc[repeat.index] + "-" + repeat.astype(str)
    return numbered


def _filled_in_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The findings' columns (ALL_COLUMNS) as objects, an empty cell as "", sorted by type and
    where each was read. Made a column at a time: a dirty province's millions of findings
    would otherwise be copied whole three times (select, fill, sort)."""
    keys = {
        column: _objects(frame, column) for column in ("type", "source_file", "source_row", "field")
    }
    order = _stable_order(list(keys.values()))
    return pd.DataFrame(
        {
            column: (keys[column] if column in keys else _objects(frame, column))[order]
            for column in ALL_COLUMNS
        }
    )


def _stable_order(keys: list[np.ndarray]) -> np.ndarray:
    """The positions that sort the rows by each of `keys` in turn, ties in the order given, as
    DataFrame.sort_values(kind="stable") gives them, from each key's ranks: pandas sorted the
    dirty 3M province's 3.4M findings by these object columns in 4-5 s."""
    return np.lexsort([_ranks(key) for key in reversed(keys)])  # the last key sorts first


def _ranks(key: np.ndarray) -> np.ndarray:
    """Integers that sort as `key` does: a column of row numbers as themselves (ranking 2M
    distinct numbers held as objects took 4.7 s), any other by its distinct values in order."""
    try:
        numbers = key.astype(np.int64)
    except (TypeError, ValueError, OverflowError):  # text, blanks, a number past int64
        numbers = None
    if numbers is not None and (numbers == key).all():
        return numbers
    return pd.factorize(key, sort=True)[0]


def _objects(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), "", dtype=object)
    values = frame[column].to_numpy(dtype=object, copy=True)
    values[pd.isna(values)] = ""
    return values
