"""The shipped sample data: offline, deterministic, read with importlib.resources.

``poolkit/samples/`` holds three synthetic snapshots a week apart; the sample is the last.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .history import read_history
from .tables import PoolTables
from .tidy import read_pools


def samples_path() -> Path:
    """Folder of the shipped sample snapshots, one folder each, oldest first by name."""
    return Path(str(files("poolkit") / "samples"))


def sample_path() -> Path:
    """The folder of the sample's newest snapshot: 46 synthetic locations, and a manifest.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> poolkit.sample_path().name
    '2026-11-02T150000Z'
    """
    return max(p for p in samples_path().iterdir() if (p / "manifest.json").is_file())


def load_sample(*, history: bool = False) -> PoolTables:
    """The shipped sample (46 synthetic locations), offline and deterministic.

    Parameters
    ----------
    history : bool, default False
        True gives all three snapshots (``poolkit.read_history``: a ``snapshot`` column in
        every table); False the newest one.

    Returns
    -------
    PoolTables

    Examples
    --------
    >>> len(poolkit.load_sample().locations)
    46
    >>> poolkit.history.snapshots_of(poolkit.load_sample(history=True))[-1]
    '2026-11-02T150000Z'
    """
    if history:
        return read_history(samples_path())
    return read_pools(sample_path(), errors="record")
