"""Synthetic residents of a commune: households, names, dates and ID numbers. Never real people.

Seeded: the same seed gives the same commune, so tests and the committed sample data agree.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, replace

from reconcile.normalize.names import TONE_MARKS, fold

AS_OF = dt.date(2026, 11, 15)  # the generated paperwork's date; fixed so output is reproducible

FAMILIES = [
    ("Nguyễn", 38.4),
    ("Trần", 11),
    ("Lê", 9.5),
    ("Phạm", 7.1),
    ("Hoàng", 3.0),
    ("Huỳnh", 2.1),
    ("Phan", 4.5),
    ("Vũ", 2.4),
    ("Võ", 1.5),
    ("Đặng", 2.1),
    ("Bùi", 2.0),
    ("Đỗ", 1.4),
    ("Hồ", 1.3),
    ("Ngô", 1.3),
    ("Dương", 1.0),
    ("Lý", 0.5),
    ("Đoàn", 0.6),
    ("Doãn", 0.2),
    ("Trịnh", 0.6),
    ("Đinh", 0.7),
    ("Lương", 0.4),
    ("Mai", 0.4),
    ("Tạ", 0.3),
    ("Khúc", 0.2),
]
MIDDLE = {
    "M": [
        ("Văn", 40),
        ("Đức", 8),
        ("Minh", 8),
        ("Quang", 6),
        ("Hữu", 6),
        ("Xuân", 5),
        ("Thanh", 5),
        ("Ngọc", 4),
        ("Công", 5),
        ("Đình", 6),
        ("Mạnh", 3),
        ("Tiến", 3),
    ],
    "F": [
        ("Thị", 50),
        ("Thu", 6),
        ("Thanh", 6),
        ("Ngọc", 6),
        ("Minh", 4),
        ("Phương", 4),
        ("Hồng", 5),
        ("Kim", 5),
        ("Thùy", 5),
        ("Bích", 5),
    ],
}
GIVEN = {
    "M": (
        "Anh Bảo Bình Cường Dũng Đạt Đức Giang Hải Hào Hiếu Hoàng Hùng Huy Khánh Khoa Kiên Lâm "
        "Long Lợi Mạnh Minh Nam Nghĩa Phong Phúc Quang Quân Quý Sơn Tài Thắng Thành Thịnh Toàn "
        "Trung Tuấn Tùng Vinh Việt Hòa Khải Lực Tiến Trọng Chiến Dương Hiệp Hưng Lộc Thủy Toản "
        "Khoát Duy Tâm Sỹ Kỳ Nhân Lượng Xuyên Tráng Hoạt Giáp"
    ).split(),
    "F": (
        "An Anh Bích Châu Chi Diệp Dung Duyên Giang Hà Hạnh Hằng Hiền Hoa Hòa Hồng Huệ Hương "
        "Hường Huyền Khánh Lan Liên Linh Loan Mai My Nga Ngân Ngọc Nhung Oanh Phương Quyên "
        "Quỳnh Thảo Thoa Thu Thủy Thúy Trang Tuyết Uyên Vân Xuân Yến Khuê Thơ Lý Mỹ Xoan Hoè "
        "Nguyệt Thoan Lụa Gấm Sen Trinh"
    ).split(),
}
HAMLETS = ["Thôn Đông", "Thôn Đoài", "Thôn Trung", "Thôn Thượng", "Thôn Hạ", "Xóm Mới"]
HOME_PROVINCE = "034"
OTHER_PROVINCES = ["001", "031", "033", "035", "036", "037", "030", "022", "079", "038"]


@dataclass(frozen=True)
class Resident:
    person_id: str
    household: str
    relation: str
    family: str
    middle: str
    given: str
    sex: str
    birth: dt.date
    personal_id: str
    insurance: str
    hamlet: str
    deceased: bool = False

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.family, self.middle, self.given) if p)

    @property
    def age(self) -> int:
        return AS_OF.year - self.birth.year

    def key(self) -> tuple[str, str, int]:
        return fold(self.family).lower(), fold(self.given).lower(), self.birth.year


def _weighted(rng: random.Random, pairs: list[tuple[str, float]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def random_birth(rng: random.Random, year: int) -> dt.date:
    start = dt.date(year, 1, 1)
    end = min(dt.date(year, 12, 31), AS_OF - dt.timedelta(days=10))
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def century_sex_digit(sex: str, year: int) -> str:
    base = {1800: 8, 1900: 0, 2000: 2, 2100: 4}[year // 100 * 100]
    return str(base + (1 if sex == "F" else 0))


class Population:
    """Draws residents with unique (family, given, birth year), so that no list row is ambiguous
    by accident: every ambiguity in the sample data is a planted one."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.keys: set[tuple[str, str, int]] = set()
        self.id_suffixes: set[str] = set()
        self.count = 0

    def personal_id(self, sex: str, birth: dt.date) -> str:
        rng = self.rng
        province = HOME_PROVINCE if rng.random() < 0.85 else rng.choice(OTHER_PROVINCES)
        while True:
            suffix = f"{rng.randint(0, 999999):06d}"
            if suffix not in self.id_suffixes:
                self.id_suffixes.add(suffix)
                break
        return f"{province}{century_sex_digit(sex, birth.year)}{birth.year % 100:02d}{suffix}"

    def insurance(self) -> str:
        code = self.rng.choice(["GD", "HT", "CC", "TE", "BT", "HN", "DN", "CK"])
        level = self.rng.randint(1, 5)
        bhxh = f"34{self.rng.randint(0, 99_999_999):08d}"  # 10 digits, what lists are compared on
        return f"{code}{level}{HOME_PROVINCE[1:]}{bhxh}"

    def draw_name(self, sex: str, year: int, family: str | None = None) -> tuple[str, str, str]:
        rng = self.rng
        for _ in range(1000):
            fam = family or _weighted(rng, FAMILIES)
            given = rng.choice(GIVEN[sex])
            middle = _weighted(rng, MIDDLE[sex])
            key = (fold(fam).lower(), fold(given).lower(), year)
            if key not in self.keys and middle != given:
                self.keys.add(key)
                return fam, middle, given
        raise RuntimeError("name space exhausted")

    def resident(
        self,
        household: str,
        relation: str,
        sex: str,
        birth: dt.date,
        hamlet: str,
        family: str | None = None,
    ) -> Resident:
        self.count += 1
        fam, middle, given = self.draw_name(sex, birth.year, family)
        return Resident(
            person_id=f"NK{self.count:06d}",
            household=household,
            relation=relation,
            family=fam,
            middle=middle,
            given=given,
            sex=sex,
            birth=birth,
            personal_id=self.personal_id(sex, birth),
            insurance=self.insurance(),
            hamlet=hamlet,
        )

    def outsider(self, sex: str, birth: dt.date) -> Resident:
        """A person who is not in the register (a fresh name key, a real-looking ID)."""
        fam, middle, given = self.draw_name(sex, birth.year)
        return Resident(
            "",
            "",
            "",
            fam,
            middle,
            given,
            sex,
            birth,
            self.personal_id(sex, birth),
            self.insurance(),
            self.rng.choice(HAMLETS),
        )


def build_households(rng: random.Random, population: Population, target: int) -> list[Resident]:
    residents: list[Resident] = []
    household_no = 0
    while len(residents) < target:
        household_no += 1
        code = f"HO{household_no:05d}"
        hamlet = rng.choice(HAMLETS)
        head_sex = "M" if rng.random() < 0.75 else "F"
        head_birth = random_birth(rng, rng.randint(1940, 1998))
        head = population.resident(code, "Chủ hộ", head_sex, head_birth, hamlet)
        members = [head]
        if rng.random() < 0.85:
            spouse_year = min(2000, max(1938, head_birth.year + rng.randint(-6, 6)))
            members.append(
                population.resident(
                    code,
                    "Vợ" if head_sex == "M" else "Chồng",
                    "F" if head_sex == "M" else "M",
                    random_birth(rng, spouse_year),
                    hamlet,
                )
            )
        father_family = (
            head.family
            if head_sex == "M"
            else (members[1].family if len(members) > 1 else head.family)
        )
        first_child_year = head_birth.year + rng.randint(20, 32)
        for i in range(rng.choice([0, 1, 2, 2, 3, 3, 4])):
            year = first_child_year + i * rng.randint(1, 4)
            if year > AS_OF.year:
                break
            sex = rng.choice("MF")
            members.append(
                population.resident(
                    code, "Con", sex, random_birth(rng, year), hamlet, family=father_family
                )
            )
        if rng.random() < 0.15 and head_birth.year >= 1965:
            sex = rng.choice("MF")
            year = head_birth.year - rng.randint(22, 35)
            family = head.family if sex == "M" else None
            elder = population.resident(
                code,
                "Bố" if sex == "M" else "Mẹ",
                sex,
                random_birth(rng, year),
                hamlet,
                family=family,
            )
            members.append(replace(elder, deceased=rng.random() < 0.12))
        residents.extend(members)
    return residents


# ---- formatting noise: changes how a value is written, never what it says ----

_OLD_STYLE = {
    "hòa": "hoà",
    "hòe": "hoè",
    "thủy": "thuỷ",
    "thúy": "thuý",
    "khỏe": "khoẻ",
    "xòe": "xoè",
    "tùy": "tuỳ",
    "lũy": "luỹ",
    "họa": "hoạ",
    "thụy": "thuỵ",
}


def old_tone_style(name: str) -> str:
    out = []
    for word in name.split(" "):
        low = word.lower()
        if low in _OLD_STYLE:
            new = _OLD_STYLE[low]
            word = new if word == low else new[0].upper() + new[1:]
        out.append(word)
    return " ".join(out)


def noisy_name(rng: random.Random, resident: Resident, allow_drop_middle: bool) -> str:
    name = resident.name
    roll = rng.random()
    if allow_drop_middle and resident.middle in ("Văn", "Thị") and roll < 0.15:
        name = f"{resident.family} {resident.given}"
    elif roll < 0.30:
        name = name.upper()
    elif roll < 0.40:
        name = unicodedata.normalize("NFD", name)
    elif roll < 0.50:
        name = "  " + name.replace(" ", "  ") + " "
    elif roll < 0.55:
        name = name.replace(" ", "\u00a0", 1)
    if rng.random() < 0.5:
        name = old_tone_style(name)
    return name


# ---- real differences: what the police must see ----

_I_Y = {"Lý": "Lí", "Mỹ": "Mĩ", "Kỳ": "Kì", "Sỹ": "Sĩ", "Thủy": "Thủi"}
DIALECT_ONSETS = [
    ("L", "N"),
    ("N", "L"),
    ("S", "X"),
    ("X", "S"),
    ("Tr", "Ch"),
    ("Ch", "Tr"),
    ("D", "Gi"),
    ("Gi", "D"),
    ("V", "D"),
]


def dialect_spelling(given: str) -> str | None:
    """The given name with its onset swapped for the one a dialect confuses it with (Lan/Nan,
    Trang/Chang), or None. Whole onsets only: Nhung and Nga do not start with the N of l/n."""
    for old, new in DIALECT_ONSETS:
        if given.startswith(old) and not (old == "N" and given[1:2] in ("h", "g")):
            return new + given[len(old) :]
    return None


def misspelled_given(rng: random.Random, given: str) -> str:
    """A different spelling of the given name: i/y variant, dialect onset, or another tone."""
    if given in _I_Y:
        return _I_Y[given]
    variant = dialect_spelling(given)
    if variant and rng.random() < 0.6:
        return variant
    decomposed = unicodedata.normalize("NFD", given)
    tones = [t for t in ("\u0300", "\u0301", "\u0303", "\u0309", "\u0323") if t not in decomposed]
    letters = list(unicodedata.normalize("NFC", given))
    toned = [i for i, c in enumerate(letters) if set(unicodedata.normalize("NFD", c)) & TONE_MARKS]
    vowels = [i for i, c in enumerate(letters) if fold(c).lower() in "aeiouy"]
    pos = toned[0] if toned else vowels[-1]  # the letter that carries the tone, or would
    # another tone on that vowel letter, after its hat or horn (NFD orders the marks right)
    bare = "".join(c for c in unicodedata.normalize("NFD", letters[pos]) if c not in TONE_MARKS)
    letters[pos] = unicodedata.normalize("NFC", bare + rng.choice(tones))
    stripped = [
        unicodedata.normalize(
            "NFC", "".join(c for c in unicodedata.normalize("NFD", ch) if c not in TONE_MARKS)
        )
        if i != pos
        else ch
        for i, ch in enumerate(letters)
    ]
    return "".join(stripped)
