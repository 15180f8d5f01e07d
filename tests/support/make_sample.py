"""Regenerate the bundled sample commune (sample_data/): synthetic people only, seeded.

    python tests/support/make_sample.py [--out sample_data] [--seed 6] [--size 2000]

The generator lives beside the tests, not in the product: it shares the reader's assumptions,
so it is test material, never something an officer runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic.commune import DEFAULT_SEED, DEFAULT_SIZE, generate_commune  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("sample_data"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    args = parser.parse_args()
    print(f"sample config: {generate_commune(args.out, seed=args.seed, size=args.size)}")


if __name__ == "__main__":
    main()
