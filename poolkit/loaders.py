"""Where the data comes from: the path a user gives (from a notebook's folder too), the
tables of it (the newest snapshot where it holds several) and the history it belongs to."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from .dataset import dataset_snapshots
from .errors import ConfigurationError, NoDataError
from .history import history_of_folders, read_history
from .masking import masked
from .model import answered
from .phones import enrich_numbers
from .sample import sample_path
from .schemas import is_dataset
from .snapshot import MANIFEST, snapshot_at
from .tables import PoolTables, read_dataset
from .tidy import read_pools, snapshot_folders

__all__ = ["load", "load_history", "require_answers", "resolve_data", "resolve_out"]


def resolve_data(path: str | os.PathLike) -> Path:
    """Find the data a notebook or command names, from here or from a parent folder.

    Notebooks run in ``notebooks/``, so ``data/sample`` is found one folder up; where it is
    found nowhere, ``data/sample`` is the packaged sample.

    Parameters
    ----------
    path : str or os.PathLike
        A snapshot folder, a response file, a glob, a folder of snapshots or a dataset.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    poolkit.errors.ConfigurationError
        ``path`` is found nowhere.

    Examples
    --------
    >>> poolkit.notebook.resolve_data("data/sample").name
    '2026-11-02T150000Z'
    """
    path = Path(path)
    if path.exists() or glob.has_magic(str(path)):  # a glob is read_pools' to resolve
        return path
    for parent in [] if path.is_absolute() else Path.cwd().parents:
        if (parent / path).exists():
            return parent / path
    if path.as_posix().rstrip("/") == "data/sample":
        return sample_path()
    if path.is_absolute():
        raise ConfigurationError(f"{path}: no such file or folder")
    raise ConfigurationError(f"{path}: not found in {Path.cwd()} or any folder above it")


def resolve_out(path: str | os.PathLike) -> Path:
    """Where to write ``path``, taken the way ``resolve_data`` finds data.

    A relative path is taken from the nearest folder, from here upward, that holds its
    first folder (``data`` for ``data/processed/findings.csv``): a notebook's parameters
    name data and outputs the same way, from the project's folder, whether it runs in
    ``notebooks/`` or there.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.

    Returns
    -------
    pathlib.Path
        ``path`` itself where it is absolute or no such folder is found.

    Examples
    --------
    >>> import os
    >>> from pathlib import Path
    >>> Path("data").mkdir(exist_ok=True)
    >>> Path("notebooks").mkdir(exist_ok=True)
    >>> project = Path.cwd()
    >>> os.chdir("notebooks")  # as a notebook runs
    >>> poolkit.notebook.resolve_out("data/processed/findings.csv") == (
    ...     project / "data" / "processed" / "findings.csv"
    ... )
    True
    >>> os.chdir(project)
    """
    path = Path(path)
    if path.is_absolute() or len(path.parts) < 2:
        return path
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / path.parts[0]).is_dir():
            return folder / path
    return path


def _latest_snapshot(path: Path) -> list[str] | None:
    """The newest snapshot's folder when ``path`` holds several snapshots (folders with
    manifests, else folders of responses, as ``read_history`` reads them); None when it is
    one snapshot, a file or a glob."""
    if not path.is_dir() or is_dataset(path):
        return None
    folders = snapshot_folders(path)  # oldest first
    return folders[-1:] if len(folders) > 1 else None


def load(
    data: str | os.PathLike, *, enrich: bool = False, mask_numbers: bool = False
) -> PoolTables:
    """The tables of the data a notebook is pointed at; its newest snapshot where it holds several.

    Problems in the responses are recorded (``tables.problems``), never raised.

    Parameters
    ----------
    data : str or os.PathLike
        Response files, a snapshot, a folder of snapshots or a poolkit Parquet dataset
        (``load_history`` reads every snapshot of it).
    enrich : bool, default False
        Add each number's region, type and area (``poolkit.enrich_numbers``).
    mask_numbers : bool, default False
        Mask the phone numbers (``+1 415 ***-**71``), for sharing.

    Returns
    -------
    PoolTables

    Examples
    --------
    >>> tables = poolkit.notebook.load(poolkit.sample_path().parent)
    >>> len(tables.locations)
    46
    """
    path = resolve_data(data)
    if is_dataset(path):
        tables = read_dataset(
            path, snapshots=dataset_snapshots(path)[-1:] or None, with_snapshot=False
        )
    else:
        tables = read_pools(_latest_snapshot(path) or path, errors="record")
    if enrich:
        tables.numbers = enrich_numbers(tables.numbers)
    return masked(tables) if mask_numbers else tables


def load_history(data: str | os.PathLike) -> PoolTables | None:
    """Every snapshot the data belongs to, as a history.

    A dataset's or a folder of snapshots' own; for one snapshot folder, those of the folder it
    sits in up to it that share a location with it (``data/raw/<snapshot>``).

    Parameters
    ----------
    data : str or os.PathLike
        A snapshot folder, a folder of snapshots or a dataset.

    Returns
    -------
    PoolTables or None
        Tables with a ``snapshot`` column; None for a file, a glob or loose responses.

    Examples
    --------
    >>> history = poolkit.notebook.load_history(poolkit.sample_path())
    >>> len(poolkit.history.snapshots_of(history))
    3
    """
    path = resolve_data(data).resolve()
    if is_dataset(path) or _latest_snapshot(path):
        return read_history(path)
    if not (path.is_dir() and (path / MANIFEST).is_file()):
        return None
    mine = snapshot_at(path)  # siblings that share no location are another agency's
    siblings = [snapshot_at(f) for f in snapshot_folders(path.parent)]
    return history_of_folders(
        s.folder
        for s in siblings
        if (s.folder / MANIFEST).is_file()
        and s.sort_key <= mine.sort_key
        and set(mine.location_ids) & set(s.location_ids)
    )


def require_answers(tables: PoolTables, data: str | os.PathLike) -> PoolTables:
    """``tables`` when at least one of their locations answered; else ``NoDataError``
    saying what ``data`` held instead (no response at all, or the first unreadable one)."""
    if answered(tables.locations).any():
        return tables
    problems = tables.problems
    if problems.empty and tables.locations.empty:
        raise NoDataError(f"{data}: no pool response found there: nothing to work on")
    first = [
        f"{p.source}: {p.problem} (at {p.path})"
        for p in problems.astype(object).itertuples()
        if isinstance(p.source, str)
    ][:1]
    raise NoDataError(
        f"{data}: no location answered, nothing to work on"
        + (f"; the first reason: {first[0]}" if first else "")
    )
