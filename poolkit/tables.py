"""The tidy tables: the ``PoolTables`` container, its CSV and spreadsheet files, and the
snapshot each row belongs to.

Every row of every table belongs to one snapshot (one fetch, one week): a dataset's or a
history's rows carry it in a ``snapshot`` column; rows read from response files get it from
the snapshot their file is in (``row_snapshots``, the one place that says). The columns and
dtypes are ``poolkit.schemas``'; the Parquet dataset is ``poolkit.dataset``'s.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .dataset import dataset_snapshots, read_frames, read_marker, write_dataset
from .errors import DatasetError
from .excel import write_excel
from .schemas import (
    MEMORY_SOURCE,
    SCHEMA_1_NAMES,
    SCHEMAS,
    SOURCE,
    TABLES,
    category_dtype,
    csv_dtypes,
    empty_frame,
    pandas_dtype,
    schema_1_renames,
)
from .snapshot import snapshot_at, write_atomic

__all__ = [
    "PoolTables",
    "empty_tables",
    "isin",
    "read_csv",
    "read_dataset",
    "row_snapshots",
    "select_snapshots",
    "snapshots_in",
]


def sources(tables: "PoolTables", table: str) -> list:
    """Each row's file of one of ``tables`` (by its ``SOURCE`` column), as Python objects."""
    return getattr(tables, table)[SOURCE[table]].astype(object).tolist()


def file_keys(tables: "PoolTables", table: str) -> pd.Series:
    """Each row's file, told apart across snapshots: its ``SOURCE`` alone, or, where the
    rows carry their ``snapshot`` (a dataset stores files by their name in the snapshot),
    the snapshot and the file together."""
    frame = getattr(tables, table)
    files = frame[SOURCE[table]].astype(object)
    if "snapshot" not in frame:
        return files
    return (frame["snapshot"].astype(str) + "/" + files).where(files.notna(), None)


def relative_sources(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """``frame`` with its file column relative to each row's snapshot (``L1.json``): the
    same form for every week, wherever the snapshot folders were, and nothing of the
    machine's paths (responses given as Python objects keep ``<memory>[i]``)."""
    column = SOURCE.get(table)
    if column is None or column not in frame:
        return frame
    files = frame[column].astype(object)
    named = files.map(
        lambda f: (
            os.path.basename(f) if isinstance(f, str) and not f.startswith(MEMORY_SOURCE) else f
        )
    )
    return frame.assign(**{column: named.astype(frame[column].dtype)})


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

    TABLES = TABLES

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(getattr(self, name)):,}" for name in self.TABLES)
        return f"PoolTables({counts})"

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        for name in self.TABLES:
            yield name, getattr(self, name)

    def to_parquet(
        self, directory: str | os.PathLike, *, append: bool = False, replace: bool = False
    ) -> Path:
        """Write the tables as one Parquet dataset, partitioned by snapshot.

        Hive-style (``<table>/snapshot=.../``); ``poolkit.read_dataset(directory)`` reads it back
        identical. Committed by one rename: a write that fails or is killed leaves the dataset as
        it was.

        Parameters
        ----------
        directory : str or os.PathLike
            New, empty, or a poolkit dataset (whose files are replaced); a folder holding anything
            else raises ``poolkit.errors.DatasetError`` and is left as it is.
        append : bool, default False
            Keep the dataset's snapshots and add these tables' (the others are not rewritten); a
            snapshot it already holds raises ``DatasetError``, unless ``replace``.
        replace : bool, default False
            With ``append``: these tables' version of a snapshot the dataset holds takes its
            place, in the same commit.

        Returns
        -------
        pathlib.Path
            The dataset's folder.

        Examples
        --------
        >>> folder = poolkit.load_sample(history=True).to_parquet("weekly")
        >>> len(poolkit.read_dataset(folder).pools)
        485
        """
        if not all(isinstance(frame, pd.DataFrame) for _, frame in self):
            raise DatasetError(
                "to_parquet writes pandas tables; Dask tables are read from a dataset "
                "already (compute them first to write them elsewhere)"
            )
        return write_dataset(
            {name: relative_sources(frame, name) for name, frame in self},
            {name: row_snapshots(self, name) for name in self.TABLES},
            snapshot_records(self),
            Path(directory),
            append=append,
            replace=replace,
        )

    def to_csv(self, directory: str | os.PathLike) -> Path:
        """Write ``<table>.csv`` for each table, each through a temporary file and a rename.

        A failed write leaves the CSV that was there. ``poolkit.read_csv`` reads one back with
        its dtypes.

        Parameters
        ----------
        directory : str or os.PathLike
            Where the CSVs go (made where missing).

        Returns
        -------
        pathlib.Path
            The folder.

        Examples
        --------
        >>> folder = poolkit.load_sample().to_csv("tables")
        >>> sorted(path.name for path in folder.glob("*.csv"))[:3]
        ['locations.csv', 'numbers.csv', 'phone_numbers.csv']
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.exported().items():
            _replace_file(
                out / f"{name}.csv", lambda tmp, frame=frame: frame.to_csv(tmp, index=False)
            )
        return out

    def to_excel(self, path: str | os.PathLike) -> Path:
        """Write the tables to one Excel workbook, a sheet per table.

        Phone numbers and ids as text cells, timestamps as dates in UTC, the header frozen and
        filtered; a table longer than a sheet raises an error that says to use CSV or Parquet.

        Parameters
        ----------
        path : str or os.PathLike
            The ``.xlsx`` file.

        Returns
        -------
        pathlib.Path
            The workbook.

        Examples
        --------
        >>> poolkit.load_sample().to_excel("pools.xlsx").name
        'pools.xlsx'
        """
        return write_excel(self.exported(), path)

    def exported(self) -> dict[str, pd.DataFrame]:
        """The tables as files hold them: each row's ``snapshot`` first.

        So that a CSV or a sheet of many weeks tells them apart.

        Returns
        -------
        dict of str to pandas.DataFrame
            Table name to table.

        Examples
        --------
        >>> sorted(poolkit.load_sample().exported())[:3]
        ['locations', 'numbers', 'phone_numbers']
        """
        return {
            name: relative_sources(frame, name)
            .drop(columns="snapshot", errors="ignore")
            .assign(
                snapshot=pd.Series(row_snapshots(self, name), index=frame.index, dtype="string")
            )[["snapshot", *(c for c in frame.columns if c != "snapshot")]]
            for name, frame in self
        }


def _replace_file(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` then rename ``tmp`` to ``path``: a failed write leaves what was there."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


#: Which snapshots a dataset's CSVs hold (``{"snapshots": [...]}``), and while a week is
#: being appended, each CSV's length before it (``"appending"``): a run killed or a disk
#: that fills as it appends leaves them to be cut back to those lengths, so that a CSV never
#: holds half a week.
CSV_STATE = ".poolkit-csv.json"


def update_dataset_csv(
    directory: str | os.PathLike,
    added: PoolTables | None = None,
    *,
    held_before: Iterable[str] = (),
    replaced: bool = False,
) -> str:
    """Bring a dataset's CSVs (``<table>.csv``, every snapshot, each row's named) up to
    date: append the rows of the snapshots just ``added`` when the CSVs hold exactly
    ``held_before`` in the dataset's columns (a week costs its own rows, not the year's);
    else write them whole from the dataset. Says which it did (``current``, ``appended``,
    ``rewritten``)."""
    out = Path(directory)
    held, marker = dataset_snapshots(out), read_marker(out)
    files = {name: out / f"{name}.csv" for name in TABLES}
    held_csv = _csv_snapshots(out, files)
    present = all(path.is_file() for path in files.values())
    if present and held_csv == held and added is None:
        return "current"
    columns = {
        name: ["snapshot", *(marker["tables"].get(name) or {}).get("columns", SCHEMAS[name])]
        for name in TABLES
    }
    rows = None if added is None else added.exported()
    if (
        rows is not None
        and not replaced
        and present
        and held_csv == list(held_before)
        and all(pd.read_csv(files[n], nrows=0).columns.tolist() == columns[n] for n in TABLES)
        and all(set(frame.columns) <= set(columns[name]) for name, frame in rows.items())
    ):
        _append_csv(out, files, {n: f.reindex(columns=columns[n]) for n, f in rows.items()})
        how = "appended"
    else:
        (out / CSV_STATE).unlink(missing_ok=True)  # until written again: the CSVs are stale
        read_dataset(out).to_csv(out)
        how = "rewritten"
    write_atomic(out / CSV_STATE, json.dumps({"snapshots": held}).encode())
    return how


def _csv_snapshots(out: Path, files: dict[str, Path]) -> list[str] | None:
    """The snapshots the CSVs hold (None: unknown), after cutting back a week that a run
    left half-appended."""
    try:
        state = json.loads((out / CSV_STATE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("snapshots"), list):
        return None
    for name, size in (state.get("appending") or {}).items():
        path = files.get(name)
        if path is None or not path.is_file() or path.stat().st_size < size:
            return None
        os.truncate(path, size)
    return state["snapshots"]


def _append_csv(out: Path, files: dict[str, Path], rows: dict[str, pd.DataFrame]) -> None:
    """Append ``rows`` to each CSV in place, their lengths recorded first: an append that
    fails is cut back at once, one that is killed by the next update."""
    sizes = {name: path.stat().st_size for name, path in files.items()}
    state = json.loads((out / CSV_STATE).read_text())
    write_atomic(out / CSV_STATE, json.dumps({**state, "appending": sizes}).encode())
    try:
        for name, frame in rows.items():
            if len(frame):
                with open(files[name], "a", newline="", encoding="utf-8") as handle:
                    frame.to_csv(handle, index=False, header=False)
                    handle.flush()
                    os.fsync(handle.fileno())
    except BaseException:
        for name, size in sizes.items():
            os.truncate(files[name], size)
        raise


def read_csv(path: str | os.PathLike, table: str | None = None) -> pd.DataFrame:
    """A table's CSV, as ``PoolTables.to_csv`` wrote it, with its documented dtypes.

    ``pandas.read_csv`` reads phone numbers as floats; this reads them as the text they are,
    flags as nullable booleans and counts as nullable integers. A field the API added that
    poolkit keeps as a column is read as text.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    table : str, optional
        Which table it holds (``"numbers"``...); default: the file's name (``numbers.csv``).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> folder = poolkit.load_sample().to_csv("tables")
    >>> numbers = poolkit.read_csv(folder / "numbers.csv")
    >>> numbers.loc[0, "phone_number"].startswith("+")
    True
    """
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
                pandas_dtype(kind)
            )
        elif kind in ("category", "status"):
            types[column] = (
                category_dtype(frame[column].dropna().unique())
                if kind == "category"
                else pandas_dtype(kind)
            )
    return frame.astype({c: object for c in types}).astype(types)


def empty_tables() -> PoolTables:
    """Four empty tables with the documented columns and dtypes."""
    return PoolTables(*(empty_frame(name) for name in PoolTables.TABLES))


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


def snapshot_of(source: object) -> str:
    """The snapshot a row belongs to, from its ``source``."""
    if not isinstance(source, str) or source.startswith(MEMORY_SOURCE):
        return "memory"
    return snapshot_at(os.path.dirname(os.path.abspath(source))).id


def source_snapshots(sources: Iterable[object]) -> list[str]:
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


def row_snapshots(tables: PoolTables, table: str) -> list[str]:
    """Each row's snapshot of one of ``tables``: its ``snapshot`` column where it has one (a
    dataset or a history read), else the snapshot its file is in (services: its pool's)."""
    frame = getattr(tables, table)
    if "snapshot" in frame:
        return frame["snapshot"].astype(object).tolist()
    if table == "services":
        return service_snapshots(tables.services, tables.pools, row_snapshots(tables, "pools"))
    return source_snapshots(sources(tables, table))


def snapshot_records(tables: PoolTables) -> dict[str, dict]:
    """Snapshot id -> what the dataset's marker keeps of it: ``taken_at`` (ISO, UTC; None
    when nothing says) and ``complete``, for the snapshots of the files ``tables`` were read
    from."""
    files = pd.Series(sources(tables, "locations") + sources(tables, "pools"), dtype=object)
    folders = {
        os.path.dirname(os.path.abspath(source))
        for source in files.dropna().unique()
        if isinstance(source, str) and not source.startswith(MEMORY_SOURCE)
    }
    found = [snapshot_at(folder) for folder in sorted(folders)]
    return {
        snap.id: {
            "taken_at": snap.taken_at and snap.taken_at.isoformat(),
            "complete": snap.complete,
        }
        for snap in found
    }


def snapshots_in(tables: PoolTables) -> set[str]:
    """The snapshots the rows of ``tables`` come from (``row_snapshots``)."""
    if "snapshot" in tables.locations or "snapshot" in tables.pools:
        return set(row_snapshots(tables, "locations")) | set(row_snapshots(tables, "pools"))
    files = pd.Series(sources(tables, "locations") + sources(tables, "pools"), dtype=object)
    return set(source_snapshots(files.dropna().unique()))


def select_snapshots(tables: PoolTables, snapshots: set[str]) -> PoolTables:
    """The rows of ``tables`` that come from these snapshots (``row_snapshots``)."""
    return PoolTables(
        **{
            name: frame[
                np.array([s in snapshots for s in row_snapshots(tables, name)], dtype=bool)
            ].reset_index(drop=True)
            for name, frame in tables
        }
    )


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


def read_dataset(
    directory: str | os.PathLike,
    *,
    engine: str = "pandas",
    snapshots: Iterable[str] | None = None,
    with_snapshot: bool = True,
    tables: Iterable[str] | None = None,
) -> PoolTables:
    """Read a Parquet dataset (``PoolTables.to_parquet``, ``poolkit run``) into tables.

    Every table has each row's ``snapshot``, an ordered categorical, oldest first. A field
    that some weeks have and others lack is a column of every week (empty where it was not
    sent); one whose type changed between weeks is kept as text.

    Parameters
    ----------
    directory : str or os.PathLike
        The dataset's folder, such as ``data/processed/weekly``.
    engine : {"pandas", "dask"}, default "pandas"
        ``"dask"`` gives Dask DataFrames (one partition per Parquet file) with the same
        columns and dtypes; the analysis functions accept them.
    snapshots : iterable of str, optional
        Read only these snapshots' partitions.
    with_snapshot : bool, default True
        False leaves the ``snapshot`` column out.
    tables : iterable of str, optional
        Read only these tables; the others are empty.

    Returns
    -------
    PoolTables

    Examples
    --------
    >>> folder = poolkit.load_sample(history=True).to_parquet("weekly")
    >>> weeks = poolkit.read_dataset(folder)
    >>> list(weeks.pools["snapshot"].cat.categories)
    ['2026-10-19T150000Z', '2026-10-26T150000Z', '2026-11-02T150000Z']
    """
    return PoolTables(
        **read_frames(
            directory,
            engine=engine,
            snapshots=snapshots,
            with_snapshot=with_snapshot,
            tables=tables,
        )
    )
