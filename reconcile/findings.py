"""The rules of each list kind, turning links into typed discrepancies the police act on.

Only real differences become findings: names are compared canonically (case, spacing, NFD, tone
placement, a dropped Văn/Thị and a list typed without diacritics are not differences) and dates at
the precision both sides share.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reconcile.kinds import ListKind
from reconcile.matching.comparison import explain_pairs
from reconcile.normalize.dates import dates_agree
from reconcile.normalize.identifiers import id_contradictions
from reconcile.normalize.names import names_agree
from reconcile.normalize.people import SEX_LABELS

FINDING_COLUMNS = [
    "finding_id",
    "type",
    "list_kind",
    "source_file",
    "source_sheet",
    "source_row",
    "person_id",
    "related_person_id",
    "field",
    "source_value",
    "register_value",
    "score",
    "status",
]
# Kept for the workbook only, never in findings.csv.
EXTRA_COLUMNS = ["list_label", "explanation"]

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


@dataclass
class LinkedList:
    """One list after matching: its normalised valid rows and one link per row."""

    label: str
    kind: ListKind
    people: pd.DataFrame
    links: pd.DataFrame  # decision.LINK_COLUMNS
    scored: pd.DataFrame  # every compared pair, for explanations


def finding_id(kind: str, list_label: str, subject: str, field: str) -> str:
    """Stable across runs for the same person, list and fact."""
    return hashlib.sha1(f"{kind}|{list_label}|{subject}|{field}".encode()).hexdigest()[:16]


def _finding(
    kind: str,
    list_kind: str,
    list_label: str,
    row: pd.Series,
    person_id: str,
    subject: str,
    field: str = "",
    source_value: str = "",
    register_value: str = "",
    score: float | None = None,
    related: str = "",
    explanation: str = "",
) -> dict:
    return {
        "finding_id": finding_id(kind, list_label, subject, field),
        "type": kind,
        "list_kind": list_kind,
        "source_file": row["source_file"],
        "source_sheet": row["source_sheet"],
        "source_row": int(row["source_row"]),
        "person_id": person_id,
        "related_person_id": related,
        "field": field,
        "source_value": source_value,
        "register_value": register_value,
        "score": "" if score is None else score,
        "status": "new",
        "list_label": list_label,
        "explanation": explanation,
    }


def register_findings(register: pd.DataFrame, duplicates: pd.DataFrame) -> list[dict]:
    out = []
    problems = id_contradictions(register["pid"], register["sex"], register["birth_year"])
    for index in problems.index[problems != ""]:
        row = register.loc[index]
        out.append(
            _finding(
                "id_invalid",
                "register",
                "register",
                row,
                row["person_id"],
                row["person_id"],
                "personal_id",
                register_value=row["pid"],
                explanation=problems[index],
            )
        )
    why = explain_pairs(duplicates)
    for pair, explanation in zip(duplicates.itertuples(index=False), why, strict=True):
        first, second = register.loc[pair.left], register.loc[pair.right]
        subject = "|".join(sorted([first["person_id"], second["person_id"]]))
        out.append(
            _finding(
                "register_duplicate",
                "register",
                "register",
                second,
                second["person_id"],
                subject,
                source_value=f"{second['name']}, {second['birth_display']}",
                register_value=f"{first['name']}, {first['birth_display']}",
                score=pair.score,
                related=first["person_id"],
                explanation=explanation,
            )
        )
    return out


def _take(frame: pd.DataFrame, labels, column: str) -> np.ndarray:
    """frame[column] at the given index labels (-1 positions, i.e. no label, give None)."""
    position = frame.index.get_indexer(labels)
    values = frame[column].to_numpy(dtype=object)
    return np.where(position >= 0, values[np.maximum(position, 0)], None)


def _differences(p: dict, r: dict, matched: np.ndarray, own_id_wrong: np.ndarray) -> dict:
    """Per matched row, which fields really differ (arrays over the list's links)."""
    rows = np.flatnonzero(matched)
    name = np.zeros(len(matched), dtype=bool)
    name[rows] = [not names_agree(p["name_obj"][i], r["name_obj"][i]) for i in rows]
    birth = np.zeros(len(matched), dtype=bool)
    birth[rows] = [
        p["birth"][i] is not None
        and not p["birth"][i].possible_placeholder
        and not dates_agree(p["birth"][i], r["birth"][i])
        for i in rows
    ]
    sex = matched & pd.notna(p["sex"]) & pd.notna(r["sex"]) & (p["sex"] != r["sex"])
    out = {"name_differs": name, "birth_date_differs": birth, "sex_differs": sex}
    for field, column in (("personal_id", "pid"), ("insurance_number", "insurance")):
        mine, theirs = pd.notna(p[column]), pd.notna(r[column])
        out[f"missing:{field}"] = matched & mine & ~theirs
        differ = matched & mine & theirs & (p[column] != r[column])
        if field == "personal_id":
            differ &= ~own_id_wrong  # the list's own number is wrong: id_invalid says so
        out[f"differ:{field}"] = differ
    return out


def _explanations(linked: LinkedList, wanted: np.ndarray, right: np.ndarray) -> dict[int, str]:
    """Explanations of the chosen pair of each wanted row (by position), built in one pass."""
    rows = np.flatnonzero(wanted)
    chosen = pd.DataFrame(
        {"row": rows, "left": linked.links["left"].to_numpy()[rows], "right": right[rows]}
    )
    pairs = chosen.merge(linked.scored, on=["left", "right"], how="left")
    return dict(zip(pairs["row"], explain_pairs(pairs), strict=True))


def list_findings(linked: LinkedList, register: pd.DataFrame, dead: set[int]) -> list[dict]:
    """Findings of one list. `dead`: register indexes that a death list in this run matched.

    The rules run on whole columns; Python only builds the rows that are findings."""
    kind, label = linked.kind.value, linked.label
    links = linked.links
    people_columns = (
        "source_file",
        "source_sheet",
        "source_row",
        "name_raw",
        "name_fold",
        "birth_display",
        "name_obj",
        "birth",
        "sex",
        "pid",
        "insurance",
    )
    p = {c: _take(linked.people, links["left"], c) for c in people_columns}
    right = links["right"].astype("float").fillna(-1).astype(int).to_numpy()
    r = {
        c: _take(register, right, c)
        for c in (
            "person_id",
            "name_raw",
            "name_obj",
            "birth",
            "sex",
            "pid",
            "insurance",
            "deceased",
        )
    }
    problems = (
        id_contradictions(linked.people["pid"], linked.people["sex"], linked.people["birth_year"])
        .reindex(links["left"])
        .to_numpy()
    )
    decision, ambiguous = links["decision"].to_numpy(), links["ambiguous"].to_numpy()
    matched = (decision != "none") & ~ambiguous
    own_id_wrong = problems != ""
    diffs = _differences(p, r, matched, own_id_wrong)
    deceased = np.array([bool(x) for x in r["deceased"]])
    death_active = matched & (linked.kind is ListKind.DEATH) & ~deceased
    benefit_dead = (
        matched & (linked.kind is ListKind.WELFARE) & (deceased | np.isin(right, list(dead)))
    )
    flagged = own_id_wrong | (decision == "none") | ambiguous | death_active | benefit_dead
    for mask in diffs.values():
        flagged |= mask
    why_of = _explanations(linked, flagged & (decision != "none"), right)
    out = []
    for i in np.flatnonzero(flagged):
        row = {
            "source_file": p["source_file"][i],
            "source_sheet": p["source_sheet"][i],
            "source_row": p["source_row"][i],
        }
        person = r["person_id"][i] or ""
        subject = person or f"{p['name_fold'][i]}|{p['birth_display'][i]}"
        listed = f"{p['name_raw'][i]}, {p['birth_display'][i]}"
        score = links.at[i, "score"]
        if own_id_wrong[i]:
            out.append(
                _finding(
                    "id_invalid",
                    kind,
                    label,
                    row,
                    person,
                    subject,
                    "personal_id",
                    p["pid"][i],
                    r["pid"][i] or "",
                    explanation=problems[i],
                )
            )
        if decision[i] == "none":
            missing = (
                "birth_not_in_register" if linked.kind is ListKind.BIRTH else ("not_in_register")
            )
            out.append(_finding(missing, kind, label, row, "", subject, source_value=listed))
            continue
        why = why_of[i]
        if ambiguous[i]:
            candidates = [right[i], *links.at[i, "others"]]
            described = "; ".join(
                f"{register.at[c, 'person_id']}: {register.at[c, 'name']}, "
                f"{register.at[c, 'birth_display']}, {register.at[c, 'hamlet']}"
                for c in candidates
            )
            out.append(
                _finding(
                    "ambiguous_match",
                    kind,
                    label,
                    row,
                    person,
                    f"{p['name_fold'][i]}|{p['birth_display'][i]}",
                    source_value=listed,
                    register_value=described,
                    score=score,
                    related=";".join(register.at[c, "person_id"] for c in links.at[i, "others"]),
                    explanation=why,
                )
            )
            continue
        values = {
            "name_differs": ("full_name", p["name_raw"][i], r["name_raw"][i]),
            "birth_date_differs": (
                "birth_date",
                p["birth"][i] and p["birth"][i].display(),
                r["birth"][i].display() if r["birth"][i] else "",
            ),
            "sex_differs": ("sex", SEX_LABELS.get(p["sex"][i]), SEX_LABELS.get(r["sex"][i])),
        }
        for key, mask in diffs.items():
            if not mask[i]:
                continue
            if key in values:
                field, mine, theirs = values[key]
                finding_type = key
            else:
                rule, field = key.split(":")
                column = "pid" if field == "personal_id" else "insurance"
                mine, theirs = p[column][i], r[column][i] or ""
                finding_type = "missing_in_register" if rule == "missing" else "id_differs"
            out.append(
                _finding(
                    finding_type,
                    kind,
                    label,
                    row,
                    person,
                    person,
                    field,
                    mine,
                    theirs,
                    score,
                    explanation=why,
                )
            )
        if death_active[i]:
            out.append(
                _finding(
                    "deceased_still_active",
                    kind,
                    label,
                    row,
                    person,
                    person,
                    "status",
                    "Đã khai tử",
                    "Đang cư trú",
                    score,
                    explanation=why,
                )
            )
        if benefit_dead[i]:
            where = "dữ liệu dân cư" if deceased[i] else "sổ khai tử"
            out.append(
                _finding(
                    "benefit_to_deceased",
                    kind,
                    label,
                    row,
                    person,
                    person,
                    "status",
                    "Đang hưởng chế độ",
                    f"Đã chết (theo {where})",
                    score,
                    explanation=why,
                )
            )
    return out


def deaths_known(linked_lists: list[LinkedList]) -> set[int]:
    """Register indexes confidently matched by a death list in this run."""
    dead: set[int] = set()
    for linked in linked_lists:
        if linked.kind is ListKind.DEATH:
            sure = linked.links[(linked.links["decision"] != "none") & ~linked.links["ambiguous"]]
            dead.update(int(i) for i in sure["right"].dropna())
    return dead


def build_findings(
    register: pd.DataFrame, duplicates: pd.DataFrame, linked_lists: list[LinkedList]
) -> pd.DataFrame:
    dead = deaths_known(linked_lists)
    rows = register_findings(register, duplicates)
    for linked in linked_lists:
        rows += list_findings(linked, register, dead)
    frame = pd.DataFrame(rows, columns=FINDING_COLUMNS + EXTRA_COLUMNS)
    frame = frame.sort_values(
        ["type", "source_file", "source_row", "field"], kind="stable", ignore_index=True
    )
    # Two rows with no resident can share name and birth year (a district has many namesakes):
    # number the repeats in row order, so every finding keeps an id of its own.
    repeat = frame.groupby("finding_id").cumcount()
    frame.loc[repeat > 0, "finding_id"] += "-" + repeat[repeat > 0].astype(str)
    return frame
