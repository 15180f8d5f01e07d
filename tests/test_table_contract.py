"""The normalised tables and the scored pairs keep the columnar contract (schemas/tables.py):
checked by pandera, and unchanged through Parquet."""

import numpy as np
import pandas as pd
import pandera.errors
import pytest

from reconcile.config import load_config
from reconcile.kinds import ListKind
from reconcile.matching.decision import score_lists
from reconcile.normalize.people import normalize_people
from reconcile.pipeline import _prepare_quietly
from schemas.tables import check_pairs, check_people, from_parquet, to_parquet

from synthetic.commune import generate_commune


@pytest.fixture(scope="module")
def commune(tmp_path_factory):
    folder = tmp_path_factory.mktemp("contract")
    config = load_config(generate_commune(folder, seed=41, size=300), out_dir=folder / "out")
    register = _prepare_quietly(config.population_register, config).people
    lists = [_prepare_quietly(spec, config).people for spec in config.lists]
    return register, lists


def test_normalised_tables_and_pairs_hold_only_primitive_columns(commune, tmp_path):
    register, lists = commune
    check_people(register, register=True)
    for people in lists:
        check_people(people)
        for column in people.columns:  # no Python objects but text
            kinds = {type(v).__name__ for v in people[column].dropna()}
            assert kinds <= {"str", "int", "float", "bool", "int64", "bool_", "float64"}, column
    scored = score_lists(lists, register)
    for pairs in scored:
        check_pairs(pairs)
    for name, table in (("register", register), ("list", lists[0]), ("pairs", scored[0])):
        path = tmp_path / f"{name}.parquet"
        to_parquet(table, path)
        pd.testing.assert_frame_equal(from_parquet(path), table)
    # an extra column (the input memory's raw-row keys) comes back after the table's own
    keys = np.arange(len(register), dtype=np.uint64) * np.uint64(2654435761)
    to_parquet(register, tmp_path / "keyed.parquet", {"_raw_key": keys})
    pd.testing.assert_frame_equal(
        from_parquet(tmp_path / "keyed.parquet"), register.assign(_raw_key=keys)
    )


def test_a_table_breaking_the_contract_is_refused():
    raw = pd.DataFrame(
        {
            "source_file": ["a.xlsx"],
            "source_sheet": ["S"],
            "source_row": [3],
            "full_name": ["Nguyễn Văn An"],
            "birth_date": ["12/03/1980"],
        }
    )
    people = normalize_people(raw, ListKind.MEMBERSHIP)
    check_people(people)
    broken = people.assign(name_fold=[("nguyen", "van", "an")])  # an object in a text column
    with pytest.raises(pandera.errors.SchemaError):
        check_people(broken)
    with pytest.raises(pandera.errors.SchemaError):
        check_people(people.assign(birth_month=pd.array([13], dtype="Int64")))


def test_a_text_column_with_empty_cells_passes_and_an_object_among_them_does_not():
    """The text check is given the nulls too (schemas.tables.TEXT): they pass, and an object
    beside them is still refused."""
    raw = pd.DataFrame(
        {
            "source_file": ["a.xlsx"] * 3,
            "source_sheet": ["S"] * 3,
            "source_row": [3, 4, 5],
            "full_name": ["Nguyễn Văn An", "Trần Thị Bích", "Lê Văn Cường"],
            "hamlet": [None, "Thôn Đông", None],
        }
    )
    people = normalize_people(raw, ListKind.MEMBERSHIP)
    assert people["hamlet_key"].isna().sum() == 2
    check_people(people)
    with pytest.raises(pandera.errors.SchemaError):
        check_people(people.assign(hamlet_key=[None, ("thon", "dong"), np.nan]))
    with pytest.raises(pandera.errors.SchemaError):
        check_people(people.assign(hamlet_key=[None, 7, None]))
