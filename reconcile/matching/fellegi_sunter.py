"""The one Fellegi–Sunter core: u from random pairs, m by expectation maximisation in training
sessions, each level's weight log2(m/u); every model (the commune's, link_tables') trains here.

It works on agreement-pattern counts, as Splink does: a pair is only its pattern (one level per
field, integer codes, 0 = "missing" whose weight stays 0), and a million candidate pairs hold a
few thousand distinct patterns. So EM costs the same for a commune and a province, and any
executor (pandas here, Dask over partitions) only has to count patterns and add the counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MISSING = 0
_FLOOR = 1e-6


def _row_keys(gamma: np.ndarray) -> np.ndarray | None:
    """One int64 per row, ordered as the rows are lexicographically (first column most
    significant), or None when the levels do not fit: np.unique over one integer column is
    some 20 times faster than over rows (4 s for a district's 1.4M pairs)."""
    bases = gamma.max(axis=0).astype(np.int64) + 1
    if (gamma.min() < 0) or np.log2(bases.astype(float)).sum() >= 62:
        return None
    keys = np.zeros(len(gamma), dtype=np.int64)
    for column, base in zip(gamma.T, bases, strict=True):
        keys = keys * base + column
    return keys


@dataclass(frozen=True)
class PatternCounts:
    """Distinct agreement patterns (int8, patterns × fields) and how many pairs show each."""

    patterns: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, gamma: np.ndarray) -> PatternCounts:
        if not len(gamma):
            return cls(np.zeros((0, gamma.shape[1]), dtype=np.int8), np.zeros(0))
        keys = _row_keys(gamma)
        if keys is None:
            patterns, counts = np.unique(gamma, axis=0, return_counts=True)
        else:
            _, first, counts = np.unique(keys, return_index=True, return_counts=True)
            patterns = gamma[first]
        return cls(patterns.astype(np.int8), counts.astype(float))

    @classmethod
    def combine(cls, parts: list[PatternCounts], fields: int) -> PatternCounts:
        """The counts of several partitions' pairs together (what a distributed executor adds)."""
        parts = [p for p in parts if len(p.counts)]
        if not parts:
            return cls(np.zeros((0, fields), dtype=np.int8), np.zeros(0))
        patterns = np.concatenate([p.patterns for p in parts])
        counts = np.concatenate([p.counts for p in parts])
        unique, inverse = np.unique(patterns, axis=0, return_inverse=True)
        return cls(unique.astype(np.int8), np.bincount(inverse.ravel(), weights=counts))

    def where(self, keep: np.ndarray) -> PatternCounts:
        return PatternCounts(self.patterns[keep], self.counts[keep])

    @property
    def pairs(self) -> float:
        return float(self.counts.sum())


@dataclass
class Model:
    """Fitted parameters: per field, m and u over its levels (index 0 "missing")."""

    fields: list[str]
    levels: list[list[str]]
    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float  # probability that a candidate pair is a match

    def weights(self) -> list[np.ndarray]:
        return [level_weights(m, u) for m, u in zip(self.m, self.u, strict=True)]

    def scores(self, gamma: np.ndarray, tf_bonus: np.ndarray | None = None) -> np.ndarray:
        """Match weight of each pair: prior log-odds plus each field's level weight."""
        total = np.full(len(gamma), np.log2(self.prior / (1 - self.prior)))
        for f, w in enumerate(self.weights()):
            total += w[gamma[:, f]]
        if tf_bonus is not None:
            total += tf_bonus
        return total


def level_weights(m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """log2(m/u) of each level of one field; "missing" weighs nothing."""
    w = np.log2(np.maximum(m, _FLOOR) / np.maximum(u, _FLOOR))
    w[MISSING] = 0.0
    return w


def level_counts(counts: PatternCounts, field: int, size: int, weights=None) -> np.ndarray:
    """Pairs at each level of one field (optionally weighted per pattern); "missing" counts 0."""
    w = counts.counts if weights is None else counts.counts * weights
    out = np.bincount(counts.patterns[:, field], weights=w, minlength=size).astype(float)
    out[MISSING] = 0.0
    return out


def estimate_u(
    random: PatternCounts,
    sizes: list[int],
    exact_chance: dict[int, float] | None = None,
    u_prior: list[np.ndarray] | None = None,
    prior_pairs: float = 0.0,
) -> list[np.ndarray]:
    """u of every field from random pairs' patterns.

    `exact_chance` gives, per field, the chance two different people agree exactly (level 1),
    known from value frequencies: rare values are agreed on too seldom for a sample to see; the
    sample shares out the rest among the other levels. `u_prior` with `prior_pairs` pseudo-pairs
    keeps a tiny table's u from zeros."""
    out = []
    for f, size in enumerate(sizes):
        counts = level_counts(random, f, size)
        seen = counts.sum()
        if exact_chance and f in exact_chance:
            rest = counts.copy()
            rest[1] = 0.0
            counts = rest / rest.sum() * (1 - exact_chance[f]) * seen if rest.sum() else rest
            counts[1] = exact_chance[f] * max(seen, 1.0)
        if u_prior is not None:
            counts = counts + prior_pairs * u_prior[f]
        total = counts.sum()
        out.append(counts / total if total else np.full(size, 1.0 / size))
    return out


def untrained_m(sizes: list[int]) -> list[np.ndarray]:
    """A start for EM without priors: the best level (index 1) likely for matches."""
    out = []
    for size in sizes:
        m = np.full(size, 0.05 / max(1, size - 2))
        m[1] = 0.95
        m[MISSING] = 0.0
        out.append(m / m.sum())
    return out


@dataclass(frozen=True)
class Session:
    """One EM over the pairs agreeing exactly on `fixed` (field indexes; () = every pair): the
    fixed fields say nothing there, the others are learnt."""

    fixed: tuple[int, ...] = ()
    start_share: float = 0.5
    max_share: float = 1 - 1e-6


def expectation_maximisation(
    counts: PatternCounts,
    u: list[np.ndarray],
    m_start: list[np.ndarray],
    free: list[int],
    prior_strength: float = 0.0,
    start_share: float = 0.5,
    max_share: float = 1 - 1e-6,
    iterations: int = 25,
) -> tuple[list[np.ndarray], float, dict[int, np.ndarray]]:
    """EM over pattern counts for the `free` fields: (m, share of matches, each free field's
    posterior-weighted level counts). m is shrunk towards m_start by `prior_strength`
    pseudo-pairs (MAP-EM): a commune's handful of pairs leans on it, a district decides."""
    sizes = [len(x) for x in u]
    m = [x.copy() for x in m_start]
    share = min(start_share, max_share)
    evidence: dict[int, np.ndarray] = {f: np.zeros(sizes[f]) for f in free}
    weights = [level_weights(m[f], u[f]) for f in range(len(sizes))]
    for _ in range(iterations):
        log_odds = np.full(len(counts.counts), np.log2(share / (1 - share)))
        for f in free:
            log_odds += weights[f][counts.patterns[:, f]]
        odds = np.exp2(np.clip(log_odds, -60, 60))
        posterior = odds / (1 + odds)
        new_share = float(
            np.clip((posterior * counts.counts).sum() / max(counts.pairs, 1e-9), 1e-6, max_share)
        )
        changed = abs(new_share - share) > 1e-6
        for f in free:
            evidence[f] = level_counts(counts, f, sizes[f], posterior)
            new = evidence[f] + prior_strength * m_start[f]
            new = new / new.sum() if new.sum() else m[f]
            changed |= not np.allclose(new, m[f], atol=1e-5)
            m[f] = new
            weights[f] = level_weights(m[f], u[f])
        share = new_share
        if not changed:
            break
    return m, share, evidence


def train_m(
    counts: PatternCounts,
    u: list[np.ndarray],
    m_prior: list[np.ndarray],
    sessions: list[Session],
    prior_strength: float,
) -> tuple[list[np.ndarray], list[float]]:
    """m of every field, learnt as Splink trains: one EM per session, and the share of matches
    each session found.

    EM over all candidates together can find the wrong two classes: blocking gathered pairs that
    agree on a name and a birth date, so "agrees on the blocked fields" looks like "is a match".
    Within a session the fixed fields say nothing; the others separate matches from the rest.
    A field's m is the evidence of every session that learnt it plus `prior_strength`
    pseudo-pairs at `m_prior`."""
    sizes = [len(x) for x in u]
    totals = [prior_strength * p for p in m_prior]
    shares = []
    for session in sessions:
        chosen = np.ones(len(counts.counts), dtype=bool)
        for f in session.fixed:
            chosen &= counts.patterns[:, f] == 1
        subset = counts.where(chosen)
        if not subset.pairs:
            shares.append(float("nan"))
            continue
        free = [f for f in range(len(sizes)) if f not in session.fixed]
        _, share, evidence = expectation_maximisation(
            subset,
            u,
            m_prior,
            free,
            prior_strength,
            session.start_share,
            session.max_share,
        )
        shares.append(share)
        for f in free:
            totals[f] = totals[f] + evidence[f]
    out = []
    for c in totals:
        c = c.astype(float)
        c[MISSING] = 0.0
        out.append(c / c.sum() if c.sum() else c)
    return out, shares


def random_pair_indexes(
    n_left: int, n_right: int, count: int, seed: int = 0, every_pair_if_fewer: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """`count` random (left, right) position pairs; with every_pair_if_fewer, all of them when
    the tables have no more pairs than that (a tiny table's u is then exact, not a sample)."""
    if every_pair_if_fewer and n_left * n_right <= count:
        return np.repeat(np.arange(n_left), n_right), np.tile(np.arange(n_right), n_left)
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_left, count), rng.integers(0, n_right, count)
