"""Normalising a district's names, dates and IDs: wall time and peak memory.

Run by hand: python bench/bench_normalize.py [ROWS]   (default 300,000). Medians of 3 runs.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from reconcile.kinds import ListKind
from reconcile.normalize.people import normalize_people

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from synthetic.people import FAMILIES, GIVEN, HAMLETS, MIDDLE, old_tone_style  # noqa: E402


def raw_rows(rows: int, seed: int = 4) -> pd.DataFrame:
    """Rows as lists carry them: names in any case and tone style, dates in every format."""
    rng = random.Random(seed)
    families = [f for f, _ in FAMILIES]
    names, dates, sexes, ids, hamlets = [], [], [], [], []
    for i in range(rows):
        sex = rng.choice("MF")
        name = f"{rng.choice(families)} {rng.choice(MIDDLE[sex])[0]} {rng.choice(GIVEN[sex])}"
        roll = rng.random()
        name = name.upper() if roll < 0.2 else old_tone_style(name) if roll < 0.4 else name
        born = dt.date(rng.randint(1930, 2025), rng.randint(1, 12), rng.randint(1, 28))
        form = rng.random()
        dates.append(
            born if form < 0.4 else born.strftime("%d/%m/%Y") if form < 0.8 else str(born.year)
        )
        names.append(name)
        sexes.append(rng.choice(["Nam", "Nữ", "nam", "NỮ"]))
        digit = (0 if born.year < 2000 else 2) + (sex == "F")
        pid = f"034{digit}{born.year % 100:02d}{i % 1_000_000:06d}"
        ids.append(int(pid) if rng.random() < 0.3 else pid)
        hamlets.append(rng.choice(HAMLETS))
    return pd.DataFrame(
        {
            "full_name": names,
            "birth_date": dates,
            "sex": sexes,
            "personal_id": ids,
            "hamlet": hamlets,
            "source_file": "bench.xlsx",
            "source_sheet": "S",
            "source_row": range(2, rows + 2),
        }
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    frame = raw_rows(rows)

    def run() -> float:
        from reconcile.normalize import names, people

        for cached in (names.parse_name, names.canonical_syllable, people.name_features):
            cached.cache_clear()  # each run starts cold, as a fresh process would
        started = time.perf_counter()
        out = normalize_people(frame, ListKind.MEMBERSHIP)
        assert len(out) == rows
        return time.perf_counter() - started

    times = [run() for _ in range(3)]
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(
        f"normalise {rows:,} rows (names, dates, sex, IDs, hamlets): "
        f"median {statistics.median(times):.2f} s over 3 runs "
        f"({', '.join(f'{t:.2f}' for t in times)}); peak traced memory {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
