"""The token never lands anywhere: every command runs with a recognisable fake token, then
every byte written and every line printed or logged is searched for it."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import papermill
from pytest_httpserver import HTTPServer

from poolkit.cli import main

from robustness import tally
from test_fetch import FakeHighLevel, serve

REPO = Path(__file__).resolve().parent.parent
TOKEN = "pit-LEAKCHECK-7f3a-41c2-9d0e-5b8c2a1f9e77"


def test_every_command_keeps_the_token_out_of_everything_it_writes(
    monkeypatch, httpserver: HTTPServer, tmp_path: Path, capsys, caplog
):
    monkeypatch.setenv("GHL_TOKEN", TOKEN)
    monkeypatch.setenv("GHL_BASE_URL", httpserver.url_for("").rstrip("/"))
    serve(
        httpserver,
        FakeHighLevel(
            [f"K{i}" for i in range(4)],
            broken={
                "K1": (
                    401,
                    {
                        "statusCode": 401,
                        "message": "Invalid token: access token is invalid",
                        "traceId": "t1",
                    },
                ),
                "K2": (422, {"statusCode": 422, "message": ["locationId is invalid"]}),
            },
        ),
    )
    caplog.set_level(logging.DEBUG)
    raw = tmp_path / "raw"
    assert main(["fetch", "K0", "K1", "K2", "K3", "--out", str(raw), "--progress"]) == 1
    snapshot = next(raw.iterdir())
    commands = {
        ("fetch", "--resume", str(snapshot)): 1,
        ("tidy", str(snapshot), "--out", str(tmp_path / "processed")): 0,
        ("report", str(snapshot), "--out", str(tmp_path / "report.html")): 0,
        ("report", str(snapshot), "--out", str(tmp_path / "shared.html"), "--mask-numbers"): 0,
    }
    for command, code in commands.items():
        assert main(list(command)) == code, command
    # 01 loads all the report does (tables, findings, history, cost) through the loaders
    # every notebook shares; tests/test_notebooks.py runs all five on the sample
    notebooks = [REPO / "notebooks" / "01-number-pools-overview.ipynb"]
    for notebook in notebooks:
        papermill.execute_notebook(
            str(notebook),
            str(tmp_path / notebook.name),
            kernel_name="python3",
            parameters={"data": str(snapshot)},
            progress_bar=False,
            log_output=True,
            cwd=str(tmp_path),
        )
    tally("commands run with a fake token and searched", 1 + len(commands) + len(notebooks))

    captured = capsys.readouterr()
    texts = {"stdout": captured.out, "stderr": captured.err, "logs": caplog.text}
    written = {str(p): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    kinds = {Path(name).suffix for name in written}
    assert {".json", ".parquet", ".csv", ".html", ".ipynb"} <= kinds  # everything was produced
    assert "K1" in captured.err and "Invalid token" in captured.err  # failures are described...
    for name, text in texts.items():
        assert TOKEN not in text, name  # ...without the token
    for name, blob in written.items():
        assert TOKEN.encode() not in blob, name
    tally("files searched for the token", len(written))


def test_gitignore_keeps_secrets_and_derived_data_out_of_git():
    paths = [
        ".env",
        "data/raw/2026-11-26T213000Z/loc.json",
        "data/processed/pools.parquet",
        "reports/number-pools.html",
    ]
    done = subprocess.run(["git", "check-ignore", *paths], cwd=REPO, capture_output=True, text=True)
    assert done.stdout.split() == paths
    tracked = subprocess.run(
        ["git", "check-ignore", "poolkit/samples/2026-11-02T150000Z/manifest.json"],
        cwd=REPO,
        capture_output=True,
    )
    assert tracked.returncode == 1  # the shipped sample stays tracked
