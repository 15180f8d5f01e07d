"""A district-size matching benchmark: residents and list rows as raw cells, with the truth.

Noise is what Vietnamese lists carry: capitals, NFD, old tone placement, a dropped Văn/Thị, no
diacritics, dialect spellings of the given name (l/n, s/x, tr/ch, d/gi), tone typos, dates given
as a year only or with day and month swapped, a day typo, a year off by one, IDs missing or one
digit off, a wrong sex. Seeded; synthetic people only.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata

import numpy as np
import pandas as pd

from reconcile.normalize.names import fold

from synthetic.people import (
    FAMILIES,
    GIVEN,
    MIDDLE,
    century_sex_digit,
    dialect_spelling,
    misspelled_given,
    old_tone_style,
)


def _several_errors(rng: random.Random, listed: dict, p: dict) -> int:
    """Two or three real errors at once in one list row (a mistyped ID digit and a wrong year,
    a dropped middle name and no hamlet, a typo in the given name of a year-only row, a wrong
    sex), plus glued syllables now and then (formatting). Returns how many errors were made."""
    options = ["year", "sex", "name"] + (["id"] if listed["personal_id"] else [])
    chosen = rng.sample(options, min(len(options), rng.choice([2, 2, 3])))
    for error in chosen:
        if error == "id":
            pid, i = listed["personal_id"], rng.randrange(0, 12)
            listed["personal_id"] = pid[:i] + str((int(pid[i]) + 1) % 10) + pid[i + 1 :]
        elif error == "year":
            birth = listed["birth_date"]
            year = int(birth[-4:]) + rng.choice([-2, -1, 1, 2])
            listed["birth_date"] = birth[:-4] + str(min(year, 2025))
        elif error == "sex":
            listed["sex"] = "Nữ" if listed["sex"] == "Nam" else "Nam"
        elif p["middle"] not in ("Văn", "Thị"):
            listed["full_name"] = f"{p['family']} {p['given']}"  # the middle name dropped
        else:
            listed["full_name"] = f"{p['family']} {p['middle']} {misspelled_given(rng, p['given'])}"
    if rng.random() < 0.5:
        listed["hamlet"] = None
    words = listed["full_name"].split()
    if len(words) >= 3 and rng.random() < 0.3:
        listed["full_name"] = " ".join([words[0], words[1] + words[2], *words[3:]])
    return len(chosen)


def district(
    residents: int = 300_000,
    rows: int = 200_000,
    outsiders: float = 0.05,
    seed: int = 2026,
    several_errors: float = 0.0,
    communes: int = 0,
    moved: float = 0.02,
    twice: float = 0.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(register, list): raw cells plus truth columns `key` (register), `true_key` (list, -1 for
    someone not in the register), `given_noise` (list: "dialect", "misspelled" or "") and
    `errors` (list: how many of _several_errors' errors the row carries, on a share
    `several_errors` of the residents' rows).

    With `communes`, a province: every commune has its own Thôn 1…10 (the same hamlet names in
    each), register and list carry a Xã/phường column, and a share `moved` of the list rows
    give another commune and hamlet (people who moved). With `twice`, that share of the residents
    is registered a second time in another commune under a second ID (same name, date and sex;
    the register's extra rows share the person's `key`), as a person who moved and was entered
    anew is."""
    rng = random.Random(seed)
    families = [f for f, _ in FAMILIES]
    weights = [w for _, w in FAMILIES]
    hamlets = (
        [f"Xóm {i}" for i in range(1, 301)] if not communes else [f"Thôn {i}" for i in range(1, 11)]
    )
    commune_names = [f"Xã {i}" for i in range(1, communes + 1)]
    people = []
    for key in range(residents + int(rows * outsiders)):
        sex = rng.choice("MF")
        born = dt.date(rng.randint(1930, 2025), rng.randint(1, 12), rng.randint(1, 28))
        middle = rng.choices(*zip(*MIDDLE[sex], strict=True))[0]
        digit = century_sex_digit(sex, born.year)
        people.append(
            {
                "key": key,
                "family": rng.choices(families, weights)[0],
                "middle": middle,
                "given": rng.choice(GIVEN[sex]),
                "sex": sex,
                "born": born,
                # six serial digits: each further million of people takes the next birth
                # province code, so an ID keeps its 12 digits and its century/sex digit
                "pid": f"{34 + key // 1_000_000:03d}{digit}{born.year % 100:02d}"
                f"{key % 1_000_000:06d}",
                "hamlet": rng.choice(hamlets),
                "commune": rng.choice(commune_names) if communes else None,
            }
        )
    register = pd.DataFrame(
        [
            {
                "resident_code": f"NK{p['key']:07d}",
                "key": p["key"],
                "full_name": f"{p['family']} {p['middle']} {p['given']}",
                "birth_date": p["born"].strftime("%d/%m/%Y"),
                "sex": "Nam" if p["sex"] == "M" else "Nữ",
                "personal_id": p["pid"],
                "hamlet": p["hamlet"],
                **({"commune": p["commune"]} if communes else {}),
            }
            for p in people[:residents]
        ]
    )
    if communes > 1 and twice:
        again = []
        for j, key in enumerate(rng.sample(range(residents), int(residents * twice))):
            p = people[key]
            digit = century_sex_digit(p["sex"], p["born"].year)
            again.append(
                {
                    **register.iloc[key].to_dict(),
                    "resident_code": f"NK{9_000_000 + j:07d}",
                    # a second ID, issued where the person was entered anew: no resident's
                    "personal_id": f"079{digit}{p['born'].year % 100:02d}{j:06d}",
                    "hamlet": rng.choice(hamlets),
                    "commune": rng.choice([c for c in commune_names if c != p["commune"]]),
                }
            )
        register = pd.concat([register, pd.DataFrame(again)], ignore_index=True)

    chosen = rng.sample(range(residents), rows - int(rows * outsiders))
    chosen += list(range(residents, len(people)))
    listed = []
    for key in chosen:
        p = people[key]
        family, middle, given = p["family"], p["middle"], p["given"]
        roll, given_noise = rng.random(), ""
        if roll < 0.03 and (variant := dialect_spelling(given)):
            given, given_noise = variant, "dialect"
        elif roll < 0.05:
            given, given_noise = misspelled_given(rng, given), "misspelled"
        if middle in ("Văn", "Thị") and rng.random() < 0.15:
            middle = ""
        name = " ".join(x for x in (family, middle, given) if x)
        style = rng.random()
        if style < 0.2:
            name = name.upper()
        elif style < 0.3:
            name = unicodedata.normalize("NFD", name)
        elif style < 0.4:
            name = old_tone_style(name)
        elif style < 0.45:
            name = fold(name)
        born, date_roll = p["born"], rng.random()
        if date_roll < 0.15:
            birth = str(born.year)
        elif date_roll < 0.18 and born.day <= 12:
            birth = f"{born.month:02d}/{born.day:02d}/{born.year}"
        elif date_roll < 0.20:
            birth = f"{min(28, born.day % 28 + 1):02d}/{born.month:02d}/{born.year}"
        elif date_roll < 0.21:
            shifted = born.year + (rng.choice([-1, 1]) if born.year < 2024 else -1)
            birth = f"{born.day:02d}/{born.month:02d}/{shifted}"
        else:
            birth = born.strftime("%d/%m/%Y")
        pid = None
        if rng.random() < 0.5:
            pid = p["pid"]
            if rng.random() < 0.02:
                i = rng.randrange(6, 12)
                pid = pid[:i] + str((int(pid[i]) + 1) % 10) + pid[i + 1 :]
        sex = p["sex"] if rng.random() > 0.01 else ("F" if p["sex"] == "M" else "M")
        row = {
            "true_key": key if key < residents else -1,
            "given_noise": given_noise,
            "errors": 0,
            "full_name": name,
            "birth_date": birth,
            "sex": "Nam" if sex == "M" else "Nữ",
            "personal_id": pid,
            "hamlet": p["hamlet"] if rng.random() < 0.9 else None,
        }
        if communes:
            row["commune"] = p["commune"]
            if rng.random() < moved:  # moved: the list knows the new place, the register not
                row["commune"], row["hamlet"] = rng.choice(commune_names), rng.choice(hamlets)
        if key < residents and rng.random() < several_errors:
            faithful = dict(row, full_name=f"{family} {middle} {given}".replace("  ", " "))
            row = faithful
            row["errors"] = _several_errors(rng, row, p)
        listed.append(row)
    lists = pd.DataFrame(listed).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    for frame, name in ((register, "register.xlsx"), (lists, "list.xlsx")):
        frame["source_file"], frame["source_sheet"] = name, "S"
        frame["source_row"] = range(2, len(frame) + 2)
    return register, lists


def row_kinds(listed: pd.DataFrame) -> dict[str, np.ndarray]:
    """Masks of the list rows where generic matchers lose people (issue 5's reference: dialect
    given names, a birth year and no ID), to report recall on each beside the whole."""
    year_only = listed["birth_date"].str.fullmatch(r"\d{4}").fillna(False).to_numpy(dtype=bool)
    return {
        "dialect given name": (listed["given_noise"] == "dialect").to_numpy(),
        "other given-name spelling": (listed["given_noise"] == "misspelled").to_numpy(),
        "birth year only, no ID": year_only & listed["personal_id"].isna().to_numpy(),
    }


def recall_by_kind(listed: pd.DataFrame, found: np.ndarray) -> str:
    """'kind recall (rows)' for each row kind, over rows of residents; found: rows linked right."""
    resident = listed["true_key"].to_numpy() >= 0
    return "; ".join(
        f"{kind} {found[mask & resident].mean():.4f} ({(mask & resident).sum():,})"
        for kind, mask in row_kinds(listed).items()
    )
