"""Processed data on disk: the four tables as one Parquet dataset, partitioned by snapshot.

Layout (hive-style, readable by pandas, pyarrow, DuckDB, Dask and Spark)::

    <dir>/poolkit-dataset.json                    columns and dtypes of every table
    <dir>/pools/snapshot=2026-11-26T213000Z/part-0.parquet
    <dir>/numbers/snapshot=.../part-0.parquet
    <dir>/services/...  <dir>/problems/...

A row's snapshot is its source folder's manifest ``snapshot`` (the folder name when there
is no manifest; ``memory`` for parsed dicts). ``read_dataset`` gives back the very tables
that were written: same rows in the same order, same columns, same dtypes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .snapshot import read_manifest

MARKER = "poolkit-dataset.json"
_ROW = "_row"


def is_dataset(path: str | os.PathLike) -> bool:
    return (Path(path) / MARKER).is_file()


@lru_cache(maxsize=4096)
def _snapshot_of_folder(folder: str) -> str:
    manifest = read_manifest(folder) if folder else None
    label = (manifest or {}).get("snapshot") or Path(folder).name or "unknown"
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(label))


def snapshot_of(source: object) -> str:
    """The snapshot a row belongs to, from its ``source``."""
    if not isinstance(source, str) or source.startswith("<memory>"):
        return "memory"
    return _snapshot_of_folder(os.path.dirname(os.path.abspath(source)))


def _services_snapshots(services: pd.DataFrame, pools: pd.DataFrame, pool_snapshots: list[str]) -> list[str]:
    """Services rows are pools rows (those with a service), in the same order: walk both."""
    def keys(frame: pd.DataFrame) -> list[tuple]:  # NA as None, so that keys compare equal
        return list(zip(*(frame[c].astype(object).where(frame[c].notna(), None) for c in ("location_id", "pool_id"))))

    pool_keys = keys(pools)
    out, at = [], 0
    for key in keys(services):
        while at < len(pool_keys) and pool_keys[at] != key:
            at += 1
        out.append(pool_snapshots[at] if at < len(pool_keys) else "unknown")
        at += 1
    return out


def _describe(frame: pd.DataFrame) -> dict:
    return {"columns": list(frame.columns),
            "dtypes": {c: str(t) for c, t in frame.dtypes.items()},
            "categories": {c: [str(v) for v in frame[c].cat.categories] for c in frame
                           if isinstance(frame[c].dtype, pd.CategoricalDtype)}}


def write_dataset(tables, directory: str | os.PathLike) -> Path:
    """Write the tables as a Parquet dataset partitioned by snapshot (replacing any there)."""
    import pyarrow.parquet as pq  # here: reading responses should not pay for loading Parquet
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    pool_snapshots = [snapshot_of(s) for s in tables.pools["source"].astype(object)]
    snapshots = {
        "pools": pool_snapshots,
        "numbers": [snapshot_of(s) for s in tables.numbers["source"].astype(object)],
        "problems": [snapshot_of(s) for s in tables.problems["source"].astype(object)],
        "services": _services_snapshots(tables.services, tables.pools, pool_snapshots),
    }
    marker = {"format": "poolkit dataset", "version": 1, "partitioning": "hive: snapshot", "tables": {}}
    for name, frame in tables:
        marker["tables"][name] = _describe(frame)
        target = out / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        if frame.empty:
            continue
        data = frame.reset_index(drop=True).assign(**{_ROW: range(len(frame)), "snapshot": snapshots[name]})
        pq.write_to_dataset(pa.Table.from_pandas(data, preserve_index=False), target,
                            partition_cols=["snapshot"], basename_template="part-{i}.parquet")
    (out / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    return out


def _typed(frame: pd.DataFrame, spec: dict) -> pd.DataFrame:
    frame = frame.reindex(columns=spec["columns"])
    for column, dtype in spec["dtypes"].items():
        if column in spec["categories"]:
            frame[column] = frame[column].astype(object).astype(pd.CategoricalDtype(spec["categories"][column]))
        elif dtype in ("string", "str"):
            frame[column] = frame[column].astype(pd.StringDtype())
        else:
            frame[column] = frame[column].astype(dtype)
    return frame


def read_dataset(directory: str | os.PathLike):
    """Read a dataset written by ``write_dataset`` back into ``PoolTables``."""
    from .tidy import PoolTables

    root = Path(directory)
    marker = json.loads((root / MARKER).read_text())
    frames = {}
    for name in PoolTables.TABLES:
        spec = marker["tables"][name]
        files = sorted((root / name).rglob("*.parquet"))
        if files:
            frame = pd.read_parquet(root / name, partitioning="hive")
            frame = frame.sort_values(_ROW, kind="stable").reset_index(drop=True)
        else:
            frame = pd.DataFrame(columns=spec["columns"])
        frames[name] = _typed(frame, spec)
    return PoolTables(**frames)
