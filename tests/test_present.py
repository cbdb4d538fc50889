"""How values read in the report, worked out by hand."""

from __future__ import annotations

import pandas as pd

from poolkit.present import day, moment, plural, readable, words


def test_values_read_as_a_person_writes_them():
    frame = pd.DataFrame(
        {
            "location_name": ["Austin", "Dallas"],
            "monthly_cost_cents": pd.Series([190945, 5], dtype="Int64"),
            "is_active": pd.Series([True, pd.NA], dtype="boolean"),
            "numbers": pd.Series([1611, 2], dtype="Int64"),
            "share": [0.8889, 0.5],
            "field": ["whisper_message", None],
            "old": ["Hi", None],
            "new": [None, "True"],
        }
    )
    shown = readable(frame, percent=("share",))
    assert list(shown.columns) == [
        "Location",
        "Monthly cost",
        "Is active",
        "Numbers",
        "Share",
        "Field",
        "Old",
        "New",
    ]
    assert shown.iloc[0].tolist() == [
        "Austin",
        "$1,909.45",
        "Yes",
        "1,611",
        "89%",
        "whisper_message",
        "Hi",
        "(none)",
    ]
    # no field named: no old value to miss (a number added, say), so no "(none)"
    assert shown.iloc[1].tolist() == ["Dallas", "$0.05", "", "2", "50%", "", "", "Yes"]


def test_days_headers_and_plurals():
    assert day("2026-10-26T150000Z") == "26 Oct 2026"  # a snapshot's label
    assert day("2026-11-02T15:00:00+00:00") == "2 Nov 2026"
    assert moment("2026-11-02T10:00:00-05:00") == "2 Nov 2026, 15:00 UTC"
    assert day("not a date") == "not a date"
    assert words("idle_cost_cents") == "Idle cost" and words("pool_name") == "Pool"
    assert plural(1, "location") == "1 location" and plural(1200, "number") == "1,200 numbers"
