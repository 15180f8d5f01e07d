"""A whole synthetic commune: the police register and one list of each kind, with formatting noise
that must not raise findings and planted discrepancies of every finding type that must.

The planted truth is written beside the lists (truth/findings.csv, truth/links.csv), so the
end-to-end test measures precision and recall per finding type.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from reconcile.normalize.names import fold

from synthetic.paperwork import Paperwork, write_paperwork
from synthetic.people import (
    AS_OF,
    HAMLETS,
    Population,
    Resident,
    build_households,
    century_sex_digit,
    misspelled_given,
    noisy_name,
    random_birth,
)

DEFAULT_SEED = 6
DEFAULT_SIZE = 2000
TRUTH_FINDING_COLUMNS = [
    "type",
    "list_kind",
    "source_file",
    "source_row",
    "person_id",
    "related_person_id",
    "related_register_row",
    "field",
]
# register_row: the resident's row in dan_cu.xlsx; errors: real differences planted in the row
TRUTH_LINK_COLUMNS = [
    "source_file",
    "source_row",
    "person_id",
    "register_row",
    "ambiguous",
    "errors",
]
# Rows of residents given two or three real errors at once (a mistyped ID digit and a wrong
# year, a dropped middle name and no hamlet, …): the share of each list's faithful rows.
MULTI_ERROR_RATE = 0.04
TRUTH_REJECTED_COLUMNS = ["source_file", "source_row", "column"]
# The police register export's columns, as the sample commune and the benchmarks write them.
REGISTER_HEADERS = [
    "STT",
    "Mã nhân khẩu",
    "Mã hộ",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số định danh cá nhân",
    "Số thẻ BHYT",
    "Thôn/xóm",
    "Quan hệ với chủ hộ",
    "Tình trạng",
]
SEX_WORDS = {"M": ["Nam", "nam", "NAM"], "F": ["Nữ", "nữ", "NỮ", "Nu"]}


@dataclass
class Row:
    """One list row to write, and what it truly is."""

    values: dict[str, object]
    person_id: str  # "" for someone not in the register
    findings: list[tuple[str, str]] = field(default_factory=list)  # (type, field)
    related: str = ""
    ambiguous: bool = False
    rejected_column: str = ""  # header of the cell that makes validation reject this row
    errors: int = 0  # real differences planted (formatting noise not counted)


@dataclass
class ListPlan:
    kind: str
    file: str
    paperwork: Paperwork
    rows: list[Row]
    group_by_hamlet: bool = False


class Commune:
    def __init__(self, seed: int, size: int, multi_error_rate: float = MULTI_ERROR_RATE):
        self.rng = random.Random(seed)
        self.multi_error_rate = multi_error_rate
        self.population = Population(self.rng)
        self.residents = build_households(self.rng, self.population, size)
        self.by_id = {r.person_id: r for r in self.residents}
        self.reserved: set[str] = set()  # residents planted once, kept out of random sampling
        self.register_truth: list[dict[str, str]] = []
        self.register_extra: list[Resident] = []
        self.register_id_override: dict[str, str] = {}
        self.register_blank: dict[str, set[str]] = {}  # person → register fields left empty

    # ---- choosing people ----
    def pick(self, pool: list[Resident], k: int) -> list[Resident]:
        free = [r for r in pool if r.person_id not in self.reserved and not r.deceased]
        chosen = self.rng.sample(free, min(k, len(free)))
        self.reserved.update(r.person_id for r in chosen)
        return chosen

    def alive(self, lo: int = 0, hi: int = 200) -> list[Resident]:
        return [r for r in self.residents if not r.deceased and lo <= r.age <= hi]

    # ---- writing values the way typists do ----
    def sex_word(self, sex: str) -> str:
        return self.rng.choice(SEX_WORDS[sex])

    def date_cell(self, date: dt.date) -> object:
        roll = self.rng.random()
        if roll < 0.5:
            return date  # a real Excel date
        if roll < 0.85:
            return date.strftime("%d/%m/%Y")
        return f"{date.day}/{date.month}/{date.year}"

    def id_cell(self, personal_id: str) -> object:
        roll = self.rng.random()
        if roll < 0.25 and personal_id.startswith("0"):
            return int(personal_id)  # typed as a number: Excel drops the leading zero
        if roll < 0.35:
            return f"{personal_id[:3]} {personal_id[3:6]} {personal_id[6:]}"
        return personal_id

    # ---- register-level plants ----
    def plant_register(self) -> None:
        rng = self.rng
        # One person twice: the same number, no number, a second number, and a number
        # re-established after a corrected birth year or a redetermined sex (domain.md §3).
        ways = ["same_id", "no_id", "same_id", "no_id", "second_number", "year", "sex"]
        for original, way in zip(self.pick(self.alive(18, 80), len(ways)), ways, strict=True):
            birth, sex = original.birth, original.sex
            if way == "year":
                birth = birth.replace(year=birth.year + rng.choice([-2, -1, 1, 2]))
            if way == "sex":
                sex = "F" if sex == "M" else "M"
            pid = original.personal_id
            if way in ("second_number", "year", "sex"):
                pid = self.population.personal_id(sex, birth)
                pid = original.personal_id[:3] + pid[3:]
            copy = replace(
                original,
                person_id=f"NK{len(self.residents) + len(self.register_extra) + 1:06d}",
                household=f"HO9{len(self.register_extra):04d}",
                relation="Chủ hộ",
                birth=birth,
                sex=sex,
                personal_id="" if way == "no_id" else pid,
            )
            self.register_extra.append(copy)
            self.reserved.add(copy.person_id)
            self.register_truth.append(
                {
                    "type": "register_duplicate",
                    "person_id": copy.person_id,
                    "related_person_id": original.person_id,
                    "field": "",
                }
            )
        for resident in self.pick(self.alive(14), 3):
            wrong_year = (resident.birth.year + rng.choice([-3, -2, 2, 3])) % 100
            pid = resident.personal_id
            self.register_id_override[resident.person_id] = f"{pid[:4]}{wrong_year:02d}{pid[6:]}"
            self.register_truth.append(
                {
                    "type": "id_invalid",
                    "person_id": resident.person_id,
                    "related_person_id": "",
                    "field": "personal_id",
                }
            )
        # Two pairs of namesakes: same name, birth year, sex and hamlet; different people.
        self.namesakes: list[tuple[Resident, Resident]] = []
        for original in self.pick(self.alive(30, 75), 2):
            other_birth = random_birth(rng, original.birth.year)
            while other_birth == original.birth:
                other_birth = random_birth(rng, original.birth.year)
            twin = replace(
                original,
                person_id=f"NK{len(self.residents) + len(self.register_extra) + 1:06d}",
                household=f"HO8{len(self.namesakes):04d}",
                relation="Chủ hộ",
                birth=other_birth,
                personal_id=self.population.personal_id(original.sex, other_birth),
                insurance=self.population.insurance(),
            )
            self.register_extra.append(twin)
            self.reserved.add(twin.person_id)
            self.by_id[twin.person_id] = twin
            self.namesakes.append((original, twin))

    def parents(self) -> dict[str, tuple[str, str]]:
        """Each child's father's and mother's names, from the household's couple."""
        couples: dict[str, dict[str, str]] = {}
        for r in self.residents:
            if r.relation in ("Chủ hộ", "Vợ", "Chồng"):
                couples.setdefault(r.household, {})[r.sex] = r.name
        self.mother_ids = {
            r.name: r.personal_id
            for r in self.residents
            if r.relation in ("Chủ hộ", "Vợ") and r.sex == "F"
        }
        return {
            r.person_id: (
                couples.get(r.household, {}).get("M", ""),
                couples.get(r.household, {}).get("F", ""),
            )
            for r in self.residents
            if r.relation == "Con"
        }

    # ---- the lists ----
    def person_row(
        self,
        r: Resident,
        headers: dict[str, str],
        *,
        year_only=False,
        drop_middle=False,
        with_id=True,
    ) -> Row:
        """A faithful row for resident r, with formatting noise only. headers: field → header."""
        values: dict[str, object] = {headers["name"]: noisy_name(self.rng, r, drop_middle)}
        if "birth" in headers:
            values[headers["birth"]] = r.birth.year if year_only else self.date_cell(r.birth)
        if "sex" in headers:
            values[headers["sex"]] = self.sex_word(r.sex)
        if "id" in headers and with_id:
            values[headers["id"]] = self.id_cell(r.personal_id)
        if "hamlet" in headers:
            values[headers["hamlet"]] = r.hamlet if self.rng.random() < 0.7 else r.hamlet.lower()
        return Row(values, r.person_id)

    def mutate(self, row: Row, r: Resident, kind: str, headers: dict[str, str]) -> None:
        """Plant one real difference of `kind` into a faithful row."""
        rng = self.rng
        if kind == "name_differs":
            row.values[headers["name"]] = f"{r.family} {r.middle} {misspelled_given(rng, r.given)}"
            row.findings.append((kind, "full_name"))
        elif kind == "birth_date_differs":
            current = row.values[headers["birth"]]
            if isinstance(current, int):
                row.values[headers["birth"]] = r.birth.year + rng.choice([-1, 1])
            else:
                shift = rng.choice([-40, -9, -3, 3, 9, 40])
                row.values[headers["birth"]] = self.date_cell(r.birth + dt.timedelta(days=shift))
            row.findings.append((kind, "birth_date"))
        elif kind == "sex_differs":
            row.values[headers["sex"]] = self.sex_word("F" if r.sex == "M" else "M")
            row.findings.append((kind, "sex"))
        elif kind == "id_differs":
            pid = r.personal_id
            row.values[headers["id"]] = (
                f"{pid[:6]}{(int(pid[6:]) + rng.randint(1, 9999)) % 10**6:06d}"
            )
            row.findings.append((kind, "personal_id"))
        elif kind == "id_sex_digit":
            # the other sex's digit: a number one digit off the resident's, which also
            # contradicts the row's own sex; the difference from the register is what to report
            pid = r.personal_id
            flipped = str(int(pid[3]) ^ 1)
            row.values[headers["id"]] = pid[:3] + flipped + pid[4:]
            row.findings.append(("id_differs", "personal_id"))
        row.errors += 1

    def several_errors(self, row: Row, r: Resident, headers: dict[str, str]) -> None:
        """Two or three real errors in one row, as informal lists have them: a mistyped ID
        digit and a wrong year, a dropped middle name and no hamlet, a typo in the given name
        of a row that gives only a year, a wrong sex; glued syllables on top (formatting)."""
        rng = self.rng
        name_cell = headers["name"]
        options = []
        if "id" in headers and headers["id"] in row.values:
            options.append("id_digit")
        if "birth" in headers:
            options.append("wrong_year")
        if "sex" in headers:
            options.append("sex")
        name_error = "drop_middle" if r.middle not in ("Văn", "Thị", "") else "given_typo"
        options.append(name_error)
        chosen = rng.sample(options, min(len(options), rng.choice([2, 2, 3])))
        for error in chosen:
            if error == "id_digit":
                pid = r.personal_id
                i = rng.randrange(6, 12)
                row.values[headers["id"]] = pid[:i] + str((int(pid[i]) + 1) % 10) + pid[i + 1 :]
                row.findings.append(("id_differs", "personal_id"))
            elif error == "wrong_year":
                current = row.values[headers["birth"]]
                shift = rng.choice([-2, -1, 1, 2])
                if isinstance(current, int):
                    row.values[headers["birth"]] = current + shift
                else:
                    moved = r.birth.replace(year=min(r.birth.year + shift, AS_OF.year - 1))
                    if moved == r.birth:
                        moved = r.birth.replace(year=r.birth.year - 1)
                    row.values[headers["birth"]] = self.date_cell(moved)
                row.findings.append(("birth_date_differs", "birth_date"))
            elif error == "sex":
                row.values[headers["sex"]] = self.sex_word("F" if r.sex == "M" else "M")
                row.findings.append(("sex_differs", "sex"))
            elif error == "drop_middle":
                row.values[name_cell] = f"{r.family} {r.given}"
                row.findings.append(("name_differs", "full_name"))
            else:
                given = misspelled_given(rng, r.given)
                row.values[name_cell] = f"{r.family} {r.middle} {given}"
                row.findings.append(("name_differs", "full_name"))
            row.errors += 1
        if "hamlet" in headers and rng.random() < 0.5:
            row.values.pop(headers["hamlet"], None)  # no hamlet: not a difference
        if rng.random() < 0.3:  # two syllables typed without a space: formatting
            words = str(row.values[name_cell]).split()
            if len(words) >= 3:
                row.values[name_cell] = " ".join([words[0], words[1] + words[2], *words[3:]])

    def add_several_errors(self, rows: list[Row], headers: dict[str, str]) -> None:
        """several_errors on a share (multi_error_rate) of the faithful resident rows."""
        faithful = [row for row in rows if row.person_id and not row.findings]
        count = round(len(faithful) * self.multi_error_rate)
        for row in self.rng.sample(faithful, min(count, len(faithful))):
            self.several_errors(row, self.by_id[row.person_id], headers)

    def outsider_row(
        self, headers: dict[str, str], lo: int, hi: int, finding: str, *, year_only=False
    ) -> Row:
        sex = self.rng.choice("MF")
        birth = random_birth(self.rng, AS_OF.year - self.rng.randint(lo, hi))
        stranger = self.population.outsider(sex, birth)
        row = self.person_row(stranger, headers, year_only=year_only)
        row.person_id = ""
        row.findings.append((finding, ""))
        return row

    def invalid_row(
        self, headers: dict[str, str], lo: int, hi: int, key: str, value: object
    ) -> Row:
        """A row validation must reject: `key`'s cell holds `value` (a typing error)."""
        row = self.outsider_row(headers, lo, hi, "not_in_register")
        row.findings.clear()
        row.values[headers[key]] = value
        row.rejected_column = headers[key]
        return row

    def lists(self) -> list[ListPlan]:
        rng = self.rng
        plans = []

        # Births: every child born since 2025 (in the register), and some who never reached it.
        h = {
            "name": "Họ, chữ đệm, tên người được đăng ký khai sinh",
            "birth": "Ngày, tháng, năm sinh",
            "sex": "Giới tính",
            "id": "Số định danh cá nhân",
            "hamlet": "Nơi cư trú",
        }
        babies = [
            r
            for r in self.residents
            if r.birth.year >= 2025 and r.person_id not in self.reserved and not r.deceased
        ]
        self.reserved.update(r.person_id for r in babies)
        rows = [self.person_row(r, h) for r in babies]
        for row, r in zip(rows[:2], babies[:2], strict=False):
            # its number, the resident's own, now contradicts the wrong sex: that is the sex
            # difference to report, never an invalid number
            self.mutate(row, r, "sex_differs", h)
        rows += [self.outsider_row(h, 0, 1, "birth_not_in_register") for _ in range(5)]
        parents = self.parents()
        for row in rows:
            father, mother = parents.get(row.person_id, ("", ""))
            row.values["Họ tên cha"], row.values["Họ tên mẹ"] = father, mother
            row.values["Dân tộc"] = "Kinh"
            row.values["Ngày đăng ký"] = (AS_OF - dt.timedelta(days=rng.randint(1, 300))).strftime(
                "%d/%m/%Y"
            )
        rng.shuffle(rows)
        plans.append(
            ListPlan(
                "birth",
                "khai_sinh.xlsx",
                Paperwork(
                    "UBND XÃ AN BÌNH",
                    "SỔ ĐĂNG KÝ KHAI SINH",
                    "Năm 2025 - 2026",
                    [
                        "STT",
                        h["name"],
                        h["birth"],
                        h["sex"],
                        "Dân tộc",
                        h["id"],
                        h["hamlet"],
                        "Họ tên cha",
                        "Họ tên mẹ",
                        "Ngày đăng ký",
                    ],
                    extra_title_rows=1,
                ),
                rows,
            )
        )

        # Deaths: those the register already marks dead, and planted ones it still shows alive.
        h = {
            "name": "Họ và tên người chết",
            "birth": "Năm sinh",
            "sex": "Giới tính",
            "id": "Số CCCD/CMND",
            "hamlet": "Nơi cư trú cuối cùng",
        }
        already = [r for r in self.residents if r.deceased]
        still_active = self.pick(self.alive(60), 8)
        rows = [self.person_row(r, h, year_only=True) for r in already]
        for r in still_active:
            row = self.person_row(r, h, year_only=True)
            row.findings.append(("deceased_still_active", "status"))
            rows.append(row)
        for row in rows:
            row.values["Ngày chết"] = (AS_OF - dt.timedelta(days=rng.randint(5, 600))).strftime(
                "%d/%m/%Y"
            )
            declarant = self.population.outsider(rng.choice("MF"), random_birth(rng, 1975))
            row.values["Họ tên người đi khai"] = declarant.name
            row.values["Quan hệ với người chết"] = rng.choice(["Con", "Vợ", "Chồng", "Cháu"])
        rng.shuffle(rows)
        plans.append(
            ListPlan(
                "death",
                "khai_tu.xlsx",
                Paperwork(
                    "UBND XÃ AN BÌNH",
                    "SỔ ĐĂNG KÝ KHAI TỬ",
                    "Năm 2025 - 2026",
                    [
                        "STT",
                        h["name"],
                        h["birth"],
                        h["sex"],
                        h["id"],
                        "Ngày chết",
                        h["hamlet"],
                        "Họ tên người đi khai",
                        "Quan hệ với người chết",
                    ],
                ),
                rows,
            )
        )

        # Vaccination: young children, no ID column; field differences planted.
        h = {
            "name": "Họ và tên trẻ được tiêm chủng",
            "birth": "Ngày sinh (ngày/tháng/năm)",
            "sex": "Giới tính",
            "hamlet": "Thôn",
        }
        kids = self.pick(self.alive(0, 6), 110)
        rows = [self.person_row(r, h) for r in kids]
        plants = ["name_differs"] * 4 + ["birth_date_differs"] * 4 + ["sex_differs"] * 3
        for row, r, kind in zip(rows, kids, plants, strict=False):
            self.mutate(row, r, kind, h)
        self.add_several_errors(rows, h)
        rows += [self.outsider_row(h, 0, 5, "not_in_register") for _ in range(4)]
        rows.append(self.invalid_row(h, 1, 5, "birth", "30/02/2023"))
        for row in rows:
            mother = parents.get(row.person_id, ("", ""))[1]
            row.values["Họ tên mẹ"] = mother
            row.values["Số CCCD của mẹ"] = self.mother_ids.get(mother, "")
            row.values["Vắc xin"] = rng.choice(["Sởi - Rubella", "DPT-VGB-Hib", "Bại liệt (IPV)"])
        rng.shuffle(rows)
        plans.append(
            ListPlan(
                "vaccination",
                "tiem_chung.xlsx",
                Paperwork(
                    "TRẠM Y TẾ XÃ AN BÌNH",
                    "DANH SÁCH TRẺ TIÊM CHỦNG",
                    "Tháng 10 năm 2026",
                    [
                        "STT",
                        h["name"],
                        h["birth"],
                        h["sex"],
                        "Họ tên mẹ",
                        "Số CCCD của mẹ",
                        h["hamlet"],
                        "Vắc xin",
                    ],
                ),
                rows,
            )
        )

        plans.append(self.welfare_plan(still_active))

        # Youth Union: 16–30, with IDs.
        h = {
            "name": "Họ và tên",
            "birth": "Ngày sinh",
            "sex": "Giới tính",
            "id": "Số CMND/CCCD",
            "hamlet": "Chi đoàn",
        }
        youth = self.pick(self.alive(16, 30), 130)
        rows = [self.person_row(r, h) for r in youth]
        plants = ["name_differs"] * 3 + ["id_differs"] * 3 + ["id_sex_digit"] * 3
        for row, r, kind in zip(rows, youth, plants, strict=False):
            self.mutate(row, r, kind, h)
        self.add_several_errors(rows[11:], h)
        for row, r in zip(rows[9:11], youth[9:11], strict=False):  # register lacks their ID
            self.register_blank.setdefault(r.person_id, set()).add("personal_id")
            row.findings.append(("missing_in_register", "personal_id"))
        rows += [self.outsider_row(h, 16, 30, "not_in_register") for _ in range(3)]
        rows.append(self.invalid_row(h, 16, 30, "id", "O34O98OO1234"))
        rows.append(self.invalid_row(h, 16, 30, "birth", "12/13/2001"))
        rng.shuffle(rows)
        plans.append(
            ListPlan(
                "membership",
                "doan_thanh_nien.xlsx",
                Paperwork(
                    "ĐOÀN TNCS HỒ CHÍ MINH XÃ AN BÌNH",
                    "DANH SÁCH ĐOÀN VIÊN",
                    "Năm 2026",
                    ["STT", h["name"], h["birth"], h["sex"], h["id"], h["hamlet"]],
                    signer_right="TM. BAN CHẤP HÀNH\nBÍ THƯ",
                    extra_title_rows=2,
                    legacy="vni",
                ),
                rows,
            )
        )

        # Elderly association: year of birth only, grouped by hamlet rows, no hamlet column.
        h = {"name": "Họ và tên", "birth": "Năm sinh", "sex": "Giới tính"}
        elders = self.pick(self.alive(60), 160)
        rows = [self.person_row(r, h, year_only=True, drop_middle=True) for r in elders]
        plants = ["sex_differs"] * 2 + ["birth_date_differs"] * 2
        for row, r, kind in zip(rows, elders, plants, strict=False):
            self.mutate(row, r, kind, h)
        for row, r in zip(rows[4:20], elders[4:20], strict=False):  # typed without diacritics
            row.values[h["name"]] = fold(r.name)
        self.add_several_errors(rows[20:], h)
        outsiders = [
            self.outsider_row(h, 60, 90, "not_in_register", year_only=True) for _ in range(3)
        ]
        hamlet_of = {
            id(row): (self.by_id[row.person_id].hamlet if row.person_id else rng.choice(HAMLETS))
            for row in rows + outsiders
        }
        rows = sorted(rows + outsiders, key=lambda row: HAMLETS.index(hamlet_of[id(row)]))
        plans.append(
            ListPlan(
                "membership",
                "hoi_nguoi_cao_tuoi.xlsx",
                Paperwork(
                    "HỘI NGƯỜI CAO TUỔI XÃ AN BÌNH",
                    "DANH SÁCH HỘI VIÊN HỘI NGƯỜI CAO TUỔI",
                    "Năm 2026",
                    ["STT", h["name"], h["birth"], "Ghi chú"],
                    signer_right="TM. BAN CHẤP HÀNH\nCHỦ TỊCH HỘI",
                    legacy="tcvn3",
                    split_by_sex=h["birth"],
                    group_style="numbered",
                ),
                rows,
                group_by_hamlet=True,
            )
        )
        self._hamlet_of = hamlet_of
        return plans

    def welfare_plan(self, dead_in_death_list: list[Resident]) -> ListPlan:
        rng = self.rng
        h = {
            "name": "Họ tên người hưởng trợ cấp",
            "birth": "Năm sinh",
            "sex": "Giới tính",
            "id": "Số CCCD/Số định danh",
            "hamlet": "Thôn",
        }
        beneficiaries = self.pick(self.alive(80), 70) + self.pick(self.alive(20, 79), 20)
        rows = []
        for r in beneficiaries:
            row = self.person_row(r, h, year_only=True)
            row.values["Số thẻ BHYT"] = r.insurance
            rows.append(row)
        plants = ["id_differs"] * 3
        for row, r, kind in zip(rows, beneficiaries, plants, strict=False):
            self.mutate(row, r, kind, h)
        for row, r in zip(rows[3:7], beneficiaries[3:7], strict=False):
            self.register_blank.setdefault(r.person_id, set()).add("insurance_number")
            row.findings.append(("missing_in_register", "insurance_number"))
        self.add_several_errors(rows[7:], h)
        dead = [r for r in self.residents if r.deceased][:3] + dead_in_death_list[:2]
        for r in dead:
            row = self.person_row(r, h, year_only=True)
            row.values["Số thẻ BHYT"] = r.insurance
            row.findings.append(("benefit_to_deceased", "status"))
            rows.append(row)
        for original, twin in self.namesakes:
            row = self.person_row(original, h, year_only=True, with_id=False)
            row.values[h["name"]] = original.name
            row.ambiguous = True
            row.related = twin.person_id
            row.findings.append(("ambiguous_match", ""))
            rows.append(row)
        rows += [self.outsider_row(h, 20, 90, "not_in_register", year_only=True) for _ in range(2)]
        rows.append(self.invalid_row(h, 20, 90, "name", "   "))
        for row in rows:
            guardian = self.population.outsider(rng.choice("MF"), random_birth(rng, 1970))
            row.values["Người giám hộ"] = guardian.name if rng.random() < 0.3 else ""
            row.values["Đối tượng"] = rng.choice(["NCT từ đủ 80 tuổi", "Người khuyết tật nặng"])
            row.values["Mức hưởng"] = rng.choice([500000, 750000, 1000000])
        rng.shuffle(rows)
        return ListPlan(
            "welfare",
            "tro_cap_xa_hoi.xlsx",
            Paperwork(
                "UBND XÃ AN BÌNH",
                "DANH SÁCH CHI TRẢ TRỢ CẤP XÃ HỘI HÀNG THÁNG",
                "Tháng 11 năm 2026",
                [
                    "STT",
                    h["name"],
                    h["birth"],
                    h["sex"],
                    h["id"],
                    "Số thẻ BHYT",
                    h["hamlet"],
                    "Người giám hộ",
                    "Đối tượng",
                    "Mức hưởng",
                ],
            ),
            rows,
        )

    def register_paperwork(self) -> tuple[Paperwork, dict[str, int]]:
        headers = REGISTER_HEADERS
        entries: list[dict[str, object] | str] = []
        order: list[str] = []
        for r in self.residents + self.register_extra:
            blank = self.register_blank.get(r.person_id, set())
            entries.append(
                {
                    "Mã nhân khẩu": r.person_id,
                    "Mã hộ": r.household,
                    "Họ và tên": r.name,
                    "Ngày sinh": r.birth.strftime("%d/%m/%Y"),
                    "Giới tính": "Nam" if r.sex == "M" else "Nữ",
                    "Số định danh cá nhân": ""
                    if "personal_id" in blank
                    else self.register_id_override.get(r.person_id, r.personal_id),
                    "Số thẻ BHYT": "" if "insurance_number" in blank else r.insurance,
                    "Thôn/xóm": r.hamlet,
                    "Quan hệ với chủ hộ": r.relation,
                    "Tình trạng": "Đã chết" if r.deceased else "Đang cư trú",
                }
            )
            order.append(r.person_id)
        doc = Paperwork(
            "CÔNG AN XÃ AN BÌNH",
            "DỮ LIỆU DÂN CƯ XÃ AN BÌNH",
            "Trích xuất ngày 15/11/2026",
            headers,
            entries,
            sheet_name="Dân cư",
            signer_right="TRƯỞNG CÔNG AN XÃ",
        )
        return doc, dict(enumerate(order))


def generate_commune(
    out_dir: Path,
    seed: int = DEFAULT_SEED,
    size: int = DEFAULT_SIZE,
    multi_error_rate: float = MULTI_ERROR_RATE,
) -> Path:
    """Write the register, the lists, truth/ and reconcile.toml into out_dir; return the config."""
    commune = Commune(seed, size, multi_error_rate)
    commune.plant_register()
    plans = commune.lists()
    out_dir.mkdir(parents=True, exist_ok=True)
    truth: list[dict[str, object]] = []
    links: list[dict[str, object]] = []
    rejected: list[dict[str, object]] = []

    register_doc, order = commune.register_paperwork()
    register_rows = write_paperwork(register_doc, out_dir / "dan_cu.xlsx")
    row_of = {order[i]: excel_row for i, excel_row in enumerate(register_rows)}
    for item in commune.register_truth:
        truth.append(
            {
                "list_kind": "register",
                "source_file": "dan_cu.xlsx",
                "source_row": row_of[item["person_id"]],
                "related_register_row": row_of.get(item["related_person_id"], ""),
                **item,
            }
        )

    for plan in plans:
        entries: list[dict[str, object] | str] = []
        last_hamlet = None
        for row in plan.rows:
            if plan.group_by_hamlet:
                hamlet = commune._hamlet_of[id(row)]
                if hamlet != last_hamlet:
                    entries.append(hamlet)
                    last_hamlet = hamlet
            entries.append(row.values)
        plan.paperwork.entries = entries
        excel_rows = write_paperwork(plan.paperwork, out_dir / plan.file)
        for row, excel_row in zip(plan.rows, excel_rows, strict=True):
            if row.rejected_column:
                rejected.append(
                    {
                        "source_file": plan.file,
                        "source_row": excel_row,
                        "column": row.rejected_column,
                    }
                )
                continue
            links.append(
                {
                    "source_file": plan.file,
                    "source_row": excel_row,
                    "person_id": row.person_id,
                    "register_row": row_of.get(row.person_id, ""),
                    "ambiguous": int(row.ambiguous),
                    "errors": row.errors,
                }
            )
            for kind, field_name in row.findings:
                truth.append(
                    {
                        "type": kind,
                        "list_kind": plan.kind,
                        "source_file": plan.file,
                        "source_row": excel_row,
                        "person_id": row.person_id,
                        "related_person_id": row.related,
                        "field": field_name,
                    }
                )

    truth_dir = out_dir / "truth"
    truth_dir.mkdir(exist_ok=True)
    _write_csv(truth_dir / "findings.csv", TRUTH_FINDING_COLUMNS, truth)
    _write_csv(truth_dir / "links.csv", TRUTH_LINK_COLUMNS, links)
    _write_csv(truth_dir / "rejected.csv", TRUTH_REJECTED_COLUMNS, rejected)
    config = out_dir / "reconcile.toml"
    lines = [
        "# Xã An Bình (giả lập / synthetic): no real person's data.",
        "",
        "[register]",
        'path = "dan_cu.xlsx"',
        "",
    ]
    for plan in plans:
        lines += ["[[lists]]", f'kind = "{plan.kind}"', f'path = "{plan.file}"', ""]
    lines += ["[output]", 'dir = "../out"', ""]
    config.write_text("\n".join(lines), encoding="utf-8")
    return config


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:  # python -m synthetic.commune [OUT_DIR]
    import sys

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("sample_data")
    print(generate_commune(out))


if __name__ == "__main__":
    main()

__all__ = ["generate_commune", "century_sex_digit"]
