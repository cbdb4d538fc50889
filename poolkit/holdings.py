"""What the locations hold and pay for: their numbers by kind and by area, the inventory
(every number a location holds, in a pool or not) and its monthly cost, idle part included.
``poolkit.analysis`` offers each of these beside the other analyses."""

from __future__ import annotations

import pandas as pd

from .lookup import (
    LOCATION_COLUMNS,
    count_numbers,
    location_names,
    locations_by_id,
    names_of,
    not_a_location_column,
    pandas_tables,
)
from .model import (
    answers_nothing,
    current,
    held_numbers,
    idle_held_numbers,
    inventory_read,
    missing_pool_numbers,
    on,
    rate_of,
)
from .tables import PoolTables

__all__ = [
    "LOCAL_TYPES",
    "cost_per_location",
    "cost_summary",
    "inventory",
    "inventory_coverage",
    "monthly_cost",
    "number_kinds",
    "numbers_by_area",
]


LOCAL_TYPES = ("fixed_line", "mobile", "fixed_line_or_mobile")


def number_kinds(tables: PoolTables) -> pd.DataFrame:
    """Numbers by kind: local, toll-free, other valid types, invalid or missing.

    Enriches the numbers (``poolkit.enrich_numbers``) where ``read_pools`` did not.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.

    Returns
    -------
    pandas.DataFrame
        ``kind``, ``numbers`` and ``share`` (from 0 to 1), most first.

    Examples
    --------
    >>> kinds = poolkit.analysis.number_kinds(poolkit.load_sample())
    >>> kinds[["kind", "numbers"]].values.tolist()[:2]
    [['local', 1491], ['toll-free', 117]]
    """

    def kinds(numbers: pd.DataFrame) -> pd.Series:
        kind = pd.Series("invalid or missing", index=numbers.index, dtype=object)
        valid = numbers["is_valid"].fillna(False).astype(bool)
        types = numbers["number_type"].astype(object)
        kind[valid] = "other (" + types[valid].astype(str) + ")"
        kind[valid & types.isin(LOCAL_TYPES)] = "local"
        kind[valid & (types == "toll_free")] = "toll-free"
        return kind.rename("kind")

    counts = (
        count_numbers(tables, kinds).rename("numbers").sort_values(ascending=False, kind="stable")
    )
    counts = counts.rename_axis("kind").reset_index()
    counts = counts.sort_values(["numbers", "kind"], ascending=[False, True], kind="stable")
    counts = counts.reset_index(drop=True)  # ties by name: the same order from pandas and Dask
    counts["share"] = (counts["numbers"] / counts["numbers"].sum()).astype("Float64")
    return counts.astype({"kind": "string", "numbers": "Int64"})


def numbers_by_area(tables: PoolTables) -> pd.DataFrame:
    """Numbers per country and geographic area (the geocoder's description), most first.

    Toll-free and other non-geographic numbers count under "no geographic area".

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.

    Returns
    -------
    pandas.DataFrame
        ``region_code``, ``area``, ``numbers`` and ``share`` (from 0 to 1).

    Examples
    --------
    >>> areas = poolkit.analysis.numbers_by_area(poolkit.load_sample())
    >>> areas[["region_code", "area", "numbers"]].values.tolist()[0]
    ['US', 'Texas', 161]
    """

    def areas(numbers: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "region_code": numbers["region_code"].astype(object).fillna("unknown"),
                "area": numbers["area"].astype(object).fillna("no geographic area"),
            }
        )

    counts = count_numbers(tables, areas).rename("numbers").reset_index()
    counts["share"] = (counts["numbers"] / max(1, counts["numbers"].sum())).astype("Float64")
    counts = counts.sort_values(
        ["numbers", "region_code", "area"], ascending=[False, True, True], kind="stable"
    )
    return counts.reset_index(drop=True).astype(
        {"region_code": "string", "area": "string", "numbers": "Int64"}
    )


# ------------------------------------------------------------------------ inventory and cost


def inventory(tables: PoolTables) -> pd.DataFrame:
    """Per location, the numbers it holds and where they are.

    Only locations whose inventory was read (``poolkit fetch --numbers``) have a row; where the
    tables hold several snapshots, their current state is used.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.

    Returns
    -------
    pandas.DataFrame
        ``location_id``, ``location``, ``numbers`` (held), ``in_pools``, ``not_in_pool``,
        ``unreachable`` (in no pool, no inbound service, no forwarding) and
        ``pool_numbers_missing`` (pool numbers the inventory does not hold).

    Examples
    --------
    >>> held = poolkit.inventory(poolkit.load_sample())
    >>> len(held), int(held["numbers"].sum())
    (44, 1563)
    """
    tables = current(pandas_tables(tables))
    phones, ids = held_numbers(tables), inventory_read(tables)
    per = phones.assign(in_pool=on(phones["in_pool"]), unreachable=answers_nothing(phones)).groupby(
        phones["location_id"].astype(object)
    )
    frame = pd.DataFrame(
        {
            "numbers": per.size(),
            "in_pools": per["in_pool"].sum(),
            "unreachable": per["unreachable"].sum(),
        }
    ).reindex(ids, fill_value=0)
    frame["not_in_pool"] = frame["numbers"] - frame["in_pools"]
    missing = missing_pool_numbers(tables)["location_id"].astype(object).value_counts()
    frame["pool_numbers_missing"] = missing.reindex(ids, fill_value=0)
    frame["location"] = pd.Series(location_names(tables)).reindex(ids)
    frame = frame.rename_axis("location_id").reset_index()
    counts = ["numbers", "in_pools", "not_in_pool", "unreachable", "pool_numbers_missing"]
    frame = frame[["location_id", "location", *counts]]
    return frame.astype(
        {"location_id": "string", "location": "string"} | dict.fromkeys(counts, "Int64")
    )


def monthly_cost(tables: PoolTables, rates: dict | None = None) -> pd.DataFrame:
    """Per location and number type, what the numbers cost a month, and the idle part.

    Only locations whose inventory was read have rows, in the current state of the tables. A
    number is idle when it answers nothing, or when its every pool is inactive or has no route.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.
    rates : dict, optional
        Prices in dollars a month, overriding ``DEFAULT_RATES`` (LC Phone's published prices)
        by type (``{"local": 1.5}``) or by country and type (``{("US", "toll-free"): 2.0}``).
        A number with no rate costs nothing here and is counted as ``unpriced``.

    Returns
    -------
    pandas.DataFrame
        ``location_id``, ``location``, ``type``, ``numbers``, ``monthly_cost_cents`` (whole
        cents), ``idle_numbers``, ``idle_cost_cents`` and ``unpriced``.
        ``poolkit.model.dollars`` shows cents as dollars.

    Examples
    --------
    >>> cost = poolkit.monthly_cost(poolkit.load_sample())
    >>> int(cost["monthly_cost_cents"].sum())
    190945
    >>> int(poolkit.monthly_cost(poolkit.load_sample(), rates={"local": 2.0})["numbers"].sum())
    1563
    """
    tables = current(pandas_tables(tables))
    phones = held_numbers(tables)
    rate = rate_of(rates)
    price = pd.Series(
        [
            rate(c, t)
            for c, t in zip(phones["country_code"].astype(object), phones["type"].astype(object))
        ],
        index=phones.index,
        dtype="Int64",
    )
    idle = idle_held_numbers(tables, phones)
    frame = phones.assign(
        type=phones["type"].fillna("unknown"),
        price=price.fillna(0).astype("int64"),
        idle=idle,
        idle_price=price.fillna(0).astype("int64").where(idle, 0),
        unpriced=price.isna(),
    )
    out = (
        frame.groupby(["location_id", "type"], sort=True)
        .agg(
            numbers=("price", "size"),
            monthly_cost_cents=("price", "sum"),
            idle_numbers=("idle", "sum"),
            idle_cost_cents=("idle_price", "sum"),
            unpriced=("unpriced", "sum"),
        )
        .reset_index()
    )
    out.insert(1, "location", out["location_id"].map(location_names(tables)))
    counts = ["numbers", "monthly_cost_cents", "idle_numbers", "idle_cost_cents", "unpriced"]
    return out.astype(
        {"location_id": "string", "location": "string", "type": "string"}
        | dict.fromkeys(counts, "Int64")
    )[["location_id", "location", "type", *counts]]


def inventory_coverage(tables: PoolTables) -> dict:
    """What ``inventory`` and ``monthly_cost`` cover: of the locations that answered, how
    many had their numbers read (``read`` of ``answered``), how many were not fetched at
    all, and each answered location whose numbers were not read, with why (``unread``:
    ``location_id``, ``location``, ``why``, the manifest's word: None where the numbers were
    not asked for)."""
    tables = current(pandas_tables(tables))
    locations = locations_by_id(tables)
    answered_ids = locations.index[locations["answered"].to_numpy()]
    read = inventory_read(tables)
    unread = answered_ids.difference(read)
    said = tables.locations.drop_duplicates("location_id", keep="last").set_index("location_id")
    frame = pd.DataFrame(
        {
            "location_id": pd.array(unread, dtype="string"),
            "location": pd.array(names_of(tables, unread.to_series()).to_numpy(), dtype="string"),
            "why": pd.array(said["inventory"].reindex(unread).to_numpy(), dtype="string"),
        }
    )
    return {
        "read": len(read.intersection(answered_ids)),
        "answered": len(answered_ids),
        "not_fetched": int((~locations["answered"]).sum()),
        "unread": frame,
    }


def cost_summary(
    tables: PoolTables, by: str = "location_id", rates: dict | None = None
) -> pd.DataFrame:
    """What the numbers cost a month, per location or per place, the most idle cost first.

    ``monthly_cost`` added up over number types.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.
    by : str, default "location_id"
        ``"location_id"`` (with each location's name), or a location column such as
        ``"state_code"``, ``"state"`` or ``"country"``.
    rates : dict, optional
        Prices in dollars a month, as ``monthly_cost`` takes them.

    Returns
    -------
    pandas.DataFrame
        ``by`` (and ``location``), ``numbers``, ``monthly_cost_cents``, ``idle_numbers`` and
        ``idle_cost_cents``.

    Examples
    --------
    >>> per_state = poolkit.analysis.cost_summary(poolkit.load_sample(), by="state_code")
    >>> int(per_state["monthly_cost_cents"].sum())
    190945
    """
    cost = monthly_cost(tables, rates=rates)
    if by == "location_id":
        return cost_per_location(cost)
    if by not in LOCATION_COLUMNS:
        not_a_location_column(by)
    places = locations_by_id(pandas_tables(tables))[by].astype(object).fillna("unknown")
    return _summed(cost.assign(**{by: cost["location_id"].astype(object).map(places)}), [by])


def cost_per_location(cost: pd.DataFrame) -> pd.DataFrame:
    """What each location pays a month, from ``monthly_cost``: its number types added up,
    the most idle cost first, then the most cost.

    Parameters
    ----------
    cost : pandas.DataFrame
        What ``monthly_cost`` returns (its numbers masked or not).

    Returns
    -------
    pandas.DataFrame
        ``location_id``, ``location``, ``numbers``, ``monthly_cost_cents``,
        ``idle_numbers`` and ``idle_cost_cents``.

    Examples
    --------
    >>> cost = poolkit.monthly_cost(poolkit.load_sample())
    >>> poolkit.analysis.cost_per_location(cost).loc[0, "location"]
    'Evergreen Dental - Portland'
    """
    return _summed(cost, ["location_id", "location"])


def _summed(cost: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``cost`` added up per ``keys``, the most idle cost first, then the most cost (a frame
    of one's own may hold only some of the columns: those it holds)."""
    columns = ["numbers", "monthly_cost_cents", "idle_numbers", "idle_cost_cents"]
    keys, columns = [k for k in keys if k in cost], [c for c in columns if c in cost]
    frame = cost.groupby(keys, dropna=False)[columns].sum().reset_index()
    return frame.sort_values(
        ["idle_cost_cents", "monthly_cost_cents"], ascending=False, kind="stable"
    ).reset_index(drop=True)
