"""Analysis of tidy pool tables: each function takes ``PoolTables`` and returns a tidy DataFrame.

Shares are of all pools in the group; a flag that is NA (missing or not a boolean in the
response, see ``problems``) counts as not enabled.

The tables may be Dask DataFrames (``poolkit.read_dataset(path, engine="dask")``): then the
per-pool tables are computed (one row per pool or problem), and the numbers table never is
whole: what is counted over numbers is counted per partition and added up.
"""

from __future__ import annotations

import re

import pandas as pd

from .errors import ConfigurationError
from .holdings import (
    cost_per_location,
    cost_summary,
    inventory,
    monthly_cost,
    number_kinds,
    numbers_by_area,
)
from .lookup import (
    LOCATION_COLUMNS,
    location_names,
    locations_by_id,
    names_of,
    not_a_location_column,
    pandas_tables,
)
from .model import (
    DEFAULT_RATES,
    NONE,
    RATES_SOURCE,
    answered,
    forwarding_numbers,
    has_service,
    on,
    pool_shown,
)
from .tables import PoolTables

__all__ = [
    "DEFAULT_RATES",
    "RATES_SOURCE",
    "NO_SERVICE",
    "adoption_by",
    "cost_per_location",
    "cost_summary",
    "feature_adoption",
    "feature_adoption_summary",
    "headline",
    "inventory",
    "location_names",
    "location_summary",
    "locations_lacking",
    "locations_without_pools",
    "monthly_cost",
    "number_kinds",
    "numbers_by_area",
    "numbers_per_pool",
    "problems_summary",
    "region_summary",
    "service_mix",
]

#: A feature of one service type: ``service_voice_ai``.
SERVICE_FEATURE = "service_"
#: The label of pools with no inbound call service (in brackets: no API type is written so).
NO_SERVICE = NONE
FEATURE_LABELS = {
    "has_pool": "Has a pool",
    "whisper": "Whisper",
    "call_recording": "Call recording",
    "active": "Active pool",
    "inbound_service": "Inbound call service",
    "forwarding": "Forwarding number",
}


def service_labels(pools: pd.DataFrame) -> pd.Series:
    """``service_type`` with pools that have no service labelled ``NO_SERVICE``, "(none)"
    (a category)."""
    types = pools["service_type"]
    categories = list(dict.fromkeys([*types.cat.categories, NO_SERVICE]))
    return types.cat.set_categories(categories).where(has_service(types), NO_SERVICE)


def numbers_per_pool(tables: PoolTables) -> pd.DataFrame:
    """Per pool, its location, service and number count, most numbers first.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.

    Returns
    -------
    pandas.DataFrame
        ``location_id``, ``location`` (the name to show), ``pool_id``, ``pool`` (the name to
        show), ``is_active``, ``service_type`` and ``number_count``.

    Examples
    --------
    >>> per_pool = poolkit.analysis.numbers_per_pool(poolkit.load_sample())
    >>> len(per_pool), int(per_pool["number_count"].sum())
    (163, 1611)
    """
    tables = pandas_tables(tables)
    pools = tables.pools
    frame = pools[["location_id", "pool_id", "is_active", "number_count"]]
    frame.insert(3, "service_type", service_labels(pools))  # "(none)" as service_mix says it
    frame.insert(1, "location", names_of(tables, frame["location_id"]))
    frame.insert(3, "pool", pool_shown(pools))
    frame["number_count"] = frame["number_count"].fillna(0)
    return frame.sort_values(
        ["number_count", "location_id", "pool_id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def service_mix(tables: PoolTables, by: str | list[str] | None = None) -> pd.DataFrame:
    """Pools per inbound call service type, with shares.

    Pools with no service count as ``"(none)"`` (``NO_SERVICE``).

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.
    by : str or list of str, optional
        Columns to group by further, such as ``"location_id"``: shares are then within each
        group.

    Returns
    -------
    pandas.DataFrame
        ``service_type``, ``pools`` and ``share`` (from 0 to 1), most first.

    Examples
    --------
    >>> mix = poolkit.analysis.service_mix(poolkit.load_sample())
    >>> mix[["service_type", "pools"]].values.tolist()[:2]
    [['(none)', 58], ['forward', 38]]
    """
    tables = pandas_tables(tables)
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    pools = tables.pools.assign(service_type=service_labels(tables.pools))
    counts = (
        pools.groupby([*keys, "service_type"], observed=True).size().rename("pools").reset_index()
    )
    totals = counts.groupby(keys)["pools"].transform("sum") if keys else counts["pools"].sum()
    counts["share"] = (counts["pools"] / totals).astype("Float64")
    counts["pools"] = counts["pools"].astype("Int64")
    if "location_id" in keys:
        at = list(counts.columns).index("location_id") + 1
        counts.insert(at, "location", names_of(tables, counts["location_id"]))
    return counts.sort_values(
        [*keys, "pools"], ascending=[True] * len(keys) + [False], kind="stable"
    ).reset_index(drop=True)


def _pool_flags(tables: PoolTables) -> pd.DataFrame:
    """Per pool: each feature, and each inbound call service type (``service_<type>``)."""
    pools = tables.pools
    flags = pd.DataFrame(
        {
            "whisper": on(pools["whisper"]),
            "call_recording": on(pools["call_recording"]),
            "active": on(pools["is_active"]),
            "inbound_service": has_service(pools["service_type"]),
            "forwarding": forwarding_numbers(tables).notna().astype(bool),
        }
    )
    for service_type in pools["service_type"].cat.categories:
        flags[f"{SERVICE_FEATURE}{service_type}"] = (
            (pools["service_type"] == service_type).fillna(False).astype(bool)
        )
    return flags


def _grouping(tables: PoolTables, by: str) -> pd.Series:
    """The ``by`` value of every pool: a pool column, or a location column (``state``, ...)."""
    if by in tables.pools.columns:
        return tables.pools[by]
    if by in LOCATION_COLUMNS:
        places = locations_by_id(tables)[by].astype(object).fillna("unknown")
        return tables.pools["location_id"].map(places).astype("string")
    raise KeyError(
        f"by={by!r}: not a column of pools nor of locations ({', '.join(LOCATION_COLUMNS)})"
    )


def feature_adoption(tables: PoolTables, by: str = "location_id") -> pd.DataFrame:
    """Per location (or group), its pools and the share of them with each feature.

    Every location that answered is a row, one without pools too (0 pools, no feature).

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.
    by : str, default "location_id"
        A pool column or a location column (``"state"``, ``"country"``...) to group by.

    Returns
    -------
    pandas.DataFrame
        ``pools`` and, from 0 to 1, the share of pools with ``whisper``, ``call_recording``,
        ``active``, ``inbound_service`` and ``forwarding``, then one ``service_<type>`` column
        per inbound call service type. Per location, ``location`` is the name to show.

    Examples
    --------
    >>> adoption = poolkit.analysis.feature_adoption(poolkit.load_sample())
    >>> len(adoption), list(adoption.columns[:4])
    (45, ['location_id', 'location', 'pools', 'whisper'])
    """
    tables = pandas_tables(tables)
    flags = _pool_flags(tables)
    flags[by] = _grouping(tables, by)
    grouped = flags.groupby(by, observed=True)
    shares = grouped.mean().astype("Float64")
    shares.insert(0, "pools", grouped.size().astype("Int64"))
    if by == "location_id":
        answered = locations_by_id(tables).query("answered").index
        shares = shares.reindex(shares.index.union(answered, sort=False))
        shares = shares.fillna(0).astype({"pools": "Int64"})
    frame = shares.rename_axis(by).reset_index()
    if by == "location_id":
        frame.insert(1, "location", names_of(tables, frame["location_id"]))
    return _with_shares(frame, [c for c in shares.columns if c != "pools"])


def locations_lacking(tables: PoolTables, feature: str) -> pd.DataFrame:
    """The locations that answered and use a feature in none of their pools.

    A location without pools lacks every feature; a location not fetched is not listed (its
    pools are not known).

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.
    feature : str
        ``"has_pool"``, ``"whisper"``, ``"call_recording"``, ``"active"``,
        ``"inbound_service"``, ``"forwarding"`` or a service, such as ``"service_voice_ai"``.

    Returns
    -------
    pandas.DataFrame
        ``location_id``, ``location`` (the name to show) and ``pools``, by name.

    Raises
    ------
    poolkit.errors.ConfigurationError
        ``feature`` is not one of the features.

    Examples
    --------
    >>> lacking = poolkit.analysis.locations_lacking(poolkit.load_sample(), "whisper")
    >>> len(lacking), int((lacking["pools"] == 0).sum())
    (13, 5)
    """
    adoption = feature_adoption(tables)
    if feature == "has_pool":
        lacks = adoption["pools"] == 0
    elif feature in adoption.columns and feature not in ("location_id", "location", "pools"):
        lacks = adoption[feature].fillna(0) == 0
    else:
        known = ["has_pool", *adoption.columns.drop(["location_id", "location", "pools"])]
        raise ConfigurationError(
            f"unknown feature {feature!r}; the features are {', '.join(known)}"
        )
    found = adoption.loc[lacks.to_numpy(), ["location_id", "location", "pools"]]
    return found.sort_values(["location", "location_id"], kind="stable").reset_index(drop=True)


def feature_adoption_summary(tables: PoolTables, by: str | None = None) -> pd.DataFrame:
    """For each feature, how many locations use it in at least one pool.

    Shares divide by the locations that answered, those with no pool included ("has_pool" is
    a feature of its own). Locations whose fetch failed are counted apart.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.
    by : str, optional
        A location column (``"state"``, ``"country"``, ``"timezone"``...): a row per group
        and feature, also for a group whose every location failed.

    Returns
    -------
    pandas.DataFrame
        ``feature``, ``label`` (in words), ``locations_using``, ``locations`` (that
        answered), ``share`` (from 0 to 1) and ``locations_not_fetched``.

    Examples
    --------
    >>> summary = poolkit.analysis.feature_adoption_summary(poolkit.load_sample())
    >>> summary[["feature", "locations_using", "locations"]].values.tolist()[0]
    ['has_pool', 40, 45]
    """
    if by is not None and by not in LOCATION_COLUMNS:
        not_a_location_column(by)
    tables = pandas_tables(tables)
    locations = locations_by_id(tables)
    flags = _pool_flags(tables).assign(location_id=tables.pools["location_id"])
    answered = locations[locations["answered"]]
    per_location = (
        flags.groupby("location_id", observed=True).any().reindex(answered.index, fill_value=False)
    )
    per_location = per_location.astype(bool)
    per_location.insert(0, "has_pool", answered.index.isin(tables.pools["location_id"].dropna()))
    group = (
        locations[by].astype(object).fillna("unknown")
        if by
        else pd.Series("all", index=locations.index)
    )
    using = per_location.groupby(group[answered.index]).sum()
    counts = group[answered.index].value_counts()
    not_fetched = group[~locations["answered"]].value_counts()
    groups = sorted(set(counts.index) | set(not_fetched.index)) or ([] if by else ["all"])
    using = using.reindex(groups, fill_value=0)
    features = list(per_location.columns)
    frame = (
        using.rename_axis("group")
        .reset_index()
        .melt("group", features, "feature", "locations_using")
    )
    frame["feature"] = pd.Categorical(frame["feature"], features)
    frame = frame.sort_values(["group", "feature"], kind="stable").reset_index(drop=True)
    frame["feature"] = frame["feature"].astype(str)
    frame["label"] = frame["feature"].map(_feature_label)
    frame["locations"] = frame["group"].map(counts).fillna(0).astype(int)
    frame["share"] = (
        frame["locations_using"] / frame["locations"].where(frame["locations"] > 0)
    ).astype("Float64")
    frame["locations_not_fetched"] = frame["group"].map(not_fetched).fillna(0).astype(int)
    keys = [by] if by else []
    frame = frame.rename(columns={"group": by}) if by else frame.drop(columns="group")
    columns = [
        "feature",
        "label",
        *keys,
        "locations_using",
        "locations",
        "share",
        "locations_not_fetched",
    ]
    return frame[columns].astype(
        {
            "feature": "string",
            "label": "string",
            **{k: "string" for k in keys},
            "locations_using": "Int64",
            "locations": "Int64",
            "locations_not_fetched": "Int64",
        }
    )


def location_summary(tables: PoolTables) -> pd.DataFrame:
    """Per location, those without pools and those not fetched too: its place and counts.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.

    Returns
    -------
    pandas.DataFrame
        ``location_id``, ``location``, ``state``, ``country``, ``status`` (fetched or why
        not), ``pools``, ``numbers``, ``active_pools``, ``pools_with_service`` and
        ``active_share``; most numbers first.

    Examples
    --------
    >>> summary = poolkit.analysis.location_summary(poolkit.load_sample())
    >>> len(summary)
    46
    """
    tables = pandas_tables(tables)
    pools = tables.pools
    grouped = pools.assign(
        active=on(pools["is_active"]).astype(int),
        with_service=has_service(pools["service_type"]).astype(int),
        numbers=pools["number_count"].fillna(0),
    ).groupby("location_id", observed=True)
    counts = grouped.agg(
        pools=("pool_id", "size"),
        numbers=("numbers", "sum"),
        active_pools=("active", "sum"),
        pools_with_service=("with_service", "sum"),
    )
    locations = locations_by_id(tables)
    frame = locations[["state", "country", "status"]].join(counts, how="outer")
    frame.insert(0, "location", names_of(tables, frame.index.to_series()).to_numpy())
    answered = locations["answered"].reindex(frame.index, fill_value=True)
    counts_columns = ["pools", "numbers", "active_pools", "pools_with_service"]
    frame[counts_columns] = (
        frame[counts_columns]
        .astype("Float64")
        .where(~answered.to_numpy()[:, None] | frame[counts_columns].notna(), 0)
    )
    frame["status"] = frame["status"].astype(object).fillna("ok").astype("string")
    frame["active_share"] = (frame["active_pools"] / frame["pools"]).astype("Float64")
    frame = frame.astype({c: "Int64" for c in counts_columns})
    return (
        frame.rename_axis("location_id")
        .sort_values("numbers", ascending=False, kind="stable", na_position="last")
        .reset_index()
    )


def locations_without_pools(tables: PoolTables) -> pd.DataFrame:
    """The locations that have no pool, or were not fetched.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.

    Returns
    -------
    pandas.DataFrame
        ``location_id``, ``location``, ``state``, ``country``, ``status`` and ``error`` (why
        a location was not fetched).

    Examples
    --------
    >>> len(poolkit.analysis.locations_without_pools(poolkit.load_sample()))
    6
    """
    tables = pandas_tables(tables)
    summary = location_summary(tables)
    errors = _locations_errors(tables)
    unused = summary[(summary["pools"] == 0).fillna(False) | ~answered(summary)]
    frame = unused[["location_id", "location", "state", "country", "status"]].assign(
        error=unused["location_id"].map(errors).astype("string")
    )
    return frame.sort_values(["status", "location"], kind="stable").reset_index(drop=True)


def _locations_errors(tables: PoolTables) -> pd.Series:
    locations = tables.locations
    return (
        locations.dropna(subset=["error"])
        .drop_duplicates("location_id", keep="last")
        .set_index("location_id")["error"]
    )


def headline(tables: PoolTables) -> dict[str, int]:
    """The headline counts of the tables.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.

    Returns
    -------
    dict of str to int
        ``locations`` (that answered), ``locations_with_pools``, ``locations_without_pools``,
        ``locations_not_fetched``, ``pools``, ``numbers``, ``pools_with_service`` and
        ``problems``.

    Examples
    --------
    >>> counts = poolkit.analysis.headline(poolkit.load_sample())
    >>> counts["locations"], counts["locations_not_fetched"], counts["pools"]
    (45, 1, 163)
    """
    numbers = len(tables.numbers)  # Dask counts per partition
    tables = pandas_tables(tables)
    locations = locations_by_id(tables)
    with_pools = locations.index.isin(tables.pools["location_id"].dropna())
    return {  # the locations that answered; those not fetched are counted apart
        "locations": int(locations["answered"].sum()),
        "locations_with_pools": int((locations["answered"] & with_pools).sum()),
        "locations_without_pools": int((locations["answered"] & ~with_pools).sum()),
        "locations_not_fetched": int((~locations["answered"]).sum()),
        "pools": len(tables.pools),
        "numbers": int(numbers),
        "pools_with_service": len(tables.services),
        "problems": len(tables.problems),
    }


def region_summary(tables: PoolTables, by: str = "state") -> pd.DataFrame:
    """Per state (or another location column), its locations, pools and numbers.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.
    by : str, default "state"
        A column of ``tables.locations``: ``"state"``, ``"country"``...

    Returns
    -------
    pandas.DataFrame
        ``by``, ``locations``, ``with_pools``, ``without_pools``, ``not_fetched``, ``pools``
        and ``numbers``.

    Examples
    --------
    >>> regions = poolkit.analysis.region_summary(poolkit.load_sample(), by="country")
    >>> int(regions["locations"].sum())
    46
    """
    if by not in LOCATION_COLUMNS:
        not_a_location_column(by)
    tables = pandas_tables(tables)
    locations = locations_by_id(tables)
    pools = tables.pools.groupby("location_id", observed=True).agg(
        pools=("pool_id", "size"), numbers=("number_count", "sum")
    )
    frame = (
        locations[[by, "answered"]]
        .join(pools)
        .assign(**{by: locations[by].astype(object).fillna("unknown")})
    )
    has_pools = frame["pools"].fillna(0) > 0
    frame = frame.assign(
        with_pools=frame["answered"] & has_pools,
        without_pools=frame["answered"] & ~has_pools,
        not_fetched=~frame["answered"],
    )
    summary = frame.groupby(by, sort=True).agg(
        locations=("answered", "size"),
        with_pools=("with_pools", "sum"),
        without_pools=("without_pools", "sum"),
        not_fetched=("not_fetched", "sum"),
        pools=("pools", "sum"),
        numbers=("numbers", "sum"),
    )
    summary = summary.sort_values("locations", ascending=False, kind="stable").reset_index()
    return summary.astype({by: "string", **{c: "Int64" for c in summary.columns if c != by}})


def adoption_by(tables: PoolTables, by: str = "state") -> pd.DataFrame:
    """Share of the answering locations that use each feature, per group of locations.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.
    by : str, default "state"
        A column of ``tables.locations``: ``"state"``, ``"country"``, ``"timezone"``...

    Returns
    -------
    pandas.DataFrame
        One row per value of ``by``: ``locations`` (those that answered) and one column per
        feature label (``Whisper``, ``Call recording``...) holding its share, from 0 to 1.

    Examples
    --------
    >>> tables = poolkit.load_sample()
    >>> shares = poolkit.analysis.adoption_by(tables, by="country")
    >>> list(shares.columns[:4])
    ['country', 'locations', 'Has a pool', 'Whisper']
    """
    summary = feature_adoption_summary(tables, by=by)
    shares = summary.pivot(index=by, columns="label", values="share")
    labels = list(dict.fromkeys(summary["label"]))
    counts = summary.drop_duplicates(by).set_index(by)["locations"]
    frame = shares[labels].assign(locations=counts).reset_index()[[by, "locations", *labels]]
    return _with_shares(frame, labels)


def _with_shares(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with its share columns named in ``frame.attrs["shares"]``, where their names
    do not say so (``whisper``): shown as percentages (``present.readable``)."""
    frame.attrs["shares"] = tuple(columns)
    return frame


def problems_summary(tables: PoolTables) -> pd.DataFrame:
    """What did not fit the API contract, by kind.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.

    Returns
    -------
    pandas.DataFrame
        ``kind``, ``count``, ``files`` (how many files have it) and one example:
        ``example_source`` (the file), ``example_path`` (the JSON path), ``example_value``.

    Examples
    --------
    >>> int(poolkit.analysis.problems_summary(poolkit.load_sample())["count"].sum())
    6
    """
    tables = pandas_tables(tables)
    problems = tables.problems
    columns = ["kind", "count", "files", "example_source", "example_path", "example_value"]
    if problems.empty:
        return pd.DataFrame(
            {
                c: pd.Series([], dtype="Int64" if c in ("count", "files") else "string")
                for c in columns
            }
        )
    kinds = problems["problem"].map(_problem_kind)
    grouped = problems.assign(kind=kinds).groupby("kind", sort=False)
    frame = grouped.agg(
        count=("problem", "size"),
        files=("source", "nunique"),
        example_source=("source", "first"),
        example_path=("path", "first"),
        example_value=("value", "first"),
    ).reset_index()
    frame = frame.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)
    return frame.astype({"kind": "string", "count": "Int64", "files": "Int64"})


def _problem_kind(text: str) -> str:
    """A problem sentence without its particulars (ids, numbers, quoted names)."""
    text = re.sub(r"'[^']*'", "'…'", str(text))
    text = re.sub(r"\(first at [^)]*\)", "", text)
    text = re.sub(r"location \S+", "location …", text)
    text = re.sub(r"(?<![.\w])\d+(\.\d+)?(?!\w)", "N", text)
    return re.sub(r"\s+([;,])", r"\1", re.sub(r"\s+", " ", text)).strip(" ;")


def _feature_label(feature: str) -> str:
    if feature.startswith(SERVICE_FEATURE):
        return f"Service: {feature.removeprefix(SERVICE_FEATURE)}"
    return FEATURE_LABELS.get(feature, feature)
