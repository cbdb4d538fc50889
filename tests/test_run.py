"""poolkit run, the weekly job, against a local HighLevel (pytest-httpserver)."""

from __future__ import annotations

from pathlib import Path

import poolkit
from poolkit.cli import main
from poolkit.dataset import dataset_snapshots

from pages import page_text
from test_fetch import FakeHighLevel, serve


def test_two_weekly_runs_make_a_dataset_of_two_snapshots_and_a_report_of_the_change(
    env, tmp_path: Path, capsys
):
    fake = serve(env, FakeHighLevel(["G1", "G2"]))
    raw, out, report = tmp_path / "raw", tmp_path / "processed", tmp_path / "report.html"
    args = ["run", "--company-id", "C1", "--raw", str(raw), "--out", str(out)]
    args += ["--report", str(report)]
    assert main([*args, "--fail-on", "never"]) == 0
    printed = capsys.readouterr().out
    assert "2 locations" in printed and f"report written to {report}" in printed
    assert len(dataset_snapshots(out)) == 1 and report.is_file()
    assert "One snapshot so far" in report.read_text()

    fake.locations.append("G3")  # a week on, the agency has a location more
    assert main([*args, "--fail-on", "never", "--new"]) == 0
    assert len(dataset_snapshots(out)) == 2
    html = report.read_text()
    assert "1 location added" in page_text(html) and "Name of G3" in html
    history = poolkit.read_history(out)
    assert sorted(history.locations.groupby("snapshot", observed=True).size()) == [2, 3]
    in_csv = poolkit.read_csv(out / "locations.csv")["location_id"].tolist()
    assert sorted(in_csv) == ["G1", "G1", "G2", "G2", "G3"]  # both snapshots in the CSV

    found = poolkit.audit(poolkit.read_pools(sorted(raw.iterdir())[-1]))
    assert len(found)  # the fake's pools give findings: --fail-on decides the exit code
    assert main([*args, "--fail-on", "info"]) == 1


def test_run_without_locations_or_when_every_location_refuses_is_exit_2(env, tmp_path, capsys):
    assert main(["run", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "p")]) == 2
    assert "give LOCATION_ID" in capsys.readouterr().err
    serve(env, FakeHighLevel(["G1"], broken={"G1": (401, {"message": "Invalid JWT"})}))
    code = main(["run", "G1", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "p")])
    assert code == 2 and not (tmp_path / "p").exists()
