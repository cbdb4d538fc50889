"""The audit: each rule fires on its case with the exact row expected and stays quiet on a
near miss; custom rules, broken rules, select and ignore; the command line's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import poolkit
from poolkit.cli import main
from poolkit.masking import masked_frame
from poolkit.synthetic import AUDIT_CASES, CLEAN_LOCATION, SAMPLE, generate
from poolkit.tables import empty_tables

from conftest import AUSTIN, DALLAS, envelope, snapshot
from conftest import clean_pool as pool

SOURCES = "RCFP Reporter's Recording Guide; recordphonecall.com, one-party vs all-party consent"
NOT_LEGAL_ADVICE = (
    "A prompt to check, not legal advice: the API cannot show whether a recording notice plays."
)


def audited(tmp_path: Path, *pools: dict, locations=(AUSTIN, DALLAS), **options) -> pd.DataFrame:
    return poolkit.audit(
        poolkit.read_pools(snapshot(tmp_path / "snap", *pools, locations=locations)), **options
    )


def rows(findings: pd.DataFrame, rule: str | None = None) -> list[dict]:
    """Findings as plain dicts (NA as None), without the suggestion and the pool key."""
    chosen = findings if rule is None else findings[findings["rule"] == rule]
    return [
        {
            k: (None if pd.isna(v) else v)
            for k, v in row.items()
            if k not in ("suggestion", "pool_key")
        }
        for row in chosen.astype(object).to_dict("records")
    ]


def finding(severity, rule, location, pool_id, detail, phone=None) -> dict:
    return {
        "severity": severity,
        "rule": rule,
        "location_id": location["id"],
        "location": location["name"],
        "pool_id": pool_id,
        "pool": None if pool_id is None else f"Pool {pool_id}",
        "phone_number": phone,
        "detail": detail,
    }


def test_clean_pools_give_no_finding(tmp_path):
    found = audited(
        tmp_path,
        pool("A", AUSTIN, "+15125552671", "+15125552672", whisper=True, whisperMessage="Ads"),
        pool("B", DALLAS, "+15125552673", callRecording=True, inboundCallService=None),
        pool("C", DALLAS, isActive=False, forwardingNumber=""),
    )
    assert found.empty and list(found.columns) == list(poolkit.findings.FINDING_DTYPES)


def test_duplicate_number_within_and_across_locations(tmp_path):
    found = audited(
        tmp_path,
        pool("A", AUSTIN, "+15125552671", "+15125552672"),
        pool("B", AUSTIN, "+15125552672"),
        pool("C", DALLAS, "+15125552671"),
        pool("D", DALLAS, "+15125552673", "+15125552674"),  # near miss: one digit off
    )
    across = "+15125552671 is in 2 pools across 2 locations: 'Pool A' (Acme Dental - Austin), "
    across += "'Pool C' (Bolt HVAC - Dallas)"
    within = "+15125552672 is in 2 pools: 'Pool A' (Acme Dental - Austin), "
    within += "'Pool B' (Acme Dental - Austin)"
    assert rows(found) == [
        finding("error", "duplicate-number", AUSTIN, "A", across, "+15125552671"),
        finding("error", "duplicate-number", AUSTIN, "A", within, "+15125552672"),
        finding("error", "duplicate-number", AUSTIN, "B", within, "+15125552672"),
        finding("error", "duplicate-number", DALLAS, "C", across, "+15125552671"),
    ]
    assert found["suggestion"].iloc[0] == (
        "Keep the number in one pool, once: a call to it can be attributed to one pool only."
    )


def test_a_pool_repeated_in_its_response_is_a_problem_not_a_duplicate_number(tmp_path):
    twice = pool("A", AUSTIN, "+15125552671")
    found = audited(tmp_path, twice, dict(twice))
    assert set(found["rule"]) == {"contract-problem"}


def test_forwarding_loop_to_own_number_and_to_another_pools(tmp_path):
    found = audited(
        tmp_path,
        pool("A", AUSTIN, "+15125552671", forwardingNumber="+15125552671"),
        pool(
            "B",
            AUSTIN,
            "+15125552672",
            forwardingNumber="",
            inboundCallService={"type": "forward", "value": "+15125552673"},
        ),
        pool("C", DALLAS, "+15125552673"),
        # near misses: one digit off; an IVR whose value happens to be a pool number
        pool("D", DALLAS, "+15125552674", forwardingNumber="+15125552675"),
        pool(
            "E", DALLAS, "+15125552676", inboundCallService={"type": "ivr", "value": "+15125552674"}
        ),
    )
    assert rows(found) == [
        finding(
            "error",
            "forwarding-loop",
            AUSTIN,
            "A",
            "The forwarding number of 'Pool A' is +15125552671, one of its own numbers: its "
            "calls come straight back in.",
            "+15125552671",
        ),
        finding(
            "error",
            "forwarding-loop",
            AUSTIN,
            "B",
            "The forward service number of 'Pool B' is +15125552673, a number of pool 'Pool C' "
            "(Bolt HVAC - Dallas): its calls come straight back in.",
            "+15125552673",
        ),
    ]


def test_active_pool_without_route(tmp_path):
    no_route = {"forwardingNumber": "", "inboundCallService": None}
    found = audited(
        tmp_path,
        pool("A", AUSTIN, "+15125552671", "+15125552672", **no_route),
        pool("B", AUSTIN, "+15125552673", **dict(no_route, isActive=False)),  # near misses
        pool("C", AUSTIN, "+15125552674", inboundCallService=None),
        pool("D", AUSTIN, "+15125552675", forwardingNumber=""),
    )
    assert rows(found, "active-pool-without-route") == [
        finding(
            "error",
            "active-pool-without-route",
            AUSTIN,
            "A",
            "'Pool A' is active with 2 numbers, but has no inbound call service and no "
            "forwarding number: its calls go nowhere.",
        )
    ]
    assert set(found["rule"]) == {"active-pool-without-route", "inactive-pool-with-numbers"}


def test_empty_active_pool_and_inactive_pool_with_numbers(tmp_path):
    found = audited(
        tmp_path,
        pool("A", AUSTIN),
        pool("B", AUSTIN, "+15125552671", "+15125552672", "+15125552673", isActive=False),
        pool("C", DALLAS, isActive=False),  # near misses: inactive and empty; a flag that
        pool("D", DALLAS, "+15125552674", isActive="false"),  # is a string (a problem)
        pool("E", DALLAS, "+15125552675"),
    )
    assert rows(found) == [
        finding(
            "warning",
            "empty-active-pool",
            AUSTIN,
            "A",
            "'Pool A' is active but holds no numbers: no visitor can be given one.",
        ),
        finding(
            "warning",
            "inactive-pool-with-numbers",
            AUSTIN,
            "B",
            "'Pool B' is inactive but holds 3 numbers, paid for and unused.",
        ),
        finding(
            "info",
            "contract-problem",
            DALLAS,
            "D",
            'data[1].isActive: isActive is a string, expected true or false (value "false") '
            "in L2.json.",
        ),
    ]


def test_whisper_without_message_and_empty_service_value(tmp_path):
    found = audited(
        tmp_path,
        pool("A", AUSTIN, "+15125552671", whisper=True, whisperMessage="  "),
        pool("B", AUSTIN, "+15125552672", inboundCallService={"type": "ivr", "value": ""}),
        pool("C", AUSTIN, "+15125552673", whisper=False, whisperMessage=""),  # near misses
        pool("D", AUSTIN, "+15125552674", whisper=True, whisperMessage="Google Ads"),
        pool("E", AUSTIN, "+15125552675", inboundCallService={"type": "ivr", "value": "m-1"}),
        pool("F", AUSTIN, "+15125552676", inboundCallService=None),
    )
    assert rows(found) == [
        finding(
            "warning",
            "empty-service-value",
            AUSTIN,
            "B",
            "'Pool B' has a ivr inbound call service with no value: nothing says where its "
            "calls go.",
        ),
        finding(
            "warning",
            "whisper-without-message",
            AUSTIN,
            "A",
            "'Pool A' has whisper on but no whisper message: whoever answers hears nothing.",
        ),
    ]


def test_invalid_numbers_in_pools_forwarding_and_forward_services(tmp_path):
    found = audited(
        tmp_path,
        pool("A", AUSTIN, "+15125552671", "+15550100123"),
        pool("B", AUSTIN, "+15125552672", forwardingNumber="+15550100199"),
        pool("C", AUSTIN, inboundCallService={"type": "forward", "value": "+1555"}),
        pool("D", AUSTIN, "+18005551234", "+442071838750"),  # near misses: valid
    )
    reason = " is not a valid phone number (libphonenumber): calls to it cannot connect."
    assert rows(found, "invalid-number") == [
        finding(
            "warning",
            "invalid-number",
            AUSTIN,
            "A",
            "The pool number +15550100123" + reason,
            "+15550100123",
        ),
        finding(
            "warning",
            "invalid-number",
            AUSTIN,
            "B",
            "The forwarding number +15550100199" + reason,
            "+15550100199",
        ),
        finding(
            "warning",
            "invalid-number",
            AUSTIN,
            "C",
            "The forward service number +1555" + reason,
            "+1555",
        ),
    ]


def test_recording_consent_by_state_code_or_name(tmp_path):
    chicago = {"id": "L3", "name": "Cielo Spa - Chicago", "state": "IL", "country": "US"}
    reno = {"id": "L4", "name": "Desert Roofing - Reno", "state": "nevada", "country": "US"}
    perth = {"id": "L5", "name": "Emu Dental - Perth", "state": "WA", "country": "AU"}
    places = (AUSTIN, chicago, reno, perth)
    found = audited(
        tmp_path,
        pool("A", chicago, "+13125552680", callRecording=True),
        pool("B", reno, "+17755552680", callRecording=True),
        pool("C", chicago, "+13125552681", callRecording=False),  # near misses: recording
        pool("D", AUSTIN, "+15125552671", callRecording=True),  # off; a one-party state;
        pool("E", perth, "+61893452000", callRecording=True),  # WA in Australia
        locations=places,
    )
    assert rows(found) == [
        finding(
            "info",
            "recording-consent",
            chicago,
            "A",
            "'Pool A' records calls in Illinois, where every party to a call must consent to "
            f"its recording (sources: {SOURCES}; compiled 2026-11-27). {NOT_LEGAL_ADVICE}",
        ),
        finding(
            "info",
            "recording-consent",
            reno,
            "B",
            "'Pool B' records calls in Nevada, where sources disagree on whether every party "
            f"must consent (sources: {SOURCES} (they disagree or the law is mixed); compiled "
            f"2026-11-27). {NOT_LEGAL_ADVICE}",
        ),
    ]


def test_contract_problems_are_findings_with_their_path(tmp_path):
    found = audited(
        tmp_path,
        pool("A", AUSTIN, "+15125552671", callRecording="yes"),
        pool("B", AUSTIN, "+15125552672"),  # near miss: fits the contract
    )
    assert rows(found) == [
        finding(
            "info",
            "contract-problem",
            AUSTIN,
            "A",
            "data[0].callRecording: callRecording is a string, expected true or false (value "
            '"yes") in L1.json.',
        )
    ]


def test_findings_sorted_by_severity_then_location_with_fixed_dtypes(tmp_path):
    found = audited(
        tmp_path,
        pool("A", DALLAS, "+15125552671", callRecording="yes"),  # info, Bolt
        pool("B", DALLAS, whisper=True),  # warnings, Bolt
        pool("C", AUSTIN, "+15125552672", isActive=False),  # warning, Acme
        pool("D", DALLAS, "+15125552673", forwardingNumber="", inboundCallService=None),
    )
    assert [(r["severity"], r["location"], r["pool_id"]) for r in rows(found)] == [
        ("error", "Bolt HVAC - Dallas", "D"),
        ("warning", "Acme Dental - Austin", "C"),
        ("warning", "Bolt HVAC - Dallas", "B"),  # empty-active-pool
        ("warning", "Bolt HVAC - Dallas", "B"),  # whisper-without-message
        ("info", "Bolt HVAC - Dallas", "A"),
    ]
    assert found["severity"].dtype == pd.CategoricalDtype(["info", "warning", "error"], True)
    # ordered from the least severe: ">= warning" is a warning or worse
    assert found[found["severity"] >= "warning"]["severity"].tolist() == [
        "error",
        "warning",
        "warning",
        "warning",
    ]
    assert {str(t) for c, t in found.dtypes.items() if c not in ("severity", "pool_key")} == {
        "string"
    }
    empty = poolkit.audit(empty_tables())
    assert empty.empty and (empty.dtypes == found.dtypes).all()


def test_custom_rules_run_and_a_broken_rule_becomes_an_error_finding(tmp_path):
    @poolkit.findings.rule("small-pool", "info", "A pool with fewer than two numbers.")
    def small_pool(tables):
        small = tables.pools[tables.pools["number_count"] < 2]
        return small[["location_id", "pool_id"]].assign(detail="fewer than two numbers")

    def broken_rule(tables):
        return 1 / 0

    found = audited(
        tmp_path,
        pool("A", AUSTIN, "+15125552671"),
        pool("B", AUSTIN, "+15125552672", "+15125552673", whisper=True),
        rules=[*poolkit.RULES, small_pool, broken_rule],
    )
    assert [(r["severity"], r["rule"], r["pool_id"]) for r in rows(found)] == [
        ("error", "broken-rule", None),
        ("warning", "whisper-without-message", "B"),
        ("info", "small-pool", "A"),
    ]
    assert found["detail"].iloc[0] == (
        "The rule broken-rule failed: ZeroDivisionError: division by zero"
    )


def test_select_and_ignore_by_rule_id(tmp_path):
    folder = snapshot(
        tmp_path / "snap",
        pool("A", AUSTIN, "+15125552671", isActive=False),
        pool("B", AUSTIN, whisper=True),
    )
    tables = poolkit.read_pools(folder)
    every = set(poolkit.audit(tables)["rule"])
    assert every == {"inactive-pool-with-numbers", "empty-active-pool", "whisper-without-message"}
    ignored = poolkit.audit(tables, ignore=["empty-active-pool"])
    assert set(ignored["rule"]) == every - {"empty-active-pool"}
    assert set(poolkit.audit(tables, select=["whisper-without-message"])["rule"]) == {
        "whisper-without-message"
    }
    with pytest.raises(poolkit.errors.ConfigurationError, match="unknown rule 'no-such-rule'"):
        poolkit.audit(tables, ignore=["no-such-rule"])


def test_every_rule_has_a_stable_id_severity_and_description():
    assert [r.id for r in poolkit.RULES] == [
        "duplicate-number",
        "forwarding-loop",
        "active-pool-without-route",
        "empty-active-pool",
        "inactive-pool-with-numbers",
        "whisper-without-message",
        "empty-service-value",
        "invalid-number",
        "recording-consent",
        "contract-problem",
        "unreachable-number",
        "missing-pool-number",
        "inactive-account",
    ]
    for rule in poolkit.RULES:  # the guide lists each (tests/test_docs.py)
        assert rule.severity in ("error", "warning", "info") and rule.description.endswith(".")


def test_the_command_line_lists_every_planted_case_and_none_of_the_controls(tmp_path, capsys):
    """One planted case per rule among clean control pools in both locations."""
    controls = [
        pool("ok1", AUSTIN, "+15125550101", "+15125550102", whisper=True, whisperMessage="Hi"),
        pool("ok2", DALLAS, "+12145550103", inboundCallService=None),
        pool("ok3", DALLAS, isActive=False, forwardingNumber=""),
    ]
    chicago = {"id": "L3", "name": "Cielo Spa - Chicago", "state": "IL", "country": "US"}
    planted = [
        pool("dup1", AUSTIN, "+15125552671"),
        pool("dup2", DALLAS, "+15125552671"),
        pool("loop", AUSTIN, "+15125552672", forwardingNumber="+15125552672"),
        pool("noroute", AUSTIN, "+15125552673", forwardingNumber="", inboundCallService=None),
        pool("empty", DALLAS),
        pool("idle", DALLAS, "+12145552674", isActive=False),
        pool("whisper", DALLAS, "+12145552675", whisper=True),
        pool("service", AUSTIN, "+15125552676", inboundCallService={"type": "ivr", "value": ""}),
        pool("invalid", AUSTIN, "+15550100123"),
        pool("consent", chicago, "+13125552680", callRecording=True),
        pool("problem", AUSTIN, "+15125552677", whisper="no"),
    ]
    places = (AUSTIN, DALLAS, chicago)
    dirty = snapshot(tmp_path / "dirty", *controls, *planted, locations=places)
    out = tmp_path / "findings.json"
    assert main(["audit", str(dirty), "--format", "json", "--out", str(out)]) == 1
    listed = {(f["rule"], f["pool_id"]) for f in json.loads(out.read_text())}
    assert listed == {
        ("duplicate-number", "dup1"),
        ("duplicate-number", "dup2"),
        ("forwarding-loop", "loop"),
        ("active-pool-without-route", "noroute"),
        ("empty-active-pool", "empty"),
        ("inactive-pool-with-numbers", "idle"),
        ("whisper-without-message", "whisper"),
        ("empty-service-value", "service"),
        ("invalid-number", "invalid"),
        ("recording-consent", "consent"),
        ("contract-problem", "problem"),
    }
    clean = snapshot(tmp_path / "clean", *controls)
    assert main(["audit", str(clean), "--fail-on", "error"]) == 0
    assert "2 locations audited: 0 errors, 0 warnings, 0 notes" in capsys.readouterr().out


def test_exit_codes_follow_fail_on_and_usage_errors_exit_2(tmp_path, capsys):
    warned = snapshot(tmp_path / "warned", pool("idle", AUSTIN, "+15125552671", isActive=False))
    assert main(["audit", str(warned)]) == 0  # a warning, below the default --fail-on error
    assert main(["audit", str(warned), "--fail-on", "warning"]) == 1
    assert main(["audit", str(warned), "--fail-on", "never", "--format", "csv"]) == 0
    csv_text = capsys.readouterr().out
    assert "inactive-pool-with-numbers" in csv_text
    assert csv_text.splitlines()[-1].startswith("warning,inactive-pool-with-numbers,L1,")
    assert main(["audit", str(warned), "--select", "no-such-rule"]) == 2
    assert main(["audit", str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["audit", str(warned), "--format", "xml"])
    assert exc.value.code == 2


def test_the_sample_has_a_case_of_every_rule_and_a_clean_location():
    found = poolkit.audit(poolkit.load_sample())
    assert set(found["rule"]) == {r.id for r in poolkit.RULES}
    locations = [location["id"] for location, _ in generate(SAMPLE)]
    for rule, index in AUDIT_CASES.items():
        assert locations[index] in set(found.loc[found["rule"] == rule, "location_id"]), rule
    clean = locations[CLEAN_LOCATION]
    assert clean in set(poolkit.load_sample().pools["location_id"])
    assert clean not in set(found["location_id"])


def test_masked_findings_hide_numbers_but_not_dates(tmp_path):
    chicago = {"id": "L3", "name": "Cielo Spa - Chicago", "state": "IL", "country": "US"}
    found = audited(
        tmp_path,
        pool("A", chicago, "+13125552680", forwardingNumber="+13125552680", callRecording=True),
        locations=(chicago,),
    )
    masked = masked_frame(found)
    text = masked.to_csv()
    assert "3125552680" not in text and "+1 312 ***-**80" in set(masked["phone_number"])
    assert "is **********80, one of its own numbers" in text
    assert "compiled 2026-11-27" in text and set(masked["rule"]) == set(found["rule"])


def test_a_number_listed_twice_in_one_pool_and_a_pool_without_location():
    nowhere = pool("Z", {"id": None}, "+15125552671")  # no locationId: a problem row too
    response = envelope(
        pool("A", AUSTIN, "+15125552672", "+15125552673", "+15125552672"),
        pool("B", AUSTIN, "+15125552671"),
        nowhere,
    )
    found = poolkit.audit(poolkit.read_pools(response), select=["duplicate-number"])
    assert rows(found) == [
        {
            "severity": "error",
            "rule": "duplicate-number",
            "location_id": "L1",
            "location": "L1",  # no location details in a bare response: the id
            "pool_id": "A",
            "pool": "Pool A",
            "phone_number": "+15125552672",
            "detail": "+15125552672 is listed 2 times in 'Pool A' (L1)",
        },
        {
            "severity": "error",
            "rule": "duplicate-number",
            "location_id": "L1",
            "location": "L1",
            "pool_id": "B",
            "pool": "Pool B",
            "phone_number": "+15125552671",
            "detail": "+15125552671 is in 2 pools: 'Pool B' (L1), 'Pool Z' (an unknown location)",
        },
        {
            "severity": "error",
            "rule": "duplicate-number",
            "location_id": None,
            "location": None,
            "pool_id": "Z",
            "pool": "Pool Z",
            "phone_number": "+15125552671",
            "detail": "+15125552671 is in 2 pools: 'Pool B' (L1), 'Pool Z' (an unknown location)",
        },
    ]


def test_a_forward_written_otherwise_still_loops_and_misformed_numbers_are_warnings(tmp_path):
    found = audited(
        tmp_path,
        pool(
            "A",
            AUSTIN,
            "+15125552671",
            forwardingNumber="",
            inboundCallService={"type": "forward", "value": "(512) 555-2671"},
        ),
        pool(
            "B", AUSTIN, "(512) 555-2672", forwardingNumber="512-555-0148", inboundCallService=None
        ),
    )
    assert [(r["rule"], r["pool_id"], r["phone_number"]) for r in rows(found)] == [
        ("forwarding-loop", "A", "+15125552671"),  # read as a US number: the location's
        ("invalid-number", "B", "(512) 555-2672"),
        ("invalid-number", "B", "512-555-0148"),
        ("contract-problem", "B", None),
        ("contract-problem", "B", None),
    ]  # B has a forwarding number, if a misformed one: not "without a route"
    assert rows(found)[2]["detail"] == (
        "The forwarding number 512-555-0148 is not in E.164 form (such as +14155552671), as "
        "the API documents it."
    )


def test_several_snapshots_are_audited_as_each_location_is_now(tmp_path):
    from datetime import datetime, timezone

    raw = tmp_path / "raw"
    week1, week2 = (datetime(2026, 11, d, 8, tzinfo=timezone.utc) for d in (19, 26))
    snapshot(raw / "a", pool("A", AUSTIN, "+15125552671"), pool("B", AUSTIN), taken_at=week1)
    snapshot(raw / "b", pool("A", AUSTIN), pool("B", AUSTIN, "+15125552671"), taken_at=week2)
    everything = poolkit.read_pools(raw)  # both snapshots: the number in A, then in B
    assert len(everything.pools) == 4
    found = poolkit.audit(everything)
    assert [(r["rule"], r["pool_id"]) for r in rows(found)] == [("empty-active-pool", "A")]
    history = poolkit.history.read_history(raw)
    assert rows(poolkit.audit(history)) == rows(found)


def test_bad_custom_rules_and_an_empty_selection(tmp_path):
    def shouting(tables):
        return pd.DataFrame({"severity": ["critical"], "detail": ["!"]})

    def named(tables):  # names are audit's to fill in: given ones are replaced
        return pd.DataFrame({"location_id": ["L1"], "location": ["x"], "detail": ["ok"]})

    found = audited(tmp_path, pool("A", AUSTIN, "+15125552671"), rules=[shouting, named])
    assert [(r["severity"], r["rule"], r["location"]) for r in rows(found)] == [
        ("error", "shouting", None),
        ("warning", "named", "Acme Dental - Austin"),
    ]
    assert "severities other than" in found["detail"].iloc[0]
    with pytest.raises(poolkit.errors.ConfigurationError, match="no rule left to run"):
        audited(
            tmp_path / "b",
            pool("A", AUSTIN),
            select=["forwarding-loop"],
            ignore=["forwarding-loop"],
        )


def test_audit_and_diff_mask_numbers_when_asked(tmp_path, capsys):
    sample = poolkit.sample_path()
    older = sample.parent / "2026-10-26T150000Z"
    plain = poolkit.audit(poolkit.read_pools(sample, errors="record"))
    numbers = set(plain["phone_number"].dropna()) | set(
        poolkit.read_pools(sample, errors="record").numbers["phone_number"].dropna()
    )
    for args in (["audit", str(sample)], ["diff", str(older), str(sample), "--format", "csv"]):
        main(args)
        plain_out = capsys.readouterr().out
        assert [n for n in numbers if n in plain_out], args  # there are numbers to mask
        main([*args, "--mask-numbers"])
        out = capsys.readouterr().out
        assert out and not [n for n in numbers if n in out], args
    main(["audit", str(sample), "--format", "csv", "--mask-numbers"])
    masked_rows = capsys.readouterr().out.count("\n")
    main(["audit", str(sample), "--format", "csv"])
    assert capsys.readouterr().out.count("\n") == masked_rows  # the same findings, masked
