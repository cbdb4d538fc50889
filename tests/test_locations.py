"""Locations are first-class: every location of the data is a row, with or without pools,
fetched or not, named and placed; adoption divides by the locations that answered."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import poolkit
from poolkit import analysis
from poolkit.synthetic import SyntheticSpec, generate, write_snapshot

from conftest import by_file_name, envelope, make_pool


@pytest.fixture(scope="module")
def agency(tmp_path_factory) -> Path:
    """61 locations that answered, 16 of them with no pool, and 2 whose fetch failed."""
    spec = SyntheticSpec(locations=45, seed=21, empty_locations=16, failed_locations=2)
    return write_snapshot(tmp_path_factory.mktemp("agency") / "snap", generate(spec))


def test_every_location_is_a_row(agency: Path):
    tables = poolkit.read_pools(agency)
    locations = tables.locations
    assert len(locations) == 63 and locations["location_id"].is_unique
    assert locations["status"].astype(str).value_counts().to_dict() == {"ok": 61, "failed": 2}
    ok = locations[locations["status"] == "ok"]
    assert (ok["pools"] == 0).sum() == 16 and ok["pools"].sum() == len(tables.pools)
    assert ok["numbers"].sum() == len(tables.numbers)
    assert ok["active_pools"].sum() == tables.pools["is_active"].sum()
    failed = locations[locations["status"] == "failed"]
    assert failed["pools"].isna().all() and failed["error"].str.startswith("ForbiddenError").all()
    assert failed["location_source"].str.endswith("manifest.json").all()
    assert locations["location_name"].notna().all() and locations["timezone"].notna().all()


def test_adoption_and_headline_count_every_location_that_answered(agency: Path):
    tables = poolkit.read_pools(agency)
    summary = analysis.feature_adoption_summary(tables).set_index("feature")
    assert (summary["locations"] == 61).all() and (summary["locations_not_fetched"] == 2).all()
    assert summary.loc["has_pool", "locations_using"] == 45
    # counted from the raw responses, without poolkit: locations with a pool whose whisper
    # is exactly true
    whisper = 0
    for response in agency.glob("*.json"):
        body = json.loads(response.read_text())
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            whisper += any(p.get("whisper") is True for p in body["data"])
    assert 0 < whisper < 45
    assert summary.loc["whisper", "locations_using"] == whisper
    assert summary.loc["whisper", "share"] == pytest.approx(whisper / 61)
    counts = analysis.headline(tables)
    assert [
        counts[k]
        for k in (
            "locations",
            "locations_with_pools",
            "locations_without_pools",
            "locations_not_fetched",
        )
    ] == [61, 45, 16, 2]
    per_location = analysis.feature_adoption(tables)
    assert len(per_location) == 61 and (per_location["pools"] == 0).sum() == 16


def test_sixty_one_locations_sixteen_without_pools(tmp_path: Path):
    spec = SyntheticSpec(locations=45, seed=22, empty_locations=16)
    folder = write_snapshot(tmp_path / "snap", generate(spec))
    tables = poolkit.read_pools(folder)
    assert len(tables.locations) == 61
    assert set(analysis.feature_adoption_summary(tables)["locations"]) == {61}
    assert analysis.feature_adoption_summary(tables).iloc[0]["locations_using"] == 45  # has_pool


def test_adoption_by_state_joins_codes_and_names():
    responses = [
        (
            {"id": "A", "name": "a", "state": "IL", "country": "US"},
            envelope(make_pool(locationId="A")),
        ),
        (
            {"id": "B", "name": "b", "state": "Illinois", "country": "US"},
            envelope(make_pool(locationId="B", whisper=False)),
        ),
        ({"id": "C", "name": "c", "state": "ON", "country": "CA"}, envelope()),
        ({"id": "D", "name": "d", "state": "on", "country": "CA"}, None),
    ]
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        tables = poolkit.read_pools(write_snapshot(Path(folder), responses))
    summary = analysis.feature_adoption_summary(tables, by="state").set_index(["state", "feature"])
    assert summary.loc[("Illinois", "whisper")].tolist()[1:] == [1, 2, 0.5, 0]
    assert summary.loc[("Ontario", "has_pool")].tolist()[1:] == [0, 1, 0.0, 1]
    regions = analysis.region_summary(tables, by="state").set_index("state")
    assert regions.loc["Illinois"].tolist() == [2, 2, 0, 0, 2, 4]
    assert regions.loc["Ontario"].tolist() == [2, 0, 1, 1, 0, 0]
    by_pool_column = analysis.feature_adoption(tables, by="state").set_index("state")
    assert (
        by_pool_column.loc["Illinois", "pools"] == 2
        and by_pool_column.loc["Illinois", "whisper"] == 0.5
    )
    with pytest.raises(KeyError, match="not a location column"):
        analysis.feature_adoption_summary(tables, by="pool_id")


def test_without_a_manifest_a_response_file_is_its_location(tmp_path: Path):
    (tmp_path / "Lempty.json").write_text(json.dumps(envelope()))
    (tmp_path / "x.json").write_text(json.dumps(envelope(make_pool(locationId="L9"))))
    locations = poolkit.read_pools(tmp_path).locations
    assert locations["location_id"].tolist() == ["Lempty", "L9"]
    assert locations["pools"].tolist() == [0, 1] and locations["location_name"].isna().all()
    memory = poolkit.read_pools(envelope(make_pool(locationId="M1"))).locations
    assert memory["location_id"].tolist() == ["M1"]
    assert memory["location_source"].tolist() == ["<memory>"]


def test_locations_round_trip_through_parquet_and_csv(agency: Path, tmp_path: Path):
    tables = poolkit.read_pools(agency)
    back = poolkit.read_dataset(tables.to_parquet(tmp_path / "d"))
    pd.testing.assert_frame_equal(
        back.locations.drop(columns="snapshot"), by_file_name(tables.locations)
    )
    tables.to_csv(tmp_path / "csv")
    assert len(pd.read_csv(tmp_path / "csv" / "locations.csv")) == 63


def test_names_show_with_the_id_where_two_locations_share_one():
    tables = poolkit.read_pools(
        [envelope(make_pool(locationId="A")), envelope(make_pool(locationId="B"))]
    )
    tables.locations["location_name"] = pd.array(["Same", "Same"], dtype="string")
    assert analysis.location_names(tables) == {"A": "Same (A)", "B": "Same (B)"}
    tables.locations["location_name"] = pd.array(["One", None], dtype="string")
    assert analysis.location_names(tables) == {"A": "One", "B": "B"}


def test_a_location_in_two_responses_of_one_snapshot_counts_all_its_pools(tmp_path: Path):
    (tmp_path / "a.json").write_text(json.dumps(envelope(make_pool(locationId="L", id="p1"))))
    (tmp_path / "b.json").write_text(json.dumps(envelope(make_pool(locationId="L", id="p2"))))
    locations = poolkit.read_pools(tmp_path).locations
    assert locations["location_id"].tolist() == ["L"] and locations["pools"].tolist() == [2]
    assert locations["numbers"].tolist() == [4]


def test_states_of_other_countries_keep_their_own_names():
    from poolkit.places import state_name

    assert state_name("WA", "AU") == "WA" and state_name("NT", "AU") == "NT"
    assert (
        state_name("wa", "US") == "Washington" and state_name("NT", "CA") == "Northwest Territories"
    )
    assert state_name("ontario", None) == "Ontario" and state_name(None, "US") is None


def test_a_state_whose_every_location_failed_is_still_counted(tmp_path: Path):
    responses = [
        (
            {"id": "A", "name": "a", "state": "IL", "country": "US"},
            envelope(make_pool(locationId="A")),
        ),
        ({"id": "T", "name": "t", "state": "TX", "country": "US"}, None),
        ({"id": "N", "name": "n", "country": "US"}, envelope(make_pool(locationId="N", id="q"))),
    ]
    tables = poolkit.read_pools(write_snapshot(tmp_path / "s", responses))
    summary = analysis.feature_adoption_summary(tables, by="state")
    texas = summary[summary["state"] == "Texas"].iloc[0]
    assert (texas["locations"], texas["locations_not_fetched"]) == (0, 1) and pd.isna(
        texas["share"]
    )
    assert summary.drop_duplicates("state")["locations_not_fetched"].sum() == 1
    assert "unknown" in set(summary["state"])  # N has no state: counted, not dropped
    by_pool = analysis.feature_adoption(tables, by="state").set_index("state")
    assert by_pool.loc["unknown", "pools"] == 1


def test_a_glob_of_a_snapshot_lists_its_failed_locations_and_skips_its_own_files(agency: Path):
    from_glob = poolkit.read_pools(str(agency / "*.json")).locations
    assert from_glob["status"].astype(str).value_counts().to_dict() == {"ok": 61, "failed": 2}
    listed = poolkit.read_pools(sorted(agency.glob("*.json")))  # locations.json, manifest.json too
    assert (
        len(listed.locations) == 61
    )  # a list of files reads no manifest: its failures are not known
    assert not listed.problems["source"].str.endswith(("locations.json", "manifest.json")).any()


def test_a_glob_of_one_locations_files_is_that_location_only(agency: Path):
    """A glob that picks one location's files says nothing of the 62 others: they were not
    asked for, so none of them is "not fetched"."""
    one = sorted(
        p.name for p in agency.glob("*.json") if p.name not in ("manifest.json", "locations.json")
    )[0]
    stem = one.split(".")[0]
    locations = poolkit.read_pools(str(agency / f"{stem}*.json")).locations
    assert locations["location_id"].tolist() == [stem]
    assert locations["status"].astype(str).tolist() == ["ok"]


def test_a_stray_file_that_is_no_response_is_no_location(tmp_path: Path):
    (tmp_path / "config.json").write_text(json.dumps({"theme": "dark"}))
    (tmp_path / "a.json").write_text(json.dumps(envelope(make_pool(locationId="A"))))
    tables = poolkit.read_pools(tmp_path, errors="record")
    assert tables.locations["location_id"].tolist() == ["A"] and len(tables.problems) == 1


def test_kept_location_fields_are_text_only():
    from poolkit.snapshot import location_fields

    kept = location_fields(
        {
            "id": "A",
            "name": {"owner": "Ada", "email": "a@x.org"},
            "state": "IL",
            "email": "a@x.org",
            "phone": "+13125550199",
        }
    )
    assert kept == {"id": "A", "state": "IL"}


def test_state_code_puts_a_state_given_by_code_and_by_name_together(tmp_path: Path):
    """TX and Texas are one state for a plain groupby; WA in Australia is no US state."""
    from poolkit.synthetic import write_snapshot

    places = [("A1", "TX", "US"), ("A2", "Texas", "US"), ("A3", "on", None), ("A4", "WA", "AU")]
    responses = [
        ({"id": loc, "name": f"Clinic {loc}", "state": state, "country": country}, envelope())
        for loc, state, country in places
    ]
    locations = poolkit.read_pools(write_snapshot(tmp_path / "s", responses)).locations
    codes = locations.set_index("location_id")["state_code"]
    assert codes[["A1", "A2", "A3"]].tolist() == ["US-TX", "US-TX", "CA-ON"]
    assert pd.isna(codes["A4"])
    assert locations["state"].tolist() == ["TX", "Texas", "on", "WA"]  # the raw value kept
    assert locations.groupby("state_code").size().to_dict() == {"CA-ON": 1, "US-TX": 2}
    by_code = analysis.region_summary(poolkit.read_pools(tmp_path / "s"), by="state_code")
    assert by_code.set_index("state_code")["locations"].to_dict() == {
        "CA-ON": 1,
        "US-TX": 2,
        "unknown": 1,
    }
