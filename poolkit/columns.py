"""The column checks: a chunk of gathered pool objects turned into checked Arrow columns.

Each field is pulled out with one list comprehension and type-checked by the set of Python
types in it; E.164 is checked with Arrow's regex. Only the rare bad values are looked at one
by one, to write their problem rows (through the reader's ``problem``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .envelope import MISSING, encodable, short, text_or_none, type_name
from .schemas import E164_PATTERN, SCHEMAS, SOURCE

__all__ = [
    "MEMORY_POOL",
    "POOL_RANK",
    "TOTAL_RANK",
    "Chunk",
    "ChunkBuilder",
    "add_extra_columns",
    "arrow_type",
    "to_pandas",
]

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
_STR = pa.large_string()  # what pandas' Arrow-backed string dtype holds: no cast, no copy
# Big, long-lived columns: the system allocator hands freed buffers back, where Arrow's
# default pool keeps them.
MEMORY_POOL = pa.system_memory_pool()
_NONE = type(None)
_TEXT_TYPES = {str, _NONE}

# Where a problem sorts among those of its response: before the pools, then per pool in
# this field order, then the column checks made once per chunk (in document order each).
TOTAL_RANK, POOL_RANK = -1, 0
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

_RECORDED = object()  # a bad value whose problem row is already written


@dataclass
class Chunk:
    """The columns of consecutive pools, as Arrow arrays; chunks are joined in input order."""

    pools: dict[str, pa.Array]
    numbers: dict[str, pa.Array]


class ChunkBuilder:
    """Turns the reader's gathered pool objects into one ``_Chunk`` of checked columns."""

    def __init__(self, reader) -> None:
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
        return (self.reader.rank[self.source(row)], POOL_RANK, self.at[row], *rest)

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
                else f"{name} is a {type_name(value)}, expected a non-empty string"
            )
            if name == "locationId":  # written before the id is checked: the id as given
                self.reader.problem(
                    self.key(row, _FIELD_ORDER[name]),
                    self.source(row),
                    None,
                    text_or_none(pool.get("id")),
                    f"{self.path(row)}.{name}",
                    pool.get(name, MISSING),
                    text,
                )
            else:
                self.reader.problem(
                    self.key(row, _FIELD_ORDER[name]),
                    self.source(row),
                    self.loc[row],
                    None,
                    f"{self.path(row)}.{name}",
                    pool.get(name, MISSING),
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
                    text = f"{name} is a {type_name(value)}, expected {expected}"
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

    def service(self) -> tuple[list, list]:
        """``inboundCallService``: an object ``{type, value}`` or null; a type that is not a
        string or is blank is a problem, and the pool has no service type."""
        services = self.column("inboundCallService")
        has = [type(s) is dict for s in services]
        self.typed(
            services, "inboundCallService", dict, "an object or null", "inboundCallService.type"
        )
        types = [None if s is None else s.get("type") for s in services]
        values = [None if s is None else s.get("value") for s in services]
        if (
            (set(map(type, types)) - {_NONE}) - {str}
            or types.count(None) != has.count(False)
            or not all(t is None or t.strip() for t in set(types))
        ):
            for row, value in enumerate(types):
                if has[row] and (type(value) is not str or not value.strip()):
                    self.pool_problem(
                        row,
                        "inboundCallService.type",
                        services[row].get("type", MISSING),
                        "inbound call service has no type"
                        if value is None
                        else "inboundCallService.type is blank: the pool has no service type"
                        if type(value) is str
                        else f"inboundCallService.type is a {type_name(value)}, "
                        "expected a non-empty string",
                    )
                    types[row] = None
        self.typed(values, "inboundCallService.value", str, "a string")
        return types, values

    def number_lists(self) -> tuple[list, list]:
        """Each pool's ``numbers`` list (empty where it is not a list) and its count (NA there)."""
        try:
            lists = [pool["numbers"] for pool in self.pools]
        except KeyError:
            self.complete = False
            lists = [pool.get("numbers", MISSING) for pool in self.pools]
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
                if value is MISSING or value is None
                else f"numbers is a {type_name(value)}, expected a list",
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
        phones = [n.get("phoneNumber", MISSING) if type(n) is dict else _RECORDED for n in flat]
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
                    f"number entry is a {type_name(number)}, not an object",
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
            values = [pool.get(name, MISSING) for pool in self.pools]
            present = {row: value for row, value in enumerate(values) if value is not MISSING}
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
            if (type(value) is str and encodable(value)) or (value is None and not required):
                clean.append(value)
                continue
            clean.append(None)
            if value is _RECORDED:
                continue
            source, loc, pid, path = where(row)
            text = (
                f"number has no {check}"
                if value is MISSING
                else f"{check} is null"
                if value is None
                else f"{check} is not valid Unicode text"
                if type(value) is str
                else f"{check} is a {type_name(value)}, expected a string"
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
        stype, svalue = self.service()
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
            "pool_name": self.strings(name, "name", pool_at("name")),
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
            SOURCE["pools"]: pa.array([self.reader.files[f][0] for f in self.file], _STR),
        }
        take = pa.array(pool_of_number)
        numbers = {
            c: pc.take(pools[c], take, memory_pool=MEMORY_POOL) for c in ("location_id", "pool_id")
        }
        numbers[SOURCE["numbers"]] = pc.take(pools[SOURCE["pools"]], take, memory_pool=MEMORY_POOL)
        numbers.update(
            position=pa.array(position), phone_number=phone, friendly_name=friendly_names
        )
        self.reader.chunks.append(
            Chunk(
                pools=pools,
                numbers={c: numbers[c] for c in SCHEMAS["numbers"]},
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


_ARROW_TO_PANDAS = {_STR: pd.StringDtype(), pa.bool_(): pd.BooleanDtype()}


def arrow_type(column: str) -> pa.DataType:
    return {
        "whisper": pa.bool_(),
        "call_recording": pa.bool_(),
        "is_active": pa.bool_(),
        "number_count": pa.int64(),
        "position": pa.int64(),
    }.get(column, _STR)


def to_pandas(columns: dict[str, pa.ChunkedArray]) -> pd.DataFrame:
    return pa.table(columns).to_pandas(types_mapper=_ARROW_TO_PANDAS.get, memory_pool=MEMORY_POOL)


def add_extra_columns(frame: pd.DataFrame, extra: dict, columns: dict[str, str]) -> None:
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
        elif kinds <= {str} and all(map(encodable, present)):
            column = pd.array(values, dtype="string")
        else:
            column = pd.array(
                [None if v is None else short(v, 10_000) for v in values], dtype="string"
            )
        frame[columns[name]] = column
