"""The rules of the domain, each written once; the audit, the analysis, the history and the
report all call these, and nothing else restates one.

- **Flags**: a flag is on only when it is exactly ``true`` (``on``), off only when exactly
  ``false`` (``off``); anything else (missing, not a boolean) is neither.
- **Locations**: a location *answered* when its pools were read (``answered``); the
  *current state* of tables holding several snapshots is the newest snapshot, and only the
  locations in it (``current``).
- **Routes**: a pool has a *service* when its inbound call service has a type; its
  *forwarding number* is the one it gives, in E.164 or not (a misformed one, which the
  reader sets aside as a problem row, is still a forwarding number); it has a *route* with
  either (``has_route``). An *idle pool* is inactive or has no route (``idle_pools``).
- **Numbers**: a *pool number* is a row of ``numbers`` (``pool_rows`` says whose); pools are
  told apart by location and id, and every pool without an id is a pool of its own
  (``pool_identity``). A *forward target* (forwarding number, ``forward`` service number) is
  read as a number of its location's country (``forward_targets``).
- **Inventory**: a page of active numbers was read when it is an object with a ``numbers``
  list (``is_numbers_page``); a location's inventory was read when it answered and every
  page was (``inventory_read``). A held number *answers nothing* when it is in no pool, has
  no service and no forwarding number (``answers_nothing``); it is *idle* when it answers
  nothing or every pool of its location holding it is idle (``idle_held_numbers``).
- **Money**: whole cents (``cents``), shown as dollars (``dollars``); the published rates
  are ``DEFAULT_RATES``.
"""

from __future__ import annotations

import json
import os
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable

import numpy as np
import pandas as pd

from .phones import to_e164
from .schemas import SOURCE, is_numbers_page
from .snapshot import INVENTORY_PAGE, MANIFEST, ordered
from .tables import PoolTables, file_keys, isin, row_snapshots
from .values import answered, blank, has_service, off, on, shown

__all__ = [
    "DEFAULT_RATES",
    "NONE",
    "RATES_SOURCE",
    "answered",
    "answers_nothing",
    "blank",
    "cents",
    "current",
    "dollars",
    "forward_targets",
    "forwarding_numbers",
    "has_route",
    "has_service",
    "held_numbers",
    "idle_held_numbers",
    "idle_pools",
    "inventory_read",
    "is_numbers_page",
    "location_countries",
    "missing_pool_numbers",
    "off",
    "on",
    "pool_identity",
    "pool_labels",
    "pool_names",
    "pool_rows",
    "pool_shown",
    "pool_title",
    "rate_of",
    "set_aside",
    "shown",
]

POOL_KEY = ["location_id", "pool_id"]
#: The one word for "none" wherever a person reads it: a pool without an inbound call
#: service, a setting's value that was removed.
NONE = "(none)"

# --------------------------------------------------------------------------------- locations


def _snapshot_labels(tables: PoolTables, table: str) -> pd.Series:
    """Each row's snapshot of one of ``tables`` (``tables.row_snapshots``)."""
    frame = getattr(tables, table)
    return pd.Series(row_snapshots(tables, table), index=frame.index, dtype=object)


def _all_snapshot_folders(tables: PoolTables, table: str) -> bool:
    """Every file the rows come from sits in a snapshot folder (one with a manifest): only
    then are its folders snapshots of the same agency, not loose responses in subfolders."""
    sources = getattr(tables, table)[SOURCE[table]].astype(object).dropna().unique()
    folders = {os.path.dirname(os.path.abspath(s)) for s in sources if isinstance(s, str)}
    return bool(folders) and all(os.path.isfile(os.path.join(f, MANIFEST)) for f in folders)


def current(tables: PoolTables) -> PoolTables:
    """The current state of ``tables``: the rows of their newest snapshot only, and so only
    the locations in it (a location gone from the newest snapshot is gone, not kept at an
    older one). A history's ``snapshot`` column is dropped; tables of one snapshot come back
    as they are."""
    anchored = "locations" if len(tables.locations) else "pools"
    anchor = getattr(tables, anchored)
    if not len(anchor):
        return tables
    labels = _snapshot_labels(tables, anchored)
    history = "snapshot" in anchor
    if not history and labels.nunique(dropna=False) <= 1:
        return tables
    if not history and not _all_snapshot_folders(tables, anchored):  # loose responses in folders
        return tables
    column = anchor["snapshot"] if history else None
    if (
        column is not None
        and isinstance(column.dtype, pd.CategoricalDtype)
        and len(column.cat.categories)
    ):
        newest = column.cat.categories[-1]  # the newest snapshot, even one of no location
    else:
        newest = ordered(labels.dropna())[-1]

    def kept(frame: pd.DataFrame, rows: pd.Series) -> pd.DataFrame:
        return frame[(rows == newest).to_numpy()].drop(columns="snapshot", errors="ignore")

    pools = kept(tables.pools, _snapshot_labels(tables, "pools")).reset_index(drop=True)
    if "snapshot" in tables.services:
        services = kept(tables.services, tables.services["snapshot"])
    else:  # services are the pools with a service, in the same order
        services = pools.loc[has_service(pools["service_type"]), list(tables.services.columns)]
    return PoolTables(
        pools=pools,
        numbers=kept(tables.numbers, _snapshot_labels(tables, "numbers")).reset_index(drop=True),
        services=services.reset_index(drop=True),
        problems=kept(tables.problems, _snapshot_labels(tables, "problems")).reset_index(drop=True),
        locations=kept(tables.locations, _snapshot_labels(tables, "locations")).reset_index(
            drop=True
        ),
        phone_numbers=kept(
            tables.phone_numbers, _snapshot_labels(tables, "phone_numbers")
        ).reset_index(drop=True),
    )


def location_countries(tables: PoolTables) -> pd.Series:
    """Location id -> its country code (the last one the tables give), for reading numbers
    written without a ``+`` country code."""
    locations = tables.locations.dropna(subset="location_id")
    known = locations.drop_duplicates("location_id", keep="last")
    return pd.Series(
        known["country"].astype(object).to_numpy(), index=known["location_id"].astype(object)
    )


# ------------------------------------------------------------------------------------- pools


def pool_identity(pools: pd.DataFrame) -> np.ndarray:
    """An integer per pool row that tells pools apart: one per location and pool id, and
    one for every pool without an id (two such pools are two pools)."""
    keys = pools[POOL_KEY].astype(object)
    codes = keys.groupby(POOL_KEY, dropna=False, sort=False).ngroup().to_numpy()
    no_id = keys.isna().any(axis=1).to_numpy()
    codes = codes.astype(np.int64)
    codes[no_id] = len(pools) + np.flatnonzero(no_id)
    return codes


def pool_rows(tables: PoolTables, which: np.ndarray | None = None) -> np.ndarray:
    """For each row of ``numbers`` (those ``which`` marks, when given), the position of its
    pool's row in ``pools`` (-1 where no pool row is known). The reader writes each pool's
    numbers right after the previous pool's, ``number_count`` of them, which is checked on
    the rows asked for; in tables put together otherwise the same holds file by file (so
    that pools without an id keep their numbers), and the numbers of a file where it does
    not are joined by location, pool id and file."""
    keys = [*POOL_KEY, "source"]  # a number's file is its pool's
    pools = tables.pools[POOL_KEY].assign(source=file_keys(tables, "pools").to_numpy())
    numbers = tables.numbers[POOL_KEY].assign(source=file_keys(tables, "numbers").to_numpy())
    picked = np.arange(len(numbers)) if which is None else np.flatnonzero(which)
    counts = tables.pools["number_count"].fillna(0).to_numpy(dtype=np.int64)
    if counts.sum() == len(numbers):
        rows = np.repeat(np.arange(len(pools)), counts)[picked]
        if all(
            pools[key]
            .take(rows)
            .reset_index(drop=True)
            .equals(numbers[key].take(picked).reset_index(drop=True))
            for key in keys
        ):
            return rows
    wanted = set(numbers["source"].take(picked).dropna())  # the files of the rows asked for
    rows = _rows_file_by_file(pools, numbers, counts, wanted)
    unknown = picked[rows[picked] < 0]  # only the rows asked for are joined
    first = pools.astype(object).assign(row=np.arange(len(pools)))
    first = first.dropna(subset="pool_id").drop_duplicates(keys)
    joined = numbers.take(unknown).astype(object).merge(first, how="left", on=keys)
    rows[unknown] = joined["row"].fillna(-1).to_numpy(dtype=np.int64)
    return rows[picked]


def _rows_file_by_file(
    pools: pd.DataFrame, numbers: pd.DataFrame, counts: np.ndarray, wanted: set
) -> np.ndarray:
    """``pool_rows`` for the numbers of each ``wanted`` file whose pools count them (in
    order, with the same ids); -1 for the others."""
    rows = np.full(len(numbers), -1, dtype=np.int64)

    def plain(frame: pd.DataFrame) -> np.ndarray:  # NA as None, so that keys compare equal
        keys = frame[POOL_KEY].astype(object)
        return keys.where(keys.notna(), None).to_numpy()

    pool_keys, number_keys = plain(pools), plain(numbers)
    by_file = pools.groupby("source", sort=False).indices
    for file, at in numbers.groupby("source", sort=False).indices.items():
        mine = by_file.get(file)
        if file not in wanted or mine is None or counts[mine].sum() != len(at):
            continue
        candidate = np.repeat(mine, counts[mine])
        if (pool_keys[candidate] == number_keys[at]).all():
            rows[at] = candidate
    return rows


def pool_shown(pools: pd.DataFrame) -> pd.Series:
    """The name to show of each pool: its name, its id where the name is blank; NA where it
    has neither."""
    return shown(pools["pool_name"], pools["pool_id"])


def pool_title(pools: pd.DataFrame, *, start: bool = False) -> pd.Series:
    """How a pool is named in a sentence: ``'Its name'`` (``pool_shown``, in quotes), "a
    pool without an id" where it has neither name nor id (``A pool...`` at a sentence's
    ``start``)."""
    title = "'" + pool_shown(pools) + "'"
    return title.fillna("A pool without an id" if start else "a pool without an id")


def pool_labels(tables: PoolTables, rows: np.ndarray, names: dict) -> pd.Series:
    """``'Pool name' (Location)`` for pool rows ``rows`` (-1: unknown), titled by
    ``pool_title``; ``names`` maps location ids to the names to show."""
    rows = np.asarray(rows, dtype=np.int64)
    known = rows >= 0
    pools = tables.pools.take(rows[known])
    place = pools["location_id"].astype(object).map(lambda loc: names.get(loc, loc))
    place = place.where(pools["location_id"].notna(), "an unknown location")
    out = np.full(len(rows), "a pool not in the data", dtype=object)
    out[known] = (pool_title(pools) + " (" + place.astype("string") + ")").to_numpy()
    return pd.Series(out, dtype="string")


def pool_names(pools: pd.DataFrame, keys: pd.DataFrame) -> pd.Series:
    """The name to show (``pool_shown``) of the pool of each row of ``keys`` (its
    ``location_id`` and ``pool_id``): the first pool of ``pools`` with those ids; NA where
    no pool has them."""
    found = keys[POOL_KEY].astype("string")
    pools = pools[isin(pools["pool_id"], found["pool_id"].dropna())]  # only those asked of
    pools = pools.dropna(subset="pool_id").drop_duplicates(POOL_KEY)
    shown = pools[POOL_KEY].astype("string").assign(shown=pool_shown(pools))
    names = found.merge(shown, how="left", on=POOL_KEY)
    return pd.Series(names["shown"].to_numpy(), index=keys.index, dtype="string")


_AT = re.compile(r"^(?P<list>[^\[\]]*)\[(?P<at>\d+)\]\.(?P<field>.+)$")
_ENTRY = re.compile(r"^[^\[\]]*\[(?P<at>\d+)\]$")
_PHONE_FIELD = re.compile(r"^numbers\[\d+\]\.phoneNumber$")


def set_aside(tables: PoolTables) -> pd.DataFrame:
    """The phone numbers of the pool responses that the reader set aside as not E.164 (as
    problem rows), with the pool's row: ``pool_row``, ``location_id``, ``pool_id``, ``field``
    (``forwarding number`` or ``pool number``) and ``text`` as the response gave it. Only
    non-blank text; pages of active numbers are not pool responses."""
    problems = tables.problems
    columns = ["pool_row", "location_id", "pool_id", "field", "text"]
    paths = problems["path"].astype(object).fillna("")
    maybe = paths.str.endswith((".forwardingNumber", ".phoneNumber")).to_numpy(bool)
    if not maybe.any():
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    positions: dict[Any, np.ndarray] = {}
    pool_sources = file_keys(tables, "pools")
    problem_files = file_keys(tables, "problems")
    skipped = _skipped_entries(problems, problem_files)
    rows = []
    for problem, source in zip(
        problems[maybe].itertuples(index=False), problem_files[maybe].tolist()
    ):
        if not isinstance(source, str) or INVENTORY_PAGE.fullmatch(os.path.basename(source)):
            continue
        found = _AT.match(problem.path)
        text = _json_text(problem.value)
        if found is None or text is None:
            continue
        field = found["field"]
        if field == "forwardingNumber":
            kind = "forwarding number"
        elif _PHONE_FIELD.match(field):
            kind = "pool number"
        else:
            continue
        if source not in positions:
            positions[source] = np.flatnonzero((pool_sources == source).to_numpy())
        at = int(found["at"])
        ordinal = at - sum(1 for gone in skipped.get(source, ()) if gone < at)
        mine = positions[source]
        row = int(mine[ordinal]) if 0 <= ordinal < len(mine) else -1
        rows.append((row, problem.location_id, problem.pool_id, kind, text))
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    frame["pool_row"] = frame["pool_row"].astype(np.int64)
    return frame


def _skipped_entries(problems: pd.DataFrame, files: pd.Series) -> dict[str, list[int]]:
    """Per file (``files``: each problem's), the indices of pool entries that were not
    objects (no pool row)."""
    gone = (
        problems["problem"].astype(object).fillna("").str.startswith("pool entry is a").to_numpy()
    )
    out: dict[str, list[int]] = {}
    for source, path in zip(files[gone], problems["path"][gone]):
        found = _ENTRY.match(path) if isinstance(path, str) else None
        if found:
            out.setdefault(source, []).append(int(found["at"]))
    return out


def _json_text(value: object) -> str | None:
    """The non-blank string a problem row's JSON ``value`` holds; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        text = json.loads(value)
    except ValueError:
        return None
    return text if isinstance(text, str) and text.strip() else None


def forwarding_numbers(tables: PoolTables, aside: pd.DataFrame | None = None) -> pd.Series:
    """Each pool's forwarding number as it gives it: the E.164 one of the table, else the
    misformed text the reader set aside; NA where it has none (blank)."""
    pools = tables.pools
    given = pools["forwarding_number"].astype(object).to_numpy(copy=True)
    given[blank(pools["forwarding_number"]).to_numpy()] = None
    aside = set_aside(tables) if aside is None else aside
    misformed = aside[(aside["field"] == "forwarding number") & (aside["pool_row"] >= 0)]
    given[misformed["pool_row"].to_numpy(dtype=np.int64)] = misformed["text"].to_numpy()
    return pd.Series(given, index=pools.index, dtype="string")


def has_route(tables: PoolTables, aside: pd.DataFrame | None = None) -> pd.Series:
    """Pools whose calls go somewhere: an inbound call service, or a forwarding number."""
    return has_service(tables.pools["service_type"]) | forwarding_numbers(tables, aside).notna()


def idle_pools(tables: PoolTables, aside: pd.DataFrame | None = None) -> pd.Series:
    """Pools whose numbers are paid for and unused: inactive, or without a route."""
    return off(tables.pools["is_active"]) | ~has_route(tables, aside)


def forward_targets(tables: PoolTables, aside: pd.DataFrame | None = None) -> pd.DataFrame:
    """Where each pool sends its calls on: ``pool_row``, ``location_id``, ``pool_id``,
    ``field`` (``forwarding number`` or ``forward service number``), ``target`` as given and
    ``number``, the target read as a number of the location's country (NA where it does not
    read as a number)."""
    pools = tables.pools
    forwarding = forwarding_numbers(tables, aside)
    forwards = (pools["service_type"].astype(object) == "forward").to_numpy() & ~blank(
        pools["service_value"]
    ).to_numpy()
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "pool_row": np.arange(len(pools)),
                    "field": "forwarding number",
                    "target": forwarding.to_numpy(),
                }
            ),
            pd.DataFrame(
                {
                    "pool_row": np.flatnonzero(forwards),
                    "field": "forward service number",
                    "target": pools["service_value"].to_numpy()[forwards],
                }
            ),
        ],
        ignore_index=True,
    )
    frame = frame[frame["target"].notna().to_numpy()].reset_index(drop=True)
    rows = frame["pool_row"].to_numpy(dtype=np.int64)
    frame["location_id"] = pools["location_id"].to_numpy()[rows]
    frame["pool_id"] = pools["pool_id"].to_numpy()[rows]
    frame["target"] = frame["target"].astype("string")
    country = pd.Series(frame["location_id"]).map(location_countries(tables))
    frame["number"] = to_e164(frame["target"], country)
    return frame[["pool_row", "location_id", "pool_id", "field", "target", "number"]]


# --------------------------------------------------------------------------------- inventory


def inventory_read(tables: PoolTables) -> pd.Index:
    """The locations whose pools and every page of active numbers were read
    (``locations.inventory`` is ``ok``): the only ones whose numbers are set against their
    pools."""
    locations = tables.locations
    read = answered(locations) & (locations["inventory"].astype(object) == "ok").to_numpy()
    return pd.Index(locations.loc[read, "location_id"].dropna().unique(), dtype=object)


def held_numbers(tables: PoolTables) -> pd.DataFrame:
    """The ``phone_numbers`` of the locations whose inventory was read."""
    phones = tables.phone_numbers
    return phones[phones["location_id"].isin(inventory_read(tables)).to_numpy()]


def answers_nothing(phones: pd.DataFrame) -> pd.Series:
    """Held numbers in no pool with neither an inbound call service nor a forwarding number."""
    return (
        ~on(phones["in_pool"])
        & ~has_service(phones["number_service_type"])
        & blank(phones["number_forwarding_number"])
    )


def _pool_numbers(tables: PoolTables) -> pd.DataFrame:
    """Pool numbers with their pool's row: ``location_id``, ``pool_id``, ``pool_row``,
    ``phone_number`` (rows whose number was set aside left out)."""
    numbers = tables.numbers
    frame = pd.DataFrame(
        {
            "location_id": numbers["location_id"].to_numpy(),
            "pool_id": numbers["pool_id"].to_numpy(),
            "pool_row": pool_rows(tables),
            "phone_number": numbers["phone_number"].to_numpy(),
        }
    )
    return frame[frame["phone_number"].notna().to_numpy()]


def idle_held_numbers(tables: PoolTables, phones: pd.DataFrame) -> pd.Series:
    """Held numbers (rows of ``phones``) that are idle: they answer nothing, or every pool of
    their location holding them is an idle pool."""
    numbers = _pool_numbers(tables)
    numbers = numbers[numbers["pool_row"] >= 0]
    idle = idle_pools(tables).to_numpy()[numbers["pool_row"].to_numpy(dtype=np.int64)]
    all_idle = (
        numbers.assign(idle=idle)
        .astype({"location_id": object, "phone_number": object})
        .groupby(["location_id", "phone_number"])["idle"]
        .all()
    )
    keys = pd.MultiIndex.from_frame(phones[["location_id", "phone_number"]].astype(object))
    in_idle_pools = all_idle.reindex(keys).fillna(False).to_numpy(bool) & on(phones["in_pool"])
    return pd.Series(in_idle_pools | answers_nothing(phones).to_numpy(), index=phones.index)


def missing_pool_numbers(tables: PoolTables) -> pd.DataFrame:
    """The pool numbers a location's inventory does not hold, of the locations whose
    inventory was read: ``location_id``, ``pool_id``, ``pool_row``, ``phone_number``, once
    per pool and number."""
    read = inventory_read(tables)
    if not len(read):  # no inventory to hold the pool numbers against: nothing is missing
        return pd.DataFrame(
            {c: pd.Series([], dtype=object) for c in ("location_id", "pool_id", "phone_number")}
        ).assign(pool_row=pd.Series([], dtype=np.int64))[
            ["location_id", "pool_id", "pool_row", "phone_number"]
        ]
    numbers = _pool_numbers(tables)
    numbers = numbers[numbers["location_id"].isin(read).to_numpy()]
    held = held_numbers(tables)[["location_id", "phone_number"]].dropna().astype(object)
    held = pd.MultiIndex.from_frame(held.drop_duplicates())
    keys = pd.MultiIndex.from_frame(numbers[["location_id", "phone_number"]].astype(object))
    missing = numbers[~keys.isin(held)]
    rows = missing["pool_row"].to_numpy(dtype=np.int64)
    identity = np.append(pool_identity(tables.pools), -1)  # -1: a pool not in the data
    missing = missing.assign(pool=identity[rows], known=rows >= 0).drop_duplicates(
        ["known", "pool", *POOL_KEY, "phone_number"]
    )
    return missing.drop(columns=["pool", "known"]).reset_index(drop=True)


# ------------------------------------------------------------------------------------- money

#: LC Phone's published monthly prices, USD: a US or Canadian local number $1.15, a toll-free
#: number $2.15 (HighLevel help centre, "LC Phone pricing", read 2026-11). Prices change and
#: agencies re-bill: ``monthly_cost(rates=...)`` overrides them.
DEFAULT_RATES = {
    ("US", "local"): Decimal("1.15"),
    ("CA", "local"): Decimal("1.15"),
    ("US", "toll-free"): Decimal("2.15"),
    ("CA", "toll-free"): Decimal("2.15"),
}
RATES_SOURCE = "HighLevel help centre, 'LC Phone pricing' (read 2026-11), USD a month"


def cents(dollars: object) -> int:
    """A price in dollars (int, float, str or Decimal) as whole cents, rounded half up:
    ``1.15`` -> ``115`` (through its decimal text, so that no binary fraction creeps in)."""
    try:
        amount = Decimal(str(dollars))
    except InvalidOperation:
        raise ValueError(f"{dollars!r} is not an amount of dollars") from None
    if not amount.is_finite():
        raise ValueError(f"{dollars!r} is not an amount of dollars")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def dollars(amount_cents: object) -> str:
    """Whole cents shown as dollars: ``190945`` -> ``$1,909.45``."""
    whole, part = divmod(abs(int(amount_cents)), 100)
    sign = "-" if int(amount_cents) < 0 else ""
    return f"{sign}${whole:,}.{part:02d}"


def rate_of(rates: dict | None = None) -> Callable[[object, object], int | None]:
    """A number's monthly rate in cents by its country and type: ``rates`` (in dollars) keyed
    by ``(country, type)``, then by type alone, then ``DEFAULT_RATES``; None where none is
    known or ``rates`` gives None (the number is unpriced, never guessed)."""
    rates = rates or {}
    table = {key: None if value is None else cents(value) for key, value in rates.items()}
    default = {key: cents(value) for key, value in DEFAULT_RATES.items()}

    def rate(country: object, kind: object) -> int | None:
        for prices, key in ((table, (country, kind)), (table, kind), (default, (country, kind))):
            if key in prices:
                return prices[key]
        return None

    return rate
