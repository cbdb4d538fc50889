"""The shipped sample data: offline, deterministic, read with importlib.resources."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .tables import PoolTables
from .tidy import read_pools


def sample_path() -> Path:
    """Folder of the shipped sample snapshot (40 synthetic locations and a manifest)."""
    return Path(str(files("poolkit") / "sample"))


def load_sample() -> PoolTables:
    """The sample snapshot as ``PoolTables``; it never touches the network."""
    return read_pools(sample_path(), errors="record")
