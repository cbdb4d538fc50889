"""History: every snapshot an agency fetched, what changed between two, and the trend.

HighLevel keeps its own audit log for 60 days and offers no API for it, so the snapshots are
the only history there is. ``read_history`` reads them as one ``PoolTables`` whose every
table has a ``snapshot`` column (an ordered categorical, oldest first); ``changes`` lists
what changed between two snapshots, one row per change; ``trend`` gives one row per snapshot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .analysis import FEATURE_LABELS, feature_adoption_summary, headline, location_names
from .dataset import dataset_rows
from .errors import ConfigurationError
from .model import answered, blank, forwarding_numbers, has_service, on, pool_names
from .schemas import SCHEMAS, empty_frame, is_dataset
from .snapshot import snapshot_at
from .tables import PoolTables, read_dataset
from .tidy import read_pools, snapshot_folders

__all__ = [
    "CHANGES",
    "CHANGE_KINDS",
    "SETTINGS",
    "busiest_location",
    "changes",
    "read_history",
    "snapshots_of",
    "trend",
]

#: The kinds of change, in the order they are listed.
CHANGE_KINDS = (
    "location_added",
    "location_removed",
    "pool_added",
    "pool_removed",
    "number_added",
    "number_removed",
    "number_moved",
    "setting_changed",
)
#: The changes table: column -> dtype.
CHANGES = {
    "before": pd.StringDtype(),
    "after": pd.StringDtype(),
    "location_id": pd.StringDtype(),
    "location": pd.StringDtype(),
    "pool_id": pd.StringDtype(),
    "pool": pd.StringDtype(),
    "phone_number": pd.StringDtype(),
    "change": pd.CategoricalDtype(CHANGE_KINDS, ordered=True),
    "field": pd.StringDtype(),
    "old": pd.StringDtype(),
    "new": pd.StringDtype(),
}
#: The pool columns whose changes are ``setting_changed`` rows, and the ``field`` each is.
SETTINGS = {
    "pool_name": "name",
    "forwarding_number": "forwarding_number",
    "whisper": "whisper",
    "whisper_message": "whisper_message",
    "call_recording": "call_recording",
    "is_active": "is_active",
    "service_type": "service_type",
    "service_value": "service_value",
}
_POOL = ["location_id", "pool_id"]


# ------------------------------------------------------------------------------------- read


def read_history(path: str | os.PathLike, *, snapshots: list[str] | None = None) -> PoolTables:
    """Every snapshot under a folder, or of a dataset, as one set of tables.

    Parameters
    ----------
    path : str or os.PathLike
        A folder of snapshot folders (such as ``data/raw``, each read once) or a poolkit
        Parquet dataset.
    snapshots : list of str, optional
        Read only these snapshots (from a dataset, only their partitions).

    Returns
    -------
    PoolTables
        Every table with a ``snapshot`` column, named by each snapshot's manifest
        (``2026-11-26T213000Z``), else by its folder.

    Examples
    --------
    >>> history = poolkit.read_history(poolkit.sample_path().parent)
    >>> poolkit.history.snapshots_of(history)
    ['2026-10-19T150000Z', '2026-10-26T150000Z', '2026-11-02T150000Z']
    """
    path = Path(path)
    if is_dataset(path):
        return read_dataset(path, snapshots=snapshots, with_snapshot=True)
    folders = snapshot_folders(path)
    if not folders:
        raise ConfigurationError(f"{path}: neither a poolkit dataset nor a folder of snapshots")
    if snapshots is not None:
        folders = [folder for folder in folders if snapshot_at(folder).id in set(snapshots)]
    return history_of_folders(folders)


def history_of_folders(folders: Iterable[str | os.PathLike]) -> PoolTables:
    """These snapshot folders (each read once) as a history."""
    labelled: dict[str, str | os.PathLike] = {}
    keys = {}
    for folder in folders:
        snap = snapshot_at(os.path.abspath(folder))
        if snap.id in labelled:
            raise ConfigurationError(
                f"{labelled[snap.id]} and {folder} are both snapshot {snap.id}: rename one"
            )
        labelled[snap.id], keys[snap.id] = folder, snap.sort_key
    labels = pd.CategoricalDtype(sorted(labelled, key=keys.__getitem__), ordered=True)
    read = {label: read_pools(folder, errors="record") for label, folder in labelled.items()}
    frames = {}
    for name in PoolTables.TABLES:
        parts = [
            getattr(tables, name).assign(snapshot=label) for label, tables in read.items()
        ] or [empty_frame(name).assign(snapshot=pd.Series([], dtype=object))]
        frame = pd.concat(parts, ignore_index=True)
        for column, kind in SCHEMAS[name].items():  # categories differ between snapshots
            if kind == "category":  # a service type: the union of the snapshots' types
                kinds = sorted({str(v) for p in parts for v in p[column].cat.categories})
                frame[column] = frame[column].astype(pd.CategoricalDtype(kinds))
        frame["snapshot"] = frame["snapshot"].astype(object).astype(labels)
        frames[name] = frame
    return PoolTables(**frames)


def busiest_location(changes: pd.DataFrame) -> str | None:
    """The location whose pools, numbers and settings changed most: a story worth following.

    A location added or gone is not counted (its every pool would be a change), and a pool
    added or removed counts once, its numbers with it: a location that gained one pool of
    16 numbers changed once, one whose pool had call recording switched on and its whisper
    message removed changed twice. Between locations with as many changes, the first by name.

    Parameters
    ----------
    changes : pandas.DataFrame
        What ``changes`` returns.

    Returns
    -------
    str or None
        The location's name to show (``changes["location"]``); None where no location's
        pools, numbers or settings changed.

    Examples
    --------
    >>> moved = poolkit.changes(poolkit.load_sample(history=True))
    >>> poolkit.history.busiest_location(moved)
    'Northstar Roofing - Vancouver'
    """
    kind = changes["change"].astype(str).to_numpy()
    pools = pd.MultiIndex.from_frame(changes[["location_id", "pool_id"]].astype(object))
    whole = {"number_added": "pool_added", "number_removed": "pool_removed"}
    with_its_pool = np.zeros(len(changes), dtype=bool)
    for number_change, pool_change in whole.items():
        moved_pools = pools[kind == pool_change]
        with_its_pool |= (kind == number_change) & pools.isin(moved_pools)
    with_its_pool &= changes["pool_id"].notna().to_numpy()  # pools without an id are apart
    counted = ~np.isin(kind, ["location_added", "location_removed"]) & ~with_its_pool
    if not counted.any():
        return None
    counts = changes[counted].groupby("location", observed=True, sort=True).size()
    return str(counts.sort_values(ascending=False, kind="stable").index[0])


def snapshots_of(history: PoolTables) -> list[str]:
    """The snapshots of a history, oldest first.

    Parameters
    ----------
    history : PoolTables
        Tables with a ``snapshot`` column.

    Returns
    -------
    list of str

    Examples
    --------
    >>> poolkit.history.snapshots_of(poolkit.load_sample(history=True))[0]
    '2026-10-19T150000Z'
    """
    return [str(s) for s in history.locations["snapshot"].cat.categories]


#: The per-number tables: the big ones, which ``trend`` only counts.
_NUMBER_TABLES = ("numbers", "phone_numbers")


def snapshot_tables(history: PoolTables, snapshot: str, *, skip: Iterable[str] = ()) -> PoolTables:
    """The tables of one snapshot of a history (without the ``snapshot`` column); the
    tables named in ``skip`` left empty."""
    return PoolTables(
        **{
            name: (
                empty_frame(name)
                if name in skip
                else frame[(frame["snapshot"] == snapshot).to_numpy()]
                .drop(columns="snapshot")
                .reset_index(drop=True)
            )
            for name, frame in history
        }
    )


# ---------------------------------------------------------------------------------- changes


def _text(values: pd.Series) -> pd.Series:
    """Values as text for ``old`` and ``new`` (``True``/``False`` for flags); blank text is
    no value (an empty whisper message and a missing one are the same setting)."""
    text = values.astype("string")
    return text.mask(blank(text))


def _present(tables: PoolTables) -> tuple[set, set]:
    """Location ids that answered, and those in the data whose fetch failed."""
    locations = tables.locations
    if locations.empty:
        return set(tables.pools["location_id"].dropna()), set()
    ok = answered(locations)
    return set(locations.loc[ok, "location_id"]), set(locations.loc[~ok, "location_id"])


def _rows(frame: pd.DataFrame, change: str, **columns) -> pd.DataFrame:
    """Change rows for the pools (or locations) of ``frame``."""
    keys = {c: frame[c] for c in _POOL if c in frame}
    return pd.DataFrame({**keys, "change": change, **columns}, index=frame.index)


def _location_changes(old: PoolTables, new: PoolTables) -> tuple[list[pd.DataFrame], set]:
    """Locations added and removed, and the locations both snapshots answered for (the
    only ones whose pools are compared). A location whose fetch failed in either snapshot
    is neither added nor removed."""
    old_ok, old_failed = _present(old)
    new_ok, new_failed = _present(new)
    added = sorted(new_ok - old_ok - old_failed)
    removed = sorted(old_ok - new_ok - new_failed)
    rows = [
        pd.DataFrame({"location_id": added, "change": "location_added"}),
        pd.DataFrame({"location_id": removed, "change": "location_removed"}),
    ]
    return rows, old_ok & new_ok


def _pool_changes(old: pd.DataFrame, new: pd.DataFrame) -> list[pd.DataFrame]:
    """Pools added and removed, and one row per setting that changed in a pool of both."""
    # a pool without an id, or repeated, is a problem row of its own: compared once, or not
    old = old.dropna(subset=_POOL).drop_duplicates(_POOL)
    new = new.dropna(subset=_POOL).drop_duplicates(_POOL)
    if old.empty and new.empty:  # pandas cannot merge two Arrow columns of no chunk
        return []
    both = old.merge(new, on=_POOL, how="outer", suffixes=("_old", "_new"), indicator=True)
    rows = [
        _rows(both[both["_merge"] == "right_only"], "pool_added"),
        _rows(both[both["_merge"] == "left_only"], "pool_removed"),
    ]
    kept = both[both["_merge"] == "both"]
    for setting, field in SETTINGS.items():
        before, after = _text(kept[f"{setting}_old"]), _text(kept[f"{setting}_new"])
        differs = (before != after).fillna(True) & ~(before.isna() & after.isna())
        changed = kept[differs]
        rows.append(
            _rows(changed, "setting_changed", field=field, old=before[differs], new=after[differs])
        )
    return rows


def _number_changes(
    old: pd.DataFrame, new: pd.DataFrame, old_pools: pd.DataFrame, new_pools: pd.DataFrame
) -> list[pd.DataFrame]:
    """Numbers added to and removed from pools; a number that left one pool and joined
    another of the same location is one ``number_moved`` row (old and new pool)."""
    keys = ["location_id", "phone_number", "pool_id"]
    old = old[keys].dropna().drop_duplicates()  # a number of a pool without an id: a problem
    new = new[keys].dropna().drop_duplicates()
    if old.empty and new.empty:
        return []
    both = old.merge(new, on=keys, how="outer", indicator=True)
    left = both[both["_merge"] == "left_only"].drop(columns="_merge")
    joined = both[both["_merge"] == "right_only"].drop(columns="_merge")
    number = ["location_id", "phone_number"]
    left = left.sort_values(keys).assign(rank=lambda f: f.groupby(number).cumcount())
    joined = joined.sort_values(keys).assign(rank=lambda f: f.groupby(number).cumcount())
    paired = left.merge(joined, on=[*number, "rank"], how="outer", suffixes=("_old", ""))
    moved = paired[paired["pool_id_old"].notna() & paired["pool_id"].notna()]
    gone = paired[paired["pool_id"].isna()].assign(pool_id=lambda f: f["pool_id_old"])
    came = paired[paired["pool_id_old"].isna()]

    def pool(pools: pd.DataFrame, pool_id: str) -> pd.Series:  # its name then, else its id
        keys = moved[["location_id", pool_id]].set_axis(_POOL, axis=1)
        return pool_names(pools, keys).fillna(moved[pool_id]).astype(object)

    return [
        _rows(came, "number_added", phone_number=came["phone_number"]),
        _rows(gone, "number_removed", phone_number=gone["phone_number"]),
        _rows(
            moved,
            "number_moved",
            phone_number=moved["phone_number"],
            field="pool",
            old=pool(old_pools, "pool_id_old"),
            new=pool(new_pools, "pool_id"),
        ),
    ]


def _settings(tables: PoolTables, kept) -> pd.DataFrame:
    """The pools ``kept`` keeps, each setting as it reads: the forwarding number as the pool
    gives it (one the reader set aside as misformed included), a service value only where
    the pool has a service."""
    pools = tables.pools.assign(
        forwarding_number=forwarding_numbers(tables),
        service_value=tables.pools["service_value"].where(
            has_service(tables.pools["service_type"])
        ),
    )
    return kept(pools)


def changes(
    history: PoolTables, before: str | None = None, after: str | None = None
) -> pd.DataFrame:
    """What changed from one snapshot to another, one row per change.

    Locations added and removed; in the locations that answered in both, pools added and
    removed, numbers added, removed and moved between pools of the location, and each pool
    setting (``SETTINGS``) that changed. A location whose fetch failed in either snapshot is
    not counted as gone.

    Parameters
    ----------
    history : PoolTables
        Tables with a ``snapshot`` column: ``read_history``, ``read_dataset``,
        ``load_sample(history=True)``.
    before, after : str, optional
        The snapshots to compare; default: the last two.

    Returns
    -------
    pandas.DataFrame
        The columns of ``CHANGES``: ``change`` (its kind, ``CHANGE_KINDS``), the location,
        pool and number, and for a setting its ``field``, ``old`` and ``new`` values. Empty
        when there are fewer than two snapshots.

    Examples
    --------
    >>> moved = poolkit.changes(poolkit.load_sample(history=True))
    >>> len(moved), int((moved["change"] == "number_added").sum())
    (25, 16)
    """
    labels = snapshots_of(history)
    if before is None and after is None and len(labels) < 2:
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in CHANGES.items()})
    after = labels[-1] if after is None else after
    if before is None and after in labels[1:]:
        before = labels[labels.index(after) - 1]
    elif before is None:
        raise ConfigurationError(f"no snapshot before {after!r} in the history to compare")
    for label in (before, after):
        if label not in labels:
            raise ConfigurationError(
                f"no snapshot {label!r} in the history to compare "
                f"({', '.join(labels) or 'no snapshot'})"
            )
    old, new = snapshot_tables(history, before), snapshot_tables(history, after)
    location_rows, compared = _location_changes(old, new)

    def kept(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["location_id"].isin(compared)]

    rows = [
        *location_rows,
        *_pool_changes(_settings(old, kept), _settings(new, kept)),
        *_number_changes(kept(old.numbers), kept(new.numbers), old.pools, new.pools),
    ]
    frame = pd.concat([r for r in rows if len(r)] or [pd.DataFrame()], ignore_index=True)
    frame = frame.reindex(columns=list(CHANGES)).assign(before=before, after=after)
    names = location_names(old) | location_names(new)
    frame["location"] = frame["location_id"].map(names)
    keys = frame[_POOL]  # a pool named as it is now, or was last
    frame["pool"] = pool_names(new.pools, keys).fillna(pool_names(old.pools, keys))
    frame = frame.astype(CHANGES)
    return frame.sort_values(
        ["location", "location_id", "change", "pool", "pool_id", "phone_number", "field"],
        kind="stable",
        na_position="first",
    ).reset_index(drop=True)


# ------------------------------------------------------------------------------------ trend


def trend(history: PoolTables | str | os.PathLike) -> pd.DataFrame:
    """One row per snapshot: locations, pools, numbers, and the share using each feature.

    Parameters
    ----------
    history : PoolTables, str or os.PathLike
        A history, or the path of one (``read_history``'s); from a Parquet dataset the
        numbers are counted from the files' metadata and never read.

    Returns
    -------
    pandas.DataFrame
        ``snapshot``, ``locations`` (that answered), ``locations_not_fetched``, ``pools``,
        ``active_pools``, ``numbers`` and ``share_<feature>`` (of the locations that
        answered, as ``feature_adoption_summary`` counts it); oldest first.

    Examples
    --------
    >>> over_time = poolkit.trend(poolkit.load_sample(history=True))
    >>> over_time["numbers"].tolist()
    [1590, 1579, 1611]
    """
    if isinstance(history, (str, os.PathLike)):
        path = Path(history)
        if is_dataset(path):
            without = [name for name in PoolTables.TABLES if name not in _NUMBER_TABLES]
            numbers = dataset_rows(path, "numbers")
            history = read_dataset(path, with_snapshot=True, tables=without)
        else:
            history = read_history(path)
            numbers = history.numbers["snapshot"].value_counts()
    else:
        numbers = history.numbers["snapshot"].value_counts()
    rows = []
    for label in snapshots_of(history):
        tables = snapshot_tables(history, label, skip=_NUMBER_TABLES)
        counts = headline(tables)
        adoption = feature_adoption_summary(tables).set_index("feature")["share"]
        rows.append(
            {
                "snapshot": label,
                "locations": counts["locations"],
                "locations_not_fetched": counts["locations_not_fetched"],
                "pools": counts["pools"],
                "active_pools": int(on(tables.pools["is_active"]).sum()),
                "numbers": int(numbers.get(label, 0)),
                **{f"share_{feature}": adoption.get(feature, np.nan) for feature in FEATURE_LABELS},
            }
        )
    columns = ["snapshot", "locations", "locations_not_fetched", "pools", "active_pools"]
    columns += ["numbers", *(f"share_{f}" for f in FEATURE_LABELS)]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(
        {"snapshot": "string", **{c: "Int64" for c in columns[1:6]}}
        | {c: "Float64" for c in columns[6:]}
    )
