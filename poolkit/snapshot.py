"""Raw snapshots on disk: one folder per fetch, one file per location, and a manifest.

A snapshot folder holds ``<location_id>.json`` (the response body as received) and
``manifest.json`` (when, from where, and how each location went). Files are written
atomically, so an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

MANIFEST = "manifest.json"
#: Who each location is: its details as the API gave them, only the fields below.
LOCATIONS = "locations.json"
#: Snapshot files that are not pool responses.
SNAPSHOT_FILES = frozenset({MANIFEST, LOCATIONS})
#: A page of a location's active numbers, kept as received: ``<location_id>.numbers.<page>.json``.
INVENTORY_PAGE = re.compile(r"(?P<location_id>[^/\\]+)\.numbers\.(?P<page>[0-9]+)\.json")


#: A location id as HighLevel writes them (short, letters and digits): safe as a file name
#: and as a URL path segment. Anything else is refused before it becomes either.
LOCATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_location_id(value: object) -> bool:
    """``value`` can be a location id: a short run of letters, digits, ``_`` and ``-``
    (``../../x``, ``a/b``, ``""`` and anything not text cannot)."""
    return isinstance(value, str) and LOCATION_ID.fullmatch(value) is not None


def inventory_page_name(location_id: str, page: int | str) -> str:
    """The file name of page ``page`` (from 0; ``*`` for a glob of them all) of a location's
    active numbers."""
    return f"{location_id}.numbers.{page}.json"


#: The fields of a location kept in a snapshot: no owner names, e-mails or phone numbers.
LOCATION_FIELDS = ("id", "name", "city", "state", "country", "postalCode", "timezone")


def snapshot_name(when: datetime | None = None) -> str:
    """Folder name for a snapshot taken at ``when`` (UTC), e.g. ``2026-11-26T213000Z``."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H%M%SZ")


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename. The file gets the
    permissions ``open()`` gives (0666 less the umask, applied by the system)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file to write", str(path))
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:  # named by the file meant, not by the temporary one
        raise type(exc)(exc.errno, f"cannot write here: {exc.strerror}", str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
        raise
    return path


def location_fields(location: dict[str, Any]) -> dict[str, Any]:
    """The fields of a location object (``/locations/search`` or ``/locations/{id}``) that a
    snapshot keeps, as received: text only (an object there could hold contact data)."""
    return {key: location[key] for key in LOCATION_FIELDS if isinstance(location.get(key), str)}


def write_locations(folder: str | os.PathLike, locations: dict[str, dict[str, Any]]) -> Path:
    """Write ``locations.json`` (``{"locations": [...]}``, kept fields only) atomically."""
    kept = [location_fields(location) for location in locations.values()]
    text = json.dumps({"locations": kept}, indent=1, ensure_ascii=False) + "\n"
    return write_atomic(Path(folder) / LOCATIONS, text.encode())


def read_locations(folder: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Location id -> kept details, from a snapshot's ``locations.json`` ({} without one)."""
    try:
        body = json.loads((Path(folder) / LOCATIONS).read_text())
    except (OSError, ValueError):
        return {}
    listed = body.get("locations") if isinstance(body, dict) else None
    return {
        entry["id"]: location_fields(entry)
        for entry in listed or []
        if isinstance(entry, dict) and isinstance(entry.get("id"), str)
    }


def write_manifest(folder: str | os.PathLike, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` into ``folder`` atomically."""
    text = json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    return write_atomic(Path(folder) / MANIFEST, text.encode())


def read_manifest(source: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest of a snapshot folder (or of the folder a file is in), if there is one
    that is a JSON object (anything else is no manifest)."""
    path = Path(source)
    folder = path if path.is_dir() else path.parent
    try:
        manifest = orjson.loads((folder / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None
