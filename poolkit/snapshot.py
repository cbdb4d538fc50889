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
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import orjson

from .errors import SnapshotError

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


#: The name ``snapshot_name`` gives a snapshot's folder (``-2`` and on when taken twice in
#: a second).
SNAPSHOT_NAME = re.compile(r"\d{4}-\d\d-\d\dT\d{6}Z(-\d+)?")


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
        try:  # os.write straight to the descriptor: no file object for one write
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
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
    return write_atomic(Path(folder) / LOCATIONS, _indented({"locations": kept}))


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


def _indented(value: Any) -> bytes:
    """``value`` as indented JSON. orjson, since json's indented output is written in Python
    and a fetch rewrites the manifest of thousands of locations every few seconds; json for
    what orjson refuses (an integer past 64 bits, as a response may hold)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def write_manifest(folder: str | os.PathLike, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` into ``folder`` atomically, stamped with ``MANIFEST_VERSION``."""
    manifest = {"manifest_version": MANIFEST_VERSION, **manifest}
    manifest["manifest_version"] = MANIFEST_VERSION
    return write_atomic(Path(folder) / MANIFEST, _indented(manifest))


def read_manifest(source: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest of a snapshot folder (or of the folder a file is in), if there is one
    that is a JSON object (anything else is no manifest). One written by a newer poolkit
    (``manifest_version`` above ours) raises ``SnapshotError``: it is not guessed at."""
    path = Path(source)
    folder = path if path.is_dir() else path.parent
    try:
        manifest = orjson.loads((folder / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    refuse_newer(folder / MANIFEST, manifest.get("manifest_version", 1), MANIFEST_VERSION)
    return manifest


def refuse_newer(path: Path, version: object, supported: int, error=SnapshotError) -> None:
    """Raise ``error`` naming ``path`` when its format ``version`` is newer than this
    poolkit reads (``supported``) or not a version at all: never guessed at."""
    if not isinstance(version, int) or version > supported:
        raise error(
            f"{path}: written by a newer poolkit (format version {version!r}, this poolkit "
            f"reads up to {supported}): upgrade poolkit to read it"
        )


# --------------------------------------------------------------------------- snapshots

#: The manifest format this poolkit writes and reads; a newer one is refused, not guessed.
MANIFEST_VERSION = 1
#: A time in a snapshot's name: ``2026-11-26T213000Z``, ``2026-11-26``, ``20261126``.
_NAMED_TIME = re.compile(
    r"(?P<y>20\d\d)-?(?P<m>[01]\d)-?(?P<d>[0-3]\d)(?:T(?P<H>\d\d)(?P<M>\d\d)(?P<S>\d\d)Z)?"
)


@dataclass(frozen=True)
class Snapshot:
    """One fetch: its ``id`` (the dataset's partition name), when it was taken (UTC, None
    when nothing says), its ``folder``, where it came from (``base_url``, ``company_id``,
    the ``location_ids`` it lists, whether it asked for their ``numbers``), and how its
    locations went: ``ok``, ``failed``,
    ``pending``, and ``numbers_missing`` (pools read, numbers asked for and not read).

    Snapshots order by ``sort_key``: the manifest's time; else a time in the name; else
    the order a person reads names in (``week-9`` before ``week-10``)."""

    id: str
    taken_at: datetime | None = None
    folder: Path | None = None
    base_url: str | None = None
    company_id: str | None = None
    location_ids: tuple[str, ...] = ()
    numbers: bool = False
    ok: int = 0
    failed: int = 0
    pending: int = 0
    numbers_missing: int = 0

    @property
    def complete(self) -> bool:
        """Everything it was asked for was fetched: no location failed or left pending, and
        where numbers were asked for, every location's numbers read."""
        return self.failed == 0 and self.pending == 0 and self.numbers_missing == 0

    @property
    def sort_key(self) -> tuple:
        """Where the snapshot sorts among others: by the manifest's time, else a time in
        its name, else its name (``sort_key``)."""
        return sort_key(self.id, self.taken_at)

    def __str__(self) -> str:
        return self.id


def snapshot_id(name: object) -> str:
    """A snapshot's id as the dataset names its partitions: the name, with anything but
    letters, digits, ``.``, ``_`` and ``-`` made ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(name)) or "unknown"


def _natural(name: str) -> tuple:
    """``week-9`` before ``week-10``: runs of digits compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name))


def time_in_name(name: str) -> datetime | None:
    """The UTC time a snapshot's name gives (``2026-11-26T213000Z``, ``2026-11-26``), if any."""
    match = _NAMED_TIME.search(name)
    if match is None:
        return None
    parts = {k: int(v) for k, v in match.groupdict(default="0").items()}
    try:
        return datetime(
            parts["y"], parts["m"], parts["d"], parts["H"], parts["M"], parts["S"],
            tzinfo=timezone.utc,
        )  # fmt: skip
    except ValueError:
        return None


def sort_key(snapshot_id_: str, taken_at: datetime | None = None) -> tuple:
    """The order of snapshots: by the manifest's time, else by a time in the name, else by
    the name as a person reads it; snapshots with no time come first."""
    when = taken_at or time_in_name(snapshot_id_)
    return (
        (0, 0.0, _natural(snapshot_id_))
        if when is None
        else (1, when.timestamp(), _natural(snapshot_id_))
    )


def ordered(ids: Iterable[str], times: dict[str, datetime | None] | None = None) -> list[str]:
    """Snapshot ids, oldest first (``sort_key``; ``times`` gives the manifests' times)."""
    times = times or {}
    return sorted(set(ids), key=lambda i: sort_key(i, times.get(i)))


def parse_time(value: object) -> datetime | None:
    """An ISO time of a manifest as UTC (None when it is not one)."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def snapshot_at(folder: str | os.PathLike) -> Snapshot:
    """The snapshot a folder holds, from its manifest (its name alone without one).
    A manifest of a newer poolkit raises ``SnapshotError``."""
    path = Path(folder)
    try:  # read again only when the manifest changed (a run rewrites it as it goes)
        stat = (path / MANIFEST).stat()
        stamp: tuple | None = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    except OSError:
        stamp = None
    return _snapshot_of_manifest(path, stamp)


@lru_cache(maxsize=4096)
def _snapshot_of_manifest(path: Path, stamp: tuple | None) -> Snapshot:
    manifest = read_manifest(path) or {}
    summary = manifest.get("summary") if isinstance(manifest.get("summary"), dict) else {}

    def count(key: str) -> int:
        value = summary.get(key)
        return value if isinstance(value, int) and value >= 0 else 0

    entries = [e for e in manifest.get("locations") or [] if isinstance(e, dict)]
    numbers_missing = 0
    if manifest.get("numbers") is True:
        numbers_missing = sum(
            1 for e in entries if e.get("status") == "ok" and e.get("inventory") != "ok"
        )
    return Snapshot(
        id=snapshot_id(manifest.get("snapshot") or path.name),
        taken_at=parse_time(manifest.get("taken_at")),
        folder=path,
        base_url=manifest.get("base_url") if isinstance(manifest.get("base_url"), str) else None,
        company_id=manifest.get("company_id")
        if isinstance(manifest.get("company_id"), str)
        else None,
        location_ids=tuple(
            e["location_id"] for e in entries if isinstance(e.get("location_id"), str)
        ),
        numbers=manifest.get("numbers") is True,
        ok=count("ok"),
        failed=count("failed"),
        pending=count("pending"),
        numbers_missing=numbers_missing,
    )
