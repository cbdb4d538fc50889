"""The shipped sample data: offline, deterministic, read with importlib.resources."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .errors import ConfigurationError
from .tidy import PoolTables, read_pools


def sample_path() -> Path:
    """Folder of the shipped sample snapshot (40 synthetic locations and a manifest)."""
    return Path(str(files("poolkit") / "sample"))


def load_sample() -> PoolTables:
    """The sample snapshot as ``PoolTables``; it never touches the network."""
    return read_pools(sample_path())


def resolve_data(path: str | Path) -> Path:
    """Find ``path`` from here or from a parent folder (notebooks run in ``notebooks/``);
    ``data/sample`` falls back to the packaged sample."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    for parent in Path.cwd().parents:
        if (parent / path).exists():
            return parent / path
    if path.as_posix().rstrip("/") == "data/sample":
        return sample_path()
    raise ConfigurationError(f"{path}: not found in {Path.cwd()} or any folder above it")
