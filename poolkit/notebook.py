"""What the notebooks call, so that they hold narrative and parameters, not logic: loading
the data a notebook is pointed at (``resolve_data``, ``load`` and ``load_history`` come from
``poolkit.loaders``), and showing tables, charts and headline cards."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .analysis import adoption_by, headline, inventory, monthly_cost, pandas_tables
from .findings import audit, findings_summary
from .history import changes, snapshots_of, trend
from .loaders import load, load_history, resolve_data
from .masking import masked, masked_changes, masked_findings
from .model import RATES_SOURCE, dollars
from .plots import plot_adoption_trend, plot_findings, plot_locations_by_region, plot_trend
from .snapshot import MANIFEST, read_manifest
from .tables import PoolTables

__all__ = [  # load, load_history and resolve_data: poolkit.loaders, for the notebooks
    "ReportData",
    "findings_section",
    "header",
    "history_section",
    "inventory_section",
    "load",
    "load_history",
    "load_report",
    "regions",
    "resolve_data",
    "show",
    "source_info",
    "table",
]


@dataclass
class ReportData:
    """What the report shows: the tables (masked when asked), their audit findings, the
    history, and the inventory and its monthly cost. Everything is computed on the real
    numbers; masking comes last, so that two numbers that mask alike change no count."""

    tables: PoolTables
    findings: pd.DataFrame
    history: PoolTables | None
    held: pd.DataFrame
    cost: pd.DataFrame


def load_report(
    data: str | os.PathLike, *, enrich: bool = False, mask_numbers: bool = False
) -> ReportData:
    """What the report shows (``ReportData``): ``load``'s tables, their audit findings,
    ``load_history``, ``analysis.inventory`` and ``analysis.monthly_cost``; with
    ``mask_numbers`` the tables and findings masked after they were counted (the history is
    masked where the report shows it)."""
    tables = load(data, enrich=enrich)
    found, held, cost = audit(tables), inventory(tables), monthly_cost(tables)
    history = load_history(data)
    if mask_numbers:
        tables, found = masked(tables), masked_findings(found)
    return ReportData(tables, found, history, held, cost)


def _manifests(data: str | os.PathLike) -> list[dict]:
    """Manifests of the snapshot(s) ``data`` points at (a snapshot, a file in one, or a folder
    of snapshots), oldest first."""
    path = Path(data)
    folder = path if path.is_dir() else path.parent
    folders = (
        [folder]
        if (folder / MANIFEST).is_file()
        else sorted(p.parent for p in folder.glob(f"*/{MANIFEST}"))
    )
    return [m for m in map(read_manifest, folders) if m is not None]


def source_info(data: str | os.PathLike) -> dict[str, Any]:
    """Where the data came from: the path and, from the newest manifest, snapshot time,
    API version and base URL (how many locations failed is in the tables: see ``header``)."""
    info: dict[str, Any] = {"source": str(data)}
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


def header(data: str | os.PathLike, tables: PoolTables, findings: pd.DataFrame | None = None):
    """The report's first block: headline numbers as cards (with the findings when given),
    and where the data came from."""
    from IPython.display import HTML

    counts = headline(tables)
    labels = {
        "locations": "Locations",
        "pools": "Pools",
        "numbers": "Numbers",
        "pools_with_service": "Pools with a service",
        "problems": "Problems",
    }
    cards = "".join(
        f'<div class="poolkit-card"><div class="value">{counts[k]:,}</div>'
        f'<div class="label">{html.escape(v)}</div></div>'
        for k, v in labels.items()
    )
    if findings is not None:
        errors = int((findings["severity"] == "error").sum())
        label = f"Findings ({errors:,} error{'' if errors == 1 else 's'})"
        cards += (
            f'<div class="poolkit-card"><div class="value">{len(findings):,}</div>'
            f'<div class="label">{label}</div></div>'
        )
    info = source_info(data)
    sentence = (
        f"{counts['locations']:,} locations: {counts['locations_with_pools']:,} with pools, "
        f"{counts['locations_without_pools']:,} without"
        + (
            f", {counts['locations_not_fetched']:,} not fetched"
            if counts["locations_not_fetched"]
            else ""
        )
    )
    parts = [f"Source: <code>{html.escape(Path(info['source']).name or info['source'])}</code>"]
    if info.get("taken_at"):
        parts.append(f"snapshot taken {html.escape(str(info['taken_at']))}")
    if info.get("api_version"):
        parts.append(f"API version {html.escape(str(info['api_version']))}")
    if info.get("base_url"):
        parts.append(f"from {html.escape(str(info['base_url']))}")
    if info.get("snapshots", 1) > 1:
        parts.append(f"{info['snapshots']} snapshots")
    return HTML(
        f'<p class="poolkit-headline"><b>{html.escape(sentence)}</b></p>'
        f'<div class="poolkit-cards">{cards}</div><p class="poolkit-source">{" · ".join(parts)}</p>'
    )


def table(
    frame: pd.DataFrame,
    *,
    empty: str = "Nothing to show.",
    percent: tuple[str, ...] = (),
    rows: int = 20,
    names: dict[str, str] | None = None,
    relative_to: str | os.PathLike | None = None,
):
    """A readable table: at most ``rows`` rows, shares as percentages, location names added
    when known, file names relative to ``relative_to``; a sentence instead of an empty table."""
    from IPython.display import HTML

    if frame.empty:
        return HTML(f"<p><i>{html.escape(empty)}</i></p>")
    shown = frame.head(rows).copy()
    if names and "location_id" in shown:
        shown.insert(0, "location", shown["location_id"].map(names).fillna(""))
    if relative_to is not None:
        base = str(
            Path(relative_to).resolve()
            if Path(relative_to).is_dir()
            else Path(relative_to).resolve().parent
        )
        for column in [c for c in shown if c.endswith("source")]:
            shown[column] = shown[column].str.removeprefix(base + os.sep)
    text = [
        c
        for c in shown
        if not pd.api.types.is_numeric_dtype(shown[c]) or pd.api.types.is_bool_dtype(shown[c])
    ]
    styler = (
        shown.style.hide(axis="index")
        .format({c: "{:.0%}" for c in percent if c in shown}, na_rep="")
        .set_properties(subset=text, **{"text-align": "left"})
        .set_table_styles([{"selector": "th", "props": "text-align: left;"}])
    )
    more = f"<p><i>Showing {rows:,} of {len(frame):,} rows.</i></p>" if len(frame) > rows else ""
    return HTML(styler.to_html() + more)


def findings_section(findings: pd.DataFrame, top: int = 25):
    """The audit in a report: a chart and a table of the findings per rule and severity, then
    the first ``top`` findings (most severe first) with location and pool names and what to do."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    fig, ax = plt.subplots(figsize=(9, 0.4 * findings["rule"].nunique() + 1.5))
    show(plot_findings(findings, ax=ax))
    display(table(findings_summary(findings), empty="No findings: no rule found fault."))
    if len(findings):
        columns = ["severity", "rule", "location_name", "pool_name", "phone_number", "detail"]
        display(table(findings[columns + ["suggestion"]], rows=top))


def history_section(history: PoolTables | None, *, mask_numbers: bool = False, top: int = 50):
    """What changed since the previous snapshot (counts per kind, then the changes with
    names) and the trend over every snapshot (pools and numbers; adoption per feature); a
    sentence where the data holds one snapshot."""
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    labels = snapshots_of(history) if history is not None else []
    if len(labels) < 2:
        return HTML(
            "<p><i>The data holds one snapshot: the next <code>poolkit fetch</code> fills this "
            "section with what changed and how pools, numbers and adoption move.</i></p>"
        )
    found = changes(history)
    shown = masked_changes(found) if mask_numbers else found
    display(HTML(f"<h3>What changed since {html.escape(labels[-2])}</h3>"))
    counts = found["change"].value_counts(sort=False)
    display(table(counts[counts > 0].rename_axis("change").reset_index(name="changes")))
    columns = ["change", "location_name", "pool_name", "phone_number", "field", "old", "new"]
    display(table(shown[columns], rows=top, empty="No changes between the last two snapshots."))
    display(HTML(f"<h3>Trend over {len(labels)} snapshots</h3>"))
    over_time = trend(history)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5), gridspec_kw={"wspace": 0.4})
    plot_trend(over_time, ax=left)
    show(plot_adoption_trend(over_time, ax=right))


def inventory_section(held: pd.DataFrame, cost: pd.DataFrame, top: int = 25):
    """The numbers the locations hold (``analysis.inventory``), in pools and not, and what
    they cost a month with the idle part (``analysis.monthly_cost``); a sentence where the
    data has no inventory."""
    from IPython.display import HTML, display

    if held.empty:
        return HTML(
            "<p><i>The data has no inventory of the numbers the locations hold: "
            "<code>poolkit fetch --numbers</code> fetches it (scope "
            "<code>phonenumbers.read</code>).</i></p>"
        )
    totals = held[["numbers", "in_pools", "not_in_pool", "unreachable"]].sum()
    sentence = (
        f"{int(totals['numbers']):,} numbers held by {len(held):,} locations: "
        f"{int(totals['in_pools']):,} in pools, {int(totals['not_in_pool']):,} in no pool "
        f"({int(totals['unreachable']):,} of them answering nothing). Estimated "
        f"{dollars(cost['monthly_cost_cents'].sum())} a month, "
        f"{dollars(cost['idle_cost_cents'].sum())} of it idle (numbers answering nothing, or "
        f"in pools that are inactive or have no route). Rates: {RATES_SOURCE}."
    )
    display(HTML(f"<p><b>{html.escape(sentence)}</b></p>"))
    per_location = (
        cost.groupby(["location_id", "name"], dropna=False)[
            ["monthly_cost_cents", "idle_cost_cents"]
        ]
        .sum()
        .reset_index()
    )
    shown = held.merge(per_location.drop(columns="name"), how="left", on="location_id")
    shown = shown.sort_values(
        ["idle_cost_cents", "monthly_cost_cents"], ascending=False, kind="stable"
    )
    shown = shown.assign(
        monthly_cost=shown.pop("monthly_cost_cents").map(dollars, na_action="ignore"),
        idle_cost=shown.pop("idle_cost_cents").map(dollars, na_action="ignore"),
    )
    display(table(shown.drop(columns="location_id"), rows=top))


def show(ax, alt: str | None = None, dpi: int = 100) -> None:
    """Display the figure of ``ax`` as a PNG whose alt text is its title (or ``alt``)."""
    import base64
    from io import BytesIO

    import matplotlib.pyplot as plt
    from IPython.display import display

    figure = ax.figure
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    alt = alt or "; ".join(a.get_title() for a in figure.axes if a.get_title()) or "Chart"
    display(
        {"image/png": base64.b64encode(buffer.getvalue()).decode()},
        raw=True,
        metadata={"image/png": {"alt": alt}},
    )


def regions(tables: PoolTables, top: int = 25):
    """Where the locations are: a chart of locations by state (by country where no state is
    known) with and without pools, then the share of them using each feature; a sentence
    where the data says nothing of places."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    locations = pandas_tables(tables).locations
    by = next(
        (c for c in ("state", "country") if c in locations and locations[c].notna().any()), None
    )
    if by is None:
        return table(
            pd.DataFrame(),
            empty="The data says nothing of where the locations are "
            "(snapshots fetched with location details do).",
        )
    fig, ax = plt.subplots(figsize=(10, 6))
    show(plot_locations_by_region(tables, ax=ax, by=by))
    adoption = adoption_by(tables, by=by)
    display(table(adoption, percent=tuple(adoption.columns[2:]), rows=top))
