"""The notebooks run as an analyst runs them (issue 30): each executed in a real kernel with
its default parameters, from ``notebooks/`` of a project folder, and its outputs read as a
person reads them: every table through ``notebook.table`` (no raw DataFrame), no float
noise, no NaN or <NA>, no sentence cut, no warning, and the sample's counts as worked out
by hand from the report's first screen."""

from __future__ import annotations

import re
from pathlib import Path

import papermill
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def outputs(notebook: dict) -> list[tuple[str, str]]:
    """Each text a code cell shows, as (kind, text): HTML, plain text or a stream."""
    shown = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                shown.append((output["name"], "".join(output["text"])))
            data = output.get("data", {})
            if "text/html" in data:
                shown.append(("html", "".join(data["text/html"])))
            elif "text/plain" in data and "image/png" not in data:
                shown.append(("plain", "".join(data["text/plain"])))
    return shown


def words_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> dict[str, list[tuple[str, str]]]:
    """Every notebook run with its defaults from ``notebooks/`` of a fresh project folder
    (``data/`` there, but no sample in it: ``data/sample`` is the packaged sample)."""
    import json

    project = tmp_path_factory.mktemp("project")
    (project / "data").mkdir()
    (project / "notebooks").mkdir()
    shown = {}
    for notebook in NOTEBOOKS:
        done = project / "notebooks" / notebook.name
        papermill.execute_notebook(
            str(notebook),
            str(done),
            kernel_name="python3",
            progress_bar=False,
            cwd=str(project / "notebooks"),
        )
        shown[notebook.stem] = outputs(json.loads(done.read_text()))
    shown["project"] = [("path", str(project))]
    return shown


@pytest.mark.parametrize("name", [n.stem for n in NOTEBOOKS])
def test_every_output_reads_as_a_person_reads_it(ran, name):
    assert ran[name], name
    for kind, text in ran[name]:
        assert kind != "stderr", text  # no warning
        assert kind != "plain" or text.startswith("PoolTables("), text  # no raw frame
        if kind == "html":
            tables = re.findall(r"<table[^>]*>", text)
            assert all("poolkit-table" in t for t in tables), tables  # notebook.table
        seen = words_of(text) if kind == "html" else text
        seen = re.sub(r'"\d{4}-\d\d-\d\dT[\d:.]+Z?"', "", seen)  # raw JSON values quoted
        assert not re.search(r"\d\.\d{3,}", seen), re.findall(r"\S*\d\.\d{3,}\S*", seen)
        assert not re.search(r"\b(NaN|nan|NaT|None)\b|<NA>", seen), seen[:300]
        assert "..." not in seen and not re.search(r"…\s*</td>", text), seen[:300]  # not cut


SHOWN = {  # what each notebook is there to show, in the sample's words
    "01-number-pools-overview": ["Cornerstone Landscaping - Denver", "voice_ai", "unknown field"],
    "02-feature-adoption": ["Locations using it", "Bluebird Roofing - Miami", "Service: ivr"],
    "03-audit": [
        "active-pool-without-route",
        "Remove it from the pool, or look the number up in the phone system.",
        "'Spring Promo' has 0 numbers.",  # the rule of one's own
    ],
    "04-history": ["number_moved", "Organic Search", "Share whisper", "19 Oct 2026"],
    "05-inventory-and-cost": ["unreachable-number", "Pioneer Dental - Dallas", "Idle cost"],
}


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_each_notebook_shows_what_it_is_for(ran, name):
    shown = " ".join(words_of(text) for _, text in ran[name])
    assert [words for words in SHOWN[name] if words not in shown] == []


def test_the_counts_agree_with_the_report_worked_out_by_hand(ran):
    """The sample, as its report's first screen says it (checked by hand): 46 locations,
    40 with pools, 5 without, 1 not fetched; $1,909.45 a month, $463.45 idle, 1,563 numbers
    of 44 locations read, 40 of them holding numbers; 13 locations without whisper; the
    story of the location whose settings changed (call recording on, whisper message gone)."""
    glance = " ".join(words_of(t) for _, t in ran["01-number-pools-overview"])
    assert "40 locations with pools, 5 locations without a pool, 1 location not fetched" in glance
    cost = " ".join(t for _, t in ran["05-inventory-and-cost"])
    assert (
        "$1,909.45 a month, $463.45 of it idle, for 1,563 numbers held by 40 locations; "
        "44 locations had their numbers read, 4 of them hold none." in cost
    )
    adoption = [words_of(t) for kind, t in ran["02-feature-adoption"] if kind == "html"]
    lacking = next(t for t in adoption if "Bluebird Roofing - Miami" in t)
    assert lacking.count(" - ") == 13  # one "Name - City" per location without whisper
    story = " ".join(words_of(t) for _, t in ran["04-history"])
    assert "Northstar Roofing - Vancouver" in story
    assert "Direct Mail call_recording No Yes" in story  # switched on, by hand
    assert "3 snapshots, from 19 Oct 2026 to 2 Nov 2026" in story


def test_the_export_goes_where_the_data_is_named_from(ran):
    """03's ``out`` is named from the project's folder, as ``data`` is, though the notebook
    runs in ``notebooks/``."""
    project = Path(ran["project"][0][1])
    written = project / "data" / "processed" / "findings.csv"
    assert written.is_file() and written.read_text().count("\n") == 107  # 106 findings
    assert not (project / "notebooks" / "data").exists()
