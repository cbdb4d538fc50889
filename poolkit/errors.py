"""Typed exceptions. Every error poolkit raises on purpose is a ``PoolkitError``."""

from __future__ import annotations

from typing import Any

__all__ = [
    "PoolkitError",
    "SourceError",
    "UnreadableSourceError",
    "InvalidJSONError",
    "NotAPoolResponseError",
    "ErrorResponseError",
    "ConfigurationError",
    "NoDataError",
    "NetworkError",
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


class PoolkitError(Exception):
    """Base class of every error poolkit raises on purpose."""


class SourceError(PoolkitError):
    """A source (file or in-memory response) could not be read as a pool response.

    ``source`` names the file (or ``<memory>``), ``path`` the JSON path of the fault
    (``$`` for the whole document) and ``reason`` says what is wrong in plain words.
    """

    def __init__(self, source: str, reason: str, path: str = "$") -> None:
        self.source = source
        self.reason = reason
        self.path = path
        super().__init__(f"{source}: {reason} (at {path})")

    def __reduce__(self):  # survives pickling (Dask workers, multiprocessing)
        return type(self), (self.source, self.reason, self.path)


class UnreadableSourceError(SourceError):
    """The file does not exist or cannot be read."""


class InvalidJSONError(SourceError):
    """The file is not valid JSON."""


class NotAPoolResponseError(SourceError):
    """The JSON is valid but is not a number-pool response."""


class ErrorResponseError(NotAPoolResponseError):
    """The JSON is a saved API error body (``statusCode`` >= 400 or ``success: false``)."""


class ConfigurationError(PoolkitError):
    """Something poolkit needs to run is missing, such as the API token."""


class NoDataError(ConfigurationError):
    """Nothing to work on: no pool response found where the data was said to be, or none
    of its locations answered. The message says where, and the first reason."""


class NetworkError(PoolkitError):
    """No usable answer: connection refused or reset, timeouts, or a body cut short,
    after every retry. ``location_id`` and ``url`` say where."""

    said = "no answer"  # in a sentence for people (the report)

    def __init__(self, message: str, *, url: str = "", location_id: str | None = None) -> None:
        self.url = url
        self.location_id = location_id
        where = f" (location {location_id})" if location_id else ""
        super().__init__(f"{message}{where}")


class APIError(PoolkitError):
    """HighLevel answered with an error.

    Carries ``status``, the server's own ``message`` (a list for 422), ``trace_id``,
    ``location_id``, a ``hint`` and the ``response`` itself (its Authorization header
    is scrubbed). The token is never part of the message or the repr.
    """

    hint = ""

    def __init__(
        self,
        *,
        status: int,
        message: Any = None,
        trace_id: str | None = None,
        location_id: str | None = None,
        url: str = "",
        response: Any = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.trace_id = trace_id
        self.location_id = location_id
        self.url = url
        self.response = response
        if hint is not None:
            self.hint = hint
        super().__init__(self._text())

    def _text(self) -> str:
        message = (
            "; ".join(map(str, self.message)) if isinstance(self.message, list) else self.message
        )
        parts = [f"HTTP {self.status} from {self.url or 'HighLevel'}"]
        if self.location_id:
            parts.append(f"for location {self.location_id}")
        text = " ".join(parts) + (f": {message}" if message else "")
        if self.trace_id:
            text += f" (traceId {self.trace_id})"
        if self.hint:
            text += f". Hint: {self.hint}"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, location_id={self.location_id!r}, "
            f"message={self.message!r})"
        )


class BadRequestError(APIError):
    """400 or 422: the request was malformed (for example an invalid locationId)."""

    said = "request refused"

    hint = "check the location id and parameters; HighLevel's message says which one it rejected"


class AuthenticationError(APIError):
    """401: the token is invalid, expired, or of the wrong kind."""

    said = "token refused"

    hint = (
        "the token is expired or invalid, or of the wrong kind: number pools need a "
        "sub-account (location) token, or an agency token with --company-id"
    )


class ForbiddenError(APIError):
    """403: the token lacks a scope or access to this location."""

    said = "access refused"

    hint = "the token lacks the numberpools.read scope or access to this location"


class NotFoundError(APIError):
    """404: no such resource (check the base URL and the location id)."""

    said = "not found"

    hint = "check the base URL and the location id"


class RateLimitError(APIError):
    """429 after every retry, or the daily request budget is spent."""

    said = "rate limit reached"

    hint = (
        "HighLevel allows 100 requests per 10 s and 200,000 a day per app and location; try later"
    )


class ServerError(APIError):
    """5xx after every retry."""

    said = "HighLevel's server failed"

    hint = "HighLevel had trouble; retry later, and quote the traceId to support if it persists"


class InvalidResponseError(APIError):
    """A success status whose body is not the JSON that was expected."""

    said = "an answer that could not be read"

    hint = (
        "the body was kept in the exception's response; it may be an HTML error page from a proxy"
    )


class SnapshotError(PoolkitError):
    """A snapshot folder or its manifest could not be written (read-only, disk full)."""


class ReportError(PoolkitError):
    """The report has no data to read: the message names the path given."""


class DatasetError(PoolkitError):
    """A folder cannot be read or written as a poolkit Parquet dataset."""


class RunLockedError(PoolkitError):
    """Another ``poolkit run`` is adding to the same dataset; the message names it."""


class TokenRefusedError(PoolkitError):
    """Every location refused the token: nothing was fetched, and nothing was kept."""
