"""Analysis results checked by hand on small inputs; charts drawn at every scale."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import poolkit
from poolkit import analysis, masking, plots
from poolkit.synthetic import SyntheticSpec, generate
from poolkit.tables import empty_tables

from conftest import envelope, make_pool


def numbers(n: int) -> list[dict]:
    return [{"phoneNumber": f"+1415555{i:04d}", "friendlyName": f"n{i}"} for i in range(n)]


@pytest.fixture
def tables() -> poolkit.PoolTables:
    """Location A: 3 pools, location B: 1 pool; flags and services chosen to check shares."""
    return poolkit.read_pools(
        [
            envelope(
                make_pool(
                    id="a1",
                    locationId="A",
                    numbers=numbers(5),
                    whisper=True,
                    callRecording=False,
                    isActive=True,
                    inboundCallService={"type": "ivr", "value": "x"},
                ),
                make_pool(
                    id="a2",
                    locationId="A",
                    numbers=numbers(1),
                    whisper=False,
                    callRecording=False,
                    isActive=False,
                    inboundCallService=None,
                    forwardingNumber="",
                ),
                make_pool(
                    id="a3",
                    locationId="A",
                    numbers=numbers(3),
                    whisper="yes",
                    callRecording=True,
                    isActive=True,
                    inboundCallService={"type": "voice_ai", "value": "y"},
                ),
            ),
            envelope(
                make_pool(
                    id="b1",
                    locationId="B",
                    numbers=numbers(2),
                    whisper=False,
                    callRecording=True,
                    isActive=True,
                    inboundCallService={"type": "ivr", "value": "z"},
                )
            ),
        ]
    )


def test_numbers_per_pool_sorted_with_context(tables):
    frame = analysis.numbers_per_pool(tables)
    assert frame["pool_id"].tolist() == ["a1", "a3", "b1", "a2"]
    assert frame["number_count"].tolist() == [5, 3, 2, 1]
    assert list(frame.columns) == [
        "location_id",
        "location",
        "pool_id",
        "pool",
        "is_active",
        "service_type",
        "number_count",
    ]


def test_service_mix_counts_none_as_its_own_category(tables):
    mix = analysis.service_mix(tables).set_index("service_type")
    assert (
        mix.loc["ivr", "pools"] == 2
        and mix.loc["voice_ai", "pools"] == 1
        and mix.loc["(none)", "pools"] == 1
    )
    assert mix["share"].sum() == pytest.approx(1.0)
    by = analysis.service_mix(tables, by="location_id")
    a = by[by["location_id"] == "A"].set_index("service_type")
    assert a.loc["ivr", "share"] == pytest.approx(1 / 3)
    assert by.groupby("location_id")["share"].sum().tolist() == pytest.approx([1.0, 1.0])


def test_feature_adoption_shares_per_location(tables):
    adoption = analysis.feature_adoption(tables).set_index("location_id")
    a = adoption.loc["A"]
    assert a["pools"] == 3
    assert a["whisper"] == pytest.approx(
        1 / 3
    )  # "yes" is not a boolean: NA, counted as not enabled
    assert a["call_recording"] == pytest.approx(1 / 3)
    assert a["active"] == pytest.approx(2 / 3)
    assert a["inbound_service"] == pytest.approx(2 / 3)
    assert a["forwarding"] == pytest.approx(2 / 3)  # "" is no forwarding number
    assert a["service_voice_ai"] == pytest.approx(1 / 3) and a["service_ivr"] == pytest.approx(
        1 / 3
    )
    assert adoption.loc["B", "whisper"] == 0 and adoption.loc["B", "call_recording"] == 1


def test_locations_lacking_a_feature_are_named(tables):
    """Issue 30: the adoption view says which locations lack a feature. In the fixture, B
    has no whisper pool and A has one (by hand); both have call recording; none lacks a
    pool."""
    lacking = analysis.locations_lacking(tables, "whisper")
    assert lacking["location_id"].tolist() == ["B"]
    assert analysis.locations_lacking(tables, "call_recording").empty
    assert analysis.locations_lacking(tables, "has_pool").empty
    with pytest.raises(poolkit.errors.ConfigurationError, match="unknown feature 'wisper'"):
        analysis.locations_lacking(tables, "wisper")


def test_locations_lacking_in_the_sample_agree_with_a_plain_count():
    """The sample, counted plainly from the pools: the locations that answered, less those
    with a whisper pool; those with no pool are among them."""
    sample = poolkit.load_sample()
    answered = set(sample.locations.loc[sample.locations["error"].isna(), "location_id"])
    with_whisper = set(sample.pools.loc[sample.pools["whisper"].eq(True), "location_id"])
    lacking = analysis.locations_lacking(sample, "whisper")
    assert set(lacking["location_id"]) == answered - with_whisper
    assert len(lacking) == 13


def test_feature_adoption_summary_counts_locations_using_a_feature_at_least_once(tables):
    summary = analysis.feature_adoption_summary(tables).set_index("feature")
    assert summary.loc["whisper", "locations_using"] == 1 and summary.loc["whisper", "share"] == 0.5
    assert summary.loc["call_recording", "locations_using"] == 2
    assert summary.loc["service_voice_ai", "locations_using"] == 1
    assert (summary["locations"] == 2).all()


def test_location_and_problem_summaries(tables):
    locations = analysis.location_summary(tables).set_index("location_id")
    assert locations.loc[
        "A", ["pools", "numbers", "active_pools", "pools_with_service"]
    ].tolist() == [3, 9, 2, 2]
    assert locations.loc["B", "active_share"] == 1
    problems = analysis.problems_summary(tables)
    assert problems["kind"].tolist() == ["whisper is a string, expected true or false"]
    assert problems["example_path"].tolist() == ["data[2].whisper"]
    assert analysis.headline(tables) == {
        "locations": 2,
        "locations_with_pools": 2,
        "locations_without_pools": 0,
        "locations_not_fetched": 0,
        "pools": 4,
        "numbers": 11,
        "pools_with_service": 3,
        "problems": 1,
    }


def test_analysis_of_empty_tables_is_empty_not_an_error():
    empty = empty_tables()
    for function in (
        analysis.numbers_per_pool,
        analysis.service_mix,
        analysis.feature_adoption,
        analysis.location_summary,
        analysis.problems_summary,
    ):
        assert function(empty).empty
    assert (analysis.feature_adoption_summary(empty)["locations_using"] == 0).all()


def test_mask_phone():
    assert masking.mask_phone("+14155552671") == "+1 415 ***-**71"
    assert masking.mask_phone("+442071234567") == "+44 ********67"
    assert masking.mask_phone(pd.NA) is pd.NA


def _synthetic(locations: int) -> poolkit.PoolTables:
    return poolkit.read_pools(
        [body for _, body in generate(SyntheticSpec(locations=locations, seed=4, problems=False))]
    )


@pytest.mark.parametrize("locations", [1, 12, 400])
def test_every_chart_returns_its_axes_at_every_scale(locations):
    data = _synthetic(locations)
    fig, axes = plt.subplots(1, 3)
    try:
        for function, ax in zip(
            (plots.plot_numbers_per_pool, plots.plot_service_types, plots.plot_feature_adoption),
            axes,
        ):
            assert function(data, ax=ax) is ax
            assert ax.get_title()
        pools = len(data.pools)
        if pools <= 30:  # one bar per pool, with its count
            assert len(axes[0].patches) == pools
            assert [t.get_text() for t in axes[0].texts] != []
        else:  # a distribution instead
            assert "distribution" in axes[0].get_title()
        if locations > 30:
            assert "distribution across" in axes[2].get_title()
        else:
            assert len(axes[2].images) == 1
    finally:
        plt.close(fig)


def test_empty_tables_give_an_empty_chart_with_a_message():
    for function in (
        plots.plot_numbers_per_pool,
        plots.plot_service_types,
        plots.plot_feature_adoption,
    ):
        ax = function(empty_tables())
        assert any("No pools" in t.get_text() for t in ax.texts)
        plt.close(ax.figure)


def test_service_colours_are_the_same_in_every_chart(tables):
    fig, (left, right) = plt.subplots(1, 2)
    plots.plot_numbers_per_pool(tables, ax=left)
    plots.plot_service_types(tables, ax=right)
    bar_colours = {
        label.get_text(): matplotlib.colors.to_hex(bar.get_facecolor())
        for label, bar in zip(right.get_yticklabels(), right.patches)
    }
    assert (
        bar_colours["ivr"] == plots.SERVICE_COLORS["ivr"]
        and bar_colours["(none)"] == plots.SERVICE_COLORS["(none)"]
    )
    legend = {
        t.get_text(): matplotlib.colors.to_hex(h.get_facecolor())
        for t, h in zip(left.get_legend().get_texts(), left.get_legend().legend_handles)
    }
    assert legend["ivr"] == bar_colours["ivr"] and legend["voice_ai"] == bar_colours["voice_ai"]
    plt.close(fig)
    # an undocumented type gets a colour from its name alone: pinned, so it cannot vary between runs
    ax = plots.plot_service_types(
        poolkit.read_pools(envelope(make_pool(inboundCallService={"type": "workflow"})))
    )
    assert [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in ax.patches] == ["#8c564b"]
    assert plots.service_color("workflow") == "#8c564b" and plots.service_color("sms") == "#bcbd22"
    plt.close(ax.figure)


def test_many_service_types_collapse_into_other():
    pools = [
        make_pool(id=f"p{i}", inboundCallService={"type": f"type{i:02d}", "value": "v"})
        for i in range(40)
    ]
    ax = plots.plot_service_types(poolkit.read_pools(envelope(*pools)), top=12)
    labels = [t.get_text() for t in ax.get_yticklabels()]  # from the top down
    assert len(labels) == 12 and labels[-1] == "other (29 types)"
    assert np.isclose(sum(p.get_width() for p in ax.patches), 40)
    plt.close(ax.figure)


def test_number_kinds_and_areas_from_enriched_numbers():
    tables = poolkit.read_pools(
        envelope(
            make_pool(
                numbers=[
                    {"phoneNumber": "+14155552671", "friendlyName": "a"},
                    {"phoneNumber": "+14155550123", "friendlyName": "b"},
                    {"phoneNumber": "+18005550100", "friendlyName": "c"},
                    {"phoneNumber": "+16045551234", "friendlyName": "d"},
                    {"phoneNumber": "+1415555", "friendlyName": "short"},
                    {"phoneNumber": "bad", "friendlyName": "e"},
                ]
            )
        )
    )
    kinds = analysis.number_kinds(tables).set_index("kind")["numbers"].to_dict()
    assert kinds == {"local": 3, "invalid or missing": 2, "toll-free": 1}
    areas = analysis.numbers_by_area(tables)
    assert areas.iloc[0].tolist()[:3] == ["US", "San Francisco, CA", 2]
    assert ("CA", "British Columbia") in set(zip(areas["region_code"], areas["area"]))
    assert ("US", "no geographic area") in set(zip(areas["region_code"], areas["area"]))
    fig, (left, right) = plt.subplots(1, 2)
    assert plots.plot_number_areas(tables, ax=left, top=2) is left
    assert len(left.patches) == 2  # the long tail is said in the title, not drawn
    rest = int(areas["numbers"].iloc[2:].sum())
    assert f"the top 2; the other {len(areas) - 2} hold {rest}" in left.get_title()
    legend = {
        t.get_text(): matplotlib.colors.to_hex(h.get_facecolor())
        for t, h in zip(left.get_legend().get_texts(), left.get_legend().legend_handles)
    }
    assert legend["US"] == plots.REGION_COLORS["US"]
    assert plots.plot_number_kinds(tables, ax=right) is right and len(right.patches) == 3
    plt.close(fig)
    empty = empty_tables()
    assert any("No numbers" in t.get_text() for t in plots.plot_number_areas(empty).texts)


def test_trend_small_multiples_fit_their_data_and_feature_shares_are_sorted():
    trend = pd.DataFrame(
        {
            "snapshot": ["2026-10-19T150000Z", "2026-10-26T150000Z", "2026-11-02T150000Z"],
            "locations": [44, 43, 45],
            "pools": [162, 160, 163],
            "numbers": [1579, 1590, 1611],
        }
    )
    fig, ax = plt.subplots()
    assert plots.plot_trend(trend, "numbers", ax=ax) is ax
    low, high = ax.get_ylim()
    assert low == 0 and 1611 < high < 2200  # from 0: 1,579 -> 1,611 is no spike
    assert ax.get_title() == "Numbers: 1,611 (+32)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["19 Oct", "26 Oct", "2 Nov"]
    plt.close(fig)
    summary = pd.DataFrame(
        {
            "feature": ["has_pool", "whisper", "forwarding"],
            "label": ["Has a pool", "Whisper", "Forwarding number"],
            "locations_using": [40, 32, 40],
            "locations": [45, 45, 45],
            "share": [40 / 45, 32 / 45, 40 / 45],
        }
    )
    fig, ax = plt.subplots()
    before = {"has_pool": 0.85, "whisper": 0.75, "forwarding": 40 / 45}
    assert plots.plot_feature_shares(summary, ax=ax, before=before) is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]  # from the top: a table's order
    assert labels == ["Has a pool", "Forwarding number", "Whisper"]  # a tie keeps its order
    assert ax.yaxis_inverted()
    texts = sorted(t.get_text().strip() for t in ax.texts)
    assert texts == ["71% (-4 pts)", "89% (+0 pts)", "89% (+4 pts)"]  # 88.9% against 85%
    plt.close(fig)


def test_analysis_outputs_name_the_locations_beside_their_ids():
    """A notebook shows names, not ids: each per-location output carries its location's
    name to show (``location``), and joins a table on the ids with no suffix."""
    sample = poolkit.load_sample()
    names = sample.locations.set_index("location_id")["location_name"].to_dict()
    for frame in (
        analysis.numbers_per_pool(sample),
        analysis.feature_adoption(sample),
        analysis.service_mix(sample, by="location_id"),
        analysis.location_summary(sample),
        analysis.inventory(sample),
        analysis.monthly_cost(sample),
    ):
        assert list(frame.columns[:2]) == ["location_id", "location"]
        assert frame["location"].tolist() == frame["location_id"].map(names).tolist()
        joined = frame.merge(sample.locations[["location_id", "location_name"]], on="location_id")
        assert not [c for c in joined if c.endswith(("_x", "_y"))]
    assert "pool" in analysis.numbers_per_pool(sample)


def test_monthly_cost_bars_put_the_idle_part_first_and_say_it_in_dollars():
    cost = pd.DataFrame(
        {
            "location_id": ["A", "A", "B", "C"],
            "location": ["Austin", "Austin", "Boston", "Chicago"],
            "monthly_cost_cents": [230, 215, 115, 345],
            "idle_cost_cents": [0, 215, 0, 115],
        }
    )
    fig, ax = plt.subplots()
    assert plots.plot_monthly_cost(cost, ax=ax, top=2) is ax
    # Austin: $4.45 with $2.15 idle; Chicago: $3.45 with $1.15 idle; Boston left out (top 2)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Chicago", "Austin"]
    labels = [t.get_text().strip() for t in ax.texts]
    assert labels == ["$3.45 ($1.15 idle)", "$4.45 ($2.15 idle)"]
    assert ax.get_title() == (
        "Monthly cost per location ($9.05 a month, 3 locations holding numbers; the top 2 by "
        "idle cost)"
    )
    plt.close(fig)


def _texts(ax) -> list:
    """Every piece of text drawn on ``ax``: tick labels, labels on bars, title, legend."""
    legend = ax.get_legend()
    drawn = [*ax.get_xticklabels(), *ax.get_yticklabels(), *ax.texts, ax.title]
    drawn += list(legend.get_texts()) if legend else []
    return [t for t in drawn if t.get_visible() and t.get_text().strip()]


def _overlapping(fig) -> list[tuple[str, str]]:
    """The pairs of drawn texts whose boxes overlap (by more than a pixel each way)."""
    import itertools

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for ax in fig.axes for t in _texts(ax)]
    found = []
    for (a, box), (b, other) in itertools.combinations(boxes, 2):  # within and across panels
        both = matplotlib.transforms.Bbox.intersection(box, other)
        if both is not None and both.width > 1 and both.height > 1:
            found.append((a, b))
    return found


LONG_NAME = "Nashville Family & Cosmetic Dentistry - Green Hills"


def test_no_label_is_drawn_over_another_at_the_reports_sizes():
    """Many kinds, many long service types, long location names, the sample's charts: the
    boxes of the drawn texts never overlap (the review found 'invalid or missing' drawn over
    'other (personal_number)')."""
    kinds = pd.DataFrame(
        {
            "kind": [
                "local",
                "toll-free",
                "mobile",
                "other (personal_number)",
                "invalid or missing",
            ],
            "numbers": [900, 50, 30, 12, 9],
        }
    )
    mix = pd.DataFrame(
        {
            "service_type": ["voice_ai", "ivr", "forward", "(none)", "workflow_automation_long"]
            + ["conversation_ai_bot", "custom_thing"],
            "pools": [40, 30, 20, 10, 5, 3, 1],
            "share": [0.37, 0.27, 0.18, 0.09, 0.05, 0.03, 0.01],
        }
    )
    cost = pd.DataFrame(
        {
            "location_id": ["L1", "L2"],
            "location": [LONG_NAME, "Bolt"],
            "type": ["local", "local"],
            "monthly_cost_cents": [6165, 115],
            "idle_cost_cents": [4110, 0],
        }
    )
    sample = poolkit.load_sample()
    charts = [
        ((4.8, 3.8), lambda ax: plots.plot_number_kinds(kinds, ax=ax)),
        ((6, 3.4), lambda ax: plots.plot_service_types(mix, ax=ax)),
        ((10, 2), lambda ax: plots.plot_monthly_cost(cost, ax=ax)),
        ((6, 3.4), lambda ax: plots.plot_service_types(sample, ax=ax)),
        ((6, 3.4), lambda ax: plots.plot_numbers_per_pool(sample, ax=ax, top=0)),
        ((7, 3.8), lambda ax: plots.plot_number_areas(sample, ax=ax, top=10)),
        ((10, 4), lambda ax: plots.plot_feature_shares(sample, ax=ax)),
    ]
    for size, draw in charts:
        fig, ax = plt.subplots(figsize=size)
        draw(ax)
        assert _overlapping(fig) == [], ax.get_title()
        plt.close(fig)
    # the report's two-panel figures, at the report's sizes (poolkit.sections)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.4), gridspec_kw={"wspace": 0.3})
    plots.plot_numbers_per_pool(sample, ax=left, top=0)
    plots.plot_service_types(mix, ax=right)
    assert _overlapping(fig) == []
    plt.close(fig)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [3, 2], "wspace": 0.35}
    )
    plots.plot_number_areas(sample, ax=left, top=10)
    plots.plot_number_kinds(kinds, ax=right)
    assert _overlapping(fig) == []
    plt.close(fig)


def test_charts_read_as_a_person_expects():
    # the trend's axis starts at 0; runs on one day are told apart by their time
    trend = pd.DataFrame(
        {"snapshot": ["2026-12-06T090000Z", "2026-12-06T150000Z"], "numbers": [1590, 1611]}
    )
    ax = plots.plot_trend(trend, "numbers")
    assert ax.get_ylim()[0] == 0
    assert [t.get_text() for t in ax.get_xticklabels()] == ["6 Dec\n09:00", "6 Dec\n15:00"]
    plt.close(ax.figure)
    # money as money: the dollar signs drawn, not taken for mathtext
    cost = pd.DataFrame(
        {
            "location_id": ["L1"],
            "location": [LONG_NAME],
            "type": ["local"],
            "monthly_cost_cents": [6165],
            "idle_cost_cents": [4110],
        }
    )
    ax = plots.plot_monthly_cost(cost)
    fig = ax.figure
    fig.canvas.draw()
    assert [t.get_text() for t in ax.texts] == [" $61.65 ($41.10 idle)"]
    # what the drawing does with the text: no mathtext, the dollar signs kept
    assert [t._preprocess_math(t.get_text())[1] for t in ax.texts] == [False]
    # a long name wrapped whole, not cut
    label = ax.get_yticklabels()[0].get_text()
    assert label.replace("\n", " ") == LONG_NAME and "…" not in label
    plt.close(fig)
    # one colour per service: the feature 'Service: voice_ai' is voice_ai's colour
    summary = analysis.feature_adoption_summary(poolkit.load_sample())
    ax = plots.plot_feature_shares(summary)
    order = list(summary.sort_values("share", ascending=False, kind="stable")["feature"])
    colour = matplotlib.colors.to_hex(ax.patches[order.index("service_voice_ai")].get_facecolor())
    assert colour == plots.SERVICE_COLORS["voice_ai"]
    plt.close(ax.figure)


def test_the_findings_chart_reads_top_down_as_the_summary_table_does():
    """Issue 30: the chart put errors at the bottom while the table puts them first. In the
    sample, worked out from its planted cases: 13 active pools without a route (errors),
    the most findings of any error rule, come first; the info rules come last."""
    findings = poolkit.audit(poolkit.load_sample())
    ax = plots.plot_findings(findings)
    ticks = sorted(ax.get_yticklabels(), key=lambda t: t.get_window_extent().y0, reverse=True)
    drawn = [t.get_text() for t in ticks]  # top of the chart first
    assert drawn[0] == "active-pool-without-route"
    assert set(drawn[-2:]) == {"recording-consent", "contract-problem"}
    severity = dict(findings.groupby("rule")["severity"].first().astype(str).items())
    ranks = [["error", "warning", "info"].index(severity[rule]) for rule in drawn]
    assert ranks == sorted(ranks)
    plt.close(ax.figure)
