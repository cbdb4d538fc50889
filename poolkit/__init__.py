"""poolkit: fetch, tidy, analyse and report HighLevel phone-number pools."""

from .errors import (
    ErrorResponseError,
    InvalidJSONError,
    NotAPoolResponseError,
    PoolkitError,
    SourceError,
    UnreadableSourceError,
)
from .datasets import load_sample, sample_path
from .tidy import PoolTables, read_pools

__version__ = "0.1.0"

__all__ = [
    "PoolTables", "read_pools", "load_sample", "sample_path",
    "PoolkitError", "SourceError", "UnreadableSourceError", "InvalidJSONError",
    "NotAPoolResponseError", "ErrorResponseError",
]
