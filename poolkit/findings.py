"""The audit: what is wrong with the pools, where, and what to do about it.

``audit(tables)`` runs every rule of ``RULES`` and returns the **findings** table, one row per
finding, sorted by severity, then location. A rule is a function ``(tables) -> DataFrame`` of
findings columns (``location_id``, ``pool_id``, ``phone_number``, ``detail``, ``suggestion``;
``severity`` optional); ``audit`` adds the rule's id, its severity and the location and pool
names. ``@rule(id, severity, description)`` makes one; a plain function works too, its id
being its name with dashes. A rule that raises becomes an ``error`` finding naming it, and
the other rules still run.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from importlib.resources import files
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .analysis import (
    inventory_numbers,
    is_dask,
    local,
    location_names,
    locations_by_id,
    missing_pool_numbers,
    unreachable,
)
from .errors import ConfigurationError
from .phones import to_e164, valid_numbers
from .tables import PoolTables, newest

__all__ = ["FINDING_DTYPES", "RULES", "SEVERITIES", "Rule", "audit", "findings_summary", "rule"]

#: Severities, most severe first (the order findings are sorted in).
SEVERITIES = ("error", "warning", "info")
#: The findings table's columns, in order, and their dtypes.
FINDING_DTYPES = {
    "severity": pd.CategoricalDtype(SEVERITIES, ordered=True),
    "rule": pd.StringDtype(),
    "location_id": pd.StringDtype(),
    "location_name": pd.StringDtype(),
    "pool_id": pd.StringDtype(),
    "pool_name": pd.StringDtype(),
    "phone_number": pd.StringDtype(),
    "detail": pd.StringDtype(),
    "suggestion": pd.StringDtype(),
}
_POOL = ["location_id", "pool_id"]


@dataclass(frozen=True)
class Rule:
    """An audit rule: a stable id (the findings' ``rule``), its severity, a one-line
    description, and the function that finds its cases."""

    id: str
    severity: str
    description: str
    check: Callable[[PoolTables], pd.DataFrame]

    def __call__(self, tables: PoolTables) -> pd.DataFrame:
        return self.check(tables)


def rule(id: str, severity: str, description: str) -> Callable[[Callable], Rule]:
    """Decorator: make ``check(tables) -> DataFrame`` an audit ``Rule``."""
    if severity not in SEVERITIES:
        raise ConfigurationError(f"rule {id}: severity {severity!r} is not one of {SEVERITIES}")
    return lambda check: Rule(id, severity, description, check)


def _id_of(check: Callable) -> str:
    return getattr(check, "id", None) or getattr(check, "__name__", "rule").replace("_", "-")


def _blank(values: pd.Series) -> pd.Series:
    """Missing, empty or only spaces."""
    return values.isna() | (values.str.strip() == "")


def _isin(values: pd.Series, among: pd.Series) -> np.ndarray:
    """``values.isin(among)`` by Arrow (pandas' own takes the values one by one)."""
    found = pc.is_in(pa.array(values, from_pandas=True), value_set=pa.array(among.unique()))
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _flag(values: pd.Series) -> pd.Series:
    """A boolean flag that is exactly True (NA, a flag that did not parse, counts as not)."""
    return values.fillna(False).astype(bool)


def _pool_names(tables: PoolTables, keys: pd.DataFrame, prefix: str = "") -> pd.Series:
    """The name of the pool of each row of ``keys`` (its ``location_id`` and ``pool_id``,
    with ``prefix``); NA where the pool or a key is unknown."""
    found = keys[[prefix + key for key in _POOL]].set_axis(_POOL, axis=1).astype("string")
    pools = tables.pools[[*_POOL, "name"]]
    pools = pools[_isin(pools["pool_id"], found["pool_id"].dropna())]  # only those asked of
    pools = pools.dropna(subset="pool_id").drop_duplicates(_POOL)
    names = found.merge(pools.astype({k: "string" for k in _POOL}), how="left", on=_POOL)
    return pd.Series(names["name"].to_numpy(), index=keys.index, dtype="string")


def _pool_labels(tables: PoolTables, keys: pd.DataFrame, prefix: str = "") -> pd.Series:
    """``'Pool name' (Location name)`` for each row of ``keys`` (ids where names are
    unknown, ``?`` where ids are too)."""
    location_ids = keys[prefix + "location_id"].astype("string")
    places = location_ids.map(location_names(tables)).fillna(location_ids).fillna("?")
    pools = _pool_names(tables, keys, prefix).fillna(keys[prefix + "pool_id"]).fillna("?")
    return "'" + pools + "' (" + places.astype("string") + ")"


def _plural(counts: pd.Series, noun: str) -> pd.Series:
    """``1 number``, ``3 numbers``."""
    counts = counts.astype("Int64")
    return counts.astype("string").fillna("?") + " " + noun + np.where(counts == 1, "", "s")


def _of_pools(pools: pd.DataFrame, detail: pd.Series, suggestion: str, **extra) -> pd.DataFrame:
    """Findings about these pools."""
    return pd.DataFrame(
        {
            "location_id": pools["location_id"],
            "pool_id": pools["pool_id"],
            **extra,
            "detail": detail,
            "suggestion": suggestion,
        }
    )


def _name(pools: pd.DataFrame) -> pd.Series:
    return "'" + pools["name"].fillna(pools["pool_id"]).fillna("?") + "'"


# --------------------------------------------------------------------------------- the rules


@rule(
    "duplicate-number",
    "error",
    "The same phone number in more than one pool, or listed twice in one pool.",
)
def duplicate_number(tables: PoolTables) -> pd.DataFrame:
    numbers = tables.numbers
    repeated = numbers[numbers["phone_number"].duplicated(keep=False).to_numpy()]
    repeated = repeated.dropna(subset="phone_number")
    if repeated.empty:
        return pd.DataFrame()
    # one row per pool and number; a pool repeated whole (a problem row) lists its numbers at
    # the same positions again, which is not a number listed twice
    listed = (
        repeated.groupby([*_POOL, "phone_number"], dropna=False)["position"]
        .nunique()
        .rename("times")
        .reset_index()
    )
    listed["pools"] = listed.groupby("phone_number")["pool_id"].transform("size")
    hit = listed[(listed["pools"] > 1) | (listed["times"] > 1)].copy()
    if hit.empty:
        return pd.DataFrame()
    hit["label"] = _pool_labels(tables, hit)
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
        phone_number=hit["phone_number"],
    )


@rule(
    "forwarding-loop",
    "error",
    "A pool forwards calls (forwarding number or forward service) to one of its own numbers "
    "or to a number of another pool.",
)
def forwarding_loop(tables: PoolTables) -> pd.DataFrame:
    targets = _forward_targets(tables)
    targets["number"] = _as_e164(tables, targets)
    numbers = tables.numbers
    owners = numbers.loc[
        _isin(numbers["phone_number"], targets["number"].dropna()), [*_POOL, "phone_number"]
    ].set_axis(["owner_location_id", "owner_pool_id", "number"], axis=1)
    loops = targets.merge(owners, on="number").drop_duplicates(
        [*_POOL, "field", "owner_location_id", "owner_pool_id"]
    )
    if loops.empty:
        return pd.DataFrame()
    own = (loops["owner_location_id"] == loops["location_id"]) & (
        loops["owner_pool_id"] == loops["pool_id"]
    )
    whose = _pool_labels(tables, loops, prefix="owner_").radd("a number of pool ")
    detail = (
        "The "
        + loops["field"]
        + " of "
        + _name(loops)
        + " is "
        + loops["target"]
        + ", "
        + whose.where(~own, "one of its own numbers")
        + ": its calls come straight back in."
    )
    return _of_pools(
        loops,
        detail,
        "Forward to a number outside the pools (a person's phone, a call centre) or use an "
        "inbound call service.",
        phone_number=loops["number"],
    )


def _forward_targets(tables: PoolTables) -> pd.DataFrame:
    """Where each pool sends its calls on: its forwarding number and the number of its
    ``forward`` service (``field`` says which), one row each that is not blank."""
    pools = tables.pools
    forwards = (pools["service_type"].astype(object) == "forward").to_numpy()
    frame = pd.concat(
        [
            pools[[*_POOL, "name"]].assign(
                target=pools["forwarding_number"], field="forwarding number"
            ),
            pools.loc[forwards, [*_POOL, "name"]].assign(
                target=pools.loc[forwards, "service_value"], field="forward service number"
            ),
        ],
        ignore_index=True,
    )
    return frame[~_blank(frame["target"]).to_numpy()].reset_index(drop=True)


def _as_e164(tables: PoolTables, targets: pd.DataFrame) -> pd.Series:
    """The E.164 form of each forwarding target, one without a country code read as a
    number of its location's country (NA where it does not parse)."""
    country = locations_by_id(tables)["country"]
    return to_e164(targets["target"], targets["location_id"].map(country))


#: The response fields that hold phone numbers, by what the findings call them.
_NUMBER_FIELDS = {"phoneNumber": "pool number", "forwardingNumber": "forwarding number"}


def _set_aside(tables: PoolTables) -> pd.DataFrame:
    """The phone numbers the reader left out of the tables (not E.164: problem rows), with
    the pool, the field and the value as the response gave it."""
    problems = tables.problems
    field = problems["path"].str.rsplit(".", n=1).str[-1].map(_NUMBER_FIELDS)
    texts = problems["value"].map(_json_text, na_action="ignore")
    kept = problems[(field.notna() & texts.notna()).to_numpy()]
    return kept[_POOL].assign(target=texts[kept.index], field=field[kept.index])


def _json_text(value: str) -> str | None:
    """The string a problem row's JSON ``value`` holds; None for any other JSON."""
    try:
        text = json.loads(value)
    except ValueError:
        return None
    return text if isinstance(text, str) and text.strip() else None


@rule(
    "active-pool-without-route",
    "error",
    "An active pool with neither an inbound call service nor a forwarding number.",
)
def active_pool_without_route(tables: PoolTables) -> pd.DataFrame:
    pools = tables.pools
    misformed = _set_aside(tables)  # a forwarding number not in E.164 is one, if a bad one
    misformed = misformed[misformed["field"] == "forwarding number"]
    hit = pools[
        _flag(pools["is_active"])
        & pools["service_type"].isna()
        & _blank(pools["forwarding_number"])
        & ~pd.MultiIndex.from_frame(pools[_POOL]).isin(pd.MultiIndex.from_frame(misformed[_POOL]))
    ]
    return _of_pools(
        hit,
        _name(hit)
        + " is active with "
        + _plural(hit["number_count"], "number")
        + ", but has no inbound call service and no forwarding number: its calls go nowhere.",
        "Give it an inbound call service (voice AI, IVR, forward) or a forwarding number, or "
        "switch it off.",
    )


@rule("empty-active-pool", "warning", "An active pool with no numbers.")
def empty_active_pool(tables: PoolTables) -> pd.DataFrame:
    pools = tables.pools
    hit = pools[_flag(pools["is_active"]) & (pools["number_count"] == 0).fillna(False)]
    return _of_pools(
        hit,
        _name(hit) + " is active but holds no numbers: no visitor can be given one.",
        "Add numbers to the pool, or switch it off if it is no longer used.",
    )


@rule(
    "inactive-pool-with-numbers",
    "warning",
    "An inactive pool still holding numbers (paid for every month, unused).",
)
def inactive_pool_with_numbers(tables: PoolTables) -> pd.DataFrame:
    pools = tables.pools
    hit = pools[
        pools["is_active"].eq(False).fillna(False) & (pools["number_count"] > 0).fillna(False)
    ]
    return _of_pools(
        hit,
        _name(hit)
        + " is inactive but holds "
        + _plural(hit["number_count"], "number")
        + ", paid for and unused.",
        "Release the numbers or move them to an active pool, or switch the pool back on.",
    )


@rule("whisper-without-message", "warning", "Whisper on with an empty or missing message.")
def whisper_without_message(tables: PoolTables) -> pd.DataFrame:
    pools = tables.pools
    hit = pools[_flag(pools["whisper"]) & _blank(pools["whisper_message"])]
    return _of_pools(
        hit,
        _name(hit) + " has whisper on but no whisper message: whoever answers hears nothing.",
        "Write a whisper message (such as the campaign's name), or switch whisper off.",
    )


@rule("empty-service-value", "warning", "An inbound call service whose value is empty.")
def empty_service_value(tables: PoolTables) -> pd.DataFrame:
    pools = tables.pools
    hit = pools[pools["service_type"].notna() & _blank(pools["service_value"])]
    return _of_pools(
        hit,
        _name(hit)
        + " has a "
        + hit["service_type"].astype("string")
        + " inbound call service with no value: nothing says where its calls go.",
        "Choose the agent, menu or number of the service, or remove the service.",
    )


@rule(
    "invalid-number",
    "warning",
    "A pool number, forwarding number or forward service number that is not a valid phone "
    "number by libphonenumber.",
)
def invalid_number(tables: PoolTables) -> pd.DataFrame:
    numbers, forwards = tables.numbers, _forward_targets(tables)
    pool_numbers = numbers[valid_numbers(numbers["phone_number"]).eq(False).fillna(False)]
    forwards["number"] = _as_e164(tables, forwards)  # free text: as dialled there
    invalid = valid_numbers(forwards["number"]).eq(False) | forwards["number"].isna()
    bad = pd.concat(
        [
            pool_numbers[_POOL].assign(target=pool_numbers["phone_number"], field="pool number"),
            forwards.loc[invalid.to_numpy(), [*_POOL, "target", "field"]],
        ],
        ignore_index=True,
    )
    invalid = _of_pools(
        bad,
        "The "
        + bad["field"]
        + " "
        + bad["target"]
        + " is not a valid phone number (libphonenumber): calls to it cannot connect.",
        "Correct the number in HighLevel (E.164, such as +14155552671); if it is a new area "
        "code, update the phonenumbers package.",
        phone_number=bad["target"],
    )
    aside = _set_aside(tables)
    misformed = _of_pools(
        aside,
        "The "
        + aside["field"]
        + " "
        + aside["target"]
        + " is not in E.164 form (such as +14155552671), as the API documents it: poolkit "
        "could not check it and left it out of the tables (see contract-problem).",
        "Enter the number in HighLevel with its + and country code.",
        phone_number=aside["target"],
    )
    return pd.concat([invalid, misformed], ignore_index=True)


def _consent_table() -> pd.DataFrame:
    with (files("poolkit") / "recording_consent.csv").open(encoding="utf-8") as handle:
        return pd.DataFrame(list(csv.DictReader(handle)))


@rule(
    "recording-consent",
    "info",
    "Call recording on where the location's state requires (or may require) every party's "
    "consent: a prompt to check, not legal advice.",
)
def recording_consent(tables: PoolTables) -> pd.DataFrame:
    consent = _consent_table().set_index(["country", "state"])
    places = locations_by_id(tables)  # states by their full names
    places = places.assign(country=places["country"].fillna("US"))  # a state alone: the US
    pools = tables.pools[_flag(tables.pools["call_recording"])]
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
        _name(hit).to_numpy()
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
    "A value of the response that did not fit the API contract (a row of tables.problems).",
)
def contract_problem(tables: PoolTables) -> pd.DataFrame:
    problems = tables.problems
    locations = tables.locations
    single = ~locations["source"].duplicated(keep=False)  # a file of one location names it
    by_source = locations[single.to_numpy()].set_index("source")["location_id"]
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
                problems["source"].map(by_source).astype(problems["location_id"].dtype)
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
)
def unreachable_number(tables: PoolTables) -> pd.DataFrame:
    phones = inventory_numbers(tables)
    hit = phones[unreachable(phones).to_numpy()]
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
)
def missing_pool_number(tables: PoolTables) -> pd.DataFrame:
    missing = missing_pool_numbers(tables)
    return _of_pools(
        missing,
        missing["phone_number"]
        + " is in "
        + _pool_labels(tables, missing)
        + " but not among the numbers the location holds: it may have been released, and "
        "calls to it reach no one.",
        "Remove it from the pool, or look the number up in the phone system.",
        phone_number=missing["phone_number"],
    )


@rule(
    "inactive-account",
    "warning",
    "A location whose phone account (its inventory's accountStatus) is not active.",
)
def inactive_account(tables: PoolTables) -> pd.DataFrame:
    phones = inventory_numbers(tables)
    status = phones["account_status"].astype(object)
    off = phones[(status.notna() & (status != "active")).to_numpy()]
    per = off.groupby(["location_id", "account_status"]).size().rename("count").reset_index()
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


def _chosen(rules, select, ignore) -> list:
    known = {_id_of(check) for check in rules}
    for given in (*(select or ()), *(ignore or ())):
        if given not in known:
            raise ConfigurationError(
                f"unknown rule {given!r}; the rules are {', '.join(sorted(known))}"
            )
    chosen = [
        check
        for check in rules
        if (select is None or _id_of(check) in select) and _id_of(check) not in (ignore or ())
    ]
    if not chosen:
        raise ConfigurationError("no rule left to run: select and ignore leave none")
    return chosen


def _run(check: Callable, tables: PoolTables) -> pd.DataFrame:
    """The findings of one rule, in findings columns; a rule that raises or returns something
    else than a findings frame gives one ``error`` finding that says so."""
    rule_id = _id_of(check)
    try:
        found = check(tables)
        if not isinstance(found, pd.DataFrame):
            raise TypeError(f"returned {type(found).__name__}, not a DataFrame")
        unknown = set(found.columns) - set(FINDING_DTYPES)
        if unknown:
            raise KeyError(f"returned columns that are not findings columns: {sorted(unknown)}")
        severities = set(found.get("severity", pd.Series(dtype=object)).dropna()) - set(SEVERITIES)
        if severities:
            raise ValueError(f"returned severities other than {SEVERITIES}: {sorted(severities)}")
    except Exception as exc:  # a broken rule must not hide the others' findings
        found = pd.DataFrame(
            {
                "severity": ["error"],
                "detail": [f"The rule {rule_id} failed: {type(exc).__name__}: {exc}"],
                "suggestion": [
                    f"Fix the rule, or leave it out with ignore=['{rule_id}'] (--ignore {rule_id})."
                ],
            }
        )
    found = found.reset_index(drop=True)
    if "severity" not in found:
        found["severity"] = getattr(check, "severity", "warning")
    return found.drop(columns=["location_name", "pool_name"], errors="ignore").assign(rule=rule_id)


def audit(
    tables: PoolTables,
    rules: Iterable[Callable] | None = None,
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The findings of ``rules`` (default: ``RULES``) on ``tables``: one row per finding with
    the columns of ``FINDING_DTYPES``, sorted by severity, then location, rule and pool.
    Where the tables hold several snapshots, each location is audited as of its newest.
    ``select`` runs only the rules of these ids, ``ignore`` skips these."""
    if is_dask(tables):  # duplicates and loops need every number at once
        pandas_tables = local(tables)
        pandas_tables.numbers = tables.numbers.compute().reset_index(drop=True)
        tables = pandas_tables
    tables = newest(tables)  # a location audited as it is now, not as it was
    chosen = _chosen(
        RULES if rules is None else list(rules),
        None if select is None else set(select),
        set(ignore or ()),
    )
    found = [_run(check, tables) for check in chosen]
    frame = pd.concat([f for f in found if len(f)] or [pd.DataFrame()], ignore_index=True)
    frame = frame.reindex(columns=list(FINDING_DTYPES))
    frame["location_name"] = frame["location_id"].map(location_names(tables))
    frame["pool_name"] = _pool_names(tables, frame)
    frame = frame.astype(FINDING_DTYPES).drop_duplicates()  # a pool repeated whole: once
    return frame.sort_values(
        ["severity", "location_name", "location_id", "rule", "pool_name", "pool_id"]
        + ["phone_number", "detail"],
        kind="stable",
        na_position="last",
    ).reset_index(drop=True)


def findings_summary(
    findings: pd.DataFrame, rules: Iterable[Callable] | None = None
) -> pd.DataFrame:
    """Findings per rule: severity, rule, how many, in how many locations, and what the rule
    checks; most severe first."""
    described = {
        _id_of(r): getattr(r, "description", "") for r in (RULES if rules is None else rules)
    }
    grouped = findings.groupby(["severity", "rule"], observed=True, sort=True)
    frame = grouped.agg(
        findings=("rule", "size"), locations=("location_id", "nunique")
    ).reset_index()
    frame["checks"] = frame["rule"].map(described).fillna("").astype("string")
    return frame.sort_values(
        ["severity", "findings"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)
