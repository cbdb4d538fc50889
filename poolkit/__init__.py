"""poolkit: fetch, tidy, analyse and report HighLevel phone-number pools."""

import logging

from ._version import __version__
from .client import Client
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    DatasetError,
    ErrorResponseError,
    ForbiddenError,
    InvalidJSONError,
    InvalidResponseError,
    NetworkError,
    NoDataError,
    NotAPoolResponseError,
    NotFoundError,
    PoolkitError,
    RateLimitError,
    ReportError,
    RunLockedError,
    ServerError,
    SnapshotError,
    SourceError,
    TokenRefusedError,
    UnreadableSourceError,
)
from .fetch import FetchResult, fetch_pools
from .findings import RULES, Rule, audit
from .history import changes, read_history, trend
from .phones import enrich_numbers
from .sample import load_sample, sample_path
from .snapshot import Snapshot
from .tables import PoolTables, read_csv, read_dataset
from .tidy import read_pools
from .weekly import RunResult, run

__all__ = [
    "__version__",
    "PoolTables",
    "Snapshot",
    "run",
    "RunResult",
    "read_pools",
    "read_csv",
    "read_dataset",
    "load_sample",
    "sample_path",
    "Client",
    "fetch_pools",
    "FetchResult",
    "enrich_numbers",
    "audit",
    "read_history",
    "changes",
    "trend",
    "RULES",
    "Rule",
    "PoolkitError",
    "SourceError",
    "UnreadableSourceError",
    "InvalidJSONError",
    "NotAPoolResponseError",
    "ErrorResponseError",
    "ConfigurationError",
    "NetworkError",
    "NoDataError",
    "APIError",
    "BadRequestError",
    "AuthenticationError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "InvalidResponseError",
    "SnapshotError",
    "ReportError",
    "DatasetError",
    "RunLockedError",
    "TokenRefusedError",
]

# A library logs and lets the application decide what to show (the logging HOWTO): without
# this, Python's last-resort handler printed each failed location a second time under the
# command line's own summary of failures.
logging.getLogger(__name__).addHandler(logging.NullHandler())
