"""One person registered twice, mostly under two different ID numbers.

An ID is re-established when the sex is redetermined or the birth year corrected, and cancelled
and set anew when the birthplace, year or sex was entered wrongly (Thông tư 59/2021/TT-BCA,
Art. 6); a second birth registration or a record carried over from an old CMND gives a second
number too (shared/domain.md §3). So two register rows are one person when name, full birth date,
sex and hamlet or household agree beyond what chance explains, whatever their IDs; the same ID
on two rows is a data-entry error. Twins (same household and date, other given names) and a
father and son of one name (other years) are never paired.

The evidence is weighed as the matcher weighs it (the run's fitted level weights and the name's
frequency in the register) against the prior that a pair of residents is one person twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reconcile.frames import joined
from reconcile.matching import fellegi_sunter as fs
from reconcile.matching.blocking import candidate_pairs
from reconcile.matching.comparison import LEVELS, compare
from reconcile.matching.weights import TYPICAL_M
from reconcile.normalize.identifiers import CENTURY_OF_DIGIT

# Pairs that can be one person twice: same name and full date; same ID; same name in a hamlet
# or household (a corrected birth year leaves the date different).
DUPLICATE_RULES = (
    ("pid",),
    ("name_fold", "birth_year", "birth_month", "birth_day"),
    ("name_nomid_fold", "birth_year", "birth_month", "birth_day"),
    ("family_fold", "given_fold", "birth_year", "birth_month", "birth_day"),
)
DUPLICATE_LOOSE_RULES = (
    ("name_fold", "hamlet_key"),
    ("name_fold", "household"),
    ("name_fold", "birth_month", "birth_day"),
)
# A corrected year (same name, day and month) is looked for within a commune: across a province
# every small block of one name and birthday is searched, and they grow with it (at 1M
# residents 0.7M of the 1.0M candidate pairs). A second registration in another commune keeps
# its full date and is found by the rules above, which look province-wide.
DUPLICATE_COMMUNE_RULES = (("name_fold", "birth_month", "birth_day"),)
# Share of residents registered twice that the prior assumes (practice: well under 1%).
DUPLICATE_SHARE = 0.005
# Log2 odds above which a pair is reported (2:1): the police verify each one.
DUPLICATE_LOG_ODDS = 1.0
# Name levels that can be one person's name written twice.
_SAME_NAME = ("exact", "dropped_middle", "no_diacritics", "folded", "iy_variant")


def _level_weights(model: fs.Model | None) -> dict[str, dict[str, float]]:
    """field → level → weight: the fitted model's where there is one, else the priors."""
    weights = {f: {lv: w for lv, (w, _) in levels.items()} for f, levels in LEVELS.items()}
    if model is None:
        return weights
    for field, levels, w in zip(model.fields, model.levels, model.weights(), strict=True):
        base = "birth" if field == "birth_precise" else field
        if base in weights and field != "birth_coarse":
            weights[base] = dict(zip(levels, w, strict=True))
    return weights


def _agreement_rates(model: fs.Model | None) -> dict[str, float]:
    """How often one person's two records agree on each field (m): the run's fitted model's
    where there is one, else the typical rates of hand-typed lists."""
    rates = {
        "name": TYPICAL_M["name"]["exact"],
        "birth_exact": TYPICAL_M["birth_precise"]["exact"],
        "birth_partial": TYPICAL_M["birth_coarse"]["partial"],
        "sex": TYPICAL_M["sex"]["equal"],
        "hamlet": TYPICAL_M["hamlet"]["equal"],
    }
    if model is not None:
        m = dict(zip(model.fields, model.m, strict=True))
        levels = dict(zip(model.fields, model.levels, strict=True))

        def rate(field: str, level: str) -> float:
            return float(m[field][levels[field].index(level)])

        rates.update(
            name=rate("name", "exact"),
            birth_exact=rate("birth_precise", "exact"),
            birth_partial=rate("birth_coarse", "partial"),
            sex=rate("sex", "equal"),
            hamlet=rate("hamlet", "equal"),
        )
    return {k: max(v, 1e-3) for k, v in rates.items()}


def _digits_agree(a: str, b: str, positions: slice) -> bool:
    return a[positions] == b[positions]


def id_difference(a: object, b: object) -> tuple[str, str]:
    """Which digits of two IDs of one person differ, and what that fits (bilingual, no digits):
    (kind, text). kind: same, one_digit, correction, second_number, one_missing, old_cmnd."""
    a = a if isinstance(a, str) else ""
    b = b if isinstance(b, str) else ""
    if not a or not b:
        return "one_missing", "một bản ghi không có số định danh / one record has no ID"
    if a == b:
        return "same", "cùng một số định danh trên hai dòng / the same ID on two rows"
    if len(a) != 12 or len(b) != 12:
        return "old_cmnd", "một bản ghi mang số CMND cũ / one record carries an old CMND number"
    differ = [i + 1 for i in range(12) if a[i] != b[i]]
    where = ", ".join(map(str, differ))
    if len(differ) == 1 and differ[0] > 6:
        return "one_digit", f"lệch một chữ số (thứ {where}): có thể gõ nhầm / one digit differs"
    parts = []
    if not _digits_agree(a, b, slice(0, 3)):
        parts.append("mã tỉnh (nơi đăng ký khai sinh) / province code")
    if a[3] != b[3]:
        same_century = CENTURY_OF_DIGIT[a[3]] == CENTURY_OF_DIGIT[b[3]]
        parts.append(
            "chữ số giới tính / sex digit" if same_century else "chữ số thế kỷ / century digit"
        )
    if not _digits_agree(a, b, slice(4, 6)):
        parts.append("năm sinh / birth-year digits")
    if parts:
        return "correction", (
            f"các chữ số khác nhau: {where} ({'; '.join(parts)}): phù hợp với việc cấp lại số sau "
            f"khi cải chính (Thông tư 59/2021/TT-BCA, Điều 6) / digits {where} differ: fits an ID "
            f"re-established after a correction"
        )
    return "second_number", (
        f"cùng mã tỉnh, giới tính, năm sinh; khác phần số ngẫu nhiên ({where}): có thể đăng ký hai "
        f"lần / same province, sex and year digits, other random digits: likely a second "
        f"registration"
    )


def _id_consistent(pid: np.ndarray, sex: np.ndarray, year: np.ndarray) -> tuple:
    """Per row: does its 12-digit ID agree with its own sex, and with its own birth year?"""
    text = pd.Series(pid, dtype=object)
    twelve = text.str.len().eq(12).fillna(False).to_numpy(dtype=bool)
    text = text.where(twelve, "0" * 12)
    digit = text.str[3]
    id_sex = np.where(digit.astype(int) % 2 == 0, "M", "F")
    year_digits = text.str[4:6].astype(int)
    id_year = digit.map(CENTURY_OF_DIGIT).astype(int) + year_digits
    return twelve & (id_sex == sex), twelve & (id_year.to_numpy() == year)


def duplicate_candidates(register: pd.DataFrame) -> pd.DataFrame:
    """The pairs of register rows the duplicate search weighs (left < right)."""
    return candidate_pairs(
        register,
        register,
        same_table=True,
        rules=DUPLICATE_RULES,
        loose_rules=DUPLICATE_LOOSE_RULES,
        fuzzy=False,
        commune_rules=DUPLICATE_COMMUNE_RULES,
    )


@dataclass
class DuplicateEvidence:
    """What the duplicate search finds in a register before any model weighs it: the candidate
    pairs compared, and per pair the facts the weighing reads. It needs nothing of the run's
    fitted model, so it can be gathered beside the matching (in another process) and weighed
    once the model is learnt (weigh_duplicates)."""

    scored: pd.DataFrame  # the candidate pairs with the comparison's level columns
    residents: int  # the register's rows (the prior counts pairs of residents)
    rarity: dict[str, np.ndarray]  # log2(1 / share of residents with the pair's value)
    sex_differs: np.ndarray
    sex_explained: np.ndarray  # both IDs fit their own rows' sexes: a re-established ID
    year_explained: np.ndarray  # a corrected birth year that both IDs fit
    same_place: np.ndarray  # same hamlet, or same household
    other_commune: np.ndarray
    same_given: np.ndarray
    pids: tuple[np.ndarray, np.ndarray]


def duplicate_evidence(register: pd.DataFrame) -> DuplicateEvidence:
    """The candidate pairs of `register` compared, with what weigh_duplicates needs of them."""
    pairs = duplicate_candidates(register)
    scored = compare(register, register, pairs)
    left = register.index.get_indexer(scored["left"])
    right = register.index.get_indexer(scored["right"])

    def column(name):
        values = register[name].to_numpy()
        return values[left], values[right]

    birth = scored["birth"].astype(str).to_numpy()
    sex = scored["sex"].astype(str).to_numpy()
    hamlet = scored["hamlet"].astype(str).to_numpy()
    pid = scored["pid"].astype(str).to_numpy()

    # a re-established ID explains a sex or year that differs, when each number fits its own row
    (pid_a, pid_b), (sex_a, sex_b) = column("pid"), column("sex")
    year_a, year_b = (y.astype("float64") for y in column("birth_year"))
    fits_a = _id_consistent(pid_a, sex_a, year_a)
    fits_b = _id_consistent(pid_b, sex_b, year_b)
    sex_differs = np.isin(sex, ("differ", "differ_slip"))
    (month_a, month_b), (day_a, day_b) = column("birth_month"), column("birth_day")
    same_day = (month_a == month_b) & (day_a == day_b) & pd.notna(day_a)
    # a corrected year is a slip (a digit, a transposition, a year or two), not a generation:
    # a father and son of one name may share a birthday and a hamlet
    slip = np.isin(birth, ("year_typo", "year_off_by_one")) | (np.abs(year_a - year_b) <= 3)
    differ = pid == "differ"

    def rarity(columns: list[str]) -> np.ndarray:
        """log2(1 / how often a resident has this pair's value): a rare value agreed on says
        more than a common one (term frequencies from the register itself)."""
        key = joined(register, columns)
        share = key.map(key.value_counts(normalize=True)).to_numpy(dtype=float)[left]
        return -np.log2(np.maximum(share, 1e-9))

    same_place = hamlet == "equal"
    if "household" in register:
        households = column("household")
        same_place |= pd.notna(households[0]) & (households[0] == households[1])
    # A person registered in two communes (moved, entered anew) is in another hamlet by the
    # very nature of the case: a hamlet differs only within one commune.
    other_commune = np.zeros(len(scored), dtype=bool)
    if "commune" in register:
        commune_a, commune_b = column("commune")
        other_commune = pd.notna(commune_a) & pd.notna(commune_b) & (commune_a != commune_b)
    given_a, given_b = column("given_canonical")
    date = ["birth_year", "birth_month", "birth_day"]
    return DuplicateEvidence(
        scored=scored,
        residents=len(register),
        rarity={
            "name": rarity(["name_canonical"]),
            "date": rarity(date),
            "year": rarity(["birth_year"]),
            "day_month": rarity(date[1:]),
            "sex": rarity(["sex"]),
            "hamlet": rarity(["hamlet_key"]),
        },
        sex_differs=sex_differs,
        sex_explained=sex_differs & fits_a[0] & fits_b[0],
        year_explained=(birth != "exact") & slip & same_day & fits_a[1] & fits_b[1] & differ,
        same_place=same_place,
        other_commune=other_commune,
        same_given=given_a == given_b,  # twins share a date and a household, not a given name
        pids=(pid_a, pid_b),
    )


def find_register_duplicates(register: pd.DataFrame, model: fs.Model | None = None) -> pd.DataFrame:
    """Pairs of register rows that are one person twice, scored (log2 odds) and explained.

    Columns: the comparison's level columns, `score`, `id_kind` and `id_note` (id_difference)."""
    return weigh_duplicates(duplicate_evidence(register), model)


def weigh_duplicates(evidence: DuplicateEvidence, model: fs.Model | None = None) -> pd.DataFrame:
    """The evidence's pairs that are one person twice, weighed by the run's fitted level weights
    (`model`, else the priors) against the prior that two residents are one person."""
    scored = evidence.scored
    if scored.empty:
        return scored.assign(id_kind=pd.Series(dtype=object), id_note=pd.Series(dtype=object))
    weights = _level_weights(model)
    m = _agreement_rates(model)
    rarity = evidence.rarity
    name = scored["name"].astype(str).to_numpy()
    birth = scored["birth"].astype(str).to_numpy()
    sex = scored["sex"].astype(str).to_numpy()
    hamlet = scored["hamlet"].astype(str).to_numpy()
    pid = scored["pid"].astype(str).to_numpy()
    year_explained = evidence.year_explained

    def level_weight(field: str, levels: np.ndarray) -> np.ndarray:
        return pd.Series(levels).map(weights[field]).fillna(0.0).to_numpy()

    total = np.where(
        name == "exact", np.log2(m["name"]) + rarity["name"], level_weight("name", name)
    )
    total += np.select(
        [birth == "exact", birth == "partial", year_explained],
        [
            np.log2(m["birth_exact"]) + rarity["date"],
            np.log2(m["birth_partial"]) + rarity["year"],
            np.log2(m["birth_exact"]) + rarity["day_month"],  # the day and month agree
        ],
        level_weight("birth", birth),
    )
    total += np.where(sex == "equal", np.log2(m["sex"]) + rarity["sex"], 0.0)
    total += np.where(evidence.sex_differs & ~evidence.sex_explained, level_weight("sex", sex), 0.0)
    total += np.where(
        evidence.same_place,
        np.log2(m["hamlet"]) + np.where(hamlet == "equal", rarity["hamlet"], 0.0),
        np.where(evidence.other_commune, 0.0, level_weight("hamlet", hamlet)),
    )
    total += np.where(pid == "equal", weights["pid"]["equal"], 0.0)
    insurance = scored["insurance"].astype(str).to_numpy()
    total += np.where(insurance == "equal", weights["insurance"]["equal"], 0.0)
    n = max(2, evidence.residents)
    total += np.log2(2 * DUPLICATE_SHARE / n / (1 - 2 * DUPLICATE_SHARE / n))

    possible = (
        np.isin(name, _SAME_NAME)
        & evidence.same_given
        # a father and son of one name do not share a birth year
        & (np.isin(birth, ("exact", "partial", "placeholder")) | year_explained | (pid == "equal"))
    )
    keep = possible & (total >= DUPLICATE_LOG_ODDS)
    out = scored[keep].copy()
    out["score"] = total[keep].round(2)
    pid_a, pid_b = evidence.pids
    notes = [id_difference(a, b) for a, b in zip(pid_a[keep], pid_b[keep], strict=True)]
    out["id_kind"] = [k for k, _ in notes]
    out["id_note"] = [t for _, t in notes]
    return out.reset_index(drop=True)
