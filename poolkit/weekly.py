"""The weekly job as a function: ``run`` fetches this week's snapshot, adds it to the
dataset and writes the report; run again, it finishes what a run left and does nothing twice.

A year of Mondays ends in a dataset that holds every week once, whole:

- a lock beside the dataset (``.<name>.lock``: pid, host, start) lets one run in; a second
  run raises ``RunLockedError``; a lock whose process is gone is taken over;
- a snapshot of the same request taken in the same ISO week is this week's: a run
  completes it when a run left it unfinished (its complete version replaces the partial
  one in the dataset, in one commit), adds it when a run was stopped before adding it, and
  otherwise fetches nothing (``new=True`` fetches all the same);
- every snapshot under ``raw`` the dataset lacks is added, never fetched again;
- a pool file fully written counts as fetched, whatever the manifest had time to say;
- a run that cannot start (the token refused, no network) leaves no snapshot behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from .dataset import dataset_snapshots, held_complete
from .errors import (
    AuthenticationError,
    ConfigurationError,
    PoolkitError,
    RunLockedError,
    TokenRefusedError,
)
from .fetch import FetchResult, fetch_pools
from .findings import audit
from .loaders import load
from .report import build_report
from .schemas import is_dataset
from .snapshot import LOCATIONS, MANIFEST, SNAPSHOT_FILES, SNAPSHOT_NAME, Snapshot, snapshot_at
from .tables import (
    PoolTables,
    empty_tables,
    read_dataset,
    select_snapshots,
    snapshots_in,
    update_dataset_csv,
)
from .tidy import read_pools, snapshot_folders

__all__ = ["RunResult", "add_to_dataset", "dataset_lock", "run", "this_week"]


@dataclass
class Added:
    """What ``add_to_dataset`` did: the snapshots added, replaced and already there, the
    tables it read, and how the CSVs were brought up to date (``update_dataset_csv``)."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    tables: PoolTables | None = None
    csv: str | None = None


def add_to_dataset(
    data: str | os.PathLike | Iterable[str | os.PathLike],
    out: str | os.PathLike,
    *,
    replace: Iterable[str] = (),
    xlsx: bool = False,
    check: Callable[[PoolTables], object] | None = None,
) -> Added:
    """Read the snapshots of ``data`` (a folder, a file, a glob, or snapshot folders) that
    the dataset ``out`` does not hold yet, and those named in ``replace`` (their new
    version takes the old one's place, in the same commit), into ``out``; then bring its
    CSVs up to date (``update_dataset_csv``) and, with ``xlsx``, write its workbook.
    Parses only what it adds; ``check`` sees the tables before anything is written (it
    raises to stop the add). Holds the dataset's lock (``dataset_lock``) while it works."""
    with dataset_lock(out):
        return _add(data, Path(out), replace=replace, xlsx=xlsx, check=check)


def _add(data, out: Path, *, replace: Iterable[str], xlsx: bool, check) -> Added:
    """``add_to_dataset``, the lock held."""
    held_before = dataset_snapshots(out) if is_dataset(out) else []
    held = set(held_before)
    skipped = held - set(replace)  # held, and not to be replaced
    folders = _snapshot_folders(data)
    if folders is not None:
        ids = {f: snapshot_at(f).id for f in folders}
        twice = [i for i, n in Counter(ids.values()).items() if n > 1]
        if twice:
            raise ConfigurationError(
                f"{data}: two folders are snapshot {twice[0]} "
                f"({', '.join(str(f) for f in folders if ids[f] == twice[0])}; their manifests "
                "say so): move the copy out of it"
            )
        already = [ids[f] for f in folders if ids[f] in skipped]
        new = [f for f in folders if ids[f] not in skipped]
        tables = read_pools(new, errors="record") if new else None
    else:  # a file or a glob: its snapshots are its files' folders
        tables = read_pools(data, errors="record")
        found = snapshots_in(tables)
        already = sorted(found & skipped)
        tables = select_snapshots(tables, found - skipped)
    result = Added(already=already)
    ids = snapshots_in(tables) if tables is not None else set()
    if ids:
        result.replaced = sorted(ids & held)
        result.added = sorted(ids - held)
        result.tables = tables
        if check is not None:
            check(tables)
        tables.to_parquet(out, append=True, replace=bool(result.replaced))
    elif check is not None and not held:  # nothing to make a dataset of: check says why
        check(empty_tables() if tables is None else tables)
    if is_dataset(out):  # the CSVs (and the workbook) hold every snapshot, each row's named
        result.csv = update_dataset_csv(
            out, result.tables, held_before=held_before, replaced=bool(result.replaced)
        )
        if xlsx:
            read_dataset(out).to_excel(out / "tables.xlsx")
    return result


def _snapshot_folders(data) -> list[str] | None:
    """``data`` as snapshot folders (oldest first), or None for a file or a glob."""
    if isinstance(data, (list, tuple)):
        return [str(f) for f in data]
    path = Path(data)
    return snapshot_folders(path) if path.is_dir() else None


# ------------------------------------------------------------------------------- the lock


def _lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


class dataset_lock:
    """One writer at a time per dataset (``poolkit run``, ``poolkit tidy``,
    ``add_to_dataset``): an advisory lock (``flock``) on a file beside the dataset, which the
    system releases when its process ends however it ends (a ``SIGKILL``, a machine
    restarted), so no lock outlives its run and no reused pid keeps one. The file names the
    holder (pid, host, start) for the message a second writer gets: ``RunLockedError``.
    ``took_over`` is what a run that ended without releasing it had written there. A writer
    that wrote no dataset leaves no lock file, nor the folders it made for it."""

    def __init__(self, out: str | os.PathLike) -> None:
        self.out = Path(out)
        self.path = _lock_path(self.out)
        self.took_over: dict | None = None
        self._fd: int | None = None
        self._made: list[Path] = []

    def __enter__(self) -> "dataset_lock":
        self._made = [p for p in [self.path.parent, *self.path.parent.parents] if not p.exists()]
        while True:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:  # (another writer that wrote nothing may remove the folder meanwhile)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = _holder(fd)
                os.close(fd)
                raise RunLockedError(
                    f"{self.out}: another poolkit run holds it (pid {other.get('pid', '?')} on "
                    f"{other.get('host', '?')}, started {other.get('started_at', '?')}); wait "
                    "for it to end"
                ) from None
            try:  # the file locked is still the one at the path (not one a writer removed)
                here, mine = os.stat(self.path), os.fstat(fd)
                if (here.st_ino, here.st_dev) == (mine.st_ino, mine.st_dev):
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        self.took_over = _holder(fd) or None  # a run that ended without clearing the file
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)  # released: the file stays, empty
        if not self.out.exists():  # nothing written: nothing left behind
            self.path.unlink(missing_ok=True)
            for folder in self._made:
                try:
                    folder.rmdir()
                except OSError:
                    break
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _holder(fd: int) -> dict:
    """Who a lock file says holds it ({} when it says nothing readable)."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


# -------------------------------------------------------------------------------- the run


@dataclass
class RunResult:
    """What a weekly run did: ``state``, how it found this week's snapshot (``new``: it
    fetched one; ``finished``: it completed one a run left unfinished; ``added``: it added
    one a run fetched and was stopped before adding; ``done``: the week was done already,
    only the report was written again), the ``snapshot``, the ``fetch`` (None when nothing
    was fetched), what it added to the dataset, the ``findings`` and the ``report`` file."""

    state: str
    snapshot: Snapshot
    fetch: FetchResult | None
    added: Added
    findings: pd.DataFrame
    report: Path | None


def this_week(
    raw: str | os.PathLike,
    *,
    company_id: str | None = None,
    location_ids: Iterable[str] = (),
    numbers: bool = False,
    now: datetime | None = None,
) -> Snapshot | None:
    """This week's snapshot under ``raw``: the newest taken in the same ISO week (UTC) as
    ``now`` of the same request (the agency ``company_id``, exactly these ``location_ids``
    when given, the locations' ``numbers`` or not); None when there is none. A run
    completes it, adds it, or leaves it."""
    raw, now = Path(raw), now or datetime.now(timezone.utc)
    wanted = set(location_ids)
    snaps = [snapshot_at(f) for f in snapshot_folders(raw)] if raw.is_dir() else []
    mine = [
        s
        for s in snaps
        if s.folder is not None
        and (s.folder / MANIFEST).is_file()
        and s.taken_at is not None
        and s.taken_at.isocalendar()[:2] == now.isocalendar()[:2]
        and s.company_id == company_id
        and (not wanted or set(s.location_ids) == wanted)
        and s.numbers == numbers
    ]
    return mine[-1] if mine else None


def run(
    location_ids: Iterable[str] | None = None,
    *,
    company_id: str | None = None,
    raw: str | os.PathLike = "data/raw",
    out: str | os.PathLike = "data/processed/weekly",
    report: str | os.PathLike | None = "reports/number-pools.html",
    mask_numbers: bool = False,
    new: bool = False,
    say: Callable[[str], None] = print,
    **fetch_options,
) -> RunResult:
    """The weekly job: fetch this week's snapshot, add it to the dataset, write the report.

    Safe to run again. This week's snapshot (the same ISO week, the same agency or
    locations) is finished where a run left it unfinished, added where a run stopped before
    adding it, and put in place of a partial version the dataset holds; when the dataset holds
    it complete, nothing is fetched or written but the report.

    Parameters
    ----------
    location_ids : iterable of str, optional
        The locations, with a sub-account token; or ``company_id``.
    company_id : str, optional
        The agency whose every location to fetch.
    raw : str or os.PathLike, default "data/raw"
        Where snapshots are kept.
    out : str or os.PathLike, default "data/processed/weekly"
        The dataset.
    report : str or os.PathLike, optional
        Where the report goes; None: no report.
    mask_numbers : bool, default False
        Mask the phone numbers in the report.
    new : bool, default False
        Fetch a new snapshot even when this week's is complete.
    say : callable, default print
        Where the run's lines go.
    **fetch_options
        Passed to ``fetch_pools``: ``workers``, ``base_url``, ``numbers``, ``token``,
        ``client``, ``progress``.

    Returns
    -------
    RunResult
        ``state`` (what was done), ``snapshot``, ``fetch``, ``added``, ``findings`` and
        ``report``.

    Raises
    ------
    poolkit.errors.RunLockedError
        Another run holds the dataset.
    poolkit.PoolkitError
        Nothing could be fetched (nothing is left behind).

    Examples
    --------
    >>> result = poolkit.run(company_id="COMPANY_ID", numbers=True)  # doctest: +SKIP
    >>> result.state  # doctest: +SKIP
    'new'
    """
    raw, out = Path(raw), Path(out)
    location_ids = list(location_ids or [])
    with dataset_lock(out) as lock:
        if lock.took_over:
            say(f"took over the lock of a run that ended without releasing it ({lock.path})")
        _remove_empty_folders(raw)  # a run killed as it made its folder
        week = None
        if not new:
            week = this_week(
                raw,
                company_id=company_id,
                location_ids=location_ids,
                numbers=bool(fetch_options.get("numbers")),
            )
        held = held_complete(out) if is_dataset(out) else {}
        if week is not None and week.complete:
            if held.get(week.id):
                say(
                    f"this week's snapshot {week.folder} is complete and in {out}: nothing to "
                    "fetch (poolkit run --new fetches a new one)"
                )
                return _finish("done", week, None, raw, out, report, mask_numbers)
            if week.id in held:
                say(f"finishing {week.folder}: its complete version replaces the partial one")
                return _finish("finished", week, None, raw, out, report, mask_numbers)
            say(f"adding {week.folder}: a run fetched it and stopped before adding it")
            return _finish("added", week, None, raw, out, report, mask_numbers)
        if week is not None:
            say(f"finishing {week.folder}: a run left it unfinished")
        before = {p.name for p in raw.iterdir()} if raw.is_dir() else set()
        try:
            result = fetch_pools(
                location_ids,
                company_id=company_id,
                out=raw,
                resume=week.folder if week else None,
                **fetch_options,
            )
        except PoolkitError:
            _remove_new_empty(raw, before)
            raise
        failures = result.failures
        if (
            week is None
            and len(failures)
            and (failures["error"] == "AuthenticationError").all()
            and not len(result.tables.pools)
        ):
            shutil.rmtree(result.snapshot, ignore_errors=True)  # a run that could not start
            raise TokenRefusedError(
                f"every location refused the token; nothing was kept. Hint: "
                f"{AuthenticationError.hint}"
            )
        state = "new" if week is None else "finished"
        snap = snapshot_at(result.snapshot)
        return _finish(state, snap, result, raw, out, report, mask_numbers)


def _finish(
    state: str,
    snap: Snapshot,
    fetched: FetchResult | None,
    raw: Path,
    out: Path,
    report,
    mask_numbers: bool,
) -> RunResult:
    """Add the snapshot (in place of the partial version the dataset holds, unless the week
    was done already) and every other one under ``raw`` the dataset lacks; write the
    report; audit the snapshot."""
    replace = [] if state == "done" else [snap.id]
    added = _add(snapshot_folders(raw), out, replace=replace, xlsx=False, check=None)
    if report is not None:
        build_report(snap.folder, report, mask_numbers=mask_numbers)
    findings = audit(load(snap.folder))
    return RunResult(state, snap, fetched, added, findings, Path(report) if report else None)


def _remove_empty_folders(raw: Path) -> None:
    """Remove the snapshot folders under ``raw`` that a run killed as it began left: named
    as poolkit names them and holding nothing but, at most, ``locations.json``."""
    if raw.is_dir():
        for folder in raw.iterdir():
            if (
                folder.is_dir()
                and SNAPSHOT_NAME.fullmatch(folder.name)
                and all(p.name == LOCATIONS and p.is_file() for p in folder.iterdir())
            ):
                shutil.rmtree(folder, ignore_errors=True)


def _remove_new_empty(raw: Path, before: set[str]) -> None:
    """Remove the snapshot folders this run made that hold no response (a run that could
    not start leaves nothing behind)."""
    if not raw.is_dir():
        return
    for folder in raw.iterdir():
        if folder.is_dir() and folder.name not in before:
            if not any(p.name not in SNAPSHOT_FILES for p in folder.iterdir()):
                shutil.rmtree(folder, ignore_errors=True)
