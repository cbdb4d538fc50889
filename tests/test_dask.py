"""engine="dask" on a dask.distributed LocalCluster: same tables, same analysis results."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import poolkit
from poolkit import analysis
from poolkit.engine_dask import read_pools_dask
from poolkit.synthetic import SyntheticSpec, generate, write_snapshot

from conftest import envelope, make_pool

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster_client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    folder = write_snapshot(tmp_path_factory.mktemp("dask") / "snap", generate(SyntheticSpec(locations=30, seed=9)))
    (folder / "odd.json").write_text(json.dumps(envelope(make_pool(id="x", locationId="LX", whisper="yes",
                                                                   inboundCallService={"type": "callback", "value": "v"}))))
    return folder


def test_dask_tables_equal_the_pandas_engine(cluster_client, snapshot: Path):
    expected = poolkit.read_pools(snapshot, enrich=True)
    tables = read_pools_dask(snapshot, enrich=True, files_per_partition=4)
    assert tables.pools.npartitions == 8
    for name, frame in expected:
        lazy = getattr(tables, name)
        documented = [c for c in frame.columns if c in lazy.columns]
        assert list(lazy.columns) == documented  # extra (unknown) fields are not columns in Dask
        assert dict(lazy.dtypes.astype(str)) == dict(frame[documented].dtypes.astype(str))
        got = lazy.compute().reset_index(drop=True)
        pd.testing.assert_frame_equal(got, frame[documented], check_categorical=False)


def test_analysis_accepts_dask_tables_and_returns_the_pandas_results(cluster_client, snapshot: Path):
    expected = poolkit.read_pools(snapshot)
    tables = poolkit.read_pools(snapshot, engine="dask")
    for function in (analysis.numbers_per_pool, analysis.service_mix, analysis.feature_adoption,
                     analysis.feature_adoption_summary, analysis.location_summary):
        pd.testing.assert_frame_equal(function(tables), function(expected))
    pd.testing.assert_frame_equal(analysis.service_mix(tables, by="location_id"),
                                  analysis.service_mix(expected, by="location_id"))
    assert analysis.headline(tables) == analysis.headline(expected)
    assert "callback" in set(analysis.service_mix(tables)["service_type"].astype(str))


def test_errors_travel_back_from_the_workers_typed(cluster_client, tmp_path: Path):
    (tmp_path / "bad.json").write_text('{"statusCode": 401, "message": "Invalid token"}')
    tables = read_pools_dask(tmp_path)
    with pytest.raises(poolkit.ErrorResponseError, match="bad.json"):
        tables.pools.compute()
    recorded = read_pools_dask(tmp_path, errors="record").problems.compute()
    assert recorded["source"].str.endswith("bad.json").all()


def test_engine_is_checked():
    with pytest.raises(ValueError, match="engine must be"):
        poolkit.read_pools(envelope(), engine="spark")
