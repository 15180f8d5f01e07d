"""The rules of each list kind, turning links into typed discrepancies the police act on.

Only real differences become findings: names are compared canonically (case, spacing, NFD, tone
placement, a dropped Văn/Thị and a list typed without diacritics are not differences) and dates at
the precision both sides share.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from reconcile.kinds import ListKind
from reconcile.matching.comparison import explain
from reconcile.normalize.dates import dates_agree
from reconcile.normalize.identifiers import PersonalId
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


def _id_contradictions(row: pd.Series) -> list[str]:
    if not row["pid"]:
        return []
    year = row["birth_year"] if pd.notna(row["birth_year"]) else None
    return PersonalId(row["pid"]).contradictions(row["sex"], year)


def register_findings(register: pd.DataFrame, duplicates: pd.DataFrame) -> list[dict]:
    out = []
    for _, row in register.iterrows():
        problems = _id_contradictions(row)
        if problems:
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
                    explanation="; ".join(problems),
                )
            )
    for pair in duplicates.itertuples(index=False):
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
                explanation=explain(pd.Series(pair._asdict())),
            )
        )
    return out


def _field_differences(row: pd.Series, resident: pd.Series) -> list[tuple[str, str, str, str]]:
    """(type, field, list value, register value) for every real difference of a matched row."""
    out = []
    if not names_agree(row["name_obj"], resident["name_obj"]):
        out.append(("name_differs", "full_name", row["name_raw"], resident["name_raw"]))
    birth, reg_birth = row["birth"], resident["birth"]
    if birth is not None and not birth.possible_placeholder and not dates_agree(birth, reg_birth):
        out.append(
            (
                "birth_date_differs",
                "birth_date",
                birth.display(),
                reg_birth.display() if reg_birth else "",
            )
        )
    if row["sex"] and resident["sex"] and row["sex"] != resident["sex"]:
        out.append(("sex_differs", "sex", SEX_LABELS[row["sex"]], SEX_LABELS[resident["sex"]]))
    for field, column in (("personal_id", "pid"), ("insurance_number", "insurance")):
        mine, theirs = row[column], resident[column]
        if mine and not theirs:
            out.append(("missing_in_register", field, mine, ""))
        elif mine and theirs and mine != theirs:
            if field == "personal_id" and _id_contradictions(row):
                continue  # the list's own number is wrong: reported as id_invalid instead
            out.append(("id_differs", field, mine, theirs))
    return out


def list_findings(linked: LinkedList, register: pd.DataFrame, dead: set[int]) -> list[dict]:
    """Findings of one list. `dead`: register indexes that a death list in this run matched."""
    out = []
    kind = linked.kind.value
    label = linked.label
    scored = linked.scored.set_index(["left", "right"])
    for link in linked.links.itertuples(index=False):
        row = linked.people.loc[link.left]
        problems = _id_contradictions(row)
        resident = register.loc[link.right] if pd.notna(link.right) else None
        person = resident["person_id"] if resident is not None else ""
        subject = person or f"{row['name_fold']}|{row['birth_display']}"
        if problems:
            out.append(
                _finding(
                    "id_invalid",
                    kind,
                    label,
                    row,
                    person,
                    subject,
                    "personal_id",
                    row["pid"],
                    (resident["pid"] or "") if resident is not None else "",
                    explanation="; ".join(problems),
                )
            )
        if link.decision == "none":
            missing_type = (
                "birth_not_in_register" if linked.kind is ListKind.BIRTH else ("not_in_register")
            )
            out.append(
                _finding(
                    missing_type,
                    kind,
                    label,
                    row,
                    "",
                    subject,
                    source_value=f"{row['name_raw']}, {row['birth_display']}",
                )
            )
            continue
        why = explain(scored.loc[(link.left, link.right)])
        if link.ambiguous:
            candidates = [link.right, *link.others]
            described = "; ".join(
                f"{register.at[i, 'person_id']}: {register.at[i, 'name']}, "
                f"{register.at[i, 'birth_display']}, {register.at[i, 'hamlet']}"
                for i in candidates
            )
            out.append(
                _finding(
                    "ambiguous_match",
                    kind,
                    label,
                    row,
                    person,
                    f"{row['name_fold']}|{row['birth_display']}",
                    source_value=f"{row['name_raw']}, {row['birth_display']}",
                    register_value=described,
                    score=link.score,
                    related=";".join(register.at[i, "person_id"] for i in link.others),
                    explanation=why,
                )
            )
            continue
        for ftype, field, mine, theirs in _field_differences(row, resident):
            out.append(
                _finding(
                    ftype,
                    kind,
                    label,
                    row,
                    person,
                    person,
                    field,
                    mine,
                    theirs,
                    link.score,
                    explanation=why,
                )
            )
        if linked.kind is ListKind.DEATH and not resident["deceased"]:
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
                    link.score,
                    explanation=why,
                )
            )
        if linked.kind is ListKind.WELFARE and (resident["deceased"] or link.right in dead):
            where = "dữ liệu dân cư" if resident["deceased"] else "sổ khai tử"
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
                    link.score,
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
    return frame.sort_values(
        ["type", "source_file", "source_row", "field"], kind="stable", ignore_index=True
    )
