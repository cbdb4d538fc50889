"""The Parquet dataset: partitioned by snapshot, read back identical, queryable by DuckDB."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import poolkit
from poolkit.synthetic import SyntheticSpec, generate, write_snapshot
from poolkit.tables import empty_tables

from conftest import by_file_name, envelope, make_pool


def assert_same(left: poolkit.PoolTables, right: poolkit.PoolTables) -> None:
    """``right`` (a dataset read) holds ``left``'s rows, each with its snapshot."""
    for name, frame in left:
        read = getattr(right, name)
        assert list(read.columns)[-1] == "snapshot", name
        pd.testing.assert_frame_equal(read.drop(columns="snapshot"), by_file_name(frame))


@pytest.fixture
def two_snapshots(tmp_path: Path) -> Path:
    """The same 12 locations fetched twice, and one extra response with unknown fields."""
    raw = tmp_path / "raw"
    responses = generate(SyntheticSpec(locations=12, seed=8))
    write_snapshot(
        raw / "2026-11-01T080000Z",
        responses,
        taken_at=datetime(2026, 11, 1, 8, tzinfo=timezone.utc),
    )
    write_snapshot(
        raw / "2026-11-08T080000Z",
        responses[:10],
        taken_at=datetime(2026, 11, 8, 8, tzinfo=timezone.utc),
    )
    (raw / "2026-11-08T080000Z" / "extra.json").write_text(
        json.dumps(
            envelope(
                make_pool(
                    id="x1",
                    locationId="LX",
                    dateAdded="2026-01-01",
                    numbers=[{"phoneNumber": "+14155550100", "friendlyName": "a", "sid": "PN1"}],
                )
            )
        )
    )
    return raw


def test_round_trip_is_identical_with_snapshot_partitions(two_snapshots: Path, tmp_path: Path):
    tables = poolkit.read_pools(two_snapshots)
    tables.numbers = poolkit.enrich_numbers(tables.numbers)
    assert {"date_added", "sid", "country_code", "area"} <= set(tables.pools.columns) | set(
        tables.numbers.columns
    )
    out = tables.to_parquet(tmp_path / "processed")
    for name in ("pools", "numbers", "services", "problems"):
        partitions = sorted(p.name for p in (out / name).iterdir())
        assert partitions == ["snapshot=2026-11-01T080000Z", "snapshot=2026-11-08T080000Z"], name
    back = poolkit.read_dataset(out)
    assert_same(tables, back)
    weeks = back.pools.groupby("snapshot", observed=True)["location_id"].nunique()
    assert weeks.to_dict() == {"2026-11-01T080000Z": 12, "2026-11-08T080000Z": 11}  # LX too
    assert (
        str(back.numbers["number_type"].dtype) == "category"
        and str(back.pools["number_count"].dtype) == "Int64"
    )


def test_round_trip_of_empty_and_in_memory_tables(tmp_path: Path):
    assert_same(empty_tables(), poolkit.read_dataset(empty_tables().to_parquet(tmp_path / "empty")))
    memory = poolkit.read_pools([envelope(make_pool()), envelope(make_pool(id="b", numbers="x"))])
    out = memory.to_parquet(tmp_path / "memory")
    assert [p.name for p in (out / "pools").iterdir()] == ["snapshot=memory"]
    assert_same(memory, poolkit.read_dataset(out))


def test_writing_again_replaces_the_dataset(tmp_path: Path):
    sample = poolkit.load_sample()
    sample.to_parquet(tmp_path / "d")
    smaller = poolkit.read_pools(envelope(make_pool()))
    assert_same(smaller, poolkit.read_dataset(smaller.to_parquet(tmp_path / "d")))


def test_duckdb_reads_the_dataset_in_one_line(tmp_path: Path):
    import duckdb

    out = poolkit.load_sample().to_parquet(tmp_path / "processed")
    rows = duckdb.sql(
        f"SELECT snapshot, count(*) FROM read_parquet('{out}/pools/*/*.parquet', "
        "hive_partitioning = true) GROUP BY snapshot"
    ).fetchall()
    assert rows == [("2026-11-02T150000Z", 163)]


def test_cli_tidy_writes_the_dataset_and_csv(tmp_path: Path):
    from poolkit.cli import main

    assert main(["tidy", str(poolkit.sample_path()), "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "poolkit-dataset.json").is_file() and (
        tmp_path / "p" / "pools.csv"
    ).is_file()
    assert_same(poolkit.load_sample(), poolkit.read_dataset(tmp_path / "p"))


def test_a_folder_of_other_files_is_refused_and_left_alone(tmp_path: Path):
    (tmp_path / "pools").mkdir()
    mine = tmp_path / "pools" / "notes.txt"
    mine.write_text("mine")
    with pytest.raises(poolkit.errors.DatasetError, match="not a poolkit dataset"):
        poolkit.load_sample().to_parquet(tmp_path)
    assert mine.read_text() == "mine" and sorted(p.name for p in tmp_path.rglob("*")) == [
        "notes.txt",
        "pools",
    ]


def test_rewriting_a_dataset_removes_only_the_parts_it_wrote(tmp_path: Path):
    out = poolkit.load_sample().to_parquet(tmp_path / "d")
    kept = [
        out / "pools" / "README.txt",
        out / "pools" / "snapshot=2026-11-02T150000Z" / "notes.txt",
    ]
    for path in kept:
        path.write_text("user file")
    smaller = poolkit.read_pools(envelope(make_pool()))
    assert_same(smaller, poolkit.read_dataset(smaller.to_parquet(out)))
    assert all(path.read_text() == "user file" for path in kept)
    assert not list((out / "pools" / "snapshot=2026-11-02T150000Z").glob("*.parquet"))


def test_read_pools_points_a_dataset_to_read_dataset(tmp_path: Path):
    out = poolkit.load_sample().to_parquet(tmp_path / "d")
    with pytest.raises(poolkit.errors.NotAPoolResponseError, match="read_dataset"):
        poolkit.read_pools(out)
    with pytest.raises(poolkit.errors.DatasetError, match="not a poolkit dataset"):
        poolkit.read_dataset(poolkit.sample_path())


def test_a_failed_write_leaves_no_folder_that_reads_as_a_dataset(tmp_path: Path):
    out = poolkit.load_sample().to_parquet(tmp_path / "d")
    broken = poolkit.load_sample()
    broken.numbers["odd"] = [object()] * len(broken.numbers)  # Arrow cannot write this
    with pytest.raises(pa.ArrowException):
        broken.to_parquet(out)
    assert_same(poolkit.load_sample(), poolkit.read_dataset(out))  # untouched: checked first
    lazy = poolkit.read_dataset(out, engine="dask")
    with pytest.raises(poolkit.errors.DatasetError, match="pandas"):
        lazy.to_parquet(out)
    assert_same(poolkit.load_sample(), poolkit.read_dataset(out))


def test_a_folder_holding_a_dataset_and_responses(tmp_path: Path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.json").write_text(json.dumps(envelope(make_pool())))
    dataset = poolkit.load_sample().to_parquet(tmp_path / "processed")
    assert len(poolkit.read_pools(tmp_path).pools) == 1  # the dataset's marker is not a response
    recorded = poolkit.read_pools([dataset, tmp_path / "raw" / "a.json"], errors="record")
    assert len(recorded.pools) == 1 and "read_dataset" in recorded.problems["problem"].iloc[0]
