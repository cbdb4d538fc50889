"""The README followed from a fresh clone's point of view (issue 30): every command it shows
runs, in a copy of the repository's tracked files, and exits as the README says.

The venv is the one this suite runs in (the copy's ``.venv`` points at it and its install
markers are fresh, so ``make`` installs nothing): what is tested is the README's commands,
not pip. ``make test`` is the command running this test, and CI runs it and ``make docs`` on
a clean clone (``.ci/run``); they are checked here only to be what the Makefile and CI run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import poolkit
from poolkit.cli import main

from conftest import TOKEN
from pages import page_text
from test_fetch import FakeHighLevel, serve

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def blocks(language: str) -> list[str]:
    """The README's code blocks in ``language``."""
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def commands() -> list[str]:
    """Every command of the README's shell blocks, comments cut."""
    lines = [line.split("#")[0].strip() for block in blocks("bash") for line in block.split("\n")]
    return [line for line in lines if line]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """The repository's tracked files, as a clone has them, with this suite's venv."""
    copy = tmp_path_factory.mktemp("clone")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_symlink():  # data/sample: a link to the newest snapshot
            (copy / name).symlink_to(os.readlink(REPO / name))
        else:
            shutil.copy2(REPO / name, copy / name)
    venv = copy / ".venv"
    venv.mkdir()
    (venv / "bin").symlink_to(Path(sys.executable).parent)
    for marker in (".installed", ".installed-test"):
        (venv / marker).touch()
    return copy


def test_the_readme_shows_exactly_the_commands_this_test_runs():
    assert commands() == [
        "make report",
        "make test",
        ".venv/bin/poolkit run --company-id COMPANY_ID --numbers",
    ]
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^test: .*\n(\t.*\n)*\t\$\(BIN\)/python -m pytest", makefile, re.MULTILINE)
    assert re.search(r"^docs: .*\n\t.*mkdocs build --strict", makefile, re.MULTILINE)
    ci = (REPO / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci and "\nmake docs\n" in ci


def test_make_report_writes_the_tables_and_the_report_it_names(clone):
    """The sample as the README and its screenshot say it, checked by hand against the
    report's first screen: 46 locations (40 with pools, 5 without, 1 not fetched), data as
    of 2 Nov 2026, read from the clone's own data/sample."""
    done = subprocess.run(["make", "report"], cwd=clone, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    sample = (clone / "data" / "sample").resolve()  # the clone's own, not a fallback
    assert sample.is_relative_to(clone.resolve()) and (sample / "manifest.json").is_file()
    assert len(poolkit.read_csv(clone / "data/processed/sample/locations.csv")) == 46
    page = page_text((clone / "reports" / "number-pools.html").read_text())
    assert "40 locations with pools" in page and "5 locations without a pool" in page
    assert "2 Nov 2026" in page


def test_the_weekly_job_runs_as_the_readme_says_and_does_nothing_twice(
    clone, httpserver, monkeypatch
):
    """The token in ``.env``, the command as the README writes it (the agency's id put in),
    against a local HighLevel whose pools forward to their own number (an error finding,
    by hand): exit 1, the snapshot under data/raw, the dataset, the report. Run again: this
    week's snapshot is complete, nothing is fetched a second time."""
    fake = serve(httpserver, FakeHighLevel(["G1", "G2"]))
    (clone / ".env").write_text(f"GHL_TOKEN={TOKEN}\n")
    environment = {k: v for k, v in os.environ.items() if k != "GHL_TOKEN"}
    environment["GHL_BASE_URL"] = httpserver.url_for("").rstrip("/")
    weekly = commands()[2].replace("COMPANY_ID", "C1").split()
    first = subprocess.run(weekly, cwd=clone, capture_output=True, text=True, env=environment)
    assert first.returncode == 1, first.stderr  # "1 (an error finding ...)"
    assert re.search(r"findings: [1-9][\d,]* errors", first.stdout), first.stdout
    assert len(list((clone / "data" / "raw").iterdir())) == 1
    assert (clone / "data" / "processed" / "weekly" / "pools.csv").is_file()
    assert (clone / "reports" / "number-pools.html").is_file()
    asked = len(fake.pool_requests)
    again = subprocess.run(weekly, cwd=clone, capture_output=True, text=True, env=environment)
    assert again.returncode == 1 and "is complete" in again.stdout
    assert len(fake.pool_requests) == asked and len(list((clone / "data" / "raw").iterdir())) == 1
    assert TOKEN not in first.stdout + first.stderr + again.stdout + again.stderr


def test_the_cron_line_runs_the_weekly_command():
    (cron,) = blocks("cron")
    assert cron.startswith("0 6 * * 1  cd /path/to/poolkit && ")  # Monday, 06:00
    assert f"&& {commands()[2]} >> data/run.log 2>&1" in cron


def test_the_python_example_runs(clone, monkeypatch):
    """The README's five lines, run in the clone."""
    monkeypatch.chdir(clone)
    (example,) = blocks("python")
    names: dict = {}
    exec(compile(example, "README.md", "exec"), names)
    by_rule = eval("poolkit.audit(tables).groupby('rule').size()", names)
    assert by_rule["duplicate-number"] == 2  # the sample's planted case: one number, two pools


def test_every_command_the_readme_lists_has_its_help(capsys):
    listed = re.findall(r"^\| `poolkit (\w+)[^`]*` \|", README, re.MULTILINE)
    assert listed == ["run", "fetch", "tidy", "audit", "diff", "report", "rules"]
    for command in [*listed, "explain"]:
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        shown = capsys.readouterr().out
        assert done.value.code == 0 and f"usage: poolkit {command}" in shown
        said = " ".join(shown.split())
        assert re.search(r"exit codes: 0 [^;]+;.* 130 interrupted\. environment: ", said), said


def test_the_readme_links_resolve_in_the_clone(clone):
    links = re.findall(r"\]\(([^)#:]+)\)", README)
    assert "docs/highlevel-api.md" in links and "docs/images/report-first-screen.png" in links
    assert [link for link in links if not (clone / link).exists()] == []
    assert len(README.splitlines()) <= 200
