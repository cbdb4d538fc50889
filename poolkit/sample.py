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
    """Folder of the sample snapshot: the last of ``samples_path()`` (46 synthetic locations,
    their details and a manifest)."""
    return max(p for p in samples_path().iterdir() if (p / "manifest.json").is_file())


def load_sample(*, history: bool = False) -> PoolTables:
    """The sample snapshot as ``PoolTables``, or with ``history=True`` all three snapshots
    (``poolkit.read_history``: a ``snapshot`` column in every table). Never touches the
    network."""
    if history:
        return read_history(samples_path())
    return read_pools(sample_path(), errors="record")
