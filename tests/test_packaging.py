"""Set-up files agree with each other: pyproject.toml, environment.yml, README, CI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_runtime_packages_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    extras = {_name(r) for reqs in project["optional-dependencies"].values() for r in reqs} | {
        "distributed"
    }
    conda = set()
    text = (REPO / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        match = re.match(r"^  - ([A-Za-z0-9_.-]+)", line)
        if match:
            conda.add(_name(match.group(1)))
    conda -= {"python", "pip"}  # not poolkit's own requirements
    assert runtime - conda == set(), "in pyproject.toml but not environment.yml"
    assert conda - runtime - extras == set(), "in environment.yml but not pyproject.toml"


def test_readme_shows_the_two_setup_commands_and_ci_runs_the_test_command():
    readme = (REPO / "README.md").read_text()
    assert "make report" in readme and "make test" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_notebooks_are_committed_without_outputs():
    import json

    notebooks = sorted((REPO / "notebooks").glob("*.ipynb")) + [REPO / "poolkit" / "report.ipynb"]
    assert len(notebooks) >= 3
    for notebook in notebooks:
        cells = json.loads(notebook.read_text())["cells"]
        for cell in cells:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, (
                    notebook.name
                )


def test_command_line_entry_points_document_every_command():
    import subprocess
    import sys
    from importlib import metadata

    import poolkit

    help_text = subprocess.run(
        [sys.executable, "-m", "poolkit", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert all(command in help_text for command in ("tidy", "fetch", "report"))
    for command in ("tidy", "fetch", "report"):
        sub = subprocess.run(
            [sys.executable, "-m", "poolkit", command, "--help"], capture_output=True, text=True
        )
        assert sub.returncode == 0 and "usage: poolkit " + command in sub.stdout
    version = subprocess.run(
        [sys.executable, "-m", "poolkit", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"poolkit {metadata.version('poolkit')}" == "poolkit 0.3.0"
    assert poolkit.__version__ == metadata.version("poolkit")  # one place: pyproject reads it
    usage = subprocess.run(
        [sys.executable, "-m", "poolkit", "fetch", "--workers", "x"], capture_output=True, text=True
    )
    assert usage.returncode == 2


def test_the_readme_points_only_at_what_a_clone_holds():
    """A clone has no ../shared: every file the README links or names there is in the
    repository."""
    repo = Path(__file__).resolve().parents[1]
    readme = (repo / "README.md").read_text()
    assert "../shared" not in readme
    links = re.findall(r"\]\(([^)#:]+)\)", readme)  # relative links, not URLs
    assert "docs/highlevel-api.md" in links
    assert [link for link in links if not (repo / link).exists()] == []
