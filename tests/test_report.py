"""Notebooks executed end to end; the HTML report built and opened in real headless Chromium."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import papermill
import pytest

import poolkit
from poolkit import masking, notebook
from poolkit.cli import main
from poolkit.report import build_report
from poolkit.synthetic import SyntheticSpec, generate, write_snapshot

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = REPO / "reports"


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")))
def test_notebook_runs_end_to_end_on_the_sample(name, tmp_path: Path):
    """Run as an analyst would: from notebooks/, with the default parameters."""
    out = tmp_path / name
    executed = papermill.execute_notebook(
        str(REPO / "notebooks" / name),
        str(out),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(REPO / "notebooks"),
        # what a notebook exports goes to tmp, not into the repository's data/processed
        parameters={"out": str(tmp_path / "findings.csv")} if name == "03-audit.ipynb" else {},
    )
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.get("outputs") is not None for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 1
    text = "".join(str(o.get("data", {}).get("text/plain", "")) for c in code for o in c.outputs)
    assert "Warning" not in "".join(
        o.get("text", "") for c in code for o in c.outputs if o.output_type == "stream"
    )
    shown = {  # what each notebook is there to show, in its outputs
        "01-number-pools-overview.ipynb": ["PoolTables(pools=", "service_type", "problem"],
        "02-feature-adoption.ipynb": ["locations_using", "whisper", "call_recording"],
        "03-audit.ipynb": ["duplicate-number", "severity", "suggestion"],
    }
    assert [s for s in shown[name] if s not in text] == []
    if name == "03-audit.ipynb":  # the findings, a custom rule's among them, as CSV
        exported = (tmp_path / "findings.csv").read_text()
        assert "duplicate-number" in exported and "small-pool" in exported


def _snapshot(folder: Path, locations: int) -> Path:
    responses = generate(
        SyntheticSpec(locations=locations, seed=100 + locations)
    )  # no ids shared with another report
    return write_snapshot(folder, responses)


@pytest.fixture(scope="module")  # make test runs a file's tests on one worker (loadfile)
def reports(tmp_path_factory) -> dict[str, Path]:
    """The report for the sample, for empty data, for one location, for 5,000 locations, for
    an agency of 61 locations of which 16 have no pool, and for the folder of the sample's
    three snapshots."""
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
    }
    return {name: build_report(path, base / f"{name}.html") for name, path in data.items()}


def test_report_is_self_contained_with_code_hidden(reports):
    html = reports["sample"].read_text()
    images = [
        dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in re.findall(r"<img ([^>]*)>", html)
    ]
    assert all(image["src"].startswith("data:image/png;base64,") for image in images)
    alts = [image["alt"] for image in images]
    assert len(alts) == 7 and alts[0] == "Findings per rule (106)"
    assert alts[1] == "Pools and numbers by snapshot; Feature adoption by snapshot"
    assert "Numbers per pool" in alts[2] and "Inbound call services" in alts[3]
    assert "Numbers by area" in alts[4] and "Feature adoption" in alts[5]
    assert alts[6] == "Locations by state (45 locations, 1 not fetched)"
    assert not re.search(r'(src|href)="(https?:)?//', html), "an asset would come from the network"
    assert "<script src" not in html
    assert "read_pools(" not in html and "import matplotlib" not in html  # code is hidden
    for words in (
        "HighLevel number pools",
        "Top pools by numbers",
        "Feature adoption",
        "Problems",
        "snapshot taken 2026-11-02T15:00:00+00:00",
        "1,611",
        "Cornerstone",
        "Where the numbers are",
        "45 locations: 40 with pools, 5 without, 1 not fetched",
        "Where the locations are",
        "Has a pool",
        "Ontario",
        "Findings (17 errors)",  # the sample's planted and chance cases (tests/test_audit.py)
        # its inventory (poolkit.synthetic.INVENTORY_CASES)
        "1,563 numbers held by 44 locations: 1,543 in pools, 20 in no pool (10 of them "
        "answering nothing)",
        "forwarding-loop",
        "Pioneer Dental - Dallas",
        "What changed since 2026-10-26T150000Z",  # the sample's history (three snapshots)
        "Trend over 3 snapshots",
        "Summer Sale",  # the pool removed in the last snapshot
    ):
        assert words in html, words
    assert "Traceback" not in html and "Warning" not in html


def test_an_agency_report_counts_and_names_every_location(reports):
    html = reports["agency"].read_text()
    assert "<b>61 locations: 45 with pools, 16 without</b>" in html  # none not fetched
    locations = poolkit.read_pools(reports["agency"].parent / "agency").locations
    names = locations.loc[locations["pools"] == 0, "name"]
    assert len(names) == 16 and all(html_name(name) in html for name in names)  # listed, no pool
    assert ">61<" in html  # the locations card
    assert "Every location has a pool and was fetched." not in html


def test_a_folder_of_snapshots_reports_the_newest_with_the_changes_and_the_trend(reports):
    html = reports["history"].read_text()
    assert "45 locations: 40 with pools, 5 without, 1 not fetched" in html  # the newest only
    assert ">1,611<" in html and ">163<" in html  # its numbers and pools, not three weeks'
    assert "What changed since 2026-10-26T150000Z" in html and "Trend over 3 snapshots" in html
    assert "number_moved" in html and "Summer Sale" in html and "location_added" in html


def html_name(name: str) -> str:
    import html

    return html.escape(name)


def test_reports_for_empty_one_and_many_locations(reports):
    empty = reports["empty"].read_text()
    assert "No problems: every response fit the contract." in empty and ">0<" in empty
    assert "No pools." in empty and "No locations." in empty
    one = reports["one"].read_text()
    assert ">1<" in one and 'alt="Numbers per pool' in one
    assert "The data holds one snapshot: the next" in one  # its siblings are not its history
    many = reports["many"].read_text()
    assert ">5,000<" in many and "Showing 15 of" in many
    assert len(many) < 2_000_000  # tables are cut to the top rows: the file stays light


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (CI installs it: .ci/run)"
)
@pytest.mark.parametrize("name", ["sample", "empty", "one", "many", "agency", "history"])
def test_report_opens_in_headless_chromium_with_the_network_off(reports, name):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
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
        try:
            context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
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
            # the findings chart, and for the sample the trend; no places known: no map
            expected = {"empty": 5, "sample": 7, "history": 7}.get(name, 6)
            assert len(images) == expected and all(done and width > 0 for done, width in images)
            assert errors == [] and outside == []
            assert page.locator(".poolkit-card").count() == 6  # five counts and the findings
            page.screenshot(path=str(SCREENSHOTS / f"report-{name}.png"), full_page=True)
        finally:
            browser.close()


def test_cli_report_and_masked_numbers(tmp_path: Path, capfd):
    out = tmp_path / "shared.html"
    assert main(["report", str(REPO / "data" / "sample"), "--out", str(out), "--mask-numbers"]) == 0
    printed = (
        capfd.readouterr()
    )  # the kernel's own output included: it talks over Unix sockets, quietly
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
