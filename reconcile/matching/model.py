"""A match model as plain data: its fields and their comparison levels, the priors, the blocking
rules and the training sessions. Nothing here computes; the executor (matching.engine) runs a
model over tables, and the Fellegi–Sunter core (matching.fellegi_sunter) trains it.

Two models exist: the commune's (matching.weights.COMMUNE_MODEL: Vietnamese names, partial
dates, IDs) and the generic one link_tables builds from column kinds (matching.linker). Both
are serialisable (dataclasses.asdict), so a run can record the model it used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class FieldModel:
    """One compared field. `levels[0]` is "missing"; `prior_m` (same order, or empty for "the
    best level likely, the rest shared") is what EM starts from and is shrunk towards;
    `prior_weights`, where given, imply u's prior too (u = m / 2^weight)."""

    name: str
    levels: tuple[str, ...]
    prior_m: tuple[float, ...] = ()
    prior_weights: tuple[float, ...] = ()
    # the column whose value frequencies give the exact level's u (rare values are agreed on
    # too seldom for a random sample to see)
    exact_column: str | None = None

    @property
    def size(self) -> int:
        return len(self.levels)


@dataclass(frozen=True)
class BlockingModel:
    """Candidate pairs: every pair sharing a key of `rules`; `loose_rules` only for rows no
    `easy_rules` key found and only where a block holds at most `max_loose_block` right rows;
    `fuzzy`, a name-similarity fallback for rows no key found. A rule names the columns that
    must all be present and equal; `crossed` names two columns that may be swapped."""

    rules: tuple[tuple[str, ...], ...]
    easy_rules: tuple[tuple[str, ...], ...] = ()
    loose_rules: tuple[tuple[str, ...], ...] = ()
    max_loose_block: int = 20
    fuzzy: bool = False
    # rules (and the fuzzy fallback) kept within a row's commune where the right table spans
    # several (blocking.COMMUNE_RULES)
    commune_rules: tuple[tuple[str, ...], ...] = ()
    crossed: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionModel:
    """An EM session: the fields whose exact agreement selects its pairs (() = every pair)."""

    fixed: tuple[str, ...] = ()
    start_share: float = 0.5


@dataclass(frozen=True)
class MatchModel:
    name: str
    # which comparison turns a pair into levels (matching.engine.COMPARISONS)
    comparison: str
    fields: tuple[FieldModel, ...]
    blocking: BlockingModel
    sessions: tuple[SessionModel, ...]
    prior_strength: float = 0.0  # pseudo-pairs of belief in prior_m
    u_prior_pairs: float = 0.0  # pseudo-pairs of belief in the priors' implied u
    random_pairs: int = 200_000
    # match share bounded by (smaller table's rows / candidates) × this: EM left free can drift
    # to "every candidate is a match"
    max_match_share: float | None = None
    # field kinds of the generic comparison (column → kind); empty for the commune's
    kinds: dict[str, str] = field(default_factory=dict)
    # a candidate pair's prior: "learnt" (the last session's match share) or "one_resident"
    # (1 / the right table's rows; each list's in-register share is learnt when it is scored)
    pair_prior: str = "learnt"

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def index(self, name: str) -> int:
        return self.field_names.index(name)

    def m_prior(self) -> list[np.ndarray]:
        out = []
        for f in self.fields:
            if f.prior_m:
                m = np.array(f.prior_m, dtype=float)
            else:  # the best level (index 1) likely for matches, the rest shared
                m = np.full(f.size, 0.05 / max(1, f.size - 2))
                m[1] = 0.95
            m[0] = 0.0
            out.append(m / m.sum())
        return out

    def u_prior(self) -> list[np.ndarray] | None:
        """u implied by prior_m and prior_weights (the least alike level takes what is left so
        that u sums to one); None when the model has no prior weights."""
        if not all(f.prior_weights for f in self.fields):
            return None
        out = []
        for f, m in zip(self.fields, self.m_prior(), strict=True):
            weight = np.array(f.prior_weights, dtype=float)
            u = m / np.exp2(weight)
            present = m > 0
            lowest = int(np.flatnonzero(present)[np.argmin(weight[present])])
            u[lowest] = 0.0
            u[lowest] = max(1.0 - u.sum(), 0.5)
            out.append(u / u.sum())
        return out
