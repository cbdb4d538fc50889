"""The dataset on disk: one Parquet dataset partitioned by snapshot, and its marker.

Layout (hive-style, readable by pandas, pyarrow, DuckDB, Dask and Spark)::

    <dir>/poolkit-dataset.json                    the marker: the parts that make the
                                                  dataset, each table's columns and dtypes,
                                                  when each snapshot was taken
    <dir>/pools/snapshot=2026-11-26T213000Z/part-<token>.parquet
    <dir>/numbers/snapshot=.../part-<token>.parquet
    <dir>/services/...  <dir>/problems/...  <dir>/locations/...  <dir>/phone_numbers/...

A week is in the dataset when the marker lists its parts: the marker is renamed into place
last, so a week is there whole or not at all. This module works on frames by table name;
``poolkit.tables`` wraps them in ``PoolTables``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import DatasetError
from .schemas import (
    DATASET_MARKER,
    SCHEMA_VERSION,
    SCHEMAS,
    TABLES,
    dtype_of,
    empty_frame,
    is_dataset,
    schema_1_renames,
)
from .snapshot import ordered, parse_time, refuse_newer, write_atomic

__all__ = [
    "DATASET_MARKER",
    "dataset_rows",
    "dataset_snapshots",
    "is_dataset",
    "read_frames",
    "read_marker",
    "write_dataset",
]

_ROW = "_row"
_PART = re.compile(r"part-(\d+|[0-9a-f]{16})\.parquet")  # poolkit 0.x numbered its parts


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
        and relative[0] in TABLES
        and relative[1].startswith("snapshot=")
        and _PART.fullmatch(relative[2]) is not None
    )


def read_marker(root: str | os.PathLike) -> dict:
    """A dataset's marker, checked: a marker that is not JSON, not poolkit's, or written by
    a newer poolkit raises ``DatasetError`` naming it (nothing is guessed or rewritten)."""
    path = Path(root) / DATASET_MARKER
    try:
        marker = json.loads(path.read_bytes())
    except ValueError as exc:
        raise DatasetError(f"{path}: not a poolkit dataset marker (not JSON: {exc})") from None
    if not isinstance(marker, dict) or not isinstance(marker.get("tables"), dict):
        raise DatasetError(f"{path}: not a poolkit dataset marker (no tables listed)")
    refuse_newer(path, marker.get("version", 1), SCHEMA_VERSION, DatasetError)
    return marker


def _committed(root: Path, marker: dict | None = None) -> dict[str, list[str]]:
    """The parts of each table that the dataset's marker lists (``<table>/snapshot=.../part-
    ....parquet``, relative to ``root``): the dataset is those and nothing else. A marker of
    poolkit 0.x lists none: its dataset is every part there."""
    marker = read_marker(root) if marker is None else marker
    if "parts" in marker:
        return {name: list(marker["parts"].get(name, [])) for name in TABLES}
    return {
        name: sorted(
            p.relative_to(root).as_posix()
            for p in (root / name).glob("snapshot=*/part-*.parquet")
            if _PART.fullmatch(p.name)
        )
        for name in TABLES
    }


def _sweep(root: Path, committed: dict[str, list[str]]) -> None:
    """Remove the parts the marker does not list (replaced, or left by an interrupted write)
    and partitions left empty; nothing else is touched."""
    listed = {part for parts in committed.values() for part in parts}
    for path in sorted(root.rglob("*")):
        if path.is_file() and _left_behind(root, path):
            if path.relative_to(root).as_posix() not in listed:
                path.unlink(missing_ok=True)
    for table in TABLES:
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


def _record(value) -> dict:
    """A marker's record of a snapshot (an ISO time alone in datasets of this round's first
    commits)."""
    return value if isinstance(value, dict) else {"taken_at": value, "complete": None}


def snapshot_records_of(marker: dict) -> dict[str, dict]:
    """Snapshot id -> ``{"taken_at", "complete"}`` as a marker records them."""
    return {k: _record(v) for k, v in (marker.get("snapshots") or {}).items()}


def held_complete(directory: str | os.PathLike) -> dict[str, bool | None]:
    """Snapshot id -> whether the version the dataset holds was complete (None: unknown,
    a dataset written before poolkit recorded it)."""
    return {k: v.get("complete") for k, v in snapshot_records_of(read_marker(directory)).items()}


def dataset_snapshots(directory: str | os.PathLike) -> list[str]:
    """The snapshots a poolkit dataset holds, oldest first (``poolkit.snapshot.sort_key``:
    the time each was taken, as the marker records it, else its name)."""
    marker = read_marker(directory)
    return _held(marker, _committed(Path(directory), marker))


def _held(marker: dict, committed: dict[str, list[str]]) -> list[str]:
    """``dataset_snapshots`` of a marker already read."""
    held = {part.split("/")[1].removeprefix("snapshot=") for p in committed.values() for part in p}
    times = {k: parse_time(v["taken_at"]) for k, v in snapshot_records_of(marker).items()}
    return ordered(held, times)


def _parts(
    root: Path,
    table: str,
    snapshots: Iterable[str] | None = None,
    committed: dict[str, list[str]] | None = None,
) -> list[Path]:
    """The committed Parquet files of ``table`` (of ``committed``, when the marker was read
    already), of the given snapshots only when some are given, in the order they were
    written."""
    wanted = None if snapshots is None else {f"snapshot={s}" for s in snapshots}
    return [
        root / part
        for part in (committed or _committed(root))[table]
        if wanted is None or part.split("/")[1] in wanted
    ]


def _current_marker(marker: dict, committed: dict[str, list[str]]) -> dict:
    """A dataset's marker in today's schema: a marker of schema 1 gets today's column names,
    and lists its parts under ``schema_1_parts`` (their files keep the old names, which
    ``read_dataset`` renames as it reads them; the files are not rewritten)."""
    if marker.get("version", 1) >= 2:  # today's names
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


def write_dataset(
    frames: dict[str, pd.DataFrame],
    row_snapshots: dict[str, list[str]],
    records: dict[str, dict],
    out: Path,
    *,
    append: bool = False,
    replace: bool = False,
) -> Path:
    """Write ``frames`` (table name -> rows; ``row_snapshots`` gives each row's snapshot,
    ``records`` when each was taken and whether it was complete) as the dataset ``out``.

    A commit protocol of the kind Spark's committers use: everything is converted to
    Arrow before the disk is touched; the new parts go under names no reader knows; the
    marker, which lists the parts that make the dataset, is renamed into place last (the
    commit); then the parts it no longer lists are removed. A write that fails or is killed
    at any moment leaves the dataset as it was, and the same write run again completes.
    ``replace`` (with ``append``) swaps the snapshots the dataset holds already for these
    frames' in that one commit: a week is never there twice, nor half."""
    import pyarrow.parquet as pq  # loaded only when writing

    _check_target(out)
    snapshots = row_snapshots
    written_ids = {s for labels in snapshots.values() for s in labels}
    marker = {
        "format": "poolkit dataset",
        "version": SCHEMA_VERSION,
        "partitioning": "hive: snapshot",
        "tables": {
            name: _describe(frame.drop(columns="snapshot", errors="ignore"))
            for name, frame in frames.items()
        },
        "snapshots": records,
    }
    first_row = dict.fromkeys(TABLES, 0)
    appending = append and is_dataset(out)
    committed = dict.fromkeys(TABLES, [])
    if appending:
        raw = read_marker(out)
        listed = _committed(out, raw)
        there = set(_held(raw, listed)) & written_ids
        if there and not replace:
            raise DatasetError(
                f"{out}: already holds snapshot(s) {', '.join(ordered(there))}; nothing was written"
            )
        old = _current_marker(raw, listed)
        records = {**snapshot_records_of(old), **marker["snapshots"]}
        marker = {**_merged_marker(old, marker), "snapshots": records, "version": SCHEMA_VERSION}
        committed = {  # the parts of a snapshot replaced are left out of the commit
            name: [p for p in parts if p.split("/")[1].removeprefix("snapshot=") not in there]
            for name, parts in listed.items()
        }
        first_row = old.get("rows") or {  # row numbers go on, so that order is kept
            name: sum(pq.ParquetFile(p).metadata.num_rows for p in _parts(out, name, None, listed))
            for name in TABLES
        }
        if old.get("schema_1_parts"):
            listed = {p for parts in committed.values() for p in parts}
            marker["schema_1_parts"] = [p for p in old["schema_1_parts"] if p in listed]
    arrow = {
        name: pa.Table.from_pandas(
            frame.drop(columns="snapshot", errors="ignore")
            .reset_index(drop=True)
            .assign(
                **{
                    _ROW: range(first_row[name], first_row[name] + len(frame)),
                    "snapshot": snapshots[name],
                }
            ),
            preserve_index=False,
        )
        for name, frame in frames.items()
        if not frame.empty
    }
    out.mkdir(parents=True, exist_ok=True)
    written = _write_parts(out, arrow)
    marker["parts"] = {name: committed[name] + written.get(name, []) for name in committed}
    marker["rows"] = {name: first_row.get(name, 0) + len(frames[name]) for name in TABLES}
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
        labels = table.column("snapshot")
        for label in labels.unique().to_pylist():
            rows = pc.equal(labels, label)
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
    missing = [c for c in dtypes if c not in frame.columns]  # a field these weeks lack
    if missing:
        frame = frame.assign(**dict.fromkeys(missing, None))
    if isinstance(frame, pd.DataFrame):  # only the columns not typed so already
        dtypes = {c: t for c, t in dtypes.items() if str(frame[c].dtype) != str(t)}
        recoded = {  # categories read as categories: recoded, not rebuilt from text
            c: frame[c].cat.set_categories(t.categories)
            for c, t in dtypes.items()
            if isinstance(t, pd.CategoricalDtype)
            and isinstance(frame[c].dtype, pd.CategoricalDtype)
            and frame[c].cat.categories.isin(t.categories).all()
        }
        frame = frame.assign(**recoded)
        dtypes = {c: t for c, t in dtypes.items() if c not in recoded}
    categorical = {c: t for c, t in dtypes.items() if isinstance(t, pd.CategoricalDtype)}
    frame = frame.astype({c: object for c in [*categorical, *missing] if c in dtypes})
    frame = frame.astype(dtypes)
    return frame[[c for c in spec["columns"] if c in frame.columns]]


def read_frames(
    directory: str | os.PathLike,
    *,
    engine: str = "pandas",
    snapshots: Iterable[str] | None = None,
    with_snapshot: bool = True,
    tables: Iterable[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables of a dataset, by name (``poolkit.read_dataset`` says what it gives)."""
    if engine not in ("pandas", "dask"):
        raise ValueError(f"engine must be 'pandas' or 'dask', not {engine!r}")
    snapshots = None if snapshots is None else list(snapshots)  # a generator, read once
    tables = None if tables is None else set(tables)
    root = Path(directory)
    if not is_dataset(root):
        raise DatasetError(
            f"{root}: not a poolkit dataset (no {DATASET_MARKER}); "
            "read response files with poolkit.read_pools"
        )
    raw = read_marker(root)
    committed = _committed(root, raw)
    marker = _current_marker(raw, committed)
    old_parts = {root / part for part in marker.get("schema_1_parts", [])}
    held = _held(raw, committed)  # oldest first
    labels = pd.CategoricalDtype(
        held if snapshots is None else [s for s in held if s in set(snapshots)], ordered=True
    )
    frames = {}
    for name in TABLES:
        spec = marker["tables"].get(name) or _describe(empty_frame(name))  # older datasets
        wanted = tables is None or name in tables
        parts = _parts(root, name, snapshots, committed) if wanted else []
        if engine == "dask":  # a partition per part, each read and typed as pandas reads it
            import dask.dataframe as dd

            def one(part, spec=spec, name=name):
                return _pandas_table([part], spec, name, old_parts, labels, with_snapshot)

            frames[name] = dd.from_map(one, parts or [None], meta=one(None), enforce_metadata=False)
            continue
        frames[name] = _pandas_table(parts, spec, name, old_parts, labels, with_snapshot)
    return frames


def _pandas_table(parts, spec, name, old_parts, labels, with_snapshot) -> pd.DataFrame:
    """The rows of these parts of table ``name`` (none for ``[None]``), typed as the marker
    says, with each row's snapshot (an ordered categorical of ``labels``) if asked."""
    parts = [p for p in parts if p is not None]
    frame = _read_parts(parts, spec, name, old_parts, list(labels.categories))
    typed = _typed(frame, spec)
    for column in SCHEMAS[name]:  # a dataset older than a column: the column, empty
        if column not in typed:
            typed[column] = pd.Series(pd.NA, index=typed.index, dtype=dtype_of(name, column))
    if with_snapshot:
        codes = frame["snapshot"].to_numpy(dtype=np.int32)
        typed["snapshot"] = pd.Categorical.from_codes(codes, dtype=labels)
    return typed


def _read_parts(
    parts: list[Path], spec: dict, table: str, old_parts: set, labels: list[str]
) -> pd.DataFrame:
    """The rows of these Parquet files of ``table`` in the order they were written, each with
    its ``snapshot`` (its position in ``labels``) and the columns of the ``old_parts``
    (schema 1) given today's names; files of an appended dataset may lack columns that
    others have."""
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
        code = labels.index(part.parent.name.removeprefix("snapshot="))
        pieces.append(
            piece.append_column("snapshot", pa.array(np.full(len(piece), code, np.int32)))
        )
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
    if frame[_ROW].is_monotonic_increasing:  # as written, one snapshot after the other
        return frame
    return frame.sort_values(_ROW, kind="stable").reset_index(drop=True)
