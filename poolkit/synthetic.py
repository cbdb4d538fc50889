"""Synthetic, seeded number-pool responses: the shipped sample, benchmarks and tests.

Everything here is made up. Phone numbers use real North American area codes (and
toll-free prefixes) so they parse like real ones; names and ids are invented.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .places import CA_PROVINCES, US_STATES
from .snapshot import (
    inventory_page_name,
    snapshot_name,
    write_atomic,
    write_locations,
    write_manifest,
)

# (area code, city, region): US and Canadian geographic area codes.
AREA_CODES = [
    ("212", "New York", "NY"),
    ("312", "Chicago", "IL"),
    ("415", "San Francisco", "CA"),
    ("512", "Austin", "TX"),
    ("617", "Boston", "MA"),
    ("303", "Denver", "CO"),
    ("404", "Atlanta", "GA"),
    ("206", "Seattle", "WA"),
    ("305", "Miami", "FL"),
    ("702", "Las Vegas", "NV"),
    ("602", "Phoenix", "AZ"),
    ("713", "Houston", "TX"),
    ("214", "Dallas", "TX"),
    ("615", "Nashville", "TN"),
    ("503", "Portland", "OR"),
    ("801", "Salt Lake City", "UT"),
    ("919", "Raleigh", "NC"),
    ("813", "Tampa", "FL"),
    ("619", "San Diego", "CA"),
    ("720", "Denver", "CO"),
    ("416", "Toronto", "ON"),
    ("604", "Vancouver", "BC"),
    ("514", "Montreal", "QC"),
    ("403", "Calgary", "AB"),
]
TOLL_FREE = ["800", "833", "844", "855", "866", "877", "888"]
TRADES = [
    "Plumbing",
    "Roofing",
    "Dental",
    "HVAC",
    "Law Group",
    "Auto Repair",
    "Med Spa",
    "Realty",
    "Landscaping",
    "Chiropractic",
    "Pest Control",
    "Fitness",
]
BRANDS = [
    "Summit",
    "Bluebird",
    "Ironwood",
    "Lakeside",
    "Northstar",
    "Pioneer",
    "Redwood",
    "Silverline",
    "Keystone",
    "Harbor",
    "Evergreen",
    "Cornerstone",
    "Brightpath",
]
CAMPAIGNS = [
    "Google Ads Search",
    "Google LSA",
    "Facebook Lead Ads",
    "Website Visitors",
    "Direct Mail",
    "Yelp",
    "Bing Ads",
    "Billboard",
    "Radio Spot",
    "Referral Partners",
    "Instagram",
    "Organic Search",
    "TV Spot",
    "Email Nurture",
]
SERVICE_WEIGHTS = {None: 30, "forward": 25, "ivr": 20, "voice_ai": 22, "workflow": 3}
ID_CHARS = string.ascii_letters + string.digits


@dataclass
class SyntheticSpec:
    """How a synthetic snapshot is shaped."""

    locations: int = 40
    pools_per_location: tuple[int, int] = (1, 7)
    numbers_per_pool: tuple[int, int] = (2, 18)
    toll_free_share: float = 0.08
    problems: bool = True
    seed: int = 7
    extra: dict[str, Any] = field(default_factory=dict)
    empty_locations: int = 0  # locations that answer with no pools
    failed_locations: int = 0  # locations whose fetch failed: no response (body None)
    audit_cases: bool = False  # plant one case of each audit rule that chance does not give


#: The shipped sample: 40 locations with pools, 5 without, 1 whose fetch failed.
SAMPLE = SyntheticSpec(
    locations=40, seed=7, empty_locations=5, failed_locations=1, audit_cases=True
)


def _id(rng: random.Random) -> str:
    return "".join(rng.choices(ID_CHARS, k=20))


def _phone(rng: random.Random, area: str) -> str:
    exchange = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(2, 9)}"
    return f"+1{area}{exchange}{rng.randint(0, 9999):04d}"


def generate(spec: SyntheticSpec | None = None) -> list[tuple[dict, dict | None]]:
    """Return ``[(location, response), ...]``: the location's details (``id``, ``name``, ``city``,
    ``state``, ``country``, ``postalCode``, ``timezone``) and its 200 body, ``None`` for the
    ``failed_locations`` (last)."""
    spec = spec or SyntheticSpec()
    rng = random.Random(spec.seed)
    services = list(SERVICE_WEIGHTS)
    weights = list(SERVICE_WEIGHTS.values())
    combos = [(w, r, a) for w in (True, False) for r in (True, False) for a in (True, False)]
    out = []
    pool_counter = 0
    for loc_index in range(spec.locations):
        area, city, _ = (
            AREA_CODES[loc_index % len(AREA_CODES)]
            if loc_index < len(AREA_CODES)
            else rng.choice(AREA_CODES)
        )
        location = {"id": _id(rng), "name": f"{rng.choice(BRANDS)} {rng.choice(TRADES)} - {city}"}
        pools = []
        for _ in range(rng.randint(*spec.pools_per_location)):
            campaign = rng.choice(CAMPAIGNS)
            if pool_counter < len(combos):  # every flag combination appears
                whisper, recording, active = combos[pool_counter]
            else:
                whisper, recording, active = (
                    rng.random() < 0.35,
                    rng.random() < 0.6,
                    rng.random() < 0.85,
                )
            pool_counter += 1
            stype = rng.choices(services, weights)[0]
            service = (
                None
                if stype is None
                else {
                    "type": stype,
                    "value": _phone(rng, area)
                    if stype == "forward"
                    else f"{rng.getrandbits(96):024x}",
                }
            )
            numbers = []
            for k in range(rng.randint(*spec.numbers_per_pool)):
                prefix = (
                    rng.choice(TOLL_FREE)
                    if rng.random() < spec.toll_free_share
                    else (area if rng.random() < 0.8 else rng.choice(AREA_CODES)[0])
                )
                numbers.append(
                    {"phoneNumber": _phone(rng, prefix), "friendlyName": f"{campaign} {k + 1}"}
                )
            pools.append(
                {
                    "id": _id(rng),
                    "name": campaign,
                    "locationId": location["id"],
                    "numbers": numbers,
                    "forwardingNumber": _phone(rng, area) if rng.random() < 0.7 else "",
                    "whisper": whisper,
                    "whisperMessage": f"Call from {campaign}" if whisper else "",
                    "callRecording": recording,
                    "isActive": active,
                    "inboundCallService": service,
                }
            )
        out.append((location, {"success": True, "data": pools, "total": len(pools)}))
    if spec.problems:
        _inject_problems(out)
    if spec.audit_cases:
        _plant_audit_cases(out)
    _place(out, spec)
    return out


TIMEZONES = {
    "NY": "America/New_York",
    "IL": "America/Chicago",
    "CA": "America/Los_Angeles",
    "TX": "US/Central",
    "MA": "America/New_York",
    "CO": "America/Denver",
    "GA": "US/Eastern",
    "WA": "America/Los_Angeles",
    "FL": "America/New_York",
    "NV": "America/Los_Angeles",
    "AZ": "America/Phoenix",
    "TN": "America/Chicago",
    "OR": "America/Los_Angeles",
    "UT": "America/Denver",
    "NC": "America/New_York",
    "ON": "America/Toronto",
    "BC": "America/Vancouver",
    "QC": "America/Montreal",
    "AB": "America/Edmonton",
}


def _place(out: list[tuple[dict, dict | None]], spec: SyntheticSpec) -> None:
    """Give every location the place its name says (a third of them with the state's full
    name, as agencies type it either way), then add the locations with no pools and the failed
    ones. A random stream of its own, so the pools are the same with or without these."""
    rng = random.Random(spec.seed + 1)
    bodies = [{"success": True, "data": [], "total": 0}] * spec.empty_locations
    for body in bodies + [None] * spec.failed_locations:
        city = rng.choice(AREA_CODES)[1]
        name = f"{rng.choice(BRANDS)} {rng.choice(TRADES)} - {city}"
        out.append(({"id": _id(rng), "name": name}, body))
    regions = {city: region for _, city, region in AREA_CODES}
    for index, (location, _) in enumerate(out):
        city = location["name"].rsplit(" - ", 1)[-1]
        region = regions[city]
        canadian = region in CA_PROVINCES
        location.update(
            city=city,
            state=(CA_PROVINCES if canadian else US_STATES)[region] if index % 3 == 0 else region,
            country="CA" if canadian else "US",
            postalCode=f"{rng.choice('KLMNV')}{rng.randint(1, 9)}A 1B{rng.randint(1, 9)}"
            if canadian
            else f"{rng.randint(10000, 99999)}",
            timezone=TIMEZONES[region],
        )


def _inject_problems(responses: list[tuple[dict, dict]]) -> None:
    """A handful of realistic contract breaks, so the problems table has something to show.
    Each is planted where the snapshot is big enough for it (the sample has them all)."""
    pools = [pool for _, body in responses for pool in body["data"] if len(pool["numbers"]) >= 2]

    def edit(index: int, change) -> None:
        if index < len(pools):
            change(pools[index])

    edit(3, lambda pool: pool["numbers"][0].update(phoneNumber="(512) 555-0134"))  # not E.164
    edit(11, lambda pool: pool.update(callRecording="true"))  # flag as a string
    edit(17, lambda pool: pool["numbers"][1].pop("phoneNumber"))  # number without phoneNumber
    edit(23, lambda pool: pool.update(dateAdded="2026-10-02T14:11:09.000Z"))  # undocumented field
    if len(responses) > 5 and responses[5][1]["data"]:
        body = responses[5][1]
        body["data"].append(dict(body["data"][0], name="Duplicate of first pool"))  # repeated id
        body["total"] = len(body["data"])
    if len(responses) > 8:
        responses[8][1]["total"] += 2  # total disagrees with data


#: Where the sample's planted audit cases are: rule -> index of the location.
AUDIT_CASES = {
    "duplicate-number": 20,  # the first number of location 10's first pool, also here
    "forwarding-loop": 12,
    "empty-active-pool": 14,
    "whisper-without-message": 16,
    "empty-service-value": 18,
    "invalid-number": 22,
}
#: A location with pools where no audit rule fires (tests hold it to that).
CLEAN_LOCATION = 11


def _plant_audit_cases(responses: list[tuple[dict, dict]]) -> None:
    """One case of each audit rule that random pools do not give (active pools without a
    route, inactive pools with numbers, recording in all-party states and contract problems
    come by chance)."""
    pools = {rule: responses[index][1]["data"] for rule, index in AUDIT_CASES.items()}
    copied = responses[10][1]["data"][0]["numbers"][0]["phoneNumber"]
    pools["duplicate-number"][0]["numbers"][0]["phoneNumber"] = copied
    loop = pools["forwarding-loop"][0]
    loop["forwardingNumber"] = loop["numbers"][-1]["phoneNumber"]
    empty = pools["empty-active-pool"]
    empty.append(
        dict(empty[0], id="sPr1ngPr0moP00l2026x", name="Spring Promo", numbers=[], isActive=True)
    )
    responses[AUDIT_CASES["empty-active-pool"]][1]["total"] += 1
    next(p for p in pools["whisper-without-message"] if p["whisper"])["whisperMessage"] = ""
    next(p for p in pools["empty-service-value"] if p["inboundCallService"])["inboundCallService"][
        "value"
    ] = ""
    pools["invalid-number"][0]["numbers"][0]["phoneNumber"] = "+15550100123"  # no such area


#: The sample's history: three snapshots a week apart, the last being the sample itself.
HISTORY_TIMES = tuple(
    datetime(2026, month, day, 15, tzinfo=timezone.utc)
    for month, day in ((10, 19), (10, 26), (11, 2))
)
#: What changes in the sample's history, and at which location (by index).
HISTORY_CASES = {
    "location_added": 24,  # in the last snapshot only
    "pool_removed": 25,  # "Summer Sale", gone in the last snapshot
    "pool_added": 26,  # its last pool, new in the last snapshot
    "number_moved": 27,  # from its second pool to its first, in the last snapshot
    "setting_changed": 28,  # call recording and whisper message, in the last snapshot
    "failed_in_middle": 30,  # its fetch failed in the middle snapshot
    "switched_on": 29,  # inactive in the first snapshot
    "number_added": 31,  # its first pool's last number, new in the middle snapshot
    "number_removed": 32,  # a number of its first pool, gone in the middle snapshot
    "renamed": 33,  # its first pool, renamed in the middle snapshot
}


def sample_history() -> list[list[tuple[dict, dict | None]]]:
    """The sample's three snapshots, oldest first (``HISTORY_TIMES``): the last is
    ``generate(SAMPLE)``, the two before differ from it as ``HISTORY_CASES`` says."""
    latest = generate(SAMPLE)
    middle = json.loads(json.dumps(latest))
    pools = {case: middle[index][1]["data"] for case, index in HISTORY_CASES.items()}
    summer = [{"phoneNumber": f"+1602399{k:04d}", "friendlyName": f"Summer {k}"} for k in range(3)]
    pools["pool_removed"].append(
        dict(
            pools["pool_removed"][0], id="sUmm3rSa1eP00l2026xx", name="Summer Sale", numbers=summer
        )
    )
    pools["pool_added"].pop()
    first, second = pools["number_moved"][0], pools["number_moved"][1]
    second["numbers"].append(first["numbers"].pop(0))
    changed = pools["setting_changed"][0]
    changed.update(callRecording=not changed["callRecording"], whisperMessage="Old message")
    for index in (HISTORY_CASES["pool_removed"], HISTORY_CASES["pool_added"]):
        middle[index][1]["total"] = len(middle[index][1]["data"])
    first_snapshot = json.loads(json.dumps(middle))
    middle[HISTORY_CASES["failed_in_middle"]] = (middle[HISTORY_CASES["failed_in_middle"]][0], None)
    del middle[HISTORY_CASES["location_added"]], first_snapshot[HISTORY_CASES["location_added"]]
    pools = {
        case: first_snapshot[index - (index > HISTORY_CASES["location_added"])][1]["data"]
        for case, index in HISTORY_CASES.items()
        if case != "location_added"
    }
    pools["switched_on"][0]["isActive"] = not pools["switched_on"][0]["isActive"]
    pools["number_added"][0]["numbers"].pop()
    pools["number_removed"][0]["numbers"].append(
        {"phoneNumber": "+15125550123", "friendlyName": "Released"}
    )
    pools["renamed"][0]["name"] = "Spring Campaign"
    return [first_snapshot, middle, latest]


CANADIAN_AREAS = {area for area, _, region in AREA_CODES if region in CA_PROVINCES}
#: Where the sample's inventory (the numbers each location holds) departs from its pools.
INVENTORY_CASES = {
    "missing-pool-number": 6,  # its first pool's first number is not in its inventory
    "inactive-account": 7,  # its phone account is suspended
    "unavailable": 8,  # its inventory was refused (403): the pools are there all the same
    "short-shape": 40,  # a location with no pool: the short empty page {"numbers": [], ...}
}


def active_number_pages(responses: list[tuple[dict, dict | None]], seed: int = 7) -> dict:
    """The pages of active numbers of each location that answered, as
    ``write_snapshot(inventory=...)`` takes them: every E.164 pool number, and at every
    fourth location two numbers in no pool (one forwarding, one answering nothing); the
    departures of ``INVENTORY_CASES``."""
    rng = random.Random(seed)
    added = datetime(2025, 3, 4, 10, 30, tzinfo=timezone.utc)
    out: dict[str, list[dict] | str] = {}
    for index, (location, body) in enumerate(responses):
        if body is None:
            continue
        held = [n["phoneNumber"] for p in body["data"] for n in p["numbers"] if "phoneNumber" in n]
        held = [n for n in dict.fromkeys(held) if n.startswith("+")]
        if index == INVENTORY_CASES["missing-pool-number"]:
            held.remove(body["data"][0]["numbers"][0]["phoneNumber"])
        extra = [] if index % 4 else [_phone(rng, "512"), _phone(rng, "512")]
        numbers = [
            {
                "phoneNumber": number,
                "friendlyName": None,
                "sid": f"PN{rng.getrandbits(128):032x}",
                "countryCode": "CA" if number[2:5] in CANADIAN_AREAS else "US",
                "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
                "type": "toll-free" if number[2:5] in TOLL_FREE else "local",
                "isDefaultNumber": k == 0,
                "linkedUser": None,
                "linkedRingAllUsers": [],
                "inboundCallService": None,
                "forwardingNumber": "+15125550148" if number in extra[:1] else None,
                "isGroupConversationEnabled": False,
                "dateAdded": (added + timedelta(days=k)).isoformat().replace("+00:00", "Z"),
                "dateUpdated": (added + timedelta(days=k + 30)).isoformat().replace("+00:00", "Z"),
                "origin": "twilio",
            }
            for k, number in enumerate(held + extra)
        ]
        status = "suspended" if index == INVENTORY_CASES["inactive-account"] else "active"
        out[location["id"]] = [
            {
                "numbers": numbers,
                "isUnderGhl": True,
                "pageSize": 1000,
                "page": 0,
                "accountStatus": status,
            }
        ]
    ids = [location["id"] for location, _ in responses]
    out[ids[INVENTORY_CASES["unavailable"]]] = "unavailable: ForbiddenError"
    out[ids[INVENTORY_CASES["short-shape"]]] = [{"numbers": [], "total": 0}]
    return out


def write_snapshot(
    folder: str | Path,
    responses: list[tuple[dict, dict | None]],
    *,
    taken_at: datetime | None = None,
    indent: int | None = None,
    note: str = "synthetic",
    inventory: dict[str, list[dict] | str] | None = None,
) -> Path:
    """Write responses as a snapshot folder, as a fetch does: ``<location_id>.json`` files,
    ``locations.json`` and a manifest (a ``None`` body is a location whose fetch failed).
    ``inventory`` gives locations' active-number pages (written as
    ``<location_id>.numbers.<page>.json``), or the manifest's word for one not fetched."""
    inventory = inventory or {}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    taken_at = taken_at or datetime.now(timezone.utc)
    entries = []
    for location, body in responses:
        entry = {"location_id": location["id"], "name": location["name"]}
        if body is None:
            entries.append(
                {
                    **entry,
                    "status": "failed",
                    "http_status": 403,
                    "error": "ForbiddenError",
                    "message": "The token does not have access to this location.",
                }
            )
            continue
        data = json.dumps(body, indent=indent).encode() + (b"\n" if indent else b"")
        write_atomic(folder / f"{location['id']}.json", data)
        entries.append(
            {
                **entry,
                "status": "ok",
                "http_status": 200,
                "file": f"{location['id']}.json",
                "bytes": len(data),
            }
        )
        pages = inventory.get(location["id"])
        if isinstance(pages, str):
            entries[-1].update(inventory=pages, inventory_pages=None)
        elif pages is not None:
            for page, doc in enumerate(pages):
                text = json.dumps(doc, indent=indent).encode() + (b"\n" if indent else b"")
                write_atomic(folder / inventory_page_name(location["id"], page), text)
            entries[-1].update(inventory="ok", inventory_pages=len(pages))
    write_locations(folder, {location["id"]: location for location, _ in responses})
    write_manifest(
        folder,
        {
            "snapshot": snapshot_name(taken_at),
            "taken_at": taken_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "api_version": "2021-07-28",
            "base_url": note,
            "summary": {
                "ok": sum(b is not None for _, b in responses),
                "failed": sum(b is None for _, b in responses),
                "pending": 0,
            },
            "locations": entries,
        },
    )
    return folder
