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
import glob
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import (
    ErrorResponseError,
    InvalidJSONError,
    NotAPoolResponseError,
    SourceError,
    UnreadableSourceError,
)
from .inventory import phone_numbers_table
from .snapshot import INVENTORY_PAGE, MANIFEST, SNAPSHOT_FILES, read_locations, read_manifest
from .tables import (
    E164_PATTERN,
    MEMORY_SOURCE,
    SCHEMAS,
    PoolTables,
    category_dtype,
    dtype_of,
    empty_frame,
    empty_tables,
    is_dataset,
    is_numbers_page,
)

__all__ = ["read_pools", "json_files", "snapshot_folders", "E164_PATTERN"]

# JSON fields of a pool and of a number the contract lists; anything else is an extra column.
_POOL_FIELDS = frozenset(
    {
        "id",
        "name",
        "locationId",
        "numbers",
        "forwardingNumber",
        "whisper",
        "whisperMessage",
        "callRecording",
        "isActive",
        "inboundCallService",
    }
)
_NUMBER_FIELDS = frozenset({"phoneNumber", "friendlyName"})
#: An E.164 phone number (anchored: Arrow's regex functions search, they do not fullmatch).
_E164 = re.compile(E164_PATTERN)
_ENVELOPE_KEYS = ("data", "pools", "numberPools")
_MEMORY = MEMORY_SOURCE
_BOM = b"\xef\xbb\xbf"
_STR = pa.large_string()  # what pandas' Arrow-backed string dtype holds: no cast, no copy
# Big, long-lived columns: the system allocator hands freed buffers back, where Arrow's
# default pool keeps them.
_MEMORY_POOL = pa.system_memory_pool()
_CHUNK_BYTES = (
    512 << 10
)  # JSON bytes gathered before the pools are turned into columns (measured best)
_CHUNK_POOLS = 20_000  # the same for parsed dicts, whose size is not known
_NONE = type(None)
_TEXT_TYPES = {str, _NONE}

# Where a problem sorts among those of its response: before the pools, then per pool in
# this field order, then the column checks made once per chunk (in document order each).
_TOTAL, _POOL = -1, 0
_FIELD_ORDER = {
    name: rank
    for rank, name in enumerate(
        (
            "locationId",
            "id",
            "forwardingNumber",
            "name",
            "whisper",
            "whisperMessage",
            "callRecording",
            "isActive",
            "inboundCallService.type",
            "inboundCallService.value",
            "numbers",
            "extra",
        )
    )
}
_COLUMN_CHECKS = (
    "phoneNumber",
    "e164",
    "friendlyName",
    "locationId",
    "id",
    "name",
    "forwardingNumber",
    "whisperMessage",
    "inboundCallService.type",
    "inboundCallService.value",
)


class _Missing:
    """Marks a JSON key that is absent (as opposed to ``null``)."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
_SNAPSHOT = object()  # a source that is a snapshot folder read whole, not a response
_INVENTORY = object()  # a source that is a page of a location's active numbers
_RECORDED = object()  # a bad value whose problem row is already written


def _short(value: Any, limit: int = 200) -> str:
    """A JSON rendering of ``value`` for the problems table, cut to ``limit`` characters."""
    if value is _MISSING:
        return ""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:  # not JSON-native, nested too deep, or a string orjson refuses
        try:
            text = json.dumps(value, ensure_ascii=True, default=repr)
        except (TypeError, ValueError, RecursionError):
            text = f"<{_type_name(value)} nested too deeply to show>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "list",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _number(value: int | float) -> str:
    """A number as ``:g`` shows it; an integer too big for a float in full."""
    try:
        return f"{value:g}"
    except OverflowError:
        return str(value)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).replace("-", "_").lower()


def _printable(text: str | None) -> str | None:
    """``text`` with anything that is not valid Unicode escaped (``\\ud800``)."""
    return (
        text
        if text is None or _encodable(text)
        else text.encode("utf-8", "backslashreplace").decode()
    )


def _encodable(text: str) -> bool:
    try:
        text.encode()
        return True
    except UnicodeEncodeError:
        return False


def _text_or_none(value: Any) -> str | None:
    return value if type(value) is str else None


# --------------------------------------------------------------------------- sources


def _iter_sources(source: Any) -> Iterator[tuple[str, Any]]:
    """Yield ``(name, parsed document)`` for in-memory input, ``(path, None)`` for a file."""
    if isinstance(source, dict):
        yield _MEMORY, source
    elif isinstance(source, (str, os.PathLike)):
        yield from _expand_path(source)
    elif isinstance(source, (list, tuple)):
        if _is_list_of_sources(source):
            for i, item in enumerate(source):
                if isinstance(item, dict):
                    yield f"{_MEMORY}[{i}]", item
                else:
                    yield from _expand_path(item)
        else:
            yield _MEMORY, list(source)  # a bare list of pools
    else:
        raise TypeError(
            "read_pools() takes a path, a glob, a parsed response dict, or a list of them; "
            f"got {type(source).__name__}"
        )


def _is_list_of_sources(items: list | tuple) -> bool:
    """A list is a list of sources when it holds paths or response envelopes only."""

    def is_source(item: Any) -> bool:
        if isinstance(item, (str, os.PathLike)):
            return True
        return isinstance(item, dict) and any(
            key in item for key in (*_ENVELOPE_KEYS, "success", "statusCode", "status")
        )

    return bool(items) and all(is_source(item) for item in items)


def _expand_path(source: str | os.PathLike) -> Iterator[tuple[str, Any]]:
    path = Path(source)
    if is_dataset(path):
        yield (
            str(path),
            NotAPoolResponseError(
                str(path),
                "a poolkit Parquet dataset, not responses: read it with poolkit.read_dataset()",
            ),
        )
    elif path.is_dir():
        files, snapshots, pages = _walk(path)
        for folder in snapshots:
            yield folder, _SNAPSHOT
        for name in files:
            yield name, None
        for name in pages:
            yield name, _INVENTORY
    elif path.exists() or not glob.has_magic(str(source)):
        if path.name not in SNAPSHOT_FILES:  # a snapshot's own files, listed with its responses
            yield str(path), _INVENTORY if INVENTORY_PAGE.fullmatch(path.name) else None
    else:  # a glob: the snapshot folders it reads from list the locations it has no file of
        names = [n for n in sorted(glob.glob(str(source), recursive=True)) if os.path.isfile(n)]
        for folder in sorted({os.path.dirname(os.path.abspath(n)) for n in names}):
            if os.path.isfile(os.path.join(folder, MANIFEST)):
                yield folder, _SNAPSHOT
        for name in names:
            base = os.path.basename(name)
            if base not in SNAPSHOT_FILES:
                yield name, _INVENTORY if INVENTORY_PAGE.fullmatch(base) else None


def json_files(folder: str | os.PathLike) -> list[str]:
    """Every pool response below ``folder``: the ``*.json`` files but a snapshot's own files
    (manifest, locations), active-number pages and poolkit Parquet datasets, sorted by path."""
    return _walk(folder)[0]


def snapshot_folders(folder: str | os.PathLike) -> list[str]:
    """The snapshot folders below ``folder`` (those with a manifest), sorted; where there
    are none, the folders that hold response files."""
    files, snapshots, _ = _walk(folder)
    return snapshots or sorted({os.path.dirname(os.path.abspath(f)) for f in files})


def _walk(folder: str | os.PathLike) -> tuple[list[str], list[str], list[str]]:
    """The pool response files below ``folder``, the snapshot folders (with a manifest) there,
    and the pages of active numbers."""
    found, snapshots, pages = [], [], []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not is_dataset(os.path.join(root, d)))
        for name in names:
            if name.endswith(".json") and name not in SNAPSHOT_FILES:
                (pages if INVENTORY_PAGE.fullmatch(name) else found).append(
                    os.path.join(root, name)
                )
        if MANIFEST in names:
            snapshots.append(os.path.abspath(root))
    return sorted(found), sorted(snapshots), sorted(pages)


def _read_file(name: str) -> bytes:
    """The bytes of a file, with one read where the file is as big as ``fstat`` says."""
    try:
        fd = os.open(name, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            raw = os.read(fd, size + 1)
            while len(raw) != size and (more := os.read(fd, 1 << 20)):  # grew or a short read
                raw += more
        finally:
            os.close(fd)
    except OSError as exc:
        raise UnreadableSourceError(name, f"cannot read file: {exc.strerror or exc}") from None
    return raw[len(_BOM) :] if raw.startswith(_BOM) else raw


def _parse(name: str, raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:  # the standard library accepts a little more (huge integers) and says where it broke
        doc = json.loads(raw)
        json.dumps(doc, ensure_ascii=False).encode()  # unpaired surrogates cannot be kept as text
        return doc
    except UnicodeEncodeError:
        raise InvalidJSONError(
            name, "not valid JSON text: a string holds an unpaired UTF-16 surrogate"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidJSONError(name, f"not valid JSON: {exc}") from None


def _unwrap(name: str, doc: Any) -> tuple[list, str, Any]:
    """Return ``(pool list, JSON path prefix, total)`` or raise ``NotAPoolResponseError``."""
    if isinstance(doc, list):
        return doc, "", _MISSING
    if not isinstance(doc, dict):
        raise NotAPoolResponseError(
            name, f"top-level JSON is a {_type_name(doc)}, not an object or a list"
        )
    status = doc.get("statusCode")
    if doc.get("success") is False or (
        type(status) is int and status >= 400 and not isinstance(doc.get("data"), list)
    ):
        message = doc.get("message")
        if isinstance(message, list):
            message = "; ".join(map(str, message))
        detail = " ".join(str(part) for part in (status, doc.get("error"), message) if part)
        raise ErrorResponseError(
            name, f"a saved API error response ({detail or 'success: false'}), not a pool list"
        )
    for key in _ENVELOPE_KEYS:
        if key in doc:
            data, prefix = doc[key], key
            break
    else:
        keys = ", ".join(sorted(map(str, doc))[:8]) or "none"
        raise NotAPoolResponseError(name, f"no 'data' list of pools (keys: {keys})")
    if isinstance(data, dict):  # a v3-style wrapper around a pools envelope
        for key in _ENVELOPE_KEYS:
            if isinstance(data.get(key), list):
                return data[key], f"{prefix}.{key}", data.get("total", doc.get("total", _MISSING))
    if not isinstance(data, list):
        raise NotAPoolResponseError(
            name, f"'{prefix}' is a {_type_name(data)}, expected a list of pools", prefix
        )
    return data, prefix, doc.get("total", _MISSING)


# --------------------------------------------------------------------------- the reader


@dataclass
class _Chunk:
    """The columns of consecutive pools, as Arrow arrays; chunks are joined in input order."""

    pools: dict[str, pa.Array]
    numbers: dict[str, pa.Array]
    has_service: np.ndarray


@dataclass
class _Reader:
    """Gathers the pool objects of many responses and turns them into columns chunk by chunk."""

    chunks: list[_Chunk] = field(default_factory=list)
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
    pages: list[tuple[str, Any]] = field(default_factory=list)  # active numbers: (file, doc)
    pending_json_only: bool = True  # every pending pool was parsed from JSON text (no other types)

    def problem(self, key: tuple, source: str, loc, pid, path: str, value: Any, text: str) -> None:
        self.problems.append(
            (
                key,
                (
                    _printable(source),
                    _printable(loc),
                    _printable(pid),
                    _printable(path),
                    _short(value),
                    text,
                ),
            )
        )

    def source_problem(self, error: SourceError) -> None:
        self.problem(
            (self.rank[error.source],), error.source, None, None, error.path, _MISSING, error.reason
        )
        self.responses.append((error.source, error.reason))

    def add(self, name: str, doc: Any, size: int | None = None) -> None:
        """Take one response, parsed from ``size`` bytes of JSON or given as Python objects
        (``size=None``); raises ``SourceError`` when it is not a pool response."""
        data, prefix, total = _unwrap(name, doc)
        rank = self.rank[name]
        if total is not _MISSING and (type(total) not in (int, float) or total != len(data)):
            text = (
                f"total is a {_type_name(total)}, expected a number"
                if type(total) not in (int, float)
                else f"total says {_number(total)} but the response holds {len(data)} pool(s)"
            )
            self.problem((rank, _TOTAL), name, None, None, "total", total, text)
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
                        (rank, _POOL, i),
                        name,
                        None,
                        None,
                        f"{prefix}[{i}]",
                        pool,
                        f"pool entry is a {_type_name(pool)}, not an object; no pool row was made",
                    )
        self.pending_bytes += size or 0
        self.pending_json_only &= size is not None
        if self.pending_bytes >= _CHUNK_BYTES or len(self.pending) >= _CHUNK_POOLS:
            self.flush()

    # -- one chunk: columns out of the gathered pool objects
    def flush(self) -> None:
        if not self.pending:
            return
        _ChunkBuilder(self).build()
        self.pending, self.pending_file, self.pending_at = [], [], []
        self.files, self.pending_bytes, self.pending_json_only = [], 0, True

    def keep_extra(
        self, is_pool: bool, name: str, values: dict[int, Any], where: Callable[[], tuple]
    ) -> None:
        """Keep an unknown field's values (``{row: value}``); the first time a field is seen,
        choose its column and write its problem row, with its first value, at ``where()``:
        ``(sort key, source, loc, pid, path)``."""
        if (is_pool, name) not in self.extra_columns:
            taken = set(SCHEMAS["pools" if is_pool else "numbers"]).union(
                column
                for (pool_table, _), column in self.extra_columns.items()
                if pool_table == is_pool
            )
            base = _printable(_snake(name)) or "unnamed"  # _snake takes str() of any key
            column = f"extra_{base}" if base in taken else base
            suffix = 2
            while column in taken:
                column, suffix = f"extra_{base}_{suffix}", suffix + 1
            self.extra_columns[(is_pool, name)] = column
            self.problem(
                *where(),
                next(iter(values.values())),
                f"unknown field {_printable(str(name))!r}: kept as column {column!r}",
            )
        (self.pool_extra if is_pool else self.number_extra).setdefault(name, {}).update(values)

    # -- the tables
    def tables(self) -> PoolTables:
        self.flush()
        if not (self.chunks or self.problems or self.responses or self.folders or self.pages):
            return empty_tables()
        pools = _to_pandas(
            {
                c: pa.chunked_array([k.pools[c] for k in self.chunks], _arrow_type(c))
                for c in SCHEMAS["pools"]
            }
        )
        numbers = _to_pandas(
            {
                c: pa.chunked_array([k.numbers[c] for k in self.chunks], _arrow_type(c))
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
            _add_extra_columns(
                frame, extra, {f: c for (p, f), c in self.extra_columns.items() if p == is_pool}
            )
        has_service = (
            np.concatenate([k.has_service for k in self.chunks])
            if self.chunks
            else np.zeros(0, bool)
        )
        services = pools.loc[has_service, list(SCHEMAS["services"])].reset_index(drop=True)
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
        locations = _locations(self.responses, self.folders, pools, pages)
        return PoolTables(pools, numbers, services, problems, locations, phone_numbers)


def _locations(
    responses: list[tuple], folders: list[str], pools: pd.DataFrame, pages: dict[tuple, dict]
) -> pd.DataFrame:
    """One row per location and snapshot folder of the data: those the pools name, those of
    responses with no pool (named by the manifest, else by the file), and those a snapshot
    folder's manifest lists without a response (failed, or no response file). ``inventory``
    says whether its active numbers are all there (``_inventory``)."""
    snapshots: dict[str, tuple[list, dict, dict]] = {}
    folder_of: dict[str, str] = {}  # a source's folder as given -> absolute ("" in memory)

    def snapshot(folder: str) -> tuple[list, dict, dict]:
        """A folder's manifest entries, the same by location and by file, and kept details."""
        if folder not in snapshots:
            entries = (read_manifest(folder) or {}).get("locations") if folder else []
            entries = [
                e
                for e in (entries if isinstance(entries, list) else [])
                if isinstance(e, dict) and isinstance(e.get("location_id"), str)
            ]
            by_key = {
                **{e["location_id"]: e for e in entries},
                **{e["file"]: e for e in entries if isinstance(e.get("file"), str)},
            }
            snapshots[folder] = (entries, by_key, read_locations(folder) if folder else {})
        return snapshots[folder]

    def folder(source: str) -> str:
        if source.startswith(_MEMORY):
            return ""
        given = source.rpartition(os.sep)[0]
        if given not in folder_of:
            folder_of[given] = os.path.abspath(given or os.curdir)
        return folder_of[given]

    folders_of = {source: folder(source) for source, _ in responses}  # each response's folder

    per_source = (  # pools, active pools and numbers of each location in each response
        pools.assign(
            active=pools["is_active"].fillna(False).astype(int), numbers=pools["number_count"]
        )
        .groupby(["location_id", "source"], observed=True, sort=False)
        .agg(pools=("pool_id", "size"), active_pools=("active", "sum"), numbers=("numbers", "sum"))
        .reset_index()
    )
    named = per_source[["location_id", "source"]].astype(object)
    rows = [
        (location_id, source, "ok", None) for location_id, source in named.itertuples(index=False)
    ]
    with_pools = set(named["source"])
    for source, error in responses:
        where = folders_of[source]
        if source in with_pools or not where:
            continue
        entry = snapshot(where)[1].get(os.path.basename(source))  # no pool names it: the manifest
        if entry or not error:  # does, or the file's name (a file that is no response is not one)
            rows.append(
                (
                    entry["location_id"] if entry else Path(source).stem,
                    source,
                    "failed" if error else "ok",
                    error,
                )
            )
    frame = pd.DataFrame(rows, columns=["location_id", "source", "status", "error"], dtype=object)
    order = {source: rank for rank, (source, _) in enumerate(responses)}  # the input's order
    frame = frame.iloc[frame["source"].map(order).argsort(kind="stable")].reset_index(drop=True)
    frame["folder"] = frame["source"].map(folders_of).astype(object)
    seen = set(zip(frame["location_id"], frame["folder"]))
    listed = []
    for where in folders:
        for entry in snapshot(where)[0]:
            if (entry["location_id"], where) not in seen:
                message = entry.get("message")
                error = "; ".join(map(str, message)) if isinstance(message, list) else message
                error = " ".join(str(part) for part in (entry.get("error"), error) if part) or None
                status = "failed" if entry.get("status") == "failed" else "no_response_file"
                listed.append(
                    (entry["location_id"], os.path.join(where, MANIFEST), status, error, where)
                )
    frame = pd.concat(
        [frame, pd.DataFrame(listed, columns=frame.columns, dtype=object)], ignore_index=True
    )
    frame = frame.drop_duplicates(["location_id", "folder"], ignore_index=True)

    def places_of(where: str) -> Iterator[tuple]:
        entries, by_key, details = snapshot(where)
        for location_id in dict.fromkeys([e["location_id"] for e in entries] + list(details)):
            about = details.get(location_id, {})
            name = about.get("name") or by_key.get(location_id, {}).get("name")
            yield (location_id, where, name, *map(about.get, _PLACE_FIELDS))

    about = [row for where in frame["folder"].unique() for row in places_of(where)]
    places = pd.DataFrame(
        about,
        columns=[
            "location_id",
            "folder",
            "name",
            "city",
            "state",
            "country",
            "postal_code",
            "timezone",
        ],
        dtype=object,
    )
    places["name"] = places["name"].where(places["name"].map(lambda v: isinstance(v, str)), None)
    frame = frame.merge(
        places.drop_duplicates(["location_id", "folder"]), how="left", on=["location_id", "folder"]
    )
    counts = (
        per_source.assign(
            folder=per_source["source"].astype(object).map(folders_of).astype(object)
        )  # object even when there is no pool: the join's key must match the frame's
        .groupby(["location_id", "folder"], observed=True)[list(_COUNTS)]
        .sum()
    )
    frame = frame.join(counts, on=["location_id", "folder"])
    answered = frame["status"] == "ok"
    for column in _COUNTS:
        frame[column] = frame[column].where(~answered, frame[column].fillna(0))
    frame["inventory"] = [
        _inventory(
            pages.get((location_id, where), {}),
            snapshot(where)[1].get(location_id, {}) if where else {},
        )
        for location_id, where in zip(frame["location_id"], frame["folder"])
    ]
    return frame[list(SCHEMAS["locations"])].astype(
        {c: dtype_of("locations", c) for c in SCHEMAS["locations"]}
    )


_COUNTS = ("pools", "active_pools", "numbers")


def _inventory(pages: dict[int, bool], entry: dict) -> str | None:
    """A location's inventory: ``ok`` when every page its manifest counts (else pages 0 to
    the last there) was read; else what the manifest says, or ``incomplete``; None when no
    page is there and the manifest says nothing (its numbers were not asked for)."""
    said = entry.get("inventory")
    if said is not None and said != "ok":
        return str(said)
    if not pages:
        return "incomplete" if said == "ok" else None
    count = entry.get("inventory_pages")
    count = count if isinstance(count, int) and said == "ok" else max(pages) + 1
    complete = all(pages.get(page) for page in range(count))
    return "ok" if complete else "incomplete"


_PLACE_FIELDS = ("city", "state", "country", "postalCode", "timezone")  # columns city to timezone


class _ChunkBuilder:
    """Turns the reader's gathered pool objects into one ``_Chunk`` of checked columns."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.pools = reader.pending
        self.file = reader.pending_file
        self.at = reader.pending_at
        self.loc: list = []
        self.pid: list = []
        self.complete = True  # every documented field is in every pool

    # -- where a pool is, for problem rows
    def source(self, row: int) -> str:
        return self.reader.files[self.file[row]][0]

    def path(self, row: int) -> str:
        return f"{self.reader.files[self.file[row]][1]}[{self.at[row]}]"

    def key(self, row: int, *rest) -> tuple:
        return (self.reader.rank[self.source(row)], _POOL, self.at[row], *rest)

    def pool_problem(
        self, row: int, field_name: str, value: Any, text: str, order: str | None = None
    ) -> None:
        self.reader.problem(
            self.key(row, _FIELD_ORDER[order or field_name]),
            self.source(row),
            self.loc[row],
            self.pid[row],
            f"{self.path(row)}.{field_name}",
            value,
            text,
        )

    # -- columns
    def column(self, name: str) -> list:
        try:  # the field is usually in every pool
            return [pool[name] for pool in self.pools]
        except KeyError:
            self.complete = False
            return [pool.get(name) for pool in self.pools]

    def ids(self, name: str) -> list:
        """A required, non-empty string field; anything else becomes NA with a problem."""
        values = self.column(name)
        if set(map(type, values)) <= {str} and "" not in values:
            return values
        for row, value in enumerate(values):
            if type(value) is str and value:
                continue
            pool = self.pools[row]
            text = (
                f"pool has no {name}"
                if value is None
                else f"{name} is a {_type_name(value)}, expected a non-empty string"
            )
            if name == "locationId":  # written before the id is checked: the id as given
                self.reader.problem(
                    self.key(row, _FIELD_ORDER[name]),
                    self.source(row),
                    None,
                    _text_or_none(pool.get("id")),
                    f"{self.path(row)}.{name}",
                    pool.get(name, _MISSING),
                    text,
                )
            else:
                self.reader.problem(
                    self.key(row, _FIELD_ORDER[name]),
                    self.source(row),
                    self.loc[row],
                    None,
                    f"{self.path(row)}.{name}",
                    pool.get(name, _MISSING),
                    text,
                )
            values[row] = None
        return values

    def typed(
        self, values: list, name: str, kind: type, expected: str, order: str | None = None
    ) -> list:
        """``values``, each that is neither null nor of ``kind`` made NA with a problem row."""
        if not set(map(type, values)) <= {kind, _NONE}:
            for row, value in enumerate(values):
                if value is not None and type(value) is not kind:
                    text = f"{name} is a {_type_name(value)}, expected {expected}"
                    self.pool_problem(row, name, value, text, order)
                    values[row] = None
        return values

    def texts(self, name: str) -> list:
        return self.typed(self.column(name), name, str, "a string")

    def flags(self, name: str) -> pa.Array:
        return pa.array(self.typed(self.column(name), name, bool, "true or false"), pa.bool_())

    def repeated_ids(self) -> None:
        """A pool id listed twice for one location in one response: both rows kept."""
        if len(set(self.pid)) == len(self.pid):
            return
        keys = list(zip(self.file, self.loc, self.pid))
        first: dict[tuple, str] = {}
        for row, key in enumerate(keys):
            if key[2] is None:
                continue
            if key in first:
                self.pool_problem(
                    row,
                    "id",
                    key[2],
                    f"pool id repeated within location {key[1]} (first at {first[key]}); "
                    "both rows kept",
                )
            else:
                first[key] = self.path(row)

    def forwarding(self) -> list:
        """``forwardingNumber``: a string, E.164 or blank (NA without a problem)."""
        values = self.texts("forwardingNumber")
        try:
            bad = pc.invert(
                pc.fill_null(pc.match_substring_regex(pa.array(values, _STR), E164_PATTERN), True)
            )
            rows = pc.indices_nonzero(bad).to_pylist()
        except (pa.ArrowException, UnicodeEncodeError):
            rows = [
                row
                for row, value in enumerate(values)
                if value is not None and not _E164.fullmatch(value)
            ]
        for row in rows:
            if values[row].strip():
                self.pool_problem(
                    row,
                    "forwardingNumber",
                    values[row],
                    "forwardingNumber is not an E.164 phone number",
                )
            values[row] = None
        return values

    def service(self) -> tuple[list, list, list]:
        """``inboundCallService``: an object ``{type, value}`` or null."""
        services = self.column("inboundCallService")
        has = [type(s) is dict for s in services]
        self.typed(
            services, "inboundCallService", dict, "an object or null", "inboundCallService.type"
        )
        types = [None if s is None else s.get("type") for s in services]
        values = [None if s is None else s.get("value") for s in services]
        if (
            (set(map(type, types)) - {_NONE}) - {str}
            or "" in types
            or types.count(None) != has.count(False)
        ):
            for row, value in enumerate(types):
                if has[row] and (type(value) is not str or not value):
                    self.pool_problem(
                        row,
                        "inboundCallService.type",
                        services[row].get("type", _MISSING),
                        "inbound call service has no type"
                        if value is None
                        else f"inboundCallService.type is a {_type_name(value)}, "
                        "expected a non-empty string",
                    )
                    types[row] = None
        self.typed(values, "inboundCallService.value", str, "a string")
        return types, values, has

    def number_lists(self) -> tuple[list, list]:
        """Each pool's ``numbers`` list (empty where it is not a list) and its count (NA there)."""
        try:
            lists = [pool["numbers"] for pool in self.pools]
        except KeyError:
            self.complete = False
            lists = [pool.get("numbers", _MISSING) for pool in self.pools]
        if set(map(type, lists)) <= {list}:
            return lists, list(map(len, lists))
        counts: list = []
        for row, value in enumerate(lists):
            if type(value) is list:
                counts.append(len(value))
                continue
            counts.append(None)
            self.reader.problem(
                self.key(row, _FIELD_ORDER["numbers"], -1),
                self.source(row),
                self.loc[row],
                self.pid[row],
                f"{self.path(row)}.numbers",
                value,
                "pool has no numbers list"
                if value is _MISSING or value is None
                else f"numbers is a {_type_name(value)}, expected a list",
            )
            lists[row] = []
        return lists, counts

    def numbers(
        self, lists: list, pool_of_number: np.ndarray, position: np.ndarray
    ) -> tuple[list, list]:
        """Phone numbers and friendly names; entries that are not objects, and unknown fields."""
        flat = list(chain.from_iterable(lists))
        try:  # every entry is exactly {"phoneNumber": ..., "friendlyName": ...}
            phones = list(map(itemgetter("phoneNumber"), flat))
            friendly = list(map(itemgetter("friendlyName"), flat))
            if sum(map(len, flat)) == 2 * len(flat):
                return phones, friendly
        except (TypeError, KeyError):
            pass
        phones = [n.get("phoneNumber", _MISSING) if type(n) is dict else _RECORDED for n in flat]
        friendly = [n.get("friendlyName") if type(n) is dict else None for n in flat]
        for j, number in enumerate(flat):
            if type(number) is dict and number.keys() <= _NUMBER_FIELDS:
                continue
            row, at = int(pool_of_number[j]), int(position[j])
            where = f"{self.path(row)}.numbers[{at}]"
            if type(number) is not dict:
                self.reader.problem(
                    self.key(row, _FIELD_ORDER["numbers"], at),
                    self.source(row),
                    self.loc[row],
                    self.pid[row],
                    where,
                    number,
                    f"number entry is a {_type_name(number)}, not an object",
                )
                continue
            for k, name in enumerate(n for n in number if n not in _NUMBER_FIELDS):
                self.reader.keep_extra(
                    False,
                    name,
                    {self.reader.rows_before[1] + j: number[name]},
                    lambda row=row, at=at, k=k, name=name: (
                        self.key(row, _FIELD_ORDER["numbers"], at, k),
                        self.source(row),
                        self.loc[row],
                        self.pid[row],
                        f"{self.path(row)}.numbers[{at}].{name}",
                    ),
                )
        return phones, friendly

    def extra_fields(self) -> None:
        """Unknown pool fields, a column at a time: each is kept in the order of its first
        appearance (pool, then place among the pool's unknown fields)."""
        if self.complete and sum(map(len, self.pools)) == len(_POOL_FIELDS) * len(self.pools):
            return
        found = []
        for name in set().union(*map(dict.keys, self.pools)) - _POOL_FIELDS:
            values = [pool.get(name, _MISSING) for pool in self.pools]
            present = {row: value for row, value in enumerate(values) if value is not _MISSING}
            row = next(iter(present))
            k = [n for n in self.pools[row] if n not in _POOL_FIELDS].index(name)
            found.append((row, k, name, present))
        offset = self.reader.rows_before[0]
        for row, k, name, present in sorted(found, key=lambda item: item[:2]):
            self.reader.keep_extra(
                True,
                name,
                {offset + r: value for r, value in present.items()},
                lambda row=row, k=k, name=name: (
                    self.key(row, _FIELD_ORDER["extra"], k),
                    self.source(row),
                    self.loc[row],
                    self.pid[row],
                    f"{self.path(row)}.{name}",
                ),
            )

    def strings(
        self, values: list, check: str, where: Callable[[int], tuple], required: bool = False
    ) -> pa.Array:
        """Arrow strings; a value that is not a string (or null, where one is ``required``), or
        not valid Unicode (possible only in a parsed dict), becomes NA with a problem row."""
        # Arrow refuses every JSON type but strings; only other Python objects need the type check
        if self.reader.pending_json_only or set(map(type, values)) <= _TEXT_TYPES:
            try:
                array = pa.array(values, _STR)
                if not (required and array.null_count):
                    return array
            except (pa.ArrowException, TypeError, UnicodeEncodeError):
                pass
        clean = []
        for row, value in enumerate(values):
            if (type(value) is str and _encodable(value)) or (value is None and not required):
                clean.append(value)
                continue
            clean.append(None)
            if value is _RECORDED:
                continue
            source, loc, pid, path = where(row)
            text = (
                f"number has no {check}"
                if value is _MISSING
                else f"{check} is null"
                if value is None
                else f"{check} is not valid Unicode text"
                if type(value) is str
                else f"{check} is a {_type_name(value)}, expected a string"
            )
            self.reader.problem(
                (self.reader.rank[source], 1, _COLUMN_CHECKS.index(check), row),
                source,
                loc,
                pid,
                path,
                value,
                text,
            )
        return pa.array(clean, _STR)

    def build(self) -> None:
        self.loc = self.ids("locationId")
        self.pid = self.ids("id")
        self.repeated_ids()
        forwarding = self.forwarding()
        name = self.texts("name")
        whisper = self.flags("whisper")
        message = self.texts("whisperMessage")
        recording = self.flags("callRecording")
        active = self.flags("isActive")
        stype, svalue, has_service = self.service()
        lists, counts = self.number_lists()
        self.extra_fields()
        sizes = np.fromiter((c or 0 for c in counts), np.int64, len(counts))
        pool_of_number = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
        position = np.arange(len(pool_of_number), dtype=np.int64) - np.repeat(
            np.cumsum(sizes) - sizes, sizes
        )
        phones, friendly = self.numbers(lists, pool_of_number, position)

        def number_at(field_name: str) -> Callable[[int], tuple]:
            def where(j: int) -> tuple:
                row = int(pool_of_number[j])
                return (
                    self.source(row),
                    self.loc[row],
                    self.pid[row],
                    f"{self.path(row)}.numbers[{int(position[j])}].{field_name}",
                )

            return where

        def pool_at(field_name: str) -> Callable[[int], tuple]:
            return lambda row: (self.source(row), None, None, f"{self.path(row)}.{field_name}")

        phone = self.strings(phones, "phoneNumber", number_at("phoneNumber"), required=True)
        phone = self.e164(phone, number_at("phoneNumber"))
        friendly_names = self.strings(friendly, "friendlyName", number_at("friendlyName"))
        pools = {
            "location_id": self.strings(self.loc, "locationId", pool_at("locationId")),
            "pool_id": self.strings(self.pid, "id", pool_at("id")),
            "name": self.strings(name, "name", pool_at("name")),
            "forwarding_number": self.strings(
                forwarding, "forwardingNumber", pool_at("forwardingNumber")
            ),
            "whisper": whisper,
            "whisper_message": self.strings(message, "whisperMessage", pool_at("whisperMessage")),
            "call_recording": recording,
            "is_active": active,
            "service_type": self.strings(
                stype, "inboundCallService.type", pool_at("inboundCallService.type")
            ),
            "service_value": self.strings(
                svalue, "inboundCallService.value", pool_at("inboundCallService.value")
            ),
            "number_count": pa.array(counts, pa.int64()),
            "source": pa.array([self.reader.files[f][0] for f in self.file], _STR),
        }
        take = pa.array(pool_of_number)
        numbers = {
            c: pc.take(pools[c], take, memory_pool=_MEMORY_POOL)
            for c in ("location_id", "pool_id", "source")
        }
        numbers.update(
            position=pa.array(position), phone_number=phone, friendly_name=friendly_names
        )
        self.reader.chunks.append(
            _Chunk(
                pools=pools,
                numbers={c: numbers[c] for c in SCHEMAS["numbers"]},
                has_service=np.array(has_service, dtype=bool),
            )
        )
        self.reader.rows_before[0] += len(self.pools)
        self.reader.rows_before[1] += len(pool_of_number)

    def e164(self, phone: pa.Array, where: Callable[[int], tuple]) -> pa.Array:
        bad = pc.fill_null(pc.invert(pc.match_substring_regex(phone, E164_PATTERN)), False)
        rows = pc.indices_nonzero(bad).to_pylist()
        for row in rows:
            source, loc, pid, path = where(row)
            self.reader.problem(
                (self.reader.rank[source], 1, _COLUMN_CHECKS.index("e164"), row),
                source,
                loc,
                pid,
                path,
                phone[row].as_py(),
                "phoneNumber is not an E.164 phone number",
            )
        return pc.if_else(bad, pa.scalar(None, _STR), phone) if rows else phone


# --------------------------------------------------------------------------- assembly

_ARROW_TO_PANDAS = {_STR: pd.StringDtype(), pa.bool_(): pd.BooleanDtype()}


def _arrow_type(column: str) -> pa.DataType:
    return {
        "whisper": pa.bool_(),
        "call_recording": pa.bool_(),
        "is_active": pa.bool_(),
        "number_count": pa.int64(),
        "position": pa.int64(),
    }.get(column, _STR)


def _to_pandas(columns: dict[str, pa.ChunkedArray]) -> pd.DataFrame:
    return pa.table(columns).to_pandas(types_mapper=_ARROW_TO_PANDAS.get, memory_pool=_MEMORY_POOL)


def _add_extra_columns(frame: pd.DataFrame, extra: dict, columns: dict[str, str]) -> None:
    """Append one column per unknown field, typed as narrowly as its values allow."""
    for name, rows in sorted(extra.items(), key=lambda item: columns[item[0]]):
        values = [None] * len(frame)
        for row, value in rows.items():
            values[row] = value
        present = [v for v in values if v is not None]
        kinds = {type(v) for v in present}
        if kinds <= {bool}:
            column = pd.array(values, dtype="boolean")
        elif kinds <= {int} and all(-(2**63) <= v < 2**63 for v in present):
            column = pd.array(values, dtype="Int64")
        elif kinds <= {int, float} and all(abs(v) < 2**63 or type(v) is float for v in present):
            column = pd.array(values, dtype="Float64")
        elif kinds <= {str} and all(map(_encodable, present)):
            column = pd.array(values, dtype="string")
        else:
            column = pd.array(
                [None if v is None else _short(v, 10_000) for v in values], dtype="string"
            )
        frame[columns[name]] = column


# --------------------------------------------------------------------------- API


def read_pools(source: Any, *, errors: str = "raise") -> PoolTables:
    """Read number-pool responses into tidy tables.

    ``source`` is a response file, a folder (every ``*.json`` below it except
    ``manifest.json``), a glob, a parsed response ``dict``, or a list of these. Accepted
    shapes: the ``{"success", "data", "total"}`` envelope, the v3-style
    ``{"status", "data", "statusCode", "message"}`` wrapper, and a bare list of pools.
    (A Parquet dataset written by ``PoolTables.to_parquet`` is read by ``poolkit.read_dataset``.)

    ``errors="raise"`` raises a ``SourceError`` for a source that is unreadable, not
    JSON or not a pool response; ``errors="record"`` turns it into a ``problems`` row
    and goes on. Problems inside a response never raise.
    """
    if errors not in ("raise", "record"):
        raise ValueError(f"errors must be 'raise' or 'record', not {errors!r}")
    reader = _Reader()
    with _no_cyclic_gc():
        for name, doc in _iter_sources(source):
            if doc is _SNAPSHOT:
                reader.folders.append(name)
                continue
            if doc is _INVENTORY:
                try:
                    reader.pages.append((name, _parse(name, _read_file(name))))
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
                    raw = _read_file(name)
                    reader.add(name, _parse(name, raw), len(raw))
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
