"""Quality floors of the commune matcher on a small seeded district benchmark, never timings."""

import numpy as np
import pandas as pd
import pytest

from reconcile.kinds import ListKind
from reconcile.matching.decision import link, score_lists
from reconcile.normalize.people import normalize_people
from reconcile.synthetic.district import district


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
