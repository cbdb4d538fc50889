"""What the notebooks call, so that they hold narrative and parameters, not logic: loading
the data a notebook is pointed at (``resolve_data``, ``load`` and ``load_history`` come from
``poolkit.loaders``), and showing tables, charts and headline cards."""

from __future__ import annotations

import html
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .dataset import dataset_snapshots, read_marker, snapshot_records_of
from .findings import audit
from .history import changes, snapshots_of, trend
from .holdings import inventory, inventory_coverage, monthly_cost
from .loaders import load, load_history, resolve_data, resolve_out
from .loaders import require_answers as answers_required
from .masking import masked_frame
from .model import current, dollars
from .phones import enrich_numbers
from .present import html_table
from .schemas import is_dataset
from .snapshot import MANIFEST, read_manifest
from .tables import PoolTables
from .tidy import snapshot_folders

__all__ = [  # load, load_history, resolve_data and resolve_out: poolkit.loaders
    "ReportData",
    "cost_sentence",
    "figure_html",
    "load",
    "load_history",
    "load_report",
    "resolve_data",
    "resolve_out",
    "source_info",
    "table",
]


@dataclass
class ReportData:
    """What the report shows: the tables, their audit findings, the history and what changed
    since the previous snapshot, and the inventory and its monthly cost, all on the real
    numbers. With ``masked``, ``shown`` masks what is displayed, and only that: every count
    is made on the numbers themselves, so two numbers that mask alike stay two."""

    tables: PoolTables
    findings: pd.DataFrame
    history: PoolTables | None
    held: pd.DataFrame
    cost: pd.DataFrame
    coverage: dict  # what held and cost cover: analysis.inventory_coverage
    changes: pd.DataFrame | None = None  # since the previous snapshot; None: one snapshot
    changes_since: str | None = None  # the previous snapshot's label
    trend: pd.DataFrame | None = None  # over every snapshot; None: one snapshot
    masked: bool = False  # phone numbers masked where shown

    def shown(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A table as it may be displayed: its phone numbers masked when the report is.

        Parameters
        ----------
        frame : pandas.DataFrame
            Any table with a ``phone_number`` column (or none).

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> report = poolkit.notebook.load_report(poolkit.sample_path(), mask_numbers=True)
        >>> report.shown(report.tables.numbers)["phone_number"].iloc[0]
        '+1 813 ***-**80'
        """
        return masked_frame(frame) if self.masked else frame


def load_report(
    data: str | os.PathLike,
    *,
    enrich: bool = False,
    mask_numbers: bool = False,
    require_answers: bool = False,
) -> ReportData:
    """Everything the report shows, read once.

    The tables (the newest snapshot), their audit findings, the history and what changed since
    the previous snapshot, the inventory, its monthly cost and what they cover.

    Parameters
    ----------
    data : str or os.PathLike
        A snapshot, a folder of snapshots or a dataset.
    enrich : bool, default False
        Add each number's region, type and area.
    mask_numbers : bool, default False
        Mask the phone numbers where they are shown (``ReportData.shown``); every count is
        made on the numbers themselves.
    require_answers : bool, default False
        Raise ``poolkit.errors.NoDataError`` where no location answered.

    Returns
    -------
    ReportData

    Examples
    --------
    >>> report = poolkit.notebook.load_report(poolkit.sample_path())
    >>> len(report.findings), report.changes_since
    (106, '2026-10-26T150000Z')
    """
    history = load_history(data)
    labels = snapshots_of(history) if history is not None else []
    if labels:
        tables = current(history)
        if enrich:
            tables.numbers = enrich_numbers(tables.numbers)
    else:
        tables = load(data, enrich=enrich)
    if require_answers:
        answers_required(tables, data)
    found, held, cost = audit(tables), inventory(tables), monthly_cost(tables)
    since = changes(history) if len(labels) >= 2 else None
    over_time = trend(history) if len(labels) >= 2 else None
    previous = labels[-2] if len(labels) >= 2 else None
    coverage = inventory_coverage(tables)
    return ReportData(
        tables, found, history, held, cost, coverage, since, previous, over_time, mask_numbers
    )


def _manifests(data: str | os.PathLike) -> list[dict]:
    """Manifests of the snapshot(s) ``data`` points at (a snapshot, a file in one, or a folder
    of snapshots), oldest first."""
    path = Path(data)
    folder = path if path.is_dir() else path.parent
    folders = (
        [folder]
        if (folder / MANIFEST).is_file()
        else [Path(f) for f in snapshot_folders(folder) if (Path(f) / MANIFEST).is_file()]
    )
    return [m for m in map(read_manifest, folders) if m is not None]


def source_info(data: str | os.PathLike) -> dict[str, Any]:
    """Where the data came from: its path and, from the newest manifest, its snapshot.

    Parameters
    ----------
    data : str or os.PathLike
        A snapshot, a folder of snapshots or a dataset.

    Returns
    -------
    dict
        ``source`` and, where a manifest or the dataset says, ``snapshots`` (how many),
        ``snapshot``, ``taken_at``, ``api_version`` and ``base_url``.

    Examples
    --------
    >>> info = poolkit.notebook.source_info(poolkit.sample_path())
    >>> info["snapshot"], info["api_version"]
    ('2026-11-02T150000Z', '2021-07-28')
    """
    info: dict[str, Any] = {"source": str(data)}
    if is_dataset(data):  # the marker says which weeks it holds and when each was taken
        held = dataset_snapshots(data)
        if held:
            taken = snapshot_records_of(read_marker(data)).get(held[-1], {}).get("taken_at")
            info.update({"snapshots": len(held), "snapshot": held[-1], "taken_at": taken})
        return info
    manifests = _manifests(data)
    if manifests:
        latest = manifests[-1]
        info.update(
            {
                "snapshots": len(manifests),
                "snapshot": latest.get("snapshot"),
                "taken_at": latest.get("taken_at"),
                "api_version": latest.get("api_version"),
                "base_url": latest.get("base_url"),
            }
        )
    return info


def table(
    frame: pd.DataFrame,
    *,
    empty: str = "Nothing to show.",
    percent: tuple[str, ...] = (),
    rows: int = 20,
    names: dict[str, str] | None = None,
):
    """Show a table as a person reads it: the one way the notebooks and the report show tables.

    Sentences whole (never cut at 50 characters), shares as whole percentages, counts as
    integers with separators, money as dollars (``*_cents`` columns), days as ``2 Nov 2026``,
    flags as Yes/No, a missing service or setting as "(none)", headers in words
    (``poolkit.present``); at most ``rows`` rows, with how many there are; a sentence instead of
    an empty table.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table of poolkit's (or of yours: its columns are formatted by their names).
    empty : str, default "Nothing to show."
        What an empty table says.
    percent : tuple of str, optional
        Columns to show as percentages besides the shares (``share``, ``share_*``,
        ``*_share``).
    rows : int, default 20
        The most rows shown.
    names : dict of str to str, optional
        Location id to name (``analysis.location_names``): a ``location`` column is put beside
        ``location_id`` where the frame has none.

    Returns
    -------
    IPython.display.HTML
        Shown by JupyterLab as a table.

    Examples
    --------
    >>> mix = poolkit.analysis.service_mix(poolkit.load_sample())
    >>> shown = poolkit.notebook.table(mix)
    >>> "<td>36%</td>" in shown.data and "0.355" not in shown.data
    True
    """
    from IPython.display import HTML

    if names and "location_id" in frame and "location" not in frame:
        at = list(frame.columns).index("location_id")
        frame = frame.copy()
        frame.insert(at + 1, "location", frame["location_id"].map(names))
    # text reads from the left, numbers from the right (JupyterLab puts every cell right)
    name = f"poolkit-table-{uuid.uuid4().hex[:8]}"
    text = [k + 1 for k, c in enumerate(frame.columns) if not _is_number(frame[c])]
    left = ", ".join(f"#{name} td:nth-child({k}), #{name} th:nth-child({k})" for k in text)
    style = f"<style>{left} {{ text-align: left; }}</style>" if text else ""
    return HTML(style + html_table(frame, rows=rows, percent=percent, empty=empty, table_id=name))


def _is_number(column: pd.Series) -> bool:
    """Whether a column holds numbers (shown right-aligned), flags and text not."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def cost_sentence(held: pd.DataFrame, cost: pd.DataFrame) -> str:
    """What the numbers cost a month, in a sentence, counting the locations as a chart of
    the cost does: those holding numbers, and apart those whose numbers were read but hold
    none.

    Parameters
    ----------
    held : pandas.DataFrame
        What ``analysis.inventory`` returns.
    cost : pandas.DataFrame
        What ``analysis.monthly_cost`` returns.

    Returns
    -------
    str

    Examples
    --------
    >>> tables = poolkit.load_sample()
    >>> held, cost = poolkit.inventory(tables), poolkit.monthly_cost(tables)
    >>> said = poolkit.notebook.cost_sentence(held, cost)
    >>> said.split(";")[0]
    '$1,909.45 a month, $463.45 of it idle, for 1,563 numbers held by 40 locations'
    """
    holding = held[held["numbers"] > 0]
    return (
        f"{dollars(int(cost['monthly_cost_cents'].sum()))} a month, "
        f"{dollars(int(cost['idle_cost_cents'].sum()))} of it idle, for "
        f"{int(holding['numbers'].sum()):,} numbers held by {len(holding):,} locations; "
        f"{len(held):,} locations had their numbers read, {len(held) - len(holding):,} of "
        "them hold none."
    )


def figure_html(ax, alt: str | None = None, dpi: int = 100) -> str:
    """A chart as an HTML image (a PNG inside the page), its alt text its titles.

    The report draws on ``matplotlib.figure.Figure``s of its own, not pyplot's: no window,
    and nothing left open in a notebook.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Any Axes of the figure.
    alt : str, optional
        The alt text; default: the titles of the figure's Axes.
    dpi : int, default 100
        The picture's resolution.

    Returns
    -------
    str
        An ``<img>`` element with the PNG inside.

    Examples
    --------
    >>> ax = poolkit.plots.plot_number_kinds(poolkit.load_sample())
    >>> poolkit.notebook.figure_html(ax).startswith('<img src="data:image/png;base64,')
    True
    """
    import base64
    from io import BytesIO

    figure = ax.figure
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    alt = alt or "; ".join(a.get_title() for a in figure.axes if a.get_title()) or "Chart"
    picture = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{picture}" alt="{html.escape(alt)}"/>'
