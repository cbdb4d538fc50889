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

from .phones import ENRICH_COLUMNS, enrich_numbers
from .tables import PoolTables, category_dtype

NO_SERVICE = "none"

#: feature name -> how a pool shows it (a boolean Series over ``tables.pools``)
FEATURES = {
    "whisper": lambda pools: pools["whisper"].fillna(False),
    "call_recording": lambda pools: pools["call_recording"].fillna(False),
    "active": lambda pools: pools["is_active"].fillna(False),
    "inbound_service": lambda pools: pools["service_type"].notna(),
    "forwarding": lambda pools: pools["forwarding_number"].notna(),
}
FEATURE_LABELS = {
    "whisper": "Whisper",
    "call_recording": "Call recording",
    "active": "Active pool",
    "inbound_service": "Inbound call service",
    "forwarding": "Forwarding number",
}


def is_dask(tables: PoolTables) -> bool:
    """True when the tables are Dask DataFrames rather than pandas ones."""
    return hasattr(tables.pools, "dask")


def local(tables: PoolTables) -> PoolTables:
    """Pandas tables to analyse: Dask tables have their per-pool tables computed (one row
    per pool or problem, never per number), so every function here accepts either."""
    if not is_dask(tables):
        return tables
    import dask

    pools, services, problems = dask.compute(tables.pools, tables.services, tables.problems)
    types = category_dtype(pools["service_type"].dropna().astype(str))
    pools, services = (
        frame.reset_index(drop=True)
        .astype({"service_type": object})
        .astype({"service_type": types})
        for frame in (pools, services)
    )
    return PoolTables(pools, tables.numbers, services, problems.reset_index(drop=True))


def _count_numbers(tables: PoolTables, keys) -> pd.Series:
    """How many numbers have each value of ``keys(enriched numbers)``: counted per partition
    of a Dask numbers table (never computed whole), at once for a pandas one."""

    def count(numbers: pd.DataFrame) -> pd.Series:
        enriched = (
            numbers if set(ENRICH_COLUMNS) <= set(numbers.columns) else enrich_numbers(numbers)
        )
        return keys(enriched).value_counts(sort=False)

    if not is_dask(tables):
        return count(tables.numbers)
    import dask

    parts = dask.compute(*(dask.delayed(count)(part) for part in tables.numbers.to_delayed()))
    return pd.concat(parts).groupby(level=list(range(parts[0].index.nlevels)), sort=False).sum()


def service_labels(pools: pd.DataFrame) -> pd.Series:
    """``service_type`` with pools that have no service labelled ``"none"`` (a category)."""
    types = pools["service_type"]
    categories = [*types.cat.categories, NO_SERVICE]
    return types.cat.set_categories(categories).fillna(NO_SERVICE)


def numbers_per_pool(tables: PoolTables) -> pd.DataFrame:
    """Per pool: location, name, active flag, service and number count, most numbers first."""
    tables = local(tables)
    pools = tables.pools
    frame = pools[
        ["location_id", "pool_id", "name", "is_active", "service_type", "number_count"]
    ].copy()
    frame["number_count"] = frame["number_count"].fillna(0)
    return frame.sort_values(
        ["number_count", "location_id", "pool_id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def service_mix(tables: PoolTables, by: str | list[str] | None = None) -> pd.DataFrame:
    """Pools per inbound call service type (``"none"`` for no service), with shares.

    ``by`` groups further (for example ``"location_id"``); shares are within each group.
    """
    tables = local(tables)
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    pools = tables.pools.assign(service_type=service_labels(tables.pools))
    counts = (
        pools.groupby([*keys, "service_type"], observed=True).size().rename("pools").reset_index()
    )
    totals = counts.groupby(keys)["pools"].transform("sum") if keys else counts["pools"].sum()
    counts["share"] = (counts["pools"] / totals).astype("Float64")
    counts["pools"] = counts["pools"].astype("Int64")
    return counts.sort_values(
        [*keys, "pools"], ascending=[True] * len(keys) + [False], kind="stable"
    ).reset_index(drop=True)


def feature_adoption(tables: PoolTables, by: str = "location_id") -> pd.DataFrame:
    """Per group (location by default): pools, and the share of its pools with each feature,
    plus the share with each inbound call service type (``service_<type>`` columns)."""
    tables = local(tables)
    pools = tables.pools
    flags = pd.DataFrame({name: test(pools).astype(bool) for name, test in FEATURES.items()})
    for service_type in pools["service_type"].cat.categories:
        flags[f"service_{service_type}"] = (
            (pools["service_type"] == service_type).fillna(False).astype(bool)
        )
    flags[by] = pools[by]
    grouped = flags.groupby(by, observed=True)
    shares = grouped.mean().astype("Float64")
    shares.insert(0, "pools", grouped.size().astype("Int64"))
    return shares.reset_index()


def feature_adoption_summary(tables: PoolTables) -> pd.DataFrame:
    """For each feature: how many locations use it in at least one pool, and what share."""
    adoption = feature_adoption(tables)
    locations = len(adoption)
    features = [c for c in adoption.columns if c not in ("location_id", "pools")]
    rows = []
    for feature in features:
        using = int((adoption[feature] > 0).sum()) if locations else 0
        rows.append(
            {
                "feature": feature,
                "label": _feature_label(feature),
                "locations_using": using,
                "locations": locations,
                "share": using / locations if locations else float("nan"),
            }
        )
    frame = pd.DataFrame(
        rows, columns=["feature", "label", "locations_using", "locations", "share"]
    )
    return frame.astype(
        {
            "feature": "string",
            "label": "string",
            "locations_using": "Int64",
            "locations": "Int64",
            "share": "Float64",
        }
    )


def location_summary(tables: PoolTables) -> pd.DataFrame:
    """Per location: pools, numbers, active pools and share, pools with a service."""
    tables = local(tables)
    pools = tables.pools
    grouped = pools.assign(
        active=pools["is_active"].fillna(False).astype(int),
        with_service=pools["service_type"].notna().astype(int),
        numbers=pools["number_count"].fillna(0),
    ).groupby("location_id", observed=True)
    frame = grouped.agg(
        pools=("pool_id", "size"),
        numbers=("numbers", "sum"),
        active_pools=("active", "sum"),
        pools_with_service=("with_service", "sum"),
    )
    frame["active_share"] = (frame["active_pools"] / frame["pools"]).astype("Float64")
    frame = frame.astype(
        {c: "Int64" for c in ("pools", "numbers", "active_pools", "pools_with_service")}
    )
    return frame.sort_values("numbers", ascending=False, kind="stable").reset_index()


def headline(tables: PoolTables) -> dict[str, int]:
    """The headline counts: locations, pools, numbers, pools with a service, problems."""
    numbers = len(tables.numbers)  # Dask counts per partition
    tables = local(tables)
    return {
        "locations": int(tables.pools["location_id"].nunique()),
        "pools": len(tables.pools),
        "numbers": int(numbers),
        "pools_with_service": len(tables.services),
        "problems": len(tables.problems),
    }


def problems_summary(tables: PoolTables) -> pd.DataFrame:
    """Problems grouped by kind, with how often, in how many files, and one example."""
    tables = local(tables)
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
    if feature.startswith("service_"):
        return f"Service: {feature.removeprefix('service_')}"
    return FEATURE_LABELS.get(feature, feature)


LOCAL_TYPES = ("fixed_line", "mobile", "fixed_line_or_mobile")


def number_kinds(tables: PoolTables) -> pd.DataFrame:
    """Numbers by kind: local (fixed line or mobile), toll-free, other valid types, invalid
    or missing; with shares. Enriches the numbers if ``read_pools`` did not."""

    def kinds(numbers: pd.DataFrame) -> pd.Series:
        kind = pd.Series("invalid or missing", index=numbers.index, dtype=object)
        valid = numbers["is_valid"].fillna(False).astype(bool)
        types = numbers["number_type"].astype(object)
        kind[valid] = "other (" + types[valid].astype(str) + ")"
        kind[valid & types.isin(LOCAL_TYPES)] = "local"
        kind[valid & (types == "toll_free")] = "toll-free"
        return kind.rename("kind")

    counts = (
        _count_numbers(tables, kinds).rename("numbers").sort_values(ascending=False, kind="stable")
    )
    counts = counts.rename_axis("kind").reset_index()
    counts = counts.sort_values(["numbers", "kind"], ascending=[False, True], kind="stable")
    counts = counts.reset_index(drop=True)  # ties by name: the same order from pandas and Dask
    counts["share"] = (counts["numbers"] / counts["numbers"].sum()).astype("Float64")
    return counts.astype({"kind": "string", "numbers": "Int64"})


def numbers_by_area(tables: PoolTables) -> pd.DataFrame:
    """Numbers per country and geographic area (the geocoder's description), most first.
    Toll-free and other non-geographic numbers have no area."""

    def areas(numbers: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "region_code": numbers["region_code"].astype(object).fillna("unknown"),
                "area": numbers["area"].astype(object).fillna("no geographic area"),
            }
        )

    counts = _count_numbers(tables, areas).rename("numbers").reset_index()
    counts["share"] = (counts["numbers"] / max(1, counts["numbers"].sum())).astype("Float64")
    counts = counts.sort_values(
        ["numbers", "region_code", "area"], ascending=[False, True, True], kind="stable"
    )
    return counts.reset_index(drop=True).astype(
        {"region_code": "string", "area": "string", "numbers": "Int64"}
    )
