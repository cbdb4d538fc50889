"""Notebooks executed end to end; the HTML report built and opened in real headless Chromium."""

from __future__ import annotations

import copy
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
import papermill
import pytest

import poolkit
from poolkit import masking, notebook
from poolkit.cli import main
from poolkit.report import build_report
from poolkit.synthetic import SyntheticSpec, active_number_pages, generate, write_snapshot

from pages import card, page_text

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = REPO / "reports"


def test_the_report_notebook_in_a_kernel_shows_what_poolkit_report_writes(tmp_path: Path):
    """The report notebook as JupyterLab runs it (a kernel, papermill) shows what the page
    ``poolkit report`` builds in its own process holds, block for block and nothing else:
    the markdown cells and each code cell's output, in order (the pictures' bytes aside)."""
    import mistune

    data = str((REPO / "data" / "sample").resolve())  # as poolkit report names it
    executed = papermill.execute_notebook(
        str(REPO / "poolkit" / "report.ipynb"),
        str(tmp_path / "report.ipynb"),
        kernel_name="python3",
        progress_bar=False,
        parameters={"data": data, "mask_numbers": True},
    )
    in_kernel = []
    for cell in executed.cells:
        if cell.cell_type == "markdown":
            in_kernel.append(mistune.html(cell.source))
        elif "injected-parameters" not in cell.metadata.get("tags", []):
            in_kernel += [o["data"]["text/html"] for o in cell.outputs if "data" in o]
    open_before = plt.get_fignums()
    page = (build_report(data, tmp_path / "report.html", mask_numbers=True)).read_text()
    assert plt.get_fignums() == open_before  # its charts are its own, none left open

    def pictures_aside(text: str) -> str:
        return re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', text)

    body = re.search(r"<body>\n(.*)\n</body>", page, re.S)[1]
    assert pictures_aside(body) == pictures_aside("\n".join(in_kernel))
    assert len(in_kernel) == 18  # nine markdown cells, nine blocks of output
    assert body.count("<img") == 5 and page.count("***") > 10  # charts; numbers masked


def _snapshot(folder: Path, locations: int) -> Path:
    responses = generate(
        SyntheticSpec(locations=locations, seed=100 + locations)
    )  # no ids shared with another report
    return write_snapshot(folder, responses)


def _two_weeks(root: Path, locations: int = 42) -> Path:
    """A generated agency of a few dozen locations fetched twice, a week apart, with the
    numbers each holds: two pools renamed and one dropped in the second week."""
    first = generate(SyntheticSpec(locations=locations, seed=31, empty_locations=4))
    write_snapshot(root / "week-1", first, taken_at=datetime(2026, 11, 19, 8, tzinfo=UTC))
    second = copy.deepcopy(first)
    pools = [pool for _, body in second if body for pool in body["data"]]
    pools[0]["name"], pools[3]["name"] = "Renamed pool", "Spring campaign"
    for _, body in second:
        if body and body["data"]:
            body["data"].pop()
            body["total"] = len(body["data"])
            break
    write_snapshot(
        root / "week-2",
        second,
        taken_at=datetime(2026, 11, 26, 8, tzinfo=UTC),
        inventory=active_number_pages(second),
    )
    return root


@pytest.fixture(scope="module")  # make test runs a file's tests on one worker (loadfile)
def reports(tmp_path_factory) -> dict[str, Path]:
    """The report for the sample (its folder of three snapshots), for empty data, for one
    location, for 5,000 locations, for an agency of 61 locations of which 16 have no pool,
    for a generated agency fetched twice, and the sample masked."""
    base = tmp_path_factory.mktemp("reports")
    empty = base / "empty"
    empty.mkdir()
    data = {
        "sample": REPO / "data" / "sample",
        "empty": empty,
        "one": _snapshot(base / "one", 1),
        "many": _snapshot(base / "many", 5000),
        "agency": write_snapshot(
            base / "agency", generate(SyntheticSpec(locations=45, seed=13, empty_locations=16))
        ),
        "history": poolkit.sample.samples_path(),  # a folder of three snapshots
        "weeks": _two_weeks(base / "weeks"),
    }
    built = {name: build_report(path, base / f"{name}.html") for name, path in data.items()}
    built["masked"] = build_report(data["sample"], base / "masked.html", mask_numbers=True)
    return built


def test_report_is_self_contained_with_code_hidden(reports):
    html = reports["sample"].read_text()
    images = [
        dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in re.findall(r"<img ([^>]*)>", html)
    ]
    assert all(image["src"].startswith("data:image/png;base64,") for image in images)
    alts = [image["alt"] for image in images]
    assert alts == [
        "Locations, pools and numbers over 3 snapshots",
        "Monthly cost per location ($1,909.45 a month, 40 locations holding numbers; the top 10 "
        "by idle cost)",
        "Locations using each feature (45 locations; the black tick: the previous snapshot)",
        "Numbers per pool: distribution over 163 pools; Inbound call services of pools (163 pools)",
        "Numbers by area (1,611 numbers, 118 areas)\nthe top 10; the other 108 hold 739 (46%); "
        "Local and toll-free numbers (1,611 numbers)",
    ]
    assert not re.search(r'(src|href)="(https?:)?//', html), "an asset would come from the network"
    assert "<script src" not in html
    assert "read_pools(" not in html and "import matplotlib" not in html  # code is hidden
    text = page_text(html)
    for words in (
        "HighLevel number pools",
        "What to do",
        ">46<",  # locations: 45 that answered and 1 not fetched
        "40 locations with pools, 5 locations without a pool, 1 location not fetched; 163 pools "
        "hold 1,611 numbers.",
        ">$1,909.45<",  # the sample's inventory at the published rates
        "Taken 2 Nov 2026, 15:00 UTC.",
        "Since 26 Oct 2026: 1 location added, 1 pool added, 1 pool removed, 16 numbers added "
        "and 3 more kinds.",  # numbers removed and moved, settings changed: 7 kinds
        "Cornerstone",
        "forwarding-loop",
        "Pioneer Dental - Dallas",
        "Summer Sale",  # the pool removed in the last snapshot
        "Covers the 1,563 numbers of 44 locations; numbers not read: Silverline Chiropractic - "
        "Miami (access refused); 1 location not fetched. Of those, 1,543 numbers are in pools "
        "and 20 numbers in none (10 numbers answer nothing).",
    ):
        assert words in html or words in text, words
    assert "Traceback" not in html and "Warning" not in html


def test_an_agency_report_counts_and_names_every_location(reports):
    html = reports["agency"].read_text()
    # none not fetched
    assert "61 locations: 45 locations with pools, 16 locations without a pool." in page_text(html)
    locations = poolkit.read_pools(reports["agency"].parent / "agency").locations
    names = locations.loc[locations["pools"] == 0, "location_name"]
    assert len(names) == 16 and all(name in page_text(html) for name in names)  # listed
    assert card(html, "locations")[:2] == ("61", "Locations")
    assert "Every location has a pool and was fetched." not in html


def test_a_folder_of_snapshots_reports_the_newest_with_the_changes_and_the_trend(reports):
    page = reports["history"].read_text()
    html = page_text(page)
    # the newest only
    assert "40 locations with pools, 5 locations without a pool, 1 location not fetched" in html
    assert "163 pools hold 1,611 numbers" in html  # its numbers and pools, not three weeks'
    assert "Since 26 Oct 2026" in html and "over 3 snapshots" in page  # the chart's alt text
    assert "number moved" in html and "Summer Sale" in html and "location added" in html


def test_reports_for_empty_one_and_many_locations(reports):
    empty = reports["empty"].read_text()
    assert card(empty, "locations") == ("0", "Locations", "No location in the data yet.")
    assert card(empty, "changed")[2] == "No data yet: the first fetch starts the history."
    assert "Every response fit what the API documents." in empty
    assert "No pools." in empty and "Nothing to do: no rule found fault." in empty
    one = reports["one"].read_text()
    assert card(one, "locations")[:2] == ("1", "Location")
    assert "1 location: 1 location with pools" in page_text(one)
    assert "One snapshot so far" in one  # its siblings are not its history
    many = reports["many"].read_text()
    assert card(many, "locations")[0] == "5,000" and "10 of " in page_text(many)
    assert len(many) < 8_000_000  # every finding is on the page, the rest cut to top rows


ANSWERS = ["locations", "wrong", "cost", "changed", "source"]
FOLD, SCREENS = 800, 8


def _browser(p):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (CI installs it: .ci/run)"
)
@pytest.mark.parametrize("name", ["sample", "empty", "one", "many", "agency", "history", "weeks"])
def test_report_opens_in_headless_chromium_with_the_network_off(reports, name):
    """Opened at 1280x800 with the network off: every image loads, no error, nothing from
    outside; the five answers above the fold; the page, details collapsed, at most eight
    screens; no number with float noise anywhere in it."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1280, "height": FOLD})
            page = context.new_page()
            errors, outside = [], []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def block(route):
                if route.request.url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", block)
            page.goto(reports[name].as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
            )
            assert images and all(done and width > 0 for done, width in images)
            assert errors == [] and outside == []
            cards = page.evaluate(
                "Array.from(document.querySelectorAll('[data-answer]')).map(c => "
                "[c.dataset.answer, c.getBoundingClientRect().top, "
                "c.getBoundingClientRect().bottom, c.innerText])"
            )
            assert [c[0] for c in cards] == ANSWERS
            assert all(0 <= top and bottom <= FOLD for _, top, bottom, _ in cards), cards
            assert all(len(text.split("\n")) >= 3 for *_, text in cards)  # value, label, sentence
            height = page.evaluate("document.documentElement.scrollHeight")
            assert height <= SCREENS * FOLD, height
            text = page.evaluate("document.body.textContent")  # collapsed details too
            text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z?", "", text)  # raw timestamps quoted
            assert not re.search(r"\d\.\d{3,}", text), re.findall(r"\S*\d\.\d{3,}\S*", text)
            assert "nan" not in re.findall(r"\b\w+\b", text)
            page.screenshot(path=str(SCREENSHOTS / f"report-{name}.png"))  # the first screen
        finally:
            browser.close()


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (CI installs it: .ci/run)"
)
@pytest.mark.parametrize("name", ["sample", "weeks", "masked"])
def test_every_error_and_warning_finding_is_on_the_page(reports, name):
    """Each error and warning the audit finds is somewhere on the page (under its rule's
    line, collapsed), and the masked report shows the same counts as the plain one."""
    from playwright.sync_api import sync_playwright

    data = {"sample": REPO / "data" / "sample", "masked": REPO / "data" / "sample"}
    data = data.get(name, reports["weeks"].parent / "weeks")
    report = notebook.load_report(data, mask_numbers=name == "masked")
    found = report.shown(report.findings)  # the details as the page shows them
    serious = found[found["severity"].astype(str).isin(["error", "warning"])]
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": FOLD}).new_page()
            page.goto(reports[name].as_uri(), wait_until="load")
            rows = page.evaluate(
                "Array.from(document.querySelectorAll('.poolkit-todo td')).map(r => r.textContent)"
            )
            text = "\n".join(rows)
            missing = [d for d in serious["detail"] if d not in text]
            assert len(serious) and missing == []
            cards = page.evaluate(
                "Array.from(document.querySelectorAll('[data-answer] .value'))"
                ".map(v => v.innerText)"
            )
        finally:
            browser.close()
    errors = int((serious["severity"].astype(str) == "error").sum())
    assert cards[1] == f"{errors:,}"
    if name == "masked":  # the same first screen as the plain report's
        plain = reports["sample"].read_text()
        assert all(f">{value}<" in plain for value in cards)


def test_cli_report_and_masked_numbers(tmp_path: Path, capfd):
    out = tmp_path / "shared.html"
    assert main(["report", str(REPO / "data" / "sample"), "--out", str(out), "--mask-numbers"]) == 0
    printed = capfd.readouterr()
    assert str(out) in printed.out and "WARNING" not in printed.err
    html = out.read_text()
    sample = poolkit.load_sample()
    every_number = set(sample.numbers["phone_number"].dropna())
    every_number |= set(sample.pools["forwarding_number"].dropna())
    assert "forwarding-loop" in html and "duplicate-number" in html  # findings, masked too
    assert not any(number in html or number[2:] in html for number in every_number)
    assert (
        "(512) 555-0134" not in html and "**34" in html
    )  # the malformed one in problems, masked too


def test_report_on_missing_data_is_a_clear_error(tmp_path: Path, capsys):
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "x.html")]) == 2
    assert "nope" in capsys.readouterr().err


def test_masked_tables_hold_no_full_number_in_any_column():
    tables = notebook.load(REPO / "data" / "sample", enrich=True)
    every_number = set(tables.numbers["phone_number"].dropna()) | set(
        tables.pools["forwarding_number"].dropna()
    )
    masked = masking.masked(tables)
    for name, frame in masked:
        text = frame.astype(str).to_csv()
        assert not any(number in text for number in every_number), name
