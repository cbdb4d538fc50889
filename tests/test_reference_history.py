"""poolkit against the plain reference (tests/reference.py) on generated pairs of weeks: the
history's current state and the changes both ways. (Apart from test_reference.py so that the
two long property tests run on two workers.)"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import poolkit
from poolkit.history import changes
from poolkit.model import current

import reference
from robustness import fuzz, tally
from test_reference import (
    LABELS,
    WEEKS,
    agency_pairs,
    assert_agree,
    change_keys,
    describe,
    expected,
    finding_keys,
    headline_of,
    merged,
    write,
)


@fuzz(10, 700)
@given(cases=agency_pairs, whole=st.integers(0, 2))
def test_a_pair_of_weeks_agrees_with_the_reference(cases, whole):
    """Two generated weeks: the folder of both read as a history is diagnosed as the newest
    week (its locations only), and both directions of the comparison are the reference's
    changes. One pair in three is also described whole (adoption, inventory, cost) and read
    as plain responses (``poolkit audit RAW``), which must agree as well. Each case is up to
    six generated pairs merged into one agency."""
    tally("generated snapshot pairs checked against the reference", len(cases))
    before = merged([first for first, _ in cases])  # the pairs merged: one agency, two weeks
    after = merged([second for _, second in cases])
    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / "raw"
        write(raw / "a", before, WEEKS[0])
        write(raw / "b", after, WEEKS[1])
        want = expected(after)
        history = poolkit.read_history(raw)
        assert finding_keys(poolkit.audit(history)) == want["findings"]
        assert headline_of(current(history)) == want["headline"]
        assert change_keys(changes(history, *LABELS)) == reference.changes(before, after)
        assert change_keys(changes(history, *LABELS[::-1])) == reference.changes(after, before)
        if whole == 0:
            assert_agree(describe(history), want)
            raw_findings = poolkit.audit(poolkit.read_pools(raw, errors="record"))
            assert finding_keys(raw_findings) == want["findings"]
