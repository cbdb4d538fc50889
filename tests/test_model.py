"""The rules of the domain (poolkit.model), each checked on a small case worked out by hand:
one regression test per defect a review found when the same rule was written several ways."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pandas as pd
import pytest

import poolkit
from poolkit import analysis, model
from poolkit.history import changes, history_of_folders
from poolkit.notebook import load_report
from poolkit.synthetic import write_snapshot

from conftest import AUSTIN, DALLAS, envelope
from conftest import clean_pool as pool

WEEK1, WEEK2 = (datetime(2026, 11, d, 8, tzinfo=timezone.utc) for d in (19, 26))


def held(number: str, **fields) -> dict:
    """A local US number as the active-numbers endpoint lists it, answering nothing."""
    return {"phoneNumber": number, "countryCode": "US", "type": "local", **fields}


def page(*numbers: dict, status: str = "active") -> dict:
    return {"numbers": list(numbers), "pageSize": 1000, "page": 0, "accountStatus": status}


def found(tables, rule: str) -> list[tuple]:
    """(location, pool, number) of the findings of one rule, sorted."""
    rows = poolkit.audit(tables, select=[rule])
    return sorted(
        (r.location_id, r.pool_id, r.phone_number)
        for r in rows.astype(object).where(rows.notna(), None).itertuples()
    )


def test_a_misformed_forwarding_number_is_a_route_for_the_audit_and_for_the_cost(tmp_path):
    # one active pool, no service, forwarding to "(512) 555-0148": calls go somewhere
    forwards = pool("A", AUSTIN, "+15125550101", forwardingNumber="(512) 555-0148")
    forwards["inboundCallService"] = None
    folder = write_snapshot(
        tmp_path / "s",
        [(AUSTIN, envelope(forwards))],
        inventory={"L1": [page(held("+15125550101"))]},
    )
    tables = poolkit.read_pools(folder)
    assert found(tables, "active-pool-without-route") == []
    cost = analysis.monthly_cost(tables)
    assert (int(cost["idle_numbers"].sum()), int(cost["monthly_cost_cents"].sum())) == (0, 115)
    assert model.has_route(tables).tolist() == [True]
    # the same pool with no forwarding number at all: both say it goes nowhere
    forwards["forwardingNumber"] = ""
    folder = write_snapshot(
        tmp_path / "t",
        [(AUSTIN, envelope(forwards))],
        inventory={"L1": [page(held("+15125550101"))]},
    )
    tables = poolkit.read_pools(folder)
    assert found(tables, "active-pool-without-route") == [("L1", "A", None)]
    assert int(analysis.monthly_cost(tables)["idle_numbers"].sum()) == 1


def test_a_forwarding_number_written_otherwise_loops_like_the_same_service_value(tmp_path):
    by_forwarding = pool("A", AUSTIN, "+15125552671", forwardingNumber="(512) 555-2671")
    by_service = pool(
        "B",
        AUSTIN,
        "+15125552672",
        forwardingNumber="",
        inboundCallService={"type": "forward", "value": "(512) 555-2672"},
    )
    folder = write_snapshot(tmp_path / "s", [(AUSTIN, envelope(by_forwarding, by_service))])
    tables = poolkit.read_pools(folder)
    assert found(tables, "forwarding-loop") == [
        ("L1", "A", "+15125552671"),
        ("L1", "B", "+15125552672"),
    ]


def test_a_history_is_audited_as_its_newest_snapshot_only(tmp_path):
    # week 1: Dallas holds +15125550101; week 2: Dallas is gone, Austin holds the number
    raw = tmp_path / "raw"
    write_snapshot(
        raw / "a",
        [
            (AUSTIN, envelope(pool("A", AUSTIN))),
            (DALLAS, envelope(pool("D", DALLAS, "+15125550101"))),
        ],
        taken_at=WEEK1,
    )
    write_snapshot(
        raw / "b", [(AUSTIN, envelope(pool("A", AUSTIN, "+15125550101")))], taken_at=WEEK2
    )
    from_folder = poolkit.audit(poolkit.read_pools(raw))
    from_history = poolkit.audit(poolkit.read_history(raw))
    assert found(poolkit.read_history(raw), "duplicate-number") == []
    pd.testing.assert_frame_equal(from_folder, from_history)
    assert set(from_folder["location_id"]) <= {"L1"}  # Dallas is not in the newest snapshot


def test_a_page_that_is_not_a_numbers_page_leaves_the_inventory_unread(tmp_path):
    maintenance = {"statusCode": 200, "message": "maintenance"}
    folder = write_snapshot(
        tmp_path / "s",
        [(AUSTIN, envelope(pool("A", AUSTIN, "+15125550101")))],
        inventory={"L1": [maintenance]},
    )
    tables = poolkit.read_pools(folder, errors="record")
    assert tables.locations.set_index("location_id").loc["L1", "inventory"] == "incomplete"
    assert found(tables, "missing-pool-number") == []
    assert analysis.inventory(tables).empty
    assert "not an active-numbers page" in tables.problems["problem"].iloc[0]


def test_the_masked_report_counts_the_inventory_on_the_real_numbers(tmp_path):
    # +15125550101 and +15125550201 mask alike (+1 512 ***-**01): the second is in no pool
    folder = write_snapshot(
        tmp_path / "s",
        [(AUSTIN, envelope(pool("A", AUSTIN, "+15125550101")))],
        inventory={"L1": [page(held("+15125550101"), held("+15125550201"))]},
    )
    plain, masked = load_report(folder), load_report(folder, mask_numbers=True)
    for report in (plain, masked):
        row = report.held.iloc[0]
        assert (row["numbers"], row["in_pools"], row["unreachable"]) == (2, 1, 1)
        assert int(report.cost["idle_cost_cents"].sum()) == 115
    assert masked.shown(masked.tables.numbers)["phone_number"].tolist() == ["+1 512 ***-**01"]
    assert plain.shown(plain.tables.numbers)["phone_number"].tolist() == ["+15125550101"]


def test_a_number_moved_into_a_renamed_pool_names_each_pool_as_it_was_then(tmp_path):
    # week 1: +15125550101 in A "Old A"; week 2: A renamed "Old A" -> "New A", number in B
    week1 = [pool("A", AUSTIN, "+15125550101", name="Old A"), pool("B", AUSTIN, name="Old B")]
    week2 = [pool("A", AUSTIN, name="New A"), pool("B", AUSTIN, "+15125550101", name="New B")]
    folders = [
        write_snapshot(tmp_path / "a", [(AUSTIN, envelope(*week1))], taken_at=WEEK1),
        write_snapshot(tmp_path / "b", [(AUSTIN, envelope(*week2))], taken_at=WEEK2),
    ]
    history = history_of_folders(folders)
    labels = ["2026-11-19T080000Z", "2026-11-26T080000Z"]

    def moved(before, after):
        rows = changes(history, before, after)
        return rows[rows["change"] == "number_moved"][["pool_id", "old", "new"]].values.tolist()

    assert moved(*labels) == [["B", "Old A", "New B"]]
    assert moved(*labels[::-1]) == [["A", "New B", "Old A"]]


def test_an_inventory_number_not_in_e164_is_not_called_a_pool_number(tmp_path):
    folder = write_snapshot(
        tmp_path / "s",
        [(AUSTIN, envelope(pool("A", AUSTIN, "+15125550101")))],
        inventory={"L1": [page(held("+15125550101"), held("512-555-0199"))]},
    )
    tables = poolkit.read_pools(folder, errors="record")
    assert found(tables, "invalid-number") == []
    assert "numbers[1].phoneNumber" in tables.problems["path"].tolist()  # a contract problem


def test_two_pools_without_ids_that_share_a_number_are_two_pools(tmp_path):
    first, second = (pool(None, AUSTIN, "+15125550101", name=n) for n in ("First", "Second"))
    folder = write_snapshot(tmp_path / "s", [(AUSTIN, envelope(first, second))])
    findings = poolkit.audit(
        poolkit.read_pools(folder, errors="record"), select=["duplicate-number"]
    )
    assert len(findings) == 2
    assert (
        findings["detail"].tolist()
        == [
            "+15125550101 is in 2 pools: 'First' (Acme Dental - Austin), "
            "'Second' (Acme Dental - Austin)"
        ]
        * 2
    )
    nameless = [dict(first, name=None), dict(second, name=None)]
    folder = write_snapshot(tmp_path / "t", [(AUSTIN, envelope(*nameless))])
    findings = poolkit.audit(
        poolkit.read_pools(folder, errors="record"), select=["duplicate-number"]
    )
    assert len(findings) == 2 and "?" not in findings["detail"].iloc[0]
    assert "a pool without an id (Acme Dental - Austin)" in findings["detail"].iloc[0]


def test_a_service_type_called_none_is_a_type_of_its_own():
    typed = pool("A", AUSTIN, inboundCallService={"type": "none", "value": "x"})
    bare = pool("B", AUSTIN, inboundCallService=None)
    mix = analysis.service_mix(poolkit.read_pools(envelope(typed, bare)))
    assert dict(zip(mix["service_type"].astype(str), mix["pools"])) == {"none": 1, "(none)": 1}


def test_money_is_counted_in_whole_cents():
    assert [model.cents(v) for v in (1.15, "2.15", Decimal("0.105"), 3)] == [115, 215, 11, 300]
    assert model.dollars(190945) == "$1,909.45" and model.dollars(5) == "$0.05"
    with pytest.raises(ValueError):
        model.cents("NaN")


def test_the_cost_of_many_numbers_adds_up_to_the_cent(tmp_path):
    numbers = [held(f"+1512555{i:04d}") for i in range(403)]
    folder = write_snapshot(
        tmp_path / "s", [(AUSTIN, envelope(pool("A", AUSTIN)))], inventory={"L1": [page(*numbers)]}
    )
    cost = analysis.monthly_cost(poolkit.read_pools(folder))
    assert pd.api.types.is_integer_dtype(cost["monthly_cost_cents"])  # never a float to round
    total = int(cost["monthly_cost_cents"].sum())
    assert (total, model.dollars(total)) == (46345, "$463.45")  # 403 x $1.15, by hand


def test_the_current_state_drops_locations_gone_from_the_newest_snapshot(tmp_path):
    raw = tmp_path / "raw"
    write_snapshot(raw / "a", [(AUSTIN, envelope()), (DALLAS, envelope())], taken_at=WEEK1)
    write_snapshot(raw / "b", [(AUSTIN, envelope())], taken_at=WEEK2)
    for tables in (poolkit.read_pools(raw), poolkit.read_history(raw)):
        now = model.current(tables)
        assert now.locations["location_id"].tolist() == ["L1"]
        assert "snapshot" not in now.locations


def test_loose_responses_in_subfolders_are_one_state_not_several_snapshots(tmp_path):
    # found by review: a.json at the top and sub/b.json below, no manifest: both locations
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.json").write_text(json.dumps(envelope(pool("A", AUSTIN, "+15125550101"))))
    (tmp_path / "sub" / "b.json").write_text(json.dumps(envelope(pool("D", DALLAS))))
    tables = model.current(poolkit.read_pools(tmp_path))
    assert sorted(tables.pools["location_id"]) == ["L1", "L2"]


def test_a_blank_service_type_is_no_service(tmp_path):
    # an active pool whose service says only "  ": no service, so no route and no service value
    blank_type = pool("A", AUSTIN, "+15125550101", forwardingNumber="")
    blank_type["inboundCallService"] = {"type": "  ", "value": ""}
    tables = poolkit.read_pools(write_snapshot(tmp_path / "s", [(AUSTIN, envelope(blank_type))]))
    assert model.has_service(tables.pools["service_type"]).tolist() == [False]
    assert "is blank" in tables.problems["problem"].iloc[0]
    # the rule itself, on types the reader did not clean (a table put together by hand)
    for types in (
        pd.Series(["  ", "ivr", None, "", "none"], dtype="category"),
        pd.Series(["  ", "ivr", None, "", "none"], dtype="string"),
    ):
        assert model.has_service(types).tolist() == [False, True, False, False, True]
    assert len(tables.services) == 0
    assert found(tables, "active-pool-without-route") == [("L1", "A", None)]
    assert found(tables, "empty-service-value") == []
    assert tables.problems["path"].str.endswith("inboundCallService.type").sum() == 1


def test_a_loop_to_a_number_two_pools_hold_is_one_finding_naming_both(tmp_path):
    # pool A forwards to +15125550102, which pool A and pool B both list: one setting to fix
    a = pool("A", AUSTIN, "+15125550101", "+15125550102", forwardingNumber="+15125550102")
    b = pool("B", AUSTIN, "+15125550102", name="Second")
    tables = poolkit.read_pools(write_snapshot(tmp_path / "s", [(AUSTIN, envelope(a, b))]))
    loops = poolkit.audit(tables, select=["forwarding-loop"])
    assert loops["pool_id"].tolist() == ["A"]
    detail = loops["detail"].iloc[0]
    assert "one of its own numbers and a number of pool 'Second'" in detail


def test_a_location_with_no_page_of_numbers_has_no_inventory_read(tmp_path):
    # its pool holds a number: read as an empty inventory, the number would be "missing"
    folder = write_snapshot(
        tmp_path / "s",
        [(AUSTIN, envelope(pool("A", AUSTIN, "+15125550101")))],
        inventory={"L1": []},
    )
    tables = poolkit.read_pools(folder)
    assert list(model.inventory_read(tables)) == []
    assert found(tables, "missing-pool-number") == []
    assert model.missing_pool_numbers(tables).empty


def test_a_pool_is_shown_by_its_name_else_its_id():
    pools = pd.DataFrame(
        {
            "location_id": ["L1", "L1", "L1", "L1"],
            "pool_id": ["A", "B", "C", None],
            "pool_name": ["Sales", "  ", None, None],
        },
        dtype="string",
    )
    assert model.pool_shown(pools).tolist() == ["Sales", "B", "C", pd.NA]
    assert model.pool_title(pools).tolist() == ["'Sales'", "'B'", "'C'", "a pool without an id"]
    assert model.pool_title(pools, start=True).iloc[3] == "A pool without an id"
    keys = pd.DataFrame({"location_id": ["L1", "L1", "L2"], "pool_id": ["B", "Z", "A"]})
    assert model.pool_names(pools, keys).tolist() == ["B", pd.NA, pd.NA]
    tables = poolkit.PoolTables(
        pools=pools, numbers=pd.DataFrame(), services=pd.DataFrame(), problems=pd.DataFrame()
    )
    assert model.pool_labels(tables, [0, -1, 3], {"L1": "Austin"}).tolist() == [
        "'Sales' (Austin)",
        "a pool not in the data",
        "a pool without an id (Austin)",
    ]


def test_two_pools_without_an_id_missing_a_number_stay_two_when_rows_are_joined(tmp_path):
    # L1: two id-less pools both list +15125550101, which its inventory does not hold. L2's
    # numbers were filtered by hand, so the tables no longer line up as the reader wrote them
    first = pool("A", AUSTIN, "+15125550101", "+15125550102")
    second = pool("B", AUSTIN, "+15125550101")
    for anonymous in (first, second):
        del anonymous["id"]
    folder = write_snapshot(
        tmp_path / "s",
        [
            (AUSTIN, envelope(first, second)),
            (DALLAS, envelope(pool("D", DALLAS, "+12145550101", "+12145550102"))),
        ],
        inventory={"L1": [page(held("+15125550102"))], "L2": [page(held("+12145550101"))]},
    )
    tables = poolkit.read_pools(folder)
    tables.numbers = tables.numbers[tables.numbers["phone_number"] != "+12145550102"]
    tables.numbers = tables.numbers.reset_index(drop=True)
    assert model.pool_rows(tables).tolist() == [0, 0, 1, 2]  # L1's by their file, L2's joined
    missing = model.missing_pool_numbers(tables)
    assert sorted(missing["pool_row"].tolist()) == [0, 1]
    assert set(missing["phone_number"]) == {"+15125550101"}


def test_a_loop_in_a_pool_repeated_whole_names_no_other_pool(tmp_path):
    # the response lists pool A twice; A forwards to one of its own numbers: one pool, one
    # finding, and no "number of pool 'Pool A'" as if the repeat were another pool
    looping = pool("A", AUSTIN, "+15125550101", forwardingNumber="+15125550101")
    folder = write_snapshot(tmp_path / "s", [(AUSTIN, envelope(looping, dict(looping)))])
    loops = poolkit.audit(poolkit.read_pools(folder), select=["forwarding-loop"])
    assert loops["detail"].tolist() == [
        "The forwarding number of 'Pool A' is +15125550101, one of its own numbers: its calls "
        "come straight back in."
    ]
