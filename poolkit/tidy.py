"""Tidy number-pool responses into four typed pandas DataFrames.

``read_pools`` accepts files, folders, globs and parsed responses, and returns a
``PoolTables`` of ``pools``, ``numbers``, ``services`` and ``problems``. Nothing is
dropped silently: what does not fit the API contract stays in its table as NA and
gets a row in ``problems`` naming the source, location, pool and JSON path.

Two paths give the same tables. The fast path reads one-line responses (what the API
sends) in batches straight into column buffers: with the compiled parser
(``_fastjson.c``) where poolkit was built with a C compiler, with ``pyarrow.json``
otherwise. It takes a batch only if every response in it is clean. The careful path
reads everything else: a single pass appending to plain Python lists, with types and
phone formats checked column-wise in Arrow and the rare bad values looked at one by one.
"""

from __future__ import annotations

import glob
import json
import os
import re
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from .errors import (
    ErrorResponseError,
    InvalidJSONError,
    NotAPoolResponseError,
    SourceError,
    UnreadableSourceError,
)
from .snapshot import MANIFEST

try:  # compiled when poolkit is installed where a C compiler is; Arrow's reader otherwise
    from . import _fastjson
except ImportError:
    _fastjson = None

__all__ = ["PoolTables", "read_pools", "json_files", "SCHEMAS", "KNOWN_SERVICE_TYPES", "empty_tables"]

#: Service types the API documents (on phone numbers); the set is open.
KNOWN_SERVICE_TYPES = ("forward", "ivr", "voice_ai")

#: Column name -> dtype kind, in column order, for each table.
SCHEMAS: dict[str, dict[str, str]] = {
    "pools": {
        "location_id": "string",
        "pool_id": "string",
        "name": "string",
        "forwarding_number": "string",
        "whisper": "boolean",
        "whisper_message": "string",
        "call_recording": "boolean",
        "is_active": "boolean",
        "service_type": "category",
        "service_value": "string",
        "number_count": "Int64",
        "source": "string",
    },
    "numbers": {
        "location_id": "string",
        "pool_id": "string",
        "position": "int64",
        "phone_number": "string",
        "friendly_name": "string",
        "source": "string",
    },
    "services": {
        "location_id": "string",
        "pool_id": "string",
        "service_type": "category",
        "service_value": "string",
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

# JSON field of a pool -> column of ``pools`` (fields handled one by one are not here).
_POOL_FIELDS = {
    "id", "name", "locationId", "numbers", "forwardingNumber", "whisper",
    "whisperMessage", "callRecording", "isActive", "inboundCallService",
}
_NUMBER_FIELDS = {"phoneNumber", "friendlyName"}
#: An E.164 phone number (anchored: Arrow's regex functions search, they do not fullmatch).
E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"
_E164 = re.compile(E164_PATTERN)
_ENVELOPE_KEYS = ("data", "pools", "numberPools")
_MEMORY = "<memory>"
_STR = pa.large_string()  # what pandas' Arrow-backed string dtype holds: no cast, no copy
# Big, long-lived columns: the system allocator hands freed parse buffers back, where
# Arrow's default pool keeps them (about a third more peak memory on the benchmark).
_MEMORY_POOL = pa.system_memory_pool()


class _Missing:
    """Marks a JSON key that is absent (as opposed to ``null``)."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
_RECORDED = object()  # a bad value whose problem row is already written


def _category_dtype(seen: Iterable[str] = ()) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(sorted(set(KNOWN_SERVICE_TYPES).union(seen)))


def _pandas_dtype(kind: str):
    return {
        "string": pd.StringDtype(),
        "boolean": pd.BooleanDtype(),
        "Int64": pd.Int64Dtype(),
        "int64": np.dtype("int64"),
        "category": _category_dtype(),
    }[kind]


def _empty_frame(table: str) -> pd.DataFrame:
    return pd.DataFrame(
        {col: pd.Series([], dtype=_pandas_dtype(kind)) for col, kind in SCHEMAS[table].items()}
    )


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
    return {bool: "boolean", int: "number", float: "number", str: "string",
            list: "list", dict: "object"}.get(type(value), type(value).__name__)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).replace("-", "_").lower()


@dataclass(repr=False)
class PoolTables:
    """The four tidy tables of one or more number-pool responses.

    ``pools`` is keyed by ``(location_id, pool_id)``, ``numbers`` by
    ``(location_id, pool_id, position)``; ``source`` traces every row to its file.
    """

    pools: pd.DataFrame
    numbers: pd.DataFrame
    services: pd.DataFrame
    problems: pd.DataFrame

    TABLES = ("pools", "numbers", "services", "problems")

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(getattr(self, name)):,}" for name in self.TABLES)
        return f"PoolTables({counts})"

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        for name in self.TABLES:
            yield name, getattr(self, name)

    def to_parquet(self, directory: str | os.PathLike) -> Path:
        """Write the tables as one Parquet dataset, partitioned by snapshot (hive-style
        ``<table>/snapshot=.../``); ``read_pools(directory)`` reads it back identical."""
        from .dataset import write_dataset

        return write_dataset(self, directory)

    def to_csv(self, directory: str | os.PathLike) -> Path:
        """Write ``<table>.csv`` for each table into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self:
            frame.to_csv(out / f"{name}.csv", index=False)
        return out


def empty_tables() -> PoolTables:
    """Four empty tables with the documented columns and dtypes."""
    return PoolTables(*(_empty_frame(name) for name in PoolTables.TABLES))


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
    if path.is_dir():
        for name in json_files(path):
            yield name, None
    elif path.exists() or not glob.has_magic(str(source)):
        yield str(path), None
    else:
        for name in sorted(glob.glob(str(source), recursive=True)):
            if os.path.isfile(name) and os.path.basename(name) != MANIFEST:
                yield name, None


def json_files(folder: str | os.PathLike) -> list[str]:
    """Every ``*.json`` below ``folder`` except manifests, sorted by path."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        found.extend(os.path.join(root, n) for n in names if n.endswith(".json") and n != MANIFEST)
    return sorted(found)


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
        raise InvalidJSONError(name, "not valid JSON text: a string holds an unpaired UTF-16 surrogate") from None
    except (ValueError, RecursionError) as exc:
        raise InvalidJSONError(name, f"not valid JSON: {exc}") from None


def _unwrap(name: str, doc: Any) -> tuple[list, str, Any]:
    """Return ``(pool list, JSON path prefix, total)`` or raise ``NotAPoolResponseError``."""
    if isinstance(doc, list):
        return doc, "", _MISSING
    if not isinstance(doc, dict):
        raise NotAPoolResponseError(name, f"top-level JSON is a {_type_name(doc)}, not an object or a list")
    status = doc.get("statusCode")
    if doc.get("success") is False or (
        type(status) is int and status >= 400 and not isinstance(doc.get("data"), list)
    ):
        message = doc.get("message")
        if isinstance(message, list):
            message = "; ".join(map(str, message))
        detail = " ".join(str(part) for part in (status, doc.get("error"), message) if part)
        raise ErrorResponseError(name, f"a saved API error response ({detail or 'success: false'}), not a pool list")
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
        raise NotAPoolResponseError(name, f"'{prefix}' is a {_type_name(data)}, expected a list of pools", prefix)
    return data, prefix, doc.get("total", _MISSING)


# --------------------------------------------------------------------------- flatten

class _Flattener:
    """Accumulates columns over many responses, then builds the four tables."""

    def __init__(self) -> None:
        # unknown field -> its column, per table; chosen (and reported) once per read
        self.extra_columns: dict[tuple[bool, str], str] = {}
        self.source_rank: dict[str, int] = {}  # input order: problems are listed in it
        self._reset()

    def _reset(self) -> None:
        # pools, one entry per pool row
        self.p_loc: list = []
        self.p_id: list = []
        self.p_name: list = []
        self.p_fwd: list = []
        self.p_whisper: list = []
        self.p_msg: list = []
        self.p_rec: list = []
        self.p_active: list = []
        self.p_stype: list = []
        self.p_svalue: list = []
        self.p_has_service: list = []
        self.p_count: list = []
        self.p_source: list = []
        self.p_path: list = []  # JSON path of the pool object, for problem rows
        # numbers, one entry per number row (keys are derived from the pool row)
        self.n_phone: list = []
        self.n_friendly: list = []
        # problems, one dict per row
        self.problems: list[dict] = []
        # unknown fields: field -> {row: value}
        self.pool_extra: dict[str, dict] = {}
        self.number_extra: dict[str, dict] = {}

    # -- problems
    def problem(self, source, location_id, pool_id, path, value, text) -> None:
        self.problems.append({
            "rank": self.source_rank.setdefault(source, len(self.source_rank)),
            "source": _printable(source), "location_id": _printable(location_id),
            "pool_id": _printable(pool_id), "path": _printable(path), "value": _short(value), "problem": text,
        })

    def source_problem(self, error: SourceError, value: Any = _MISSING) -> None:
        self.problem(error.source, None, None, error.path, value, error.reason)

    # -- one response
    def add(self, name: str, doc: Any) -> None:
        data, prefix, total = _unwrap(name, doc)
        if total is not _MISSING:
            if type(total) not in (int, float):
                self.problem(name, None, None, "total", total, f"total is a {_type_name(total)}, expected a number")
            elif total != len(data):
                self.problem(name, None, None, "total", total,
                             f"total says {total:g} but the response holds {len(data)} pool(s)")
        seen_ids: dict[tuple, str] = {}
        for i, pool in enumerate(data):
            path = f"{prefix}[{i}]"
            if type(pool) is not dict:
                self.problem(name, None, None, path, pool,
                             f"pool entry is a {_type_name(pool)}, not an object; no pool row was made")
                continue
            self._add_pool(name, path, pool, seen_ids)

    def _add_pool(self, source: str, path: str, pool: dict, seen_ids: dict) -> None:
        row = len(self.p_id)
        get = pool.get
        loc = get("locationId")
        if type(loc) is not str or not loc:
            self.problem(source, None, _text_or_none(get("id")), f"{path}.locationId", get("locationId", _MISSING),
                         "pool has no locationId" if loc is None else f"locationId is a {_type_name(loc)}, expected a non-empty string")
            loc = None
        pid = get("id")
        if type(pid) is not str or not pid:
            self.problem(source, loc, None, f"{path}.id", get("id", _MISSING),
                         "pool has no id" if pid is None else f"id is a {_type_name(pid)}, expected a non-empty string")
            pid = None
        else:
            key = (loc, pid)
            if key in seen_ids:
                self.problem(source, loc, pid, f"{path}.id", pid,
                             f"pool id repeated within location {loc} (first at {seen_ids[key]}); both rows kept")
            else:
                seen_ids[key] = path

        def text(field: str) -> str | None:
            value = get(field)
            if value is None or type(value) is str:
                return value
            self.problem(source, loc, pid, f"{path}.{field}", value, f"{field} is a {_type_name(value)}, expected a string")
            return None

        def flag(field: str) -> bool | None:
            value = get(field)
            if value is None or type(value) is bool:
                return value
            self.problem(source, loc, pid, f"{path}.{field}", value, f"{field} is a {_type_name(value)}, expected true or false")
            return None

        fwd = text("forwardingNumber")
        if fwd is not None and not _E164.fullmatch(fwd):
            if fwd.strip():
                self.problem(source, loc, pid, f"{path}.forwardingNumber", fwd, "forwardingNumber is not an E.164 phone number")
            fwd = None
        self.p_loc.append(loc)
        self.p_id.append(pid)
        self.p_name.append(text("name"))
        self.p_fwd.append(fwd)
        self.p_whisper.append(flag("whisper"))
        self.p_msg.append(text("whisperMessage"))
        self.p_rec.append(flag("callRecording"))
        self.p_active.append(flag("isActive"))
        self.p_source.append(source)
        self.p_path.append(path)

        service = get("inboundCallService")
        stype = svalue = None
        if type(service) is dict:
            stype, svalue = service.get("type"), service.get("value")
            if type(stype) is not str or not stype:
                self.problem(source, loc, pid, f"{path}.inboundCallService.type", service.get("type", _MISSING),
                             "inbound call service has no type" if stype is None
                             else f"inboundCallService.type is a {_type_name(stype)}, expected a non-empty string")
                stype = None
            if svalue is not None and type(svalue) is not str:
                self.problem(source, loc, pid, f"{path}.inboundCallService.value", svalue,
                             f"inboundCallService.value is a {_type_name(svalue)}, expected a string")
                svalue = None
        elif service is not None:
            self.problem(source, loc, pid, f"{path}.inboundCallService", service,
                         f"inboundCallService is a {_type_name(service)}, expected an object or null")
        self.p_stype.append(stype)
        self.p_svalue.append(svalue)
        self.p_has_service.append(type(service) is dict)

        numbers = get("numbers", _MISSING)
        if type(numbers) is list:
            self.p_count.append(len(numbers))
            self._add_numbers(source, path, loc, pid, numbers)
        else:
            self.p_count.append(None)
            self.problem(source, loc, pid, f"{path}.numbers", numbers,
                         "pool has no numbers list" if numbers is _MISSING or numbers is None
                         else f"numbers is a {_type_name(numbers)}, expected a list")

        if not pool.keys() <= _POOL_FIELDS:
            for field in pool.keys() - _POOL_FIELDS:
                self._keep_extra(self.pool_extra, field, row, pool[field], f"{path}.{field}", source, loc, pid)

    def _add_numbers(self, source: str, path: str, loc, pid, numbers: list) -> None:
        try:  # fast path: every entry is {"phoneNumber": ..., "friendlyName": ...}
            phones = [n["phoneNumber"] for n in numbers]
            friendly = [n["friendlyName"] for n in numbers]
            exact = sum(map(len, numbers)) == 2 * len(numbers)
        except (TypeError, KeyError):
            exact = False
        if exact:
            self.n_phone.extend(phones)
            self.n_friendly.extend(friendly)
            return
        for j, number in enumerate(numbers):
            if type(number) is not dict:
                self.problem(source, loc, pid, f"{path}.numbers[{j}]", number,
                             f"number entry is a {_type_name(number)}, not an object")
                self.n_phone.append(_RECORDED)
                self.n_friendly.append(None)
                continue
            self.n_phone.append(number.get("phoneNumber", _MISSING))
            self.n_friendly.append(number.get("friendlyName"))
            for field in number.keys() - _NUMBER_FIELDS:
                self._keep_extra(self.number_extra, field, len(self.n_phone) - 1, number[field],
                                 f"{path}.numbers[{j}].{field}", source, loc, pid)

    def _keep_extra(self, extra: dict, field: str, row: int, value: Any, path: str, source, loc, pid) -> None:
        is_pool = extra is self.pool_extra
        if (is_pool, field) not in self.extra_columns:
            taken = set(SCHEMAS["pools" if is_pool else "numbers"]).union(
                name for (pool_table, _), name in self.extra_columns.items() if pool_table == is_pool)
            base = _printable(_snake(field)) or "unnamed"
            column = f"extra_{base}" if base in taken else base
            suffix = 2
            while column in taken:
                column, suffix = f"extra_{base}_{suffix}", suffix + 1
            self.extra_columns[(is_pool, field)] = column
            self.problem(source, loc, pid, path, value, f"unknown field {_printable(field)!r}: kept as column {column!r}")
        extra.setdefault(field, {})[row] = value

    # -- build
    def piece(self) -> "_Piece":
        """Check the accumulated columns, return them as a piece, and start afresh."""
        pool_of_number, position = _number_rows(np.array([c or 0 for c in self.p_count], dtype=np.int64))
        phone = self._checked_strings(self.n_phone, pool_of_number, position, "phoneNumber", required=True)
        phone = self._checked_e164(phone, pool_of_number, position)
        friendly = self._checked_strings(self.n_friendly, pool_of_number, position, "friendlyName", required=False)
        text = self._pool_strings
        piece = _Piece(
            pools={
                "location_id": text(self.p_loc, "locationId"),
                "pool_id": text(self.p_id, "id"),
                "name": text(self.p_name, "name"),
                "forwarding_number": text(self.p_fwd, "forwardingNumber"),
                "whisper": pa.array(self.p_whisper, pa.bool_()),
                "whisper_message": text(self.p_msg, "whisperMessage"),
                "call_recording": pa.array(self.p_rec, pa.bool_()),
                "is_active": pa.array(self.p_active, pa.bool_()),
                "service_type": text(self.p_stype, "inboundCallService.type"),
                "service_value": text(self.p_svalue, "inboundCallService.value"),
                "number_count": pa.array(self.p_count, pa.int64()),
                "source": pa.array(self.p_source, _STR),
            },
            numbers={"position": pa.array(position), "phone_number": phone, "friendly_name": friendly},
            pool_of_number=pool_of_number,
            has_service=np.array(self.p_has_service, dtype=bool),
            problems=self.problems,
            pool_extra=self.pool_extra,
            number_extra=self.number_extra,
        )
        self._reset()
        return piece

    def _pool_strings(self, values: list, field: str) -> pa.Array:
        """Arrow strings; a string that is not valid Unicode (an unpaired surrogate, only
        possible in a parsed dict) becomes NA with a problem row."""
        try:
            return pa.array(values, _STR)
        except (pa.ArrowException, UnicodeEncodeError):
            pass
        clean = []
        for row, value in enumerate(values):
            if value is not None and not _encodable(value):
                self.problem(self.p_source[row], None, None, f"{self.p_path[row]}.{field}", value,
                             f"{field} is not valid Unicode text")
                value = None
            clean.append(value)
        return pa.array(clean, _STR)

    def _number_path(self, row: int, pool_of_number, position, field: str) -> tuple:
        pool = int(pool_of_number[row])
        path = f"{self.p_path[pool]}.numbers[{int(position[row])}].{field}"
        return self.p_source[pool], self.p_loc[pool], self.p_id[pool], path

    def _checked_strings(self, values: list, pool_of_number, position, field: str, required: bool) -> pa.Array:
        """Arrow string column of ``values``; non-strings become NA with a problem row."""
        try:
            array = pa.array(values, _STR)
            if not (required and array.null_count):
                return array
        except (pa.ArrowException, TypeError, UnicodeEncodeError):
            pass
        clean = []
        for row, value in enumerate(values):
            if type(value) is str and _encodable(value):
                clean.append(value)
                continue
            clean.append(None)
            if value is _RECORDED or (value is None and not required) or (value is _MISSING and not required):
                continue
            text = (f"number has no {field}" if value is _MISSING else
                    f"{field} is null" if value is None else
                    f"{field} is not valid Unicode text" if type(value) is str else
                    f"{field} is a {_type_name(value)}, expected a string")
            self.problem(*self._number_path(row, pool_of_number, position, field), value, text)
        return pa.array(clean, _STR)

    def _checked_e164(self, phone: pa.Array, pool_of_number, position) -> pa.Array:
        bad = pc.fill_null(pc.invert(pc.match_substring_regex(phone, E164_PATTERN)), False)
        rows = pc.indices_nonzero(bad).to_pylist()
        for row in rows:
            self.problem(*self._number_path(row, pool_of_number, position, "phoneNumber"),
                         phone[row].as_py(), "phoneNumber is not an E.164 phone number")
        return pc.if_else(bad, pa.scalar(None, _STR), phone) if rows else phone


def _number_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For pools holding ``counts`` numbers: each number row's pool row and its position."""
    pool_of_number = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    return pool_of_number, np.arange(len(pool_of_number), dtype=np.int64) - np.repeat(starts, counts)


@dataclass
class _Piece:
    """Checked columns of consecutive responses; pieces are concatenated in input order.

    ``numbers`` gets its key columns (location, pool, source) from ``pools`` here, so that
    fast pieces build them on the worker threads rather than at the end."""

    pools: dict[str, pa.Array]
    numbers: dict[str, pa.Array]
    pool_of_number: np.ndarray  # pool row (within the piece) of each number row
    has_service: np.ndarray
    problems: list = dataclass_field(default_factory=list)
    pool_extra: dict = dataclass_field(default_factory=dict)
    number_extra: dict = dataclass_field(default_factory=dict)

    def __post_init__(self) -> None:
        take = pa.array(self.pool_of_number)
        keys = {c: pc.take(self.pools[c], take, memory_pool=_MEMORY_POOL) for c in ("location_id", "pool_id", "source")}
        self.numbers = {c: keys[c] if c in keys else self.numbers[c] for c in SCHEMAS["numbers"]}


# --------------------------------------------------------------------------- fast path

_NUMBER_TYPE = pa.struct([("phoneNumber", _STR), ("friendlyName", _STR)])
_POOL_TYPE = pa.struct([
    ("id", _STR), ("name", _STR), ("locationId", _STR),
    ("numbers", pa.list_(_NUMBER_TYPE)), ("forwardingNumber", _STR),
    ("whisper", pa.bool_()), ("whisperMessage", _STR), ("callRecording", pa.bool_()),
    ("isActive", pa.bool_()),
    ("inboundCallService", pa.struct([("type", _STR), ("value", _STR)])),
])
_FAST_OPTIONS = pa_json.ParseOptions(
    explicit_schema=pa.schema([("success", pa.bool_()), ("data", pa.list_(_POOL_TYPE)), ("total", pa.int64())]),
    unexpected_field_behavior="error",
)
_FAST_BATCH_BYTES = 4 << 20  # bytes of responses parsed at a time
_FAST_MIN_FILES = 8  # below this, a batch that is not clean goes to the careful path
_FAST_WORKERS = min(4, os.cpu_count() or 1)  # chunks read and parsed at once, one thread each
_FAST_READAHEAD = 4  # chunks handed out ahead of the one being taken
_FAST_CHUNK_FILES = 512  # files handed to a worker at a time (256 to 1024 measured: 512 fastest)
_BOM = b"\xef\xbb\xbf"
_BUFFERS = threading.local()  # each reading thread's buffer (workers, or the caller without C)


def _read_files(names: list[str], parse: Callable[[list, Any], list] | None = None) -> list:
    """Read files in batches and ``parse`` each (``_parse_lines`` by default). Returns,
    in input order, what ``parse`` returned for each batch (``_Piece`` and careful
    items), ``(name, bytes)`` for a file the careful path must read, and
    ``(name, SourceError)`` for a file that cannot be read."""
    buffer = getattr(_BUFFERS, "buffer", None)
    if buffer is None:
        buffer = _BUFFERS.buffer = bytearray(_FAST_BATCH_BYTES + (1 << 20))
    read_lines = _fastjson.read_lines if _fastjson is not None else _read_lines_py
    out: list = []
    first = 0
    while first < len(names):
        after, size, full = read_lines(names, first, buffer, _FAST_BATCH_BYTES)
        if after > first:
            out.extend((parse or _parse_lines)(names[first:after], memoryview(buffer)[:size]))
        first = after
        if not full:  # names[first] is unreadable, not a one-line object, or too big
            out.extend(_read_odd(names[first]))
            first += 1
    return out


def _read_lines_py(names: list[str], first: int, buffer: bytearray, limit: int) -> tuple[int, int, bool]:
    """``_fastjson.read_lines`` in Python, for where it was not compiled: files
    ``names[first:]`` into ``buffer``, one line each, until it holds ``limit`` bytes."""
    size = 0
    view = memoryview(buffer)
    for index in range(first, len(names)):
        if size >= limit:
            return index, size, True
        try:
            fd = os.open(names[index], os.O_RDONLY)
            try:
                end = size + os.readv(fd, [view[size:]])
                while end < len(buffer) and (got := os.readv(fd, [view[end:]])):
                    end += got
            finally:
                os.close(fd)
        except OSError:
            return index, size, False
        if end == len(buffer):  # too big for what is left
            return index, size, size > 0
        body = buffer[size:end].rstrip(b" \t\r\n")
        if not _is_one_line_object(body):
            return index, size, False
        size += len(body)
        buffer[size] = 0x0A
        size += 1
    return len(names), size, True


def _is_one_line_object(body: bytes) -> bool:
    """Only objects go to the parsers (pyarrow 26's JSON reader crashes the process on a
    top-level ``null``), and only on one line (a line break would split a file in two)."""
    return body[:1] == b"{" and body[-1:] == b"}" and b"\n" not in body and b"\r" not in body


def _read_odd(name: str) -> list:
    """A file the batch reader left: read it whole, as a batch of its own if it is a
    one-line object (a big one), else for the careful path."""
    try:
        with open(name, "rb") as file:
            raw = file.read()
    except OSError as exc:
        return [(name, UnreadableSourceError(name, f"cannot read file: {exc.strerror or exc}"))]
    raw = raw[len(_BOM):] if raw.startswith(_BOM) else raw
    body = raw.rstrip(b" \t\r\n")
    return _parse_lines([name], body + b"\n") if _is_one_line_object(body) else [(name, raw)]


def _parse_lines(names: list[str], lines: bytes | memoryview) -> list:
    """Pieces for a batch of one-line responses. A batch that is not clean is halved
    until the responses that are not are found; those come back as ``(name, bytes)``."""
    piece = _fast_piece(names, lines)
    if piece is not None:
        return [piece]
    parts = bytes(lines).split(b"\n")[:-1]  # one response per line
    if len(names) < _FAST_MIN_FILES:
        return list(zip(names, parts))
    middle = len(names) // 2
    return [*_parse_lines(names[:middle], b"\n".join(parts[:middle]) + b"\n"),
            *_parse_lines(names[middle:], b"\n".join(parts[middle:]) + b"\n")]


def _fast_piece(names: list[str], lines: memoryview) -> _Piece | None:
    """Parse and check a batch of one-line ``{"success", "data", "total"}`` responses.

    Returns ``None`` unless every response is clean: then the careful path, which
    writes the problem rows, must read them instead. Neither parser coerces a type (a
    number where a string belongs is not clean), so a clean batch gives exactly the
    careful path's tables.
    """
    parsed = (_parse_c if _fastjson is not None else _parse_arrow)(lines, len(names))
    if parsed is None:
        return None
    pools, numbers, lengths, file_of_pool, has_service = parsed
    if _has_repeated_pool(file_of_pool, pools["location_id"], pools["pool_id"]):
        return None
    pool_of_number, position = _number_rows(lengths)
    pools["number_count"] = pa.array(lengths)
    pools["source"] = pc.take(pa.array(names, _STR), file_of_pool, memory_pool=_MEMORY_POOL)
    return _Piece(pools=pools, numbers={"position": pa.array(position), **numbers},
                  pool_of_number=pool_of_number, has_service=has_service)


def _parse_c(lines: memoryview, files: int) -> tuple | None:
    """The compiled parser (``_fastjson.c``): it checks as it parses, without the GIL."""
    out = _fastjson.parse(lines, files)
    if out is None:
        return None

    def column(name: str, rows: int) -> pa.Array:
        valid, *buffers, nulls = out[name]
        kind = pa.bool_() if len(buffers) == 1 else _STR
        return pa.Array.from_buffers(kind, rows, [None if valid is None else pa.py_buffer(valid),
                                                  *map(pa.py_buffer, buffers)], null_count=nulls)

    pools = {name: column(name, out["pools"]) for name in (
        "location_id", "pool_id", "name", "forwarding_number", "whisper", "whisper_message",
        "call_recording", "is_active", "service_type", "service_value")}
    numbers = {name: column(name, out["numbers"]) for name in ("phone_number", "friendly_name")}
    return (pools, numbers, np.frombuffer(out["number_count"], np.int64), np.frombuffer(out["file"], np.int64),
            np.frombuffer(out["has_service"], np.bool_))


def _parse_arrow(lines: memoryview, files: int) -> tuple | None:
    """``pyarrow.json`` with an explicit schema, then the checks column by column."""
    try:  # one block, so one chunk per column; Arrow copies what it keeps out of ``lines``
        table = pa_json.read_json(
            pa.BufferReader(lines), parse_options=_FAST_OPTIONS, memory_pool=_MEMORY_POOL,
            read_options=pa_json.ReadOptions(block_size=len(lines) + 1, use_threads=False),
        )
        table.validate(full=True)  # the reader has built invalid list offsets before (apache/arrow#51305)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if table.num_rows != files:
        return None
    table = table.combine_chunks(memory_pool=_MEMORY_POOL)  # one block, so no copy
    data, total, success = (table.column(c).chunk(0) for c in ("data", "total", "success"))
    if (data.null_count or total.null_count or not pc.all(pc.equal(pc.list_value_length(data), total)).as_py()
            or pc.any(pc.invert(success)).as_py()):
        return None
    pools = pc.list_flatten(data)
    if pools.null_count:
        return None
    col = pools.field
    loc, pid, numbers, fwd = col("locationId"), col("id"), col("numbers"), col("forwardingNumber")
    service = col("inboundCallService")
    has_service = service.is_valid()
    stype = service.field("type")
    if (_has_blank(loc) or _has_blank(pid) or numbers.null_count
            or pc.any(pc.and_(has_service, pc.or_kleene(stype.is_null(), pc.equal(pc.utf8_length(stype), 0)))).as_py()):
        return None
    flat_numbers = pc.list_flatten(numbers)
    phone = flat_numbers.field("phoneNumber")
    if flat_numbers.null_count or phone.null_count or not pc.all(pc.match_substring_regex(phone, E164_PATTERN), min_count=0).as_py():
        return None
    fwd = pc.if_else(pc.equal(fwd, ""), pa.scalar(None, _STR), fwd, memory_pool=_MEMORY_POOL)
    if pc.any(pc.invert(pc.fill_null(pc.match_substring_regex(fwd, E164_PATTERN), True))).as_py():
        return None
    no_service = pa.scalar(None, _STR)
    pool_columns = {
        "location_id": loc, "pool_id": pid, "name": col("name"), "forwarding_number": fwd,
        "whisper": col("whisper"), "whisper_message": col("whisperMessage"),
        "call_recording": col("callRecording"), "is_active": col("isActive"),
        "service_type": pc.if_else(has_service, stype, no_service, memory_pool=_MEMORY_POOL),
        "service_value": pc.if_else(has_service, service.field("value"), no_service, memory_pool=_MEMORY_POOL),
    }
    number_columns = {"phone_number": phone, "friendly_name": flat_numbers.field("friendlyName")}
    lengths = pc.list_value_length(numbers).to_numpy(zero_copy_only=False).astype(np.int64)
    return (pool_columns, number_columns, lengths, pc.list_parent_indices(data).to_numpy(),
            has_service.to_numpy(zero_copy_only=False))


def _has_repeated_pool(file_of_pool: np.ndarray, loc: pa.Array, pid: pa.Array) -> bool:
    """True if one response lists a (location, pool id) twice. Each row's key is one
    integer, (file, location code, id code) in mixed radix: a batch of at most a few
    MB has far fewer than 2**21 of each, so it fits in 63 bits."""
    key = file_of_pool.astype(np.int64)
    for strings in (loc, pid):
        codes = pc.dictionary_encode(strings)
        key = key * len(codes.dictionary) + codes.indices.to_numpy()
    key.sort()
    return bool((key[1:] == key[:-1]).any())


def _has_blank(strings: pa.Array) -> bool:
    return bool(strings.null_count) or (len(strings) > 0 and pc.min(pc.utf8_length(strings)).as_py() == 0)


# --------------------------------------------------------------------------- assembly

def _assemble(pieces: list[_Piece], extra_columns: dict[tuple[bool, str], str]) -> PoolTables:
    """Concatenate pieces in order and turn them into the four typed DataFrames."""
    pieces = [p for p in pieces if len(p.pools["pool_id"]) or p.problems]
    if not pieces:
        return empty_tables()
    pool_offsets = np.cumsum([0] + [len(p.pools["pool_id"]) for p in pieces])
    number_offsets = np.cumsum([0] + [len(p.pool_of_number) for p in pieces])
    pool_columns = {c: pa.chunked_array([p.pools[c] for p in pieces]) for c in SCHEMAS["pools"]}
    number_columns = {c: pa.chunked_array([p.numbers[c] for p in pieces]) for c in SCHEMAS["numbers"]}
    pools = _to_pandas(pool_columns)
    numbers = _to_pandas(number_columns)
    pools["number_count"] = pools["number_count"].astype(pd.Int64Dtype())
    seen_types = set(pools["service_type"].dropna().unique())
    pools["service_type"] = pools["service_type"].astype(_category_dtype(seen_types))
    for frame, attr, offsets, is_pool in ((pools, "pool_extra", pool_offsets, True),
                                          (numbers, "number_extra", number_offsets, False)):
        merged: dict[str, dict] = {}
        for piece, offset in zip(pieces, offsets):
            for name, entry in getattr(piece, attr).items():
                merged.setdefault(name, {}).update({row + offset: v for row, v in entry.items()})
        _add_extra_columns(frame, merged, {f: c for (p, f), c in extra_columns.items() if p == is_pool})
    has_service = np.concatenate([p.has_service for p in pieces])
    services = pools.loc[has_service, list(SCHEMAS["services"])].reset_index(drop=True)
    rows = sorted((row for p in pieces for row in p.problems), key=lambda row: row["rank"])  # stable
    problems = (pd.DataFrame(rows, columns=list(SCHEMAS["problems"])).astype(pd.StringDtype())
                if rows else _empty_frame("problems"))
    return PoolTables(pools, numbers, services, problems)


def _printable(text: str | None) -> str | None:
    """``text`` with anything that is not valid Unicode escaped (``\\ud800``)."""
    return text if text is None or _encodable(text) else text.encode("utf-8", "backslashreplace").decode()


def _encodable(text: str) -> bool:
    try:
        text.encode()
        return True
    except UnicodeEncodeError:
        return False


def _text_or_none(value: Any) -> str | None:
    return value if type(value) is str else None


def _add_extra_columns(frame: pd.DataFrame, extra: dict, columns: dict[str, str]) -> None:
    """Append one column per unknown field, typed as narrowly as its values allow."""
    for field, rows in sorted(extra.items(), key=lambda item: columns[item[0]]):
        values = [None] * len(frame)
        for row, value in rows.items():
            values[row] = value
        present = [v for v in values if v is not None]
        kinds = {type(v) for v in present}
        if kinds <= {bool}:
            column = pd.array(values, dtype="boolean")
        elif kinds <= {int}:
            column = pd.array(values, dtype="Int64")
        elif kinds <= {int, float}:
            column = pd.array(values, dtype="Float64")
        elif kinds <= {str} and all(map(_encodable, present)):
            column = pd.array(values, dtype="string")
        else:
            column = pd.array([None if v is None else _short(v, 10_000) for v in values], dtype="string")
        frame[columns[field]] = column


_ARROW_TO_PANDAS = {
    _STR: pd.StringDtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def _to_pandas(columns: dict[str, pa.Array]) -> pd.DataFrame:
    return pa.table(columns).to_pandas(types_mapper=_ARROW_TO_PANDAS.get, memory_pool=_MEMORY_POOL)


# --------------------------------------------------------------------------- API

def read_pools(source: Any, *, errors: str = "raise", enrich: bool = False, engine: str = "pandas") -> PoolTables:
    """Read number-pool responses into tidy tables.

    ``source`` is a response file, a folder (every ``*.json`` below it except
    ``manifest.json``), a glob, a parsed response ``dict``, or a list of these; a folder
    written by ``PoolTables.to_parquet`` is read back as the tables it holds. Accepted
    shapes: the ``{"success", "data", "total"}`` envelope, the v3-style
    ``{"status", "data", "statusCode", "message"}`` wrapper, and a bare list of pools.

    ``errors="raise"`` raises a ``SourceError`` for a source that is unreadable, not
    JSON or not a pool response; ``errors="record"`` turns it into a ``problems`` row
    and goes on. Problems inside a response never raise. ``enrich=True`` adds the
    phone-number columns of ``poolkit.enrich_numbers`` to ``numbers``.
    ``engine="dask"`` returns the tables as Dask DataFrames built in parallel per batch
    of files (see ``poolkit.engine_dask``).
    """
    if errors not in ("raise", "record"):
        raise ValueError(f"errors must be 'raise' or 'record', not {errors!r}")
    if engine == "dask":
        from .engine_dask import read_pools_dask

        return read_pools_dask(source, errors=errors, enrich=enrich)
    if engine != "pandas":
        raise ValueError(f"engine must be 'pandas' or 'dask', not {engine!r}")
    from .dataset import is_dataset, read_dataset

    if isinstance(source, (str, os.PathLike)) and is_dataset(source):
        tables = read_dataset(source)
    else:
        tables = _read_responses(source, errors)
    if enrich:
        from .phones import enrich_numbers

        tables.numbers = enrich_numbers(tables.numbers)
    return tables


def _read_responses(source: Any, errors: str) -> PoolTables:
    """The pandas engine: fast batches where clean, the careful path elsewhere."""
    careful = _Flattener()
    pieces: list[_Piece] = []

    def add_careful(name: str, item: Any) -> None:
        try:
            careful.add(name, _parse(name, item) if isinstance(item, bytes) else item)
        except SourceError as exc:
            if errors == "raise":
                raise
            careful.source_problem(exc)

    def take(results: list | Future) -> None:
        for result in results.result() if isinstance(results, Future) else results:
            if isinstance(result, Future):
                take(result)
            elif isinstance(result, _Piece):
                pieces.append(careful.piece())
                pieces.append(result)
            elif isinstance(result[1], SourceError):
                if errors == "raise":
                    raise result[1]
                careful.source_problem(result[1])
            else:
                add_careful(*result)

    # Worker threads read and parse chunks of files (the compiled reader and both parsers
    # release the GIL) while this thread lists the next; results are taken in input order.
    # Reads in Python hold the GIL, so without the compiled reader this thread reads and
    # the workers only parse (a copy of each batch).
    with ThreadPoolExecutor(max_workers=_FAST_WORKERS) as worker:
        pending: deque = deque()
        chunk: list[str] = []

        def submit() -> None:
            if chunk and _fastjson is not None:
                pending.append(worker.submit(_read_files, chunk[:]))
            elif chunk:
                pending.append(_read_files(chunk, lambda names, lines: [
                    worker.submit(_parse_lines, names, bytes(lines))]))
            chunk.clear()

        def settle(keep: int = 0) -> None:
            while len(pending) > keep:
                take(pending.popleft())

        for name, item in _iter_sources(source):
            careful.source_rank.setdefault(name, len(careful.source_rank))
            if item is None:
                chunk.append(name)
                if len(chunk) == _FAST_CHUNK_FILES:
                    submit()
                    settle(keep=_FAST_READAHEAD)
                continue
            submit()
            settle()
            add_careful(name, item)
        submit()
        settle()
    vars(_BUFFERS).pop("buffer", None)  # this thread's, if it read: keep no 5 MB buffer once done
    pieces.append(careful.piece())
    return _assemble(pieces, careful.extra_columns)
