"""The pair a finding shows beside its list row (findings._shown_pairs), on hand-written pairs:
the linked resident's, or for a row linked to nobody the best-scored candidate's (the first in
pair order among equal scores), or nothing for a row no resident came near."""

import numpy as np
import pandas as pd
import pytest

from reconcile.findings import LEVEL_COLUMNS, LinkedList, _shown_pairs
from reconcile.kinds import ListKind
from reconcile.matching.comparison import LEVELS


def _level(field: str, values: list[str]) -> pd.Categorical:
    return pd.Categorical(values, categories=list(LEVELS[field]))


def _scored(left: list[int], right: list[int], score: list[float], name: list[str]):
    n = len(left)
    frame = pd.DataFrame({"left": left, "right": right})
    for field in LEVEL_COLUMNS:
        frame[field] = _level(field, name if field == "name" else ["missing"] * n)
    frame["score"] = score
    frame["w_name"] = [s / 2 for s in score]
    return frame


# list rows 10, 11, 12, 13 against residents 500–504
SCORED = _scored(
    left=[10, 10, 11, 11, 11, 13],
    right=[500, 501, 502, 503, 504, 500],
    score=[12.0, -3.0, -1.5, 4.0, 4.0, -9.0],
    name=["exact", "other", "close", "folded", "phonetic", "other"],
)
LINKS = pd.DataFrame(
    {
        "left": [10, 11, 12, 13],
        "right": pd.array([500, None, None, None], dtype="Int64"),
        "decision": ["match", "none", "none", "none"],
        "score": [12.0, np.nan, np.nan, np.nan],
    }
)


def _linked(scored: pd.DataFrame, links: pd.DataFrame) -> LinkedList:
    return LinkedList("hội viên", ListKind.MEMBERSHIP, pd.DataFrame(), links, scored)


def test_each_row_shows_its_link_or_its_best_candidate_or_nobody():
    shown = _shown_pairs(_linked(SCORED, LINKS))
    assert shown["left"].tolist() == [10, 11, 12, 13]
    # row 11: residents 503 and 504 tie at 4.0, and 503 comes first among its pairs
    assert shown["right"].tolist()[:2] == [500.0, 503.0]
    assert np.isnan(shown["right"].iat[2])  # row 12: no candidate at all
    assert shown["right"].iat[3] == 500.0  # row 13: its only candidate, however poor
    assert shown["shown_score"].tolist()[:2] == [12.0, 4.0]
    assert np.isnan(shown["shown_score"].iat[2])
    assert shown["name"].astype(object).tolist()[:2] == ["exact", "folded"]
    assert pd.isna(shown["name"].iat[2])
    assert shown["w_name"].tolist()[3] == -4.5
    assert isinstance(shown["name"].dtype, pd.CategoricalDtype)


def test_labels_that_cannot_key_a_pair_give_the_same_rows():
    """Residents labelled by floats or text take the merge, with the same rows shown."""
    fast = _shown_pairs(_linked(SCORED, LINKS))
    floats = _shown_pairs(_linked(SCORED.astype({"right": "float64"}), LINKS))
    pd.testing.assert_frame_equal(floats, fast)
    named = SCORED.astype({"left": str})
    text = _shown_pairs(_linked(named, LINKS.astype({"left": str})))
    pd.testing.assert_frame_equal(text, fast.astype({"left": str}))


@pytest.mark.parametrize("rows", [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]])
def test_the_shown_pairs_follow_the_links_order(rows):
    links = LINKS.iloc[rows].reset_index(drop=True)
    shown = _shown_pairs(_linked(SCORED.iloc[::-1].reset_index(drop=True), links))
    assert shown["left"].tolist() == links["left"].tolist()
    by_left = dict(zip(shown["left"], shown["shown_score"].fillna(-99), strict=True))
    # reversed pair order: row 11's tie now goes to resident 504, at the same score
    assert by_left == {10: 12.0, 11: 4.0, 12: -99, 13: -9.0}


def test_rows_that_all_have_a_pair_keep_their_columns_types():
    """Without a row left empty, the lookup takes the shown rows as they are: the levels stay
    categories, the scores floats, as the merge gives them."""
    links = LINKS[LINKS["left"] != 12].reset_index(drop=True)
    fast = _shown_pairs(_linked(SCORED, links))
    merged = _shown_pairs(_linked(SCORED.astype({"right": "float64"}), links))
    pd.testing.assert_frame_equal(fast, merged)
    assert fast["shown_score"].tolist() == [12.0, 4.0, -9.0]
    assert fast["name"].astype(object).tolist() == ["exact", "folded", "other"]
