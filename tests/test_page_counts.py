"""Every count on the report's page, masked or not, is made on pools and numbers themselves:
the cases a review found wrong, each written by hand, and the masked page against the plain
one count by count (``data-count`` marks), with a mutation that must make them differ."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

import poolkit
from poolkit import analysis, notebook
from poolkit.masking import masked, masked_frame
from poolkit.synthetic import write_snapshot

from conftest import AUSTIN, DALLAS, envelope, write_json
from conftest import clean_pool as pool
from pages import marks, page_text, render
from test_inventory import held_number, page


def alike(tmp_path: Path) -> Path:
    """Austin, by hand: three inactive pools named 'Sales' (one with id S1, two without),
    +15125550101 and +15125550201 (which mask alike, +1 512 ***-**01) each in two of them;
    its numbers: those two, +15125550301 (in no pool, answering nothing) listed twice."""
    sales = {"name": "Sales", "isActive": False}
    pools = [
        pool("S1", AUSTIN, "+15125550101", "+15125550201", **sales),
        pool(None, AUSTIN, "+15125550101", **sales),
        pool("", AUSTIN, "+15125550201", **sales),
    ]
    numbers = ["+15125550101", "+15125550201", "+15125550301", "+15125550301"]
    return write_snapshot(
        tmp_path / "alike",
        [(AUSTIN, envelope(*pools))],
        inventory={"L1": [page(*map(held_number, numbers))]},
    )


def test_numbers_that_mask_alike_and_pools_that_share_a_name_are_counted_apart(tmp_path):
    page_marks = dict(marks(render(alike(tmp_path), mask_numbers=True)))
    assert {k: page_marks[k] for k in page_marks if k.startswith(("duplicate", "inactive-"))} == {
        "duplicate-number:findings": "4 errors",  # each number, in each of its two pools
        "duplicate-number:numbers": "2 numbers",
        "duplicate-number:pools": "3 pools",
        "duplicate-number:locations": "1 location",
        "inactive-pool-with-numbers:findings": "3 warnings",
        "inactive-pool-with-numbers:pools": "3 pools",
        "inactive-pool-with-numbers:locations": "1 location",
    }
    # held once, though listed twice: 3 numbers at $1.15, every one idle
    assert page_marks["numbers_held"] == "3 numbers" and page_marks["monthly_cost"] == "$3.45"
    assert page_marks["idle_numbers"] == "3 numbers"


def test_what_to_do_names_pools_that_share_a_name_apart(tmp_path):
    text = page_text(render(alike(tmp_path), mask_numbers=True))
    first = text[text.index("inactive-pool-with-numbers") :].split("First: ")[1].split(".")[0]
    assert first == (
        "'Sales' (Acme Dental - Austin, id S1), 'Sales' (Acme Dental - Austin, no id), "
        "'Sales' (Acme Dental - Austin, no id)"
    )
    assert "+15125550101" not in text and "+1 512 ***-**01" in text


@pytest.mark.parametrize("case", ["sample", "alike", "weeks"])
def test_the_masked_page_marks_every_count_the_plain_page_does(case, tmp_path):
    data = {
        "sample": poolkit.sample.samples_path(),
        "alike": alike(tmp_path) if case == "alike" else None,
        "weeks": two_weeks(tmp_path) if case == "weeks" else None,
    }[case]
    plain, hidden = render(data), render(data, mask_numbers=True)
    assert len(marks(plain)) > 20 and marks(hidden) == marks(plain)
    said = "Phone numbers are masked on this page"
    assert said in hidden and said not in plain  # the masked page says it is
    assert plain != hidden  # masking changed what is shown


def test_counting_after_masking_is_caught(tmp_path, monkeypatch):
    """The mutation the comparison above exists for: tables and findings masked before the
    page counts them. The marks must then differ (two numbers that mask alike become one)."""
    data = alike(tmp_path)
    plain = marks(render(data))
    load_report = notebook.load_report

    def masked_first(data, *, mask_numbers=False, **options):
        report = load_report(data, **options)
        if not mask_numbers:
            return report
        return replace(report, tables=masked(report.tables), findings=masked_frame(report.findings))

    monkeypatch.setattr(notebook, "load_report", masked_first)
    mutated = marks(render(data, mask_numbers=True))
    assert marks(render(data)) == plain and mutated != plain
    assert ("duplicate-number:numbers", "1 number") in mutated


def two_weeks(tmp_path: Path) -> Path:
    from test_report import _two_weeks

    return _two_weeks(tmp_path / "weeks")


def test_a_number_an_inventory_lists_twice_is_held_and_billed_once_with_a_problem(tmp_path):
    folder = alike(tmp_path)
    tables = poolkit.read_pools(folder)
    row = analysis.inventory(tables).iloc[0]
    assert (row["numbers"], row["not_in_pool"], row["unreachable"]) == (3, 1, 1)
    cost = analysis.monthly_cost(tables)
    assert (int(cost["numbers"].sum()), int(cost["monthly_cost_cents"].sum())) == (3, 345)
    repeat = tables.problems[tables.problems["path"] == "numbers[3].phoneNumber"]
    assert repeat[["location_id", "value"]].values.tolist() == [["L1", '"+15125550301"']]  # JSON
    assert repeat["problem"].iloc[0] == (
        "listed again in the location's numbers (first at numbers[2] of L1.numbers.0.json): "
        "counted and costed once"
    )


def test_a_pool_without_location_id_is_its_files_location(tmp_path):
    """Austin's only pool has no locationId: Austin still has a pool, and the pool's number,
    which Austin holds, is no 'unreachable-number'."""
    lost = pool("A", AUSTIN, "+15125550101")
    del lost["locationId"]
    folder = write_snapshot(
        tmp_path / "s",
        [(AUSTIN, envelope(lost)), (DALLAS, envelope())],
        inventory={"L1": [page(held_number("+15125550101"))]},
    )
    tables = poolkit.read_pools(folder)
    counts = analysis.headline(tables)
    assert (counts["locations_with_pools"], counts["locations_without_pools"]) == (1, 1)
    assert tables.numbers["location_id"].tolist() == ["L1"]
    rules = set(poolkit.audit(tables)["rule"])
    assert "unreachable-number" not in rules and "missing-pool-number" not in rules
    problem = tables.problems.iloc[0]
    assert (problem["location_id"], problem["path"], problem["problem"]) == (
        "L1",
        "data[0].locationId",
        "pool has no locationId: counted as the location whose file it is in",
    )
    loose = write_json(tmp_path / "loose" / "L1.json", envelope(lost))  # no manifest: unknown
    assert poolkit.read_pools(loose).pools["location_id"].isna().all()


def test_a_number_in_a_location_or_pool_name_is_masked_wherever_the_page_shows_it(tmp_path):
    """Names are shown in the cost card, the cost and location tables, What to do: masked in
    every one of them."""
    austin = {**AUSTIN, "name": "Austin call 512-555-0199"}
    refused = {**DALLAS, "name": "Dallas line 214-555-0177"}
    folder = write_snapshot(
        tmp_path / "s",
        [
            (austin, envelope(pool("A", austin, "+15125550101", name="Ads 512 555 0188"))),
            (refused, envelope(pool("B", refused, isActive=False))),
        ],
        inventory={"L1": [page(held_number("+15125550101"), held_number("+15125550301"))]},
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["locations"]:
        if entry["location_id"] == "L2":
            entry["inventory"] = "unavailable: ForbiddenError"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    plain, hidden = render(folder), render(folder, mask_numbers=True)
    for name in ("512-555-0199", "214-555-0177", "512 555 0188"):
        assert name in plain and name not in hidden, name
    assert "Dallas line **********77 (access refused)" in page_text(hidden)


def test_the_small_print_of_a_page_reads_right(tmp_path):
    """A location holding no number costs $0.00 (its cells were blank); the most common
    service is a service, not '(none)'; the table of every location keeps both 'Active
    pools' and its share; the page names no README, table or exception."""
    folder = write_snapshot(
        tmp_path / "s",
        [
            (AUSTIN, envelope(pool("A", AUSTIN, inboundCallService=None))),
            (DALLAS, envelope(pool("B", DALLAS, inboundCallService=None))),
        ],
        inventory={"L1": [page()], "L2": [page(held_number("+12145550101"))]},
    )
    text = page_text(render(folder))
    assert "Acme Dental - Austin 0 0 0 0 0 $0.00 $0.00" in text  # no number held, no cost
    assert "No pool has an inbound call service." in text
    sample = render(poolkit.sample.samples_path())
    every = sample.split("Every location (46)")[1].split("</table>")[0]
    headers = re.findall(r"<th>([^<]*)</th>", every)
    assert "Active pools" in headers and "Share of pools active" in headers
    assert len(headers) == len(set(headers))
    said = page_text(sample)
    # counted by hand from the newest sample's files: forward 38, none 58 of 163 pools
    assert "The most common service: forward (23% of pools); 36% of pools have none." in said
    for developer_words in ("README", "tables.", "ForbiddenError", "Error:", "API contract"):
        assert developer_words not in said, developer_words
