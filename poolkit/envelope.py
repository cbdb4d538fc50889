"""A response's envelope and its JSON values as text: reading and parsing a response file,
finding its list of pools and its ``total`` (the documented envelope, the v3 wrapper, a bare
list), and showing a value in a problem row."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import orjson

from .errors import (
    ErrorResponseError,
    InvalidJSONError,
    NotAPoolResponseError,
    UnreadableSourceError,
)

__all__ = [
    "ENVELOPE_KEYS",
    "MISSING",
    "encodable",
    "number_text",
    "parse",
    "printable",
    "read_file",
    "short",
    "snake",
    "text_or_none",
    "type_name",
    "unwrap",
]

#: The keys that hold the list of pools, in the order they are looked for.
ENVELOPE_KEYS = ("data", "pools", "numberPools")
_BOM = b"\xef\xbb\xbf"


class _Missing:
    """Marks a JSON key that is absent (as opposed to ``null``)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


def short(value: Any, limit: int = 200) -> str:
    """A JSON rendering of ``value`` for the problems table, cut to ``limit`` characters."""
    if value is MISSING:
        return ""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:  # not JSON-native, nested too deep, or a string orjson refuses
        try:
            text = json.dumps(value, ensure_ascii=True, default=repr)
        except (TypeError, ValueError, RecursionError):
            text = f"<{type_name(value)} nested too deeply to show>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def type_name(value: Any) -> str:
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


def number_text(value: int | float) -> str:
    """A number as ``:g`` shows it; an integer too big for a float in full."""
    try:
        return f"{value:g}"
    except OverflowError:
        return str(value)


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).replace("-", "_").lower()


def printable(text: str | None) -> str | None:
    """``text`` with anything that is not valid Unicode escaped (``\\ud800``)."""
    return (
        text
        if text is None or encodable(text)
        else text.encode("utf-8", "backslashreplace").decode()
    )


def encodable(text: str) -> bool:
    try:
        text.encode()
        return True
    except UnicodeEncodeError:
        return False


def text_or_none(value: Any) -> str | None:
    return value if type(value) is str else None


def read_file(name: str) -> bytes:
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


def parse(name: str, raw: bytes) -> Any:
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


def unwrap(name: str, doc: Any) -> tuple[list, str, Any]:
    """Return ``(pool list, JSON path prefix, total)`` or raise ``NotAPoolResponseError``."""
    if isinstance(doc, list):
        if doc and not any(isinstance(entry, dict) for entry in doc):  # such as [1, 2, 3]
            kinds = sorted({type_name(entry) for entry in doc})
            raise NotAPoolResponseError(
                name, f"a list of {' and '.join(kinds)} values, not a list of pools"
            )
        return doc, "", MISSING
    if not isinstance(doc, dict):
        raise NotAPoolResponseError(
            name, f"top-level JSON is a {type_name(doc)}, not an object or a list"
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
    for key in ENVELOPE_KEYS:
        if key in doc:
            data, prefix = doc[key], key
            break
    else:
        keys = ", ".join(short(key, 40) for key in sorted(map(str, doc))[:8]) or "none"
        raise NotAPoolResponseError(name, f"no 'data' list of pools (keys: {keys})")
    if isinstance(data, dict):  # a v3-style wrapper around a pools envelope
        for key in ENVELOPE_KEYS:
            if isinstance(data.get(key), list):
                return data[key], f"{prefix}.{key}", data.get("total", doc.get("total", MISSING))
    if not isinstance(data, list):
        raise NotAPoolResponseError(
            name, f"'{prefix}' is a {type_name(data)}, expected a list of pools", prefix
        )
    return data, prefix, doc.get("total", MISSING)
