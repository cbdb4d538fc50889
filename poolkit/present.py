"""How values read to a person: money as ``$1,909.45``, days as ``2 Nov 2026`` (UTC),
flags as Yes/No, headers in words, an old or new value that is not there as "(none)", counts with
thousands separators and shares as whole percentages: never float noise."""

from __future__ import annotations

import html

import pandas as pd

from .errors import PoolkitError
from .model import NONE, dollars
from .snapshot import SNAPSHOT_NAME, time_in_name

__all__ = [
    "NONE",
    "SEVERITY_NOUNS",
    "counted",
    "day",
    "html_table",
    "is_share",
    "moment",
    "plural",
    "readable",
    "reason",
    "severities",
    "snapshots_shown",
    "timestamp",
    "words",
]

_HEADERS = {  # where the words are not the column's own
    "location_name": "Location",
    "pool_name": "Pool",
    "phone_number": "Number",
    "location_id": "Location id",
    "pool_id": "Pool id",
    "number_count": "Numbers",
    "in_pools": "In pools",
    "not_in_pool": "In no pool",
    "pool_numbers_missing": "Pool numbers missing",
    "monthly_cost_cents": "Monthly cost",
    "idle_cost_cents": "Idle cost",
    "active_pools": "Active pools",
    "active_share": "Share of pools active",
    "locations_using": "Locations using it",
}


def words(column: str) -> str:
    """A column's name as a header: ``idle_cost_cents`` -> ``Idle cost``."""
    if column in _HEADERS:
        return _HEADERS[column]
    text = column.removesuffix("_cents").replace("_", " ")
    return text[:1].upper() + text[1:]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 location``, ``3 locations``, ``1,200 numbers``."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


#: What a severity is called in a sentence: an ``info`` finding is a note.
SEVERITY_NOUNS = {"error": "error", "warning": "warning", "info": "note"}


def severities(counts: dict, which: tuple[str, ...] = ("error", "warning", "info")) -> str:
    """``17 errors, 42 warnings, 47 notes`` of ``{severity: count}``."""
    return ", ".join(plural(int(counts.get(s, 0)), SEVERITY_NOUNS[s]) for s in which)


def counted(key: str, count: int, noun: str, nouns: str | None = None) -> str:
    """``plural`` as HTML marked with what it counts (``data-count``), so that two pages
    (masked and plain) can be compared count by count."""
    return f'<span data-count="{html.escape(key)}">{html.escape(plural(count, noun, nouns))}</span>'


#: The API's answers as a person says them: each error's ``said`` (``ForbiddenError`` ->
#: "access refused"), and a fetch's own words.
def _errors(kind: type) -> list[type]:
    return [kind] + [error for sub in kind.__subclasses__() for error in _errors(sub)]


_REASONS = {
    error.__name__: error.said for error in _errors(PoolkitError) if "said" in vars(error)
} | {"incomplete": "some pages missing"}


def reason(text: object) -> str:
    """Why something was not read, in words: ``unavailable: ForbiddenError`` -> ``access
    refused``; None -> ``not asked for``."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return "not asked for"
    for name, said in _REASONS.items():
        if name in str(text):
            return said
    return str(text).removeprefix("unavailable: ")


def timestamp(value: object) -> pd.Timestamp | None:
    """A date, timestamp or snapshot label (``2026-10-26T150000Z``) as a UTC timestamp; None
    for anything else."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str) and SNAPSHOT_NAME.fullmatch(value):  # a snapshot's own label
        return pd.Timestamp(time_in_name(value))
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def day(value: object) -> str:
    """A date or timestamp as ``2 Nov 2026`` (in UTC); a snapshot's label
    (``2026-10-26T150000Z``) too; text that is no date as it is."""
    stamp = timestamp(value)
    return f"{stamp.day} {stamp:%b %Y}" if stamp is not None else str(value)


def moment(value: object) -> str:
    """A timestamp as ``2 Nov 2026, 15:00 UTC``."""
    stamp = timestamp(value)
    return f"{day(stamp)}, {stamp:%H:%M} UTC" if stamp is not None else str(value)


#: Columns where a missing value means something and reads "(none)" (``model.NONE``): a
#: setting's old or new value.
_NONE_SAID = ("old", "new")


def is_share(column: str) -> bool:
    """Whether a column holds shares from 0 to 1, by the analyses' naming: ``share``,
    ``share_whisper``, ``active_share``. Shown as whole percentages."""
    return column == "share" or column.startswith("share_") or column.endswith("_share")


def _cell(value: object, column: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return NONE if column in _NONE_SAID else ""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "Yes" if value else "No"
    if column.endswith("_cents"):
        return dollars(value)
    if isinstance(value, pd.Timestamp):
        return day(value)
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value)
    if column in ("old", "new") and text in ("True", "False"):
        return "Yes" if text == "True" else "No"
    return text


def snapshots_shown(labels, *, short: bool = False) -> list[str]:
    """Snapshot labels (``2026-10-26T150000Z``) as days, ``26 Oct 2026`` (``short``: ``26
    Oct``, for a chart's ticks), with the time (``26 Oct 2026, 15:00 UTC``; ``15:00`` under the day)
    where two of them share a day; text that is no date as it is."""
    stamps = [timestamp(label) for label in labels]
    days = []
    for t, v in zip(stamps, labels):
        if t is None:
            days.append("" if pd.isna(v) else str(v))
        else:
            days.append(f"{t.day} {t:%b}" if short else day(t))
    distinct = {label for label, t in zip(labels, stamps) if t is not None}
    if len({d for d, t in zip(days, stamps) if t is not None}) == len(distinct):
        return days
    with_time = "{}\n{:%H:%M}" if short else "{}, {:%H:%M} UTC"
    return [with_time.format(d, t) if t is not None else d for d, t in zip(days, stamps)]


def readable(frame: pd.DataFrame, percent: tuple[str, ...] = ()) -> pd.DataFrame:
    """``frame`` as text a person reads: each value formatted (see the module), shares
    (``is_share``, ``frame.attrs["shares"]``) and the columns of ``percent`` as whole
    percentages, snapshot labels as days (values and headers alike), and the headers in
    words. An old or new value reads "(none)" only on a row that names the setting (its
    ``field``): elsewhere there is no old or new value to miss."""
    setting = frame["field"].notna().to_numpy() if "field" in frame else None
    shares = {*percent, *frame.attrs.get("shares", ())}
    labels = [c for c in frame.columns if isinstance(c, str) and SNAPSHOT_NAME.fullmatch(c)]
    headers = dict(zip(labels, snapshots_shown(pd.Series(labels, dtype=object))))
    out = {}
    for column in frame.columns:
        values = frame[column].astype(object)
        header = headers.get(column) or words(str(column))
        if column in shares or is_share(str(column)):
            out[header] = ["" if v is None or pd.isna(v) else f"{float(v):.0%}" for v in values]
        elif column == "snapshot":
            out[header] = snapshots_shown(values)
        elif column in ("old", "new") and setting is not None:
            out[header] = [
                _cell(v, column) if named or not pd.isna(v) else ""
                for v, named in zip(values, setting)
            ]
        else:
            out[header] = [_cell(v, column) for v in values]
    return pd.DataFrame(out, index=frame.index, dtype=object)


def html_table(
    frame: pd.DataFrame,
    *,
    rows: int | None = None,
    percent: tuple[str, ...] = (),
    empty: str = "Nothing to show.",
    rest: str = "",
    table_id: str | None = None,
) -> str:
    """``frame`` as a readable HTML table (``present.readable``): the first ``rows`` rows, a
    line saying how many there are and where the ``rest`` are; a sentence instead of an
    empty table."""
    if frame.empty:
        return f"<p><i>{html.escape(empty)}</i></p>"
    shown = frame if rows is None else frame.head(rows)
    text = readable(shown, percent).to_html(
        index=False, classes="poolkit-table", border=0, table_id=table_id
    )
    if rows is not None and len(frame) > rows:
        text += f"<p><i>{rows:,} of {len(frame):,} rows shown{rest}.</i></p>"
    return text
