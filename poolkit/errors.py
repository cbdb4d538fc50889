"""Typed exceptions. Every error poolkit raises on purpose is a ``PoolkitError``."""

from __future__ import annotations


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


class UnreadableSourceError(SourceError):
    """The file does not exist or cannot be read."""


class InvalidJSONError(SourceError):
    """The file is not valid JSON."""


class NotAPoolResponseError(SourceError):
    """The JSON is valid but is not a number-pool response."""


class ErrorResponseError(NotAPoolResponseError):
    """The JSON is a saved API error body (``statusCode`` >= 400 or ``success: false``)."""
