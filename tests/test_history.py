"""History: each kind of change on a pair of tiny snapshots with the exact rows expected,
failed locations, mirrored and empty diffs, the trend, datasets that grow by appending, and
the command line."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

import poolkit
from poolkit.cli import main
from poolkit.history import CHANGES, changes, read_history, snapshots_of, trend
from poolkit.synthetic import write_snapshot

from conftest import AUSTIN, CHANGE_COLUMNS, DALLAS, envelope, snapshot
from conftest import clean_pool as pool

WEEK1 = datetime(2026, 11, 19, 8, tzinfo=timezone.utc)
WEEK2 = datetime(2026, 11, 26, 8, tzinfo=timezone.utc)
OLD, NEW = "2026-11-19T080000Z", "2026-11-26T080000Z"


def pair(tmp_path: Path, old: dict, new: dict) -> Path:
    """Two snapshots in ``tmp_path/raw``: ``old`` and ``new`` are ``snapshot`` arguments."""
    snapshot(tmp_path / "raw" / OLD, *old.pop("pools", ()), taken_at=WEEK1, **old)
    snapshot(tmp_path / "raw" / NEW, *new.pop("pools", ()), taken_at=WEEK2, **new)
    return tmp_path / "raw"


def rows(found: pd.DataFrame) -> list[tuple]:
    """(change, location, pool, number, field, old, new), NA as None."""
    columns = ["change", "location_id", "pool_id", "phone_number", "field", "old", "new"]
    return [
        tuple(None if pd.isna(v) else str(v) for v in row)
        for row in found[columns].astype(object).itertuples(index=False)
    ]


def test_locations_and_pools_added_and_removed(tmp_path):
    raw = pair(
        tmp_path,
        {"pools": [pool("A", AUSTIN), pool("B", AUSTIN)], "locations": (AUSTIN,)},
        {"pools": [pool("A", AUSTIN), pool("C", AUSTIN), pool("D", DALLAS)]},
    )
    found = changes(read_history(raw))
    assert rows(found) == [
        ("pool_added", "L1", "C", None, None, None, None),
        ("pool_removed", "L1", "B", None, None, None, None),
        ("location_added", "L2", None, None, None, None, None),  # its pools are not listed
    ]
    assert set(found["before"]) == {OLD} and set(found["after"]) == {NEW}
    assert list(found["location"]) == ["Acme Dental - Austin"] * 2 + ["Bolt HVAC - Dallas"]
    assert list(found["pool"].fillna("")) == ["Pool C", "Pool B", ""]


def test_numbers_added_removed_and_moved_once(tmp_path):
    raw = pair(
        tmp_path,
        {
            "pools": [
                pool("A", AUSTIN, "+15125550101", "+15125550102"),
                pool("B", AUSTIN, "+15125550103"),
            ]
        },
        {
            "pools": [
                pool("A", AUSTIN, "+15125550101"),
                pool("B", AUSTIN, "+15125550103", "+15125550102", "+15125550104"),
            ]
        },
    )
    assert rows(changes(read_history(raw))) == [
        ("number_added", "L1", "B", "+15125550104", None, None, None),
        ("number_moved", "L1", "B", "+15125550102", "pool", "Pool A", "Pool B"),
    ]


def test_a_number_that_changes_location_is_removed_and_added_not_moved(tmp_path):
    raw = pair(
        tmp_path,
        {"pools": [pool("A", AUSTIN, "+15125550101"), pool("B", DALLAS)]},
        {"pools": [pool("A", AUSTIN), pool("B", DALLAS, "+15125550101")]},
    )
    assert rows(changes(read_history(raw))) == [
        ("number_removed", "L1", "A", "+15125550101", None, None, None),
        ("number_added", "L2", "B", "+15125550101", None, None, None),
    ]


def test_each_setting_that_changed_is_a_row(tmp_path):
    before = pool("A", AUSTIN, whisper=True, whisperMessage="Hi", callRecording=True)
    after = pool(
        "A",
        AUSTIN,
        name="Renamed",
        forwardingNumber="+15125550199",
        whisper=True,
        whisperMessage="Hello",
        callRecording=False,
        isActive=False,
        inboundCallService={"type": "ivr", "value": "menu-2"},
    )
    raw = pair(tmp_path, {"pools": [before]}, {"pools": [after]})
    assert rows(changes(read_history(raw))) == [
        ("setting_changed", "L1", "A", None, "call_recording", "True", "False"),
        ("setting_changed", "L1", "A", None, "forwarding_number", "+15125550148", "+15125550199"),
        ("setting_changed", "L1", "A", None, "is_active", "True", "False"),
        ("setting_changed", "L1", "A", None, "name", "Pool A", "Renamed"),
        ("setting_changed", "L1", "A", None, "service_type", "voice_ai", "ivr"),
        ("setting_changed", "L1", "A", None, "service_value", "agent-7", "menu-2"),
        ("setting_changed", "L1", "A", None, "whisper_message", "Hi", "Hello"),
    ]


def test_a_service_removed_and_a_flag_that_stopped_parsing_are_changes(tmp_path):
    raw = pair(
        tmp_path,
        {"pools": [pool("A", AUSTIN)]},
        {"pools": [pool("A", AUSTIN, inboundCallService=None, whisper="yes")]},
    )
    assert rows(changes(read_history(raw))) == [
        ("setting_changed", "L1", "A", None, "service_type", "voice_ai", None),
        ("setting_changed", "L1", "A", None, "service_value", "agent-7", None),
        ("setting_changed", "L1", "A", None, "whisper", "False", None),
    ]


def test_a_location_whose_fetch_failed_is_not_removed_nor_its_pools(tmp_path):
    raw = pair(
        tmp_path,
        {"pools": [pool("A", AUSTIN, "+15125550101"), pool("B", DALLAS, "+15125550102")]},
        {"pools": [pool("A", AUSTIN, "+15125550101")], "locations": (AUSTIN,), "failed": (DALLAS,)},
    )
    history = read_history(raw)
    assert changes(history).empty
    assert rows(changes(history, NEW, OLD)) == []  # nor added, the other way round


def test_changes_of_a_snapshot_with_itself_are_empty_and_the_two_directions_mirror(tmp_path):
    raw = pair(
        tmp_path,
        {
            "pools": [pool("A", AUSTIN, "+15125550101", "+15125550102"), pool("B", AUSTIN)],
            "locations": (AUSTIN,),
        },
        {
            "pools": [
                pool("A", AUSTIN, "+15125550102", isActive=False),
                pool("C", AUSTIN, "+15125550101"),
                pool("D", DALLAS),
            ]
        },
    )
    history = read_history(raw)
    same = changes(history, OLD, OLD)
    assert same.empty and list(same.columns) == list(CHANGES)
    forward, backward = changes(history, OLD, NEW), changes(history, NEW, OLD)
    # worked out by hand from the two snapshots above, each direction on its own
    assert sorted(rows(forward), key=repr) == sorted(
        [
            ("location_added", "L2", None, None, None, None, None),
            ("pool_removed", "L1", "B", None, None, None, None),
            ("pool_added", "L1", "C", None, None, None, None),
            ("setting_changed", "L1", "A", None, "is_active", "True", "False"),
            ("number_moved", "L1", "C", "+15125550101", "pool", "Pool A", "Pool C"),
        ],
        key=repr,
    )
    assert sorted(rows(backward), key=repr) == sorted(
        [
            ("location_removed", "L2", None, None, None, None, None),
            ("pool_added", "L1", "B", None, None, None, None),
            ("pool_removed", "L1", "C", None, None, None, None),
            ("setting_changed", "L1", "A", None, "is_active", "False", "True"),
            ("number_moved", "L1", "A", "+15125550101", "pool", "Pool C", "Pool A"),
        ],
        key=repr,
    )
    assert (forward["before"] == OLD).all() and (backward["before"] == NEW).all()


def test_columns_and_dtypes_are_fixed_and_one_snapshot_gives_no_changes(tmp_path):
    snapshot(tmp_path / "raw" / OLD, pool("A", AUSTIN), taken_at=WEEK1)
    one = changes(read_history(tmp_path / "raw"))
    assert one.empty
    assert {c: str(t) for c, t in one.dtypes.items()} == CHANGE_COLUMNS
    with pytest.raises(poolkit.errors.ConfigurationError, match="no snapshot 'nope'"):
        changes(read_history(tmp_path / "raw"), "nope", OLD)


def test_trend_counts_every_snapshot(tmp_path):
    raw = pair(
        tmp_path,
        {"pools": [pool("A", AUSTIN, "+15125550101", whisper=True, whisperMessage="Hi")]},
        {
            "pools": [
                pool("A", AUSTIN, "+15125550101", "+15125550102"),
                pool("B", DALLAS, "+15125550103", isActive=False),
            ]
        },
    )
    frame = trend(read_history(raw))
    assert list(frame["snapshot"]) == [OLD, NEW]
    assert frame[["locations", "pools", "active_pools", "numbers"]].values.tolist() == [
        [2, 1, 1, 1],
        [2, 2, 1, 3],
    ]
    assert frame["share_has_pool"].tolist() == [0.5, 1.0]
    # and from a dataset, the numbers counted from its metadata:
    out = tmp_path / "processed"
    poolkit.read_pools(raw).to_parquet(out)
    pd.testing.assert_frame_equal(trend(out), frame)
    assert frame["share_whisper"].tolist() == [0.5, 0.0]
    assert frame["share_active"].tolist() == [0.5, 0.5]


def test_a_dataset_grows_by_appending_and_reads_back_as_the_folders_do(tmp_path, capsys):
    raw = pair(
        tmp_path,
        {"pools": [pool("A", AUSTIN, "+15125550101")]},
        {"pools": [pool("A", AUSTIN, "+15125550102", extra="new field")]},
    )
    out = tmp_path / "processed"
    assert main(["tidy", str(raw / OLD), "--out", str(out)]) == 0
    first = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*.parquet")}
    assert main(["tidy", str(raw), "--out", str(out)]) == 0
    assert f"already in {out}, not added again: {OLD}" in capsys.readouterr().out
    assert len(pd.read_csv(out / "pools.csv")) == 2  # the CSVs hold both snapshots
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*.parquet")}
    assert {p: after[p] for p in first} == first and len(after) > len(first)  # not rewritten
    assert poolkit.dataset.dataset_snapshots(out) == [OLD, NEW]
    from_dataset, from_folders = read_history(out), read_history(raw)
    for name, frame in from_folders:
        got = getattr(from_dataset, name)
        columns = [c for c in frame.columns if c not in poolkit.schemas.SOURCE.values()]
        assert list(got["snapshot"].astype(str)) == list(frame["snapshot"].astype(str)), name
        pd.testing.assert_frame_equal(
            got[columns].astype(object), frame[columns].astype(object), check_dtype=False
        )
    gained = from_dataset.pools["extra"]  # a column the second snapshot brought
    assert gained.isna().tolist() == [True, False] and gained.iloc[1] == "new field"
    assert main(["tidy", str(raw), "--out", str(out)]) == 0
    assert "nothing new to add" in capsys.readouterr().out


def test_diff_on_the_command_line_from_folders_and_from_a_dataset(tmp_path, capsys):
    raw = pair(
        tmp_path,
        {"pools": [pool("A", AUSTIN, "+15125550101")]},
        {"pools": [pool("A", AUSTIN, "+15125550101", isActive=False)]},
    )
    assert main(["diff", str(raw / OLD), str(raw / NEW)]) == 0
    text = capsys.readouterr().out
    assert f"{OLD} -> {NEW}: 1 change" in text and "is_active: 'True' -> 'False'" in text
    out = tmp_path / "processed"
    assert main(["tidy", str(raw), "--out", str(out)]) == 0
    csv = tmp_path / "changes.csv"
    args = ["diff", OLD, NEW, "--dataset", str(out), "--format", "csv", "--out", str(csv)]
    assert main(args) == 0
    assert csv.read_text().splitlines()[1].endswith("setting_changed,is_active,True,False")
    assert main(["diff", OLD, "2026-01-01T000000Z", "--dataset", str(out)]) == 2
    assert main(["diff", str(raw / OLD), str(raw / OLD)]) == 2


def test_the_sample_has_three_snapshots_and_its_planted_changes():
    from poolkit.synthetic import HISTORY_CASES, SAMPLE, generate

    history = poolkit.load_sample(history=True)
    labels = snapshots_of(history)
    assert labels == ["2026-10-19T150000Z", "2026-10-26T150000Z", "2026-11-02T150000Z"]
    latest = poolkit.load_sample()
    assert len(history.pools[history.pools["snapshot"] == labels[-1]]) == len(latest.pools)
    ids = [location["id"] for location, _ in generate(SAMPLE)]
    last = changes(history)
    for kind in ("location_added", "pool_removed", "pool_added", "number_moved"):
        where = ids[HISTORY_CASES[kind]]
        assert where in set(last.loc[last["change"] == kind, "location_id"]), kind
    assert (last["change"] == "number_moved").sum() == 1
    first = changes(history, labels[0], labels[1])
    failed = ids[HISTORY_CASES["failed_in_middle"]]
    assert failed not in set(first["location_id"]) | set(last["location_id"])
    assert set(first["change"]) == {"number_added", "number_removed", "setting_changed"}


def test_a_folder_of_snapshots_loads_as_its_newest_and_its_history():
    from poolkit.loaders import load, load_history
    from poolkit.sample import samples_path

    newest = load(samples_path())
    assert repr(newest) == repr(poolkit.load_sample())  # not three weeks of rows
    assert snapshots_of(load_history(samples_path())) == snapshots_of(
        load_history(poolkit.sample_path())  # a snapshot folder: those before it, with it
    )
    assert snapshots_of(load_history(samples_path() / "2026-10-26T150000Z")) == [
        "2026-10-19T150000Z",
        "2026-10-26T150000Z",
    ]


def test_pools_without_ids_are_not_compared_and_a_number_in_one_is_not_moved(tmp_path):
    raw = pair(
        tmp_path,
        {"pools": [pool("A", AUSTIN, "+15125550101"), pool(None, AUSTIN, "+15125550102")]},
        {"pools": [pool(None, AUSTIN, "+15125550101"), pool(None, AUSTIN, "+15125550103")]},
    )
    # A is gone with its number (now in a pool without an id: a problem row, not a pool)
    assert rows(changes(read_history(raw))) == [
        ("pool_removed", "L1", "A", None, None, None, None),
        ("number_removed", "L1", "A", "+15125550101", None, None, None),
    ]


def test_an_appended_unknown_field_of_another_type_keeps_the_dataset_readable(tmp_path):
    raw = pair(
        tmp_path,
        {"pools": [pool("A", AUSTIN, extra=5)]},
        {"pools": [pool("A", AUSTIN, extra="five")]},
    )
    out = tmp_path / "processed"
    poolkit.read_pools(raw / OLD).to_parquet(out)
    poolkit.read_pools(raw / NEW).to_parquet(out, append=True)
    history = read_history(out)
    assert history.pools["extra"].tolist() == ["5", "five"]  # as text, both
    assert str(history.pools["extra"].dtype) == "string"


def test_two_folders_of_one_snapshot_name_are_an_error(tmp_path):
    snapshot(tmp_path / "raw" / "x", pool("A", AUSTIN), taken_at=WEEK1)
    snapshot(tmp_path / "raw" / "y", pool("A", AUSTIN), taken_at=WEEK1)
    with pytest.raises(poolkit.errors.ConfigurationError, match="are both snapshot"):
        read_history(tmp_path / "raw")
    one = read_history(tmp_path / "raw" / "x")
    assert changes(one).empty  # one snapshot: nothing to compare
    with pytest.raises(poolkit.errors.ConfigurationError, match="no snapshot before"):
        changes(one, after=OLD)


def test_a_dataset_older_than_the_inventory_reads_with_its_columns_empty(tmp_path):
    import json as json_module
    import shutil

    out = poolkit.load_sample().to_parquet(tmp_path / "old")
    shutil.rmtree(out / "phone_numbers")  # as a dataset written before the inventory
    marker = json_module.loads((out / "poolkit-dataset.json").read_text())
    del marker["tables"]["phone_numbers"]
    del marker["parts"]  # a marker of poolkit 0.x lists no parts: every part there counts
    spec = marker["tables"]["locations"]
    spec["columns"].remove("inventory")
    del spec["dtypes"]["inventory"]
    (out / "poolkit-dataset.json").write_text(json_module.dumps(marker))
    for part in (out / "locations").rglob("*.parquet"):
        import pyarrow.parquet as pq

        pq.write_table(pq.read_table(part).drop_columns(["inventory"]), part)
    tables = poolkit.read_dataset(out)
    assert tables.locations["inventory"].isna().all() and tables.phone_numbers.empty
    assert poolkit.analysis.inventory(tables).empty
    assert "missing-pool-number" not in set(poolkit.audit(tables)["rule"])


def test_found_by_fuzzing_a_snapshot_of_no_location_is_read(tmp_path):
    """make fuzz found it: pandas refused to join the empty counts of a snapshot whose
    manifest lists no location."""
    empty = write_snapshot(tmp_path / "raw" / OLD, [], taken_at=WEEK1)
    assert repr(poolkit.read_pools(empty)) == (
        "PoolTables(pools=0, numbers=0, services=0, problems=0, locations=0, phone_numbers=0)"
    )


def test_found_by_fuzzing_two_snapshots_with_no_pool_compare_to_no_change(tmp_path):
    """make fuzz found it: pandas cannot merge two Arrow columns that hold no chunk, so two
    snapshots without a pool (here the only location failed, then answered nothing) broke
    changes."""
    write_snapshot(tmp_path / "raw" / OLD, [(AUSTIN, None)], taken_at=WEEK1)
    write_snapshot(tmp_path / "raw" / NEW, [(AUSTIN, {"data": []})], taken_at=WEEK2)
    history = read_history(tmp_path / "raw")
    assert changes(history).empty
    assert trend(history)["locations_not_fetched"].tolist() == [1, 0]


def test_found_by_fuzzing_a_manifest_that_is_not_an_object_is_no_manifest(tmp_path):
    """make fuzz found it: a manifest.json holding a JSON list or string crashed the reader
    with an AttributeError, in both error modes."""
    folder = snapshot(tmp_path / "snap", pool("A", AUSTIN, "+15125550101"), locations=(AUSTIN,))
    (folder / "manifest.json").write_text("[1]")
    assert len(poolkit.read_pools(folder).pools) == 1
    (folder / "manifest.json").write_text('{"locations": 5}')
    assert len(poolkit.read_pools(folder, errors="record").pools) == 1
    entry = {"location_id": "L1", "file": [None], "inventory": 7, "inventory_pages": "x"}
    (folder / "manifest.json").write_text(json.dumps({"locations": [entry]}))  # a file not text
    assert len(poolkit.read_pools(folder, errors="record").pools) == 1


def test_a_history_keeps_every_service_type_of_each_snapshot_as_a_category(tmp_path):
    # the pools' and the held numbers' service types differ from week to week
    raw = tmp_path / "raw"
    for day, kind in ((19, "ivr"), (26, "webhook")):
        page = {
            "numbers": [
                {"phoneNumber": "+15125550199", "inboundCallService": {"type": kind, "value": "x"}}
            ],
            "page": 0,
        }
        folder = raw / f"2026-11-{day}T080000Z"
        write_snapshot(
            folder,
            [
                (
                    AUSTIN,
                    envelope(pool("A", AUSTIN, inboundCallService={"type": kind, "value": "x"})),
                )
            ],
            taken_at=datetime(2026, 11, day, 8, tzinfo=timezone.utc),
            inventory={"L1": [page]},
        )
    history = read_history(raw)
    for frame, column in (
        (history.pools, "service_type"),
        (history.phone_numbers, "number_service_type"),
    ):
        assert isinstance(frame[column].dtype, pd.CategoricalDtype), column
        assert frame[column].astype(str).tolist() == ["ivr", "webhook"], column
        assert {"ivr", "webhook"} <= set(frame[column].cat.categories), column


def test_the_busiest_location_is_a_story_not_a_new_pool():
    """Issue 30: 04's story picked a location that went from 0 pools to 1 (17 rows). Built
    by hand: A gained one pool of three numbers (one change), B had two settings switched
    (two changes), C was added (not a story): B is the story. With B's changes gone, A and
    D (a number moved) tie at one, and A comes first by name."""
    rows = [
        ("pool_added", "L1", "A", "p1", None),
        *[("number_added", "L1", "A", "p1", f"+1512555010{k}") for k in range(3)],
        ("setting_changed", "L2", "B", "p2", None),
        ("setting_changed", "L2", "B", "p2", None),
        ("location_added", "L3", "C", None, None),  # changes() lists no pools of it
        ("number_moved", "L4", "D", "p4", "+15125550109"),
    ]
    frame = pd.DataFrame(rows, columns=["change", "location_id", "location", "pool_id", "phone"])
    changes = frame.rename(columns={"phone": "phone_number"}).astype(
        {"change": poolkit.history.CHANGES["change"]}
    )
    assert poolkit.history.busiest_location(changes) == "B"
    assert poolkit.history.busiest_location(changes[changes["location"] != "B"]) == "A"
    assert poolkit.history.busiest_location(changes[changes["location"] == "C"]) is None
    # E: a pool without an id added, and two numbers added in a pool without an id: nothing
    # says it is the added one (pools without an id are told apart by nothing), so three
    # changes, more than B's two
    no_id = [
        ("pool_added", "L5", "E", None, None),
        ("number_added", "L5", "E", None, "+15125550110"),
        ("number_added", "L5", "E", None, "+15125550111"),
    ]
    more = pd.concat([frame, pd.DataFrame(no_id, columns=frame.columns)], ignore_index=True)
    more = more.rename(columns={"phone": "phone_number"}).astype(
        {"change": poolkit.history.CHANGES["change"]}
    )
    assert poolkit.history.busiest_location(more) == "E"
