"""``poolkit rules`` and ``poolkit explain RULE`` (issue 30), as ``ruff rule`` does: every rule
listed and explained, in the words the report's "What to do" shows."""

from __future__ import annotations

import pytest

import poolkit
from poolkit.cli import main

from pages import page_text, render


def test_rules_lists_every_rule_with_its_severity(capsys):
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [[r.id, r.severity] for r in poolkit.RULES]
    assert len(lines) == 13


@pytest.mark.parametrize("checked", poolkit.RULES, ids=lambda r: r.id)
def test_explain_says_what_why_an_example_and_what_to_do(checked, capsys):
    assert main(["explain", checked.id]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith(f"{checked.id} ({checked.severity}) {checked.description}")
    assert f"Why it matters: {checked.why}" in text and len(checked.why) > 40
    assert "For example, in the shipped sample: " in text  # every rule fires in the sample
    assert "What to do: " in text


def test_explain_takes_its_words_from_where_the_report_does(capsys):
    """Worked out by hand from the sample's report: its forwarding loop is 'Facebook Lead
    Ads' of Pioneer Dental - Dallas, and the report's line for the rule reads the same
    description and advice as ``poolkit explain``."""
    assert main(["explain", "forwarding-loop"]) == 0
    explained = " ".join(capsys.readouterr().out.split())
    assert "'Facebook Lead Ads' is +12143892004, one of its own numbers" in explained
    advice = "Forward to a number outside the pools (a person's phone, a call centre)"
    assert advice in explained
    page = page_text(render(poolkit.sample_path()))
    rule = next(r for r in poolkit.RULES if r.id == "forwarding-loop")
    assert f"forwarding-loop : {rule.description}" in page and advice in page
    assert f"Why it matters: {' '.join(rule.why.split())}" in page


def test_explain_an_unknown_rule_is_a_usage_error(capsys):
    assert main(["explain", "no-such-rule"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown rule 'no-such-rule'" in err and "poolkit rules" in err
