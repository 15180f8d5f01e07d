"""Fellegi–Sunter weights estimated from the data, as Splink does: u (how often two different
people agree at a level) from random pairs, m (how often the same person does) by expectation
maximisation over the blocked candidate pairs, each level's weight log2(m/u).

Levels arrive as an integer matrix (pairs × fields); level 0 of every field is "missing", whose
weight stays 0. Everything is numpy over whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MISSING = 0
_FLOOR = 1e-6


@dataclass
class Model:
    fields: list[str]
    levels: list[list[str]]  # level names per field; index 0 is "missing"
    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float  # probability that a blocked candidate pair is a match

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


def level_frequencies(
    gamma: np.ndarray, sizes: list[int], weights: np.ndarray | None = None
) -> list[np.ndarray]:
    """Share of pairs at each level of each field (optionally weighted)."""
    out = []
    for f, size in enumerate(sizes):
        counts = np.bincount(gamma[:, f], weights=weights, minlength=size).astype(float)
        counts[MISSING] = 0.0
        total = counts.sum()
        out.append(counts / total if total else np.full(size, 1.0 / size))
    return out


def estimate(
    fields: list[str],
    levels: list[list[str]],
    candidates: np.ndarray,
    random_pairs: np.ndarray,
    m_start: list[np.ndarray] | None = None,
    prior_start: float = 0.05,
    iterations: int = 25,
    exact_u: dict[int, float] | None = None,
    max_prior: float = 0.99,
    prior_weights: list[np.ndarray] | None = None,
    prior_strength: float = 0.0,
) -> Model:
    """u from random pairs; m and the prior by EM over the candidates.

    `max_prior` bounds the share of candidates that can be matches (in a linkage, no more than
    the smaller table's rows): without it EM can drift to "every candidate is a match".
    `prior_weights` with `prior_strength` (pseudo-pairs) make it MAP-EM: m is shrunk towards
    m = u · 2^weight of the given weights, so a small commune leans on them and a district on
    its own data.
    `exact_u` gives, per field, the exact-agreement u computed from value frequencies: exact
    for rare values where a sample would see too few agreements.

    """
    sizes = [len(lv) for lv in levels]
    u = level_frequencies(random_pairs, sizes)
    for f, chance in (exact_u or {}).items():
        # the chance two different people agree exactly, known from value frequencies; the
        # sample only shares out the rest among the other levels
        rest = u[f].copy()
        rest[1] = 0.0
        rest = rest / rest.sum() * (1 - chance) if rest.sum() else rest
        rest[1] = chance
        u[f] = rest
    if m_start is None:
        m_start = []
        for size in sizes:  # the best level (index 1) likely for matches, the rest shared
            m = np.full(size, 0.05 / max(1, size - 2))
            m[1] = 0.95
            m[MISSING] = 0.0
            m_start.append(m / m.sum())
    m_prior = None
    if prior_weights is not None:
        m_prior = []
        for f, w in enumerate(prior_weights):
            guess = u[f] * np.exp2(w)
            guess[MISSING] = 0.0
            m_prior.append(guess / guess.sum())
        m_start = [x.copy() for x in m_prior]
    m = [x.copy() for x in m_start]
    prior = min(prior_start, max_prior)
    for _ in range(iterations):
        model = Model(fields, levels, m, u, prior)
        odds = np.exp2(np.clip(model.scores(candidates), -60, 60))
        posterior = odds / (1 + odds)
        new_prior = float(np.clip(posterior.mean(), 1e-6, max_prior))
        if m_prior is not None and prior_strength > 0:
            new_m = []
            for f, size in enumerate(sizes):
                counts = np.bincount(candidates[:, f], weights=posterior, minlength=size)
                counts[MISSING] = 0.0
                counts = counts + prior_strength * m_prior[f]
                new_m.append(counts / counts.sum())
        else:
            new_m = level_frequencies(candidates, sizes, posterior)
        converged = abs(new_prior - prior) < 1e-6 and all(
            np.allclose(a, b, atol=1e-5) for a, b in zip(m, new_m, strict=True)
        )
        m, prior = new_m, new_prior
        if converged:
            break
    return Model(fields, levels, m, u, prior)


def random_pair_indexes(
    n_left: int, n_right: int, count: int, seed: int = 0, every_pair_if_fewer: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """`count` random (left, right) position pairs; with every_pair_if_fewer, all of them when
    the tables have no more pairs than that (a tiny table's u is then exact, not a sample)."""
    if every_pair_if_fewer and n_left * n_right <= count:
        return np.repeat(np.arange(n_left), n_right), np.tile(np.arange(n_right), n_left)
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_left, count), rng.integers(0, n_right, count)


def estimate_m_by_sessions(
    candidates: np.ndarray,
    u: list[np.ndarray],
    m_prior: list[np.ndarray],
    sessions: list[tuple[int, ...]],
    prior_strength: float,
    iterations: int = 25,
) -> list[np.ndarray]:
    """m of every field, learnt as Splink trains: one EM per session over the candidate pairs
    that agree exactly (level 1) on the session's fields.

    EM over all candidates together finds the wrong two classes: blocking gathered pairs that
    agree on a name and a birth date, so "agrees on the blocked fields" looks like "is a match"
    and m comes out mixed with namesakes. Within a session the chosen fields say nothing (every
    pair agrees on them), so their m is not learnt there; the other fields separate matches from
    the rest. A field's m is the evidence of every session that learnt it plus `prior_strength`
    pseudo-pairs at `m_prior`, so a commune's handful of pairs leans on the prior.
    """
    sizes = [len(x) for x in u]
    counts = [prior_strength * p for p in m_prior]
    for session in sessions:
        chosen = np.ones(len(candidates), dtype=bool)
        for f in session:
            chosen &= candidates[:, f] == 1
        gamma = candidates[chosen]
        if not len(gamma):
            continue
        free = [f for f in range(len(sizes)) if f not in session]
        m = [x.copy() for x in m_prior]
        share = 0.5  # of the session's pairs that are matches; learnt
        for _ in range(iterations):
            log_odds = np.full(len(gamma), np.log2(share / (1 - share)))
            for f in free:
                log_odds += level_weights(m[f], u[f])[gamma[:, f]]
            odds = np.exp2(np.clip(log_odds, -60, 60))
            posterior = odds / (1 + odds)
            new_share = float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
            changed = abs(new_share - share) > 1e-6
            evidence = {}
            for f in free:
                evidence[f] = np.bincount(gamma[:, f], weights=posterior, minlength=sizes[f])
                evidence[f][MISSING] = 0.0
                new = evidence[f] + prior_strength * m_prior[f]
                new = new / new.sum()
                changed |= not np.allclose(new, m[f], atol=1e-5)
                m[f] = new
            share = new_share
            if not changed:
                break
        for f in free:
            counts[f] = counts[f] + evidence[f]
    out = []
    for c in counts:
        c = c.astype(float)
        c[MISSING] = 0.0
        out.append(c / c.sum() if c.sum() else c)
    return out
