"""The report's blocks, as HTML: the first screen (five answers as cards), what to do (one
line per rule that fired, every finding collapsed under it), and each detail section with
its one-line takeaway. ``poolkit/report.ipynb`` calls these; they take ``ReportData``."""

from __future__ import annotations

import html
import os
from collections import Counter
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from .analysis import (
    NO_SERVICE,
    cost_per_location,
    feature_adoption_summary,
    headline,
    location_summary,
    locations_without_pools,
    numbers_per_pool,
    problems_summary,
    service_mix,
)
from .findings import RULES, findings_summary
from .history import snapshots_of
from .model import RATES_SOURCE, dollars
from .notebook import ReportData, figure_html, source_info
from .plots import (
    plot_feature_shares,
    plot_monthly_cost,
    plot_number_areas,
    plot_number_kinds,
    plot_numbers_per_pool,
    plot_service_types,
    plot_trend,
)
from .present import SEVERITY_NOUNS, counted, day, html_table, moment, plural, reason, words
from .rulebook import WHY, Explanation

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

#: Rows of a collapsed table of every location, past which the CSVs have the rest (every
#: finding is shown whole: a finding is to be acted on, a location row only looked up).
LONG = 250
#: Each rule by id: its description and why a case matters, as ``poolkit explain`` says them.
_RULES = {r.id: r for r in RULES}
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


def _card(
    answer: str, value: str, label: str, sentence: str, tone: str = "", count: str = ""
) -> str:
    """A card of the first screen; ``sentence`` is HTML, ``count`` marks what the value
    counts (``data-count``)."""
    mark = f' data-count="{count}"' if count else ""
    return (
        f'<div class="poolkit-card {tone}" data-answer="{answer}">'
        f'<div class="value"{mark}>{html.escape(value)}</div>'
        f'<div class="label">{html.escape(label)}</div>'
        f'<p class="sentence">{sentence}</p></div>'
    )


def _changes_sentence(report: ReportData) -> tuple[str, str]:
    """The count of changes and a sentence (HTML) naming them by kind."""
    if report.changes is None:
        if not len(report.tables.locations):
            return "—", "No data yet: the first fetch starts the history."
        return "—", "One snapshot so far: the next fetch will show what changed."
    counts = report.changes["change"].value_counts(sort=False)
    parts = [
        f"{counted(str(k), int(n), _CHANGE_WORDS[str(k)][0])} {_CHANGE_WORDS[str(k)][1]}"
        for k, n in counts.items()
        if n
    ]
    since = html.escape(day(report.changes_since))
    if not parts:
        return "0", f"Nothing changed since {since}."
    more = len(parts) - 4
    shown = ", ".join(parts[:4]) + (f" and {plural(more, 'more kind')}" if more > 0 else "")
    return f"{len(report.changes):,}", f"Since {since}: {shown}."


def _locations_parts(counts: dict) -> str:
    """``3 locations with pools, 1 location without a pool, 2 locations not fetched`` (HTML)."""
    parts = [
        f"{counted('locations_with_pools', counts['locations_with_pools'], 'location')} with pools",
        f"{counted('locations_without_pools', counts['locations_without_pools'], 'location')}"
        " without a pool",
    ]
    if counts["locations_not_fetched"]:
        parts.append(
            f"{counted('locations_not_fetched', counts['locations_not_fetched'], 'location')}"
            " not fetched"
        )
    return ", ".join(parts)


def _locations_card(counts: dict) -> str:
    total = counts["locations"] + counts["locations_not_fetched"]
    if not total:
        return _card(
            "locations", "0", "Locations", "No location in the data yet.", count="locations"
        )
    holds = "holds" if counts["pools"] == 1 else "hold"
    sentence = (
        f"{_locations_parts(counts)}; {counted('pools', counts['pools'], 'pool')} {holds} "
        f"{counted('numbers', counts['numbers'], 'number')}."
    )
    label = "Location" if total == 1 else "Locations"
    return _card("locations", f"{total:,}", label, sentence, count="locations")


def _wrong_card(findings: pd.DataFrame) -> str:
    severity = findings["severity"].astype(str)
    errors, warnings = int((severity == "error").sum()), int((severity == "warning").sum())
    places = findings.loc[severity.isin(["error", "warning"]), "location_id"].nunique()
    sentence = (
        f"and {counted('warnings', warnings, 'warning')}, in "
        f"{counted('locations_at_fault', places, 'location')}: see What to do below."
        if errors + warnings
        else "No rule found an error or a warning."
    )
    label = "Error" if errors == 1 else "Errors"
    return _card("wrong", f"{errors:,}", label, sentence, "bad" if errors else "", count="errors")


def _unread_text(unread: pd.DataFrame, first: int = 3) -> str:
    """``Acme (access refused), Bolt (not asked for)`` and how many more."""
    names = [
        f"{html.escape(str(name))} ({html.escape(reason(why))})"
        for name, why in zip(unread["location"], unread["why"])
    ]
    more = len(names) - first
    return ", ".join(names[:first]) + (f" and {more:,} more" if more > 0 else "")


def _every_location_read(coverage: dict) -> bool:
    """Every location of the data had its numbers read: the cost is the whole."""
    return coverage["read"] == coverage["answered"] + coverage["not_fetched"]


def cost_coverage_sentence(report: ReportData) -> str:
    """What the cost covers (HTML): the numbers of the locations whose numbers were read,
    the numbers without a price, and what was not read or not fetched."""
    coverage, cost = report.coverage, report.cost
    numbers = int(cost["numbers"].sum()) if len(cost) else 0
    unpriced = int(cost["unpriced"].sum()) if len(cost) else 0
    read = coverage["read"]
    every = "all " if _every_location_read(coverage) else ""
    parts = [
        f"Covers the {counted('numbers_held', numbers, 'number')} of "
        f"{every}{counted('locations_read', read, 'location')}"
    ]
    if unpriced:
        parts.append(
            f"{counted('numbers_unpriced', unpriced, 'number')} with no published price "
            "(mobile, national...), counted at $0.00"
        )
    if len(coverage["unread"]):
        parts.append(f"numbers not read: {_unread_text(report.shown(coverage['unread']))}")
    if coverage["not_fetched"]:
        parts.append(
            f"{counted('locations_not_fetched', coverage['not_fetched'], 'location')} not fetched"
        )
    return "; ".join(parts) + "."


def _cost_card(report: ReportData) -> str:
    if report.held.empty:
        return _card(
            "cost",
            "—",
            "A month",
            "Not known: poolkit fetch --numbers fetches the numbers each location pays for.",
        )
    cost = report.cost
    idle = int(cost["idle_cost_cents"].sum())
    coverage = report.coverage
    everywhere = coverage["answered"] + coverage["not_fetched"]
    label = (
        "A month"
        if _every_location_read(coverage)
        else f"A month, {coverage['read']:,} of {everywhere:,} locations"
    )
    idle_numbers = counted("idle_numbers", int(cost["idle_numbers"].sum()), "number")
    sentence = (
        f"{html.escape(dollars(idle))} of it idle ({idle_numbers} answering nothing or in "
        f"idle pools). {cost_coverage_sentence(report)}"
    )
    return _card(
        "cost",
        dollars(int(cost["monthly_cost_cents"].sum())),
        label,
        sentence,
        "bad" if idle else "",
        count="monthly_cost",
    )


def _source_card(report: ReportData, data: str | os.PathLike) -> str:
    info = source_info(data)
    taken = info.get("taken_at")
    weeks = len(snapshots_of(report.history)) if report.history is not None else 1
    where = f"{counted('snapshots', weeks, 'snapshot')}; " if weeks > 1 else ""
    api = (
        f"API version {html.escape(str(info['api_version']))}. " if info.get("api_version") else ""
    )
    source = Path(info["source"]).name or info["source"]
    return _card(
        "source",
        day(taken) if taken else "unknown",
        "Data as of",
        (f"Taken {html.escape(moment(taken))}. " if taken else "No manifest says when. ")
        + f"{where}{api}Source: {html.escape(source)}.",
    )


def first_screen(report: ReportData, data: str | os.PathLike):
    """The five answers: how many locations (with pools, without, not fetched), what is
    wrong, what the numbers cost a month (the idle part, and what the total covers), what
    changed, where the data came from and when. Every count is marked (``data-count``)."""
    value, sentence = _changes_sentence(report)
    count = None if report.changes is None else len(report.changes)
    label = "Change" if count == 1 else "Changes"
    cards = [
        _locations_card(headline(report.tables)),
        _wrong_card(report.findings),
        _cost_card(report),
        _card("changed", value, label, sentence, count="" if count is None else "changes"),
        _source_card(report, data),
    ]
    masked = (
        '<p class="poolkit-masked"><i>Phone numbers are masked on this page (+1 512 ***-**01) '
        "for sharing outside the team; every count is made on the numbers themselves.</i></p>"
        if report.masked
        else ""
    )
    return _html(f'<div class="poolkit-cards">{"".join(cards)}</div>{masked}')


# ---------------------------------------------------------------------------------- what to do


def _count_line(found: pd.DataFrame, rule: str) -> str:
    """How many numbers, pools and locations a rule's findings are about (HTML), by their
    identity: a number by itself, a pool by ``pool_key`` (pools without an id too), never by
    the text shown."""
    numbers = found["phone_number"].dropna().nunique()
    pools = found["pool_key"].dropna().nunique()
    parts = []
    if numbers:
        parts.append(counted(f"{rule}:numbers", numbers, "number"))
    if pools:
        parts.append(counted(f"{rule}:pools", pools, "pool"))
    parts.append(counted(f"{rule}:locations", found["location_id"].nunique(), "location"))
    return ", ".join(parts)


def _where(found: pd.DataFrame, first: int = 3) -> str:
    """The first few places of the findings (already shown as they may be displayed), one
    per pool or location; pools that show the same name are told apart by their id."""
    places = found.drop_duplicates(["location_id", "pool_key"])
    labels = []
    for location, pool, pool_id in zip(places["location"], places["pool"], places["pool_id"]):
        location = location if isinstance(location, str) else "a location"
        labels.append((f"'{pool}'" if isinstance(pool, str) else None, location, pool_id))
    shown = Counter((pool, location) for pool, location, _ in labels)
    names = []
    for pool, location, pool_id in labels:
        if pool is None:
            names.append(location)
            continue
        same = shown[(pool, location)] > 1
        tell = f", id {pool_id}" if same and isinstance(pool_id, str) else ", no id" if same else ""
        names.append(f"{pool} ({location}{tell})")
    more = f" and {len(names) - first:,} more" if len(names) > first else ""
    return ", ".join(names[:first]) + more


def what_to_do(report: ReportData):
    """One line per rule that fired, most severe first (then most findings): how many,
    what to do, where first; every finding of the rule collapsed under its line, the two
    pools of a repeated number side by side. Counted on the findings themselves; shown
    masked when the report is."""
    findings = report.findings
    if findings.empty:
        return _html("<p><i>Nothing to do: no rule found fault.</i></p>")
    lines = []
    rules = findings.assign(severity=findings["severity"].astype(str), rule=findings["rule"])
    order = findings_summary(findings)  # the order of poolkit audit's summary and its chart
    for severity, rule, n in order[["severity", "rule", "findings"]].itertuples(index=False):
        severity = str(severity)
        found = rules[(rules["rule"] == rule).to_numpy()]
        if rule == "duplicate-number":
            found = found.sort_values(["phone_number", "location"], kind="stable")
        said = Explanation.of(_RULES.get(rule), found)  # the words of poolkit explain
        shown = report.shown(found)
        head = (
            f'<span class="poolkit-severity {severity}">'
            f"{counted(f'{rule}:findings', int(n), SEVERITY_NOUNS[severity])}</span> "
            f"<b>{html.escape(str(rule))}</b>: {html.escape(said.description)} "
            f"<span class='poolkit-count'>({_count_line(found, rule)})</span><br>"
            f"<i>{html.escape(said.action or '')}</i> First: {html.escape(_where(shown))}."
        )
        if said.why:
            head += f'<br><span class="poolkit-why">{WHY}: {html.escape(said.why)}</span>'

        table = shown[["location", "pool", "phone_number", "detail"]]
        body = html_table(table.rename(columns={"detail": "what"}))
        every = _collapsed("All " + plural(int(n), "finding"), body)
        lines.append(
            f'<div class="poolkit-todo {severity}" data-rule="{html.escape(str(rule))}">'
            f"<p>{head}</p>{every}</div>"
        )
    return _html("".join(lines))


# ------------------------------------------------------------------------------ the detail


def _takeaway(sentence: str) -> str:
    """A section's takeaway; ``sentence`` is HTML (its counts marked)."""
    return f'<p class="poolkit-takeaway">{sentence}</p>'


def _some_of_each(changes: pd.DataFrame, rows: int) -> pd.DataFrame:
    """Up to ``rows`` changes with every kind among them, each kind's first ones, in the
    changes' order."""
    kinds = max(changes["change"].nunique(), 1)
    picked = changes.groupby("change", observed=True, sort=False).head(max(rows // kinds, 1))
    return picked.head(rows)


def changes_section(report: ReportData):
    """What changed since the previous snapshot, named (a few of each kind, then all of
    them collapsed), and the counts over every snapshot as small multiples; a sentence
    where the data holds one snapshot."""
    parts = [_takeaway(_changes_sentence(report)[1])]
    if report.changes is None:
        return _html("".join(parts))
    found = report.changes
    if len(found):
        every = report.shown(found).assign(  # old and new are shown where a field changed
            change=found["change"].astype(str).str.replace("_", " "),
            field=found["field"].map(words, na_action="ignore"),
        )
        every = every[["change", "location", "pool", "phone_number", "field", "old", "new"]]
        first = _some_of_each(every, 10)
        parts.append(html_table(first))
        if len(found) > len(first):
            body = html_table(every, rows=LONG, rest="; poolkit diff lists them all")
            parts.append(_collapsed(f"All {plural(len(found), 'change')}", body))
    over_time = report.trend
    axes = Figure(figsize=(12, 2.6)).subplots(1, 3, gridspec_kw={"wspace": 0.3})
    for ax, measure in zip(axes, ("locations", "pools", "numbers")):
        plot_trend(over_time, measure, ax=ax)
    alt = f"Locations, pools and numbers over {len(over_time)} snapshots"
    parts.append(figure_html(axes[0], alt=alt))
    return _html("".join(parts))


def cost_section(report: ReportData, top: int = 10):
    """What the numbers each location holds cost a month, the idle part first, and what the
    total covers."""
    held, cost = report.held, report.cost
    if held.empty:
        return _html(
            _takeaway(
                "No inventory: poolkit fetch --numbers fetches the numbers each location holds "
                "(scope phonenumbers.read), in pools or not, and so what they cost."
            )
        )
    totals = held[["in_pools", "not_in_pool", "unreachable"]].sum()
    sentence = _takeaway(
        f"{html.escape(dollars(int(cost['monthly_cost_cents'].sum())))} a month, "
        f"{html.escape(dollars(int(cost['idle_cost_cents'].sum())))} of it idle. "
        f"{cost_coverage_sentence(report)} Of those, "
        f"{counted('numbers_in_pools', int(totals['in_pools']), 'number')} are in pools and "
        f"{counted('numbers_in_no_pool', int(totals['not_in_pool']), 'number')} in none "
        f"({counted('numbers_answering_nothing', int(totals['unreachable']), 'number')} "
        f"answer nothing). Rates: {html.escape(RATES_SOURCE)}."
    )
    ax = Figure(figsize=(10, 0.28 * min(len(held), top) + 1.2)).subplots()
    chart = figure_html(plot_monthly_cost(report.shown(cost), ax=ax, top=top))
    money = ["monthly_cost_cents", "idle_cost_cents"]
    per = cost_per_location(cost).set_index("location_id")[money]  # the chart's order
    rest = held.loc[~held["location_id"].isin(per.index), "location_id"]  # holding none
    shown = held.set_index("location_id").loc[[*per.index, *rest]].join(per).reset_index()
    shown[money] = shown[money].fillna(0)  # a location holding no number costs $0.00
    body = html_table(report.shown(shown.drop(columns="location_id")), rows=LONG, empty="")
    every = _collapsed(f"Every location whose numbers were read ({len(shown):,})", body)
    return _html(sentence + chart + every)


def locations_section(report: ReportData):
    """The locations without a pool and those not fetched (with why), then every location."""
    tables = report.tables
    counts = headline(tables)
    total = counts["locations"] + counts["locations_not_fetched"]
    left_out = " (left out of every share)" if counts["locations_not_fetched"] else ""
    sentence = f"{counted('locations', total, 'location')}: {_locations_parts(counts)}{left_out}."
    unused = locations_without_pools(tables).drop(columns="location_id")
    unused["error"] = unused["error"].map(reason, na_action="ignore").astype("string")
    unused = unused.rename(columns={"error": "why"})
    without = html_table(
        report.shown(unused), rows=20, empty="Every location has a pool and was fetched."
    )
    summary = location_summary(tables).drop(columns="location_id")
    body = html_table(report.shown(summary), rows=LONG)
    return _html(_takeaway(sentence) + without + _collapsed(f"Every location ({total:,})", body))


def adoption_section(report: ReportData):
    """The share of the locations using each feature, sorted; the change since the previous
    snapshot where there is one."""
    summary = feature_adoption_summary(report.tables)
    before = None
    if report.trend is not None:
        rows = report.trend
        previous = rows.iloc[-2]
        before = {c.removeprefix("share_"): previous[c] for c in rows if c.startswith("share_")}
    sentence = ""
    if len(summary) and summary["locations"].max():
        top = summary.sort_values("share", ascending=False, kind="stable").iloc[0]
        sentence = _takeaway(
            f"The feature used most: {html.escape(str(top['label']))} ({top['share']:.0%} of "
            "the locations that answered). A location counts when one of its pools has the "
            "feature."
        )
    ax = Figure(figsize=(10, 0.32 * max(len(summary), 3) + 1)).subplots()
    return _html(sentence + figure_html(plot_feature_shares(summary, ax=ax, before=before)))


def _service_sentence(mix: pd.DataFrame) -> str:
    """The most common inbound call service, and the share of pools with none."""
    none = mix.loc[mix["service_type"].astype(str) == NO_SERVICE, "share"].sum()
    served = mix[mix["service_type"].astype(str) != NO_SERVICE]
    if served.empty:
        return "No pool has an inbound call service."
    common = served.sort_values("pools", ascending=False, kind="stable").iloc[0]
    text = f"The most common service: {html.escape(str(common['service_type']))} "
    text += f"({common['share']:.0%} of pools)"
    return text + (f"; {none:.0%} of pools have none." if none else ".")


def pools_section(report: ReportData, top: int = 10):
    """Pool sizes and the services that answer them."""
    tables = report.tables
    per_pool = numbers_per_pool(tables)
    if per_pool.empty:
        return _html(_takeaway("No pools."))
    sizes = per_pool["number_count"].astype(float)
    largest = int(sizes.max())
    holds = "holds" if len(per_pool) == 1 else "hold"
    at_most = counted("largest_pools", int((sizes == largest).sum()), "pool")
    sentence = _takeaway(
        f"{counted('pools', len(per_pool), 'pool')} {holds} "
        f"{counted('pool_numbers', int(sizes.sum()), 'number')}: {sizes.median():,g} a pool at "
        f"the median, {largest:,} at most ({at_most}). {_service_sentence(service_mix(tables))}"
    )
    left, right = Figure(figsize=(12, 3.4)).subplots(1, 2, gridspec_kw={"wspace": 0.3})
    plot_numbers_per_pool(per_pool, ax=left, top=0)
    chart = figure_html(plot_service_types(tables, ax=right))
    columns = ["pool", "location", "number_count", "is_active", "service_type"]
    body = html_table(report.shown(per_pool[columns]), rows=top)
    title = (
        "The largest pool" if len(per_pool) == 1 else f"The {min(top, len(per_pool))} largest pools"
    )
    return _html(sentence + chart + _collapsed(title, body))


def numbers_section(report: ReportData):
    """Where the numbers are (by area, the long tail said) and local against toll-free."""
    tables = report.tables
    left, right = Figure(figsize=(12, 3.8)).subplots(
        1, 2, gridspec_kw={"width_ratios": [3, 2], "wspace": 0.35}
    )
    plot_number_areas(tables, ax=left, top=10)
    return _html(figure_html(plot_number_kinds(tables, ax=right)))


def problems_section(report: ReportData, data: str | os.PathLike):
    """What in the responses did not fit the API contract, collapsed."""
    problems = problems_summary(report.tables)
    if problems.empty:
        return _html(_takeaway("Every response fit what the API documents."))
    sentence = _takeaway(
        f"{counted('problems', len(report.tables.problems), 'value')} did not fit what the "
        "API documents; each record stays in its table with that value left empty."
    )
    base = Path(data).resolve()
    base = str(base if base.is_dir() else base.parent) + os.sep
    for column in [c for c in problems if c.endswith("source")]:
        problems[column] = problems[column].str.removeprefix(base)
    return _html(sentence + _collapsed("What did not fit", html_table(report.shown(problems))))
