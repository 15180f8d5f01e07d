"""Candidate pairs from several cheap keys taken together, so that one error in any field, and
most pairs of errors (a mistyped ID digit and a wrong year, a dropped middle name and no hamlet,
a typo in the given name of a row that gives only a year), never hide a true match.

Three tiers:
- exact keys (ID, name + year, …): every pair that shares one;
- loose keys (family + given name + year, ID halves, …): only where few residents share the
  key, so a "Nguyễn … Anh" block of a province does not flood the comparison;
- a fuzzy fallback for the rows no key found: the names of residents born within a year of the
  row, compared with rapidfuzz, the closest few kept.

Across a province (a register of several communes) the keys that say nothing of where a person
is (a name and a year, the fuzzy fallback) look only within a row's own commune, so that what a
row meets does not grow with the province; IDs and full dates still look everywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from reconcile.frames import pair_codes

# Each rule: the columns that must all be present and equal on both sides.
BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("pid",),
    ("insurance",),
    ("pid_tail",),  # the random half of the ID: a mistyped province, sex or year digit
    ("name_fold", "birth_year"),
    ("name_nomid_fold", "birth_year"),
    ("name_nospace_fold", "birth_year"),  # glued or split syllables
    ("given_phon", "birth_year", "birth_month", "birth_day"),  # family or middle name errors
    ("family_fold", "given_fold", "birth_month", "birth_day"),  # a middle name and a year
    ("name_phon", "hamlet_key"),  # dialect spellings with a wrong date
    # dialect or i/y spellings, Văn/Thị dropped or not, on lists that give only a year
    ("name_nomid_phon", "birth_year"),
)
# A row found by one of these (its ID, or its name and full date) almost surely has its resident
# among its candidates already: the loose keys are for the others.
EASY_RULES: tuple[tuple[str, ...], ...] = (
    ("pid",),
    ("name_fold", "birth_year", "birth_month", "birth_day"),
    ("name_nomid_fold", "birth_year", "birth_month", "birth_day"),
)
# Keys that tolerate what the others do not, for the rows no easy key found, and only where
# a block is small.
LOOSE_RULES: tuple[tuple[str, ...], ...] = (
    ("family_fold", "given_fold", "hamlet_key"),  # a wrong birth year, a dropped middle name
    ("family_fold", "birth_year", "birth_month", "birth_day"),  # a given-name typo
    ("family_fold", "given_fold", "birth_year"),  # any middle name dropped or changed
    ("name_fold", "birth_month", "birth_day"),  # a wrong year on a full date
    # a year one or two off on a row that gives only the year: two overlapping 5-year windows
    ("name_fold", "birth_lustrum"),
    ("name_fold", "birth_lustrum_shifted"),
    ("pid_head", "given_fold"),  # a mistyped digit in the ID's random half
    ("name_sorted_fold", "birth_year"),  # syllables in another order
    ("family_fold", "given_fold", "sex"),  # a wrong year and no hamlet column
    ("name_fold",),  # no date at all
)
# A loose key's block is skipped when more residents than this share it: each row meets at
# most this many residents through one loose key, whatever the register's size.
MAX_LOOSE_BLOCK = 20
# Rules without an ID or a full date. A province's register holds many residents of one name
# and birth year, and these blocks grow with its size (at 1M residents a list row met 5-7
# residents through each, against 2-3 at 300k). Where the register spans several communes, these
# meet a row only with the residents of its own commune; a resident who moved is still found by
# ID or by name and full date, which stay province-wide.
COMMUNE_RULES: tuple[tuple[str, ...], ...] = (
    ("name_fold", "birth_year"),
    ("name_nomid_fold", "birth_year"),
    ("name_nospace_fold", "birth_year"),
    ("family_fold", "given_fold", "birth_month", "birth_day"),
    ("name_nomid_phon", "birth_year"),
)
# Fuzzy fallback: residents born within this many years of the row, names at least this alike
# (rapidfuzz's token-set ratio: a dropped middle name, "tran phuong" in "tran thanh phuong",
# scores 100).
FUZZY_YEARS = 2
FUZZY_MIN_RATIO = 85.0
FUZZY_KEEP = 5
_FUZZY_COLUMNS = ("name_fold", "birth_year", "family_fold", "commune")


def _rule_keys(
    left: pd.DataFrame, right: pd.DataFrame, rule: tuple[str, ...], codes: dict
) -> tuple[np.ndarray, np.ndarray]:
    """One integer per row for a rule's columns together, equal across the two tables exactly
    when every column is equal; -1 where any is empty. Joining on one integer is several times
    faster than joining on several text columns."""
    key = None
    for column in rule:
        if column not in codes:
            codes[column] = _column_codes(left[column], right[column], column != "commune")
        code = codes[column]
        if key is None:
            key = code.astype(np.int64)
            continue
        width = int(code.max()) + 1
        if (int(key.max()) + 1) * width >= _KEY_LIMIT:  # made dense again only when it must be
            key = np.where(key < 0, -1, pd.factorize(key)[0])
        key = np.where((key < 0) | (code < 0), -1, key * width + code)
    return key[: len(left)], key[len(left) :]


# A rule's key is the mixed-radix number of its columns' codes, kept below this so it fits int64.
_KEY_LIMIT = 1 << 62
# A side with at most 1 in this many of the other's rows (a night's changed rows against the
# register) is "few": the other side is coded against its values alone.
FEW_ROWS_BELOW = 4


def _column_codes(left: pd.Series, right: pd.Series, unmatched_empty: bool) -> np.ndarray:
    """Codes of a column over both tables (left rows first), equal exactly where the values
    are; -1 where empty. With `unmatched_empty` and few left rows, a resident whose value no
    left row has is coded -1 too (it can pair with no row on this column): looking residents
    up among a few thousand values costs a fraction of coding every distinct value in the
    register. The commune keeps its full codes: -1 there means "names no commune"."""
    if left.dtype != right.dtype:  # 1990 and 1990.0 must code alike
        left, right = left.astype(object), right.astype(object)
    if unmatched_empty and len(left) * FEW_ROWS_BELOW <= len(right):
        values = pd.Index(pd.unique(left[left.notna()]))
        found = [values.get_indexer(left), values.get_indexer(right)]
        return np.concatenate(found).astype(np.int32)
    both = pd.concat([left, right], ignore_index=True)
    # int32: a province's 20-odd coded columns are held through every rule (0.4 GB less at 3M
    # residents and 2M list rows than pandas' int64 codes)
    return pd.factorize(both, use_na_sentinel=True)[0].astype(np.int32)


def _distinct(pairs: pd.DataFrame) -> pd.DataFrame:
    """drop_duplicates on (left, right) as one int64 per pair, where the labels' ranges allow."""
    if not len(pairs):
        return pairs
    codes = pair_codes(pairs["left"].to_numpy(np.int64), pairs["right"].to_numpy(np.int64))
    if codes is None:
        return pairs.drop_duplicates()
    return pairs[~pd.Series(codes).duplicated().to_numpy()]


def _join(left_index, right_index, left_key, right_key, max_block: int | None) -> pd.DataFrame:
    """Every (left, right) pair of equal keys (-1: none), left rows in order and each one's
    residents in theirs, as an inner merge gives them; with max_block, only keys no more
    residents than that share."""
    left_rows = np.flatnonzero(left_key >= 0)
    right_rows = np.flatnonzero(right_key >= 0)
    if not len(left_rows) or not len(right_rows):
        return pd.DataFrame(columns=["left", "right"])
    wanted, keys = left_key[left_rows], right_key[right_rows]
    # residents no row shares a key with never pair (and leave the blocks' sizes as they are)
    asked = pd.Series(keys).isin(wanted).to_numpy()
    keys, right_rows = keys[asked], right_rows[asked]
    if len(keys) * SEARCH_JOIN_BELOW >= len(asked):
        return _merge_join(left_index[left_rows], right_index[right_rows], wanted, keys, max_block)
    # few residents asked for (a night's changed rows, a small list): sorting them and searching
    # costs a fraction of hashing the whole register into a merge
    order = np.argsort(keys, kind="stable")
    keys, right_rows = keys[order], right_rows[order]
    first = np.searchsorted(keys, wanted, side="left")
    sizes = np.searchsorted(keys, wanted, side="right") - first
    if max_block is not None:
        sizes[sizes > max_block] = 0
    ends = np.cumsum(sizes)
    # pair j of left row i is resident first[i] + (j - its start)
    within = np.arange(int(ends[-1])) + np.repeat(first - (ends - sizes), sizes)
    return pd.DataFrame(
        {
            "left": left_index[np.repeat(left_rows, sizes)],
            "right": right_index[right_rows[within]],
        }
    )


# The search join is used when fewer than 1 in this many residents share a key with some row;
# above, pandas' hash merge is faster (a whole list against the register, the register itself).
SEARCH_JOIN_BELOW = 4


def _merge_join(left_labels, right_labels, left_key, right_key, max_block) -> pd.DataFrame:
    a = pd.DataFrame({"left": left_labels, "key": left_key})
    b = pd.DataFrame({"right": right_labels, "key": right_key})
    if max_block is not None:
        sizes = b["key"].value_counts()
        small = sizes.index[sizes <= max_block]
        a, b = a[a["key"].isin(small)], b[b["key"].isin(small)]
    return a.merge(b, on="key")[["left", "right"]]


def _spans_communes(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    return "commune" in left and "commune" in right and right["commune"].nunique() > 1


def _rule_pairs(
    left, right, rule, codes, within_commune: bool, max_block=None, rows=None
) -> list[pd.DataFrame]:
    """A rule's pairs (`rows`, a mask of left rows, limits the rows that look; `max_block` as
    in _join). Within_commune: rows that both name a commune meet only in the same one, a row
    that names none meets every resident, and a resident who names none every row."""
    left_index, right_index = left.index.to_numpy(), right.index.to_numpy()
    plain_left, plain_right = _rule_keys(left, right, rule, codes)
    if rows is not None:
        plain_left = np.where(rows, plain_left, -1)
    if not within_commune:
        return [_join(left_index, right_index, plain_left, plain_right, max_block)]
    scoped_left, scoped_right = _rule_keys(left, right, (*rule, "commune"), codes)
    if rows is not None:
        scoped_left = np.where(rows, scoped_left, -1)
    left_known = codes["commune"][: len(left)] >= 0
    right_known = codes["commune"][len(left) :] >= 0
    return [
        _join(left_index, right_index, scoped_left, scoped_right, max_block),
        _join(
            left_index, right_index, np.where(left_known, -1, plain_left), plain_right, max_block
        ),
        _join(
            left_index,
            right_index,
            np.where(left_known, plain_left, -1),
            np.where(right_known, -1, plain_right),
            max_block,
        ),
    ]


def _usable(rules, left: pd.DataFrame, right: pd.DataFrame):
    return [r for r in rules if all(c in left.columns and c in right.columns for c in r)]


def candidate_pairs(
    left: pd.DataFrame,
    right: pd.DataFrame,
    same_table: bool = False,
    rules: tuple[tuple[str, ...], ...] = BLOCKING_RULES,
    loose_rules: tuple[tuple[str, ...], ...] = LOOSE_RULES,
    fuzzy: bool = True,
    easy_rules: tuple[tuple[str, ...], ...] = EASY_RULES,
    max_loose_block: int = MAX_LOOSE_BLOCK,
    commune_rules: tuple[tuple[str, ...], ...] = (),
    reach: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray]:
    """Distinct (left index, right index) pairs sharing any blocking key, plus the fuzzy
    fallback's pairs for left rows no key found. Where `right` spans several communes, the
    `commune_rules` (exact or loose) and the fuzzy fallback look only within a row's own
    commune. With `reach`, (pairs, how far each left row was looked for: REACH_EASY, an easy
    key found it; REACH_LOOSE, the loose keys were tried too; REACH_FUZZY, no key found it and
    what it meets depends on every resident near it, not only on those sharing its keys).

    With same_table, each unordered pair appears once (left < right) and no row pairs itself.
    """
    parts = []
    codes: dict[str, np.ndarray] = {}
    easy = np.zeros(len(left), dtype=bool)
    extra_easy = tuple(r for r in easy_rules if r not in rules)
    province = _spans_communes(left, right)
    for rule in _usable(rules + extra_easy, left, right):
        found = _rule_pairs(left, right, rule, codes, province and rule in commune_rules)
        parts += found
        if rule in easy_rules:
            easy |= left.index.isin(np.concatenate([f["left"].to_numpy() for f in found]))
    hard = ~easy if not same_table else np.ones(len(left), dtype=bool)  # a row finds itself
    for rule in _usable(loose_rules, left, right):
        within = province and rule in commune_rules
        parts += _rule_pairs(left, right, rule, codes, within, max_loose_block, hard)
    parts = [p for p in parts if len(p)]
    pairs = (
        _distinct(pd.concat(parts, ignore_index=True))
        if parts
        else pd.DataFrame({"left": pd.Series(dtype="int64"), "right": pd.Series(dtype="int64")})
    )
    looks = fuzzy and not same_table  # the fallback looks for the rows no key found
    keyed = left.index.isin(pairs["left"].to_numpy()) if looks else np.ones(len(left), bool)
    if same_table:
        pairs = pairs[pairs["left"] < pairs["right"]]
    elif fuzzy:
        # the fallback's columns alone: taking rows of every column copied the register
        read = [c for c in _FUZZY_COLUMNS if c in left and c in right]
        fallback = _fuzzy_within_commune if province else fuzzy_pairs
        extra = fallback(left[read][~keyed], right[read])
        if len(extra):
            pairs = pd.concat([pairs, extra], ignore_index=True)
    pairs = pairs.astype({"left": "int64", "right": "int64"}).reset_index(drop=True)
    if reach:
        how_far = np.where(hard, REACH_LOOSE, REACH_EASY).astype(np.int8)
        return pairs, np.where(keyed, how_far, REACH_FUZZY).astype(np.int8)
    return pairs


# How far candidate_pairs looked for a row (its `reach`).
REACH_EASY, REACH_LOOSE, REACH_FUZZY = 0, 1, 2


def rows_sharing_a_key(
    left: pd.DataFrame,
    others: pd.DataFrame,
    rules: tuple[tuple[str, ...], ...],
    loose: tuple[tuple[str, ...], ...] = (),
    loose_rows: np.ndarray | None = None,
    capped: tuple[tuple[str, ...], ...] = (),
    register: pd.DataFrame | None = None,
    steady: np.ndarray | None = None,
    max_block: int = MAX_LOOSE_BLOCK,
    fuzzy_rows: np.ndarray | None = None,
) -> np.ndarray:
    """A mask of the `left` rows whose blocks one of `others` (a few residents) is in: that
    share, under some rule, every column of the rule with one of them, whatever the commune
    (a commune-scoped rule's blocks are within its plain ones). The `loose` rules count only
    for the `loose_rows` (the rows they look for). Those also `capped` (whose cap counts their
    plain blocks) count a key only where the `register`'s `steady` rows (those in it both
    before and after `others` came or went) hold at most `max_block` of it: a block holding
    more is skipped on either side of the change. The `fuzzy_rows` (no key found them) count
    where the fuzzy fallback finds one of `others` for them."""
    shared = np.zeros(len(left), dtype=bool)
    if not len(others) or not len(left):
        return shared
    if fuzzy_rows is not None and fuzzy_rows.any():
        read = [c for c in _FUZZY_COLUMNS if c in left and c in others]
        within = register is not None and _spans_communes(left, register)
        near = (_fuzzy_within_commune if within else fuzzy_pairs)(
            left[read][fuzzy_rows], others[read].reset_index(drop=True)
        )
        shared |= left.index.isin(near["left"].to_numpy())
    codes: dict[str, np.ndarray] = {}
    in_register: dict[str, np.ndarray] = {}
    for rule in _usable(tuple(dict.fromkeys(rules + loose)), others, left):
        # the few first: the left rows' values none of them has are coded -1 (no key)
        their_keys, row_keys = _rule_keys(others, left, rule, codes)
        counted = their_keys >= 0
        if rule in capped and register is not None and all(c in register for c in rule):
            counted &= _in_small_blocks(others, register, steady, rule, in_register, max_block)
        if not counted.any():
            continue
        sharing = (row_keys >= 0) & pd.Series(row_keys).isin(their_keys[counted]).to_numpy()
        if rule not in rules and loose_rows is not None:
            sharing &= loose_rows
        shared |= sharing
    return shared


def _in_small_blocks(others, register, steady, rule, codes, max_block) -> np.ndarray:
    """A mask of `others` whose key of `rule` at most `max_block` steady rows of the register
    have (keys are compared within one _rule_keys call: each call numbers its own)."""
    theirs, held = _rule_keys(others, register, rule, codes)
    held = held[steady] if steady is not None else held
    counts = pd.Series(held[held >= 0]).value_counts()
    return counts.reindex(theirs, fill_value=0).to_numpy() <= max_block


def fuzzy_pairs(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """For rows no key found: residents born within FUZZY_YEARS of the row (of the same family
    name when the row gives no year) whose folded names are at least FUZZY_MIN_RATIO alike, the
    FUZZY_KEEP closest. Bounded: each row meets only its years' or its family's residents."""
    empty = pd.DataFrame(columns=["left", "right"])
    needed = ["name_fold", "birth_year", "family_fold"]
    if left.empty or right.empty or not all(c in left and c in right for c in needed):
        return empty
    # only the columns read: filtering the whole register copied every column of it
    left = left[needed][pd.notna(left["name_fold"].to_numpy(dtype=object))]
    right = right[needed][pd.notna(right["name_fold"].to_numpy(dtype=object))]
    # the register sorted by birth year once: each year's window is a slice
    years = right["birth_year"].astype("float64").to_numpy()
    order = np.argsort(years, kind="stable")
    sorted_years = years[order]
    names = right["name_fold"].to_numpy(dtype=object)[order]
    labels = right.index.to_numpy()[order]
    out = []
    row_years = left["birth_year"].astype("float64").to_numpy()
    dated = ~np.isnan(row_years)
    for year in np.unique(row_years[dated]):
        lo = np.searchsorted(sorted_years, year - FUZZY_YEARS, side="left")
        hi = np.searchsorted(sorted_years, year + FUZZY_YEARS, side="right")
        rows = left[dated & (row_years == year)]
        out.append(_closest(rows, names[lo:hi], labels[lo:hi]))
    undated = left[~dated]
    if len(undated):
        family = right["family_fold"].to_numpy(dtype=object)
        for name, rows in undated.groupby("family_fold", sort=False):
            same = family == name
            out.append(
                _closest(
                    rows,
                    right["name_fold"].to_numpy(dtype=object)[same],
                    right.index.to_numpy()[same],
                )
            )
    out = [o for o in out if len(o)]
    return pd.concat(out, ignore_index=True) if out else empty


def _fuzzy_within_commune(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """fuzzy_pairs of each commune's rows against its residents (and those who name none); a
    row that names no commune against every resident. Each row meets a commune's residents,
    not a province's."""
    unknown = np.flatnonzero(right["commune"].isna().to_numpy())
    residents = right.groupby("commune", sort=False).indices
    named = left["commune"].notna().to_numpy()
    out = [fuzzy_pairs(left[~named], right)]
    for commune, rows in left[named].groupby("commune", sort=False):
        mine = residents.get(commune, np.zeros(0, dtype=np.int64))
        out.append(fuzzy_pairs(rows, right.iloc[np.sort(np.concatenate([mine, unknown]))]))
    out = [o for o in out if len(o)]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["left", "right"])


def _closest(rows: pd.DataFrame, names: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    if rows.empty or not len(names):
        return pd.DataFrame(columns=["left", "right"])
    scores = process.cdist(
        rows["name_fold"].tolist(),
        list(names),
        scorer=fuzz.token_set_ratio,
        score_cutoff=FUZZY_MIN_RATIO,
        dtype=np.uint8,
        workers=-1,  # both cores: the token-set ratio is the costly scorer
    )
    keep = min(FUZZY_KEEP, scores.shape[1])
    best = np.argsort(-scores.astype(np.int16), axis=1, kind="stable")[:, :keep]
    row_pos = np.repeat(np.arange(len(rows)), keep)
    col_pos = best.ravel()
    good = scores[row_pos, col_pos] >= FUZZY_MIN_RATIO
    return pd.DataFrame(
        {"left": rows.index.to_numpy()[row_pos[good]], "right": labels[col_pos[good]]}
    )
