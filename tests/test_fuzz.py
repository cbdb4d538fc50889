"""Fuzzing the stages after the reader: location details, pages of active numbers (both
shapes, broken pagination), and whole generated snapshots fed through the audit, the
changes between two of them, the trend, the inventory and cost, and the report's analysis.

``make test`` runs about 2,000 generated inputs with test_properties.py; ``make fuzz``
(``POOLKIT_FUZZ=1``) over 10,000. A failure prints the blob that replays it
(``@reproduce_failure``)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from test_properties import assert_documented_dtypes, json_values, maybe, phone, responses
from werkzeug import Response

import poolkit
from poolkit import analysis
from poolkit.findings import FINDING_DTYPES
from poolkit.history import CHANGES, changes, history_of_folders, trend
from poolkit.snapshot import LOCATION_FIELDS, location_fields, read_locations, write_locations
from poolkit.synthetic import write_snapshot
from poolkit.tables import newest

from robustness import examples, tally


def fuzz(usual: int, more: int) -> settings:
    """``usual`` examples (``more`` under ``make fuzz``), no deadline."""
    return settings(
        max_examples=examples(usual, more),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


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
    assert set(kept) <= set(LOCATION_FIELDS) and all(isinstance(v, str) for v in kept.values())
    with tempfile.TemporaryDirectory() as folder:
        write_locations(folder, {"x": dict(location, id="x")})
        back = read_locations(folder)
    assert back == {"x": location_fields(dict(location, id="x"))}


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


@fuzz(120, 500)
@given(
    pages=st.lists(page | st.binary(max_size=30), min_size=1, max_size=3),
    said=st.sampled_from(["ok", "unavailable: ForbiddenError", None]),
    count=st.integers(0, 4),
    body=responses(),
)
def test_pages_of_active_numbers_account_for_every_number(pages, said, count, body):
    """Pages of any shape (bytes that are not JSON too), a manifest that agrees or not: no
    exception, every number object a row, everything else a problem row naming its page."""
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
        assert len(tables.phone_numbers) == objects  # a row each, whatever its values
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
    repeat=st.booleans(),
    broken=st.sampled_from([None, "not json", "no numbers", "html"]),
)
def test_pagination_of_servers_that_misbehave_ends(
    server, monkeypatch, sizes, page_size, repeat, broken
):
    """A server whose pages are longer or shorter than asked, that repeats a page, or whose
    last page is broken: the pages are returned or a typed error raised, never a loop."""
    tally("generated paginations of active numbers")
    served = [
        [{"phoneNumber": f"+1512555{p:02d}{i:02d}"} for i in range(size)]
        for p, size in enumerate(sizes)
    ]

    def answer(request):
        index = int(request.args["page"])
        index = 0 if repeat else index
        if index >= len(served):
            if broken == "not json":
                return Response("oops", content_type="application/json")
            if broken == "html":
                return Response("<html>", status=502)
            if broken == "no numbers":
                return Response(json.dumps({"total": 0}), content_type="application/json")
        body = {"numbers": served[index] if index < len(served) else [], "pageSize": page_size}
        return Response(json.dumps(body), content_type="application/json")

    server.clear()
    server.expect_request("/phone-system/numbers/location/L1").respond_with_handler(answer)
    client = poolkit.Client("t", base_url=server.url_for(""), max_retries=0)
    try:
        pages = client.list_active_numbers("L1", page_size=page_size)
    except poolkit.PoolkitError:
        return
    got = [n for p in pages for n in p.json()["numbers"]]
    assert len(pages) <= len(served) + 1 and all(n in sum(served, []) for n in got)


location_ids = st.sampled_from(["L1", "L2", "L3"])


@st.composite
def snapshots(draw):
    """A snapshot's answers: for each of up to three locations, a response of any shape (a
    failed fetch too), details of any shape, and maybe pages of active numbers."""
    answers, inventory = [], {}
    for location_id in draw(st.lists(location_ids, unique=True, max_size=3)):
        body = draw(st.none() | responses())
        where = draw(details)
        answers.append(({**where, "id": location_id, "name": draw(texts)}, body))
        if body is not None and draw(st.booleans()):
            inventory[location_id] = draw(st.lists(page, max_size=2))
    return answers, inventory


@fuzz(30, 150)
@given(first=snapshots(), second=snapshots())
def test_every_stage_on_two_generated_snapshots(first, second):
    """Two snapshots of anything the API could answer: the audit and the changes keep their
    documented columns and dtypes, a snapshot compared with itself has no changes, and the
    two directions of a comparison mirror each other; the trend, the inventory and the
    report's analysis run."""
    tally("generated snapshot pairs through every stage")
    with tempfile.TemporaryDirectory() as root:
        folders = []
        for name, (answers, inventory) in zip(("2026-11-19", "2026-11-26"), (first, second)):
            folder = Path(root) / name
            taken = pd.Timestamp(f"{name}T08:00:00Z").to_pydatetime()
            folders.append(write_snapshot(folder, answers, inventory=inventory, taken_at=taken))
        history = history_of_folders(folders)
        labels = ["2026-11-19T080000Z", "2026-11-26T080000Z"]
        found = poolkit.audit(history)
        assert list(found.columns) == list(FINDING_DTYPES)
        assert all(found[c].dtype == t for c, t in FINDING_DTYPES.items())
        forward, backward = changes(history, *labels), changes(history, *labels[::-1])
        for frame in (forward, backward, changes(history, labels[0], labels[0])):
            assert list(frame.columns) == list(CHANGES)
            assert all(frame[c].dtype == t for c, t in CHANGES.items())
        assert changes(history, labels[1], labels[1]).empty
        assert mirrored(forward) == mirrored(backward, flip=True)
        assert len(trend(history)) == 2
        latest = newest(history)
        for table in (
            analysis.inventory(latest),
            analysis.monthly_cost(latest),
            analysis.numbers_per_pool(latest),
            analysis.service_mix(latest),
            analysis.feature_adoption_summary(latest),
            analysis.location_summary(latest),
            analysis.locations_without_pools(latest),
            analysis.problems_summary(latest),
        ):
            assert isinstance(table, pd.DataFrame)
        analysis.headline(latest)


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
