"""Week after week: each case of issue 27's "Why", written from the case, against a local
HighLevel (pytest-httpserver). The weeks are read back without poolkit where it counts
(the raw files with ``json``), so that a week missing, doubled or half-added shows."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

import poolkit
from poolkit.cli import build_parser, main
from poolkit.dataset import dataset_snapshots

from conftest import envelope, make_pool
from test_fetch import FakeHighLevel, serve

REPO = Path(__file__).resolve().parents[1]


def weekly_args(tmp_path: Path, *more: str) -> list[str]:
    raw, out = tmp_path / "raw", tmp_path / "processed" / "weekly"
    return ["run", "--company-id", "C1", "--raw", str(raw), "--out", str(out), *more]


def run_args(tmp_path: Path, *, report: bool = False) -> list[str]:
    """``poolkit run`` into tmp_path; without the report unless asked (it takes seconds)."""
    writes = ["--report", str(tmp_path / "r.html")] if report else ["--no-report"]
    return weekly_args(tmp_path, *writes, "--fail-on", "never")


def raw_pool_ids(folder: Path) -> set[tuple[str, str]]:
    """(location, pool) of every pool response in a snapshot folder, read with json only."""
    found = set()
    for path in folder.glob("*.json"):
        if path.name in ("manifest.json", "locations.json") or ".numbers." in path.name:
            continue
        for pool in json.loads(path.read_text()).get("data", []):
            found.add((pool["locationId"], pool["id"]))
    return found


def age(folder: Path, days: int) -> None:
    """Make a snapshot ``days`` older, as if it had been taken that long ago."""
    manifest = json.loads((folder / "manifest.json").read_text())
    taken = datetime.fromisoformat(manifest["taken_at"]) - timedelta(days=days)
    manifest["taken_at"] = taken.isoformat(timespec="seconds")
    (folder / "manifest.json").write_text(json.dumps(manifest))


# ---------------------------------------------------------------- the README's path, week two


def test_a_field_sent_one_week_and_not_the_next_keeps_the_dataset_readable(env, tmp_path, capsys):
    """make report's sample (a pool with an undocumented dateAdded) and an agency's week
    without it, in one dataset: audit, report's loader and the newest week read; the field's
    values are kept for the week that had it and empty for the other."""
    fake = serve(env, FakeHighLevel(["G1", "G2"]))
    out = tmp_path / "processed" / "weekly"
    assert main(["tidy", str(REPO / "data" / "sample"), "--out", str(out)]) == 0
    assert main(run_args(tmp_path)) == 0
    assert main(["audit", str(out), "--fail-on", "never"]) == 0
    assert "unexpected" not in capsys.readouterr().err
    sample_week, agency_week = dataset_snapshots(out)
    newest = poolkit.read_dataset(out, snapshots=[agency_week])
    assert "date_added" in newest.pools and newest.pools["date_added"].isna().all()
    both = poolkit.read_dataset(out)
    by_week = both.pools.groupby("snapshot", observed=True)["date_added"].count()
    assert by_week[sample_week] == 1 and by_week[agency_week] == 0
    assert both.pools["whisper"].dtype == "boolean"  # documented dtypes kept
    # a field whose type changes between weeks is kept, as text
    fake.bodies["G1"] = envelope(make_pool(id="G1-p0", locationId="G1", priority=3))
    assert main([*run_args(tmp_path), "--new"]) == 0
    fake.bodies["G1"] = envelope(make_pool(id="G1-p0", locationId="G1", priority="high"))
    assert main([*run_args(tmp_path), "--new"]) == 0
    pools = poolkit.read_dataset(out).pools
    assert pools["priority"].dropna().tolist() == ["3", "high"]
    assert main(["audit", str(out), "--fail-on", "never"]) == 0
    assert len(poolkit.read_history(out).locations["snapshot"].cat.categories) == 4


def test_the_quick_start_never_writes_where_the_weekly_job_appends():
    makefile = (REPO / "Makefile").read_text()
    tidied = re.search(r"poolkit tidy \$\(DATA\) --out (\S+)", makefile).group(1)
    parser = build_parser()
    run = parser.parse_args(["run", "--company-id", "C1"])
    tidy = parser.parse_args(["tidy", "x"])
    assert Path(tidied) != Path(run.out) and Path(run.out) not in Path(tidied).parents
    assert Path(tidied) not in Path(run.out).parents
    assert tidy.out == run.out  # poolkit tidy data/raw adds to the weekly dataset


# ---------------------------------------------------------------- exports tell weeks apart


def test_every_export_names_each_rows_week(env, tmp_path):
    fake = serve(env, FakeHighLevel(["G1", "G2"]))
    out = tmp_path / "processed" / "weekly"
    assert main(run_args(tmp_path)) == 0
    fake.locations.append("G3")
    assert main([*run_args(tmp_path), "--new"]) == 0
    weeks = sorted(p.name for p in (tmp_path / "raw").iterdir())
    pools = pd.read_csv(out / "pools.csv")  # as a spreadsheet user reads it, not poolkit
    assert list(pools.columns)[0] == "snapshot"
    assert pools.groupby("snapshot").size().to_dict() == {weeks[0]: 4, weeks[1]: 6}
    locations = pd.read_csv(out / "locations.csv")
    assert sorted(locations.loc[locations["snapshot"] == weeks[1], "location_id"]) == [
        "G1",
        "G2",
        "G3",
    ]
    for table in poolkit.PoolTables.TABLES:
        assert "snapshot" in poolkit.read_dataset(out).__getattribute__(table), table


# ---------------------------------------------------------------- order of weekly folders


def write_week(folder: Path, pool_name: str) -> None:
    folder.mkdir(parents=True)
    body = envelope(make_pool(id="P1", name=pool_name, locationId="L1"))
    (folder / "L1.json").write_text(json.dumps(body))


def test_weekly_folders_without_a_manifest_come_in_the_order_a_person_reads(tmp_path, capsys):
    raw = tmp_path / "raw"
    for week in range(1, 11):  # week-1 ... week-10; week-10 is the newest
        write_week(raw / f"week-{week}", "Old name" if week < 10 else "New name")
    history = poolkit.read_history(raw)
    labels = list(history.locations["snapshot"].cat.categories)
    assert labels == [f"week-{w}" for w in range(1, 11)]
    found = poolkit.changes(history, "week-9", "week-10")
    assert found[["old", "new"]].values.tolist() == [["Old name", "New name"]]
    assert main(["audit", str(raw), "--fail-on", "never"]) == 0
    assert "1 location audited" in capsys.readouterr().out  # one week, not ten counted as one
    assert poolkit.loaders.load(raw).pools["pool_name"].tolist() == ["New name"]


def test_snapshots_order_by_their_time_then_by_the_name_as_read():
    from poolkit.snapshot import ordered

    assert ordered(["week-10", "week-9", "week-1"]) == ["week-1", "week-9", "week-10"]
    assert ordered(["2026-11-10T080000Z", "2026-11-09T080000Z"]) == [
        "2026-11-09T080000Z",
        "2026-11-10T080000Z",
    ]
    when = {"b": datetime(2026, 1, 1, tzinfo=timezone.utc)}
    when["a"] = datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert ordered(["a", "b"], when) == ["b", "a"]  # the manifests' times, not the names


# ---------------------------------------------------------------- one run at a time


HOLD_LOCK = """
import fcntl, json, os, socket, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                         "started_at": "2026-12-07T08:00:00+00:00"}).encode())
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_writer_while_one_holds_the_dataset_exits_2_naming_it(env, tmp_path, capsys):
    """Another process holds the dataset's lock (as a run does while it works): run and
    tidy exit 2 with one line naming it, and change nothing; once that process is killed
    (SIGKILL: it cannot release anything), the next run takes the lock and says so."""
    serve(env, FakeHighLevel(["G1"]))
    out = tmp_path / "processed" / "weekly"
    lock = out.parent / ".weekly.lock"
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        for args in (
            run_args(tmp_path),
            ["tidy", str(REPO / "data" / "sample"), "--out", str(out)],
        ):
            assert main(args) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and f"pid {holder.pid}" in err[0], err
            assert "2026-12-07T08:00" in err[0] and "another poolkit run holds it" in err[0]
        assert not (tmp_path / "raw").exists() and not out.exists()  # nothing was done
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert main(run_args(tmp_path)) == 0
    assert "took over the lock" in capsys.readouterr().out
    assert lock.read_text() == "" and len(dataset_snapshots(out)) == 1  # released, empty


def test_a_run_started_while_another_works_is_refused_and_the_week_made_once(env, tmp_path, capsys):
    """Two real processes: the first holds the dataset while the server keeps its fetch
    waiting; the second, started then, exits 2 naming the first and touches nothing; the
    first then ends its week; a third run finds the week done and makes nothing twice."""
    fake, release = FakeHighLevel(["G1", "G2"]), threading.Event()

    def held_up(request):
        if "number-pools" in request.path:
            release.wait(60)
        return fake(request)

    serve(env, held_up)
    code = "import sys; from poolkit.cli import main; sys.exit(main(sys.argv[1:]))"
    command = [sys.executable, "-c", code, *run_args(tmp_path)]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / "processed" / ".weekly.lock"
    try:
        deadline = time.monotonic() + 60
        while not (lock.is_file() and f'"pid": {first.pid}' in lock.read_text()):
            assert time.monotonic() < deadline and first.poll() is None, "the run took no lock"
            time.sleep(0.05)
        second = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pid {first.pid}" in lines[0], lines
        assert "another poolkit run holds it" in lines[0]
    finally:
        release.set()
    assert first.wait(timeout=120) == 0, first.stderr.read()
    (week,) = (tmp_path / "raw").iterdir()
    out = tmp_path / "processed" / "weekly"
    assert dataset_snapshots(out) == [week.name]
    assert main(run_args(tmp_path)) == 0
    assert "is complete" in capsys.readouterr().out
    assert list((tmp_path / "raw").iterdir()) == [week] and dataset_snapshots(out) == [week.name]


# ---------------------------------------------------------------- an unfinished week


def test_an_unfinished_week_is_finished_by_the_next_run_and_held_once(env, tmp_path, capsys):
    fake = serve(env, FakeHighLevel(["G1", "B1"], broken={"B1": (403, {"message": "no"})}))
    out = tmp_path / "processed" / "weekly"
    assert main(run_args(tmp_path)) == 1  # B1 refused: the week is partial
    printed = capsys.readouterr()
    assert "the next poolkit run finishes it" in printed.err and "fetch --resume" not in printed.err
    (week,) = (tmp_path / "raw").iterdir()
    assert dataset_snapshots(out) == [week.name]
    fake.broken.clear()
    fake.pool_requests.clear()
    assert main(run_args(tmp_path)) == 0
    assert f"finishing {week}" in capsys.readouterr().out
    assert list((tmp_path / "raw").iterdir()) == [week] and fake.pool_requests == ["B1"]
    assert dataset_snapshots(out) == [week.name]  # once, whole
    assert json.loads((week / "manifest.json").read_text())["summary"]["failed"] == 0
    pools = poolkit.read_dataset(out).pools
    held = set(zip(pools["location_id"], pools["pool_id"]))
    assert held == raw_pool_ids(week) and len(pools) == len(raw_pool_ids(week)) == 4
    csv = pd.read_csv(out / "pools.csv")
    assert len(csv) == 4 and set(csv["snapshot"]) == {week.name}


def test_an_unfinished_week_older_than_a_week_stays_and_a_new_one_is_taken(env, tmp_path):
    fake = serve(env, FakeHighLevel(["G1", "B1"], broken={"B1": (403, {"message": "no"})}))
    assert main(run_args(tmp_path)) == 1
    (old,) = (tmp_path / "raw").iterdir()
    age(old, 7)
    fake.broken.clear()
    assert main(run_args(tmp_path)) == 0
    assert len(list((tmp_path / "raw").iterdir())) == 2
    assert len(dataset_snapshots(tmp_path / "processed" / "weekly")) == 2


# ---------------------------------------------------------------- a killed run


def test_a_run_killed_before_its_manifest_caught_up_fetches_only_what_is_missing(env, tmp_path):
    fake = serve(env, FakeHighLevel([f"G{i}" for i in range(6)]))
    assert main(["fetch", "--company-id", "C1", "--out", str(tmp_path / "raw")]) == 0
    (week,) = (tmp_path / "raw").iterdir()
    manifest = json.loads((week / "manifest.json").read_text())
    for entry in manifest["locations"]:  # as the manifest stood at the start of the fetch
        entry.update(status="pending", file=None)
    manifest["summary"] = {"ok": 0, "failed": 0, "pending": 6}
    (week / "manifest.json").write_text(json.dumps(manifest))
    (week / "G4.json").unlink()  # killed before these were written
    (week / "G5.json").unlink()
    fake.pool_requests.clear()
    assert main(run_args(tmp_path)) == 0
    assert sorted(fake.pool_requests) == ["G4", "G5"]
    assert dataset_snapshots(tmp_path / "processed" / "weekly") == [week.name]
    assert len(raw_pool_ids(week)) == 12


def test_a_week_fetched_by_a_run_killed_before_the_add_is_added_not_fetched(env, tmp_path, capsys):
    fake = serve(env, FakeHighLevel(["G1", "G2"]))
    assert main(["fetch", "--company-id", "C1", "--out", str(tmp_path / "raw")]) == 0
    (week,) = (tmp_path / "raw").iterdir()
    fake.pool_requests.clear()
    assert main(run_args(tmp_path, report=True)) == 0
    assert f"adding {week}" in capsys.readouterr().out
    assert fake.pool_requests == [] and list((tmp_path / "raw").iterdir()) == [week]
    assert dataset_snapshots(tmp_path / "processed" / "weekly") == [week.name]
    assert (tmp_path / "r.html").is_file()


# ---------------------------------------------------------------- a run that cannot start


def test_a_run_whose_agency_token_is_refused_leaves_nothing(env, tmp_path, capsys):
    env.expect_request("/locations/search").respond_with_json(
        {"statusCode": 401, "message": "Invalid JWT"}, status=401
    )
    assert main(run_args(tmp_path)) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    raw = tmp_path / "raw"
    assert not raw.exists() or not any(raw.iterdir())
    assert not (tmp_path / "processed" / "weekly").exists()


def test_a_run_every_location_refuses_leaves_nothing(env, tmp_path, capsys):
    serve(env, FakeHighLevel(["G1"], broken={"G1": (401, {"message": "Invalid JWT"})}))
    args = ["run", "G1", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "p")]
    assert main([*args, "--report", str(tmp_path / "r.html")]) == 2
    assert "refused the token" in capsys.readouterr().err
    assert not any((tmp_path / "raw").iterdir()) and not (tmp_path / "p").exists()


def test_a_run_with_no_server_leaves_nothing(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = poolkit.Client("pit-test", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    raw, out = tmp_path / "raw", tmp_path / "processed" / "weekly"
    with pytest.raises(poolkit.errors.NetworkError):
        poolkit.run(company_id="C1", raw=raw, out=out, report=None, client=client)
    assert not raw.exists() or not any(raw.iterdir())
    lock = out.parent / ".weekly.lock"  # released: empty (a lock file is never removed)
    assert not out.exists() and (not lock.exists() or lock.read_text() == "")


# ---------------------------------------------------------------- bad input


def tidied(tmp_path: Path) -> Path:
    out = tmp_path / "processed" / "weekly"
    assert main(["tidy", str(REPO / "data" / "sample"), "--out", str(out)]) == 0
    return out


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_dataset_marker_of_a_newer_poolkit_is_refused_and_left_as_it_is(tmp_path, capsys):
    out = tidied(tmp_path)
    marker = json.loads((out / "poolkit-dataset.json").read_text())
    (out / "poolkit-dataset.json").write_text(json.dumps({**marker, "version": 99}))
    before = files_of(out)
    capsys.readouterr()
    for args in (["audit", str(out)], ["tidy", str(REPO / "data" / "sample"), "--out", str(out)]):
        assert main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "newer poolkit" in err[0] and "poolkit-dataset.json" in err[0]
    assert files_of(out) == before


def test_a_manifest_of_a_newer_poolkit_is_refused(tmp_path, capsys):
    week = tmp_path / "raw" / "2026-12-07T080000Z"
    write_week(week, "Sales")
    (week / "manifest.json").write_text(
        json.dumps({"manifest_version": 7, "snapshot": week.name, "locations": []})
    )
    out = tmp_path / "processed"
    assert main(["tidy", str(tmp_path / "raw"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "newer poolkit" in err[0] and "manifest.json" in err[0]
    assert not out.exists()


def test_a_corrupt_part_is_named_and_nothing_changes(tmp_path, capsys):
    out = tidied(tmp_path)
    (part,) = (out / "pools").rglob("*.parquet")
    part.write_bytes(b"PAR1 not really")
    before = files_of(out)
    capsys.readouterr()
    assert main(["audit", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(part) in err[0]
    assert files_of(out) == before


def test_a_dataset_folder_holding_foreign_files_is_refused(tmp_path, capsys):
    out = tmp_path / "processed" / "weekly"
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    assert main(["tidy", str(REPO / "data" / "sample"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "notes.txt" in err[0]
    assert files_of(out) == {str(out / "notes.txt"): b"mine"}


# ---------------------------------------------------------------- the CSVs, week by week


def csv_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / f"{name}.csv").read_bytes() for name in poolkit.PoolTables.TABLES}


def test_a_week_is_appended_to_the_csvs_and_they_read_as_if_written_whole(
    env, tmp_path, monkeypatch
):
    """The CSVs gain each week's rows (a week costs its own rows, not the year's); a run
    killed while writing them leaves them to be written whole by the next: either way they
    are what writing the whole dataset gives, byte for byte."""
    fake = serve(env, FakeHighLevel(["G1", "G2"]))
    out = tmp_path / "processed" / "weekly"
    raw = tmp_path / "raw"
    ran = [poolkit.run(company_id="C1", raw=raw, out=out, report=None, new=True)]
    for week in range(3):
        fake.locations.append(f"N{week}")
        fake.bodies["G1"] = envelope(make_pool(id="G1-p0", locationId="G1", priority=week))
        ran.append(poolkit.run(company_id="C1", raw=raw, out=out, report=None, new=True))
    # a field new to the dataset (priority) changes the header: then they are written whole
    assert [r.added.csv for r in ran] == ["rewritten", "rewritten", "appended", "appended"]
    whole = tmp_path / "whole"
    poolkit.read_dataset(out).to_csv(whole)
    assert csv_bytes(out) == csv_bytes(whole)
    assert len(pd.read_csv(out / "locations.csv")) == 2 + 3 + 4 + 5

    # a disk that fills as a week is appended: the CSVs are cut back at once, as they were
    before = csv_bytes(out)
    from poolkit import tables as tables_module

    real_append, real_fsync, calls = tables_module._append_csv, os.fsync, []

    def full_disk(fd):
        calls.append(fd)
        if len(calls) == 2:  # the second CSV does not fit
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    def appending_on_a_full_disk(*args):
        monkeypatch.setattr(os, "fsync", full_disk)
        try:
            return real_append(*args)
        finally:
            monkeypatch.setattr(os, "fsync", real_fsync)

    fake.locations.append("N8")
    monkeypatch.setattr(tables_module, "_append_csv", appending_on_a_full_disk)
    assert main([*run_args(tmp_path), "--new"]) == 2
    monkeypatch.setattr(tables_module, "_append_csv", real_append)
    assert len(calls) == 2
    assert csv_bytes(out) == before  # the week is in the Parquet dataset, not half in a CSV

    # what a SIGKILL in the middle of an append leaves: half a line, the lengths recorded
    state = json.loads((out / ".poolkit-csv.json").read_text())
    sizes = {name: (out / f"{name}.csv").stat().st_size for name in poolkit.PoolTables.TABLES}
    (out / ".poolkit-csv.json").write_text(json.dumps({**state, "appending": sizes}))
    with open(out / "numbers.csv", "a") as handle:
        handle.write("2026-12-09T080000Z,N9,N9-p0,0,+1512")
    fake.locations.append("N9")
    assert main([*run_args(tmp_path), "--new"]) == 0
    poolkit.read_dataset(out).to_csv(whole)
    assert csv_bytes(out) == csv_bytes(whole)
    assert {"N8", "N9"} <= set(pd.read_csv(out / "locations.csv")["location_id"])


# ---------------------------------------------------------------- this week's snapshot


def snapshot_folder(raw: Path, name: str, taken: str, **manifest) -> Path:
    folder = raw / name
    folder.mkdir(parents=True)
    entries = [{"location_id": "G1", "status": "ok", "file": "G1.json"}]
    body = {"snapshot": name, "taken_at": taken, "locations": entries, **manifest}
    body["summary"] = {"ok": 1, "failed": 0, "pending": 0}
    (folder / "manifest.json").write_text(json.dumps(body))
    (folder / "G1.json").write_text(json.dumps(envelope(make_pool(locationId="G1"))))
    return folder


def test_this_weeks_snapshot_is_of_the_same_iso_week_and_the_same_request(tmp_path):
    from poolkit.weekly import this_week

    raw = tmp_path / "raw"
    agency = snapshot_folder(raw, "a", "2026-12-09T08:00:00+00:00", company_id="C1")  # a Wed.
    snapshot_folder(raw, "b", "2026-12-10T08:00:00+00:00", company_id=None)  # a one-off G1
    monday = datetime(2026, 12, 14, 6, tzinfo=timezone.utc)
    sunday = datetime(2026, 12, 13, 23, tzinfo=timezone.utc)
    assert this_week(raw, company_id="C1", now=sunday).folder == agency  # not the one-off
    assert this_week(raw, company_id="C1", now=monday) is None  # Monday: a new week
    assert this_week(raw, company_id="C2", now=sunday) is None  # another agency
    assert this_week(raw, location_ids=["G1"], now=sunday).folder.name == "b"
    assert this_week(raw, location_ids=["G1", "G2"], now=sunday) is None
    assert this_week(raw, company_id="C1", numbers=True, now=sunday) is None  # asked more


def test_a_run_again_in_a_week_that_is_done_changes_nothing(env, tmp_path, capsys):
    serve(env, FakeHighLevel(["G1", "G2"]))
    out, raw = tmp_path / "processed" / "weekly", tmp_path / "raw"
    first = poolkit.run(company_id="C1", raw=raw, out=out, report=None)
    files = files_of(out)
    again = poolkit.run(company_id="C1", raw=raw, out=out, report=None)
    assert (first.state, again.state) == ("new", "done") and again.fetch is None
    assert again.added.added == again.added.replaced == [] and again.added.csv == "current"
    assert files_of(out) == files  # not a byte written
    assert len(list(raw.iterdir())) == 1


def test_numbers_that_failed_are_fetched_by_the_next_run(env, tmp_path, capsys):
    """With --numbers, a location whose numbers were refused leaves the week unfinished:
    the next run fetches those numbers (and only those) and the week's complete version
    takes the partial one's place."""
    fake = serve(env, FakeHighLevel(["G1", "G2"]))
    fake.held = {"G1": [{"phoneNumber": "+15125550101"}], "G2": [{"phoneNumber": "+15125550102"}]}
    fake.numbers_forbidden = {"G2"}
    out = tmp_path / "processed" / "weekly"
    assert main([*run_args(tmp_path), "--numbers"]) == 1
    assert "the next poolkit run finishes it" in capsys.readouterr().err
    fake.numbers_forbidden.clear()
    fake.pool_requests.clear()
    fake.number_requests.clear()
    assert main([*run_args(tmp_path), "--numbers"]) == 0
    assert "finishing" in capsys.readouterr().out
    assert fake.pool_requests == [] and {r["location"] for r in fake.number_requests} == {"G2"}
    (week,) = (tmp_path / "raw").iterdir()
    phones = poolkit.read_dataset(out).phone_numbers
    assert sorted(phones["phone_number"]) == ["+15125550101", "+15125550102"]
    assert dataset_snapshots(out) == [week.name]


def test_two_folders_of_one_snapshot_are_refused(tmp_path, capsys):
    raw = tmp_path / "raw"
    snapshot_folder(raw / "one", "week-1", "2026-12-07T08:00:00+00:00")
    snapshot_folder(raw / "two", "week-1", "2026-12-07T08:00:00+00:00")
    out = tmp_path / "processed"
    assert main(["tidy", str(raw), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "two folders are snapshot week-1" in err[0]
    assert not out.exists()


def test_a_field_named_snapshot_never_sets_a_rows_week(env, tmp_path):
    """A pool the API sends with a field called ``snapshot`` (or ``_row``) keeps it as an
    extra column; each row's week is still its snapshot's, and the next week adds to the
    dataset instead of taking that week's place."""
    fake = serve(env, FakeHighLevel(["G1"]))
    fake.bodies["G1"] = envelope(make_pool(id="P1", locationId="G1", snapshot="tmpl-1", _row=7))
    out, raw = tmp_path / "processed" / "weekly", tmp_path / "raw"
    poolkit.run(company_id="C1", raw=raw, out=out, report=None)
    fake.bodies["G1"] = envelope(make_pool(id="P2", locationId="G1", snapshot="tmpl-1"))
    poolkit.run(company_id="C1", raw=raw, out=out, report=None, new=True)
    weeks = sorted(p.name for p in raw.iterdir())
    pools = poolkit.read_dataset(out).pools
    assert pools["snapshot"].astype(str).tolist() == weeks
    assert pools["pool_id"].tolist() == ["P1", "P2"]
    assert pools["extra_snapshot"].tolist() == ["tmpl-1", "tmpl-1"]


def test_a_datasets_source_says_its_newest_week_and_when_it_was_taken(env, tmp_path):
    """The report's "Data as of" of a dataset: its newest week and that week's time, as its
    manifest gives it (it said "unknown" for every dataset)."""
    fake = serve(env, FakeHighLevel(["G1"]))
    out, raw = tmp_path / "processed" / "weekly", tmp_path / "raw"
    poolkit.run(company_id="C1", raw=raw, out=out, report=None)
    fake.locations.append("G2")
    poolkit.run(company_id="C1", raw=raw, out=out, report=None, new=True)
    newest = sorted(raw.iterdir())[-1]
    manifest = json.loads((newest / "manifest.json").read_text())
    from poolkit.notebook import source_info

    info = source_info(out)
    assert info["snapshots"] == 2 and info["snapshot"] == newest.name
    assert info["taken_at"] == datetime.fromisoformat(manifest["taken_at"]).isoformat()
