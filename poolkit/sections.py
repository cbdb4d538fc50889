"""The report's blocks, as HTML: the first screen (five answers as cards), what to do (one
line per rule that fired, every finding collapsed under it), and each detail section with
its one-line takeaway. ``poolkit/report.ipynb`` calls these; they take ``ReportData``."""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd

from .analysis import (
    feature_adoption_summary,
    headline,
    location_summary,
    locations_without_pools,
    numbers_per_pool,
    problems_summary,
    service_mix,
)
from .findings import RULES
from .model import RATES_SOURCE, dollars
from .notebook import ReportData, show, source_info
from .plots import (
    plot_feature_shares,
    plot_monthly_cost,
    plot_number_areas,
    plot_number_kinds,
    plot_numbers_per_pool,
    plot_service_types,
    plot_trend,
)
from .present import day, html_table, moment, plural, words

__all__ = [
    "adoption_section",
    "changes_section",
    "cost_section",
    "first_screen",
    "locations_section",
    "numbers_section",
    "pools_section",
    "problems_section",
    "what_to_do",
]

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
#: Rows of a collapsed table of every location, past which the CSVs have the rest (every
#: finding is shown whole: a finding is to be acted on, a location row only looked up).
LONG = 250
_DESCRIPTIONS = {r.id: r.description for r in RULES}
_CHANGE_WORDS = {  # kind of change -> (what it is about, what happened)
    "location_added": ("location", "added"),
    "location_removed": ("location", "gone"),
    "pool_added": ("pool", "added"),
    "pool_removed": ("pool", "removed"),
    "number_added": ("number", "added"),
    "number_removed": ("number", "removed"),
    "number_moved": ("number", "moved"),
    "setting_changed": ("setting", "changed"),
}


def _html(text: str):
    from IPython.display import HTML

    return HTML(text)


def _collapsed(summary: str, body: str) -> str:
    return f"<details><summary>{html.escape(summary)}</summary>{body}</details>"


# ------------------------------------------------------------------------------ first screen


def _card(answer: str, value: str, label: str, sentence: str, tone: str = "") -> str:
    return (
        f'<div class="poolkit-card {tone}" data-answer="{answer}">'
        f'<div class="value">{html.escape(value)}</div>'
        f'<div class="label">{html.escape(label)}</div>'
        f'<p class="sentence">{html.escape(sentence)}</p></div>'
    )


def _changes_sentence(report: ReportData) -> tuple[str, str]:
    if report.changes is None:
        return "—", "One snapshot so far: the next fetch will show what changed."
    counts = report.changes["change"].value_counts(sort=False)
    parts = [
        f"{plural(int(n), _CHANGE_WORDS[str(k)][0])} {_CHANGE_WORDS[str(k)][1]}"
        for k, n in counts.items()
        if n
    ]
    since = day(report.changes_since)
    if not parts:
        return "0", f"Nothing changed since {since}."
    shown = ", ".join(parts[:4]) + (f" and {len(parts) - 4} more kinds" if len(parts) > 4 else "")
    return f"{len(report.changes):,}", f"Since {since}: {shown}."


def first_screen(report: ReportData, data: str | os.PathLike):
    """The five answers: how many locations (with pools, without, not fetched), what is
    wrong, what the numbers cost a month (and the idle part), what changed, where the data
    came from and when."""
    counts = headline(report.tables)
    total = counts["locations"] + counts["locations_not_fetched"]
    parts = [
        f"{counts['locations_with_pools']:,} with pools",
        f"{counts['locations_without_pools']:,} without a pool",
    ]
    if counts["locations_not_fetched"]:
        parts.append(f"{counts['locations_not_fetched']:,} not fetched")
    cards = [
        _card(
            "locations",
            f"{total:,}",
            "Locations",
            ", ".join(parts) + f"; {counts['pools']:,} pools hold {counts['numbers']:,} numbers.",
        )
    ]
    findings = report.findings
    severity = findings["severity"].astype(str)
    errors, warnings = int((severity == "error").sum()), int((severity == "warning").sum())
    places = findings.loc[severity.isin(["error", "warning"]), "location_id"].nunique()
    wrong = f"and {plural(warnings, 'warning')}, in {plural(places, 'location')}"
    cards.append(
        _card(
            "wrong",
            f"{errors:,}",
            "Errors" if errors != 1 else "Error",
            f"{wrong}: see What to do below."
            if errors + warnings
            else "No rule found an error or a warning.",
            "bad" if errors else "",
        )
    )
    if report.held.empty:
        cards.append(
            _card(
                "cost",
                "—",
                "A month",
                "Not known: poolkit fetch --numbers fetches the numbers each location pays for.",
            )
        )
    else:
        cost = report.cost
        idle = int(cost["idle_cost_cents"].sum())
        cards.append(
            _card(
                "cost",
                dollars(int(cost["monthly_cost_cents"].sum())),
                "A month",
                f"{dollars(idle)} of it idle: {plural(int(cost['idle_numbers'].sum()), 'number')}"
                " answering nothing or only in inactive pools or pools without a route.",
                "bad" if idle else "",
            )
        )
    value, sentence = _changes_sentence(report)
    cards.append(_card("changed", value, "Changes", sentence))
    info = source_info(data)
    taken = info.get("taken_at")
    where = f"{plural(info['snapshots'], 'snapshot')}; " if info.get("snapshots", 1) > 1 else ""
    api = f"API version {info['api_version']}. " if info.get("api_version") else ""
    cards.append(
        _card(
            "source",
            day(taken) if taken else "unknown",
            "Data as of",
            (f"Taken {moment(taken)}. " if taken else "No manifest says when. ")
            + f"{where}{api}Source: {Path(info['source']).name or info['source']}.",
        )
    )
    return _html(f'<div class="poolkit-cards">{"".join(cards)}</div>')


# ---------------------------------------------------------------------------------- what to do


def _count_line(found: pd.DataFrame) -> str:
    """How many pools, numbers or locations a rule's findings are about (a pool by its ids
    and the name it shows, so that pools without an id count too)."""
    about_pools = found[found["pool_id"].notna().to_numpy() | found["pool"].notna().to_numpy()]
    pools = about_pools.drop_duplicates(["location_id", "pool_id", "pool"])
    numbers = found["phone_number"].dropna().nunique()
    parts = []
    if numbers:
        parts.append(plural(numbers, "number"))
    if len(pools):
        parts.append(plural(len(pools), "pool"))
    parts.append(plural(found["location_id"].nunique(), "location"))
    return ", ".join(parts)


def _where(found: pd.DataFrame, first: int = 3) -> str:
    """The first few findings by location and pool name."""
    names = []
    for location, pool in zip(found["location"], found["pool"]):
        location = location if isinstance(location, str) else "a location"
        names.append(f"'{pool}' ({location})" if isinstance(pool, str) else location)
    names = list(dict.fromkeys(names))
    more = f" and {len(names) - first:,} more" if len(names) > first else ""
    return ", ".join(names[:first]) + more


def what_to_do(findings: pd.DataFrame):
    """One line per rule that fired, most severe first (then most findings): how many,
    what to do, where first; every finding of the rule collapsed under its line, the two
    pools of a repeated number side by side."""
    if findings.empty:
        return _html("<p><i>Nothing to do: no rule found fault.</i></p>")
    lines = []
    rules = findings.assign(severity=findings["severity"].astype(str), rule=findings["rule"])
    order = (
        rules.groupby(["severity", "rule"], observed=True)
        .size()
        .rename("n")
        .reset_index()
        .assign(rank=lambda f: f["severity"].map(_SEVERITY_ORDER))
        .sort_values(["rank", "n", "rule"], ascending=[True, False, True], kind="stable")
    )
    for severity, rule, n in order[["severity", "rule", "n"]].itertuples(index=False):
        found = rules[(rules["rule"] == rule).to_numpy()]
        if rule == "duplicate-number":
            found = found.sort_values(["phone_number", "location"], kind="stable")
        action = found["suggestion"].mode().iloc[0] if found["suggestion"].notna().any() else ""
        head = (
            f'<span class="poolkit-severity {severity}">{plural(int(n), severity)}</span> '
            f"<b>{html.escape(str(rule))}</b>: "
            f"{html.escape(_DESCRIPTIONS.get(rule, ''))} "
            f"<span class='poolkit-count'>({html.escape(_count_line(found))})</span><br>"
            f"<i>{html.escape(str(action))}</i> First: {html.escape(_where(found))}."
        )
        shown = found[["location", "pool", "phone_number", "detail"]]
        body = html_table(shown.rename(columns={"detail": "what"}))
        every = _collapsed("All " + plural(int(n), "finding"), body)
        lines.append(
            f'<div class="poolkit-todo {severity}" data-rule="{html.escape(str(rule))}">'
            f"<p>{head}</p>{every}</div>"
        )
    return _html("".join(lines))


# ------------------------------------------------------------------------------ the detail


def _say(sentence: str) -> None:
    from IPython.display import display

    display(_html(f'<p class="poolkit-takeaway">{html.escape(sentence)}</p>'))


def _show_html(text: str) -> None:
    from IPython.display import display

    display(_html(text))


def changes_section(report: ReportData) -> None:
    """What changed since the previous snapshot, named, and the counts over every snapshot
    as small multiples; a sentence where the data holds one snapshot."""
    import matplotlib.pyplot as plt

    if report.changes is None:
        _say("The data holds one snapshot: the next poolkit fetch shows here what changed.")
        return
    value, sentence = _changes_sentence(report)
    _say(sentence)
    found = report.changes
    if len(found):
        about = found["field"].notna()  # old and new only where a field changed
        shown = found.assign(
            change=found["change"].astype(str).str.replace("_", " "),
            field=found["field"].map(words, na_action="ignore"),
            old=found["old"].where(about, ""),
            new=found["new"].where(about, ""),
        )[["change", "location", "pool", "phone_number", "field", "old", "new"]]
        _show_html(html_table(shown, rows=10))
        if len(found) > 10:
            every = html_table(shown, rows=LONG)  # poolkit diff lists them all
            _show_html(_collapsed(f"All {plural(len(found), 'change')}", every))
    over_time = report.trend
    fig, axes = plt.subplots(1, 3, figsize=(12, 2.6), gridspec_kw={"wspace": 0.3})
    for ax, measure in zip(axes, ("locations", "pools", "numbers")):
        plot_trend(over_time, measure, ax=ax)
    show(axes[0], alt=f"Locations, pools and numbers over {len(over_time)} snapshots")


def cost_section(report: ReportData, top: int = 10) -> None:
    """What the numbers each location holds cost a month, the idle part first."""
    held, cost = report.held, report.cost
    if held.empty:
        _say(
            "No inventory: poolkit fetch --numbers fetches the numbers each location holds "
            "(scope phonenumbers.read), in pools or not, and so what they cost."
        )
        return
    totals = held[["numbers", "in_pools", "not_in_pool", "unreachable"]].sum()
    _say(
        f"{int(totals['numbers']):,} numbers held by {plural(len(held), 'location')} whose "
        f"numbers were read: {int(totals['in_pools']):,} in pools, "
        f"{int(totals['not_in_pool']):,} in no pool ({int(totals['unreachable']):,} answering "
        f"nothing). {dollars(int(cost['monthly_cost_cents'].sum()))} a month, "
        f"{dollars(int(cost['idle_cost_cents'].sum()))} of it idle. Rates: {RATES_SOURCE}."
    )
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 0.28 * min(len(held), top) + 1.2))
    show(plot_monthly_cost(cost, ax=ax, top=top))
    per = cost.groupby("location_id")[["monthly_cost_cents", "idle_cost_cents"]].sum()
    shown = held.join(per, on="location_id").sort_values(
        ["idle_cost_cents", "monthly_cost_cents"], ascending=False, kind="stable"
    )
    shown = shown.drop(columns="location_id")
    body = html_table(shown, rows=LONG, empty="")
    _show_html(_collapsed(f"Every location ({len(shown):,})", body))


def locations_section(report: ReportData) -> None:
    """The locations without a pool and those not fetched (with why), then every location."""
    tables = report.tables
    counts = headline(tables)
    total = counts["locations"] + counts["locations_not_fetched"]
    _say(
        f"{plural(total, 'location')}: {counts['locations_with_pools']:,} with pools, "
        f"{counts['locations_without_pools']:,} without a pool"
        + (
            f", {counts['locations_not_fetched']:,} not fetched (left out of every share)"
            if counts["locations_not_fetched"]
            else ""
        )
        + "."
    )
    unused = locations_without_pools(tables).drop(columns="location_id")
    _show_html(html_table(unused, rows=20, empty="Every location has a pool and was fetched."))
    summary = location_summary(tables).drop(columns="location_id")
    body = html_table(summary, rows=LONG, percent=("active_share",))
    _show_html(_collapsed(f"Every location ({total:,})", body))


def adoption_section(report: ReportData) -> None:
    """The share of the locations using each feature, sorted; the change since the previous
    snapshot where there is one."""
    import matplotlib.pyplot as plt

    summary = feature_adoption_summary(report.tables)
    before = None
    if report.trend is not None:
        rows = report.trend
        previous = rows.iloc[-2]
        before = {c.removeprefix("share_"): previous[c] for c in rows if c.startswith("share_")}
    if len(summary) and summary["locations"].max():
        top = summary.sort_values("share", ascending=False).iloc[0]
        _say(
            f"The feature used most: {top['label']} ({top['share']:.0%} of the locations that "
            "answered). A location counts when one of its pools has the feature."
        )
    fig, ax = plt.subplots(figsize=(10, 0.32 * max(len(summary), 3) + 1))
    show(plot_feature_shares(summary, ax=ax, before=before))


def pools_section(report: ReportData, top: int = 10) -> None:
    """Pool sizes and the services that answer them."""
    import matplotlib.pyplot as plt

    tables = report.tables
    per_pool = numbers_per_pool(tables)
    if per_pool.empty:
        _say("No pools.")
        return
    sizes = per_pool["number_count"].astype(float)
    largest = sizes.max()
    mix = service_mix(tables)
    common = mix.sort_values("pools", ascending=False).iloc[0]
    at_most = plural(int((sizes == largest).sum()), "pool")
    _say(
        f"{plural(len(per_pool), 'pool')} hold {int(sizes.sum()):,} numbers: {sizes.median():g} "
        f"a pool at the median, {largest:g} at most ({at_most}). The most common service: "
        f"{common['service_type']} ({common['share']:.0%} of pools)."
    )
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.4), gridspec_kw={"wspace": 0.3})
    plot_numbers_per_pool(per_pool, ax=left, top=0)
    show(plot_service_types(tables, ax=right))
    columns = ["pool", "location", "number_count", "is_active", "service_type"]
    body = html_table(per_pool[columns], rows=top)
    _show_html(_collapsed(f"The {min(top, len(per_pool))} largest pools", body))


def numbers_section(report: ReportData) -> None:
    """Where the numbers are (by area, the long tail said) and local against toll-free."""
    import matplotlib.pyplot as plt

    tables = report.tables
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 2], "wspace": 0.35}
    )
    plot_number_areas(tables, ax=left, top=10)
    show(plot_number_kinds(tables, ax=right))


def problems_section(report: ReportData, data: str | os.PathLike) -> None:
    """What in the responses did not fit the API contract, collapsed."""
    problems = problems_summary(report.tables)
    if problems.empty:
        _say("Every response fit the API contract.")
        return
    _say(
        f"{plural(len(report.tables.problems), 'value')} did not fit the API contract; each "
        "record stays in its table with the bad field empty (tables.problems lists them)."
    )
    base = Path(data).resolve()
    base = str(base if base.is_dir() else base.parent) + os.sep
    for column in [c for c in problems if c.endswith("source")]:
        problems[column] = problems[column].str.removeprefix(base)
    _show_html(_collapsed("What did not fit", html_table(problems)))
