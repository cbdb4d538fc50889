"""Fuzzing the stages after the reader: location details, pages of active numbers (both
shapes, broken pagination), and whole generated snapshots fed through the audit, the
changes between two of them, the trend, the inventory and cost, and the report's analysis.

``make test`` runs about 2,000 generated inputs with test_properties.py; ``make fuzz``
(``POOLKIT_FUZZ=1``) over 10,000. A failure prints the blob that replays it
(``@reproduce_failure``)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from test_properties import (
    assert_documented_dtypes,
    json_values,
    maybe,
    phone,
    pool_entries,
    responses,
)
from werkzeug import Response

import poolkit
from poolkit import analysis
from poolkit.history import changes, history_of_folders, trend
from poolkit.masking import masked
from poolkit.model import current
from poolkit.snapshot import LOCATION_FIELDS, location_fields, read_locations, write_locations
from poolkit.synthetic import write_snapshot

from conftest import CHANGE_COLUMNS, FINDING_COLUMNS
from robustness import fuzz, tally

texts = st.text(max_size=12)
details = st.dictionaries(
    st.sampled_from([*LOCATION_FIELDS, "email", "phone", "firstName", "address", "settings"]),
    json_values,
    max_size=9,
)


@fuzz(450, 4300)
@given(details)
def test_location_details_keep_text_only_and_no_contact_data(location):
    tally("generated location details")
    kept = location_fields(location)
    allowed = {"id", "name", "city", "state", "country", "postalCode", "timezone"}  # written out
    assert set(kept) <= allowed and all(isinstance(v, str) for v in kept.values())
    assert not {"email", "phone", "firstName", "address", "settings"} & set(kept)
    with tempfile.TemporaryDirectory() as folder:
        write_locations(folder, {"x": dict(location, id="x")})
        back = read_locations(folder)
    assert back == {
        "x": {
            k: v for k, v in dict(location, id="x").items() if k in allowed and isinstance(v, str)
        }
    }


@fuzz(75, 600)
@given(
    manifest=json_values
    | st.binary(max_size=40)
    | st.fixed_dictionaries(
        {
            "locations": json_values
            | st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "location_id": maybe(st.sampled_from(["L1", "L2"])),
                        "status": json_values,
                        "file": json_values,
                        "inventory": json_values,
                        "inventory_pages": json_values,
                    },
                ),
                max_size=3,
            )
        },
        optional={"snapshot": json_values},
    ),
    kept=json_values | st.binary(max_size=40),
    body=responses(),
)
def test_a_snapshot_whose_manifest_or_details_are_anything_reads(manifest, kept, body):
    """Any bytes or JSON as manifest.json and locations.json: record mode reads the pools all
    the same, raise mode raises nothing but poolkit's typed errors."""
    tally("generated manifests and locations.json")
    with tempfile.TemporaryDirectory() as folder:
        write_snapshot(folder, [({"id": "L1", "name": "Loc"}, body)])
        for name, doc in (("manifest.json", manifest), ("locations.json", kept)):
            raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
            (Path(folder) / name).write_bytes(raw)
        tables = poolkit.read_pools(folder, errors="record")
        assert_documented_dtypes(tables)
        try:
            poolkit.read_pools(folder)
        except poolkit.PoolkitError:
            pass


held_number = st.fixed_dictionaries(
    {"phoneNumber": maybe(phone)},
    optional={
        "friendlyName": maybe(texts),
        "sid": maybe(texts),
        "countryCode": maybe(st.sampled_from(["US", "CA", "GB"])),
        "type": maybe(st.sampled_from(["local", "toll-free", "mobile", "national"])),
        "capabilities": maybe(st.fixed_dictionaries({}, optional={"voice": maybe(st.booleans())})),
        "isDefaultNumber": maybe(st.booleans()),
        "inboundCallService": maybe(
            st.none() | st.fixed_dictionaries({"type": maybe(texts), "value": maybe(phone | texts)})
        ),
        "forwardingNumber": maybe(st.none() | phone),
        "dateAdded": maybe(st.sampled_from(["2023-01-15T10:30:00Z", "2023-01-15", "never"])),
        "origin": maybe(st.sampled_from(["twilio", "hosted", "ported"])),
    },
)
page = st.one_of(
    st.fixed_dictionaries(
        {
            "numbers": st.lists(st.one_of(held_number, held_number, json_values), max_size=6),
            "isUnderGhl": st.booleans(),
            "pageSize": st.just(1000),
            "page": st.integers(0, 3),
            "accountStatus": maybe(st.sampled_from(["active", "suspended", "closed"])),
        }
    ),
    st.just({"numbers": [], "total": 0}),  # the documented short shape
    json_values,  # not a page at all
)


def numbers_of(doc) -> list:
    return doc["numbers"] if isinstance(doc, dict) and isinstance(doc.get("numbers"), list) else []


@fuzz(60, 500)
@given(
    pages=st.lists(page | st.binary(max_size=30), min_size=1, max_size=3),
    said=st.sampled_from(["ok", "unavailable: ForbiddenError", None]),
    count=st.integers(0, 4),
    body=responses(),
)
def test_pages_of_active_numbers_account_for_every_number(pages, said, count, body):
    """Pages of any shape (bytes that are not JSON too), a manifest that agrees or not: no
    exception, every number object a row (a phoneNumber listed again: one row, and a problem
    row for the repeat), everything else a problem row naming its page."""
    tally("generated pages of active numbers")
    location = {"id": "L1", "name": "Loc"}
    if body is None:  # a location whose pools failed: its numbers are not asked for
        pages = []
    docs = [p for p in pages if not isinstance(p, bytes)]
    with tempfile.TemporaryDirectory() as folder:
        write_snapshot(folder, [(location, body)], inventory={"L1": docs})
        for index, raw in enumerate(p for p in pages if isinstance(p, bytes)):
            (Path(folder) / f"L1.numbers.{len(docs) + index}.json").write_bytes(raw)
        manifest = json.loads((Path(folder) / "manifest.json").read_text())
        manifest["locations"][0].update(inventory=said, inventory_pages=count)
        (Path(folder) / "manifest.json").write_text(json.dumps(manifest))
        tables = poolkit.read_pools(folder, errors="record")
        assert_documented_dtypes(tables)
        objects = sum(isinstance(n, dict) for doc in docs for n in numbers_of(doc))
        listed = [
            n["phoneNumber"]
            for doc in docs
            for n in numbers_of(doc)
            if isinstance(n, dict) and isinstance(n.get("phoneNumber"), str)
            if n["phoneNumber"].strip()
        ]
        repeats = len(listed) - len(set(listed))
        assert len(tables.phone_numbers) == objects - repeats  # a row each, whatever its values
        again = tables.problems["problem"].str.startswith("listed again").sum()
        assert again == repeats
        paths = set(tables.problems["path"])
        for doc in docs:
            for i, entry in enumerate(numbers_of(doc)):
                if not isinstance(entry, dict):
                    assert f"numbers[{i}]" in paths
        status = tables.locations.set_index("location_id")["inventory"].get("L1")
        assert pd.isna(status) or status in ("ok", "incomplete", "unavailable: ForbiddenError")
        analysis.inventory(tables)
        analysis.monthly_cost(tables)


@pytest.fixture(scope="module")
def server():
    with HTTPServer() as httpserver:
        yield httpserver


@fuzz(200, 1000)
@given(
    sizes=st.lists(st.integers(0, 12), min_size=1, max_size=5),
    page_size=st.integers(1, 6),
    advertised=st.none() | st.integers(1, 6),
    repeat=st.sampled_from([None, "same", "cycle"]),
    broken=st.sampled_from([None, "not json", "no numbers", "html"]),
)
def test_pagination_of_servers_that_misbehave_ends(
    server, sizes, page_size, advertised, repeat, broken
):
    """A server whose pages are longer or shorter than asked, that says another page size,
    repeats a page or cycles through them, or whose last page is broken: a well-behaved one
    gives every number once; any other the pages so far or a typed error, never a loop."""
    tally("generated paginations of active numbers")
    served = [
        [{"phoneNumber": f"+1512555{p:02d}{i:02d}"} for i in range(size)]
        for p, size in enumerate(sizes)
    ]
    asked = []

    def answer(request):
        index = int(request.args["page"])
        asked.append(index)
        assert len(asked) < 100, "the client does not stop"
        if repeat == "same":
            index = 0
        elif repeat == "cycle":
            index %= len(served)
        if index >= len(served) and broken == "not json":
            return Response("oops", content_type="application/json")
        if index >= len(served) and broken == "html":
            return Response("<html>", status=502)
        if index >= len(served) and broken == "no numbers":
            return Response(json.dumps({"total": 0}), content_type="application/json")
        body = {"numbers": served[index] if index < len(served) else []}
        if advertised is not None:
            body["pageSize"] = advertised
        return Response(json.dumps(body), content_type="application/json")

    server.clear()
    server.expect_request("/phone-system/numbers/location/L1").respond_with_handler(answer)
    client = poolkit.Client("t", base_url=server.url_for(""), max_retries=0)
    try:
        pages = client.list_active_numbers("L1", page_size=page_size)
    except poolkit.PoolkitError:
        return
    finally:
        assert len(asked) < 100
    got = [n["phoneNumber"] for p in pages for n in p.json()["numbers"]]
    size = advertised if advertised is not None and advertised < page_size else page_size
    if repeat is None and all(len(p) == size for p in served[:-1]):  # pages as documented
        expected = [n["phoneNumber"] for p in served for n in p]
        if len(served[-1]) < size:
            assert got == expected
        else:  # a full last page: one more is asked for, and it is empty or broken
            assert got == expected if broken is None else got[: len(expected)] == expected


location_ids = st.sampled_from(["L1", "L2", "L3"])
shared = st.sampled_from([f"+1512555{i:04d}" for i in range(12)])  # numbers pools share


@st.composite
def snapshots(draw):
    """A snapshot's answers: for each of up to three locations, a response (rarely a failed
    fetch), details of any shape, and maybe pages of active numbers; pools whose numbers come
    from a small shared set, so that numbers repeat and move."""
    answers, inventory = [], {}
    for location_id in draw(st.lists(location_ids, unique=True, max_size=3)):
        body = draw(st.one_of(responses(), responses(), responses(), st.none()))
        for pool in (body.get("data") if isinstance(body, dict) else None) or []:
            if isinstance(pool, dict) and draw(st.booleans()):
                pool["locationId"] = location_id
                pool["numbers"] = [{"phoneNumber": n} for n in draw(st.lists(shared, max_size=4))]
        where = draw(details)
        answers.append(({**where, "id": location_id, "name": draw(texts)}, body))
        if body is not None and draw(st.booleans()):
            inventory[location_id] = draw(st.lists(page, max_size=2))
    return answers, inventory


@st.composite
def next_week(draw, snapshot):
    """The same snapshot a week on: pools dropped, added or renamed, numbers moved between
    pools, settings flipped, a fetch failing."""
    answers, inventory = json.loads(json.dumps(snapshot))
    for index, (location, body) in enumerate(answers):
        entries = body.get("data") if isinstance(body, dict) else body
        entries = entries if isinstance(entries, list) else []
        pools = [p for p in entries if isinstance(p, dict)]
        for _ in range(draw(st.integers(0, 3))):
            change = draw(st.sampled_from(["drop", "add", "move", "flip", "rename", "fail"]))
            if change == "fail":
                answers[index] = (location, None)
                break
            if not pools:
                continue
            pool = draw(st.sampled_from(pools))
            if change == "drop":
                entries.remove(pool)
                pools.remove(pool)
            elif change == "add":
                entries.append(dict(pool, id=draw(texts), numbers=[]))
            elif change == "move" and isinstance(pool.get("numbers"), list) and pool["numbers"]:
                target = draw(st.sampled_from(pools))
                if isinstance(target.get("numbers"), list):
                    target["numbers"].append(pool["numbers"].pop())
            elif change == "flip":
                pool["isActive"] = not pool.get("isActive")
            elif change == "rename":
                pool["name"] = draw(texts)
    return answers, inventory


@st.composite
def pairs(draw):
    first = draw(snapshots())
    return first, draw(next_week(first)) if draw(st.integers(0, 4)) else draw(snapshots())


def documented(frame: pd.DataFrame, columns: dict) -> bool:
    return {c: str(t) for c, t in frame.dtypes.items()} == columns


@fuzz(6, 150)
@given(pair=pairs())
def test_every_stage_on_two_generated_snapshots(pair):
    """Two snapshots of anything the API could answer, the second most often the first a
    week on: every pool accounted for; the audit and the changes keep their documented
    columns and dtypes; a snapshot compared with itself has no changes, and the two
    directions of a comparison mirror each other; the trend, the inventory and the report's
    analysis run, on the history and on each snapshot as the report reads it."""
    tally("generated snapshot pairs through every stage")
    with tempfile.TemporaryDirectory() as root:
        folders = []
        for name, (answers, inventory) in zip(("2026-11-19", "2026-11-26"), pair):
            taken = pd.Timestamp(f"{name}T08:00:00Z").to_pydatetime()
            folder = write_snapshot(Path(root) / name, answers, inventory=inventory, taken_at=taken)
            folders.append(folder)
            one = poolkit.read_pools(folder, errors="record")
            answered = [b for _, b in answers if b is not None]
            assert len(one.pools) == sum(
                sum(isinstance(p, dict) for p in entries)
                for entries in map(pool_entries, answered)
                if entries is not None
            )
            assert documented(poolkit.audit(one), FINDING_COLUMNS)
            report_analysis(one)
        history = history_of_folders(folders)
        labels = ["2026-11-19T080000Z", "2026-11-26T080000Z"]
        assert documented(poolkit.audit(history), FINDING_COLUMNS)
        forward, backward = changes(history, *labels), changes(history, *labels[::-1])
        assert documented(forward, CHANGE_COLUMNS) and documented(backward, CHANGE_COLUMNS)
        for label in labels:
            assert changes(history, label, label).empty
        assert mirrored(forward) == mirrored(backward, flip=True)
        for kind in forward["change"].astype(str):
            event(f"change: {kind}")
        assert len(trend(history)) == 2
        report_analysis(current(history))


def report_analysis(tables) -> None:
    """What the report computes of a snapshot, each result checked against counts taken
    straight from the tables it was computed from, masked too."""
    pools, numbers, locations = tables.pools, tables.numbers, tables.locations
    answered = locations[locations["status"].astype(object) == "ok"]
    counts = analysis.headline(tables)
    assert (counts["pools"], counts["numbers"]) == (len(pools), len(numbers))
    assert counts["locations"] == answered["location_id"].nunique()
    assert counts["locations_with_pools"] + counts["locations_without_pools"] == counts["locations"]
    per_pool = analysis.numbers_per_pool(tables)
    assert len(per_pool) == len(pools) and per_pool["number_count"].fillna(0).sum() == sum(
        pools["number_count"].fillna(0)
    )
    mix = analysis.service_mix(tables)
    assert mix["pools"].sum() == len(pools)
    adoption = analysis.feature_adoption(tables)
    # every location that answered; a pool whose locationId names another location (one
    # that failed, say) is counted under the location it names
    named = set(pools["location_id"].dropna())
    assert (
        set(answered["location_id"])
        <= set(adoption["location_id"])
        <= set(answered["location_id"]) | named
    )
    summary = analysis.feature_adoption_summary(tables)
    assert (
        (summary["locations_using"] <= summary["locations"]) & summary["share"].between(0, 1)
    ).all()
    assert len(analysis.location_summary(tables)) == len(locations)
    without = analysis.locations_without_pools(tables)
    answered_without = without[without["status"].astype(object) == "ok"]
    assert not set(answered_without["location_id"]) & set(pools["location_id"].dropna())
    assert analysis.problems_summary(tables)["count"].sum() == len(tables.problems)
    assert analysis.region_summary(tables)["locations"].sum() == len(locations)
    assert len(analysis.adoption_by(tables)) == len(analysis.region_summary(tables))
    held = analysis.inventory(tables)
    assert (held["in_pools"] + held["not_in_pool"] == held["numbers"]).all()
    assert (held["unreachable"] <= held["not_in_pool"]).all()
    cost = analysis.monthly_cost(tables)
    assert (cost["idle_cost_cents"] <= cost["monthly_cost_cents"]).all()
    assert cost["numbers"].sum() == held["numbers"].sum()
    enriched = replace(tables, numbers=poolkit.enrich_numbers(numbers))
    assert analysis.number_kinds(enriched)["numbers"].sum() == len(numbers)
    assert analysis.numbers_by_area(enriched)["numbers"].sum() <= len(numbers)
    assert set(analysis.location_names(tables)) >= set(answered["location_id"].dropna())
    hidden = masked(tables)
    assert len(hidden.numbers) == len(numbers) and len(hidden.pools) == len(pools)


FLIP = {
    "location_added": "location_removed",
    "pool_added": "pool_removed",
    "number_added": "number_removed",
}
FLIP.update({new: old for old, new in FLIP.items()})


def mirrored(found: pd.DataFrame, flip: bool = False) -> list[tuple]:
    """The changes as sorted tuples; with ``flip``, as the other direction lists them (a
    moved number keyed by the pool it left rather than the one it joined)."""
    out = []
    for row in found.astype(object).where(found.notna(), None).itertuples(index=False):
        change, old, new, pool_id = str(row.change), row.old, row.new, row.pool_id
        if flip:
            change, old, new = FLIP.get(change, change), new, old
        if change == "number_moved":
            pool_id = None  # its pool is the new one: named by old and new, not compared
        out.append((change, row.location_id, pool_id, row.phone_number, row.field, old, new))
    return sorted(out, key=repr)
