"""Finding the inputs ``read_pools`` is given: files, folders, globs, parsed responses and
lists of them; the snapshot folders (with a manifest) among them, and the pages of active
numbers beside the pool responses."""

from __future__ import annotations

import fnmatch
import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .envelope import ENVELOPE_KEYS
from .errors import NotAPoolResponseError
from .schemas import MEMORY_SOURCE, is_dataset
from .snapshot import INVENTORY_PAGE, MANIFEST, SNAPSHOT_FILES, snapshot_at

__all__ = [
    "ACTIVE_NUMBERS_PAGE",
    "SNAPSHOT_FOLDER",
    "SnapshotGlob",
    "is_list_of_responses",
    "iter_inputs",
    "json_files",
    "snapshot_folders",
]

SNAPSHOT_FOLDER = object()  # an input that is a snapshot folder read whole, not a response


@dataclass(frozen=True)
class SnapshotGlob:
    """An input that is a snapshot folder a glob reads some files of: of the locations its
    manifest lists without a response, only those whose file the glob would match count."""

    pattern: str

    def selects(self, folder: str, file: str) -> bool:
        return fnmatch.fnmatchcase(os.path.join(folder, file), self.pattern)


ACTIVE_NUMBERS_PAGE = object()  # an input that is a page of a location's active numbers


def iter_inputs(source: Any) -> Iterator[tuple[str, Any]]:
    """Yield ``(name, parsed document)`` for in-memory input, ``(path, None)`` for a file."""
    if isinstance(source, dict):
        yield MEMORY_SOURCE, source
    elif isinstance(source, (str, os.PathLike)):
        yield from _expand_path(source)
    elif isinstance(source, (list, tuple)):
        if is_list_of_responses(source):
            for i, item in enumerate(source):
                if isinstance(item, dict):
                    yield f"{MEMORY_SOURCE}[{i}]", item
                else:
                    yield from _expand_path(item)
        else:
            yield MEMORY_SOURCE, list(source)  # a bare list of pools
    else:
        raise TypeError(
            "read_pools() takes a path, a glob, a parsed response dict, or a list of them; "
            f"got {type(source).__name__}"
        )


def is_list_of_responses(items: list | tuple) -> bool:
    """A list is a list of sources when it holds paths or response envelopes only."""

    def is_source(item: Any) -> bool:
        if isinstance(item, (str, os.PathLike)):
            return True
        return isinstance(item, dict) and any(
            key in item for key in (*ENVELOPE_KEYS, "success", "statusCode", "status")
        )

    return bool(items) and all(is_source(item) for item in items)


def _expand_path(source: str | os.PathLike) -> Iterator[tuple[str, Any]]:
    path = Path(source)
    if is_dataset(path):
        yield (
            str(path),
            NotAPoolResponseError(
                str(path),
                "a poolkit Parquet dataset, not responses: read it with poolkit.read_dataset()",
            ),
        )
    elif path.is_dir():
        files, snapshots, pages = _walk(path)
        for folder in snapshots:
            yield folder, SNAPSHOT_FOLDER
        for name in files:
            yield name, None
        for name in pages:
            yield name, ACTIVE_NUMBERS_PAGE
    elif path.exists() or not glob.has_magic(str(source)):
        if path.name not in SNAPSHOT_FILES:  # a snapshot's own files, listed with its responses
            yield str(path), ACTIVE_NUMBERS_PAGE if INVENTORY_PAGE.fullmatch(path.name) else None
    else:  # a glob: the snapshot folders it reads from list the locations it has no file of
        names = [n for n in sorted(glob.glob(str(source), recursive=True)) if os.path.isfile(n)]
        for folder in sorted({os.path.dirname(os.path.abspath(n)) for n in names}):
            if os.path.isfile(os.path.join(folder, MANIFEST)):
                yield folder, SnapshotGlob(os.path.abspath(source))
        for name in names:
            base = os.path.basename(name)
            if base not in SNAPSHOT_FILES:
                yield name, ACTIVE_NUMBERS_PAGE if INVENTORY_PAGE.fullmatch(base) else None


def json_files(folder: str | os.PathLike) -> list[str]:
    """Every pool response below ``folder``: the ``*.json`` files but a snapshot's own files
    (manifest, locations), active-number pages and poolkit Parquet datasets, sorted by path."""
    return _walk(folder)[0]


def snapshot_folders(folder: str | os.PathLike) -> list[str]:
    """The snapshot folders below ``folder`` (those with a manifest); where there are none,
    the folders that hold response files; oldest first (``poolkit.snapshot.sort_key``)."""
    files, snapshots, _ = _walk(folder)
    found = snapshots or {os.path.dirname(os.path.abspath(f)) for f in files}
    return sorted(found, key=lambda f: snapshot_at(f).sort_key)


def _walk(folder: str | os.PathLike) -> tuple[list[str], list[str], list[str]]:
    """The pool response files below ``folder``, the snapshot folders (with a manifest) there,
    and the pages of active numbers."""
    found, snapshots, pages = [], [], []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not is_dataset(os.path.join(root, d)))
        for name in names:
            if name.endswith(".json") and name not in SNAPSHOT_FILES:
                (pages if INVENTORY_PAGE.fullmatch(name) else found).append(
                    os.path.join(root, name)
                )
        if MANIFEST in names:
            snapshots.append(os.path.abspath(root))
    return sorted(found), sorted(snapshots), sorted(pages)
