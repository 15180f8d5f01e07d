"""A check sample: about 50 links drawn at random for an officer to mark right or wrong, most
from the uncertain band, and what the marks say about the run's estimates.

The sample is stratified by the model's probability that the link is right: UNCERTAIN links
(possible matches, and matches below CONFIDENT) are drawn most, because that is where the model
can be wrong about itself. Each sampled link has an id keyed with the installation's secret (as
finding ids are), recorded in the decisions store when the workbook is written; a mark is taken
back only for an id this installation issued. The marks of every earlier run count, per list.

With marks, a list's false-link estimate is corrected band by band: in each band the share of
wrong links is the marked share, shrunk towards the model's own expectation by one pseudo-mark.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reconcile.estimates import ListEstimate, row_probabilities
from reconcile.findings import finding_id

SAMPLE_SIZE = 50
UNCERTAIN_SHARE = 0.7
CONFIDENT = 0.999
BANDS = ("uncertain", "confident")
MARK_RIGHT, MARK_WRONG = "Đúng", "Sai"
SAMPLE_COLUMNS = [
    "sample_id",
    "list_label",
    "series",
    "band",
    "p_wrong",
    "decision",
    "probability",
    "list_row",
    "list_name",
    "list_birth",
    "list_sex",
    "list_pid",
    "person_id",
    "register_row",
    "register_name",
    "register_birth",
    "register_sex",
    "register_pid",
]


def _band(p_right: np.ndarray, decision: np.ndarray) -> np.ndarray:
    return np.where((decision == "possible") | (p_right < CONFIDENT), "uncertain", "confident")


def _taken(item) -> pd.DataFrame | None:
    """A list's match and possible links: their band and probability, and the rows they join."""
    taken = item.links["decision"].isin(["match", "possible"]).to_numpy()
    if not taken.any():
        return None
    links = item.links[taken]
    p_right = row_probabilities(item.links, item.scored)["p_chosen"].to_numpy()[taken]
    decision = links["decision"].to_numpy()
    return pd.DataFrame(
        {
            "band": _band(p_right, decision),
            "p_wrong": (1 - p_right).round(6),
            "decision": decision,
            "probability": p_right.round(4),
            "left": links["left"].to_numpy(),
            "right": links["right"].astype("int64").to_numpy(),
        }
    )


def _people(item, drawn: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """The drawn links of one list with the list row and the resident they join."""
    people = item.people.loc[drawn["left"]]
    residents = register.loc[drawn["right"]]
    return pd.DataFrame(
        {
            "list_label": item.label,
            "series": item.series or item.label,
            **{c: drawn[c].to_numpy() for c in ("band", "p_wrong", "decision", "probability")},
            "list_row": people["source_row"].to_numpy(),
            "list_name": people["name"].to_numpy(),
            "list_birth": people["birth_display"].to_numpy(),
            "list_sex": people["sex"].to_numpy(),
            "list_pid": people["pid"].to_numpy(),
            "list_key": (
                people["name_canonical"].fillna("") + "|" + people["birth_display"]
            ).to_numpy(),
            "person_id": residents["person_id"].to_numpy(),
            "register_row": residents["source_row"].to_numpy(),
            "register_name": residents["name"].to_numpy(),
            "register_birth": residents["birth_display"].to_numpy(),
            "register_sex": residents["sex"].to_numpy(),
            "register_pid": residents["pid"].to_numpy(),
        }
    )


def draw_sample(linked, register: pd.DataFrame, secret: bytes, seed: int) -> pd.DataFrame:
    """About SAMPLE_SIZE links (match or possible) of all lists together, stratified by band.
    The draw needs only each link's band; the people are looked up for the drawn ones alone
    (for every link, that cost a district run 0.7 s)."""
    taken = [(item, _taken(item)) for item in linked]
    taken = [(item, links) for item, links in taken if links is not None]
    if not taken:
        return pd.DataFrame(columns=SAMPLE_COLUMNS)
    bands = np.concatenate([links["band"].to_numpy() for _, links in taken])
    rng = np.random.default_rng(seed)
    uncertain = np.flatnonzero(bands == "uncertain")
    confident = np.flatnonzero(bands == "confident")
    want_uncertain = min(len(uncertain), round(SAMPLE_SIZE * UNCERTAIN_SHARE))
    want_confident = min(len(confident), SAMPLE_SIZE - want_uncertain)
    want_uncertain = min(len(uncertain), SAMPLE_SIZE - want_confident)
    chosen = np.sort(
        np.concatenate(
            [
                rng.choice(uncertain, want_uncertain, replace=False),
                rng.choice(confident, want_confident, replace=False),
            ]
        ).astype(int)
    )
    starts = np.cumsum([0] + [len(links) for _, links in taken])
    parts = []
    for (item, links), start, stop in zip(taken, starts[:-1], starts[1:], strict=True):
        mine = chosen[(chosen >= start) & (chosen < stop)] - start
        if len(mine):
            parts.append(_people(item, links.iloc[mine], register))
    if not parts:
        return pd.DataFrame(columns=SAMPLE_COLUMNS)
    sample = pd.concat(parts, ignore_index=True)
    sample["sample_id"] = [
        finding_id("check_sample", series, f"{person}|{key}", "", secret)
        for series, person, key in zip(
            sample["series"], sample["person_id"], sample["list_key"], strict=True
        )
    ]
    return sample[SAMPLE_COLUMNS].reset_index(drop=True)


def measured(marks: pd.DataFrame) -> dict | None:
    """What a list's marks say: counts per band and the measured precision (of `match` links)."""
    if marks is None or not len(marks):
        return None
    marked = marks[marks["mark"].isin([MARK_RIGHT, MARK_WRONG])]
    if not len(marked):
        return None
    wrong = marked["mark"].eq(MARK_WRONG)
    out = {
        "marked": int(len(marked)),
        "right": int((~wrong).sum()),
        "wrong": int(wrong.sum()),
        "precision": float((~wrong).mean()),
        "bands": {},
    }
    for band in BANDS:
        in_band = marked["band"].eq(band)
        out["bands"][band] = {
            "marked": int(in_band.sum()),
            "wrong": int((wrong & in_band).sum()),
            "expected_wrong": float(marked.loc[in_band, "p_wrong"].sum()),
        }
    return out


def corrected(estimate: ListEstimate, links, scored, marks: pd.DataFrame) -> ListEstimate:
    """The estimate with the marks beside it, and its false links corrected by band."""
    seen = measured(marks)
    if seen is None:
        return estimate
    rows = row_probabilities(links, scored)
    match = rows["decision"].to_numpy() == "match"
    p_right = rows["p_chosen"].to_numpy()[match]
    band = _band(p_right, np.full(len(p_right), "match"))
    false_links = 0.0
    for name in BANDS:
        here = band == name
        expected_rate = float((1 - p_right[here]).mean()) if here.any() else 0.0
        b = seen["bands"][name]
        rate = (b["wrong"] + expected_rate) / (b["marked"] + 1)  # one pseudo-mark at the model
        false_links += rate * int(here.sum())
    seen["false_links"] = round(false_links, 1)
    estimate.checked = seen
    return estimate
