"""poolkit: fetch, tidy, analyse and report HighLevel phone-number pools."""

__version__ = "0.1.0"

from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ErrorResponseError,
    ForbiddenError,
    InvalidJSONError,
    InvalidResponseError,
    NetworkError,
    NotAPoolResponseError,
    NotFoundError,
    PoolkitError,
    RateLimitError,
    ServerError,
    SourceError,
    UnreadableSourceError,
)
from .client import Client
from .datasets import load_sample, sample_path
from .fetch import FetchResult, fetch_pools
from .phones import enrich_numbers
from .tidy import PoolTables, read_pools

__all__ = [
    "PoolTables", "read_pools", "load_sample", "sample_path", "Client", "fetch_pools", "FetchResult", "enrich_numbers",
    "PoolkitError", "SourceError", "UnreadableSourceError", "InvalidJSONError",
    "NotAPoolResponseError", "ErrorResponseError", "ConfigurationError", "NetworkError",
    "APIError", "BadRequestError", "AuthenticationError", "ForbiddenError", "NotFoundError",
    "RateLimitError", "ServerError", "InvalidResponseError",
]
