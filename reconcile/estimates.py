"""How far to trust a run, without labels: expected error counts from the model's own posterior
(as fastLink estimates error rates from the Fellegi–Sunter posterior), with intervals.

A pair's score is the log2 odds that the list row is this resident rather than nobody in the
register (weights.rescore), so among a row's candidates c with odds o_c:
    P(row is c) = o_c / (1 + Σ o),   P(row is some resident) = Σ o / (1 + Σ o).
Then per list
- false_links: Σ over `match` rows of 1 − P(row is the chosen resident);
- missed_residents: Σ over `none` rows of P(row is some resident);
- true_possible: Σ over `possible` rows of P(row is the chosen resident).
Each count is a sum of independent Bernoulli variables (a Poisson-binomial); its interval is
that distribution's central 90%. The model can be wrong about itself: a check sample marked by
an officer (check_sample.py) measures what it cannot see, and `corrected` rescales by it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from reconcile.frames import pair_positions

INTERVAL = 0.90
# Rows more certain than this add nothing to a count's spread (nor, in total, to the count).
NEGLIGIBLE = 1e-6
# Beyond this many uncertain rows the exact distribution is replaced by its normal approximation.
EXACT_TERMS = 4000


def poisson_binomial_interval(p: np.ndarray, level: float = INTERVAL) -> tuple[int, int]:
    """Central `level` interval of the number of successes among independent trials."""
    p = np.asarray(p, dtype=float)
    p = p[p > NEGLIGIBLE]
    if not len(p):
        return 0, 0
    tail = (1 - level) / 2
    if len(p) > EXACT_TERMS:
        mean, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
        z = 1.6448536269514722 if abs(level - 0.9) < 1e-9 else _z(level)
        return max(0, int(np.floor(mean - z * sd))), int(np.ceil(mean + z * sd))
    distribution = np.zeros(len(p) + 1)
    distribution[0] = 1.0
    for i, q in enumerate(p, start=1):  # add one trial at a time
        distribution[1 : i + 1] = distribution[1 : i + 1] * (1 - q) + distribution[:i] * q
        distribution[0] *= 1 - q
    cumulative = np.cumsum(distribution)
    low = int(np.searchsorted(cumulative, tail))
    high = int(np.searchsorted(cumulative, 1 - tail))
    return low, min(high, len(p))


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def row_probabilities(links: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Per list row: P(it is the resident it was given) and P(it is any resident)."""
    odds = np.exp2(np.clip(scored["score"].to_numpy(dtype=float), -60, 60))
    by_row = pd.Series(odds).groupby(scored["left"].to_numpy()).sum()
    total = links["left"].map(by_row).fillna(0.0).to_numpy()
    position = pair_positions(scored, links)
    if position is None:
        chosen = links[["left", "right"]].merge(
            pd.DataFrame({"left": scored["left"], "right": scored["right"], "odds": odds}),
            on=["left", "right"],
            how="left",
        )["odds"]
        chosen = chosen.fillna(0.0).to_numpy()
    else:  # what the merge gives, by a lookup on one int64 per pair
        chosen = np.where(position >= 0, odds[position], 0.0)
    return pd.DataFrame(
        {
            "left": links["left"].to_numpy(),
            "decision": links["decision"].to_numpy(),
            "p_chosen": chosen / (1 + total),
            "p_any": total / (1 + total),
        }
    )


@dataclass
class ListEstimate:
    rows: int
    matched: int
    possible: int
    unmatched: int
    false_links: float
    false_links_interval: list[int]
    missed_residents: float
    missed_residents_interval: list[int]
    true_possible: float
    true_possible_interval: list[int]
    # from an officer's marks on the last check sample (None until there are marks)
    checked: dict | None = field(default=None)

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("false_links", "missed_residents", "true_possible"):
            out[key] = round(out[key], 1)
        if self.checked is None:
            out.pop("checked")
        return out


def estimate_list(links: pd.DataFrame, scored: pd.DataFrame) -> ListEstimate:
    rows = row_probabilities(links, scored)
    decision = rows["decision"].to_numpy()
    wrong = 1 - rows["p_chosen"].to_numpy()
    match, possible, none = decision == "match", decision == "possible", decision == "none"
    return ListEstimate(
        rows=int(len(rows)),
        matched=int(match.sum()),
        possible=int(possible.sum()),
        unmatched=int(none.sum()),
        false_links=float(wrong[match].sum()),
        false_links_interval=list(poisson_binomial_interval(wrong[match])),
        missed_residents=float(rows["p_any"].to_numpy()[none].sum()),
        missed_residents_interval=list(poisson_binomial_interval(rows["p_any"].to_numpy()[none])),
        true_possible=float(rows["p_chosen"].to_numpy()[possible].sum()),
        true_possible_interval=list(
            poisson_binomial_interval(rows["p_chosen"].to_numpy()[possible])
        ),
    )


def _vn(n: float) -> str:
    return f"{n:,.0f}".replace(",", ".")


def sentence(label: str, e: ListEstimate) -> str:
    """The estimate as the summary sheet and the monthly report say it, in Vietnamese."""
    lo, hi = e.false_links_interval
    mlo, mhi = e.missed_residents_interval
    text = (
        f"{label}: ước tính khoảng {_vn(e.false_links)} ({lo}–{hi}) dòng ghép nhầm trong "
        f"{_vn(e.matched)} dòng đã ghép; khoảng {_vn(e.missed_residents)} ({mlo}–{mhi}) người có "
        f"trong sổ nhưng chưa ghép được trong {_vn(e.unmatched)} dòng không ghép; khoảng "
        f"{_vn(e.true_possible)} trong {_vn(e.possible)} dòng 'có thể trùng' là đúng người."
    )
    if e.checked:
        c = e.checked
        text += (
            f" Kiểm tra mẫu: {c['right']}/{c['marked']} đúng (độ chính xác đo được "
            f"{c['precision']:.1%}); ghép nhầm ước tính sau hiệu chỉnh {_vn(c['false_links'])}."
        )
    return text


BIN, LOW, HIGH = 2.0, -12.0, 40.0


def score_histogram(links: list[pd.DataFrame]) -> pd.DataFrame:
    """List rows per bin of their best candidate's score, by decision (rows without any
    candidate have no score and are left out)."""
    edges = np.arange(LOW, HIGH + BIN, BIN)
    out = pd.DataFrame({"from": edges[:-1]})
    frames = [x[x["right"].notna()] for x in links]
    rows = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["score", "decision"])
    )
    score = np.clip(rows["score"].to_numpy(dtype=float), LOW, HIGH - 1e-9)
    for decision in ("match", "possible", "none"):
        counts, _ = np.histogram(score[rows["decision"].to_numpy() == decision], bins=edges)
        out[decision] = counts
    return out


@dataclass
class Trust:
    """What the run says about itself: numbers and weights only (no personal data) except the
    check sample, which stays in the run folder's workbook."""

    estimates: dict = field(default_factory=dict)  # list label → ListEstimate
    check_sample: pd.DataFrame = field(default_factory=pd.DataFrame)
    weights: pd.DataFrame = field(default_factory=pd.DataFrame)  # learnt_weights
    histogram: pd.DataFrame = field(default_factory=pd.DataFrame)  # score_histogram
    match_threshold: float = 7.0
    possible_threshold: float = -2.0


def learnt_weights(scored: list[pd.DataFrame]) -> pd.DataFrame:
    """What the model learnt, per field and level: the weight its pairs got (median, and the
    10th/90th percentiles: a name's weight varies with how common it is). Numbers only."""
    from reconcile.matching.comparison import FIELD_TITLES, LEVELS

    rows = []
    pairs = [s for s in scored if len(s) and "w_name" in s]
    if not pairs:
        return pd.DataFrame(columns=["field", "level", "label", "pairs", "median", "p10", "p90"])
    for name_of_field, levels in LEVELS.items():
        # level codes, not text: a province's million pairs are compared as small integers
        codes = np.concatenate(
            [pd.Categorical(s[name_of_field], categories=list(levels)).codes for s in pairs]
        )
        weight = np.concatenate([s[f"w_{name_of_field}"].to_numpy(dtype=float) for s in pairs])
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(levels) + 1))
        for i, (name, (_, label)) in enumerate(levels.items()):
            here = pd.Series(weight[order[bounds[i] : bounds[i + 1]]])
            if name == "missing" or not len(here):
                continue
            rows.append(
                {
                    "field": FIELD_TITLES[name_of_field],
                    "level": name,
                    "label": label,
                    "pairs": int(len(here)),
                    "median": round(float(here.median()), 2),
                    "p10": round(float(here.quantile(0.1)), 2),
                    "p90": round(float(here.quantile(0.9)), 2),
                }
            )
    return pd.DataFrame(rows)
