"""The weekly job as a function: ``run`` fetches this week's snapshot, adds it to the
dataset and writes the report; run again, it finishes what a run left and does nothing twice.

A year of Mondays ends in a dataset that holds every week once, whole:

- a lock beside the dataset (``.<name>.lock``: pid, host, start) lets one run in; a second
  run raises ``RunLockedError``; a lock whose process is gone is taken over;
- a snapshot taken less than ``RESUME_WITHIN`` ago is this week's: a run completes it
  when a run left it unfinished (its complete version replaces the partial one in the
  dataset, in one commit), adds it when a run was stopped before adding it, and otherwise
  fetches nothing (``new=True`` fetches all the same);
- every snapshot under ``raw`` the dataset lacks is added, never fetched again;
- a pool file fully written counts as fetched, whatever the manifest had time to say;
- a run that cannot start (the token refused, no network) leaves no snapshot behind.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from .dataset import dataset_snapshots
from .errors import AuthenticationError, PoolkitError, RunLockedError, TokenRefusedError
from .fetch import FetchResult, fetch_pools
from .findings import audit
from .loaders import load
from .report import build_report
from .schemas import is_dataset
from .snapshot import MANIFEST, SNAPSHOT_FILES, Snapshot, snapshot_at
from .tables import (
    PoolTables,
    read_dataset,
    select_snapshots,
    snapshots_in,
    update_dataset_csv,
)
from .tidy import read_pools, snapshot_folders

__all__ = ["RESUME_WITHIN", "RunResult", "add_to_dataset", "dataset_lock", "run", "this_week"]

#: How long after it was taken an unfinished snapshot is still completed by the next run;
#: an older one stays as it is (partial) and the run takes a new snapshot.
RESUME_WITHIN = timedelta(days=6)


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
    version takes the old one's place, in the same commit), into ``out``; then rewrite its
    CSVs (and workbook) from the whole dataset. Parses only what it adds; ``check`` sees
    the tables before anything is written (it raises to stop the add)."""
    out = Path(out)
    held = set(dataset_snapshots(out)) if is_dataset(out) else set()
    wanted = held - set(replace)  # held and not to be replaced: skipped
    folders = _snapshot_folders(data)
    if folders is not None:
        ids = {f: snapshot_at(f).id for f in folders}
        already = [ids[f] for f in folders if ids[f] in wanted]
        new = [f for f in folders if ids[f] not in wanted]
        tables = read_pools(new, errors="record") if new else None
    else:  # a file or a glob: its snapshots are its files' folders
        tables = read_pools(data, errors="record")
        found = snapshots_in(tables)
        already = sorted(found & wanted)
        tables = select_snapshots(tables, found - wanted)
    result = Added(already=already)
    held_before = dataset_snapshots(out) if is_dataset(out) else []
    if tables is not None and snapshots_in(tables):
        ids = snapshots_in(tables)
        result.replaced = sorted(ids & held)
        result.added = sorted(ids - held)
        result.tables = tables
        if check is not None:
            check(tables)
        tables.to_parquet(out, append=True, replace=bool(result.replaced))
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


def _alive(holder: dict) -> bool:
    """The process that wrote a lock is still running (on another host: assumed so)."""
    if holder.get("host") != socket.gethostname():
        return True
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class dataset_lock:
    """One run at a time per dataset: a lock file beside it names the holder (pid, host,
    start). A second run raises ``RunLockedError`` naming the first; a lock left by a run
    that was killed (its process is gone) is taken over."""

    def __init__(self, out: str | os.PathLike) -> None:
        self.path = _lock_path(Path(out))
        self.took_over: dict | None = None

    def __enter__(self) -> "dataset_lock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                other = self._holder()
                if other is not None and _alive(other):
                    raise RunLockedError(
                        f"{self.path.parent / self.path.name[1:-5]}: another poolkit run holds "
                        f"it (pid {other.get('pid')} on {other.get('host')}, started "
                        f"{other.get('started_at')}); wait for it to end"
                    ) from None
                self.took_over = other or {}
                self.path.unlink(missing_ok=True)  # the holder is gone: its lock goes too
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(holder, handle)
            return self
        raise RunLockedError(f"{self.path}: could not take the lock (another run keeps taking it)")

    def _holder(self) -> dict | None:
        try:
            holder = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None  # half-written by a run killed as it took the lock
        return holder if isinstance(holder, dict) else None

    def __exit__(self, *exc) -> None:
        holder = self._holder()
        if holder and holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)


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
    raw: str | os.PathLike, *, now: datetime | None = None, within: timedelta = RESUME_WITHIN
) -> Snapshot | None:
    """The newest snapshot under ``raw`` when it was taken less than ``within`` ago (the
    week's, which a run completes, adds or leaves as it is rather than fetch again)."""
    raw = Path(raw)
    snaps = [snapshot_at(f) for f in snapshot_folders(raw)] if raw.is_dir() else []
    snaps = [s for s in snaps if s.folder is not None and (s.folder / MANIFEST).is_file()]
    if not snaps or snaps[-1].taken_at is None:
        return None
    now = now or datetime.now(timezone.utc)
    return snaps[-1] if now - snaps[-1].taken_at < within else None


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
    """The weekly job, safe to run again: this week's snapshot fetched (or finished where a
    run left it unfinished), every snapshot the dataset lacks added, the report of the
    snapshot and its history written.

    A snapshot taken less than ``RESUME_WITHIN`` (6 days) ago is this week's: a run
    completes it when locations are pending or failed, adds it when a run was stopped
    before adding it, and otherwise fetches nothing (``new=True`` fetches a new snapshot
    all the same). ``fetch_options`` go to ``fetch_pools`` (``workers``, ``base_url``,
    ``numbers``, ``token``, ``client``, ``progress``...). Raises ``RunLockedError`` when
    another run holds the dataset, and ``PoolkitError`` when nothing could be fetched
    (nothing is left behind)."""
    raw, out = Path(raw), Path(out)
    with dataset_lock(out) as lock:
        if lock.took_over is not None:
            say(f"took over the lock of a run that ended without releasing it ({lock.path})")
        _remove_empty_folders(raw)  # a run killed as it made its folder
        week = None if new else this_week(raw)
        held = set(dataset_snapshots(out)) if is_dataset(out) else set()
        if week is not None and week.complete:
            if week.id in held:
                say(
                    f"this week's snapshot {week.folder} is complete and in {out}: nothing to "
                    "fetch (poolkit run --new fetches a new one)"
                )
                return _finish("done", week, None, raw, out, report, mask_numbers)
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
    """Add the snapshot (replacing a partial version of it) and every other one under
    ``raw`` the dataset lacks; write the report; audit the snapshot."""
    added = add_to_dataset(snapshot_folders(raw), out, replace=[snap.id])
    if report is not None:
        build_report(snap.folder, report, mask_numbers=mask_numbers)
    findings = audit(load(snap.folder))
    return RunResult(state, snap, fetched, added, findings, Path(report) if report else None)


def _remove_empty_folders(raw: Path) -> None:
    """Remove the empty folders under ``raw`` (a run killed between making its snapshot
    folder and writing its manifest leaves one); nothing else is touched."""
    if raw.is_dir():
        for folder in raw.iterdir():
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def _remove_new_empty(raw: Path, before: set[str]) -> None:
    """Remove the snapshot folders this run made that hold no response (a run that could
    not start leaves nothing behind)."""
    if not raw.is_dir():
        return
    for folder in raw.iterdir():
        if folder.is_dir() and folder.name not in before:
            if not any(p.name not in SNAPSHOT_FILES for p in folder.iterdir()):
                shutil.rmtree(folder, ignore_errors=True)
