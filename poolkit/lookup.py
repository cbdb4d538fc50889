"""What every analysis looks up: the tables as pandas ones (``pandas_tables``, from Dask's
too), each location by id with its place and status (``locations_by_id``), the name to show
for a location (``location_names``), and numbers counted per partition (``count_numbers``).
"""

from __future__ import annotations

import pandas as pd

from .model import (
    answered,
    blank,
    shown,
)
from .phones import ENRICH_COLUMNS, enrich_numbers
from .places import state_code, state_name
from .schemas import category_dtype
from .tables import PoolTables

__all__ = [
    "LOCATION_COLUMNS",
    "count_numbers",
    "is_dask",
    "location_names",
    "locations_by_id",
    "names_of",
    "not_a_location_column",
    "pandas_tables",
]


def is_dask(tables: PoolTables) -> bool:
    """True when the tables are Dask DataFrames rather than pandas ones."""
    return hasattr(tables.pools, "dask")


def pandas_tables(tables: PoolTables) -> PoolTables:
    """Pandas tables to analyse: Dask tables have their per-pool tables computed (one row
    per pool or problem, never per number), so every function here accepts either."""
    if not is_dask(tables):
        return tables
    import dask

    pools, services, problems, locations, phone_numbers = dask.compute(
        tables.pools, tables.services, tables.problems, tables.locations, tables.phone_numbers
    )
    types = category_dtype(pools["service_type"].dropna().astype(str))
    pools, services = (
        frame.reset_index(drop=True)
        .astype({"service_type": object})
        .astype({"service_type": types})
        for frame in (pools, services)
    )
    return PoolTables(
        pools,
        tables.numbers,
        services,
        problems.reset_index(drop=True),
        locations.reset_index(drop=True),
        phone_numbers.reset_index(drop=True),
    )


def count_numbers(tables: PoolTables, keys) -> pd.Series:
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


LOCATION_COLUMNS = (
    "location_name",
    "city",
    "state",
    "state_code",
    "country",
    "postal_code",
    "timezone",
)


def locations_by_id(tables: PoolTables) -> pd.DataFrame:
    """One row per location id: its details (the newest snapshot's), whether it ever answered,
    and its status; from ``tables.locations``, or from the pools where that table is empty."""
    locations = tables.locations
    if locations.empty:
        locations = pd.DataFrame(
            {"location_id": tables.pools["location_id"].dropna().unique(), "status": "ok"}
        )
        for column in LOCATION_COLUMNS:
            locations[column] = pd.Series(pd.NA, index=locations.index, dtype="string")
    places = list(zip(locations["state"].astype(object), locations["country"].astype(object)))
    names = {place: state_name(*place) for place in set(places)}  # a few distinct places
    codes = {place: state_code(*place) for place in names}
    answered_ = locations.assign(
        answered=answered(locations).to_numpy(),
        state=[names[place] for place in places],
        state_code=pd.Series([codes[place] for place in places], dtype="string").to_numpy(),
    )
    if answered_["location_id"].is_unique and answered_["location_id"].notna().all():
        frame = answered_.set_index("location_id")[[*LOCATION_COLUMNS, "answered", "status"]]
        return frame.assign(status=frame["status"].astype(object))  # one snapshot: as it is
    per_id = answered_.groupby("location_id", sort=False, observed=True)
    frame = per_id[list(LOCATION_COLUMNS)].last()
    frame["answered"] = per_id["answered"].any()
    frame["status"] = per_id["status"].last().astype(object).where(~frame["answered"], "ok")
    return frame


def not_a_location_column(by: str) -> None:
    raise KeyError(f"by={by!r}: not a location column ({', '.join(LOCATION_COLUMNS)})")


def names_of(tables: PoolTables, location_ids: pd.Series) -> pd.Series:
    """The name to show of each location id (``location_names``), as text."""
    names = location_names(tables)
    return location_ids.astype(object).map(names).astype("string")


def location_names(tables: PoolTables) -> dict[str, str]:
    """Each location's name to show: its name, with its id where two share it or none is known.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.

    Returns
    -------
    dict of str to str
        Location id to name.

    Examples
    --------
    >>> names = poolkit.analysis.location_names(poolkit.load_sample())
    >>> names["0Kaj1qHE14fhib1xYoui"]
    'Northstar Pest Control - Tampa'
    """
    names = locations_by_id(pandas_tables(tables))["location_name"]
    names = names.astype("string").mask(blank(names))
    ids = names.index.to_series()
    label = shown(names, ids).astype(object)  # no name: the id
    shared = (names.duplicated(keep=False) & names.notna()).to_numpy()
    if shared.any():
        label[shared] = names[shared] + " (" + ids[shared] + ")"
    return dict(zip(ids, label))
