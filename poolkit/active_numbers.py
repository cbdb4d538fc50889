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
from typing import Any

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


def _get(item: dict, key: str) -> Any:
    """``item[a][b]`` for ``a.b``; None where a level is missing or null."""
    for part in key.split("."):
        item = item.get(part) if isinstance(item, dict) else None
    return item


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


def _page_rows(source: str, doc: Any, problems: list[dict]) -> list[dict]:
    """The rows of one page, and its problems appended to ``problems``."""
    location_id = INVENTORY_PAGE.fullmatch(os.path.basename(source))["location_id"]

    def problem(path: str, value: Any, text: str) -> None:
        problems.append(
            {
                "source": source,
                "location_id": location_id,
                "pool_id": None,
                "path": path,
                "value": None if value is None else short(value),  # any nesting, any text
                "problem": text,
            }
        )

    if isinstance(doc, Exception):  # a page that could not be read: a problem, no rows
        problem("$", None, f"{doc}; the page was skipped")
        return []
    if not is_numbers_page(doc):
        problem(
            "$",
            None,
            "not an active-numbers page: no 'numbers' list; the page was skipped and the "
            "location's inventory is incomplete",
        )
        return []
    numbers = doc["numbers"]
    status = doc.get("accountStatus")
    if status is not None and not isinstance(status, str):
        problem("accountStatus", status, "accountStatus is not a string")
        status = None
    rows = []
    for index, item in enumerate(numbers):
        if not isinstance(item, dict):
            problem(f"numbers[{index}]", item, "a number that is not an object: no row")
            continue
        row = {
            "location_id": location_id,
            "account_status": status,
            SOURCE["phone_numbers"]: source,
            "at": f"numbers[{index}]",
            "listed": _get(item, "phoneNumber")
            if isinstance(_get(item, "phoneNumber"), str)
            else None,
        }
        for column, (key, kind) in _FIELDS.items():
            value, why = _check(_get(item, key), kind)
            row[column] = value
            if why:
                problem(f"numbers[{index}].{key}", _get(item, key), f"{key}: {why}")
        if row["phone_number"] is None and _get(item, "phoneNumber") is None:
            problem(f"numbers[{index}].phoneNumber", None, "number has no phoneNumber")
        rows.append(row)
    return rows


def _listed_once(frame: pd.DataFrame, problems: list[dict]) -> pd.DataFrame:
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
            {
                "source": row[source],
                "location_id": row["location_id"],
                "pool_id": None,
                "path": f"{row['at']}.phoneNumber",
                "value": row["listed"],
                "problem": (
                    f"listed again in the location's numbers (first at {where['at']} of "
                    f"{os.path.basename(where[source])}): counted and costed once"
                ),
            }
        )
    return frame[~again.to_numpy()]


def phone_numbers_table(
    pages: list[tuple[str, Any]], numbers: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict]]:
    """The ``phone_numbers`` table of parsed inventory ``pages`` (``(file, document)``, the
    document an exception for a page that could not be read), each number marked ``in_pool``
    with its ``pool_id`` (the first, if several pools hold it) where the pools of the same
    location and snapshot folder hold it; and the problem rows."""
    problems: list[dict] = []
    rows = [row for source, doc in pages for row in _page_rows(source, doc, problems)]
    if not rows:
        return empty_frame("phone_numbers"), problems
    frame = pd.DataFrame(rows)
    frame["folder"] = frame[SOURCE["phone_numbers"]].map(os.path.dirname)
    frame = _listed_once(frame, problems)
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
