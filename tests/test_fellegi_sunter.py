"""The Fellegi–Sunter core learns what the data says, not what it started from.

Pairs are drawn from a known two-class mixture (seeded): matches with m far from the priors the
models start at, non-matches with known u. EM must recover m and the match share; returning its
start (EM "by its prior") fails every test here.
"""

import dataclasses
import json

import numpy as np

from reconcile.matching import fellegi_sunter as fs
from reconcile.matching.linker import generic_model
from reconcile.matching.weights import COMMUNE_MODEL

# three fields of three levels (0 missing, 1 exact, 2 differ) and one of four
TRUE_M = [np.array([0, 0.55, 0.45]), np.array([0, 0.7, 0.3]), np.array([0, 0.75, 0.25])]
TRUE_M.append(np.array([0, 0.5, 0.3, 0.2]))
TRUE_U = [np.array([0, 0.05, 0.95]), np.array([0, 0.1, 0.9]), np.array([0, 0.02, 0.98])]
TRUE_U.append(np.array([0, 0.01, 0.09, 0.9]))
SHARE = 0.3


def mixture(pairs: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    match = rng.random(pairs) < SHARE
    columns = []
    for m, u in zip(TRUE_M, TRUE_U, strict=True):
        levels = np.arange(len(m))
        column = np.where(match, rng.choice(levels, pairs, p=m), rng.choice(levels, pairs, p=u))
        columns.append(column)
    return np.column_stack(columns).astype(np.int8)


def test_em_recovers_m_and_the_match_share_from_a_start_far_from_them():
    gamma = mixture(40_000, seed=3)
    counts = fs.PatternCounts.of(gamma)
    assert len(counts.counts) <= 3 * 3 * 3 * 4  # EM runs over patterns, not pairs
    start = fs.untrained_m([len(m) for m in TRUE_M])  # 0.95 on exact everywhere
    m, shares = fs.train_m(counts, TRUE_U, start, [fs.Session()], prior_strength=0.0)
    assert abs(shares[0] - SHARE) < 0.02, shares
    for learnt, true, started in zip(m, TRUE_M, start, strict=True):
        assert np.abs(learnt - true).max() < 0.04, (learnt, true)
        assert np.abs(started - true).max() > 0.05  # the test would notice EM doing nothing


def test_a_session_learns_only_the_fields_it_does_not_select_on():
    gamma = mixture(40_000, seed=4)
    start = fs.untrained_m([len(m) for m in TRUE_M])
    session = fs.Session(fixed=(2,))
    m, _ = fs.train_m(fs.PatternCounts.of(gamma), TRUE_U, start, [session], prior_strength=0.0)
    # without prior strength, a field no session learns has no m; the free ones have the data's
    assert m[2].sum() == 0
    assert np.abs(m[0] - TRUE_M[0]).max() < 0.05


def test_prior_strength_pulls_a_small_sample_towards_the_prior_and_not_a_large_one():
    start = fs.untrained_m([len(m) for m in TRUE_M])
    small = fs.PatternCounts.of(mixture(300, seed=5))
    large = fs.PatternCounts.of(mixture(60_000, seed=5))
    m_small, _ = fs.train_m(small, TRUE_U, start, [fs.Session()], prior_strength=2000.0)
    m_large, _ = fs.train_m(large, TRUE_U, start, [fs.Session()], prior_strength=2000.0)
    assert abs(m_small[0][1] - start[0][1]) < abs(m_large[0][1] - start[0][1])
    assert abs(m_large[0][1] - TRUE_M[0][1]) < 0.06


def test_pattern_counts_of_partitions_add_up_to_the_whole():
    """What a partitioned executor relies on: training on the sum of each partition's counts is
    training on all pairs."""
    gamma = mixture(20_000, seed=6)
    whole = fs.PatternCounts.of(gamma)
    parts = [fs.PatternCounts.of(part) for part in np.array_split(gamma, 7)]
    combined = fs.PatternCounts.combine(parts, gamma.shape[1])
    assert np.array_equal(whole.patterns, combined.patterns)
    assert np.array_equal(whole.counts, combined.counts)
    start = fs.untrained_m([len(m) for m in TRUE_M])
    a, _ = fs.train_m(whole, TRUE_U, start, [fs.Session()], 0.0)
    b, _ = fs.train_m(combined, TRUE_U, start, [fs.Session()], 0.0)
    assert all(np.allclose(x, y) for x, y in zip(a, b, strict=True))


def test_u_from_random_pairs_takes_the_exact_level_from_value_frequencies():
    rng = np.random.default_rng(7)
    random = np.column_stack([rng.choice([1, 2], 10_000, p=[0.3, 0.7])]).astype(np.int8)
    (u,) = fs.estimate_u(fs.PatternCounts.of(random), [3], exact_chance={0: 0.001})
    assert abs(u[1] - 0.001) < 1e-9 and abs(u[2] - 0.999) < 1e-9


def test_models_are_plain_data():
    for model in (COMMUNE_MODEL, generic_model({"given": "name", "born": "date"})):
        text = json.dumps(dataclasses.asdict(model), ensure_ascii=False)
        assert model.name in text
        assert [f.name for f in model.fields] == model.field_names
        for f in model.fields:
            assert f.levels[0] == "missing"
            assert not f.prior_m or len(f.prior_m) == f.size
