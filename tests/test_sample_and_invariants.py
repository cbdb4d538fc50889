"""The shipped sample, and the invariant that no pool or number is lost on any input."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path

import pandas as pd

import poolkit
from poolkit.schemas import SOURCE
from poolkit.synthetic import SAMPLE, SyntheticSpec, active_number_pages, generate

REPO = Path(__file__).resolve().parent.parent


def test_sample_is_realistic_and_offline():
    tables = poolkit.load_sample()
    pools, numbers = tables.pools, tables.numbers
    assert 35 <= pools["location_id"].nunique() <= 45
    assert 120 <= len(pools) <= 200 and 1200 <= len(numbers) <= 2000
    assert {"forward", "ivr", "voice_ai"} <= set(pools["service_type"].dropna())
    assert pools["service_type"].isna().any()  # pools without a service too
    combos = (
        pools.dropna(subset=["whisper", "call_recording", "is_active"])
        .groupby(["whisper", "call_recording", "is_active"])
        .size()
    )
    assert len(combos) == 8
    area = numbers["phone_number"].str.slice(2, 5)
    assert area.nunique() >= 15
    assert area.isin(["800", "833", "844", "855", "866", "877", "888"]).any()
    assert 3 <= len(tables.problems) <= 20


def test_data_sample_is_the_packaged_sample_and_regenerates_identically(tmp_path: Path):
    assert (REPO / "data" / "sample").resolve() == poolkit.sample_path().resolve()
    manifest = json.loads((poolkit.sample_path() / "manifest.json").read_text())
    assert "synthetic" in manifest["base_url"] and len(manifest["locations"]) == 46
    again = generate(SAMPLE)
    on_disk = {
        p.stem: json.loads(p.read_text())
        for p in poolkit.sample_path().glob("*.json")
        if p.name not in ("manifest.json", "locations.json") and ".numbers." not in p.name
    }
    assert {loc["id"]: body for loc, body in again if body is not None} == on_disk
    pages = {p.name: json.loads(p.read_text()) for p in poolkit.sample_path().glob("*.numbers.*")}
    expected = {
        f"{location_id}.numbers.{page}.json": doc
        for location_id, docs in active_number_pages(again).items()
        if isinstance(docs, list)
        for page, doc in enumerate(docs)
    }
    assert len(pages) == 44 and pages == expected
    kept = json.loads((poolkit.sample_path() / "locations.json").read_text())["locations"]
    assert kept == [location for location, _ in again]


def test_sample_has_locations_without_pools_and_one_not_fetched():
    locations = poolkit.load_sample().locations
    assert len(locations) == 46 and locations["location_id"].is_unique
    assert locations["status"].value_counts().to_dict() == {
        "ok": 45,
        "failed": 1,
        "no_response_file": 0,
    }
    assert (locations["pools"] == 0).sum() == 5 and locations["location_name"].notna().all()
    assert set(locations["country"]) == {"US", "CA"}
    states = set(locations["state"])
    assert any(len(s) == 2 for s in states) and any(len(s) > 2 for s in states)  # codes and names


def test_synthetic_snapshots_of_any_size_plant_what_fits():
    for locations in range(12):
        tables = poolkit.read_pools(
            [body for _, body in generate(SyntheticSpec(locations=locations))]
        )
        assert tables.pools["location_id"].nunique() == locations
    assert (
        len(poolkit.read_pools([b for _, b in generate(SyntheticSpec(locations=9))]).problems) == 6
    )


def _mutate(rng: random.Random, doc: dict) -> None:
    """Break one thing in a response, the way real data breaks."""
    data = doc["data"]
    i = rng.randrange(len(data))
    pool = data[i]
    choice = rng.randrange(10)
    junk = rng.choice([None, 0, 1.5, "x", True, [], {}, [1, 2], {"a": 1}])
    if choice == 0:
        data[i] = junk
    elif choice == 1 and type(pool) is dict:
        pool["numbers"] = junk
    elif (
        choice == 2
        and type(pool) is dict
        and isinstance(pool.get("numbers"), list)
        and pool["numbers"]
    ):
        pool["numbers"][rng.randrange(len(pool["numbers"]))] = junk
    elif (
        choice == 3
        and type(pool) is dict
        and isinstance(pool.get("numbers"), list)
        and pool["numbers"]
    ):
        number = pool["numbers"][rng.randrange(len(pool["numbers"]))]
        if type(number) is dict:
            number[rng.choice(["phoneNumber", "friendlyName", "extra"])] = junk
    elif choice == 4 and type(pool) is dict:
        pool.pop(rng.choice(list(pool) or ["id"]), None)
    elif choice == 5 and type(pool) is dict:
        pool[rng.choice(["whisper", "isActive", "callRecording", "id", "locationId", "name"])] = (
            junk
        )
    elif choice == 6 and type(pool) is dict:
        pool["inboundCallService"] = rng.choice([junk, {"type": junk, "value": junk}])
    elif choice == 7:
        data.append(copy.deepcopy(pool))
    elif choice == 8:
        doc["total"] = junk
    elif choice == 9 and type(pool) is dict:
        pool[f"field{rng.randrange(5)}"] = junk


def test_nothing_is_lost_on_randomly_broken_input():
    rng = random.Random(1234)
    docs = [body for _, body in generate(SyntheticSpec(locations=60, seed=3, problems=False))]
    for doc in docs:
        for _ in range(rng.randrange(6)):
            _mutate(rng, doc)
    tables = poolkit.read_pools(copy.deepcopy(docs))
    pools, problems = tables.pools, tables.problems

    pool_objects = sum(type(p) is dict for doc in docs for p in doc["data"])
    non_objects = [
        (f"<memory>[{k}]", f"data[{i}]")
        for k, doc in enumerate(docs)
        for i, p in enumerate(doc["data"])
        if type(p) is not dict
    ]
    assert len(pools) == pool_objects
    recorded = set(zip(problems["source"], problems["path"]))
    assert all(key in recorded for key in non_objects)

    number_entries = sum(
        len(p["numbers"])
        for doc in docs
        for p in doc["data"]
        if type(p) is dict and type(p.get("numbers")) is list
    )
    assert pools["number_count"].sum() == number_entries == len(tables.numbers)
    # every NA phone number has a problem row of its own, at its entry or its phoneNumber
    bad_numbers = {
        (f"<memory>[{k}]", f"data[{i}].numbers[{j}]")
        for k, doc in enumerate(docs)
        for i, p in enumerate(doc["data"])
        if type(p) is dict and type(p.get("numbers")) is list
        for j, n in enumerate(p["numbers"])
        if type(n) is not dict
        or not (
            type(n.get("phoneNumber")) is str
            and re.fullmatch(r"\+[1-9][0-9]{1,14}", n["phoneNumber"])
        )
    }
    assert tables.numbers["phone_number"].isna().sum() == len(bad_numbers) > 0
    at = set(zip(problems["source"], problems["path"].str.removesuffix(".phoneNumber")))
    assert bad_numbers <= at
    assert not problems["path"].isna().any() and not problems["problem"].isna().any()
    assert pd.api.types.is_integer_dtype(pools["number_count"])


def _write_files(folder: Path, docs: list, compact: bool) -> None:
    folder.mkdir()
    for k, doc in enumerate(docs):
        text = json.dumps(doc, separators=(",", ":")) if compact else json.dumps(doc, indent=1)
        (folder / f"{k:04d}.json").write_text(text)


def _without_source_folder(tables: poolkit.PoolTables) -> dict[str, pd.DataFrame]:
    out = {}
    for name, frame in tables:
        frame = frame.copy()
        column = SOURCE[name] if name in SOURCE else None
        if column in frame:
            frame[column] = frame[column].str.rsplit("/", n=1).str[-1].astype("string")
        out[name] = frame
    return out


def test_one_line_and_pretty_printed_files_give_the_same_tables(tmp_path: Path, monkeypatch):
    """The layout of the JSON text changes nothing, also where chunks of pools end (small
    chunks here) and around broken responses."""
    import poolkit.tidy as tidy

    monkeypatch.setattr(tidy, "_CHUNK_BYTES", 20_000)
    rng = random.Random(99)
    docs = [body for _, body in generate(SyntheticSpec(locations=80, seed=5, problems=False))]
    for doc in rng.sample(docs, 6):  # a few broken responses among many clean ones
        for _ in range(3):
            _mutate(rng, doc)
    docs[10]["data"][0]["inboundCallService"] = {"type": "voice_ai", "value": None}
    docs[11]["data"][0]["forwardingNumber"] = ""
    _write_files(tmp_path / "compact", docs, compact=True)
    _write_files(tmp_path / "pretty", docs, compact=False)
    compact = _without_source_folder(poolkit.read_pools(tmp_path / "compact"))
    pretty = _without_source_folder(poolkit.read_pools(tmp_path / "pretty"))
    whole = _without_source_folder(poolkit.read_pools(copy.deepcopy(docs)))
    assert len(compact["problems"]) > 0 and len(compact["pools"]) > 200
    for name in compact:
        pd.testing.assert_frame_equal(compact[name], pretty[name], check_categorical=True)
        if name != "problems":  # in memory the sources are named <memory>[k]
            pd.testing.assert_frame_equal(
                compact[name].drop(columns=SOURCE.get(name, []), errors="ignore"),
                whole[name].drop(columns=SOURCE.get(name, []), errors="ignore"),
            )
