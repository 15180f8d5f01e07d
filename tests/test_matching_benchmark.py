"""Quality floors of the commune matcher on a small seeded district benchmark, never timings."""

import numpy as np
import pandas as pd
import pytest

from reconcile.kinds import ListKind
from reconcile.matching.decision import link, score_lists
from reconcile.normalize.people import normalize_people

from synthetic.district import district


@pytest.fixture(scope="module")
def district_links():
    register_raw, list_raw = district(residents=8000, rows=4000, seed=11)
    register = normalize_people(register_raw, ListKind.REGISTER)
    people = normalize_people(list_raw, ListKind.MEMBERSHIP)
    (scored,) = score_lists([people], register)
    links, scored = link(people, register, scored=scored)
    right = links["right"].to_numpy()
    keys = register_raw["key"].to_numpy()
    predicted = np.where(pd.isna(right), -1, keys[np.nan_to_num(right.astype(float)).astype(int)])
    return list_raw["true_key"].to_numpy(), predicted, links


def test_confident_matches_are_right(district_links):
    truth, predicted, links = district_links
    confident = (links["decision"] == "match").to_numpy()
    assert (predicted[confident] == truth[confident]).mean() >= 0.998
    assert not (confident & (truth < 0)).any()  # nobody outside the register is matched


def test_rows_in_the_register_are_found_and_few_are_left_to_a_human(district_links):
    truth, predicted, links = district_links
    confident = (links["decision"] == "match").to_numpy()
    found = confident & (predicted == truth)
    assert found[truth >= 0].mean() >= 0.98
    assert links["ambiguous"].mean() < 0.02


def test_dialect_spellings_and_year_only_rows_are_matched(district_links):
    truth, predicted, links = district_links
    register_raw, list_raw = district(residents=8000, rows=4000, seed=11)
    year_only = list_raw["birth_date"].str.fullmatch(r"\d{4}").to_numpy()
    usable = year_only & (truth >= 0) & ~links["ambiguous"].to_numpy()
    found = (links["decision"] == "match").to_numpy() & (predicted == truth)
    assert found[usable].mean() >= 0.97


def test_year_only_rows_match_when_only_lists_with_full_dates_carry_ids():
    # As on real lists: the elderly list gives a birth year and no ID, the ID-bearing lists give
    # full dates. What the ID pairs teach about dates must not count against year-only rows.
    register_raw, list_raw = district(residents=8000, rows=4000, seed=12)
    year_only = list_raw["birth_date"].str.fullmatch(r"\d{4}").to_numpy()
    list_raw.loc[year_only, "personal_id"] = None
    register = normalize_people(register_raw, ListKind.REGISTER)
    people = normalize_people(list_raw, ListKind.MEMBERSHIP)
    links, _ = link(people, register, scored=score_lists([people], register)[0])
    right = links["right"].to_numpy()
    keys = register_raw["key"].to_numpy()
    predicted = np.where(pd.isna(right), -1, keys[np.nan_to_num(right.astype(float)).astype(int)])
    truth = list_raw["true_key"].to_numpy()
    usable = year_only & (truth >= 0) & ~links["ambiguous"].to_numpy()
    found = (links["decision"] == "match").to_numpy() & (predicted == truth)
    assert found[usable].mean() >= 0.97


def test_agreeing_on_one_of_many_hamlets_weighs_more_than_on_one_of_a_few(district_links):
    register_raw, list_raw = district(residents=8000, rows=4000, seed=11)
    register = normalize_people(register_raw, ListKind.REGISTER)
    people = normalize_people(list_raw, ListKind.MEMBERSHIP)
    (scored,) = score_lists([people], register)
    many = scored.loc[scored["hamlet"] == "equal", "w_hamlet"].iloc[0]
    few_raw = register_raw.assign(hamlet=register_raw["key"].map(lambda k: f"Thôn {k % 4}"))
    list_few = list_raw.assign(
        hamlet=list_raw["true_key"].map(lambda k: f"Thôn {k % 4}" if k >= 0 else "Thôn 0")
    )
    few_register = normalize_people(few_raw, ListKind.REGISTER)
    (few,) = score_lists([normalize_people(list_few, ListKind.MEMBERSHIP)], few_register)
    few_weight = few.loc[few["hamlet"] == "equal", "w_hamlet"].iloc[0]
    assert many > 6 > 2 > few_weight > 0


def test_pairs_compared_in_chunks_give_what_one_pass_gives(monkeypatch):
    from reconcile.matching import comparison
    from reconcile.matching.blocking import candidate_pairs

    register_raw, list_raw = district(residents=3000, rows=1500, seed=13)
    register = normalize_people(register_raw, ListKind.REGISTER)
    people = normalize_people(list_raw, ListKind.MEMBERSHIP)
    pairs = candidate_pairs(people, register)
    whole = comparison.compare(people, register, pairs)
    monkeypatch.setattr(comparison, "CHUNK_PAIRS", 97)
    chunked = comparison.compare(people, register, pairs)
    assert len(pairs) > 10 * 97
    pd.testing.assert_frame_equal(whole, chunked)
