"""Tidy number-pool responses into typed pandas DataFrames.

``read_pools`` accepts files, folders, globs and parsed responses, and returns a
``PoolTables`` of ``pools``, ``numbers``, ``services``, ``problems`` and ``locations``.
Nothing is dropped silently: what does not fit the API contract stays in its table as NA
and gets a row in ``problems`` naming the source, location, pool and JSON path.

One reader. Each response is parsed with orjson and its pool objects are gathered; every
half megabyte the fields are taken out column by column, checked column-wise (the set of
Python types in a column, E.164 with Arrow's regex) and kept as Arrow arrays. Only the
rare bad values are looked at one by one, to write their problem rows.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import pandas as pd
import pyarrow as pa

from .active_numbers import phone_numbers_table
from .columns import (
    POOL_RANK,
    TOTAL_RANK,
    Chunk,
    ChunkBuilder,
    add_extra_columns,
    arrow_type,
    to_pandas,
)
from .envelope import (
    MISSING,
    number_text,
    parse,
    printable,
    read_file,
    short,
    snake,
    type_name,
    unwrap,
)
from .errors import SourceError
from .inputs import (
    ACTIVE_NUMBERS_PAGE,
    SNAPSHOT_FOLDER,
    SnapshotGlob,
    iter_inputs,
    json_files,
    snapshot_folders,
)
from .location_rows import file_location, locations_table
from .schemas import (
    E164_PATTERN,
    SCHEMA_1_NAMES,
    SCHEMAS,
    SOURCE,
    category_dtype,
    empty_frame,
    is_numbers_page,
)
from .snapshot import INVENTORY_PAGE
from .tables import PoolTables, empty_tables
from .values import has_service

__all__ = ["read_pools", "json_files", "snapshot_folders", "E164_PATTERN"]

_CHUNK_BYTES = (
    512 << 10
)  # JSON bytes gathered before the pools are turned into columns (measured best)
_CHUNK_POOLS = 20_000  # the same for parsed dicts, whose size is not known


#: Names an unknown field does not take as its column (it becomes ``extra_...``): the names
#: and file columns of every table, so that joins stay free of suffixes, the table's
#: columns of schema 1, so that a field is named as it was then, and the dataset's own
#: ``snapshot`` (each row's week) and ``_row`` (its order), which a field must never set.
_NOT_EXTRA = {
    table: {
        "location_name",
        "pool_name",
        "snapshot",
        "_row",
        *SOURCE.values(),
        *SCHEMA_1_NAMES[table],
    }
    for table in ("pools", "numbers")
}


@dataclass
class Reader:
    """Gathers the pool objects of many responses and turns them into columns chunk by chunk."""

    chunks: list[Chunk] = field(default_factory=list)
    problems: list[tuple] = field(default_factory=list)  # (sort key, row of the problems table)
    rank: dict[str, int] = field(default_factory=dict)  # input order of sources: problems follow it
    extra_columns: dict[tuple[bool, str], str] = field(
        default_factory=dict
    )  # unknown field -> column
    pool_extra: dict[str, dict[int, Any]] = field(
        default_factory=dict
    )  # field -> {pool row: value}
    number_extra: dict[str, dict[int, Any]] = field(default_factory=dict)
    rows_before: list[int] = field(default_factory=lambda: [0, 0])  # pool and number rows in chunks
    # the chunk being gathered: pool objects, and per pool its response and index in ``data``
    pending: list[dict] = field(default_factory=list)
    pending_file: list[int] = field(default_factory=list)
    pending_at: list[int] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (source, JSON path prefix)
    pending_bytes: int = 0
    # every response read: (source, why it is not a pool response or None), and the
    # snapshot folders read whole (their manifests list the locations not read)
    responses: list[tuple[str, str | None]] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    globs: dict[str, SnapshotGlob] = field(default_factory=dict)  # folders a glob reads
    pages: list[tuple[str, Any]] = field(default_factory=list)  # active numbers: (file, doc)
    pending_json_only: bool = True  # every pending pool was parsed from JSON text (no other types)

    def problem(self, key: tuple, source: str, loc, pid, path: str, value: Any, text: str) -> None:
        self.problems.append(
            (
                key,
                (
                    printable(source),
                    printable(loc),
                    printable(pid),
                    printable(path),
                    short(value),
                    text,
                ),
            )
        )

    def source_problem(self, error: SourceError) -> None:
        self.problem(
            (self.rank[error.source],), error.source, None, None, error.path, MISSING, error.reason
        )
        self.responses.append((error.source, error.reason))

    def add(self, name: str, doc: Any, size: int | None = None) -> None:
        """Take one response, parsed from ``size`` bytes of JSON or given as Python objects
        (``size=None``); raises ``SourceError`` when it is not a pool response."""
        data, prefix, total = unwrap(name, doc)
        rank = self.rank[name]
        if total is not MISSING and (type(total) not in (int, float) or total != len(data)):
            text = (
                f"total is a {type_name(total)}, expected a number"
                if type(total) not in (int, float)
                else f"total says {number_text(total)} but the response holds {len(data)} pool(s)"
            )
            self.problem((rank, TOTAL_RANK), name, None, None, "total", total, text)
        self.responses.append((name, None))
        file = len(self.files)
        self.files.append((name, prefix))
        if set(map(type, data)) <= {dict}:
            self.pending += data
            self.pending_file += [file] * len(data)
            self.pending_at += range(len(data))
        else:
            for i, pool in enumerate(data):
                if type(pool) is dict:
                    self.pending.append(pool)
                    self.pending_file.append(file)
                    self.pending_at.append(i)
                else:
                    self.problem(
                        (rank, POOL_RANK, i),
                        name,
                        None,
                        None,
                        f"{prefix}[{i}]",
                        pool,
                        f"pool entry is a {type_name(pool)}, not an object; no pool row was made",
                    )
        self.pending_bytes += size or 0
        self.pending_json_only &= size is not None
        if self.pending_bytes >= _CHUNK_BYTES or len(self.pending) >= _CHUNK_POOLS:
            self.flush()

    # -- one chunk: columns out of the gathered pool objects
    def flush(self) -> None:
        if not self.pending:
            return
        ChunkBuilder(self).build()
        self.pending, self.pending_file, self.pending_at = [], [], []
        self.files, self.pending_bytes, self.pending_json_only = [], 0, True

    def keep_extra(
        self, is_pool: bool, name: str, values: dict[int, Any], where: Callable[[], tuple]
    ) -> None:
        """Keep an unknown field's values (``{row: value}``); the first time a field is seen,
        choose its column and write its problem row, with its first value, at ``where()``:
        ``(sort key, source, loc, pid, path)``."""
        if (is_pool, name) not in self.extra_columns:
            table = "pools" if is_pool else "numbers"
            taken = set(SCHEMAS[table]).union(
                _NOT_EXTRA[table],
                (
                    column
                    for (pool_table, _), column in self.extra_columns.items()
                    if pool_table == is_pool
                ),
            )
            base = printable(snake(name)) or "unnamed"  # snake takes str() of any key
            column = f"extra_{base}" if base in taken else base
            suffix = 2
            while column in taken:
                column, suffix = f"extra_{base}_{suffix}", suffix + 1
            self.extra_columns[(is_pool, name)] = column
            self.problem(
                *where(),
                next(iter(values.values())),
                f"unknown field {printable(str(name))!r}: kept as column {column!r}",
            )
        (self.pool_extra if is_pool else self.number_extra).setdefault(name, {}).update(values)

    # -- the tables
    def tables(self) -> PoolTables:
        self.flush()
        if not (self.chunks or self.problems or self.responses or self.folders or self.pages):
            return empty_tables()
        pools = to_pandas(
            {
                c: pa.chunked_array([k.pools[c] for k in self.chunks], arrow_type(c))
                for c in SCHEMAS["pools"]
            }
        )
        numbers = to_pandas(
            {
                c: pa.chunked_array([k.numbers[c] for k in self.chunks], arrow_type(c))
                for c in SCHEMAS["numbers"]
            }
        )
        pools["number_count"] = pools["number_count"].astype(pd.Int64Dtype())
        pools["service_type"] = pools["service_type"].astype(
            category_dtype(pools["service_type"].dropna().unique())
        )
        for frame, extra, is_pool in (
            (pools, self.pool_extra, True),
            (numbers, self.number_extra, False),
        ):
            add_extra_columns(
                frame, extra, {f: c for (p, f), c in self.extra_columns.items() if p == is_pool}
            )
        self.own_file_location(pools, numbers)
        services = pools.loc[
            has_service(pools["service_type"]), list(SCHEMAS["services"])
        ].reset_index(drop=True)
        phone_numbers, page_problems = phone_numbers_table(self.pages, numbers)
        rows = [row for _, row in sorted(self.problems, key=lambda item: item[0])]
        rows += [[problem[c] for c in SCHEMAS["problems"]] for problem in page_problems]
        problems = (
            pd.DataFrame(rows, columns=list(SCHEMAS["problems"])).astype(pd.StringDtype())
            if rows
            else empty_frame("problems")
        )
        pages: dict[tuple, dict[int, bool]] = {}  # (location, folder) -> {page: read}
        for name, doc in self.pages:
            match = INVENTORY_PAGE.fullmatch(os.path.basename(name))
            where = (match["location_id"], os.path.dirname(os.path.abspath(name)))
            pages.setdefault(where, {})[int(match["page"])] = is_numbers_page(doc)
        locations = locations_table(self.responses, self.folders, pools, pages, self.globs)
        return PoolTables(pools, numbers, services, problems, locations, phone_numbers)

    def own_file_location(self, pools: pd.DataFrame, numbers: pd.DataFrame) -> None:
        """A pool without ``locationId`` in a location's file of a snapshot is that
        location's (with its numbers); its problem row says so."""
        lost = pools["location_id"].isna()
        if not lost.any():
            return
        source = SOURCE["pools"]
        found = {f: file_location(f) for f in pools.loc[lost, source].dropna().unique()}
        found = {f: loc for f, loc in found.items() if loc}
        for frame, column in ((pools, source), (numbers, SOURCE["numbers"])):
            rows = frame["location_id"].isna() & frame[column].isin(list(found))
            frame.loc[rows, "location_id"] = frame.loc[rows, column].map(found)
        for at, (key, row) in enumerate(self.problems):  # the file's problems are its too
            if row[0] in found and row[1] is None:
                text = row[5]
                if row[3].endswith(".locationId"):
                    text = f"{text}: counted as the location whose file it is in"
                self.problems[at] = (key, (row[0], found[row[0]], *row[2:5], text))


# --------------------------------------------------------------------------- API


def read_pools(source: Any, *, errors: str = "raise") -> PoolTables:
    """Read number-pool responses into tidy tables.

    Accepted shapes: the ``{"success", "data", "total"}`` envelope, the v3-style
    ``{"status", "data", "statusCode", "message"}`` wrapper, and a bare list of pools. What
    does not fit the API contract becomes a row of ``problems`` (file, JSON path, value):
    nothing is dropped silently. A Parquet dataset is read by ``poolkit.read_dataset``.

    Parameters
    ----------
    source : str, os.PathLike, dict or list
        A response file, a folder (every ``*.json`` below it except ``manifest.json``; a
        snapshot folder gives its locations' details too), a glob, a parsed response, or a
        list of these.
    errors : {"raise", "record"}, default "raise"
        What a source that is unreadable, not JSON or not a pool response does: raise a
        ``poolkit.errors.SourceError`` naming it, or become a ``problems`` row. Problems
        inside a response never raise.

    Returns
    -------
    PoolTables
        ``pools``, ``numbers``, ``services``, ``problems``, ``locations`` and
        ``phone_numbers``, keyed by ``location_id``, ``pool_id`` and ``position``.

    Examples
    --------
    >>> tables = poolkit.read_pools(poolkit.sample_path())
    >>> len(tables.pools), len(tables.numbers), len(tables.locations)
    (163, 1611, 46)
    >>> poolkit.read_pools({"success": True, "data": [], "total": 0}).pools.empty
    True
    """
    if errors not in ("raise", "record"):
        raise ValueError(f"errors must be 'raise' or 'record', not {errors!r}")
    reader = Reader()
    with _no_cyclic_gc():
        for name, doc in iter_inputs(source):
            if doc is SNAPSHOT_FOLDER or isinstance(doc, SnapshotGlob):
                reader.folders.append(name)
                if isinstance(doc, SnapshotGlob):
                    reader.globs[name] = doc
                continue
            if doc is ACTIVE_NUMBERS_PAGE:
                try:
                    reader.pages.append((name, parse(name, read_file(name))))
                except SourceError as exc:
                    if errors == "raise":
                        raise
                    reader.pages.append((name, exc))  # a problem row of the page's location
                continue
            reader.rank.setdefault(name, len(reader.rank))
            try:
                if isinstance(doc, SourceError):
                    raise doc
                if doc is None:
                    raw = read_file(name)
                    reader.add(name, parse(name, raw), len(raw))
                else:
                    reader.add(name, doc)
            except SourceError as exc:
                if errors == "raise":
                    raise
                reader.source_problem(exc)
        return reader.tables()


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while responses are read, as ``timeit`` does.

    Parsed JSON holds no reference cycles, so it frees by reference counting alone; but the
    objects gathered for a chunk outlive the young generations, and the full collections
    they set off walk every object of the process: about a fifth of the reading time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
