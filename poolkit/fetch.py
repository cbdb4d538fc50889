"""Fetch number pools of many locations into a raw snapshot folder, then tidy them.

``fetch_pools`` takes explicit location ids (sub-account token) or a company id (agency
token: every location is listed and gets its own token, kept in memory only). Each
location's body is written exactly as received to ``<out>/<UTC time>/<location_id>.json``,
with a ``manifest.json`` that tells the truth about every location, also after an
interruption; ``resume=`` completes a snapshot.
"""

from __future__ import annotations

import functools
import itertools
import logging
import queue
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import orjson
import pandas as pd

from ._version import __version__
from .client import RATE_HEADERS, Client, is_last_page
from .errors import APIError, AuthenticationError, ConfigurationError, PoolkitError, SnapshotError
from .snapshot import (
    inventory_page_name,
    is_location_id,
    location_fields,
    read_locations,
    read_manifest,
    snapshot_name,
    write_atomic,
    write_locations,
    write_manifest,
)
from .tables import PoolTables
from .tidy import read_pools
from .values import shown

log = logging.getLogger(__name__)

FAILURE_COLUMNS = ["location_id", "location", "error", "http_status", "message", "trace_id"]
_MANIFEST_EVERY = 1.0  # seconds between manifest rewrites during a run
#: Location tokens asked at once: the company's budget sets their pace, and this many in
#: flight keep it spent at latencies up to a second (100 per 10 s is 10 a second).
_COMPANY_IN_FLIGHT = 16


@dataclass
class FetchResult:
    """What a fetch gave: the ``failures`` (one row per location that failed), the
    ``snapshot`` folder the raw responses are in, and its tidy ``tables``, read from it when
    first asked for (the tidy is the next stage, not the fetch's: ``poolkit run`` reads the
    snapshot into the dataset once, and a fetch spends no CPU on tables nobody asks for)."""

    failures: pd.DataFrame
    snapshot: Path

    @functools.cached_property
    def tables(self) -> PoolTables:
        """The snapshot's tidy tables (``read_pools``, problems recorded)."""
        return read_pools(self.snapshot, errors="record")

    def __repr__(self) -> str:
        failed = len(self.failures)
        read = repr(self.__dict__["tables"]) if "tables" in self.__dict__ else "tables not read"
        return f"FetchResult({read}, failures={failed:,}, snapshot='{self.snapshot}')"


def fetch_pools(
    location_ids: Iterable[str] | None = None,
    *,
    company_id: str | None = None,
    token: str | None = None,
    out: str | Path = "data/raw",
    workers: int = 32,
    resume: str | Path | None = None,
    base_url: str | None = None,
    client: Client | None = None,
    progress: bool | None = None,
    numbers: bool = False,
) -> FetchResult:
    """Fetch every location's number pools into a new snapshot folder.

    A failure at one location never stops the others: it is in ``result.failures`` and the
    manifest. An agency fetch asks the location tokens at the agency's own pace (its rate
    budget), and each location's calls run on that location's budget, ``workers`` locations at
    once: the agency's budget sets the time, about a tenth of a second a location. A run killed
    and resumed asks again only what was in flight.

    Parameters
    ----------
    location_ids : iterable of str, optional
        The locations to fetch, with a sub-account (location) token.
    company_id : str, optional
        The agency whose every location to fetch, with an agency token.
    token : str, optional
        Default: ``GHL_TOKEN`` from the environment or ``.env``. Never logged or saved.
    out : str or pathlib.Path, default "data/raw"
        Where the snapshot folder (``<UTC time>/``) is made.
    workers : int, default 32
        Locations fetched at once.
    resume : str or pathlib.Path, optional
        An earlier snapshot folder: only its missing or failed locations are fetched, into it.
    base_url : str, optional
        Default: ``GHL_BASE_URL``, else HighLevel's.
    client : Client, optional
        A client of your own (its token, connections and rate budgets).
    progress : bool, optional
        A progress bar; default: only on a terminal.
    numbers : bool, default False
        Also fetch each location's active numbers, every page (scope
        ``phonenumbers.read``): its inventory, for ``poolkit.inventory`` and the cost. An
        inventory that fails leaves the pools fetched and counts the location as failed.

    Returns
    -------
    FetchResult
        The snapshot's folder, the locations fetched, the failures and their reasons.

    Raises
    ------
    poolkit.PoolkitError
        Only when nothing can be fetched at all: no token, the agency token refused.

    Examples
    --------
    >>> result = poolkit.fetch_pools(company_id="COMPANY_ID", numbers=True)  # doctest: +SKIP
    >>> result.failures  # doctest: +SKIP
    {}
    """
    location_ids = list(location_ids or [])
    refused = [repr(i) for i in location_ids if not is_location_id(i)]
    if refused:
        raise ConfigurationError(
            f"not a location id: {', '.join(refused[:5])} (HighLevel's ids are letters and "
            "digits, such as ve9EPM428h8vShlRW1KT)"
        )
    client = client or Client(
        token, base_url=base_url, pool_size=max(workers, 4) + _COMPANY_IN_FLIGHT
    )
    started = datetime.now(timezone.utc)
    entries: dict[str, dict[str, Any]] = {}
    details: dict[str, dict[str, Any]] = {}  # who each location is: snapshot's locations.json
    if resume is not None:
        folder = Path(resume)
        manifest = read_manifest(folder)
        if manifest is None:
            raise ConfigurationError(
                f"{folder}: no manifest.json, so it is not a snapshot to resume"
            )
        entries = {
            e["location_id"]: e
            for e in manifest.get("locations", [])
            if isinstance(e, dict) and isinstance(e.get("location_id"), str)
        }
        for location_id, entry in entries.items():
            if not is_location_id(location_id):  # never a path or a URL: a failed location
                entry.update(status="failed", error="InvalidLocationId", file=None)
                entry["message"] = "not a location id: it was not fetched"
        details = read_locations(folder)
        company_id = company_id or manifest.get("company_id")
        numbers = numbers or bool(manifest.get("numbers"))  # as the snapshot was begun
    else:  # the folder is made once the locations are known: a search refused leaves none
        folder, manifest = None, {"taken_at": started.isoformat(timespec="seconds")}
    if not (location_ids or company_id or entries):
        raise ConfigurationError("give location ids, a company id, or a snapshot to resume")
    manifest.update(
        {
            "poolkit_version": __version__,
            "api_version": client.version,
            "base_url": client.base_url,
            "company_id": company_id,
            "numbers": numbers,
        }
    )

    if company_id and not location_ids:
        unusable = []
        for index, location in enumerate(client.search_locations(company_id)):
            location_id = location.get("id") if isinstance(location, dict) else None
            if not is_location_id(location_id):  # recorded in the manifest, never fetched
                unusable.append({"index": index, "id": repr(location_id)[:80]})
                continue
            entry = entries.setdefault(location_id, _pending(location_id))
            entry["name"] = location.get("name") or entry.get("name")
            details[location_id] = location_fields(location)
        if unusable:
            manifest["search_entries_without_id"] = unusable
    for location_id in location_ids:
        entries.setdefault(location_id, _pending(location_id))
    if folder is None:
        folder = _new_folder(Path(out), started)
        manifest = {"snapshot": folder.name, **manifest}
    for loc, entry in entries.items():  # a file fully written is fetched, whatever the
        if entry.get("status") != "ok" and is_location_id(loc):  # manifest had time to say
            name = f"{loc}.json"
            if (folder / name).is_file():  # written atomically: whole, or not there at all
                size = (folder / name).stat().st_size
                entry.update(status="ok", file=name, bytes=size, error=None, message=None)
        if (
            resume is not None
            and numbers
            and entry.get("inventory") != "ok"
            and is_location_id(loc)
        ):
            pages = _inventory_on_disk(folder, loc)  # every page written, the last one too
            if pages is not None:
                _remove_pages(folder, loc, pages)  # an older try's, past the last (a kill)
                entry.update(inventory="ok", inventory_pages=pages, inventory_error=None)
    pools_done = {
        loc
        for loc, e in entries.items()
        if e.get("status") == "ok" and (folder / (e.get("file") or "")).is_file()
    }
    todo = [  # what is missing: pools, numbers, or (location tokens) who the location is
        loc
        for loc, e in entries.items()
        if is_location_id(loc)
        and (
            loc not in pools_done
            or (numbers and e.get("inventory") != "ok")
            or (company_id is None and loc not in details and not e.get("details"))
        )
    ]
    for location_id in todo:
        if location_id not in pools_done:
            entries[location_id].update(_pending(location_id))

    def save(final: bool = False) -> None:
        """Rewrite the manifest. A location is "ok" in it only once its file is written, so an
        older manifest (if this write fails) still tells the truth, only less of it."""
        counts = Counter(e["status"] for e in entries.values())
        known = sum(loc in details for loc in entries)
        manifest.update(
            {
                "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "summary": {s: int(counts.get(s, 0)) for s in ("ok", "failed", "pending")},
                "location_details": "ok"
                if known == len(entries)
                else "partial"
                if known
                else "unavailable",
                "locations": [
                    {**e, "details": "ok" if loc in details else e.get("details")}
                    for loc, e in entries.items()
                ],
            }
        )
        try:
            if details:
                write_locations(folder, details)
            write_manifest(folder, manifest)
        except OSError as exc:
            if final:
                raise SnapshotError(
                    f"{folder}: could not write manifest.json ({exc.strerror or exc}); "
                    f"the snapshot is incomplete: free space or fix permissions, then "
                    f"resume it with poolkit fetch --resume {folder}"
                ) from None
            log.warning(
                "%s: could not update manifest.json (%s); going on", folder, exc.strerror or exc
            )

    save(final=True)
    from tqdm.auto import tqdm  # a widget in JupyterLab, text on a terminal; imported only to fetch

    tokens = _LocationTokens(client, company_id) if company_id else None
    bar = tqdm(
        total=len(todo),
        unit="location",
        desc="fetching pools",
        file=sys.stderr,
        disable=(None if progress is None else not progress),
        dynamic_ncols=True,
    )
    locations = ThreadPoolExecutor(max(1, workers), thread_name_prefix="poolkit-location")
    company = ThreadPoolExecutor(_COMPANY_IN_FLIGHT, thread_name_prefix="poolkit-token")
    finished: queue.SimpleQueue = queue.SimpleQueue()  # (location id, its entry, details)
    stopping = threading.Event()  # interrupted: no location started any more

    def fetch_location(location_id: str) -> None:
        try:
            finished.put(
                (
                    location_id,
                    *_fetch_location(
                        client,
                        tokens,
                        folder,
                        location_id,
                        location_id in details,
                        numbers,
                        dict(entries[location_id]) if location_id in pools_done else None,
                    ),
                )
            )
        except BaseException as exc:  # a bug: the main thread raises it
            finished.put((location_id, exc, None))

    def token_then_location(location_id: str) -> None:
        """The location's token at the company's pace, then its calls on its own budget."""
        try:
            tokens.get(location_id)
        except Exception:
            pass  # asked once more, and recorded (or raised), by the location's own fetch
        finally:
            if not stopping.is_set():
                locations.submit(fetch_location, location_id)

    try:
        for location_id in todo:  # company calls and location calls run apart
            if tokens is None:
                locations.submit(fetch_location, location_id)
            else:
                company.submit(token_then_location, location_id)
        last_save, save_took = time.monotonic(), 0.0
        for _ in todo:
            location_id, entry, found = finished.get()
            if isinstance(entry, BaseException):
                raise entry
            entries[location_id].update(entry)
            if found is not None:
                details[location_id] = found
                entries[location_id]["name"] = found.get("name") or entry.get("name")
            bar.update(1)
            if time.monotonic() - last_save >= max(_MANIFEST_EVERY, 1000 * save_took):
                began = time.monotonic()
                save()  # a 1,000th of the time at most, however many locations it lists
                last_save = time.monotonic()
                save_took = last_save - began
    finally:
        stopping.set()
        company.shutdown(wait=True, cancel_futures=True)
        locations.shutdown(wait=True, cancel_futures=True)
        bar.close()
        manifest["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        save(final=True)
    failed = [e for e in entries.values() if e["status"] != "ok"]
    if numbers:  # pools fetched, inventory not: a failed location all the same
        failed += [
            {**e, **(e.get("inventory_error") or {})}
            for e in entries.values()
            if e["status"] == "ok" and e.get("inventory") != "ok"
        ]
    rows = [
        {
            **{
                c: "; ".join(map(str, e[c])) if isinstance(e.get(c), list) else e.get(c)
                for c in FAILURE_COLUMNS
            },
            "location": e.get("name"),  # the manifest's; shown as poolkit shows names, below
        }
        for e in failed
    ]
    failures = pd.DataFrame(rows, columns=FAILURE_COLUMNS)
    failures["location"] = shown(failures["location"], failures["location_id"])
    failures = failures.astype({c: "string" for c in FAILURE_COLUMNS if c != "http_status"}).astype(
        {"http_status": "Int64"}
    )
    return FetchResult(failures, folder)


def _new_folder(out: Path, started: datetime) -> Path:
    name = snapshot_name(started)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for suffix in [""] + [f"-{i}" for i in range(2, 100)]:
            try:
                (out / f"{name}{suffix}").mkdir()
                return out / f"{name}{suffix}"
            except FileExistsError:
                continue
    except OSError as exc:
        raise SnapshotError(
            f"{out}: cannot create a snapshot folder there ({exc.strerror or exc})"
        ) from None
    raise SnapshotError(f"{out}: too many snapshots named {name}")


def _pending(location_id: str) -> dict[str, Any]:
    return {
        "location_id": location_id,
        "status": "pending",
        "http_status": None,
        "error": None,
        "message": None,
        "trace_id": None,
        "file": None,
        "bytes": None,
        "fetched_at": None,
        "rate_limit": {},
    }


def _rate_headers(response) -> dict[str, str]:
    return {h: response.headers[h] for h in RATE_HEADERS if h in response.headers}


class _LocationTokens:
    """Location tokens from an agency token, got on first use and kept in memory only."""

    def __init__(self, client: Client, company_id: str) -> None:
        self.client, self.company_id = client, company_id
        self._tokens: dict[str, str] = {}

    def get(self, location_id: str, fresh: bool = False) -> str:
        if fresh or location_id not in self._tokens:
            self._tokens[location_id] = self.client.location_token(self.company_id, location_id)
        return self._tokens[location_id]


def _fetch_location(
    client: Client,
    tokens: _LocationTokens | None,
    folder: Path,
    location_id: str,
    known: bool,
    numbers: bool = False,
    fetched: dict | None = None,
) -> tuple[dict, dict | None]:
    """Fetch one location's pools (unless ``fetched``: their entry of a resumed snapshot),
    with ``numbers`` its active numbers, and, with a location token and unless ``known``, who
    it is (``GET /locations/{id}``): its manifest entry and kept details (never raises).
    Details or numbers that are refused (no ``locations.readonly``, no
    ``phonenumbers.read``) leave the pools fetched."""
    entry = fetched or _fetch_one(client, tokens, folder, location_id)
    if numbers and entry["status"] == "ok" and entry.get("inventory") != "ok":
        entry.update(_fetch_inventory(client, tokens, folder, location_id))
    if known or tokens is not None or entry["status"] != "ok":  # an agency fetch knows them
        return entry, None  # all from the search; a location that refused its pools is not asked
    try:
        return entry, location_fields(client.location_details(location_id))  # "ok": see save()
    except PoolkitError as exc:
        log.info("location %s: details unavailable (%s)", location_id, type(exc).__name__)
        return {**entry, "details": f"unavailable: {type(exc).__name__}"}, None


def _fetch_one(
    client: Client, tokens: _LocationTokens | None, folder: Path, location_id: str
) -> dict:
    """Fetch one location and write its body; return its manifest entry (never raises)."""
    entry = {
        **_pending(location_id),
        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        token = tokens.get(location_id) if tokens else None
        try:
            response = client.number_pools_response(location_id, token=token)
        except AuthenticationError:
            if tokens is None:
                raise
            log.info("location %s: token refused, getting a fresh location token once", location_id)
            response = client.number_pools_response(
                location_id, token=tokens.get(location_id, fresh=True)
            )
        try:
            response.json()
        except ValueError:
            raise PoolkitError(
                f"the answer for location {location_id} is not JSON (starts {response.text[:60]!r})"
            ) from None
        name = f"{location_id}.json"
        write_atomic(folder / name, response.content)
        return {
            **entry,
            "status": "ok",
            "http_status": response.status_code,
            "file": name,
            "bytes": len(response.content),
            "rate_limit": _rate_headers(response),
        }
    except PoolkitError as exc:
        log.warning("location %s failed: %s", location_id, exc)
        api = exc if isinstance(exc, APIError) else None
        message = api.message if api else str(exc)
        return {
            **entry,
            "status": "failed",
            "http_status": api.status if api else None,
            "error": type(exc).__name__,
            "message": message if isinstance(message, (str, list)) else str(message),
            "trace_id": api.trace_id if api else None,
            "rate_limit": _rate_headers(api.response) if api and api.response is not None else {},
        }
    except OSError as exc:
        log.warning("location %s: could not write the snapshot file: %s", location_id, exc)
        return {
            **entry,
            "status": "failed",
            "error": type(exc).__name__,
            "message": f"could not write the snapshot file: {exc.strerror or exc}",
        }


def _inventory_on_disk(folder: Path, location_id: str) -> int | None:
    """How many pages of the location's active numbers are in ``folder`` when they are all
    there (pages 0 to the last, which holds fewer numbers than a page); None otherwise. A
    page is written whole or not at all (``write_atomic``): the pages speak for themselves
    where a killed run's manifest had no time to."""
    for page in itertools.count():
        try:
            body = orjson.loads((folder / inventory_page_name(location_id, page)).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(body, dict) or not isinstance(body.get("numbers"), list):
            return None
        if is_last_page(body):
            return page + 1


def _remove_pages(folder: Path, location_id: str, first: int) -> None:
    """An earlier try's pages of the location's numbers from ``first`` on, the last first:
    what stays is always pages 0 to some page. (Named one by one: a glob of the folder for
    every location costs time in proportion to the locations, squared over the fetch.)"""
    pages = (folder / inventory_page_name(location_id, n) for n in itertools.count(first))
    for stale in reversed(list(itertools.takewhile(Path.exists, pages))):
        stale.unlink(missing_ok=True)


def _fetch_inventory(
    client: Client, tokens: _LocationTokens | None, folder: Path, location_id: str
) -> dict:
    """Fetch every page of a location's active numbers and write each as received; the
    manifest fields that say how it went (never raises)."""

    try:
        token = tokens.get(location_id) if tokens else None
        pages = client.list_active_numbers(location_id, token=token)
        for page, response in enumerate(pages):
            write_atomic(folder / inventory_page_name(location_id, page), response.content)
        _remove_pages(folder, location_id, len(pages))
        return {"inventory": "ok", "inventory_pages": len(pages), "inventory_error": None}
    except (PoolkitError, OSError) as exc:
        log.warning("location %s: active numbers not fetched: %s", location_id, exc)
        try:  # no page of an attempt that failed, nor of an older one, stays to be read
            _remove_pages(folder, location_id, 0)
        except OSError:
            pass
        api = exc if isinstance(exc, APIError) else None
        refused = api is not None and api.status in (401, 403)
        return {
            "inventory": f"{'unavailable' if refused else 'failed'}: {type(exc).__name__}",
            "inventory_pages": None,
            "inventory_error": {
                "error": f"{type(exc).__name__} (active numbers)",
                "http_status": api.status if api else None,
                "message": str(api.message if api else exc),
                "trace_id": api.trace_id if api else None,
            },
        }
