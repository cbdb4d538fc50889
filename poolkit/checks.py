"""The audit's rules: each a check of the tables with a stable id, a severity, a one-line
description and why a case matters (``Rule``, made by ``@rule``), the findings columns they
return (``FINDING_DTYPES``), and ``RULES``, every rule ``poolkit.audit`` runs by default.
"""

from __future__ import annotations

import csv
import os
from contextvars import ContextVar
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Callable

import numpy as np
import pandas as pd

from .errors import ConfigurationError
from .lookup import location_names, locations_by_id
from .model import (
    POOL_KEY,
    answers_nothing,
    blank,
    forward_targets,
    has_route,
    has_service,
    held_numbers,
    missing_pool_numbers,
    off,
    on,
    pool_identity,
    pool_labels,
    pool_rows,
    pool_title,
    set_aside,
)
from .phones import valid_numbers
from .tables import PoolTables, file_keys, isin

__all__ = [
    "AUDIT_SHARED",
    "FINDING_DTYPES",
    "RULES",
    "SEVERITIES",
    "Rule",
    "rule",
    "rule_id",
]

SEVERITIES = ("error", "warning", "info")
#: The severity dtype: ordered from the least severe, so that ``severity >= "warning"`` means
#: a warning or worse.
SEVERITY_DTYPE = pd.CategoricalDtype(SEVERITIES[::-1], ordered=True)
#: The findings table's columns, in order, and their dtypes.
FINDING_DTYPES = {
    "severity": SEVERITY_DTYPE,
    "rule": pd.StringDtype(),
    "location_id": pd.StringDtype(),
    "location": pd.StringDtype(),
    "pool_id": pd.StringDtype(),
    "pool": pd.StringDtype(),
    "phone_number": pd.StringDtype(),
    "detail": pd.StringDtype(),
    "suggestion": pd.StringDtype(),
    "pool_key": pd.Int64Dtype(),
}


@dataclass(frozen=True)
class Rule:
    """An audit rule: a stable id (the findings' ``rule``), its severity, a one-line
    description, the function that finds its cases, and why a case matters (``poolkit
    explain``; each finding says what to do)."""

    id: str
    severity: str
    description: str
    check: Callable[[PoolTables], pd.DataFrame]
    why: str = ""

    def __call__(self, tables: PoolTables) -> pd.DataFrame:
        return self.check(tables)


def rule(id: str, severity: str, description: str, *, why: str = "") -> Callable[[Callable], Rule]:
    """Make a function of the tables an audit rule, with an id, a severity and a description.

    Parameters
    ----------
    id : str
        The rule's id, as findings show it (``"small-pool"``).
    severity : {"error", "warning", "info"}
        How bad a case is.
    description : str
        What the rule finds, in one sentence.
    why : str, optional
        Why a case matters (``poolkit explain``, the report).

    Returns
    -------
    callable
        A decorator that makes ``check(tables) -> DataFrame`` a ``Rule``. The frame ``check``
        returns has the findings' columns ``location_id``, ``pool_id``, ``phone_number``,
        ``detail`` and ``suggestion`` (``severity`` optional).

    Examples
    --------
    >>> @poolkit.rule("no-pools", "info", "A location with no pool.")
    ... def no_pools(tables):
    ...     bare = tables.locations[tables.locations["pools"] == 0]
    ...     return bare[["location_id"]].assign(detail="No pool.", suggestion="Add one.")
    >>> found = poolkit.audit(poolkit.load_sample(), rules=[no_pools])
    >>> found["rule"].unique().tolist(), len(found)
    (['no-pools'], 5)
    """
    if severity not in SEVERITIES:
        raise ConfigurationError(f"rule {id}: severity {severity!r} is not one of {SEVERITIES}")
    return lambda check: Rule(id, severity, description, check, why)


def rule_id(check: Callable) -> str:
    """A rule's id: a ``Rule``'s own, else a plain function's name with dashes."""
    return getattr(check, "id", None) or getattr(check, "__name__", "rule").replace("_", "-")


#: What the rules of the audit under way share, worked out once for all of them: the
#: location names and the forward targets (a rule run on its own works them out itself).
AUDIT_SHARED: ContextVar[dict | None] = ContextVar("poolkit_audit_shared", default=None)


def _shared(name: str, tables: PoolTables, work: Callable[[PoolTables], Any]) -> Any:
    """``work(tables)``, once per audit."""
    shared = AUDIT_SHARED.get()
    if shared is None:
        return work(tables)
    if name not in shared:
        shared[name] = work(tables)
    return shared[name]


def _labels(tables: PoolTables, rows) -> np.ndarray:
    """``'Pool name' (Location name)`` of these pool rows."""
    rows = np.asarray(rows, dtype=np.int64)
    return pool_labels(tables, rows, _shared("names", tables, location_names)).to_numpy()


def _plural(counts: pd.Series, noun: str) -> pd.Series:
    """``1 number``, ``3 numbers``."""
    counts = counts.astype("Int64")
    return counts.astype("string").fillna("?") + " " + noun + np.where(counts == 1, "", "s")


def _of_pools(pools: pd.DataFrame, detail, suggestion: str, rows=None, **extra) -> pd.DataFrame:
    """Findings about these pools: rows of ``tables.pools`` (their index is their row), or
    other frames with the pools' ``location_id`` and ``pool_id`` and their ``rows``."""
    return pd.DataFrame(
        {
            "location_id": pools["location_id"],
            "pool_id": pools["pool_id"],
            **extra,
            "detail": detail,
            "suggestion": suggestion,
            "pool_row": pools.index if rows is None else rows,
        }
    )


# --------------------------------------------------------------------------------- the rules


@rule(
    "duplicate-number",
    "error",
    "The same phone number in more than one pool, or listed twice in one pool.",
    why=(
        "A call to a number in two pools is credited to one of them only: the other campaign's "
        "calls go uncounted, and reports of both are wrong."
    ),
)
def duplicate_number(tables: PoolTables) -> pd.DataFrame:
    numbers = tables.numbers
    repeated = numbers["phone_number"].duplicated(keep=False).fillna(False).to_numpy(bool)
    if not repeated.any():
        return pd.DataFrame()
    rows = pool_rows(tables, repeated)
    found = np.unique(rows[rows >= 0])  # identities of the pools holding them only
    identity = np.full(len(tables.pools), -1, dtype=np.int64)
    identity[found] = pool_identity(tables.pools.take(found))
    picked = numbers[repeated]  # the few repeated rows, before any column leaves Arrow
    listed = pd.DataFrame(
        {
            "location_id": picked["location_id"].to_numpy(),
            "pool_id": picked["pool_id"].to_numpy(),
            "phone_number": picked["phone_number"].to_numpy(),
            "position": picked["position"].to_numpy(),
            "row": rows,
            # a pool repeated whole (same id twice, a problem row) is one pool; a pool
            # without an id is a pool of its own
            "pool": np.where(rows >= 0, identity[np.maximum(rows, 0)], -1 - np.arange(len(rows))),
        }
    )
    listed = (
        listed.groupby(["pool", "phone_number"], sort=False)
        .agg(
            location_id=("location_id", "first"),
            pool_id=("pool_id", "first"),
            row=("row", "first"),
            times=("position", "nunique"),
        )
        .reset_index()
    )
    listed["pools"] = listed.groupby("phone_number")["pool"].transform("size")
    hit = listed[(listed["pools"] > 1) | (listed["times"] > 1)].copy()
    if hit.empty:
        return pd.DataFrame()
    hit["label"] = _labels(tables, hit["row"])
    per_number = hit.sort_values("label").groupby("phone_number")
    about = per_number.agg(
        labels=("label", ", ".join), locations=("location_id", "nunique")
    ).reindex(hit["phone_number"])
    across = np.where(
        about["locations"] > 1, " across " + about["locations"].astype(str) + " locations", ""
    )
    in_pools = (
        hit["phone_number"].to_numpy()
        + " is in "
        + hit["pools"].astype(str).to_numpy()
        + " pools"
        + across
        + ": "
        + about["labels"].to_numpy()
    )
    twice = (
        hit["phone_number"] + " is listed " + hit["times"].astype(str) + " times in " + hit["label"]
    )
    detail = np.where(hit["pools"] > 1, in_pools, twice.to_numpy())
    return _of_pools(
        hit,
        pd.Series(detail, index=hit.index),
        "Keep the number in one pool, once: a call to it can be attributed to one pool only.",
        rows=hit["row"],
        phone_number=hit["phone_number"],
    )


@rule(
    "forwarding-loop",
    "error",
    "A pool forwards calls (forwarding number or forward service) to one of its own numbers "
    "or to a number of another pool.",
    why=(
        "A call forwarded to a number of the pools comes back in and is forwarded again: the "
        "caller hears rings or silence and the call is lost."
    ),
)
def forwarding_loop(tables: PoolTables) -> pd.DataFrame:
    targets = _shared("targets", tables, forward_targets)
    numbers = tables.numbers
    taken = isin(numbers["phone_number"], targets["number"].dropna())
    owners = pd.DataFrame(
        {
            "number": numbers["phone_number"][taken].to_numpy(),
            "owner_row": pool_rows(tables, taken),
        }
    )
    loops = targets.merge(owners, on="number")
    if loops.empty:
        return pd.DataFrame()
    # a pool repeated whole is one pool, not two: pools told apart by identity, not by row
    owner, mine = (loops[c].to_numpy(dtype=np.int64) for c in ("owner_row", "pool_row"))
    rows = np.unique(np.concatenate([mine, owner[owner >= 0]]))  # the pools involved only
    identity = pool_identity(tables.pools.take(rows))
    loops["owner"] = np.where(owner >= 0, identity[np.searchsorted(rows, owner)], -1)
    loops = loops.drop_duplicates(["pool_row", "field", "owner"])
    own = pd.Series(
        loops["owner"].to_numpy()
        == identity[np.searchsorted(rows, loops["pool_row"].to_numpy(dtype=np.int64))],
        index=loops.index,
    )
    whose = "a number of pool " + pd.Series(_labels(tables, loops["owner_row"]), index=loops.index)
    loops = loops.assign(whose=whose.where(~own, "one of its own numbers"), own=own)
    loops = (  # one finding per setting: the pools holding its target said together
        loops.sort_values(["pool_row", "field", "own"], ascending=[True, True, False])
        .groupby(["pool_row", "field"], sort=False, as_index=False)
        .agg({**{c: "first" for c in loops.columns if c != "whose"}, "whose": " and ".join})
    )
    detail = (
        "The "
        + loops["field"]
        + " of "
        + pool_title(tables.pools.iloc[loops["pool_row"].to_numpy()]).set_axis(loops.index)
        + " is "
        + loops["target"]
        + ", "
        + loops["whose"]
        + ": its calls come straight back in."
    )
    return _of_pools(
        loops,
        detail,
        "Forward to a number outside the pools (a person's phone, a call centre) or use an "
        "inbound call service.",
        rows=loops["pool_row"],
        phone_number=loops["number"],
    )


@rule(
    "active-pool-without-route",
    "error",
    "An active pool with neither an inbound call service nor a forwarding number.",
    why=(
        "Visitors are shown this pool's numbers, but a call to them has nowhere to go: every "
        "call is lost."
    ),
)
def active_pool_without_route(tables: PoolTables) -> pd.DataFrame:
    pools = tables.pools
    hit = pools[(on(pools["is_active"]) & ~has_route(tables)).to_numpy()]
    return _of_pools(
        hit,
        pool_title(hit, start=True)
        + " is active with "
        + _plural(hit["number_count"], "number")
        + ", but has no inbound call service and no forwarding number: its calls go nowhere.",
        "Give it an inbound call service (voice AI, IVR, forward) or a forwarding number, or "
        "switch it off.",
    )


@rule(
    "empty-active-pool",
    "warning",
    "An active pool with no numbers.",
    why=(
        "An active pool with no numbers cannot give a visitor a number: its campaign is tracked"
        " by nothing."
    ),
)
def empty_active_pool(tables: PoolTables) -> pd.DataFrame:
    pools = tables.pools
    hit = pools[on(pools["is_active"]) & (pools["number_count"] == 0).fillna(False)]
    return _of_pools(
        hit,
        pool_title(hit, start=True)
        + " is active but holds no numbers: no visitor can be given one.",
        "Add numbers to the pool, or switch it off if it is no longer used.",
    )


@rule(
    "inactive-pool-with-numbers",
    "warning",
    "An inactive pool still holding numbers (paid for every month, unused).",
    why="Every number is paid for each month; in an inactive pool none of them is shown to anyone.",
)
def inactive_pool_with_numbers(tables: PoolTables) -> pd.DataFrame:
    pools = tables.pools
    hit = pools[off(pools["is_active"]) & (pools["number_count"] > 0).fillna(False)]
    return _of_pools(
        hit,
        pool_title(hit, start=True)
        + " is inactive but holds "
        + _plural(hit["number_count"], "number")
        + ", paid for and unused.",
        "Release the numbers or move them to an active pool, or switch the pool back on.",
    )


@rule(
    "whisper-without-message",
    "warning",
    "Whisper on with an empty or missing message.",
    why=(
        "Whoever answers hears silence instead of the campaign's name, and cannot tell where "
        "the call came from."
    ),
)
def whisper_without_message(tables: PoolTables) -> pd.DataFrame:
    pools = tables.pools
    hit = pools[on(pools["whisper"]) & blank(pools["whisper_message"])]
    return _of_pools(
        hit,
        pool_title(hit, start=True)
        + " has whisper on but no whisper message: whoever answers hears nothing.",
        "Write a whisper message (such as the campaign's name), or switch whisper off.",
    )


@rule(
    "empty-service-value",
    "warning",
    "An inbound call service whose value is empty.",
    why=(
        "A service with no agent, menu or number does not say where calls go: callers may meet "
        "a dead end."
    ),
)
def empty_service_value(tables: PoolTables) -> pd.DataFrame:
    pools = tables.pools
    hit = pools[has_service(pools["service_type"]) & blank(pools["service_value"])]
    return _of_pools(
        hit,
        pool_title(hit, start=True)
        + " has a "
        + hit["service_type"].astype("string")
        + " inbound call service with no value: nothing says where its calls go.",
        "Choose the agent, menu or number of the service, or remove the service.",
    )


@rule(
    "invalid-number",
    "warning",
    "A pool number, forwarding number or forward service number that is not a valid phone "
    "number by libphonenumber, or a pool or forwarding number not in E.164 form.",
    why=(
        "A number that libphonenumber finds invalid cannot be dialled as written: calls to it, "
        "or forwarded to it, fail."
    ),
)
def invalid_number(tables: PoolTables) -> pd.DataFrame:
    numbers, aside = tables.numbers, set_aside(tables)
    invalid_rows = valid_numbers(numbers["phone_number"]).eq(False).fillna(False).to_numpy(bool)
    pool_numbers = numbers[invalid_rows].assign(pool_row=pool_rows(tables, invalid_rows))
    misformed_numbers = aside[aside["field"] == "pool number"]
    targets = _shared("targets", tables, forward_targets)
    not_e164 = targets["target"] != targets["number"]  # as given, not in E.164 form
    invalid = (valid_numbers(targets["number"]).eq(False) | targets["number"].isna()).fillna(True)
    misformed = not_e164.fillna(True) & targets["field"].eq("forwarding number")
    targets = targets[invalid | misformed]
    targets = targets.drop_duplicates(["pool_row", "target"])
    invalid = invalid.reindex(targets.index)
    why = np.where(
        invalid.to_numpy(bool),
        " is not a valid phone number (libphonenumber): calls to it cannot connect.",
        " is not in E.164 form (such as +14155552671), as the API documents it.",
    )
    bad = pd.concat(
        [
            pool_numbers[[*POOL_KEY, "pool_row"]].assign(
                target=pool_numbers["phone_number"],
                field="pool number",
                why=" is not a valid phone number (libphonenumber): calls to it cannot connect.",
            ),
            misformed_numbers[[*POOL_KEY, "pool_row", "field"]].assign(
                target=misformed_numbers["text"],
                why=" is not in E.164 form (such as +14155552671), as the API documents it: "
                "poolkit could not check it and left it out of the tables (see "
                "contract-problem).",
            ),
            targets[[*POOL_KEY, "pool_row", "field", "target"]].assign(why=why),
        ],
        ignore_index=True,
    )
    return _of_pools(
        bad,
        "The " + bad["field"] + " " + bad["target"].astype("string") + bad["why"],
        "Correct the number in HighLevel (E.164, such as +14155552671); if it is a new area "
        "code, update the phonenumbers package.",
        rows=bad["pool_row"],
        phone_number=bad["target"],
    )


def _consent_table() -> pd.DataFrame:
    with (files("poolkit") / "recording_consent.csv").open(encoding="utf-8") as handle:
        return pd.DataFrame(list(csv.DictReader(handle)))


@rule(
    "recording-consent",
    "info",
    "Call recording on where the location's state requires (or may require) every party's "
    "consent: a prompt to check, not legal advice.",
    why=(
        "Some states require every party's consent to record a call; recording without a prompt"
        " may break their law."
    ),
)
def recording_consent(tables: PoolTables) -> pd.DataFrame:
    consent = _consent_table().set_index(["country", "state"])
    places = locations_by_id(tables)  # states by their full names
    places = places.assign(country=places["country"].fillna("US"))  # a state alone: the US
    pools = tables.pools[on(tables.pools["call_recording"])]
    where = places.reindex(pools["location_id"])
    rows = consent.reindex(pd.MultiIndex.from_arrays([where["country"], where["state"]]))
    hit = pools[rows["consent"].notna().to_numpy()]
    rows = rows[rows["consent"].notna().to_numpy()]
    law = rows["consent"].map(
        {
            "all-party": "where every party to a call must consent to its recording",
            "disputed": "where sources disagree on whether every party must consent",
        }
    )
    detail = (
        pool_title(hit, start=True).to_numpy()
        + " records calls in "
        + rows.index.get_level_values("state")
        + ", "
        + law.to_numpy()
        + " (sources: "
        + rows["source"].to_numpy()
        + "; compiled "
        + rows["compiled"].to_numpy()
        + "). A prompt to check, not legal advice: the API cannot show whether a recording "
        "notice plays."
    )
    return _of_pools(
        hit,
        pd.Series(detail, index=hit.index),
        "Make sure callers hear a recording notice before the call is recorded, or switch "
        "recording off.",
    )


@rule(
    "contract-problem",
    "info",
    "A response value that did not fit what the API documents; its file and path say where.",
    why=(
        "A value the API documents otherwise was left empty in its table: what is counted from "
        "it may be short."
    ),
)
def contract_problem(tables: PoolTables) -> pd.DataFrame:
    problems = tables.problems
    locations = tables.locations
    files = file_keys(tables, "locations")
    single = ~files.duplicated(keep=False)  # a file of one location names it
    by_source = pd.Series(
        locations["location_id"].to_numpy()[single.to_numpy()], index=files[single.to_numpy()]
    )
    value = problems["value"].fillna("")
    detail = (
        problems["path"].fillna("")
        + ": "
        + problems["problem"].fillna("")
        + value.where(value == "", " (value " + value + ")")
        + " in "
        + problems["source"].fillna("?").map(os.path.basename)
        + "."
    )
    return pd.DataFrame(
        {
            "location_id": problems["location_id"].fillna(
                file_keys(tables, "problems").map(by_source).astype(problems["location_id"].dtype)
            ),
            "pool_id": problems["pool_id"],
            "detail": detail,
            "suggestion": "Check the pool in HighLevel. poolkit kept the record (a bad field "
            "left empty); if the API has changed, its reader may need updating.",
        }
    )


@rule(
    "unreachable-number",
    "warning",
    "A number the location holds (its inventory) in no pool, with neither an inbound call "
    "service nor a forwarding number.",
    why=(
        "The location pays for a number that answers nothing: a call to it is lost, and the "
        "money is spent."
    ),
)
def unreachable_number(tables: PoolTables) -> pd.DataFrame:
    phones = held_numbers(tables)
    hit = phones[answers_nothing(phones).to_numpy()]
    return pd.DataFrame(
        {
            "location_id": hit["location_id"],
            "phone_number": hit["phone_number"],
            "detail": hit["phone_number"].fillna("A number")
            + " is held by the location but sits in no pool, with no inbound call service and "
            "no forwarding number: calls to it go nowhere, and it is paid for every month.",
            "suggestion": "Put it in a pool, give it an inbound call service or a forwarding "
            "number, or release it.",
        }
    )


@rule(
    "missing-pool-number",
    "error",
    "A pool number that the location's inventory does not hold.",
    why=(
        "A pool lists a number the location does not hold (released or moved): visitors may be "
        "shown a number that reaches someone else."
    ),
)
def missing_pool_number(tables: PoolTables) -> pd.DataFrame:
    missing = missing_pool_numbers(tables)
    return _of_pools(
        missing,
        missing["phone_number"]
        + " is in "
        + _labels(tables, missing["pool_row"])
        + " but not among the numbers the location holds: it may have been released, and "
        "calls to it reach no one.",
        "Remove it from the pool, or look the number up in the phone system.",
        rows=missing["pool_row"],
        phone_number=missing["phone_number"],
    )


@rule(
    "inactive-account",
    "warning",
    "A location whose phone account (its inventory's accountStatus) is not active.",
    why=(
        "While the phone account is not active, its numbers may stop taking calls: every pool "
        "of the location is at risk."
    ),
)
def inactive_account(tables: PoolTables) -> pd.DataFrame:
    phones = held_numbers(tables)
    status = phones["account_status"].astype(object)
    inactive = phones[(status.notna() & (status != "active")).to_numpy()]
    per = inactive.groupby(["location_id", "account_status"]).size().rename("count").reset_index()
    return pd.DataFrame(
        {
            "location_id": per["location_id"],
            "detail": "The location's phone account is "
            + per["account_status"].astype(str)
            + ": its "
            + _plural(per["count"], "number").to_numpy()
            + " may not take or make calls.",
            "suggestion": "Settle the account's status in HighLevel (billing, compliance), or "
            "move the pools' traffic elsewhere.",
        }
    )


#: The built-in rules, in the order they run.
RULES: tuple[Rule, ...] = (
    duplicate_number,
    forwarding_loop,
    active_pool_without_route,
    empty_active_pool,
    inactive_pool_with_numbers,
    whisper_without_message,
    empty_service_value,
    invalid_number,
    recording_consent,
    contract_problem,
    unreachable_number,
    missing_pool_number,
    inactive_account,
)


# --------------------------------------------------------------------------------- the audit
