"""From scored pairs to one decision per list row: match, possible or none; at most one resident
per row and one row per resident within a list; near-ties flagged as ambiguous, never chosen."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reconcile.matching import engine
from reconcile.matching import fellegi_sunter as fs


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on a pair's score. With fitted weights (the default) a score is the
    log2 odds that the list row is this resident rather than anyone else: 7 ≈ 99.2%.
    PRIOR_THRESHOLDS go with the hand-set weights, whose scores are sums of prior weights."""

    match: float = 7.0
    # A resident at least 20% likely is shown as a possible match to verify, never reported
    # "not in the register": an officer who trusts that registers a person twice.
    possible: float = -2.0
    # A second resident within this many points of the best makes the row ambiguous: with
    # fitted weights, the best is less than 8 times likelier than the second.
    ambiguity_margin: float = 3.0


PRIOR_THRESHOLDS = Thresholds(match=10.0, possible=6.0)


LINK_COLUMNS = ["left", "right", "decision", "score", "ambiguous", "others"]


def fit_and_score(
    lists: list[pd.DataFrame],
    register: pd.DataFrame,
    fitted: bool = True,
    executor: engine.Executor | None = None,
) -> tuple[list[pd.DataFrame], fs.Model | None]:
    """Candidate pairs of every list, scored by the commune model fitted to all lists together
    (a commune's few pairs lean on its priors), or with fitted=False by the hand-set weights
    alone (then use PRIOR_THRESHOLDS); and the fitted parameters."""
    from reconcile.matching.weights import COMMUNE_MODEL

    return engine.run(COMMUNE_MODEL, lists, register, executor, fitted)


def score_lists(
    lists: list[pd.DataFrame], register: pd.DataFrame, fitted: bool = True
) -> list[pd.DataFrame]:
    """fit_and_score's scored pairs alone."""
    return fit_and_score(lists, register, fitted)[0]


def link(
    list_people: pd.DataFrame,
    register: pd.DataFrame,
    thresholds: Thresholds = Thresholds(),
    scored: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Link every list row to at most one register row.

    Returns (links, scored_pairs). links has one row per list row: left (list index), right
    (register index or NA), decision, score, ambiguous, others (other candidates' register indexes).
    `scored` (from score_lists) saves fitting the weights again for each list.
    """
    if scored is None:
        (scored,) = score_lists([list_people], register)
    plausible = scored[scored["score"] >= thresholds.possible]
    plausible = plausible.sort_values(["left", "score"], ascending=[True, False], kind="stable")
    plausible = plausible.assign(
        rank=plausible.groupby("left").cumcount(),
        best=plausible.groupby("left")["score"].transform("max"),
    )
    near = plausible[plausible["best"] - plausible["score"] < thresholds.ambiguity_margin]
    ambiguous = near.groupby("left").size() > 1
    others = near[near["rank"] > 0].groupby("left")["right"].agg(list)

    # One row per resident within a list: the higher score keeps the resident. A row that loses
    # to a better row falls back to its next candidate, if it has one.
    chosen = plausible.loc[plausible["rank"] == 0, ["left", "right", "score"]]
    chosen["ambiguous"] = chosen["left"].map(ambiguous).astype("boolean").fillna(False)
    taken = _one_to_one(chosen, plausible)

    links = pd.DataFrame({"left": list_people.index}).merge(taken, on="left", how="left")
    links["right"] = links["right"].astype("Int64")
    links["score"] = links["score"].fillna(0.0)
    links["ambiguous"] = links["ambiguous"].astype("boolean").fillna(False).astype(bool)
    links["decision"] = "none"
    candidate = links["right"].notna()  # a row without any candidate has nobody to be
    links.loc[candidate & (links["score"] >= thresholds.possible), "decision"] = "possible"
    links.loc[
        candidate & (links["score"] >= thresholds.match) & ~links["ambiguous"], "decision"
    ] = "match"
    links["others"] = [
        others.get(left, []) if is_ambiguous else []
        for left, is_ambiguous in zip(links["left"], links["ambiguous"], strict=True)
    ]
    return links[LINK_COLUMNS], scored


def _one_to_one(chosen: pd.DataFrame, plausible: pd.DataFrame, rounds: int = 3) -> pd.DataFrame:
    settled = chosen.sort_values("score", ascending=False, kind="stable")
    for _ in range(rounds):
        # Ambiguous rows claim nobody: their candidates stay free for other rows.
        claims = settled[~settled["ambiguous"]]
        winners = claims.drop_duplicates("right", keep="first")
        losers = claims[~claims.index.isin(winners.index)]
        if losers.empty:
            break
        taken_people = set(winners["right"])
        retry = plausible[
            plausible["left"].isin(losers["left"]) & ~plausible["right"].isin(taken_people)
        ]
        retry = retry.groupby("left", sort=False).head(1)[["left", "right", "score"]]
        retry["ambiguous"] = False
        settled = pd.concat([settled[~settled["left"].isin(losers["left"])], retry])
        settled = settled.sort_values("score", ascending=False, kind="stable")
    return settled
