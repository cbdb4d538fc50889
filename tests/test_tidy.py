"""read_pools: shapes accepted, columns and dtypes, record-level problems, file-level errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import poolkit
from poolkit.tidy import SCHEMAS, empty_tables

from conftest import DTYPE_OF_KIND, POOL, envelope, make_pool, write_json


def assert_schema(tables: poolkit.PoolTables) -> None:
    for name, frame in tables:
        schema = SCHEMAS[name]
        assert list(frame.columns[: len(schema)]) == list(schema), name
        for column, kind in schema.items():
            assert str(frame[column].dtype) == DTYPE_OF_KIND[kind], (
                name,
                column,
                frame[column].dtype,
            )


def problem_at(tables: poolkit.PoolTables, path: str) -> pd.Series:
    rows = tables.problems[tables.problems["path"] == path]
    assert len(rows) == 1, f"expected one problem at {path}, got:\n{tables.problems.to_string()}"
    return rows.iloc[0]


# ----------------------------------------------------------------------------- shapes


def test_documented_example_flattens_to_one_row_per_pool_and_number():
    tables = poolkit.read_pools(envelope(make_pool()))
    assert_schema(tables)
    pool = tables.pools.iloc[0]
    assert (pool.location_id, pool.pool_id, pool["pool_name"]) == (
        "loc123",
        "ve9EPM428h8vShlRW1KT",
        "Sales Team Pool",
    )
    assert pool.whisper and pool.call_recording and pool.is_active
    assert (pool.service_type, pool.service_value) == ("voice_ai", "68e381b296a83800a27cd1")
    assert pool.number_count == 2 and pool.pool_source == "<memory>"
    assert tables.numbers["phone_number"].tolist() == ["+14155552671", "+18005550100"]
    assert tables.numbers["position"].tolist() == [0, 1]
    assert tables.numbers["pool_id"].unique().tolist() == ["ve9EPM428h8vShlRW1KT"]
    assert tables.services[["pool_id", "service_type"]].values.tolist() == [
        ["ve9EPM428h8vShlRW1KT", "voice_ai"]
    ]
    assert tables.problems.empty


@pytest.mark.parametrize(
    "doc",
    [
        envelope(make_pool()),
        {"status": 200, "statusCode": 200, "message": "ok", "data": [make_pool()]},
        {"status": "success", "data": {"numberPools": [make_pool()]}},
        {"pools": [make_pool()]},
        [make_pool()],
    ],
    ids=["2021-07-28", "v3-wrapper", "v3-nested", "pools-key", "bare-list"],
)
def test_every_envelope_gives_the_same_tables(doc):
    tables = poolkit.read_pools(doc)
    reference = poolkit.read_pools(envelope(make_pool()))
    for name, frame in tables:
        pd.testing.assert_frame_equal(frame, getattr(reference, name))


def test_folder_is_read_recursively_in_sorted_order_and_rows_name_their_file(two_locations: Path):
    tables = poolkit.read_pools(two_locations)
    assert tables.pools["pool_id"].tolist() == ["ve9EPM428h8vShlRW1KT", "p2", "p3"]
    assert tables.pools["pool_source"].tolist() == [str(two_locations / "a.json")] * 2 + [
        str(two_locations / "sub" / "b.json")
    ]
    assert tables.numbers["number_source"].nunique() == 2
    # a pool with no service has no services row; number_count 0 for an empty list
    assert tables.services["pool_id"].tolist() == ["ve9EPM428h8vShlRW1KT", "p3"]
    assert tables.pools.set_index("pool_id").loc["p2", "number_count"] == 0


def test_glob_list_of_paths_and_manifest_skipped(two_locations: Path):
    (two_locations / "manifest.json").write_text(json.dumps({"snapshot": "x", "locations": []}))
    by_glob = poolkit.read_pools(str(two_locations / "**" / "*.json"))
    by_list = poolkit.read_pools([two_locations / "a.json", str(two_locations / "sub" / "b.json")])
    by_dir = poolkit.read_pools(two_locations)
    assert len(by_dir.pools) == 3 and by_dir.problems.empty  # manifest.json is not a response
    pd.testing.assert_frame_equal(by_list.pools, by_dir.pools)
    pd.testing.assert_frame_equal(by_glob.pools, by_dir.pools)


def test_list_of_parsed_responses_keeps_each_source():
    tables = poolkit.read_pools([envelope(make_pool()), envelope(make_pool(locationId="other"))])
    assert tables.pools["pool_source"].tolist() == ["<memory>[0]", "<memory>[1]"]


def test_empty_input_gives_empty_frames_with_the_documented_schema(tmp_path: Path):
    for tables in (poolkit.read_pools(tmp_path), poolkit.read_pools(envelope()), empty_tables()):
        assert all(frame.empty for _, frame in tables)
        assert_schema(tables)


def test_service_type_is_an_open_set_and_categorical():
    tables = poolkit.read_pools(
        envelope(
            make_pool(id="a", inboundCallService={"type": "workflow", "value": "w1"}),
            make_pool(id="b", inboundCallService=None),
        )
    )
    dtype = tables.pools["service_type"].dtype
    assert set(dtype.categories) == {"forward", "ivr", "voice_ai", "workflow"}
    assert tables.pools["service_type"].tolist()[0] == "workflow"
    assert pd.isna(tables.pools["service_type"].tolist()[1])


def test_unknown_fields_are_kept_as_columns_and_reported_once_per_field():
    tables = poolkit.read_pools(
        envelope(
            make_pool(id="a", dateAdded="2026-01-01", priority=3),
            make_pool(id="b", dateAdded="2026-02-01"),
            make_pool(
                id="c", numbers=[{"phoneNumber": "+14155550000", "friendlyName": "x", "sid": "PN1"}]
            ),
        )
    )
    assert tables.pools["date_added"].tolist()[:2] == ["2026-01-01", "2026-02-01"]
    assert str(tables.pools["date_added"].dtype) == "string"
    assert str(tables.pools["priority"].dtype) == "Int64"
    assert tables.numbers["sid"].dropna().tolist() == ["PN1"]
    fields = tables.problems["problem"].str.extract(r"unknown field '(\w+)'")[0].dropna().tolist()
    assert sorted(fields) == ["dateAdded", "priority", "sid"]
    assert problem_at(tables, "data[2].numbers[0].sid")["pool_id"] == "c"


# ------------------------------------------------------------------------ record-level problems


@pytest.mark.parametrize(
    "changes, path, column, words",
    [
        ({"id": None}, "data[0].id", "pool_id", "no id"),
        ({"id": 42}, "data[0].id", "pool_id", "is a number"),
        ({"locationId": None}, "data[0].locationId", "location_id", "no locationId"),
        ({"whisper": "yes"}, "data[0].whisper", "whisper", "expected true or false"),
        ({"callRecording": 1}, "data[0].callRecording", "call_recording", "expected true or false"),
        ({"isActive": "false"}, "data[0].isActive", "is_active", "expected true or false"),
        ({"name": ["x"]}, "data[0].name", "pool_name", "is a list"),
        (
            {"forwardingNumber": "415-555-2671"},
            "data[0].forwardingNumber",
            "forwarding_number",
            "not an E.164",
        ),
        (
            {"inboundCallService": "voice_ai"},
            "data[0].inboundCallService",
            "service_type",
            "expected an object or null",
        ),
        (
            {"inboundCallService": {"value": "x"}},
            "data[0].inboundCallService.type",
            "service_type",
            "no type",
        ),
        (
            {"numbers": {"phoneNumber": "+14155552671"}},
            "data[0].numbers",
            "number_count",
            "expected a list",
        ),
        ({"numbers": None}, "data[0].numbers", "number_count", "no numbers list"),
    ],
)
@pytest.mark.parametrize("given", ["in memory", "as a file"])
def test_a_bad_pool_field_becomes_na_with_a_problem_and_the_pool_stays(
    changes, path, column, words, given, tmp_path
):
    source = read_as(given, envelope(make_pool(**changes), make_pool(id="ok")), tmp_path)
    tables = poolkit.read_pools(source)
    assert len(tables.pools) == 2
    assert pd.isna(tables.pools[column].iloc[0])
    problem = problem_at(tables, path)
    assert words in problem["problem"]
    assert problem["source"] == str(source if given == "as a file" else "<memory>")
    assert_schema(tables)


def read_as(given: str, doc: dict, folder: Path):
    """The response itself, or the file it was written to (parsed JSON takes other checks)."""
    return doc if given == "in memory" else write_json(folder / "r.json", doc)


@pytest.mark.parametrize(
    "number, path, words",
    [
        (
            {"phoneNumber": "(415) 555-2671", "friendlyName": "a"},
            "data[0].numbers[1].phoneNumber",
            "not an E.164",
        ),
        (
            {"phoneNumber": "14155552671", "friendlyName": "a"},
            "data[0].numbers[1].phoneNumber",
            "not an E.164",
        ),
        (
            {"phoneNumber": 14155552671, "friendlyName": "a"},
            "data[0].numbers[1].phoneNumber",
            "is a number",
        ),
        ({"phoneNumber": None, "friendlyName": "a"}, "data[0].numbers[1].phoneNumber", "is null"),
        ({"friendlyName": "a"}, "data[0].numbers[1].phoneNumber", "no phoneNumber"),
        (
            {"phoneNumber": "+14155552671", "friendlyName": 7},
            "data[0].numbers[1].friendlyName",
            "is a number",
        ),
        ("+14155552671", "data[0].numbers[1]", "is a string, not an object"),
        (None, "data[0].numbers[1]", "is a null, not an object"),
    ],
)
@pytest.mark.parametrize("given", ["in memory", "as a file"])
def test_a_bad_number_keeps_its_row_with_na_and_a_problem_naming_the_json_path(
    number, path, words, given, tmp_path
):
    pool = make_pool(
        numbers=[
            {"phoneNumber": "+14155550001", "friendlyName": "first"},
            number,
            {"phoneNumber": "+14155550003", "friendlyName": "third"},
        ]
    )
    tables = poolkit.read_pools(read_as(given, envelope(make_pool(id="other"), pool), tmp_path))
    path = path.replace("data[0]", "data[1]")
    numbers = tables.numbers[tables.numbers["pool_id"] == POOL_ID]
    assert numbers["position"].tolist() == [0, 1, 2]
    assert (
        numbers["phone_number"].iloc[0] == "+14155550001"
        and numbers["phone_number"].iloc[2] == "+14155550003"
    )
    bad_column = "friendly_name" if path.endswith("friendlyName") else "phone_number"
    assert pd.isna(numbers[bad_column].iloc[1])
    problem = problem_at(tables, path)
    assert words in problem["problem"]
    assert (problem["location_id"], problem["pool_id"]) == ("loc123", POOL_ID)


POOL_ID = make_pool()["id"]


def test_missing_friendly_name_is_not_a_problem():
    tables = poolkit.read_pools(envelope(make_pool(numbers=[{"phoneNumber": "+14155550001"}])))
    assert tables.problems.empty and pd.isna(tables.numbers["friendly_name"].iloc[0])


def test_non_object_data_entries_and_duplicate_ids_and_total_mismatch():
    tables = poolkit.read_pools(envelope(make_pool(), "junk", 3, make_pool(), total=9))
    assert len(tables.pools) == 2  # both copies of the repeated id are kept
    assert "not an object" in problem_at(tables, "data[1]")["problem"]
    assert problem_at(tables, "data[2]")["value"] == "3"
    assert "repeated within location loc123" in problem_at(tables, "data[3].id")["problem"]
    assert "total says 9" in problem_at(tables, "total")["problem"]


def test_same_pool_id_in_two_locations_is_not_a_duplicate():
    tables = poolkit.read_pools(envelope(make_pool(), make_pool(locationId="elsewhere")))
    assert tables.problems.empty


# ----------------------------------------------------------------------------- file-level errors

BAD_FILES = {
    "not-json.json": (
        b'{"success": true, "data": [',
        poolkit.errors.InvalidJSONError,
        "not valid JSON",
    ),
    "error-401.json": (
        json.dumps(
            {
                "statusCode": 401,
                "message": "Invalid token: access token is invalid",
                "error": "Unauthorized",
            }
        ).encode(),
        poolkit.errors.ErrorResponseError,
        "401",
    ),
    "unsuccessful.json": (
        json.dumps({"success": False, "data": []}).encode(),
        poolkit.errors.ErrorResponseError,
        "success: false",
    ),
    "string.json": (b'"hello"', poolkit.errors.NotAPoolResponseError, "top-level JSON is a string"),
    "null.json": (
        b"null",
        poolkit.errors.NotAPoolResponseError,
        "top-level JSON is a null",
    ),  # crashed pyarrow 26
    "no-data.json": (b'{"locations": []}', poolkit.errors.NotAPoolResponseError, "no 'data' list"),
    "data-object.json": (
        b'{"data": {"id": 1}}',
        poolkit.errors.NotAPoolResponseError,
        "'data' is a object",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_raises_a_typed_error_naming_the_file(tmp_path: Path, name):
    raw, error, words = BAD_FILES[name]
    (tmp_path / name).write_bytes(raw)
    with pytest.raises(error) as caught:
        poolkit.read_pools(tmp_path / name)
    assert isinstance(caught.value, poolkit.PoolkitError)
    assert str(tmp_path / name) in str(caught.value) and words in str(caught.value)


def test_unreadable_and_missing_files_raise_with_the_file_name(tmp_path: Path):
    with pytest.raises(poolkit.errors.UnreadableSourceError, match="nope.json"):
        poolkit.read_pools(tmp_path / "nope.json")
    folder = tmp_path / "dir.json"
    folder.mkdir()
    (folder / "inner.json").write_text(json.dumps(envelope(make_pool())))
    assert len(poolkit.read_pools(folder).pools) == 1  # a folder named *.json is still a folder


def test_record_mode_keeps_every_good_file_and_records_each_bad_one(tmp_path: Path):
    for name, (raw, _, _) in BAD_FILES.items():
        (tmp_path / name).write_bytes(raw)
    write_json(tmp_path / "good.json", envelope(make_pool()))
    tables = poolkit.read_pools(tmp_path, errors="record")
    assert len(tables.pools) == 1 and tables.pools["pool_source"].iloc[0].endswith("good.json")
    recorded = set(Path(s).name for s in tables.problems["source"])
    assert recorded == set(BAD_FILES)
    with pytest.raises(poolkit.PoolkitError):
        poolkit.read_pools(tmp_path)


def test_errors_argument_is_checked():
    with pytest.raises(ValueError, match="errors must be"):
        poolkit.read_pools(envelope(), errors="ignore")
    with pytest.raises(TypeError, match="takes a path"):
        poolkit.read_pools(42)


# ----------------------------------------------------------------------------- tables


def test_repr_and_csv(tmp_path: Path):
    tables = poolkit.load_sample()
    assert (
        repr(tables)
        == "PoolTables(pools=163, numbers=1,611, services=105, problems=6, locations=46, "
        "phone_numbers=1,563)"
    )
    tables.to_csv(tmp_path / "csv")
    for name, frame in tables:
        assert len(pd.read_csv(tmp_path / "csv" / f"{name}.csv")) == len(frame)


# ----------------------------------------------------------------------------- reading files


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf" + json.dumps(envelope(make_pool())).encode(),  # a UTF-8 byte order mark
        b"  " + json.dumps(envelope(make_pool())).encode() + b"\r\n\r\n",  # white space around
        json.dumps(envelope(make_pool()), indent=3).encode(),  # pretty-printed
    ],
)
def test_byte_order_mark_and_white_space_change_nothing(raw, tmp_path: Path):
    (tmp_path / "r.json").write_bytes(raw)
    tables = poolkit.read_pools(tmp_path / "r.json")
    assert (
        tables.pools["pool_id"].tolist() == [POOL["id"]]
        and len(tables.numbers) == 2
        and tables.problems.empty
    )


def test_an_unreadable_file_among_good_ones(tmp_path: Path):
    for k in range(20):
        (tmp_path / f"{k:02d}.json").write_text(json.dumps(envelope(make_pool(id=f"p{k}"))))
    (tmp_path / "05-gone.json").symlink_to(tmp_path / "nowhere")
    with pytest.raises(poolkit.errors.UnreadableSourceError, match="05-gone.json.*No such file"):
        poolkit.read_pools(tmp_path)
    tables = poolkit.read_pools(tmp_path, errors="record")
    assert tables.pools["pool_id"].tolist() == [f"p{k}" for k in range(20)]
    assert tables.problems["source"].tolist() == [str(tmp_path / "05-gone.json")]


def test_a_response_bigger_than_a_chunk_and_problems_in_document_order(tmp_path: Path, monkeypatch):
    """Responses are never split between chunks; within a response, problems come in
    document order: the total, then pool by pool, then the numbers' columns."""
    import poolkit.tidy as tidy

    monkeypatch.setattr(tidy, "_CHUNK_BYTES", 4_000)
    (tmp_path / "a.json").write_text(json.dumps(envelope(make_pool(id="small", whisper=1))))
    numbers = [{"phoneNumber": f"+1415{i:07d}", "friendlyName": f"line {i}"} for i in range(5_000)]
    numbers[7]["phoneNumber"] = "415-555-0100"
    (tmp_path / "b.json").write_text(
        json.dumps(envelope(make_pool(numbers=numbers, name=5), make_pool(id=""), total=3))
    )
    tables = poolkit.read_pools(tmp_path)
    assert (
        len(tables.numbers) == 5_004
        and tables.numbers["phone_number"].iloc[5_001] == "+14150004999"
    )
    assert tables.problems["path"].tolist() == [
        "data[0].whisper",
        "total",
        "data[0].name",
        "data[1].id",
        "data[0].numbers[7].phoneNumber",
    ]
