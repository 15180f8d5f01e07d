"""Does a file look like the kind of list it was given as? A vaccination list given as `death`
would report living children as dead, a death list given as the register would report its people
"not in the register": each kind states the evidence it needs, and a list that contradicts it is
skipped with the reason, before it does harm.

- register: an ID column and a household, relation, resident-code or status column, and no date
  of death;
- death: a date-of-death column, or a title or file name that says khai tử / chết / tử vong;
- any kind: refused when its title or file name names another kind and not its own.
"""

from __future__ import annotations

import re

from reconcile.ingest import IngestedList
from reconcile.kinds import KIND_LABELS, ListKind
from reconcile.normalize.names import fold

# Words of a title or file name (folded) that name a kind of list.
_WORDS = {
    ListKind.REGISTER: r"du lieu dan cu|nhan khau|ho khau|dan_cu|nhan_khau",
    ListKind.BIRTH: r"khai sinh|khai_sinh|dang ky sinh|tre so sinh",
    ListKind.DEATH: r"khai tu|khai_tu|nguoi chet|da chet|tu vong|nguoi da mat",
    ListKind.VACCINATION: r"tiem chung|tiem_chung|vac xin|vaccine|tiem phong",
    ListKind.WELFARE: r"tro cap|tro_cap|bao tro|chi tra|an sinh|nguoi huong|bhxh",
    ListKind.MEMBERSHIP: r"hoi vien|doan vien|hoi_vien|doan_vien|chi hoi|cuu chien binh|"
    r"nguoi cao tuoi|phu nu|thanh nien",
}
_PATTERNS = {kind: re.compile(rf"\b(?:{words})") for kind, words in _WORDS.items()}
_HOUSEHOLD = ("household", "relation", "resident_code", "status")


def _named_kinds(text: str) -> set[ListKind]:
    folded = fold(text).lower()
    return {kind for kind, pattern in _PATTERNS.items() if pattern.search(folded)}


def contradiction(ingested: IngestedList) -> str | None:
    """Why this file is not the kind it was given as (bilingual), or None."""
    kind, headers = ingested.kind, ingested.headers
    name = ingested.path.name
    label = KIND_LABELS[kind]
    named = _named_kinds(f"{ingested.title} {ingested.path.stem}")
    if named and kind not in named:
        others = ", ".join(KIND_LABELS[k] for k in sorted(named))
        return (
            f"Tệp {name} được khai là '{label}' nhưng tiêu đề/tên tệp cho thấy là '{others}': "
            f"danh sách bị bỏ qua, hãy kiểm tra loại danh sách / {name} was given as '{kind}' but "
            f"its title or file name says '{others}': skipped, check the list's kind"
        )
    if kind is ListKind.REGISTER:
        if "death_date" in headers:
            return (
                f"Tệp {name} có cột ngày chết: đây không phải dữ liệu dân cư / {name} has a date "
                f"of death column: it is not the register"
            )
        if "personal_id" not in headers or not any(f in headers for f in _HOUSEHOLD):
            return (
                f"Tệp {name} không có cột số định danh và cột hộ (mã hộ, quan hệ với chủ hộ, mã "
                f"nhân khẩu hoặc tình trạng): đây không giống dữ liệu dân cư / {name} lacks an ID "
                f"column and a household, relation, resident-code or status column: it does not "
                f"look like the register"
            )
    if kind is ListKind.DEATH and "death_date" not in headers and ListKind.DEATH not in named:
        return (
            f"Tệp {name} được khai là sổ khai tử nhưng không có cột ngày chết và tiêu đề không "
            f"nói khai tử: danh sách bị bỏ qua / {name} was given as a death list but has no date "
            f"of death and no death-registration title: skipped"
        )
    return None
