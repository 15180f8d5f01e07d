"""The check sample on hand-written links, and the link probabilities it stands on: the draw
needs only each link's band, and every drawn link is shown with its own list row and its own
resident."""

import pandas as pd

from reconcile.check_sample import draw_sample
from reconcile.estimates import row_probabilities
from reconcile.findings import LinkedList
from reconcile.kinds import ListKind

from conftest import people


def _linked(label, kind, rows, register, links):
    """links: (list position, register position or None, decision, score) per list row."""
    frame = pd.DataFrame(
        {
            "left": rows.index[[link[0] for link in links]],
            "right": pd.array(
                [None if link[1] is None else register.index[link[1]] for link in links],
                dtype="Int64",
            ),
            "decision": [link[2] for link in links],
            "score": [float(link[3]) for link in links],
            "ambiguous": False,
            "others": [[] for _ in links],
        }
    )
    scored = frame[frame["right"].notna()][["left", "right", "score"]].astype({"right": "int64"})
    return LinkedList(label, kind, rows, frame, scored.reset_index(drop=True))


def test_each_drawn_link_is_shown_with_its_own_row_and_resident(register):
    elders = people(
        ListKind.MEMBERSHIP,
        [
            {"full_name": "Nguyễn Thị Hòa", "birth_date": "12/03/1951"},
            {"full_name": "Tran Van Lam", "birth_date": "1990"},
            {"full_name": "Đỗ Văn Hùng", "birth_date": "1977"},
        ],
    )
    deaths = people(ListKind.DEATH, [{"full_name": "Phạm Thị Gấm", "birth_date": "1938"}])
    linked = [
        # 2^12 odds: right with p 0.9998, confident; a possible match is always uncertain
        _linked("NCT", ListKind.MEMBERSHIP, elders, register,
                [(0, 0, "match", 12), (1, 1, "possible", 0), (2, None, "none", 0)]),
        _linked("Khai tử", ListKind.DEATH, deaths, register, [(0, 4, "match", 8)]),
    ]  # fmt: skip
    sample = draw_sample(linked, register, b"secret", seed=7)
    assert list(sample["list_label"]) == ["NCT", "NCT", "Khai tử"]  # every link: 3 < 50
    assert list(sample["band"]) == ["confident", "uncertain", "uncertain"]
    assert list(sample["decision"]) == ["match", "possible", "match"]
    assert list(sample["list_name"]) == ["Nguyễn Thị Hòa", "Tran Van Lam", "Phạm Thị Gấm"]
    assert list(sample["register_name"]) == ["Nguyễn Thị Hòa", "Trần Văn Lâm", "Phạm Thị Gấm"]
    assert list(sample["person_id"]) == list(register["person_id"].iloc[[0, 1, 4]])
    assert list(sample["list_row"]) == [2, 3, 2] and sample["sample_id"].is_unique


def test_a_links_probability_is_its_odds_against_its_rows_candidates_and_nobody():
    """row_probabilities on hand-written pairs: P(chosen) = its odds / (1 + all the row's odds);
    the int64 pair lookup and the merge (labels that are not integers) agree."""
    scored = pd.DataFrame(
        {"left": [10, 10, 11, 12], "right": [3, 5, 3, 7], "score": [3.0, 1.0, -1.0, 0.0]}
    )
    links = pd.DataFrame(
        {
            "left": [10, 11, 12, 13],
            "right": pd.array([3, None, 7, None], dtype="Int64"),
            "decision": ["match", "none", "possible", "none"],
        }
    )
    rows = row_probabilities(links, scored)
    assert rows["p_chosen"].round(6).tolist() == [round(8 / 11, 6), 0.0, 0.5, 0.0]
    assert rows["p_any"].round(6).tolist() == [round(10 / 11, 6), round(0.5 / 1.5, 6), 0.5, 0.0]

    def as_text(frame):
        right = frame["right"].astype(object)
        return frame.assign(
            left="r" + frame["left"].astype(str),
            right=["p" + str(r) if pd.notna(r) else None for r in right],
        )

    merged = row_probabilities(as_text(links), as_text(scored))
    pd.testing.assert_series_equal(merged["p_chosen"], rows["p_chosen"])
    pd.testing.assert_series_equal(merged["p_any"], rows["p_any"])
