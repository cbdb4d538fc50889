"""``read_pools(..., engine="dask")``: the four tables as Dask DataFrames, built in parallel.

Each partition is ``read_pools`` over a batch of files, so the values, columns and dtypes
are the pandas engine's. Two differences, both because partitions must share one schema:
fields the contract does not list are not kept as columns (their problem rows remain),
and an unknown field is reported once per partition rather than once per read.
Point the same code at a cluster with ``dask.distributed.Client("tcp://scheduler:8786")``.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from .tidy import SCHEMAS, PoolTables, _iter_sources, empty_tables


def _documented(tables: PoolTables, enrich: bool) -> dict[str, pd.DataFrame]:
    from .phones import ENRICH_COLUMNS

    out = {}
    for name, frame in tables:
        columns = list(SCHEMAS[name]) + (list(ENRICH_COLUMNS) if enrich and name == "numbers" else [])
        out[name] = frame[columns]
    return out


def _read_batch(items: list[tuple[str, Any]], errors: str, enrich: bool) -> dict[str, pd.DataFrame]:
    from .tidy import read_pools

    sources = [name if item is None else item for name, item in items]
    return _documented(read_pools(sources, errors=errors, enrich=enrich), enrich)


def _meta(enrich: bool) -> dict[str, pd.DataFrame]:
    from .phones import enrich_numbers

    tables = empty_tables()
    if enrich:
        tables.numbers = enrich_numbers(tables.numbers)
    return _documented(tables, enrich)


def read_pools_dask(source: Any, *, errors: str = "raise", enrich: bool = False,
                    files_per_partition: int = 256) -> PoolTables:
    """The tables of ``source`` as Dask DataFrames, one partition per batch of files."""
    import dask
    import dask.dataframe as dd

    from .dataset import is_dataset

    if isinstance(source, (str, os.PathLike)) and is_dataset(source):
        raise NotImplementedError("engine='dask' reads responses; read a Parquet dataset with "
                                  "dask.dataframe.read_parquet('<dir>/<table>')")
    items = list(_iter_sources(source))
    batches = [items[i:i + files_per_partition] for i in range(0, len(items), files_per_partition)] or [[]]
    parts = [dask.delayed(_read_batch, pure=True)(batch, errors, enrich) for batch in batches]
    meta = _meta(enrich)
    frames = {name: dd.from_delayed([dask.delayed(dict.get, pure=True)(part, name) for part in parts],
                                    meta=meta[name], verify_meta=False)
              for name in PoolTables.TABLES}
    for frame in frames.values():
        if "service_type" in frame.columns:  # the set is open: each partition may add types
            frame["service_type"] = frame["service_type"].cat.as_unknown()
    return PoolTables(**frames)


def is_dask(tables: PoolTables) -> bool:
    return type(tables.pools).__module__.startswith("dask")


def to_pandas(tables: PoolTables, names: tuple[str, ...] = ("pools", "services", "problems")) -> PoolTables:
    """Compute the small tables of Dask ``tables`` (one row per pool or problem, not per
    number) as the pandas engine would have built them; ``numbers`` stays lazy."""
    import dask

    from .tidy import _category_dtype

    computed = dict(zip(names, dask.compute(*(getattr(tables, n) for n in names))))
    for name, frame in computed.items():
        frame = frame.reset_index(drop=True)
        if "service_type" in frame:
            seen = set(frame["service_type"].dropna().astype(str))
            frame["service_type"] = frame["service_type"].astype(object).astype(_category_dtype(seen))
        computed[name] = frame
    return PoolTables(**{n: computed.get(n, getattr(tables, n)) for n in PoolTables.TABLES})
