"""poolkit: fetch, tidy, analyse and report HighLevel phone-number pools."""

import logging

from . import errors
from ._version import __version__
from .analysis import inventory, monthly_cost
from .client import Client
from .errors import PoolkitError
from .fetch import FetchResult, fetch_pools
from .findings import RULES, Rule, audit, rule
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
    "rule",
    "RULES",
    "Rule",
    "read_history",
    "changes",
    "trend",
    "inventory",
    "monthly_cost",
    "PoolkitError",
    "errors",
    "analysis",
]

#: Modules ``import poolkit`` makes usable without importing them at once (``plots`` brings
#: matplotlib's pyplot, which the command line seldom needs), as ``pandas.plotting`` is.
_ON_FIRST_USE = {"plots", "notebook", "sections", "present", "masking", "synthetic"}
#: The exceptions that were at the top level in 0.2.0: there, with a warning, until 0.4.0.
_MOVED = {
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "DatasetError",
    "ErrorResponseError",
    "ForbiddenError",
    "InvalidJSONError",
    "InvalidResponseError",
    "NetworkError",
    "NoDataError",
    "NotAPoolResponseError",
    "NotFoundError",
    "RateLimitError",
    "ReportError",
    "RunLockedError",
    "ServerError",
    "SnapshotError",
    "SourceError",
    "TokenRefusedError",
    "UnreadableSourceError",
}


def __getattr__(name: str):
    """``poolkit.plots`` and the like, imported on first use; the exceptions that were at
    the top level in 0.2.0 (now in ``poolkit.errors``, as pandas keeps its own in
    ``pandas.errors``), until 0.4.0, with a ``DeprecationWarning``."""
    import importlib
    import warnings

    if name in _ON_FIRST_USE:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _MOVED:
        warnings.warn(
            f"poolkit.{name} is deprecated and goes in 0.4.0: use poolkit.errors.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_ON_FIRST_USE})


# A library logs and lets the application decide what to show (the logging HOWTO): without
# this, Python's last-resort handler printed each failed location a second time under the
# command line's own summary of failures.
logging.getLogger(__name__).addHandler(logging.NullHandler())
