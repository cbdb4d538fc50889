"""poolkit against the plain reference (tests/reference.py) on generated snapshots.

Hypothesis builds agencies of a few locations and their next week: pools renamed, removed and
added, numbers moved, settings switched, locations removed, added and failing, forwarding
numbers written in national form (which the reader sets aside), pages of active numbers that
are not pages, pools without ids, numbers shared between pools. poolkit must give the same
headline, adoption, findings, changes, inventory and cost as the reference on every one."""

from __future__ import annotations

import copy
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import poolkit
from poolkit import analysis
from poolkit.model import current
from poolkit.synthetic import write_snapshot

import reference
from pages import marks, render
from robustness import fuzz, tally

WEEKS = [datetime(2026, 11, d, 8, tzinfo=timezone.utc) for d in (19, 26)]
LABELS = ["2026-11-19T080000Z", "2026-11-26T080000Z"]

POOL_NUMBERS = [f"+1512555{i:04d}" for i in range(101, 107)]
OUTSIDE = "+15125550148"  # a number no pool holds
ALIKE = "+15125559101"  # masks as POOL_NUMBERS[0] does: +1 512 ***-**01
TOLL_FREE = "+18005550100"
SHORT = "+1512555010"  # E.164 in form, not a valid number
NATIONAL = ["(512) 555-0102", "512.555.0105", "(512) 555-0148"]  # set aside by the reader

pool_number = st.sampled_from([*POOL_NUMBERS, *POOL_NUMBERS, ALIKE, SHORT, "(512) 555-0103"])
forwarding = st.sampled_from(["", None, "  ", OUTSIDE, OUTSIDE, SHORT, *NATIONAL, *POOL_NUMBERS])
services = st.sampled_from(
    [
        None,
        {"type": "voice_ai", "value": "agent-1"},
        {"type": "voice_ai", "value": "agent-2"},
        {"type": "ivr", "value": ""},
        {"type": "forward", "value": POOL_NUMBERS[3]},
        {"type": "forward", "value": "(512) 555-0105"},
        {"type": "forward", "value": OUTSIDE},
        {"type": "forward", "value": "nope"},
        {"type": "none", "value": "x"},
        {"type": "  ", "value": "agent-1"},  # a blank type: no service
        {"value": "agent-1"},  # no type: no service
    ]
)
flags = st.sampled_from([True, False, True, False, None, "yes"])
places = st.sampled_from(
    [("TX", "US"), ("Texas", "US"), ("CA", "US"), ("California", "US"), ("IL", "US")]
    + [("FL", None), (None, "US"), ("ON", "CA"), (None, None)]
)


@st.composite
def pools(draw, location_id: str) -> list[dict]:
    ids = draw(st.lists(st.sampled_from(["A", "B", "C", None, ""]), max_size=3))
    named = [i for i in ids if i]
    if len(named) != len(set(named)):  # a pool id is unique within a location
        ids = list(dict.fromkeys(named)) + [i for i in ids if not i]
    return [
        {
            "id": pool_id,
            "name": draw(st.sampled_from([f"Pool {pool_id}", "Sales", None, "", "  "])),
            "locationId": location_id,
            "numbers": [
                {"phoneNumber": n, "friendlyName": "line"}
                for n in draw(st.lists(pool_number, max_size=3))
            ],
            "forwardingNumber": draw(forwarding),
            "whisper": draw(flags),
            "whisperMessage": draw(st.sampled_from(["", "Hi", "Sales line", None, " "])),
            "callRecording": draw(flags),
            "isActive": draw(st.sampled_from([True, True, False, None])),
            "inboundCallService": draw(services),
        }
        for pool_id in ids
    ]


def without_location_ids(draw, data: list[dict]) -> None:
    """One pool in five loses its locationId (it stays in its location's file)."""
    for pool in data:
        if not draw(st.integers(0, 4)):
            del pool["locationId"]


@st.composite
def pages(draw) -> list[dict] | str | None:
    kind = draw(
        st.sampled_from(["none", "refused", "read", "read", "read", "not a page", "no page"])
    )
    if kind == "none":
        return None
    if kind == "refused":
        return "unavailable: ForbiddenError"
    if kind == "no page":
        return []
    numbers = draw(  # a number not in E.164 form too: held, paid for, in no pool
        st.lists(
            st.sampled_from([*POOL_NUMBERS, OUTSIDE, TOLL_FREE, ALIKE, "(512) 555-0101"]),
            unique=True,
            max_size=6,
        )
    )
    if numbers and not draw(st.integers(0, 5)):  # one in six lists a number twice
        numbers.insert(draw(st.integers(0, len(numbers))), draw(st.sampled_from(numbers)))
    status = draw(st.sampled_from(["active", "active", "suspended", None]))
    items = []
    for number in numbers:
        item = {
            "phoneNumber": number,
            "countryCode": draw(st.sampled_from(["US", "US", "GB"])),
            "type": "toll-free"
            if number == TOLL_FREE
            else draw(st.sampled_from(["local", "local", "local", "mobile", "national"])),
        }
        answer = draw(st.sampled_from(["nothing", "nothing", "forwarding", "service"]))
        if answer == "forwarding":
            item["forwardingNumber"] = OUTSIDE
        elif answer == "service":
            item["inboundCallService"] = {"type": "voice_ai", "value": "agent-1"}
        items.append(item)
    split = draw(st.integers(0, len(items)))
    docs = [items[:split], items[split:]] if draw(st.booleans()) else [items]
    out = [{"numbers": d, "pageSize": 1000, "page": k} for k, d in enumerate(docs)]
    for doc in out:
        if status is not None:
            doc["accountStatus"] = status
    if kind == "not a page":
        out.insert(draw(st.integers(0, len(out))), {"statusCode": 200, "message": "maintenance"})
    return out


@st.composite
def locations(draw, location_id: str) -> dict:
    state, country = draw(places)
    body = None
    if draw(st.integers(0, 5)):  # one in six fails
        data = draw(pools(location_id))
        without_location_ids(draw, data)
        if data and not draw(st.integers(0, 7)):  # one in eight lists a pool twice, whole
            data.append(copy.deepcopy(draw(st.sampled_from(data))))
        body = {"success": True, "data": data, "total": len(data)}
    return {
        "location": {"id": location_id, "name": f"Clinic {location_id}", "state": state}
        | {"country": country},
        "body": body,
        "pages": draw(pages()) if body is not None else None,
    }


@st.composite
def snapshots(draw) -> list[dict]:
    ids = draw(
        st.lists(st.sampled_from(["L1", "L2", "L3", "L4"]), unique=True, min_size=1, max_size=4)
    )
    return [draw(locations(i)) for i in sorted(ids)]


@st.composite
def next_week(draw, snapshot: list[dict]) -> list[dict]:
    """The same agency a week on."""
    week = copy.deepcopy(snapshot)
    for _ in range(draw(st.integers(0, 4))):
        change = draw(
            st.sampled_from(["rename", "move", "drop", "add", "switch", "fail", "gone", "new"])
        )
        if change == "new":
            ids = {e["location"]["id"] for e in week}
            fresh = [i for i in ("L1", "L2", "L3", "L4") if i not in ids]
            if fresh:
                week.append(draw(locations(fresh[0])))
            continue
        if not week:
            continue
        entry = draw(st.sampled_from(week))
        if change == "gone" and len(week) > 1:  # an agency of no location is no agency
            week.remove(entry)
            continue
        if change == "fail":
            entry["body"], entry["pages"] = None, None
            continue
        data = entry["body"]["data"] if entry["body"] else None
        if data is None:
            continue
        if change == "add":
            ids = {p["id"] for p in data}
            fresh = [i for i in ("A", "B", "C", "D", None) if i not in ids]
            data.extend(draw(pools(entry["location"]["id"]))[:1])
            if data and fresh:
                data[-1]["id"] = fresh[0]
            continue
        if not data:
            continue
        pool = draw(st.sampled_from(data))
        if change == "rename":
            pool["name"] = draw(st.sampled_from(["Renamed", None, "Sales"]))
        elif change == "drop":
            data.remove(pool)
        elif change == "move" and pool["numbers"]:
            target = draw(st.sampled_from(data))
            target["numbers"].append(pool["numbers"].pop())
        elif change == "switch":
            field = draw(
                st.sampled_from(["isActive", "whisper", "forwardingNumber", "inboundCallService"])
            )
            pool[field] = draw(
                {"forwardingNumber": forwarding, "inboundCallService": services}.get(field, flags)
            )
        entry["body"]["total"] = len(data)
    for entry in week:  # a pool listed twice stays listed twice whole (README: one pool)
        data = entry["body"]["data"] if entry["body"] else []
        first: dict = {}
        for at, pool in enumerate(data):
            if pool["id"] in first:
                data[at] = copy.deepcopy(first[pool["id"]])
            elif pool["id"]:
                first[pool["id"]] = pool
    return sorted(week, key=lambda e: e["location"]["id"])


@st.composite
def pairs(draw) -> tuple[list[dict], list[dict]]:
    first = draw(snapshots())
    return first, draw(next_week(first)) if draw(st.integers(0, 4)) else draw(snapshots())


def merged(cases: list[list[dict]]) -> list[dict]:
    """Several generated agencies as one, so that one read checks them all: case ``k``'s
    locations renamed apart (``L1`` -> ``K2L1``), in their files and pools. The reference
    judges the merged agency as it is (a number two cases share is shared in it)."""
    agency = []
    for k, case in enumerate(cases):
        for entry in copy.deepcopy(case):
            old = entry["location"]["id"]
            new = entry["location"]["id"] = f"K{k}{old}"
            entry["location"]["name"] = f"Clinic {new}"
            for pool in entry["body"]["data"] if entry["body"] else []:
                if pool.get("locationId") == old:
                    pool["locationId"] = new
            agency.append(entry)
    return agency


#: Up to 6 generated agencies a case, merged (``merged``): make fuzz's cases cost less each.
agencies = st.lists(snapshots(), min_size=1, max_size=6)
agency_pairs = st.lists(pairs(), min_size=1, max_size=6)


def write(folder: Path, snapshot: list[dict], taken_at: datetime) -> Path:
    responses = [(e["location"], e["body"]) for e in snapshot]
    inventory = {e["location"]["id"]: e["pages"] for e in snapshot if e["pages"] is not None}
    return write_snapshot(folder, responses, taken_at=taken_at, inventory=inventory)


def finding_keys(findings) -> Counter:
    """How many findings poolkit gives of each (rule, location, pool, number)."""
    rows = findings[findings["rule"] != "contract-problem"].astype(object)
    rows = rows.where(rows.notna(), None)
    return Counter((r.rule, r.location_id, r.pool_id, r.phone_number) for r in rows.itertuples())


def change_keys(found) -> set:
    """poolkit's changes, each given once."""
    rows = found.astype(object).where(found.notna(), None)
    keys = Counter(
        (str(r.change), r.location_id, r.pool_id, r.phone_number, r.field, r.old, r.new)
        for r in rows.itertuples()
    )
    assert max(keys.values(), default=1) == 1, [k for k, n in keys.items() if n > 1]
    return set(keys)


def inventory_of(tables) -> dict:
    frame = analysis.inventory(tables)
    counts = ["numbers", "in_pools", "not_in_pool", "unreachable", "pool_numbers_missing"]
    return {r[0]: tuple(int(v) for v in r[1:]) for r in frame[["location_id", *counts]].values}


def cost_of(tables) -> dict:
    frame = analysis.monthly_cost(tables)
    per = frame.groupby("location_id")[["monthly_cost_cents", "idle_cost_cents"]].sum()
    out = {loc: (int(a), int(b)) for loc, (a, b) in per.iterrows()}
    # a location whose inventory lists no number costs nothing
    return out | {loc: (0, 0) for loc in inventory_of(tables) if loc not in out}


def headline_of(tables) -> dict:
    counts = analysis.headline(tables)
    return {k: counts[k] for k in reference.headline([])}


def adoption_of(tables) -> dict:
    summary = analysis.feature_adoption_summary(tables)
    return {
        r.feature: (int(r.locations_using), int(r.locations))
        for r in summary.itertuples()
        if r.feature in reference.FEATURES
    }


def describe(tables) -> dict:
    """What poolkit says of the current state of ``tables``, in the reference's terms."""
    return {
        "headline": headline_of(current(tables)),
        "adoption": adoption_of(current(tables)),
        "findings": finding_keys(poolkit.audit(tables)),
        "inventory": inventory_of(tables),
        "cost": cost_of(tables),
    }


def expected(snapshot: list[dict]) -> dict:
    adoption = reference.adoption(snapshot)
    if not reference.answered(snapshot):  # no location answered: no share to give
        adoption = {f: (0, 0) for f in reference.FEATURES}
    return {
        "headline": reference.headline(snapshot),
        "adoption": adoption,
        "findings": reference.findings(snapshot),
        "inventory": reference.inventory(snapshot),
        "cost": reference.cost(snapshot),
    }


def assert_agree(got: dict, want: dict) -> None:
    for key in want:
        mine, theirs = got[key], want[key]
        if isinstance(theirs, dict):
            mine, theirs = set(mine.items()), set(theirs.items())
        assert mine == theirs, (key, "poolkit only", mine - theirs, "reference only", theirs - mine)


@fuzz(24, 1100)
@given(cases=agencies)
def test_a_snapshot_agrees_with_the_reference(cases):
    """Describe and diagnose generated snapshots, merged into one agency read as a snapshot
    folder."""
    tally("generated snapshots checked against the reference", len(cases))
    snapshot = merged(cases)
    with tempfile.TemporaryDirectory() as root:
        folder = write(Path(root) / "s", snapshot, WEEKS[1])
        assert_agree(describe(poolkit.read_pools(folder, errors="record")), expected(snapshot))


@fuzz(6, 95)
@given(cases=agencies)
def test_the_masked_page_counts_what_the_plain_one_does(cases):
    """Masking hides the numbers, not what is counted: the masked page marks the plain
    page's counts, and its findings per rule and numbers held are the reference's (generated
    snapshots merged into one agency)."""
    tally("generated snapshots through the masked report", len(cases))
    snapshot = merged(cases)
    with tempfile.TemporaryDirectory() as root:
        folder = write(Path(root) / "s", snapshot, WEEKS[1])
        plain, hidden = render(folder), render(folder, mask_numbers=True)
    counts = dict(marks(hidden))
    assert marks(hidden) == marks(plain)
    want = Counter(key[0] for key in reference.findings(snapshot).elements())
    shown = {
        key.removesuffix(":findings"): int(text.split()[0].replace(",", ""))
        for key, text in counts.items()
        if key.endswith(":findings") and key != "contract-problem:findings"
    }
    assert shown == dict(want)
    inventory = reference.inventory(snapshot)
    if inventory:
        held = sum(counts[0] for counts in inventory.values())
        assert counts["numbers_held"].split()[0] == f"{held:,}"
    assert not [n for n in [*POOL_NUMBERS, ALIKE, OUTSIDE, TOLL_FREE] if n in hidden]
