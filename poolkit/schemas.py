"""The contract of the tidy tables: each table's columns and dtypes, the names of schema 1,
and the rules every stage checks values by (E.164 numbers, service types)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

__all__ = [
    "DATASET_MARKER",
    "is_dataset",
    "E164_PATTERN",
    "KNOWN_SERVICE_TYPES",
    "LOCATION_STATUSES",
    "MEMORY_SOURCE",
    "SCHEMAS",
    "SCHEMA_1_NAMES",
    "SCHEMA_VERSION",
    "SOURCE",
    "TABLES",
    "category_dtype",
    "csv_dtypes",
    "dtype_of",
    "empty_frame",
    "is_numbers_page",
    "pandas_dtype",
    "schema_1_renames",
]

#: The tables, in the order ``PoolTables`` holds them.
TABLES = ("pools", "numbers", "services", "problems", "locations", "phone_numbers")
#: The source name of responses given as Python objects (``<memory>[i]`` in a list).
MEMORY_SOURCE = "<memory>"
#: The file that marks a folder as a poolkit Parquet dataset (the reader skips such folders).
DATASET_MARKER = "poolkit-dataset.json"


def is_dataset(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder written by ``PoolTables.to_parquet``."""
    return (Path(path) / DATASET_MARKER).is_file()


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
#: The dataset's format: 1 poolkit 0.1's names; 2 today's names; 3 the file columns hold
#: the file's name in its snapshot, and the marker records each snapshot's time and whether
#: it was complete. Each reads and takes new weeks; a newer one is refused.
SCHEMA_VERSION = 3


def schema_1_renames(table: str, columns: Iterable[str]) -> dict[str, str]:
    """Old name -> today's, for ``columns`` of a ``table`` of schema 1; an unknown field
    that took one of today's names then becomes ``extra_<name>``, as it would now."""
    columns = set(columns)
    out = {old: new for old, new in SCHEMA_1_NAMES.get(table, {}).items() if old in columns}
    out.update({new: f"extra_{new}" for new in list(out.values()) if new in columns})
    return out


def category_dtype(seen: Iterable[str] = ()) -> pd.CategoricalDtype:
    """The ``service_type`` dtype: the documented types and any other seen."""
    return pd.CategoricalDtype(sorted(set(KNOWN_SERVICE_TYPES).union(seen)))


#: How a location of the data answered: its pools were read, its fetch failed, or the
#: snapshot's manifest lists it without a response file.
LOCATION_STATUSES = ("ok", "failed", "no_response_file")


def pandas_dtype(kind: str):
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
    return pandas_dtype(SCHEMAS[table][column])


def empty_frame(table: str) -> pd.DataFrame:
    """An empty ``table`` with its documented columns and dtypes."""
    return _empty(table).copy()


@lru_cache(maxsize=None)
def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame(
        {col: pd.Series([], dtype=pandas_dtype(kind)) for col, kind in SCHEMAS[table].items()}
    )


def csv_dtypes(table: str) -> dict:
    """The dtype map ``pandas.read_csv(dtype=...)`` needs to read a table's CSV back as
    written: ids and phone numbers as text (never ``18136285980.0``), flags as nullable
    booleans, counts as nullable integers; timestamps are read as text (see ``read_csv``)."""
    return {
        column: pd.StringDtype()
        if kind in ("timestamp", "category", "status")
        else pandas_dtype(kind)
        for column, kind in SCHEMAS[table].items()
    }
