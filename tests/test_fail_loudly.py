"""Fail loudly, lose nothing: every command's exit code on broken input and unwritable
outputs, and dataset writes that fail or are killed at any moment."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from werkzeug import Request, Response

import poolkit
from poolkit import dataset as dataset_module
from poolkit.cli import main
from poolkit.synthetic import SyntheticSpec, generate, write_snapshot

WEEKS = [datetime(2026, 11, d, 8, tzinfo=timezone.utc) for d in (19, 26)]


def broken_inputs(root: Path) -> dict[str, Path]:
    """The inputs of the issue's table, each a new user's slip."""
    (root / "empty").mkdir(parents=True)
    (root / "text").mkdir()
    (root / "text" / "notes.txt").write_text("not a response")
    (root / "numbers.json").write_text("[1, 2, 3, 4]")
    (root / "truncated.json").write_text('{"success": true, "data": [{"id": "A", "na')
    (root / "zero.json").write_bytes(b"")
    return {
        "missing": root / "nope",
        "empty folder": root / "empty",
        "only a text file": root / "text",
        "[1, 2, 3, 4]": root / "numbers.json",
        "truncated": root / "truncated.json",
        "0 bytes": root / "zero.json",
    }


def command(name: str, data: Path, out: Path) -> list[str]:
    return {
        "tidy": ["tidy", str(data), "--out", str(out / "dataset")],
        "audit": ["audit", str(data), "--out", str(out / "findings.csv")],
        "report": ["report", str(data), "--out", str(out / "report.html")],
        "diff": ["diff", str(data), str(data.parent / "other"), "--out", str(out / "c.csv")],
    }[name]


@pytest.mark.parametrize("name", ["tidy", "audit", "report", "diff"])
def test_broken_input_exits_2_with_one_line_and_writes_nothing(name, tmp_path, capsys):
    inputs = broken_inputs(tmp_path / "in")
    (tmp_path / "in" / "other").mkdir()
    for what, data in inputs.items():
        out = tmp_path / "out" / what
        assert main(command(name, data, out)) == 2, what
        err = capsys.readouterr().err
        assert err.startswith("poolkit: error: ") and err.count("\n") == 1, (what, err)
        assert "Traceback" not in err
        assert not out.exists(), what  # nothing written


def test_a_snapshot_where_every_location_failed_makes_no_report(tmp_path, capsys):
    spec = SyntheticSpec(locations=3, seed=4)
    failed = [(location, None) for location, _ in generate(spec)]
    folder = write_snapshot(tmp_path / "s", failed, taken_at=WEEKS[0])
    for name in ("tidy", "audit", "report"):
        assert main(command(name, folder, tmp_path / "out")) == 2
        assert "no location answered" in capsys.readouterr().err
    assert (
        main(["diff", str(folder), str(poolkit.sample_path()), "--out", str(tmp_path / "out")]) == 2
    )
    assert "no location answered" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_unwritable_outputs_exit_2_naming_them(tmp_path, capsys):
    sample = str(poolkit.sample_path())
    older = str(poolkit.sample_path().parent / "2026-10-26T150000Z")
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-folder").mkdir()
    cases = {
        ("audit", sample, "--out", str(tmp_path / "a-file" / "f.csv")): "a-file",
        ("report", sample, "--out", str(tmp_path / "a-folder")): "a-folder",
        ("tidy", sample, "--out", str(tmp_path / "a-file" / "ds")): "a-file",
        ("diff", older, sample, "--out", str(tmp_path / "a-folder")): "a-folder",
    }
    for args, named in cases.items():
        assert main(list(args)) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and named in err and "Traceback" not in err, err
    assert (tmp_path / "a-file").read_text() == "x" and not any((tmp_path / "a-folder").iterdir())
    # a missing folder for a file is made: the findings are written, exit by the findings
    assert main(["audit", sample, "--out", str(tmp_path / "new" / "f.csv")]) == 1
    assert (tmp_path / "new" / "f.csv").read_text().startswith("severity,rule")


def test_an_unexpected_exception_is_one_line_that_says_it_is_a_bug(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something poolkit did not expect")

    monkeypatch.setattr("poolkit.findings.findings_summary", broken)
    assert main(["audit", str(poolkit.sample_path())]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bug in poolkit" in err and "did not expect" in err


def test_the_installed_command_prints_no_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "poolkit", "tidy", str(tmp_path / "nope"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "POOLKIT_DEBUG": ""},
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


# ------------------------------------------------------------------- tidy FILE | GLOB


def test_tidy_of_a_file_or_a_glob_adds_its_snapshot_to_a_dataset(tmp_path, capsys):
    spec = SyntheticSpec(locations=4, seed=9)
    first = write_snapshot(tmp_path / "raw" / "a", generate(spec), taken_at=WEEKS[0])
    second = write_snapshot(tmp_path / "raw" / "b", generate(spec), taken_at=WEEKS[1])
    out = tmp_path / "dataset"
    assert main(["tidy", str(first), "--out", str(out)]) == 0
    one_file = sorted(second.glob("*.json"))[0]
    assert one_file.name not in ("manifest.json", "locations.json")
    assert main(["tidy", str(second / "*.json"), "--out", str(out)]) == 0
    assert poolkit.dataset.dataset_snapshots(out) == ["2026-11-19T080000Z", "2026-11-26T080000Z"]
    assert main(["tidy", str(one_file), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "not added again: 2026-11-26T080000Z" in said and "nothing new to add" in said
    csv = pd.read_csv(out / "locations.csv")  # every snapshot of the dataset, not the last
    assert len(csv) == len(poolkit.read_dataset(out).locations) == 8


# ------------------------------------------------------------------- crash-safe writes


def dataset_of(folder: Path) -> dict[str, pd.DataFrame]:
    tables = poolkit.read_dataset(folder)
    return {name: frame for name, frame in tables}


def assert_reads_as(folder: Path, expected: dict[str, pd.DataFrame]) -> None:
    for name, frame in dataset_of(folder).items():
        pd.testing.assert_frame_equal(frame, expected[name], obj=name)


@pytest.fixture
def week_two(tmp_path) -> tuple[Path, poolkit.PoolTables]:
    """A dataset of the first week, and the tables of the second to append."""
    spec = SyntheticSpec(locations=6, seed=11)
    first = write_snapshot(tmp_path / "raw" / "a", generate(spec), taken_at=WEEKS[0])
    second = write_snapshot(tmp_path / "raw" / "b", generate(spec), taken_at=WEEKS[1])
    out = poolkit.read_pools(first).to_parquet(tmp_path / "dataset")
    return out, poolkit.read_pools(second)


def test_an_append_that_fails_at_any_write_leaves_the_dataset_as_it_was(week_two, monkeypatch):
    out, new = week_two
    before = dataset_of(out)
    real_write, real_atomic = pq.write_table, dataset_module.write_atomic
    writes = {"parquet": 0, "marker": 0}

    def counting(*args, **kwargs):
        writes["parquet"] += 1
        return real_write(*args, **kwargs)

    monkeypatch.setattr(pq, "write_table", counting)
    new.to_parquet(out.parent / "scratch")  # how many part files one write makes
    parts = writes["parquet"]
    assert parts >= 5
    for failing in range(1, parts + 2):  # every part, then the marker (the commit)
        calls = {"n": 0}

        def full_disk(*args, calls=calls, failing=failing, **kwargs):
            calls["n"] += 1
            if calls["n"] == failing:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_write(*args, **kwargs)

        def full_disk_marker(path, data, failing=failing):
            if failing == parts + 1:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            return real_atomic(path, data)

        monkeypatch.setattr(pq, "write_table", full_disk)
        monkeypatch.setattr(dataset_module, "write_atomic", full_disk_marker)
        with pytest.raises(OSError, match="No space"):
            new.to_parquet(out, append=True)
        assert_reads_as(out, before)  # exactly as before the failed write
        assert poolkit.dataset.dataset_snapshots(out) == ["2026-11-19T080000Z"]
    monkeypatch.setattr(pq, "write_table", real_write)
    monkeypatch.setattr(dataset_module, "write_atomic", real_atomic)
    new.to_parquet(out, append=True)  # the same command again completes it
    assert poolkit.dataset.dataset_snapshots(out) == ["2026-11-19T080000Z", "2026-11-26T080000Z"]
    after = dataset_of(out)
    assert len(after["pools"]) == len(before["pools"]) + len(new.pools)
    leftovers = [p for p in out.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_replace_that_fails_keeps_the_old_dataset(week_two, monkeypatch):
    out, new = week_two
    before = dataset_of(out)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(dataset_module, "write_atomic", full_disk)  # the commit fails
    with pytest.raises(OSError):
        new.to_parquet(out)
    assert_reads_as(out, before)


APPEND = """
import sys, poolkit
new = poolkit.read_pools(sys.argv[2])
print("go", flush=True)
new.to_parquet(sys.argv[1], append=True)
"""


def test_an_append_killed_at_random_moments_reads_as_before_or_after(tmp_path):
    spec = SyntheticSpec(locations=300, seed=12)
    first = write_snapshot(tmp_path / "raw" / "a", generate(spec), taken_at=WEEKS[0])
    second = write_snapshot(tmp_path / "raw" / "b", generate(spec), taken_at=WEEKS[1])
    out = poolkit.read_pools(first).to_parquet(tmp_path / "dataset")
    before = dataset_of(out)
    # the dataset after a complete append, made in a folder of its own
    after = poolkit.read_pools(first).to_parquet(tmp_path / "after")
    poolkit.read_pools(second).to_parquet(after, append=True)
    expected_after = dataset_of(after)
    states = []
    for delay in [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8]:
        child = subprocess.Popen(
            [sys.executable, "-c", APPEND, str(out), str(second)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout.readline().strip() == "go"  # the tables are read; the write starts
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        held = poolkit.dataset.dataset_snapshots(out)
        if held == ["2026-11-19T080000Z"]:
            assert_reads_as(out, before)
            states.append("before")
        else:
            assert_reads_as(out, expected_after)
            states.append("after")
            break  # committed: nothing left to interrupt
    if states[-1] == "before":  # the same append run again completes it
        poolkit.read_pools(second).to_parquet(out, append=True)
    assert_reads_as(out, expected_after)
    assert "before" in states  # at least one kill landed before the commit


# ------------------------------------------------------------------- ids and paging


def test_a_location_id_that_is_not_one_never_becomes_a_path_or_a_url(env, tmp_path, capsys):
    from test_fetch import FakeHighLevel, serve

    fake = serve(env, FakeHighLevel(["G1"]))
    for bad in ("../../x", "a/b", "..", "x y", ""):
        assert main(["fetch", "G1", bad, "--out", str(tmp_path / "raw")]) == 2
        assert "not a location id" in capsys.readouterr().err
    assert not (tmp_path / "raw").exists() and fake.pool_requests == []
    # a resumed manifest naming one: that location fails, the others are fetched
    assert main(["fetch", "G1", "--out", str(tmp_path / "raw")]) == 0
    snapshot = next((tmp_path / "raw").iterdir())
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["locations"].append({"location_id": "../../escaped", "status": "failed"})
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    assert main(["fetch", "--resume", str(snapshot)]) == 1
    entries = json.loads((snapshot / "manifest.json").read_text())["locations"]
    bad = [e for e in entries if e["location_id"] == "../../escaped"][0]
    assert bad["status"] == "failed" and bad["error"] == "InvalidLocationId"
    assert not (tmp_path / "escaped.json").exists() and not list(tmp_path.glob("**/escaped*"))
    assert "../../escaped" not in fake.pool_requests


def test_search_pages_that_repeat_end_and_entries_without_an_id_are_recorded(env, tmp_path):
    from test_fetch import FakeHighLevel, serve

    pages = {
        0: [{"id": "S1", "name": "One"}, {"name": "no id"}, {"id": "../up"}],
        3: [{"id": "S2", "name": "Two"}],
    }

    def search(request: Request) -> Response:
        body = {"locations": pages.get(int(request.args["skip"]), [])}
        return Response(json.dumps(body), content_type="application/json")

    env.expect_request("/locations/search").respond_with_handler(search)  # before the fake's
    fake = serve(env, FakeHighLevel(["S1", "S2"]))
    client = poolkit.Client(base_url=env.url_for("").rstrip("/"), page_size=3)
    result = poolkit.fetch_pools(company_id="C1", out=tmp_path, client=client)
    assert sorted(result.tables.pools["location_id"].unique()) == ["S1", "S2"]
    manifest = json.loads((result.snapshot / "manifest.json").read_text())
    assert [e["index"] for e in manifest["search_entries_without_id"]] == [1, 2]
    assert "../up" not in fake.pool_requests

    def cycling(request: Request) -> Response:  # ignores skip: the same full page for ever
        body = {"locations": [{"id": f"C{i}"} for i in range(3)]}
        return Response(json.dumps(body), content_type="application/json")

    env.clear()
    env.expect_request("/locations/search").respond_with_handler(cycling)
    with pytest.raises(poolkit.errors.InvalidResponseError, match="page 1 repeats page 0"):
        client.search_locations("C1")


def test_the_inventory_reader_takes_any_date_and_any_nesting(tmp_path):
    body = {"success": True, "data": [], "total": 0}
    numbers = [
        {"phoneNumber": "+15125550101", "dateAdded": "0001-01-01T00:00:00Z"},
        {"phoneNumber": "+15125550102", "dateAdded": "9999-12-31T23:59:59Z"},
        {"phoneNumber": "+15125550103", "dateUpdated": "2026-01-01T00:00:00"},  # no zone
        {"phoneNumber": "+15125550104", "friendlyName": "DEEP"},
        {"phoneNumber": "+15125550105", "dateAdded": "2025-03-04T10:30:00.000Z"},
    ]
    page = {"numbers": numbers, "pageSize": 1000, "page": 0}
    folder = write_snapshot(
        tmp_path / "s", [({"id": "L1", "name": "One"}, body)], inventory={"L1": [page]}
    )
    path = folder / "L1.numbers.0.json"
    path.write_text(path.read_text().replace('"DEEP"', "[" * 900 + "]" * 900))
    for errors in ("record", "raise"):  # problems inside a page never raise
        tables = poolkit.read_pools(folder, errors=errors)
        phones = tables.phone_numbers.set_index("phone_number")
        assert len(phones) == 5 and phones["number_date_added"].isna().sum() == 4
        assert str(phones.loc["+15125550105", "number_date_added"]) == "2025-03-04 10:30:00+00:00"
        paths = set(tables.problems["path"])
        assert {
            "numbers[0].dateAdded",
            "numbers[1].dateAdded",
            "numbers[2].dateUpdated",
            "numbers[3].friendlyName",
        } <= paths


def test_an_error_quoting_data_with_a_line_break_is_still_one_line(tmp_path, capsys):
    """Found by the command-line fuzz: a JSON key holding a line break, or a path with one,
    quoted in the error, made it two lines."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "L1.json").write_bytes(b'{"\\n": null}')
    assert main(["audit", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and '(keys: "\\n")' in err
    assert main(["audit", str(tmp_path / "no\nsuch")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no\\nsuch" in err


def test_a_base_url_without_its_scheme_and_no_workers_are_usage_errors(monkeypatch, capsys):
    """Issue 30: a base URL without http:// failed as 'no answer after retries', and
    --workers 0 was accepted."""
    monkeypatch.setenv("GHL_TOKEN", "pit-test-token")
    assert main(["fetch", "G1", "--base-url", "127.0.0.1:18765"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'127.0.0.1:18765' does not start with http://" in err[0]
    with pytest.raises(SystemExit) as exited:
        main(["fetch", "G1", "--workers", "0"])
    assert exited.value.code == 2
    assert "--workers: '0' is not a whole number of 1 or more" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", ["tidy", "fetch", "run", "audit", "diff", "report", "rules", "explain"]
)
def test_every_command_says_what_it_does_its_exit_codes_and_environment(command, capsys):
    """Issue 30: ``poolkit tidy --help`` had no description and no exit codes, and ``poolkit
    run --help`` did not name GHL_TOKEN."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    (subcommands,) = poolkit.cli.build_parser()._subparsers._group_actions
    description = subcommands.choices[command].description
    assert len(description) > 80 and " ".join(description.split()) in text
    assert "exit codes: 0 " in text and "; 2 " in text and "130 interrupted" in text
    assert "environment: " in text and "POOLKIT_DEBUG=1" in text
    assert ("GHL_TOKEN" in text) == (command in ("fetch", "run"))


def test_messages_that_say_what_to_do(tmp_path: Path, monkeypatch, capsys, httpserver):
    """Issue 30: an absolute path found nowhere was looked for 'in the working folder or
    above'; a wrong --company-id was told to check the location id; ``poolkit report`` with
    no DATA reported the sample without a word; Ctrl-C said only 'interrupted'."""
    missing = tmp_path / "nowhere"
    assert main(["audit", str(missing)]) == 2
    assert capsys.readouterr().err == f"poolkit: error: {missing}: no such file or folder\n"

    httpserver.expect_request("/locations/search").respond_with_json(
        {"statusCode": 400, "message": "companyId is invalid"}, status=400
    )
    monkeypatch.setenv("GHL_TOKEN", "pit-test-token")
    url = httpserver.url_for("").rstrip("/")
    assert main(["fetch", "--company-id", "W1", "--base-url", url, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "check the company id W1 (--company-id)" in err and "location id" not in err

    assert main(["report", "--out", str(tmp_path / "r.html")]) == 0
    assert "no DATA given: reporting the shipped sample" in capsys.readouterr().err

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(poolkit.cli, "cmd_fetch", interrupted)
    assert main(["fetch", "G1"]) == 130
    assert "poolkit fetch --resume SNAPSHOT (the folder it made" in capsys.readouterr().err


def test_a_refused_connection_names_the_host_within_seconds(monkeypatch):
    """Issue 30: a refused connection took 16.7 s and did not name the host."""
    client = poolkit.Client("pit-test-token", base_url="http://127.0.0.1:9")
    start = time.monotonic()
    with pytest.raises(
        poolkit.errors.NetworkError, match="no answer from 127.0.0.1:9 after retries"
    ):
        client.list_number_pools("G1")
    assert time.monotonic() - start < 5
