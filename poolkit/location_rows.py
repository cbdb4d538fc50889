"""The ``locations`` table: one row per location and snapshot folder, from the responses read,
the snapshot's manifest (failed locations, files) and its ``locations.json`` (names, places),
with whether each location's active numbers were all read."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pandas as pd

from .places import state_code
from .schemas import MEMORY_SOURCE, SCHEMAS, SOURCE, dtype_of
from .snapshot import MANIFEST, read_locations, read_manifest
from .values import answered, on

__all__ = ["file_location", "inventory_status", "locations_table"]


def file_location(source: str) -> str | None:
    """The location whose response ``source`` is, by its snapshot's manifest (the entry
    naming the file); None for a file no manifest names."""
    if source.startswith(MEMORY_SOURCE):
        return None
    entries = (read_manifest(source) or {}).get("locations")
    name = os.path.basename(source)
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and name in (
            entry.get("file"),
            f"{entry.get('location_id')}.json",
        ):
            location_id = entry.get("location_id")
            return location_id if isinstance(location_id, str) and location_id else None
    return None


def locations_table(
    responses: list[tuple],
    folders: list[str],
    pools: pd.DataFrame,
    pages: dict[tuple, dict],
    globs: dict | None = None,
) -> pd.DataFrame:
    """One row per location and snapshot folder of the data: those the pools name, those of
    responses with no pool (named by the manifest, else by the file), and those a snapshot
    folder's manifest lists without a response (failed, or no response file), of a folder a
    glob reads only those whose file it would match (``globs``: folder -> ``SnapshotGlob``).
    ``inventory`` says whether its active numbers are all there (``inventory_status``)."""
    globs = globs or {}
    snapshots: dict[str, tuple[list, dict, dict]] = {}
    folder_of: dict[str, str] = {}  # a source's folder as given -> absolute ("" in memory)

    def snapshot(folder: str) -> tuple[list, dict, dict]:
        """A folder's manifest entries, the same by location and by file, and kept details."""
        if folder not in snapshots:
            entries = (read_manifest(folder) or {}).get("locations") if folder else []
            entries = [
                e
                for e in (entries if isinstance(entries, list) else [])
                if isinstance(e, dict) and isinstance(e.get("location_id"), str)
            ]
            by_key = {
                **{e["location_id"]: e for e in entries},
                **{e["file"]: e for e in entries if isinstance(e.get("file"), str)},
            }
            snapshots[folder] = (entries, by_key, read_locations(folder) if folder else {})
        return snapshots[folder]

    def folder(source: str) -> str:
        if source.startswith(MEMORY_SOURCE):
            return ""
        given = source.rpartition(os.sep)[0]
        if given not in folder_of:
            folder_of[given] = os.path.abspath(given or os.curdir)
        return folder_of[given]

    folders_of = {source: folder(source) for source, _ in responses}  # each response's folder

    per_source = (  # pools, active pools and numbers of each location in each response
        pools.assign(
            active=on(pools["is_active"]).astype(int),
            numbers=pools["number_count"],
            source=pools[SOURCE["pools"]],
        )
        .groupby(["location_id", "source"], observed=True, sort=False)
        .agg(pools=("pool_id", "size"), active_pools=("active", "sum"), numbers=("numbers", "sum"))
        .reset_index()
    )
    named = per_source[["location_id", "source"]].astype(object)
    rows = [
        (location_id, source, "ok", None) for location_id, source in named.itertuples(index=False)
    ]
    with_pools = set(named["source"])
    for source, error in responses:
        where = folders_of[source]
        if source in with_pools or not where:
            continue
        entry = snapshot(where)[1].get(os.path.basename(source))  # no pool names it: the manifest
        if entry or not error:  # does, or the file's name (a file that is no response is not one)
            rows.append(
                (
                    entry["location_id"] if entry else Path(source).stem,
                    source,
                    "failed" if error else "ok",
                    error,
                )
            )
    frame = pd.DataFrame(rows, columns=["location_id", "source", "status", "error"], dtype=object)
    order = {source: rank for rank, (source, _) in enumerate(responses)}  # the input's order
    frame = frame.iloc[frame["source"].map(order).argsort(kind="stable")].reset_index(drop=True)
    frame["folder"] = frame["source"].map(folders_of).astype(object)
    seen = set(zip(frame["location_id"], frame["folder"]))
    listed = []
    for where in folders:
        for entry in snapshot(where)[0]:
            file = entry.get("file") if isinstance(entry.get("file"), str) else None
            file = file or f"{entry['location_id']}.json"
            if where in globs and not globs[where].selects(where, file):
                continue  # a location the glob leaves out
            if (entry["location_id"], where) not in seen:
                message = entry.get("message")
                error = "; ".join(map(str, message)) if isinstance(message, list) else message
                error = " ".join(str(part) for part in (entry.get("error"), error) if part) or None
                status = "failed" if entry.get("status") == "failed" else "no_response_file"
                listed.append(
                    (entry["location_id"], os.path.join(where, MANIFEST), status, error, where)
                )
    frame = pd.concat(
        [frame, pd.DataFrame(listed, columns=frame.columns, dtype=object)], ignore_index=True
    )
    frame = frame.drop_duplicates(["location_id", "folder"], ignore_index=True)

    def places_of(where: str) -> Iterator[tuple]:
        entries, by_key, details = snapshot(where)
        for location_id in dict.fromkeys([e["location_id"] for e in entries] + list(details)):
            about = details.get(location_id, {})
            name = about.get("name") or by_key.get(location_id, {}).get("name")
            yield (location_id, where, name, *map(about.get, _PLACE_FIELDS))

    about = [row for where in frame["folder"].unique() for row in places_of(where)]
    places = pd.DataFrame(
        about,
        columns=[
            "location_id",
            "folder",
            "location_name",
            "city",
            "state",
            "country",
            "postal_code",
            "timezone",
        ],
        dtype=object,
    )
    names = places["location_name"]
    places["location_name"] = names.where(names.map(lambda v: isinstance(v, str)), None)
    frame = frame.merge(
        places.drop_duplicates(["location_id", "folder"]), how="left", on=["location_id", "folder"]
    )
    counts = (
        per_source.assign(
            folder=per_source["source"].astype(object).map(folders_of).astype(object)
        )  # object even when there is no pool: the join's key must match the frame's
        .groupby(["location_id", "folder"], observed=True)[list(_COUNTS)]
        .sum()
    )
    frame = frame.join(counts, on=["location_id", "folder"])
    frame["state_code"] = [
        state_code(state, country) for state, country in zip(frame["state"], frame["country"])
    ]
    read = answered(frame)
    for column in _COUNTS:
        frame[column] = frame[column].where(~read, frame[column].fillna(0))
    frame["inventory"] = [
        inventory_status(
            pages.get((location_id, where), {}),
            snapshot(where)[1].get(location_id, {}) if where else {},
        )
        for location_id, where in zip(frame["location_id"], frame["folder"])
    ]
    frame = frame.rename(columns={"source": SOURCE["locations"]})
    return frame[list(SCHEMAS["locations"])].astype(
        {c: dtype_of("locations", c) for c in SCHEMAS["locations"]}
    )


_COUNTS = ("pools", "active_pools", "numbers")


def inventory_status(pages: dict[int, bool], entry: dict) -> str | None:
    """A location's inventory: ``ok`` when every page its manifest counts (else pages 0 to
    the last there) was read; else what the manifest says, or ``incomplete``; None when no
    page is there and the manifest says nothing (its numbers were not asked for)."""
    said = entry.get("inventory")
    if said is not None and said != "ok":
        return str(said)
    if not pages:
        return "incomplete" if said == "ok" else None
    count = entry.get("inventory_pages")
    count = count if isinstance(count, int) and said == "ok" else max(pages) + 1
    complete = all(pages.get(page) for page in range(count))
    return "ok" if complete else "incomplete"


_PLACE_FIELDS = ("city", "state", "country", "postalCode", "timezone")  # columns city to timezone
