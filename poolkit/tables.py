"""The four tidy tables: their columns and dtypes, the ``PoolTables`` container, and their
files on disk (CSV, and one Parquet dataset partitioned by snapshot).

Dataset layout (hive-style, readable by pandas, pyarrow, DuckDB, Dask and Spark)::

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
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import DatasetError
from .excel import write_excel
from .snapshot import read_manifest, write_atomic

__all__ = [
    "E164_PATTERN",
    "is_numbers_page",
    "PoolTables",
    "SCHEMAS",
    "SCHEMA_1_NAMES",
    "SOURCE",
    "KNOWN_SERVICE_TYPES",
    "empty_tables",
    "read_dataset",
    "is_dataset",
    "dataset_rows",
    "dataset_snapshots",
]

#: A phone number as the API writes it (E.164): the one rule every stage checks numbers by.
E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"


def is_numbers_page(doc: Any) -> bool:
    """A page of active numbers that was read: an object with a ``numbers`` list (anything
    else, such as ``{"statusCode": 200, "message": "maintenance"}``, is not one)."""
    return isinstance(doc, dict) and isinstance(doc.get("numbers"), list)


#: Service types the API documents (on phone numbers); the set is open.
KNOWN_SERVICE_TYPES = ("forward", "ivr", "voice_ai")

#: Column name -> dtype kind, in column order, for each table.
SCHEMAS: dict[str, dict[str, str]] = {
    "pools": {
        "location_id": "string",
        "pool_id": "string",
        "pool_name": "string",
        "forwarding_number": "string",
        "whisper": "boolean",
        "whisper_message": "string",
        "call_recording": "boolean",
        "is_active": "boolean",
        "service_type": "category",
        "service_value": "string",
        "number_count": "Int64",
        "pool_source": "string",
    },
    "numbers": {
        "location_id": "string",
        "pool_id": "string",
        "position": "int64",
        "phone_number": "string",
        "friendly_name": "string",
        "number_source": "string",
    },
    "services": {
        "location_id": "string",
        "pool_id": "string",
        "service_type": "category",
        "service_value": "string",
    },
    "locations": {
        "location_id": "string",
        "location_name": "string",
        "city": "string",
        "state": "string",
        "state_code": "string",
        "country": "string",
        "postal_code": "string",
        "timezone": "string",
        "status": "status",
        "error": "string",
        "pools": "Int64",
        "active_pools": "Int64",
        "numbers": "Int64",
        "inventory": "string",
        "location_source": "string",
    },
    "phone_numbers": {
        "location_id": "string",
        "phone_number": "string",
        "number_friendly_name": "string",
        "sid": "string",
        "type": "string",
        "country_code": "string",
        "voice": "boolean",
        "sms": "boolean",
        "mms": "boolean",
        "fax": "boolean",
        "is_default": "boolean",
        "origin": "string",
        "number_date_added": "timestamp",
        "number_date_updated": "timestamp",
        "number_forwarding_number": "string",
        "number_service_type": "category",
        "number_service_value": "string",
        "account_status": "string",
        "in_pool": "boolean",
        "pool_id": "string",
        "inventory_source": "string",
    },
    "problems": {
        "source": "string",
        "location_id": "string",
        "pool_id": "string",
        "path": "string",
        "value": "string",
        "problem": "string",
    },
}

#: The column that traces each table's rows to their file: named after the table, so that
#: only keys are shared and the natural joins give no ``_x``/``_y`` suffixes.
SOURCE = {
    "pools": "pool_source",
    "numbers": "number_source",
    "locations": "location_source",
    "phone_numbers": "inventory_source",
    "problems": "source",
}
#: The columns that datasets and CSVs of schema 1 (poolkit 0.1) named otherwise:
#: ``read_dataset`` and ``read_csv`` give them their names of today.
SCHEMA_1_NAMES = {
    "pools": {"name": "pool_name", "source": SOURCE["pools"]},
    "numbers": {"source": SOURCE["numbers"]},
    "locations": {"name": "location_name", "source": SOURCE["locations"]},
    "phone_numbers": {
        "friendly_name": "number_friendly_name",
        "date_added": "number_date_added",
        "date_updated": "number_date_updated",
        "forwarding_number": "number_forwarding_number",
        "service_type": "number_service_type",
        "service_value": "number_service_value",
        "source": SOURCE["phone_numbers"],
    },
}
SCHEMA_VERSION = 2


def schema_1_renames(table: str, columns: Iterable[str]) -> dict[str, str]:
    """Old name -> today's, for ``columns`` of a ``table`` of schema 1; an unknown field
    that took one of today's names then becomes ``extra_<name>``, as it would now."""
    columns = set(columns)
    out = {old: new for old, new in SCHEMA_1_NAMES.get(table, {}).items() if old in columns}
    out.update({new: f"extra_{new}" for new in list(out.values()) if new in columns})
    return out


def sources(tables: "PoolTables", table: str) -> list:
    """Each row's file of one of ``tables`` (by its ``SOURCE`` column), as Python objects."""
    return getattr(tables, table)[SOURCE[table]].astype(object).tolist()


#: The source name of responses given as Python objects (``<memory>[i]`` in a list).
MEMORY_SOURCE = "<memory>"
#: The file that marks a folder as a poolkit Parquet dataset.
DATASET_MARKER = "poolkit-dataset.json"
_ROW = "_row"
_PART = re.compile(r"part-(\d+|[0-9a-f]{16})\.parquet")  # poolkit 0.x numbered its parts


def category_dtype(seen: Iterable[str] = ()) -> pd.CategoricalDtype:
    """The ``service_type`` dtype: the documented types and any other seen."""
    return pd.CategoricalDtype(sorted(set(KNOWN_SERVICE_TYPES).union(seen)))


#: How a location of the data answered: its pools were read, its fetch failed, or the
#: snapshot's manifest lists it without a response file.
LOCATION_STATUSES = ("ok", "failed", "no_response_file")


def _pandas_dtype(kind: str):
    return {
        "string": pd.StringDtype(),
        "boolean": pd.BooleanDtype(),
        "Int64": pd.Int64Dtype(),
        "int64": np.dtype("int64"),
        "category": category_dtype(),
        "status": pd.CategoricalDtype(LOCATION_STATUSES),
        "timestamp": pd.DatetimeTZDtype("ns", "UTC"),
    }[kind]


def dtype_of(table: str, column: str):
    """The documented dtype of a column."""
    return _pandas_dtype(SCHEMAS[table][column])


def empty_frame(table: str) -> pd.DataFrame:
    """An empty ``table`` with its documented columns and dtypes."""
    return _empty(table).copy()


@lru_cache(maxsize=None)
def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame(
        {col: pd.Series([], dtype=_pandas_dtype(kind)) for col, kind in SCHEMAS[table].items()}
    )


@dataclass(repr=False)
class PoolTables:
    """The tidy tables of one or more number-pool responses.

    ``pools`` is keyed by ``(location_id, pool_id)``, ``numbers`` by
    ``(location_id, pool_id, position)``, ``locations`` by ``location_id`` (one row per
    location and snapshot, with or without pools); ``source`` traces every row to its file.
    """

    pools: pd.DataFrame
    numbers: pd.DataFrame
    services: pd.DataFrame
    problems: pd.DataFrame
    locations: pd.DataFrame = field(default_factory=lambda: empty_frame("locations"))
    phone_numbers: pd.DataFrame = field(default_factory=lambda: empty_frame("phone_numbers"))

    TABLES = ("pools", "numbers", "services", "problems", "locations", "phone_numbers")

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(getattr(self, name)):,}" for name in self.TABLES)
        return f"PoolTables({counts})"

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        for name in self.TABLES:
            yield name, getattr(self, name)

    def to_parquet(self, directory: str | os.PathLike, *, append: bool = False) -> Path:
        """Write the tables as one Parquet dataset, partitioned by snapshot (hive-style
        ``<table>/snapshot=.../``); ``poolkit.read_dataset(directory)`` reads it back identical.

        ``directory`` must be new, empty, or a poolkit dataset (whose files are replaced);
        a folder holding anything else raises ``DatasetError`` and is left as it is. With
        ``append=True`` a dataset keeps its snapshots and gains these tables' (a snapshot it
        already holds raises ``DatasetError``): the others are not rewritten."""
        return _write_dataset(self, Path(directory), append=append)

    def to_csv(self, directory: str | os.PathLike) -> Path:
        """Write ``<table>.csv`` for each table into ``directory``, each through a temporary
        file and a rename: a failed write leaves the CSV that was there."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self:
            tmp = out / f".{name}.csv.{secrets.token_hex(6)}.tmp"
            try:
                frame.to_csv(tmp, index=False)
                os.replace(tmp, out / f"{name}.csv")
            finally:
                tmp.unlink(missing_ok=True)
        return out

    def to_excel(self, path: str | os.PathLike) -> Path:
        """Write the tables to one Excel workbook, a sheet per table (``write_excel``)."""
        return write_excel(dict(self), path)


def csv_dtypes(table: str) -> dict:
    """The dtype map ``pandas.read_csv(dtype=...)`` needs to read a table's CSV back as
    written: ids and phone numbers as text (never ``18136285980.0``), flags as nullable
    booleans, counts as nullable integers; timestamps are read as text (see ``read_csv``)."""
    return {
        column: pd.StringDtype()
        if kind in ("timestamp", "category", "status")
        else _pandas_dtype(kind)
        for column, kind in SCHEMAS[table].items()
    }


def read_csv(path: str | os.PathLike, table: str | None = None) -> pd.DataFrame:
    """A table's CSV (``PoolTables.to_csv``) with its documented dtypes (a field the API
    added that poolkit keeps as a column: text); ``table`` is taken from the file's name
    (``numbers.csv``) when not given."""
    table = table or Path(path).stem
    if table not in SCHEMAS:
        raise ValueError(f"{path}: which table? give table= one of {', '.join(SCHEMAS)}")
    dtypes = defaultdict(pd.StringDtype, csv_dtypes(table))
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    if table in SCHEMA_1_NAMES and "source" in frame:  # a CSV of schema 1 (no field takes it now)
        frame = frame.rename(columns=schema_1_renames(table, frame.columns))
    types = {}
    for column, kind in SCHEMAS[table].items():
        if column not in frame:
            continue
        if kind == "timestamp":
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601").astype(
                _pandas_dtype(kind)
            )
        elif kind in ("category", "status"):
            types[column] = (
                category_dtype(frame[column].dropna().unique())
                if kind == "category"
                else _pandas_dtype(kind)
            )
    return frame.astype({c: object for c in types}).astype(types)


def empty_tables() -> PoolTables:
    """Four empty tables with the documented columns and dtypes."""
    return PoolTables(*(empty_frame(name) for name in PoolTables.TABLES))


# --------------------------------------------------------------------------- Parquet dataset


def is_dataset(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder written by ``PoolTables.to_parquet``."""
    return (Path(path) / DATASET_MARKER).is_file()


def isin(values: pd.Series, among: pd.Series) -> np.ndarray:
    """``values.isin(among)`` by Arrow (pandas' own takes the values one by one); by pandas
    where Arrow cannot compare them (values of mixed types)."""
    if not len(among):
        return np.zeros(len(values), dtype=bool)
    try:
        found = pc.is_in(
            pa.array(values, from_pandas=True), value_set=pa.array(among.unique(), from_pandas=True)
        )
    except (pa.ArrowException, TypeError):
        return values.isin(among).to_numpy(dtype=bool)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


@lru_cache(maxsize=4096)
def snapshot_label(folder: str) -> str:
    """A snapshot folder's name in the dataset and in histories: its manifest's
    ``snapshot`` (``2026-11-26T213000Z``), else the folder's name."""
    manifest = read_manifest(folder) if folder else None
    label = (manifest or {}).get("snapshot") or Path(folder).name or "unknown"
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(label))


def snapshot_of(source: object) -> str:
    """The snapshot a row belongs to, from its ``source``."""
    if not isinstance(source, str) or source.startswith(MEMORY_SOURCE):
        return "memory"
    return snapshot_label(os.path.dirname(os.path.abspath(source)))


def snapshots_of(sources: Iterable[object]) -> list[str]:
    """``snapshot_of`` each source, worked out once per folder (a snapshot holds a file per
    location: 20,000 sources are one folder)."""

    def folder(source: object) -> object:  # files by their folder; anything else by itself
        if isinstance(source, str) and not source.startswith(MEMORY_SOURCE):
            return ("folder", source.rpartition(os.sep)[0])
        return source

    sources = list(sources)
    by_folder: dict[object, str] = {}
    for source in dict.fromkeys(sources):
        if folder(source) not in by_folder:
            by_folder[folder(source)] = snapshot_of(source)
    return [by_folder[folder(source)] for source in sources]


def snapshots_in(tables: PoolTables) -> set[str]:
    """The snapshots the rows of ``tables`` come from (by their source files' folders)."""
    files = pd.Series(sources(tables, "locations") + sources(tables, "pools"), dtype=object)
    return set(snapshots_of(files.dropna().unique()))


def select_snapshots(tables: PoolTables, snapshots: set[str]) -> PoolTables:
    """The rows of ``tables`` that come from these snapshots (by their source files)."""

    def rows(labels: list[str]) -> np.ndarray:
        return np.array([label in snapshots for label in labels], dtype=bool)

    pool_labels = snapshots_of(sources(tables, "pools"))
    kept = {
        name: frame[rows(snapshots_of(sources(tables, name)))].reset_index(drop=True)
        for name, frame in tables
        if name != "services"
    }
    services = tables.services[
        rows(service_snapshots(tables.services, tables.pools, pool_labels))
    ].reset_index(drop=True)
    return PoolTables(**kept, services=services)


def service_snapshots(
    services: pd.DataFrame, pools: pd.DataFrame, pool_snapshots: list[str]
) -> list[str]:
    """Services rows are pools rows (those with a service), in the same order: walk both."""

    def keys(frame: pd.DataFrame) -> list[tuple]:  # NA as None, so that keys compare equal
        return list(
            zip(
                *(
                    frame[c].astype(object).where(frame[c].notna(), None)
                    for c in ("location_id", "pool_id")
                )
            )
        )

    pool_keys = keys(pools)
    out, at = [], 0
    for key in keys(services):
        while at < len(pool_keys) and pool_keys[at] != key:
            at += 1
        out.append(pool_snapshots[at] if at < len(pool_keys) else "unknown")
        at += 1
    return out


def _describe(frame: pd.DataFrame) -> dict:
    return {
        "columns": list(frame.columns),
        "dtypes": {c: str(t) for c, t in frame.dtypes.items()},
        "categories": {
            c: [str(v) for v in frame[c].cat.categories]
            for c in frame
            if isinstance(frame[c].dtype, pd.CategoricalDtype)
        },
    }


def _check_target(out: Path) -> None:
    """Refuse to write a dataset where a file is, or into a folder that holds anything but a
    poolkit dataset (or the parts a first write left when it was interrupted)."""
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out}: exists and is not a folder; the tables were not written")
    if out.is_dir() and not is_dataset(out):
        stray = [p for p in out.rglob("*") if p.is_file() and not _left_behind(out, p)]
        if stray:
            raise DatasetError(
                f"{out}: the folder holds files and is not a poolkit dataset ({stray[0]}); "
                "the tables were not written (choose a new or empty folder)"
            )


def _left_behind(root: Path, path: Path) -> bool:
    """A file an interrupted write of poolkit's left: a part no marker lists, or a marker
    that was never renamed into place."""
    relative = path.relative_to(root).parts
    if len(relative) == 1:
        return relative[0].startswith(f".{DATASET_MARKER}.") and relative[0].endswith(".tmp")
    return (
        len(relative) == 3
        and relative[0] in PoolTables.TABLES
        and relative[1].startswith("snapshot=")
        and _PART.fullmatch(relative[2]) is not None
    )


def _committed(root: Path) -> dict[str, list[str]]:
    """The parts of each table that the dataset's marker lists (``<table>/snapshot=.../part-
    ....parquet``, relative to ``root``): the dataset is those and nothing else. A marker of
    poolkit 0.x lists none: its dataset is every part there."""
    marker = json.loads((root / DATASET_MARKER).read_text())
    if "parts" in marker:
        return {name: list(marker["parts"].get(name, [])) for name in PoolTables.TABLES}
    return {
        name: sorted(
            p.relative_to(root).as_posix()
            for p in (root / name).glob("snapshot=*/part-*.parquet")
            if _PART.fullmatch(p.name)
        )
        for name in PoolTables.TABLES
    }


def _sweep(root: Path, committed: dict[str, list[str]]) -> None:
    """Remove the parts the marker does not list (replaced, or left by an interrupted write)
    and partitions left empty; nothing else is touched."""
    listed = {part for parts in committed.values() for part in parts}
    for path in sorted(root.rglob("*")):
        if path.is_file() and _left_behind(root, path):
            if path.relative_to(root).as_posix() not in listed:
                path.unlink(missing_ok=True)
    for table in PoolTables.TABLES:
        for folder in (root / table).glob("snapshot=*"):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def dataset_rows(directory: str | os.PathLike, table: str) -> pd.Series:
    """Rows of ``table`` per snapshot of a dataset, from the Parquet files' metadata (no row
    is read)."""
    import pyarrow.parquet as pq

    counts: dict[str, int] = {}
    for part in _parts(Path(directory), table):
        label = part.parent.name.removeprefix("snapshot=")
        counts[label] = counts.get(label, 0) + pq.ParquetFile(part).metadata.num_rows
    return pd.Series(dict(sorted(counts.items())), dtype="int64")


def dataset_snapshots(directory: str | os.PathLike) -> list[str]:
    """The snapshots a poolkit dataset holds, sorted (oldest first for snapshot times)."""
    return sorted(
        {
            part.split("/")[1].removeprefix("snapshot=")
            for parts in _committed(Path(directory)).values()
            for part in parts
        }
    )


def _parts(root: Path, table: str, snapshots: Iterable[str] | None = None) -> list[Path]:
    """The committed Parquet files of ``table``, of the given snapshots only when some are
    given, in the order they were written."""
    wanted = None if snapshots is None else {f"snapshot={s}" for s in snapshots}
    return [
        root / part
        for part in _committed(root)[table]
        if wanted is None or part.split("/")[1] in wanted
    ]


def _current_marker(marker: dict, committed: dict[str, list[str]]) -> dict:
    """A dataset's marker in today's schema: a marker of schema 1 gets today's column names,
    and lists its parts under ``schema_1_parts`` (their files keep the old names, which
    ``read_dataset`` renames as it reads them; the files are not rewritten)."""
    if marker.get("version", 1) >= SCHEMA_VERSION:
        return marker
    marker = json.loads(json.dumps(marker))
    for name, spec in marker["tables"].items():
        renames = schema_1_renames(name, spec["columns"])
        spec["columns"] = [renames.get(c, c) for c in spec["columns"]]
        for key in ("dtypes", "categories"):
            spec[key] = {renames.get(c, c): v for c, v in spec[key].items()}
    marker["version"] = SCHEMA_VERSION
    marker["schema_1_parts"] = sorted(part for parts in committed.values() for part in parts)
    return marker


def _merged_marker(old: dict, new: dict) -> dict:
    """The marker of a dataset that gains tables: columns and dtypes of both (the old ones
    first), categories of both."""
    merged = json.loads(json.dumps(old))
    for name, spec in new["tables"].items():
        have = merged["tables"].setdefault(name, spec)
        if have is spec:
            continue
        have["columns"] += [c for c in spec["columns"] if c not in have["columns"]]
        differ = {c for c, t in spec["dtypes"].items() if have["dtypes"].get(c, t) != t}
        have["dtypes"] = {**spec["dtypes"], **have["dtypes"], **dict.fromkeys(differ, "string")}
        for column, values in spec["categories"].items():
            have["categories"][column] = sorted(
                set(have["categories"].get(column, [])) | set(values)
            )
    return merged


def _write_dataset(tables: PoolTables, out: Path, *, append: bool = False) -> Path:
    """A commit protocol of the kind Spark's committers use: everything is converted to
    Arrow before the disk is touched; the new parts go under names no reader knows; the
    marker, which lists the parts that make the dataset, is renamed into place last (the
    commit); then the parts it no longer lists are removed. A write that fails or is killed
    at any moment leaves the dataset as it was, and the same write run again completes."""
    import pyarrow.parquet as pq  # loaded only when writing

    if not all(isinstance(frame, pd.DataFrame) for _, frame in tables):
        raise DatasetError(
            "to_parquet writes pandas tables; Dask tables are read from a dataset "
            "already (compute them first to write them elsewhere)"
        )
    _check_target(out)
    snapshots = {name: snapshots_of(sources(tables, name)) for name in SOURCE}
    snapshots["services"] = service_snapshots(tables.services, tables.pools, snapshots["pools"])
    marker = {
        "format": "poolkit dataset",
        "version": SCHEMA_VERSION,
        "partitioning": "hive: snapshot",
        "tables": {name: _describe(frame) for name, frame in tables},
    }
    first_row = dict.fromkeys(PoolTables.TABLES, 0)
    appending = append and is_dataset(out)
    if appending:
        there = set(dataset_snapshots(out)) & {s for labels in snapshots.values() for s in labels}
        if there:
            raise DatasetError(
                f"{out}: already holds snapshot(s) {', '.join(sorted(there))}; nothing was written"
            )
        old = _current_marker(json.loads((out / DATASET_MARKER).read_text()), _committed(out))
        marker = _merged_marker(old, marker)
        first_row = {  # row numbers go on from the dataset's, so that order is kept
            name: sum(pq.ParquetFile(p).metadata.num_rows for p in _parts(out, name))
            for name in PoolTables.TABLES
        }
    arrow = {
        name: pa.Table.from_pandas(
            frame.reset_index(drop=True).assign(
                **{
                    _ROW: range(first_row[name], first_row[name] + len(frame)),
                    "snapshot": snapshots[name],
                }
            ),
            preserve_index=False,
        )
        for name, frame in tables
        if not frame.empty
    }
    committed = _committed(out) if appending else dict.fromkeys(PoolTables.TABLES, [])
    out.mkdir(parents=True, exist_ok=True)
    written = _write_parts(out, arrow)
    marker["parts"] = {name: committed[name] + written.get(name, []) for name in committed}
    if not marker.get("schema_1_parts"):
        marker.pop("schema_1_parts", None)
    write_atomic(out / DATASET_MARKER, (json.dumps(marker, indent=2) + "\n").encode())  # commit
    _sweep(out, marker["parts"])
    return out


def _write_parts(out: Path, arrow: dict[str, pa.Table]) -> dict[str, list[str]]:
    """Write each table's rows as one new Parquet file per snapshot, under a name no earlier
    write used; no reader sees them until the marker lists them."""
    import pyarrow.parquet as pq

    token, written = secrets.token_hex(8), {}
    for name, table in arrow.items():
        labels = table.column("snapshot").to_pylist()
        for label in dict.fromkeys(labels):
            rows = pa.array([value == label for value in labels])
            part = f"{name}/snapshot={label}/part-{token}.parquet"
            (out / part).parent.mkdir(parents=True, exist_ok=True)
            with open(out / part, "wb") as handle:
                pq.write_table(table.filter(rows).drop_columns("snapshot"), handle)
                handle.flush()
                os.fsync(handle.fileno())
            written.setdefault(name, []).append(part)
    return written


def _typed(frame, spec: dict):
    """``frame`` (pandas or Dask) with the columns and dtypes the dataset's marker lists."""
    frame = frame[[c for c in spec["columns"] if c in frame.columns]]
    dtypes = {}
    for column, dtype in spec["dtypes"].items():
        if column in spec["categories"]:
            dtypes[column] = pd.CategoricalDtype(spec["categories"][column])
        elif dtype in ("string", "str"):
            dtypes[column] = pd.StringDtype()
        else:
            dtypes[column] = dtype
    categorical = {c: t for c, t in dtypes.items() if isinstance(t, pd.CategoricalDtype)}
    frame = frame.astype({c: object for c in categorical}).astype(dtypes)
    return frame


def read_dataset(
    directory: str | os.PathLike,
    *,
    engine: str = "pandas",
    snapshots: Iterable[str] | None = None,
    with_snapshot: bool = False,
    tables: Iterable[str] | None = None,
) -> PoolTables:
    """Read a dataset written by ``PoolTables.to_parquet`` back into ``PoolTables``.

    ``snapshots`` reads only those snapshots' partitions, ``tables`` only those tables (the
    others are empty); ``with_snapshot`` adds each row's ``snapshot`` (an ordered
    categorical, oldest first) to every table. ``engine="dask"``
    gives Dask DataFrames instead (one partition per Parquet file), with the same columns and
    dtypes, extra columns included; rows keep their order within a snapshot. The analysis
    functions accept them and compute only their own results.
    """
    if engine not in ("pandas", "dask"):
        raise ValueError(f"engine must be 'pandas' or 'dask', not {engine!r}")
    root = Path(directory)
    if not is_dataset(root):
        raise DatasetError(
            f"{root}: not a poolkit dataset (no {DATASET_MARKER}); "
            "read response files with poolkit.read_pools"
        )
    marker = _current_marker(json.loads((root / DATASET_MARKER).read_text()), _committed(root))
    old_parts = {root / part for part in marker.get("schema_1_parts", [])}
    held = dataset_snapshots(root)
    labels = pd.CategoricalDtype(
        held if snapshots is None else sorted(set(snapshots) & set(held)), ordered=True
    )
    frames = {}
    for name in PoolTables.TABLES:
        spec = marker["tables"].get(name) or _describe(empty_frame(name))  # older datasets
        parts = _parts(root, name, snapshots) if tables is None or name in tables else []
        if engine == "dask":
            import dask.dataframe as dd

            groups = [[p for p in parts if (p in old_parts) is old] for old in (True, False)]
            pieces = [dd.read_parquet([str(p) for p in group]) for group in groups if group]
            if groups[0]:  # the parts of schema 1, read first: today's names
                pieces[0] = pieces[0].rename(columns=schema_1_renames(name, pieces[0].columns))
            frame = (
                dd.concat(pieces)
                if pieces
                else dd.from_pandas(pd.DataFrame(columns=spec["columns"]), 1)
            )
            frames[name] = _typed(frame, spec)
            continue
        frame = _read_parts(parts, spec, name, old_parts)
        typed = _typed(frame, spec)
        for column in SCHEMAS[name]:  # a dataset older than a column: the column, empty
            if column not in typed:
                typed[column] = pd.Series(pd.NA, index=typed.index, dtype=dtype_of(name, column))
        if with_snapshot:
            typed["snapshot"] = frame["snapshot"].astype(object).astype(labels)
        frames[name] = typed
    return PoolTables(**frames)


def _read_parts(parts: list[Path], spec: dict, table: str, old_parts: set) -> pd.DataFrame:
    """The rows of these Parquet files of ``table`` in the order they were written, each with
    its ``snapshot`` and the columns of the ``old_parts`` (schema 1) given today's names;
    files of an appended dataset may lack columns that others have."""
    import pyarrow.parquet as pq

    if not parts:
        return pd.DataFrame(columns=[*spec["columns"], "snapshot"])
    pieces = []
    for part in parts:
        try:
            piece = pq.read_table(part)
        except (OSError, pa.ArrowException) as exc:
            raise DatasetError(f"{part}: cannot read this part of the dataset: {exc}") from None
        if part in old_parts:
            names = schema_1_renames(table, piece.column_names)
            piece = piece.rename_columns([names.get(c, c) for c in piece.column_names])
        label = part.parent.name.removeprefix("snapshot=")
        pieces.append(piece.append_column("snapshot", pa.array([label] * len(piece))))
    kinds: dict[str, set] = {}
    for piece in pieces:
        for column in piece.schema:
            if not pa.types.is_null(column.type):
                kinds.setdefault(column.name, set()).add(column.type)
    mixed = {name for name, types in kinds.items() if len(types) > 1}  # an unknown field
    if mixed:  # typed otherwise in another snapshot: kept as text (the marker says string)
        pieces = [
            piece.cast(
                pa.schema(
                    [
                        field.with_type(pa.large_string()) if field.name in mixed else field
                        for field in piece.schema
                    ]
                )
            )
            for piece in pieces
        ]
    table = pa.concat_tables(pieces, promote_options="permissive")
    frame = table.to_pandas()
    return frame.sort_values(_ROW, kind="stable").reset_index(drop=True)
