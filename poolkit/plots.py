"""Axes-level charts in the seaborn style: each takes tables (or the analysis frame) and
``ax=None``, draws on one Axes and returns it, so notebooks can compose figures.

Every chart stays readable from one to 10,000 pools or locations: past ``top`` (about 30)
categories it shows the top ones and an "other" bar, or a distribution instead. Empty
tables give an empty chart with a message. Service types keep one colour everywhere.
"""

from __future__ import annotations

import textwrap
import zlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .analysis import (
    FEATURE_LABELS,
    NO_SERVICE,
    SERVICE_FEATURE,
    cost_per_location,
    feature_adoption,
    feature_adoption_summary,
    monthly_cost,
    number_kinds,
    numbers_by_area,
    numbers_per_pool,
    region_summary,
    service_labels,
    service_mix,
)
from .findings import findings_summary
from .present import snapshots_shown
from .tables import PoolTables

__all__ = [
    "SERVICE_COLORS",
    "service_color",
    "plot_numbers_per_pool",
    "plot_service_types",
    "plot_feature_adoption",
    "plot_number_areas",
    "plot_number_kinds",
    "plot_locations_by_region",
    "plot_findings",
    "plot_trend",
    "plot_feature_shares",
    "plot_monthly_cost",
]

SERVICE_COLORS = {
    "voice_ai": "#6a3d9a",
    "ivr": "#1b9e77",
    "forward": "#1f78b4",
    NO_SERVICE: "#bdbdbd",
}
_OTHER_COLORS = [
    "#e6ab02",
    "#d95f02",
    "#e7298a",
    "#66a61e",
    "#a6761d",
    "#17becf",
    "#8c564b",
    "#bcbd22",
]
FEATURE_COLORS = {
    "whisper": "#e6ab02",
    "call_recording": "#d95f02",
    "active": "#1b9e77",
    "inbound_service": "#6a3d9a",
    "forwarding": "#1f78b4",
}
OTHER = "other"


def service_color(service_type: str) -> str:
    """The colour of an inbound call service type, the same in every chart.

    Fixed for the documented types, stable (from the name) for any other.

    Parameters
    ----------
    service_type : str
        Such as ``"voice_ai"``, ``"ivr"``, ``"forward"``.

    Returns
    -------
    str
        A hex colour.

    Examples
    --------
    >>> poolkit.plots.service_color("voice_ai")
    '#6a3d9a'
    """
    if service_type in SERVICE_COLORS:
        return SERVICE_COLORS[service_type]
    if service_type == OTHER:
        return "#969696"
    return _stable_color(service_type)


def _feature_color(feature: str) -> str:
    """A feature's colour; a service type's the service's own, as in every other chart."""
    if feature.startswith(SERVICE_FEATURE):
        return service_color(feature.removeprefix(SERVICE_FEATURE))
    return FEATURE_COLORS.get(feature, "#1f78b4")


def _stable_color(name: object) -> str:
    """A colour for a name no palette lists: the same in every chart and every run."""
    return _OTHER_COLORS[zlib.crc32(str(name).encode()) % len(_OTHER_COLORS)]


def _axes(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=(8, 5))[1]


def _empty(ax: Axes, title: str, message: str = "No pools to show") -> Axes:
    ax.set_title(title)
    ax.text(
        0.5,
        0.5,
        message,
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=12,
        color="#636363",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _short(text: object, width: int = 28) -> str:
    """A name as a label: whole, wrapped on two lines past ``width`` (cut only past two)."""
    text = "(no name)" if text is None or text is pd.NA or text != text else str(text)
    lines = textwrap.wrap(text, width) or [text]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder="…")]
    return "\n".join(lines)


def _money(amount: float) -> str:
    """Dollars as a chart label: ``$1,909.45`` (drawn with ``parse_math=False``: two dollar
    signs would otherwise start mathtext and lose both)."""
    return f"${amount:,.2f}"


def plot_numbers_per_pool(
    data: PoolTables | pd.DataFrame,
    *,
    ax: Axes | None = None,
    top: int = 30,
    names: dict[str, str] | None = None,
) -> Axes:
    """Numbers per pool: a bar per pool, coloured by service, up to ``top`` pools; else a histogram
    of pool sizes with the median marked.

    Parameters
    ----------
    data : PoolTables or pandas.DataFrame
        The tables, or the analysis frame the chart is drawn from
        (``analysis.numbers_per_pool``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (keyword only); default: the current Axes (``plt.gca()``).
    top : int, default 30
        The most pools drawn as bars.
    names : dict of str to str, optional
        Location id to name (``analysis.location_names``), to label each pool with its
        location's name.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> ax = poolkit.plots.plot_numbers_per_pool(poolkit.load_sample())
    >>> ax.get_title()
    'Numbers per pool: distribution over 163 pools'
    """
    ax = _axes(ax)
    frame = numbers_per_pool(data) if isinstance(data, PoolTables) else data
    title = "Numbers per pool"
    if frame.empty:
        return _empty(ax, title)
    counts = frame["number_count"].astype(float)
    if len(frame) <= top:
        frame = frame.iloc[::-1]
        labels = [
            f"{_short(n)} · {_short(names[loc], 24) if names and loc in names else str(loc)[:6]}"
            for n, loc in zip(frame["pool"], frame["location_id"])
        ]
        services = service_labels(frame).astype(object)
        bars = ax.barh(
            range(len(frame)),
            frame["number_count"].astype(float),
            color=[service_color(s) for s in services],
        )
        ax.set_yticks(range(len(frame)), labels, fontsize=8)
        ax.bar_label(bars, fmt="%d", padding=2, fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Numbers in the pool")
        present = list(dict.fromkeys(services[::-1]))
        ax.legend(
            handles=[Patch(color=service_color(s), label=s) for s in present],
            title="Inbound service",
            fontsize=8,
            loc="lower right",
        )
        ax.set_title(f"{title} ({len(frame):,} pools)")
    else:
        edges = np.arange(counts.min(), counts.max() + 2) - 0.5
        if len(edges) > 41:
            edges = np.histogram_bin_edges(counts, bins=40)
        heights, edges, bars = ax.hist(counts, bins=edges, color="#1f78b4", edgecolor="white")
        if len(bars) <= 40:
            ax.bar_label(
                bars, labels=[f"{int(h):,}" if h else "" for h in heights], fontsize=7, padding=1
            )
        median = float(np.median(counts))
        ax.axvline(
            median,
            color="#e31a1c",
            linestyle="--",
            linewidth=1,
            label=f"median {median:g}, largest {counts.max():g}",
        )
        ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
        ax.set_ylim(0, max(heights) * 1.25)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Numbers in the pool")
        ax.set_ylabel("Pools")
        ax.set_title(f"{title}: distribution over {len(frame):,} pools")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_service_types(
    data: PoolTables | pd.DataFrame, *, ax: Axes | None = None, top: int = 12
) -> Axes:
    """Pools per inbound call service type, with counts and shares; past ``top`` types the rest are
    "other".

    Parameters
    ----------
    data : PoolTables or pandas.DataFrame
        The tables, or the analysis frame the chart is drawn from (``analysis.service_mix``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (keyword only); default: the current Axes (``plt.gca()``).
    top : int, default 12
        The most service types drawn.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> ax = poolkit.plots.plot_service_types(poolkit.load_sample())
    >>> ax.get_title()
    'Inbound call services of pools (163 pools)'
    """
    ax = _axes(ax)
    frame = service_mix(data) if isinstance(data, PoolTables) else data
    title = "Inbound call services of pools"
    if frame.empty:
        return _empty(ax, title)
    frame = frame[["service_type", "pools"]].assign(
        service_type=lambda f: f["service_type"].astype(str)
    )
    if len(frame) > top:
        rest = frame.iloc[top - 1 :]
        frame = pd.concat(
            [
                frame.iloc[: top - 1],
                pd.DataFrame(
                    {
                        "service_type": [f"{OTHER} ({len(rest)} types)"],
                        "pools": [rest["pools"].sum()],
                    }
                ),
            ]
        )
    total = frame["pools"].sum()
    colors = [
        service_color(OTHER if s.startswith(f"{OTHER} (") else s) for s in frame["service_type"]
    ]
    _bars(ax, list(frame["service_type"]), frame["pools"], colors, total)
    ax.set_xlabel("Pools")
    ax.set_title(f"{title} ({int(total):,} pools)")
    return ax


def _bars(ax: Axes, labels: list[str], counts: pd.Series, colors: list, total: float) -> None:
    """Horizontal bars, the first at the top, each with its count and share: a label per
    row, so that long or many labels never run into each other."""
    y = np.arange(len(labels))[::-1]
    bars = ax.barh(y, counts.astype(float), color=colors)
    ax.bar_label(
        bars, labels=[f"{int(n):,} ({n / total:.0%})" for n in counts], fontsize=8, padding=2
    )
    ax.set_yticks(y, [_short(label, 24) for label in labels], fontsize=8)
    ax.set_xlim(0, float(counts.max()) * 1.35)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)


def plot_feature_adoption(
    data: PoolTables | pd.DataFrame,
    *,
    ax: Axes | None = None,
    max_locations: int = 30,
    names: dict[str, str] | None = None,
) -> Axes:
    """Share of each location's pools with each feature: an annotated location-by-feature grid up
    to ``max_locations`` locations, else one ECDF per feature.

    Parameters
    ----------
    data : PoolTables or pandas.DataFrame
        The tables, or the analysis frame the chart is drawn from
        (``analysis.feature_adoption``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (keyword only); default: the current Axes (``plt.gca()``).
    max_locations : int, default 30
        The most locations drawn as a grid.
    names : dict of str to str, optional
        Location id to name, for the grid's rows.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> ax = poolkit.plots.plot_feature_adoption(poolkit.load_sample())
    >>> ax.get_title()
    'Feature adoption: distribution across 45 locations'
    """
    ax = _axes(ax)
    frame = feature_adoption(data) if isinstance(data, PoolTables) else data
    title = "Feature adoption"
    if frame.empty:
        return _empty(ax, title)
    features = [f for f in FEATURE_LABELS if f in frame]
    if len(frame) <= max_locations:
        grid = frame[features].astype(float).to_numpy()
        image = ax.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for (row, col), value in np.ndenumerate(grid):
            ax.text(
                col,
                row,
                f"{value:.0%}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value > 0.6 else "#252525",
            )
        labels = [_short((names or {}).get(loc, loc), 30) for loc in frame["location_id"]]
        ax.set_yticks(range(len(frame)), labels, fontsize=7)
        ax.set_xticks(
            range(len(features)),
            [FEATURE_LABELS[f] for f in features],
            fontsize=8,
            rotation=20,
            ha="right",
        )
        ax.figure.colorbar(image, ax=ax, fraction=0.04, label="Share of the location's pools")
        ax.set_title(f"{title}: share of pools per location ({len(frame):,} locations)")
    else:
        for feature in features:
            ax.ecdf(
                frame[feature].astype(float),
                complementary=True,
                label=FEATURE_LABELS[feature],
                color=FEATURE_COLORS[feature],
            )
        ax.set_xlabel("Share of the location's pools with the feature")
        ax.set_ylabel("Share of locations with at least that share")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8, loc="lower left")
        ax.set_title(f"{title}: distribution across {len(frame):,} locations")
        ax.spines[["top", "right"]].set_visible(False)
    return ax


KIND_COLORS = {"local": "#1f78b4", "toll-free": "#e6ab02", "invalid or missing": "#e31a1c"}
REGION_COLORS = {"US": "#1f78b4", "CA": "#e31a1c"}


def plot_number_areas(
    data: PoolTables | pd.DataFrame, *, ax: Axes | None = None, top: int = 15
) -> Axes:
    """Numbers per geographic area, the top ``top``, coloured by country; the title says what the
    other areas hold.

    Parameters
    ----------
    data : PoolTables or pandas.DataFrame
        The tables, or the analysis frame the chart is drawn from
        (``analysis.numbers_by_area``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (keyword only); default: the current Axes (``plt.gca()``).
    top : int, default 15
        The most areas drawn.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> ax = poolkit.plots.plot_number_areas(poolkit.load_sample())
    >>> ax.get_title().splitlines()[0]
    'Numbers by area (1,611 numbers, 118 areas)'
    """
    ax = _axes(ax)
    frame = numbers_by_area(data) if isinstance(data, PoolTables) else data
    title = "Numbers by area"
    if frame.empty:
        return _empty(ax, title, "No numbers to show")
    shown = frame.head(top)
    labels = [f"{a} ({r})" for a, r in zip(shown["area"], shown["region_code"])]
    counts = list(shown["numbers"].astype(float))
    colors = [_region_color(r) for r in shown["region_code"]]
    bars = ax.barh(range(len(labels))[::-1], counts, color=colors)
    ax.set_yticks(range(len(labels))[::-1], [_short(label, 34) for label in labels], fontsize=8)
    ax.bar_label(bars, labels=[f"{int(c):,}" for c in counts], padding=2, fontsize=8)
    ax.set_xlabel("Numbers")
    regions = list(dict.fromkeys(shown["region_code"]))
    ax.legend(
        handles=[Patch(color=_region_color(r), label=r) for r in regions],
        title="Country",
        fontsize=8,
        loc="lower right",
    )
    total = int(frame["numbers"].sum())
    title = f"{title} ({total:,} numbers, {len(frame):,} areas)"
    if len(frame) > top:  # the long tail said, not drawn: one bar of it would dwarf the rest
        rest = int(frame["numbers"].iloc[top:].sum())
        title += (
            f"\nthe top {top}; the other {len(frame) - top:,} hold {rest:,} ({rest / total:.0%})"
        )
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def _region_color(region: str) -> str:
    return REGION_COLORS.get(region) or _stable_color(region)


def plot_number_kinds(data: PoolTables | pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Local and toll-free numbers (and other kinds, and invalid ones), with counts and shares.

    Parameters
    ----------
    data : PoolTables or pandas.DataFrame
        The tables, or the analysis frame the chart is drawn from (``analysis.number_kinds``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (keyword only); default: the current Axes (``plt.gca()``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> ax = poolkit.plots.plot_number_kinds(poolkit.load_sample())
    >>> ax.get_title()
    'Local and toll-free numbers (1,611 numbers)'
    """
    ax = _axes(ax)
    frame = number_kinds(data) if isinstance(data, PoolTables) else data
    title = "Local and toll-free numbers"
    if frame.empty:
        return _empty(ax, title, "No numbers to show")
    total = frame["numbers"].sum()
    colors = [KIND_COLORS.get(k) or _stable_color(k) for k in frame["kind"]]
    _bars(ax, list(frame["kind"].astype(str)), frame["numbers"], colors, total)
    ax.set_xlabel("Numbers")
    ax.set_title(f"{title} ({int(total):,} numbers)")
    return ax


LOCATION_STATES = {
    "with_pools": ("with pools", "#1b9e77"),
    "without_pools": ("without pools", "#bdbdbd"),
    "not_fetched": ("not fetched", "#e31a1c"),
}


def plot_locations_by_region(
    data: PoolTables | pd.DataFrame, *, ax: Axes | None = None, by: str = "state", top: int = 20
) -> Axes:
    """Locations per state (or country...): stacked bars of those with pools, without, and not
    fetched; past ``top`` regions the rest are one "other" bar.

    Parameters
    ----------
    data : PoolTables or pandas.DataFrame
        The tables, or the analysis frame the chart is drawn from (``analysis.region_summary``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (keyword only); default: the current Axes (``plt.gca()``).
    by : str, default "state"
        A column of ``tables.locations``.
    top : int, default 20
        The most regions drawn.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> ax = poolkit.plots.plot_locations_by_region(poolkit.load_sample())
    >>> ax.get_title()
    'Locations by state (45 locations, 1 not fetched)'
    """
    ax = _axes(ax)
    frame = region_summary(data, by=by) if isinstance(data, PoolTables) else data
    title = f"Locations by {by.replace('_', ' ')}"
    if frame.empty:
        return _empty(ax, title, "No locations to show")
    if len(frame) > top:
        rest = frame.iloc[top - 1 :].drop(columns=by).sum()
        frame = pd.concat(
            [
                frame.iloc[: top - 1],
                pd.DataFrame([{by: f"{OTHER} ({len(frame) - top + 1})", **rest}]),
            ]
        )
    frame = frame.iloc[::-1]
    left = np.zeros(len(frame))
    for column, (label, color) in LOCATION_STATES.items():
        values = frame[column].astype(float).to_numpy()
        ax.barh(range(len(frame)), values, left=left, color=color, label=label)
        left += values
    ax.set_yticks(range(len(frame)), [_short(v, 24) for v in frame[by]], fontsize=8)
    for y, (total, pools) in enumerate(zip(left, frame["pools"].astype(float))):
        ax.text(total, y, f" {int(pools):,} pools", va="center", fontsize=7, color="#636363")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Locations")
    ax.set_xlim(0, left.max() * 1.25)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, frameon=False)
    answered = int(frame["with_pools"].sum() + frame["without_pools"].sum())
    failed = int(frame["not_fetched"].sum())
    also = f", {failed:,} not fetched" if failed else ""
    ax.set_title(f"{title} ({answered:,} locations{also})")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


SEVERITY_COLORS = {"error": "#d7301f", "warning": "#fdae61", "info": "#74a9cf"}


def plot_findings(findings: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Findings per rule: a bar each, coloured by severity, most severe at the top.

    Parameters
    ----------
    findings : pandas.DataFrame
        What ``poolkit.audit`` returns.
    ax : matplotlib.axes.Axes, optional
        Where to draw (keyword only); default: the current Axes (``plt.gca()``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> ax = poolkit.plots.plot_findings(poolkit.audit(poolkit.load_sample()))
    >>> ax.get_title()
    'Findings per rule (106)'
    """
    ax = _axes(ax)
    title = f"Findings per rule ({len(findings):,})"
    if findings.empty:
        return _empty(ax, title, "No findings: no rule found fault")
    summary = findings_summary(findings)  # the order of the summary table: errors first
    counts = summary.set_index(["severity", "rule"])["findings"]
    bars = ax.barh(
        range(len(counts)),
        counts.to_numpy(),
        color=[SEVERITY_COLORS.get(str(s), "#969696") for s, _ in counts.index],
    )
    ax.set_yticks(range(len(counts)), [rule for _, rule in counts.index], fontsize=9)
    ax.invert_yaxis()  # the table's first row at the top
    ax.bar_label(bars, fmt="%d", padding=2, fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Findings")
    ax.set_title(title)
    shown = counts.index.get_level_values(0).unique()
    ax.legend(
        handles=[Patch(color=SEVERITY_COLORS[str(s)], label=str(s)) for s in shown],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    return ax


TREND_MEASURES = {
    "locations": "Locations that answered",
    "pools": "Pools",
    "active_pools": "Active pools",
    "numbers": "Numbers",
}


def plot_trend(trend: pd.DataFrame, measure: str = "numbers", *, ax: Axes | None = None) -> Axes:
    """One measure by snapshot, on an axis from 0 (so that 1,590 -> 1,611 is no spike).

    Draw several on Axes of their own for small multiples.

    Parameters
    ----------
    trend : pandas.DataFrame
        What ``poolkit.trend`` returns.
    measure : str, default "numbers"
        A column of it: ``"locations"``, ``"pools"``, ``"active_pools"``, ``"numbers"`` or a
        ``share_<feature>``.
    ax : matplotlib.axes.Axes, optional
        Where to draw (keyword only); default: the current Axes (``plt.gca()``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> over_time = poolkit.trend(poolkit.load_sample(history=True))
    >>> poolkit.plots.plot_trend(over_time, "pools").get_title()
    'Pools: 163 (+1)'
    """
    ax = _axes(ax)
    title = TREND_MEASURES.get(measure, measure)
    if trend.empty:
        return _empty(ax, title, "No snapshots")
    values = trend[measure].astype(float).to_numpy()
    x = np.arange(len(values))
    ax.plot(x, values, marker="o", color="#1f78b4")
    for k, value in zip(x, values):
        ax.annotate(
            f"{value:,.0f}",
            (k, value),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
        )
    ax.set_ylim(0, max(np.nanmax(values), 1.0) * 1.3)  # from 0: 1,590 -> 1,611 is no spike
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    ax.set_xticks(x, snapshots_shown(trend["snapshot"], short=True), fontsize=8)
    ax.set_xlim(-0.4, len(x) - 0.6)
    change = values[-1] - values[0]
    ax.set_title(f"{title}: {values[-1]:,.0f} ({change:+,.0f})", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_feature_shares(
    data: PoolTables | pd.DataFrame, *, ax: Axes | None = None, before: dict | None = None
) -> Axes:
    """The share of the locations that answered using each feature (in at least one pool), as
    sorted bars.

    Parameters
    ----------
    data : PoolTables or pandas.DataFrame
        The tables, or the analysis frame the chart is drawn from
        (``analysis.feature_adoption_summary``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (keyword only); default: the current Axes (``plt.gca()``).
    before : dict of str to float, optional
        Feature to share at the previous snapshot: a tick where each stood then.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> ax = poolkit.plots.plot_feature_shares(poolkit.load_sample())
    >>> ax.get_title()
    'Locations using each feature (45 locations)'
    """
    ax = _axes(ax)
    frame = feature_adoption_summary(data) if isinstance(data, PoolTables) else data
    title = "Locations using each feature"
    if frame.empty or not frame["locations"].max():
        return _empty(ax, title, "No locations to show")
    frame = frame.sort_values("share", ascending=False, kind="stable")  # as a table sorts it
    y = np.arange(len(frame))
    shares = frame["share"].astype(float).to_numpy() * 100
    colors = [_feature_color(f) for f in frame["feature"]]
    ax.barh(y, shares, color=colors)
    for k, (feature, share) in enumerate(zip(frame["feature"], shares)):
        label = f" {share:.0f}%"
        if before and before.get(feature) is not None and not pd.isna(before.get(feature)):
            then = float(before[feature]) * 100
            ax.plot([then, then], [k - 0.4, k + 0.4], color="#252525", linewidth=1.5)
            label += f" ({share - then:+.0f} pts)"
        ax.text(share, k, label, va="center", fontsize=8)
    ax.set_yticks(y, list(frame["label"]), fontsize=9)
    ax.invert_yaxis()  # the first row at the top
    ax.set_xlim(0, 115)
    ax.set_xlabel("% of the locations that answered")
    count = int(frame["locations"].max())
    also = "; the black tick: the previous snapshot" if before else ""
    ax.set_title(f"{title} ({count:,} locations{also})", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_monthly_cost(
    data: PoolTables | pd.DataFrame, *, ax: Axes | None = None, top: int = 15
) -> Axes:
    """What each location pays a month, its idle part in red: the ``top`` locations by idle cost,
    then cost; the title says what the others pay.

    Parameters
    ----------
    data : PoolTables or pandas.DataFrame
        The tables, or the analysis frame the chart is drawn from (``analysis.monthly_cost``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (keyword only); default: the current Axes (``plt.gca()``).
    top : int, default 15
        The most locations drawn.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Examples
    --------
    >>> ax = poolkit.plots.plot_monthly_cost(poolkit.load_sample())
    >>> ax.get_title().startswith('Monthly cost per location ($1,909.45 a month')
    True
    """
    ax = _axes(ax)
    cost = monthly_cost(data) if isinstance(data, PoolTables) else data
    title = "Monthly cost per location"
    if cost.empty:
        return _empty(ax, title, "No inventory: poolkit fetch --numbers")
    per = cost_per_location(cost).set_index("location")  # the order of the tables
    shown = per.head(top).iloc[::-1]
    total, idle = shown["monthly_cost_cents"] / 100, shown["idle_cost_cents"] / 100
    y = np.arange(len(shown))
    ax.barh(y, total - idle, color="#1f78b4", label="in use")
    ax.barh(y, idle, left=total - idle, color="#e31a1c", label="idle")
    for k, (whole, part) in enumerate(zip(total, idle)):
        ax.text(
            whole,
            k,
            f" {_money(whole)}" + (f" ({_money(part)} idle)" if part else ""),
            va="center",
            fontsize=8,
            parse_math=False,
        )
    ax.set_yticks(y, [_short(name, 34) for name in shown.index.astype(str)], fontsize=8)
    ax.set_xlim(0, float(total.max()) * 1.45 or 1)
    ax.set_xlabel("US dollars a month")
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    spend = per["monthly_cost_cents"].sum() / 100
    title = f"{title} ({_money(spend)} a month, {len(per):,} locations holding numbers"
    if len(per) > top:
        title += f"; the top {top} by idle cost"
    ax.set_title(title + ")", fontsize=10, parse_math=False)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
