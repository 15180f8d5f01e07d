"""The pandas and Dask executors run the same model code: on one commune they give the same
links and findings (a 2-worker LocalCluster; comparing is spread over its workers)."""

import pandas as pd
import pytest

from reconcile.config import load_config
from reconcile.matching.decision import fit_and_score
from reconcile.matching.engine import PandasExecutor
from reconcile.pipeline import _prepare_quietly, run_reconciliation

from synthetic.commune import generate_commune

distributed = pytest.importorskip("distributed")

# Small partitions, so that even a small commune is cut into many (the largest list into about
# 20) and compared on both workers; smaller ones only add round trips (300 took four times as long).
PARTITION_PAIRS = 3000


@pytest.fixture(scope="module")
def cluster_executor():
    from reconcile.matching.dask_executor import DaskExecutor

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    yield DaskExecutor(client, partition_pairs=PARTITION_PAIRS, local_below=0)
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def commune(tmp_path_factory):
    folder = tmp_path_factory.mktemp("engines")
    return load_config(generate_commune(folder, seed=17, size=800), out_dir=folder / "out")


def test_both_executors_score_every_pair_alike(commune, cluster_executor):
    register = _prepare_quietly(commune.population_register, commune).people
    lists = [_prepare_quietly(spec, commune).people for spec in commune.lists]
    local, model_local = fit_and_score(lists, register, executor=PandasExecutor())
    spread, model_spread = fit_and_score(lists, register, executor=cluster_executor)
    assert cluster_executor.client.scheduler_info()["workers"]  # the cluster is there
    for a, b in zip(local, spread, strict=True):
        pd.testing.assert_frame_equal(a, b)
    for m_a, m_b in zip(model_local.m, model_spread.m, strict=True):
        assert (abs(m_a - m_b) < 1e-12).all()


def test_a_run_on_the_dask_engine_gives_the_same_findings(commune, tmp_path, monkeypatch):
    from reconcile.matching import dask_executor

    monkeypatch.setattr(dask_executor, "LOCAL_BELOW", 0)  # spread even a small commune
    monkeypatch.setattr(dask_executor, "PARTITION_PAIRS", PARTITION_PAIRS)
    pandas_config = commune.model_copy(update={"out_dir": tmp_path / "pandas"})
    dask_config = commune.model_copy(
        update={
            "out_dir": tmp_path / "dask",
            "engine": commune.engine.model_copy(update={"kind": "dask", "workers": 2}),
        }
    )
    a, _ = run_reconciliation(pandas_config)
    b, _ = run_reconciliation(dask_config)
    columns = ["type", "source_file", "source_row", "person_id", "field"]
    pd.testing.assert_frame_equal(
        a.findings[columns].sort_values(columns).reset_index(drop=True),
        b.findings[columns].sort_values(columns).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(a.links, b.links)


def test_the_prefect_flow_on_a_dask_task_runner_compares_on_its_cluster(
    commune, tmp_path, monkeypatch
):
    """`reconcile run --prefect --engine dask`: the flow runs on prefect-dask's DaskTaskRunner,
    and the matching connects to that runner's cluster instead of starting its own."""
    from contextlib import contextmanager

    from click.testing import CliRunner

    from flows.cli import main as installed
    from reconcile.matching import dask_executor

    monkeypatch.setattr(dask_executor, "LOCAL_BELOW", 0)
    monkeypatch.setattr(dask_executor, "PARTITION_PAIRS", PARTITION_PAIRS)
    addresses = []
    real = dask_executor.dask_executor

    @contextmanager
    def spying(address=None, workers=2):
        addresses.append(address)
        with real(address, workers) as executor:
            yield executor

    monkeypatch.setattr(dask_executor, "dask_executor", spying)
    config_file = commune.population_register.path.parent / "reconcile.toml"
    result = CliRunner().invoke(
        installed,
        ["run", "--prefect", "--engine", "dask", str(config_file), "--out", str(tmp_path / "d")],
    )
    assert result.exit_code == 0, result.output
    (address,) = addresses
    assert address and address.startswith("tcp://")  # the task runner's, not a new cluster
    flow_run = pd.read_csv(next((tmp_path / "d").glob("*/links.csv")), encoding="utf-8-sig")
    plain, _ = run_reconciliation(commune.model_copy(update={"out_dir": tmp_path / "p"}))
    assert flow_run["person_id"].fillna("").tolist() == plain.links["person_id"].tolist()
    assert flow_run["decision"].tolist() == plain.links["decision"].tolist()
