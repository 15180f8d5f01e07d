"""Splink 5 (DuckDB) on the district benchmark, over reconcile's normalised columns, for a side by
side with bench_district.py. Run by hand: python bench/splink_district.py [RESIDENTS] [ROWS]

Splink gets the same canonical columns reconcile matches on (folded names, phonetic key, date,
year, sex, ID, hamlet), blocking rules in the spirit of Splink's own examples, TF adjustments,
u by random sampling, m by EM in two sessions; a row's link is its best pair at p >= 0.99.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from reconcile.kinds import ListKind
from reconcile.normalize.people import normalize_people

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from synthetic.district import district, recall_by_kind  # noqa: E402


def columns(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    full_date = frame["birth_day"].notna()
    dob = np.where(
        full_date,
        frame["birth_display"].str[6:]
        + "-"
        + frame["birth_display"].str[3:5]
        + "-"
        + frame["birth_display"].str[:2],
        None,
    )
    return pd.DataFrame(
        {
            "unique_id": [f"{prefix}{i}" for i in range(len(frame))],
            "given": frame["given_fold"],
            "family": frame["family_fold"],
            "full": frame["name_nomid_fold"],
            "phon": frame["name_phon"],
            "dob": dob,
            "year": frame["birth_year"].astype("float").astype("string"),
            "sex": frame["sex"],
            "pid": frame["pid"],
            "hamlet": frame["hamlet_key"],
        }
    )


def main() -> None:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    residents = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    register_raw, list_raw = district(residents, rows)
    left = columns(normalize_people(list_raw, ListKind.MEMBERSHIP), "l")
    right = columns(normalize_people(register_raw, ListKind.REGISTER), "r")
    started = time.perf_counter()
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("pid"),
            block_on("full", "year"),
            block_on("given", "dob"),
            block_on("family", "dob"),
            block_on("full", "hamlet"),
            block_on("phon", "year"),
        ],
        comparisons=[
            cl.NameComparison("given").configure(term_frequency_adjustments=True),
            cl.NameComparison("family").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phon"),
            cl.DateOfBirthComparison(
                "dob", input_is_string=True, datetime_format="%Y-%m-%d", invalid_dates_as_null=True
            ),
            cl.ExactMatch("year"),
            cl.ExactMatch("sex"),
            cl.DamerauLevenshteinAtThresholds("pid", [1, 2]),
            cl.ExactMatch("hamlet"),
        ],
    )
    db_api = DuckDBAPI()
    linker = Linker([db_api.register(left), db_api.register(right)], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("pid"), block_on("full", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("full", "year"))
    trained = time.perf_counter() - started
    predictions = linker.inference.predict(threshold_match_probability=0.99).as_pandas_dataframe()
    total = time.perf_counter() - started
    best = predictions.sort_values("match_probability", ascending=False).drop_duplicates(
        "unique_id_l"
    )
    truth = list_raw["true_key"].to_numpy()
    keys = register_raw["key"].to_numpy()
    chosen = np.full(len(left), -1)
    chosen[best["unique_id_l"].str[1:].astype(int).to_numpy()] = keys[
        best["unique_id_r"].str[1:].astype(int).to_numpy()
    ]
    linked = chosen >= 0
    correct = (linked & (chosen == truth)).sum()
    print(f"Splink 5: train {trained:.1f} s, predict {total - trained:.1f} s, total {total:.1f} s")
    print(
        f"  precision {correct / linked.sum():.4f}  recall {correct / (truth >= 0).sum():.4f}"
        f"; peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    print(f"  recall by row kind: {recall_by_kind(list_raw, linked & (chosen == truth))}")
    # rows two residents fit equally well: Splink links them to one, reconcile flags them
    print(f"  links to outsiders {(linked & (truth < 0)).sum()}")


if __name__ == "__main__":
    main()
