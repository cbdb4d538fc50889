"""read_dataset(engine="dask") on a dask.distributed LocalCluster: the dataset's tables as Dask
DataFrames, and analysis functions that stay lazy until their own small results."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import dask
import distributed
import pandas as pd
import pytest

import poolkit
from poolkit import analysis
from poolkit.synthetic import SyntheticSpec, generate, write_snapshot

from conftest import by_file_name, envelope, make_pool


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, poolkit.PoolTables]:
    """Two snapshots with an odd response (unknown field, undocumented service type),
    as a dataset."""
    base = tmp_path_factory.mktemp("dask")
    for day, seed in ((1, 9), (8, 10)):
        folder = write_snapshot(
            base / "raw" / f"2026-11-0{day}",
            generate(SyntheticSpec(locations=30, seed=seed)),
            taken_at=datetime(2026, 11, day, 8, tzinfo=timezone.utc),
        )
    (folder / "odd.json").write_text(
        json.dumps(
            envelope(
                make_pool(
                    id="x",
                    locationId="LX",
                    whisper="yes",
                    dateAdded="2026-01-01",
                    inboundCallService={"type": "callback", "value": "v"},
                )
            )
        )
    )
    tables = poolkit.read_pools(base / "raw")
    return tables.to_parquet(base / "processed"), tables


def same_order(frame: pd.DataFrame) -> pd.DataFrame:
    files = list(poolkit.schemas.SOURCE.values())
    keys = [c for c in (*files, "location_id", "pool_id", "position", "path") if c in frame]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def test_dask_tables_have_the_pandas_columns_and_dtypes(dataset):
    folder, expected = dataset
    tables = poolkit.read_dataset(folder, engine="dask")
    assert "date_added" in tables.pools.columns  # extra columns kept
    for name, frame in expected:
        lazy = getattr(tables, name)
        assert list(lazy.columns) == [*frame.columns, "snapshot"]  # each row's week, last
        lazy = lazy.drop(columns="snapshot")
        assert dict(lazy.dtypes.astype(str)) == dict(frame.dtypes.astype(str))
        pd.testing.assert_frame_equal(same_order(lazy.compute()), same_order(by_file_name(frame)))
    weeks = tables.numbers["snapshot"].compute().astype(str).value_counts().to_dict()
    folders = expected.numbers["number_source"].map(  # each file's manifest, read as json
        lambda f: json.loads((Path(f).parent / "manifest.json").read_text())["snapshot"]
    )
    assert weeks == folders.value_counts().to_dict() and len(weeks) == 2


def test_analysis_is_lazy_over_numbers_and_gives_the_pandas_results(dataset, monkeypatch):
    """Every result Dask hands back to an analysis function is smaller than the numbers
    table: what is counted over numbers is counted in the partitions."""
    folder, read = dataset
    # the tables read from the responses, their file columns as the dataset keeps them
    expected = poolkit.PoolTables(**{name: by_file_name(frame) for name, frame in read})
    tables = poolkit.read_dataset(folder, engine="dask")
    returned = []
    real = dask.base.compute

    def watched(*args, **kwargs):
        results = real(*args, **kwargs)
        returned.extend(len(r) for r in results if isinstance(r, (pd.DataFrame, pd.Series)))
        return results

    monkeypatch.setattr(dask.base, "compute", watched)
    monkeypatch.setattr(dask, "compute", watched)
    for function in (
        analysis.numbers_per_pool,
        analysis.service_mix,
        analysis.feature_adoption,
        analysis.feature_adoption_summary,
        analysis.location_summary,
        analysis.problems_summary,
        analysis.number_kinds,
        analysis.numbers_by_area,
    ):
        pd.testing.assert_frame_equal(function(tables), function(expected), obj=function.__name__)
    assert analysis.headline(tables) == analysis.headline(expected)
    assert returned and max(returned) == len(
        expected.pools
    )  # the per-pool table, never the numbers
    assert "callback" in set(analysis.service_mix(tables)["service_type"].astype(str))


def test_the_same_code_runs_on_a_distributed_client(dataset):
    folder, expected = dataset
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster),
    ):
        tables = poolkit.read_dataset(folder, engine="dask")
        pd.testing.assert_frame_equal(
            analysis.number_kinds(tables), analysis.number_kinds(expected)
        )
        assert analysis.headline(tables) == analysis.headline(expected)


def test_engine_is_checked(dataset):
    with pytest.raises(ValueError, match="engine must be"):
        poolkit.read_dataset(dataset[0], engine="spark")
