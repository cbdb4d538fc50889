"""The inventory: every page of a location's active numbers fetched from a real local server
and kept as received, read into the phone_numbers table, joined to the pools, counted and
costed; numbers refused (403) lose no pools."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import poolkit
from poolkit import analysis
from poolkit.cli import main

from conftest import AUSTIN, DALLAS, by_file_name, snapshot
from conftest import clean_pool as pool
from test_fetch import FakeHighLevel, serve


def held_number(number: str, **fields) -> dict:
    """A number as the active-numbers endpoint describes one."""
    return {
        "phoneNumber": number,
        "friendlyName": None,
        "sid": f"PN{number[1:]}",
        "countryCode": "US",
        "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
        "type": "local",
        "isDefaultNumber": False,
        "linkedUser": None,
        "linkedRingAllUsers": [],
        "inboundCallService": None,
        "forwardingNumber": None,
        "isGroupConversationEnabled": False,
        "dateAdded": "2023-01-15T10:30:00Z",
        "dateUpdated": "2023-02-01T08:00:00.000Z",
        "origin": "twilio",
        **fields,
    }


def many(count: int, start: int = 2_000_000) -> list[dict]:
    return [held_number(f"+1512{start + i:07d}") for i in range(count)]


def test_every_page_is_fetched_with_pool_numbers_included(env):
    fake = serve(env, FakeHighLevel(["BIG", "EMPTY", "NOPE"]))
    fake.held["BIG"] = many(2_345)
    fake.short_empty.add("EMPTY")
    fake.numbers_forbidden.add("NOPE")
    client = poolkit.Client()
    pages = client.list_active_numbers("BIG")
    assert [len(page.json()["numbers"]) for page in pages] == [1000, 1000, 345]
    assert [(r["page"], r["pageSize"], r["skipNumberPool"]) for r in fake.number_requests] == [
        ("0", "1000", "false"),
        ("1", "1000", "false"),
        ("2", "1000", "false"),
    ]
    assert [page.json() for page in client.list_active_numbers("EMPTY")] == [
        {"numbers": [], "total": 0}
    ]
    with pytest.raises(poolkit.errors.ForbiddenError):
        client.list_active_numbers("NOPE")


def test_a_full_last_page_asks_for_one_more_and_a_server_ignoring_page_is_caught(env):
    fake = serve(env, FakeHighLevel(["EXACT"]))
    fake.held["EXACT"] = many(2_000)
    pages = poolkit.Client().list_active_numbers("EXACT")
    assert [len(page.json()["numbers"]) for page in pages] == [1000, 1000, 0]
    fake.ignore_page.add("EXACT")
    with pytest.raises(poolkit.errors.InvalidResponseError, match="page 1 repeats page 0"):
        poolkit.Client().list_active_numbers("EXACT")


def test_found_by_fuzzing_a_server_that_cycles_through_its_pages_is_caught(env):
    """make fuzz found it: pages A, B, A, B... were fetched for ever (only a page repeating
    the one before was caught)."""
    fake = serve(env, FakeHighLevel(["CYCLE"]))
    fake.held["CYCLE"] = many(2)
    original = fake.numbers_page

    def cycling(request):
        from werkzeug import Request

        page = int(request.args["page"]) % 2
        return original(Request(dict(request.environ, QUERY_STRING=f"pageSize=1&page={page}")))

    fake.numbers_page = cycling
    with pytest.raises(poolkit.errors.InvalidResponseError, match="page 2 repeats page 0"):
        poolkit.Client().list_active_numbers("CYCLE", page_size=1)


def test_fetch_with_numbers_keeps_the_pages_as_received_and_a_403_loses_no_pool(env, tmp_path):
    fake = serve(env, FakeHighLevel(["L1", "L2", "L3"]))
    pool_numbers = ["+14155552671", "+18005550100"]  # the pools' numbers (tests/conftest.py)
    fake.held["L1"] = [held_number(n) for n in pool_numbers] + many(1_200)
    fake.short_empty.add("L2")
    fake.numbers_forbidden.add("L3")
    result = poolkit.fetch_pools(["L1", "L2", "L3"], out=tmp_path, numbers=True)
    folder = result.snapshot
    assert sorted(p.name for p in folder.glob("*.numbers.*")) == [
        "L1.numbers.0.json",
        "L1.numbers.1.json",
        "L2.numbers.0.json",
    ]
    # page 1 holds what the server sent after the first 1,000: the last 202 of its numbers
    assert json.loads((folder / "L1.numbers.1.json").read_text())["numbers"] == many(1_200)[998:]
    manifest = json.loads((folder / "manifest.json").read_text())
    inventory = {
        e["location_id"]: (e["inventory"], e["inventory_pages"]) for e in manifest["locations"]
    }
    assert inventory == {
        "L1": ("ok", 2),
        "L2": ("ok", 1),
        "L3": ("unavailable: ForbiddenError", None),
    }
    tables = result.tables
    assert sorted(tables.pools["location_id"].unique()) == ["L1", "L2", "L3"]  # L3's too
    assert list(result.failures["location_id"]) == ["L3"]
    assert result.failures["error"].iloc[0] == "ForbiddenError (active numbers)"
    assert len(tables.phone_numbers) == 1_202
    locations = tables.locations.set_index("location_id")["inventory"]
    assert locations.to_dict() == {"L1": "ok", "L2": "ok", "L3": "unavailable: ForbiddenError"}
    assert main(["fetch", "L1", "L3", "--numbers", "--out", str(tmp_path / "cli")]) == 1


def write_inventory(folder: Path, location: str, *pages: dict) -> None:
    for page, doc in enumerate(pages):
        (folder / f"{location}.numbers.{page}.json").write_text(json.dumps(doc))


def page(*numbers: dict, status: str = "active") -> dict:
    return {
        "numbers": list(numbers),
        "isUnderGhl": True,
        "pageSize": 1000,
        "page": 0,
        "accountStatus": status,
    }


@pytest.fixture
def held(tmp_path: Path) -> Path:
    """Austin: two pools (one inactive) and five numbers held, two in no pool (one
    forwarding, one answering nothing), a toll-free one, and one pool number not held.
    Dallas: its numbers refused. Each page as the endpoint sends it."""
    folder = snapshot(
        tmp_path / "snap",
        pool("A", AUSTIN, "+15125550101", "+15125550102", "+15125550109"),
        pool("B", AUSTIN, "+18005550103", isActive=False),
        pool("C", DALLAS, "+12145550104"),
    )
    write_inventory(
        folder,
        "L1",
        page(
            held_number("+15125550101", friendlyName="Main"),
            held_number("+15125550102", isDefaultNumber=True),
            held_number("+18005550103", type="toll-free"),
            held_number("+15125550105", forwardingNumber="+15125550148"),
            held_number("+15125550106"),
        ),
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["locations"]:
        entry["inventory"] = "ok" if entry["location_id"] == "L1" else "unavailable: ForbiddenError"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_phone_numbers_table_is_joined_to_the_pools(held):
    tables = poolkit.read_pools(held)
    phones = tables.phone_numbers
    assert list(phones.columns) == list(poolkit.schemas.SCHEMAS["phone_numbers"])
    assert phones[["phone_number", "in_pool", "pool_id"]].astype(object).where(
        phones[["phone_number", "in_pool", "pool_id"]].notna(), None
    ).values.tolist() == [
        ["+15125550101", True, "A"],
        ["+15125550102", True, "A"],
        ["+18005550103", True, "B"],
        ["+15125550105", False, None],
        ["+15125550106", False, None],
    ]
    first = phones.iloc[0]
    assert (first.number_friendly_name, first.sid, first.type, first.voice, first.mms) == (
        "Main",
        "PN15125550101",
        "local",
        True,
        False,
    )
    assert first.number_date_added == pd.Timestamp("2023-01-15T10:30:00Z")
    assert str(phones["number_date_updated"].dtype) == "datetime64[ns, UTC]"
    assert set(phones["account_status"]) == {"active"} and set(phones["location_id"]) == {"L1"}
    assert tables.problems.empty


def test_inventory_and_cost_agree_with_counts_made_by_hand(held):
    tables = poolkit.read_pools(held)
    pages = [json.loads(p.read_text()) for p in held.glob("L1.numbers.*.json")]
    numbers = [n for doc in pages for n in doc["numbers"]]
    pooled = {
        n["phoneNumber"]
        for pool_doc in json.loads((held / "L1.json").read_text())["data"]
        for n in pool_doc["numbers"]
    }
    by_hand = {
        "numbers": len(numbers),
        "in_pools": sum(n["phoneNumber"] in pooled for n in numbers),
        "unreachable": sum(
            n["phoneNumber"] not in pooled
            and not n["inboundCallService"]
            and not n["forwardingNumber"]
            for n in numbers
        ),
        "pool_numbers_missing": len(pooled - {n["phoneNumber"] for n in numbers}),
    }
    frame = analysis.inventory(tables).set_index("location_id")
    assert list(frame.index) == ["L1"]  # Dallas's numbers were refused: not counted as none
    row = frame.loc["L1"]
    assert (
        {k: int(row[k]) for k in by_hand}
        == by_hand
        == {
            "numbers": 5,
            "in_pools": 3,
            "unreachable": 1,
            "pool_numbers_missing": 1,
        }
    )
    assert int(row["not_in_pool"]) == 2
    cost = analysis.monthly_cost(tables).set_index("type")
    # four local numbers at $1.15 and a toll-free one at $2.15; idle: the toll-free one (in
    # inactive pool B) and +15125550106 (answering nothing)
    assert cost.loc["local", "numbers"] == 4 and cost.loc["local", "monthly_cost_cents"] == 460
    assert cost.loc["toll-free", "monthly_cost_cents"] == 215
    assert cost.loc["local", "idle_cost_cents"] == 115
    assert cost.loc["toll-free", "idle_numbers"] == 1
    dearer = analysis.monthly_cost(tables, rates={"local": 2.0, ("US", "toll-free"): "3.10"})
    dearer = dearer.set_index("type")["monthly_cost_cents"]
    assert dearer.to_dict() == {"local": 800, "toll-free": 310}
    unknown = analysis.monthly_cost(tables, rates={("US", "local"): None})
    assert unknown.set_index("type").loc["local", "unpriced"] == 4


def test_the_audit_rules_of_the_inventory(held):
    found = poolkit.audit(
        poolkit.read_pools(held),
        select=["unreachable-number", "missing-pool-number", "inactive-account"],
    )
    rows = found[["severity", "rule", "pool_id", "phone_number"]].astype(object)
    assert rows.where(rows.notna(), None).values.tolist() == [
        ["error", "missing-pool-number", "A", "+15125550109"],
        ["warning", "unreachable-number", None, "+15125550106"],  # not +15125550105: it forwards
    ]
    assert found["detail"].iloc[0] == (
        "+15125550109 is in 'Pool A' (Acme Dental - Austin) but not among the numbers the "
        "location holds: it may have been released, and calls to it reach no one."
    )


def test_a_suspended_account_and_bad_values_in_a_page(tmp_path):
    folder = snapshot(tmp_path / "snap", pool("A", AUSTIN, "+15125550101"), locations=(AUSTIN,))
    write_inventory(
        folder,
        "L1",
        page(
            held_number("+15125550101", capabilities={"voice": "yes"}),
            held_number("512-555-0107", dateAdded="last week"),
            "not a number",
            status="suspended",
        ),
    )
    tables = poolkit.read_pools(folder)
    problems = tables.problems[["path", "problem"]].values.tolist()
    assert problems == [
        ["numbers[0].capabilities.voice", "capabilities.voice: expected true or false"],
        ["numbers[1].phoneNumber", "phoneNumber: not an E.164 phone number"],
        [
            "numbers[1].dateAdded",
            "dateAdded: not an ISO 8601 date-time with a time zone, within years 1678-2261",
        ],
        ["numbers[2]", "a number that is not an object: no row"],
    ]
    assert len(tables.phone_numbers) == 2  # both objects kept, their bad values empty
    assert tables.phone_numbers["voice"].isna().iloc[0]
    found = poolkit.audit(tables, select=["inactive-account"])
    assert found["detail"].tolist() == [
        "The location's phone account is suspended: its 2 numbers may not take or make calls."
    ]


def test_phone_numbers_round_trip_through_parquet_and_csv(held, tmp_path):
    tables = poolkit.read_pools(held)
    back = poolkit.read_dataset(tables.to_parquet(tmp_path / "processed"))
    pd.testing.assert_frame_equal(
        back.phone_numbers.drop(columns="snapshot"), by_file_name(tables.phone_numbers)
    )
    tables.to_csv(tmp_path / "csv")
    csv = pd.read_csv(tmp_path / "csv" / "phone_numbers.csv")
    assert len(csv) == 5 and csv["in_pool"].tolist() == [True, True, True, False, False]


def test_resume_fetches_the_numbers_that_failed_and_only_those(env, tmp_path):
    fake = serve(env, FakeHighLevel(["L1", "L2"]))
    fake.held = {"L1": many(3), "L2": many(2, start=3_000_000)}
    fake.numbers_forbidden.add("L2")
    first = poolkit.fetch_pools(["L1", "L2"], out=tmp_path, numbers=True)
    assert list(first.failures["location_id"]) == ["L2"]
    fake.numbers_forbidden.clear()  # the scope granted
    fake.pool_requests.clear()
    fake.number_requests.clear()
    again = poolkit.fetch_pools(resume=first.snapshot)  # the snapshot asked for numbers
    assert again.failures.empty and again.snapshot == first.snapshot
    assert [r["location"] for r in fake.number_requests] == ["L2"]
    assert fake.pool_requests == []  # its pools were fetched: not again
    assert sorted(p.name for p in again.snapshot.glob("*.numbers.*")) == [
        "L1.numbers.0.json",
        "L2.numbers.0.json",
    ]
    assert len(again.tables.phone_numbers) == 5
    assert set(again.tables.locations["inventory"]) == {"ok"}


def test_pages_that_fail_or_are_missing_leave_the_inventory_incomplete(held):
    (held / "L1.numbers.1.json").write_text('{"numbers": [')  # cut short
    tables = poolkit.read_pools(held, errors="record")  # no exception: a problem row
    problem = tables.problems[tables.problems["source"].str.endswith("L1.numbers.1.json")]
    assert (
        problem["location_id"].tolist() == ["L1"] and "not valid JSON" in problem["problem"].iloc[0]
    )
    assert tables.locations.set_index("location_id").loc["L1", "inventory"] == "incomplete"
    assert analysis.inventory(tables).empty  # half an inventory is not set against pools
    assert poolkit.audit(tables, select=["missing-pool-number", "unreachable-number"]).empty
    with pytest.raises(poolkit.errors.InvalidJSONError):
        poolkit.read_pools(held, errors="raise")


def test_pages_left_by_an_earlier_fetch_do_not_count_when_the_manifest_says_refused(held):
    manifest = json.loads((held / "manifest.json").read_text())
    for entry in manifest["locations"]:
        entry["inventory"] = "unavailable: ForbiddenError"
    (held / "manifest.json").write_text(json.dumps(manifest))
    tables = poolkit.read_pools(held)
    assert len(tables.phone_numbers) == 5  # kept, nothing dropped, but not counted:
    assert set(tables.locations["inventory"]) == {"unavailable: ForbiddenError"}
    assert analysis.inventory(tables).empty and analysis.monthly_cost(tables).empty


def test_a_page_is_joined_to_the_pools_of_its_own_snapshot(tmp_path):
    from datetime import datetime, timezone

    snapshot(
        tmp_path / "raw" / "a",
        pool("A", AUSTIN, "+15125550101"),
        locations=(AUSTIN,),
        taken_at=datetime(2026, 11, 19, tzinfo=timezone.utc),
    )
    newer = snapshot(
        tmp_path / "raw" / "b",
        pool("A", AUSTIN),  # the number left the pool this week
        locations=(AUSTIN,),
        taken_at=datetime(2026, 11, 26, tzinfo=timezone.utc),
    )
    write_inventory(newer, "L1", page(held_number("+15125550101")))
    tables = poolkit.read_pools(tmp_path / "raw")  # both snapshots read together
    phones = tables.phone_numbers
    assert phones["in_pool"].tolist() == [False] and phones["pool_id"].isna().all()
    assert analysis.inventory(tables)["unreachable"].tolist() == [1]


def test_a_pool_without_an_id_still_holds_its_numbers(tmp_path):
    folder = snapshot(
        tmp_path / "snap",
        pool("A", AUSTIN, "+15125550101", id=None, isActive=False),
        pool("B", AUSTIN, "+15125550102"),
        locations=(AUSTIN,),
    )
    write_inventory(
        folder,
        "L1",
        page(
            held_number("+15125550101"),
            held_number("+15125550102"),
            held_number("+15125550103", forwardingNumber="+15125550148"),
        ),
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["locations"][0].update(inventory="ok", inventory_pages=1)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    tables = poolkit.read_pools(folder)
    assert tables.phone_numbers["in_pool"].tolist() == [True, True, False]
    row = analysis.inventory(tables).iloc[0]
    assert (row["in_pools"], row["unreachable"]) == (2, 0)
    # +15125550101 sits only in the inactive pool without an id: paid for and unused, idle;
    # +15125550102 is in the active pool B, which has a route; +15125550103 forwards
    cost = analysis.monthly_cost(tables)
    assert int(cost["idle_numbers"].sum()) == 1 and int(cost["idle_cost_cents"].sum()) == 115


def test_a_server_that_caps_the_page_size_is_paged_by_its_size(env):
    fake = serve(env, FakeHighLevel(["CAP"]))
    fake.held["CAP"] = many(120)
    original = fake.numbers_page

    def capped(request):  # serves 50 a page whatever is asked, and says so
        from werkzeug import Request

        environ = dict(request.environ, QUERY_STRING=f"pageSize=50&page={request.args['page']}")
        return original(Request(environ))

    fake.numbers_page = capped
    pages = poolkit.Client().list_active_numbers("CAP")
    assert [len(p.json()["numbers"]) for p in pages] == [50, 50, 20]


def test_cost_summary_adds_up_per_location_and_per_state_by_hand(tmp_path: Path):
    """Austin (TX) holds its pool number and a number in no pool that answers nothing
    ($1.15 idle); Dallas ("Texas") holds a toll-free number in no pool that forwards. By
    hand: Austin $2.30 ($1.15 idle), Dallas $2.15 (none idle), US-TX $4.45 ($1.15 idle)."""
    from poolkit.synthetic import write_snapshot

    def page(*numbers):
        return [{"numbers": list(numbers), "pageSize": 1000, "page": 0}]

    folder = write_snapshot(
        tmp_path / "s",
        [
            (AUSTIN, {"success": True, "data": [pool("A", AUSTIN, "+15125550101")], "total": 1}),
            (DALLAS, {"success": True, "data": [], "total": 0}),
        ],
        inventory={
            "L1": page(held_number("+15125550101"), held_number("+15125550102")),
            "L2": page(
                held_number("+18005550100", type="toll-free", forwardingNumber="+15125550148")
            ),
        },
    )
    tables = poolkit.read_pools(folder)
    per = analysis.cost_summary(tables).set_index("location_id")
    assert per.loc["L1", ["monthly_cost_cents", "idle_cost_cents"]].tolist() == [230, 115]
    assert per.loc["L2", ["monthly_cost_cents", "idle_cost_cents"]].tolist() == [215, 0]
    assert per["location"].tolist() == ["Acme Dental - Austin", "Bolt HVAC - Dallas"]
    by_state = analysis.cost_summary(tables, by="state_code")
    assert by_state.values.tolist() == [["US-TX", 3, 445, 1, 115]]
