"""A deliberately plain reference for poolkit's diagnoses, written from the guide's words
(docs/rules.md, docs/diagnose.md; the README's, before the guide was split from it).

It reads the raw JSON a fetch keeps (no pandas, nothing imported from poolkit) and computes
what the guide says poolkit computes: the headline counts, adoption shares, findings as
``(rule, location, pool, number)``, changes as ``(kind, location, pool, number, field, old,
new)``, inventory counts and the monthly cost in cents. ``tests/test_reference.py`` checks that
poolkit agrees with it on generated snapshots.

A snapshot here is a list of locations, each a dict: ``location`` (``id``, ``name``, ``state``,
``country``), ``body`` (the pool response, None when the fetch failed) and ``pages`` (the
active-number pages: None when not asked for, a string when refused, else a list of documents).
"""

from __future__ import annotations

import re
from collections import Counter

import phonenumbers

# "E.164 formatted phone number" (the reference page): a plus and up to 15 digits, the first
# not a zero.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")

# The README's consent list: every party must consent, or the sources disagree.
ALL_PARTY = {"CA", "FL", "IL", "MD", "MA", "MT", "NH", "PA", "WA"}
DISPUTED = {"CT", "DE", "MI", "NV", "OR"}
# "states given by code or by name": the names the generated data uses
STATE_NAMES = {"california": "CA", "texas": "TX", "illinois": "IL", "florida": "FL"}

# LC Phone's published prices, in cents a month (README, "Cost").
RATES = {("US", "local"): 115, ("CA", "local"): 115, ("US", "toll-free"): 215}
RATES[("CA", "toll-free")] = 215

FEATURES = ("has_pool", "whisper", "call_recording", "active", "inbound_service", "forwarding")
SETTINGS = (
    "name",
    "forwarding_number",
    "whisper",
    "whisper_message",
    "call_recording",
    "is_active",
    "service_type",
    "service_value",
)


# ------------------------------------------------------------------------------ reading


def is_blank(value) -> bool:
    return not isinstance(value, str) or value.strip() == ""


def is_e164(value) -> bool:
    return isinstance(value, str) and E164.fullmatch(value) is not None


def answered(snapshot) -> list:
    """The locations whose pools were read."""
    return [entry for entry in snapshot if entry["body"] is not None]


def pools_of(entry) -> list:
    """The pools of one location's response, each as a plain dict of what the README names."""
    body = entry["body"]
    data = body.get("data") if isinstance(body, dict) else body
    pools = []
    for index, raw in enumerate(data if isinstance(data, list) else []):
        if not isinstance(raw, dict):
            continue
        service = raw.get("inboundCallService")
        service = service if isinstance(service, dict) else {}
        service_type = service.get("type") if not is_blank(service.get("type")) else None
        listed = [n.get("phoneNumber") for n in raw.get("numbers") or [] if isinstance(n, dict)]
        pool_id = raw.get("id") if not is_blank(raw.get("id")) else None
        pools.append(
            {
                "location": entry["location"]["id"],
                # pools are told apart by location and id; a pool without an id is its own
                "identity": (entry["location"]["id"], pool_id if pool_id else f"#{index}"),
                "id": pool_id,
                "name": raw.get("name") if isinstance(raw.get("name"), str) else None,
                "listed": listed,
                # the numbers table holds a pool's numbers in E.164 form; the rest is set aside
                "numbers": [n for n in listed if is_e164(n)],
                "set_aside": [n for n in listed if not is_e164(n) and not is_blank(n)],
                "forwarding": None
                if is_blank(raw.get("forwardingNumber"))
                else raw["forwardingNumber"],
                "whisper": raw.get("whisper"),
                "whisper_message": raw.get("whisperMessage"),
                "call_recording": raw.get("callRecording"),
                "is_active": raw.get("isActive"),
                "service_type": service_type,
                "service_value": service.get("value") if service_type else None,
            }
        )
    return pools


def all_pools(snapshot) -> list:
    return [pool for entry in answered(snapshot) for pool in pools_of(entry)]


def read_as_number(text, country):
    """A forward target read as a number: E.164 as it is, else in the location's country."""
    if is_e164(text):
        return text
    try:
        parsed = phonenumbers.parse(text, country if isinstance(country, str) else None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_valid(number) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def has_route(pool) -> bool:
    """Calls go somewhere: an inbound call service, or a forwarding number (in any form)."""
    return pool["service_type"] is not None or pool["forwarding"] is not None


def is_idle_pool(pool) -> bool:
    """Paid for and unused: inactive, or without a route."""
    return pool["is_active"] is False or not has_route(pool)


def targets(pool, country) -> list:
    """(field, text as given, read as a number) of where the pool forwards its calls."""
    out = []
    if pool["forwarding"] is not None:
        out.append(("forwarding number", pool["forwarding"]))
    if pool["service_type"] == "forward" and not is_blank(pool["service_value"]):
        out.append(("forward service number", pool["service_value"]))
    return [(field, text, read_as_number(text, country)) for field, text in out]


def inventory_read(entry) -> bool:
    """The pools and every page of active numbers were read: at least one page (a location
    of no number still gives a page with an empty list)."""
    pages = entry["pages"]
    return (
        entry["body"] is not None
        and isinstance(pages, list)
        and len(pages) > 0
        and all(isinstance(p, dict) and isinstance(p.get("numbers"), list) for p in pages)
    )


def held(entry) -> list:
    """(number, its entry, the page's accountStatus) of each number object a read inventory
    lists: the location pays for each, once however often its text is listed (the first
    listing counts). A number not in E.164 form is held but is no number of any pool (None)."""
    out, seen = [], set()
    for page in entry["pages"]:
        for item in page["numbers"]:
            if isinstance(item, dict):
                listed = item.get("phoneNumber")
                if not is_blank(listed) and listed in seen:  # the same text listed again
                    continue
                seen.add(listed)
                out.append((listed if is_e164(listed) else None, item, page.get("accountStatus")))
    return out


def answers_nothing(item, in_pool: bool) -> bool:
    service = item.get("inboundCallService")
    service = service if isinstance(service, dict) else {}
    return not in_pool and is_blank(service.get("type")) and is_blank(item.get("forwardingNumber"))


def state_code(state):
    if not isinstance(state, str):
        return None
    return STATE_NAMES.get(state.strip().lower(), state.strip().upper())


# ------------------------------------------------------------------------------ describe


def headline(snapshot) -> dict:
    ok = answered(snapshot)
    with_pools = [e for e in ok if pools_of(e)]
    return {
        "locations": len(ok),
        "locations_with_pools": len(with_pools),
        "locations_without_pools": len(ok) - len(with_pools),
        "locations_not_fetched": len(snapshot) - len(ok),
        "pools": sum(len(pools_of(e)) for e in ok),
        # every number a pool lists, one not in E.164 form too (a row with its number empty)
        "numbers": sum(len(p["listed"]) for e in ok for p in pools_of(e)),
    }


def adoption(snapshot) -> dict:
    """Feature -> (locations using it in at least one pool, locations that answered)."""
    ok = answered(snapshot)
    tests = {
        "has_pool": lambda p: True,
        "whisper": lambda p: p["whisper"] is True,
        "call_recording": lambda p: p["call_recording"] is True,
        "active": lambda p: p["is_active"] is True,
        "inbound_service": lambda p: p["service_type"] is not None,
        "forwarding": lambda p: p["forwarding"] is not None,
    }
    return {
        feature: (sum(any(test(p) for p in pools_of(e)) for e in ok), len(ok))
        for feature, test in tests.items()
    }


# ------------------------------------------------------------------------------ findings


def findings(snapshot) -> Counter:
    """Every finding of the built-in rules but ``contract-problem`` (which lists the reader's
    problem rows) as ``(rule, location, pool, number)``, counted once per pool: two pools
    without ids in a location give two findings of the same key."""
    out = set()
    pools = all_pools(snapshot)
    countries = {e["location"]["id"]: e["location"].get("country") for e in snapshot}

    holders: dict = {}
    for pool in pools:
        for number in pool["numbers"]:
            holders.setdefault(number, []).append(pool)
    for number, listing in holders.items():
        distinct = {p["identity"] for p in listing}
        for pool in listing:
            if len(distinct) > 1 or pool["numbers"].count(number) > 1:
                out.add(
                    ("duplicate-number", pool["location"], pool["id"], number, pool["identity"])
                )

    for pool in pools:
        where = pool["location"], pool["id"]
        for field, text, number in targets(pool, countries[pool["location"]]):
            setting = pool["identity"], field  # each setting is one to fix
            if number in holders:
                out.add(("forwarding-loop", *where, number, setting))
            if number is None or not is_valid(number):
                out.add(("invalid-number", *where, text, setting))
            elif field == "forwarding number" and not is_e164(text):
                out.add(("invalid-number", *where, text, setting))
        for number in pool["numbers"]:
            if not is_valid(number):
                out.add(("invalid-number", *where, number, pool["identity"]))
        for text in pool["set_aside"]:
            out.add(("invalid-number", *where, text, pool["identity"]))
        if pool["is_active"] is True and not has_route(pool):
            out.add(("active-pool-without-route", *where, None, pool["identity"]))
        if pool["is_active"] is True and not pool["listed"]:
            out.add(("empty-active-pool", *where, None, pool["identity"]))
        if pool["is_active"] is False and pool["listed"]:
            out.add(("inactive-pool-with-numbers", *where, None, pool["identity"]))
        if pool["whisper"] is True and is_blank(pool["whisper_message"]):
            out.add(("whisper-without-message", *where, None, pool["identity"]))
        if pool["service_type"] is not None and is_blank(pool["service_value"]):
            out.add(("empty-service-value", *where, None, pool["identity"]))

    for entry in answered(snapshot):
        location = entry["location"]
        if location.get("country") in ("US", None):
            state = state_code(location.get("state"))
            if state in ALL_PARTY | DISPUTED:
                for pool in pools_of(entry):
                    if pool["call_recording"] is True:
                        where = location["id"], pool["id"]
                        out.add(("recording-consent", *where, None, pool["identity"]))
        if not inventory_read(entry):
            continue
        mine = pools_of(entry)
        in_pools = {n for p in mine for n in p["numbers"]}
        numbers = held(entry)
        for at, (number, item, _) in enumerate(numbers):
            if answers_nothing(item, number in in_pools):
                out.add(("unreachable-number", location["id"], None, number, at))
        have = {number for number, _, _ in numbers}
        for pool in mine:
            for number in pool["numbers"]:
                if number not in have:
                    out.add(
                        (
                            "missing-pool-number",
                            location["id"],
                            pool["id"],
                            number,
                            pool["identity"],
                        )
                    )
        statuses = {status for _, _, status in numbers}
        if any(isinstance(s, str) and s != "active" for s in statuses):
            out.add(("inactive-account", location["id"], None, None, None))
    return Counter(key[:4] for key in out)


# ------------------------------------------------------------------------------ inventory


def inventory(snapshot) -> dict:
    """Location -> (held, in pools, not in a pool, answering nothing, pool numbers missing),
    for the locations whose inventory was read."""
    out = {}
    for entry in answered(snapshot):
        if not inventory_read(entry):
            continue
        mine = pools_of(entry)
        in_pools = {n for p in mine for n in p["numbers"]}
        numbers = held(entry)
        inside = sum(number in in_pools for number, _, _ in numbers)
        nothing = sum(answers_nothing(item, n in in_pools) for n, item, _ in numbers)
        have = {number for number, _, _ in numbers}
        missing = {(p["identity"], n) for p in mine for n in p["numbers"] if n not in have}
        out[entry["location"]["id"]] = (
            len(numbers),
            inside,
            len(numbers) - inside,
            nothing,
            len(missing),
        )
    return out


def cost(snapshot) -> dict:
    """Location -> (monthly cost in cents, its idle part in cents): a held number is idle when
    it answers nothing, or when every pool of its location holding it is inactive or has no
    route."""
    out = {}
    for entry in answered(snapshot):
        if not inventory_read(entry):
            continue
        mine = pools_of(entry)
        total = idle = 0
        for number, item, _ in held(entry):
            rate = RATES.get((item.get("countryCode"), item.get("type")), 0)
            holding = [p for p in mine if number is not None and number in p["numbers"]]
            total += rate
            if answers_nothing(item, bool(holding)) or (
                holding and all(is_idle_pool(p) for p in holding)
            ):
                idle += rate
        out[entry["location"]["id"]] = (total, idle)
    return out


# ------------------------------------------------------------------------------ changes


def setting_text(pool, setting):
    """A setting as the changes table shows it: flags as True/False, blank text as nothing."""
    key = {"forwarding_number": "forwarding"}.get(setting, setting)
    value = pool[key]
    if setting in ("whisper", "call_recording", "is_active"):
        return str(value) if isinstance(value, bool) else None
    return None if is_blank(value) else value


def changes(before, after) -> set:
    """What changed from snapshot ``before`` to ``after``, as ``(kind, location, pool,
    number, field, old, new)``."""
    old_ok = {e["location"]["id"]: e for e in answered(before)}
    new_ok = {e["location"]["id"]: e for e in answered(after)}
    old_failed = {e["location"]["id"] for e in before} - set(old_ok)
    new_failed = {e["location"]["id"] for e in after} - set(new_ok)
    out = set()
    for location in set(new_ok) - set(old_ok) - old_failed:
        out.add(("location_added", location, None, None, None, None, None))
    for location in set(old_ok) - set(new_ok) - new_failed:
        out.add(("location_removed", location, None, None, None, None, None))
    for location in set(old_ok) & set(new_ok):
        # pools without an id cannot be followed from one snapshot to the next
        old = {p["id"]: p for p in pools_of(old_ok[location]) if p["id"]}
        new = {p["id"]: p for p in pools_of(new_ok[location]) if p["id"]}
        for pool_id in set(new) - set(old):
            out.add(("pool_added", location, pool_id, None, None, None, None))
        for pool_id in set(old) - set(new):
            out.add(("pool_removed", location, pool_id, None, None, None, None))
        for pool_id in set(old) & set(new):
            for setting in SETTINGS:
                was, now = setting_text(old[pool_id], setting), setting_text(new[pool_id], setting)
                if was != now:
                    out.add(("setting_changed", location, pool_id, None, setting, was, now))
        old_in = {(n, pid) for pid, p in old.items() for n in p["numbers"]}
        new_in = {(n, pid) for pid, p in new.items() for n in p["numbers"]}
        for number in {n for n, _ in old_in | new_in}:
            left = sorted(pid for n, pid in old_in - new_in if n == number)
            joined = sorted(pid for n, pid in new_in - old_in if n == number)
            for gone, came in zip(left, joined):  # a move: left one pool, joined another
                # a pool is shown by its name, by its id where the name is blank (README)
                was = gone if is_blank(old[gone]["name"]) else old[gone]["name"]
                now = came if is_blank(new[came]["name"]) else new[came]["name"]
                out.add(("number_moved", location, came, number, "pool", was, now))
            for gone in left[len(joined) :]:
                out.add(("number_removed", location, gone, number, None, None, None))
            for came in joined[len(left) :]:
                out.add(("number_added", location, came, number, None, None, None))
    return out
