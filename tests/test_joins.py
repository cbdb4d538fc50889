"""Tables that join without suffixes, and the datasets and CSVs poolkit wrote before its
columns were renamed (schema 1), read with today's names."""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from itertools import combinations
from pathlib import Path

import pandas as pd

import poolkit
from poolkit.cli import main

#: The documented keys (README, "The tables"), written out: the only columns tables share.
KEYS = {"location_id", "pool_id", "position", "phone_number"}
POOL = ["location_id", "pool_id"]
SCHEMA_1 = Path(__file__).parent / "data" / "schema-1"
RAW_1 = SCHEMA_1 / "raw" / "2026-11-01T120000Z"
#: The file columns, which differ between a dataset and the files it was read from.
FILES = ["pool_source", "number_source", "location_source", "inventory_source", "source"]


def suffixed(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.endswith(("_x", "_y"))]


def test_tables_share_only_their_keys():
    frames = dict(poolkit.load_sample())
    for a, b in combinations(frames, 2):
        shared = set(frames[a].columns) & set(frames[b].columns)
        if {a, b} == {"pools", "services"}:  # the pools with a service: their two columns
            shared -= {"service_type", "service_value"}
        assert shared <= KEYS, (a, b, shared - KEYS)


def test_a_newcomers_joins_group_texas_once_and_lose_no_number():
    sample = poolkit.load_sample()
    pools = sample.pools.drop_duplicates(POOL)  # the sample repeats one pool whole
    chain = sample.numbers.merge(pools, on=POOL, how="left", validate="many_to_one").merge(
        sample.locations, on="location_id", how="left", validate="many_to_one"
    )
    assert not suffixed(chain) and len(chain) == len(sample.numbers)
    assert {"pool_name", "location_name", "number_source", "pool_source"} <= set(chain.columns)
    # the states as locations.json writes them, read here without poolkit
    newest = sorted(p for p in (files("poolkit") / "samples").iterdir() if p.is_dir())[-1]
    states = {
        entry["id"]: entry.get("state")
        for entry in json.loads((newest / "locations.json").read_text())["locations"]
    }
    texan = sample.numbers["location_id"].map(states).isin(["TX", "Texas"])
    per_state = chain.groupby("state_code")["phone_number"].size()
    assert per_state["US-TX"] == texan.sum() > 0
    assert "Texas" not in per_state.index and "TX" not in per_state.index
    services = poolkit.analysis.service_labels(chain)  # "none" where a pool has no service
    wide = chain.assign(service=services).pivot_table(
        index="state_code", columns="service", values="position", aggfunc="count"
    )
    assert wide.loc["US-TX"].sum() == texan.sum()


def test_findings_changes_and_held_numbers_join_the_tables_on_their_ids():
    sample = poolkit.load_sample()
    pools = sample.pools.drop_duplicates(POOL)
    findings = poolkit.audit(sample)
    for table, keys in ((pools, POOL), (sample.locations, ["location_id"])):
        joined = findings.merge(table, on=keys, how="left", validate="many_to_one")
        assert not suffixed(joined) and len(joined) == len(findings)
    named = findings.dropna(subset="pool_id").merge(pools, on=POOL, validate="many_to_one")
    # the name a finding shows is the pool's own, or its id where it has none
    assert named["pool"].notna().all() and named["pool_name"].notna().all()
    assert (named["pool"] == named["pool_name"]).fillna(False).all()  # the sample names them
    held = sample.phone_numbers.merge(pools, on=POOL, how="left", validate="many_to_one")
    assert not suffixed(held) and len(held) == len(sample.phone_numbers)
    assert {"number_forwarding_number", "forwarding_number"} <= set(held.columns)
    history = poolkit.load_sample(history=True)
    changes = poolkit.changes(history)
    newest = history.pools[history.pools["snapshot"] == changes["after"].iloc[0]]
    joined = changes.merge(newest.drop_duplicates(POOL), on=POOL, how="left")
    assert not suffixed(joined) and len(joined) == len(changes) > 0


def test_a_dataset_of_schema_1_reads_with_todays_names():
    expected = poolkit.read_pools(RAW_1, errors="record")
    got = poolkit.read_dataset(SCHEMA_1 / "dataset", with_snapshot=False)
    assert len(got.phone_numbers) == 8 and got.phone_numbers["number_friendly_name"].notna().all()
    for name, frame in expected:
        read = getattr(got, name)
        assert list(read.columns) == list(frame.columns), name
        pd.testing.assert_frame_equal(
            read.drop(columns=FILES, errors="ignore"),
            frame.drop(columns=FILES, errors="ignore"),
            obj=name,
        )
        for column in set(FILES) & set(frame.columns):  # the file columns, renamed too
            assert len(read) and read[column].notna().all(), (name, column)
            files = read[column].map(lambda f: Path(f).name)
            assert files.tolist() == frame[column].map(lambda f: Path(f).name).tolist()
    spare = got.phone_numbers[got.phone_numbers["phone_number"] == "+15125550199"]
    assert spare["number_forwarding_number"].tolist() == ["+15125550100"] * 2
    assert spare["number_service_type"].astype(str).tolist() == ["ivr"] * 2


def test_appending_to_a_schema_1_dataset_keeps_its_files_and_reads_as_one(tmp_path: Path):
    dataset = tmp_path / "dataset"
    shutil.copytree(SCHEMA_1 / "dataset", dataset)
    old_files = {p: p.read_bytes() for p in dataset.rglob("*.parquet")}
    later = tmp_path / "raw" / "2026-11-08T120000Z"
    shutil.copytree(RAW_1, later)
    manifest = json.loads((later / "manifest.json").read_text())
    (later / "manifest.json").write_text(json.dumps({**manifest, "snapshot": later.name}))
    assert main(["tidy", str(later), "--out", str(dataset)]) == 0
    assert {p: p.read_bytes() for p in old_files} == old_files  # not rewritten
    marker = json.loads((dataset / "poolkit-dataset.json").read_text())
    assert marker["version"] == 3 and len(marker["schema_1_parts"]) == len(old_files)
    history = poolkit.read_history(dataset)
    assert poolkit.changes(history).empty  # the same pools, whatever their columns were called
    both = poolkit.read_dataset(dataset, with_snapshot=True)
    lazy = poolkit.read_dataset(dataset, engine="dask")
    for name, frame in both:
        columns = [c for c in frame.columns if c != "snapshot"]
        assert columns == list(poolkit.schemas.SCHEMAS[name]), name
        old, new = (
            frame[(frame["snapshot"] == label).to_numpy()]
            .drop(columns=[*FILES, "snapshot"], errors="ignore")
            .reset_index(drop=True)
            for label in (RAW_1.name, later.name)
        )
        assert len(old) > 0, name
        pd.testing.assert_frame_equal(old, new, obj=name)  # the old part's columns line up
        computed = getattr(lazy, name).compute()
        assert list(computed.columns) == [*columns, "snapshot"], name
        assert computed["snapshot"].astype(str).tolist() == frame["snapshot"].astype(str).tolist()


def test_a_csv_of_schema_1_reads_with_todays_names():
    for name in ("pools", "numbers", "locations", "phone_numbers", "problems", "services"):
        frame = poolkit.read_csv(SCHEMA_1 / "csv" / f"{name}.csv")
        assert list(frame.columns) == list(poolkit.schemas.SCHEMAS[name]), name
    held = poolkit.read_csv(SCHEMA_1 / "csv" / "phone_numbers.csv")
    assert held["phone_number"].str.startswith("+").all()
    assert str(held["number_date_added"].dtype) == "datetime64[ns, UTC]"
    assert held["number_service_type"].dropna().tolist() == ["ivr", "ivr"]


def test_an_unknown_field_does_not_take_a_name_of_the_tables(tmp_path: Path):
    # fields the API might add: a join must stay free of suffixes, and a dataset of schema 1
    # named such a field as it is named now
    pool = {
        "id": "A",
        "name": "Sales",
        "locationId": "L1",
        "numbers": [{"phoneNumber": "+15125550101", "source": "web"}],
        "source": "import",
        "locationName": "Austin",
    }
    tables = poolkit.read_pools({"success": True, "data": [pool], "total": 1})
    extra = [c for c in tables.pools.columns if c not in poolkit.schemas.SCHEMAS["pools"]]
    assert sorted(extra) == ["extra_location_name", "extra_source"]
    assert list(tables.numbers.columns)[-1] == "extra_source"
    joined = tables.pools.merge(tables.locations, on="location_id")
    assert not suffixed(joined)
