"""The numbers a location holds: the pages of ``GET /phone-system/numbers/location/{id}``
read into the ``phone_numbers`` table, joined to the pool numbers.

A snapshot keeps each location's pages as received, ``<location_id>.numbers.<page>.json``
(``poolkit.snapshot.inventory_page_name``). Both documented bodies are read: the full one
(``numbers``, ``isUnderGhl``, ``pageSize``, ``page``, ``accountStatus``) and the short empty
one (``{"numbers": [], "total": 0}``). As for pools, nothing is dropped silently: a value
that does not fit is left empty in its row and named in a problem row with its JSON path.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable

import pandas as pd

from .envelope import short
from .schemas import (
    E164_PATTERN,
    SCHEMAS,
    SOURCE,
    category_dtype,
    dtype_of,
    empty_frame,
    is_numbers_page,
)
from .snapshot import INVENTORY_PAGE

__all__ = ["phone_numbers_table"]

_E164 = re.compile(E164_PATTERN)
#: phone_numbers column -> (JSON key, kind) for the values a number object holds.
_FIELDS = {
    "phone_number": ("phoneNumber", "e164"),
    "number_friendly_name": ("friendlyName", "string"),
    "sid": ("sid", "string"),
    "type": ("type", "string"),
    "country_code": ("countryCode", "string"),
    "voice": ("capabilities.voice", "boolean"),
    "sms": ("capabilities.sms", "boolean"),
    "mms": ("capabilities.mms", "boolean"),
    "fax": ("capabilities.fax", "boolean"),
    "is_default": ("isDefaultNumber", "boolean"),
    "origin": ("origin", "string"),
    "number_date_added": ("dateAdded", "timestamp"),
    "number_date_updated": ("dateUpdated", "timestamp"),
    "number_forwarding_number": ("forwardingNumber", "string"),
    "number_service_type": ("inboundCallService.type", "string"),
    "number_service_value": ("inboundCallService.value", "string"),
}


def _getter(key: str) -> Callable[[Any], Any]:
    """``item[a][b]`` for ``a.b`` of a number object; None where a level is missing or null."""
    if "." not in key:
        return lambda item: item.get(key)
    outer, inner = key.split(".")
    return lambda item: value.get(inner) if isinstance(value := item.get(outer), dict) else None


def _check(value: Any, kind: str) -> tuple[Any, str | None]:
    """``(value to keep, problem)``: the value when it fits its kind, else None and why."""
    if value is None:
        return None, None
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (None, "expected true or false")
    if not isinstance(value, str):
        return None, f"expected a string, got {type(value).__name__}"
    if kind == "e164" and not _E164.fullmatch(value):
        return None, "not an E.164 phone number"
    if kind == "timestamp":
        try:  # in the table's unit (ns): year 0001 or 9999 does not fit, and is a problem
            return pd.Timestamp(value).tz_convert("UTC").as_unit("ns") if value else None, None
        except (ValueError, TypeError, OverflowError):
            return None, "not an ISO 8601 date-time with a time zone, within years 1678-2261"
    return (value or None), None


def _page_numbers(source: str, doc: Any, problems: list[tuple]) -> list[tuple]:
    """The number objects of one page, each as ``(source, location_id, accountStatus, index,
    object)``; the page's problems appended to ``problems`` (see ``_problem``)."""
    location_id = INVENTORY_PAGE.fullmatch(os.path.basename(source))["location_id"]

    def problem(index: int, path: str, value: Any, text: str) -> None:
        problems.append(((source, index, -1), source, location_id, path, value, text))

    if isinstance(doc, Exception):  # a page that could not be read: a problem, no rows
        problem(-1, "$", None, f"{doc}; the page was skipped")
        return []
    if not is_numbers_page(doc):
        problem(
            -1,
            "$",
            None,
            "not an active-numbers page: no 'numbers' list; the page was skipped and the "
            "location's inventory is incomplete",
        )
        return []
    status = doc.get("accountStatus")
    if status is not None and not isinstance(status, str):
        problem(-1, "accountStatus", status, "accountStatus is not a string")
        status = None
    found = []
    for index, item in enumerate(doc["numbers"]):
        if isinstance(item, dict):
            found.append((source, location_id, status, index, item))
        else:
            problem(index, f"numbers[{index}]", item, "a number that is not an object: no row")
    return found


def _rows(entries: list[tuple], problems: list[tuple]) -> pd.DataFrame:
    """The rows of the number objects of every page (``_page_numbers``), each field checked
    a column at once; what does not fit left empty and named in ``problems``."""
    items = [entry[4] for entry in entries]
    columns = {}
    for rank, (column, (key, kind)) in enumerate(_FIELDS.items()):
        given = list(map(_getter(key), items))
        columns[column], bad = _checked(given, kind)
        for k, why in bad:
            source, location_id, _, index, _ = entries[k]
            where = (source, index, rank)
            path = f"numbers[{index}].{key}"
            problems.append((where, source, location_id, path, given[k], f"{key}: {why}"))
    listed = [item.get("phoneNumber") for item in items]
    for k in (k for k, value in enumerate(listed) if value is None):
        source, location_id, _, index, _ = entries[k]
        where, path = (source, index, len(_FIELDS)), f"numbers[{index}].phoneNumber"
        problems.append((where, source, location_id, path, None, "number has no phoneNumber"))
    return pd.DataFrame(
        {
            "location_id": [entry[1] for entry in entries],
            "account_status": [entry[2] for entry in entries],
            SOURCE["phone_numbers"]: [entry[0] for entry in entries],
            "index": [entry[3] for entry in entries],
            "listed": [v if isinstance(v, str) else None for v in listed],
            **columns,
        }
    )


_FAST = {"string": {str, type(None)}, "boolean": {bool, type(None)}}
_ZONED = re.compile(r".*(Z|[+-]\d\d:?\d\d)$")  # an ISO time that says its offset


def _checked(values: list, kind: str) -> tuple[list, list[tuple[int, str]]]:
    """``values`` as kept, and ``(position, why)`` of each that does not fit ``kind``:
    ``_check`` on each, but a column of only fitting types (and of times that pandas reads
    whole) is taken at once."""
    if kind in _FAST and set(map(type, values)) <= _FAST[kind]:
        return ([v or None for v in values] if kind == "string" else values), []
    if kind == "timestamp" and values and set(map(type, values)) <= {str, type(None)}:
        times = pd.to_datetime(
            pd.Series(values, dtype=object), format="ISO8601", utc=True, errors="coerce"
        )
        low, high = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
        times = times.where((times >= low) & (times <= high))  # the table's unit is ns
        whole = all(
            v is None or v == "" or (t is not pd.NaT and _ZONED.match(v))
            for v, t in zip(values, times)
        )
        if whole:  # every time said its zone and was read: the same values _check gives
            times = times.dt.as_unit("ns")
            return [None if v is None or v == "" else t for v, t in zip(values, times)], []
    kept, bad = [], []
    for position, value in enumerate(values):
        value, why = _check(value, kind)
        kept.append(value)
        if why:
            bad.append((position, why))
    return kept, bad


def _listed_once(frame: pd.DataFrame, problems: list[tuple]) -> pd.DataFrame:
    """``frame`` with a number a location's inventory lists again (the same text, E.164 or
    not) dropped: it is one number, held and billed once; each repeat is named in a problem
    row beside its first listing."""
    key = ["location_id", "folder", "listed"]
    text = frame["listed"].map(lambda v: isinstance(v, str) and v.strip() != "")
    again = frame.duplicated(key) & text
    if not again.any():
        return frame
    first = frame[~again & text].set_index(key)
    source = SOURCE["phone_numbers"]
    for row in frame[again].itertuples(index=False):
        row = row._asdict()
        where = first.loc[(row["location_id"], row["folder"], row["listed"])]
        problems.append(
            (
                (row[source], row["index"], len(_FIELDS) + 1),
                row[source],
                row["location_id"],
                f"numbers[{row['index']}].phoneNumber",
                row["listed"],
                f"listed again in the location's numbers (first at numbers[{where['index']}] of "
                f"{os.path.basename(where[source])}): counted and costed once",
            )
        )
    return frame[~again.to_numpy()]


def phone_numbers_table(
    pages: list[tuple[str, Any]], numbers: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict]]:
    """The ``phone_numbers`` table of parsed inventory ``pages`` (``(file, document)``, the
    document an exception for a page that could not be read), each number marked ``in_pool``
    with its ``pool_id`` (the first, if several pools hold it) where the pools of the same
    location and snapshot folder hold it; and the problem rows."""
    found: list[tuple] = []
    entries = [entry for source, doc in pages for entry in _page_numbers(source, doc, found)]
    frame = _rows(entries, found) if entries else None
    if frame is not None:
        frame["folder"] = frame[SOURCE["phone_numbers"]].map(os.path.dirname)
        frame = _listed_once(frame, found)
    order = {source: rank for rank, (source, _) in enumerate(pages)}
    problems = [
        {
            "source": source,
            "location_id": location_id,
            "pool_id": None,
            "path": path,
            "value": None if value is None else short(value),  # any nesting, any text
            "problem": text,
        }
        for _, source, location_id, path, value, text in sorted(
            found, key=lambda f: (order[f[0][0]], *f[0][1:])
        )
    ]
    if frame is None:
        return empty_frame("phone_numbers"), problems
    # a page is joined to the pools of its own snapshot folder, never to another's
    held = (
        numbers[["location_id", "phone_number", "pool_id", SOURCE["numbers"]]]
        .dropna(subset=["location_id", "phone_number"])
        .astype(object)
    )
    held = held.assign(folder=held.pop(SOURCE["numbers"]).map(os.path.dirname))
    held = held.drop_duplicates(["location_id", "phone_number", "folder"])
    frame = frame.merge(
        held, how="left", on=["location_id", "phone_number", "folder"], indicator="joined"
    )
    frame["in_pool"] = frame["joined"] == "both"  # in a pool, whether its id is known or not
    service_type = "number_service_type"
    columns = [c for c in SCHEMAS["phone_numbers"] if c != service_type]
    frame = frame.astype({c: dtype_of("phone_numbers", c) for c in columns})
    kinds = category_dtype(frame[service_type].dropna().unique())  # an open set, as for pools
    frame[service_type] = frame[service_type].astype(object).astype(kinds)
    return frame[list(SCHEMAS["phone_numbers"])], problems
