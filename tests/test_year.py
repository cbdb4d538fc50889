"""A year of Mondays: generated weeks driven through ``poolkit.run`` against a local
HighLevel, with drift (fields added, dropped, changing type), renames and moves, locations
coming, going, failing and coming back, runs killed at random points (during the fetch, the
add, the report; in process, and a real SIGKILL at the end), a run started while another
holds the dataset, and weeks finished by a second run.

After every week the dataset holds each snapshot under ``raw`` once, in order, and equals a
plain reading of those raw files (``json`` only, no poolkit); ``audit`` and ``diff`` read it;
the history's changes between the last two weeks are the reference's
(``tests/reference.py``). ``make test`` drives 8 weeks, ``make fuzz`` 52."""

from __future__ import annotations

import copy
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import papermill
import pyarrow.parquet as pq
import pytest

import poolkit
from poolkit import dataset as dataset_module
from poolkit import fetch as fetch_module
from poolkit import weekly
from poolkit.cli import main
from poolkit.dataset import dataset_snapshots

import reference
from pages import card
from robustness import FUZZ, tally
from test_fetch import FakeHighLevel, serve
from test_reference import change_keys

WEEKS = 52 if FUZZ else 8
REPO = Path(__file__).resolve().parents[1]
LOCATIONS = [f"L{i}" for i in range(1, 7)]


class Killed(BaseException):
    """A kill, raised where the process would have died."""


class Clock(datetime):
    """``datetime`` whose ``now`` is the simulated Monday (poolkit reads the time only so)."""

    at = datetime(2025, 1, 6, 8, tzinfo=timezone.utc)

    @classmethod
    def now(cls, tz=None):
        cls.at += timedelta(seconds=1)  # every call a second on: no two runs share a name
        return cls.at if tz else cls.at.replace(tzinfo=None)


# ------------------------------------------------------------------------- the agency


def new_pool(rng: random.Random, location: str, n: int) -> dict:
    return {
        "id": f"{location}-P{n}",
        "name": rng.choice(["Sales", "Support", f"Line {n}", "Front desk"]),
        "locationId": location,
        "numbers": [
            {"phoneNumber": f"+1512555{rng.randrange(10000):04d}", "friendlyName": "line"}
            for _ in range(rng.randint(0, 3))
        ],
        "forwardingNumber": rng.choice(["+14155550100", "+14155550111", None]),
        "whisper": rng.choice([True, False]),
        "whisperMessage": "Hi",
        "callRecording": rng.choice([True, False]),
        "isActive": rng.choice([True, False]),
        "inboundCallService": rng.choice([None, {"type": "voice_ai", "value": "agent"}]),
    }


def unique_numbers(pools: list[dict]) -> None:
    """A number in one pool of a location only (the generator's own rule, as HighLevel's)."""
    seen = set()
    for pool in pools:
        pool["numbers"] = [
            n
            for n in pool["numbers"]
            if n["phoneNumber"] not in seen and not seen.add(n["phoneNumber"])
        ]


def next_week(rng: random.Random, agency: dict, week: int) -> tuple[dict, set]:
    """The agency a week on, and the locations that fail this week (403)."""
    agency = copy.deepcopy(agency)
    for _ in range(rng.randint(1, 4)):
        change = rng.choice(["rename", "move", "drop", "add", "gone", "back", "drift"])
        present = sorted(agency)
        if change == "back":
            missing = [loc for loc in LOCATIONS if loc not in agency]
            if missing:
                loc = rng.choice(missing)
                agency[loc] = [new_pool(rng, loc, week * 10 + i) for i in range(rng.randint(0, 3))]
            continue
        loc = rng.choice(present)
        pools = agency[loc]
        if change == "gone" and len(agency) > 2:
            del agency[loc]
        elif change == "add":
            pools.append(new_pool(rng, loc, week * 10 + len(pools)))
        elif pools and change == "rename":
            rng.choice(pools)["name"] = rng.choice(["Renamed", "Sales", "Intake"])
        elif pools and change == "drop":
            pools.remove(rng.choice(pools))
        elif pools and change == "move":
            source, target = rng.choice(pools), rng.choice(pools)
            if source["numbers"]:
                target["numbers"].append(source["numbers"].pop())
        elif pools and change == "drift":  # fields the contract does not list
            pool = rng.choice(pools)
            kind = rng.choice(["dateAdded", "priority-int", "priority-text", "drop"])
            if kind == "dateAdded":
                pool["dateAdded"] = f"2026-01-{rng.randint(10, 28)}T10:00:00.000Z"
            elif kind == "drop":
                pool.pop("dateAdded", None)
                pool.pop("priority", None)
            else:
                pool["priority"] = rng.randint(1, 5) if kind == "priority-int" else "high"
    every = [pool for pools in agency.values() for pool in pools]
    if week % 4 == 1:  # fields that come, change type and go, on every pool at once
        for pool in every:
            pool["dateAdded"] = "2026-01-12T10:00:00.000Z"
            pool["priority"] = 2
    elif week % 4 == 2:
        for pool in every:
            pool["priority"] = "high"
    elif week % 4 == 3:
        for pool in every:
            pool.pop("dateAdded", None)
            pool.pop("priority", None)
    for pools in agency.values():
        unique_numbers(pools)
    failing = {loc for loc in agency if rng.random() < 0.12}
    return agency, failing


def serve_week(fake: FakeHighLevel, agency: dict, failing: set) -> None:
    fake.locations[:] = sorted(agency)
    fake.bodies = {
        loc: {"success": True, "data": pools, "total": len(pools)} for loc, pools in agency.items()
    }
    for loc in fake.bodies:  # an agency's location with no pool answers an empty list
        if not fake.bodies[loc]["data"]:
            fake.bodies[loc] = {"success": True, "data": [], "total": 0, "empty": True}
    fake.broken = {loc: (403, {"statusCode": 403, "message": "no access"}) for loc in failing}


# ------------------------------------------------------------------------- reading raw


def raw_week(folder: Path) -> tuple[Counter, Counter, list[dict]]:
    """Pools (location, pool id, name) and numbers (location, pool id, number) of a raw
    snapshot, and the snapshot in the reference's terms, read with json only."""
    manifest = json.loads((folder / "manifest.json").read_text())
    details = json.loads((folder / "locations.json").read_text())["locations"]
    who = {d["id"]: d for d in details}
    pools, numbers, entries = Counter(), Counter(), []
    for entry in manifest["locations"]:
        loc = entry["location_id"]
        body = None
        if entry["status"] == "ok":
            body = json.loads((folder / entry["file"]).read_text())
            for pool in body["data"]:
                pools[(loc, pool["id"], pool["name"])] += 1
                for number in pool["numbers"]:
                    numbers[(loc, pool["id"], number["phoneNumber"])] += 1
        location = {"id": loc, "name": who.get(loc, {}).get("name"), "state": "IL"}
        entries.append({"location": location | {"country": "US"}, "body": body, "pages": None})
    return pools, numbers, entries


def check_dataset(raw: Path, out: Path) -> None:
    """The dataset holds each raw snapshot once, in order, whole; commands read it."""
    folders = sorted(p for p in raw.iterdir() if p.is_dir())
    assert dataset_snapshots(out) == [f.name for f in folders]
    tables = poolkit.read_dataset(out)
    for folder in folders:
        pools, numbers, _ = raw_week(folder)
        mine = tables.pools[tables.pools["snapshot"] == folder.name]
        assert Counter(zip(mine["location_id"], mine["pool_id"], mine["pool_name"])) == pools
        held = tables.numbers[tables.numbers["snapshot"] == folder.name]
        assert Counter(zip(held["location_id"], held["pool_id"], held["phone_number"])) == numbers
    assert main(["audit", str(out), "--format", "csv", "--out", str(out.parent / "f.csv")]) in (
        0,
        1,
    )
    if len(folders) >= 2:
        before, after = folders[-2], folders[-1]
        history = poolkit.read_history(out, snapshots=[before.name, after.name])
        got = change_keys(poolkit.changes(history, before.name, after.name))
        want = reference.changes(raw_week(before)[2], raw_week(after)[2])
        assert got == want, (before.name, after.name)
        diff = ["diff", before.name, after.name, "--dataset", str(out), "--format", "csv"]
        assert main([*diff, "--out", str(out.parent / "c.csv")]) == 0


# ------------------------------------------------------------------------- kills


def killing(monkeypatch, module, name: str, at: int) -> None:
    """``module.name`` raises ``Killed`` on its ``at``-th call (from 1)."""
    real, calls = getattr(module, name), {"n": 0}

    def dies(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == at:
            raise Killed(f"{name} call {at}")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, dies)


def leave_lock_of_a_dead_run(out: Path) -> None:
    """What a SIGKILL leaves that an exception does not: the lock of a process now gone."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    lock = out.parent / f".{out.name}.lock"
    lock.write_text(json.dumps({"pid": gone.pid, "host": os.uname().nodename, "started_at": "?"}))


def test_a_year_of_weeks_ends_in_a_dataset_that_holds_every_week_once_whole(
    env, tmp_path, monkeypatch
):
    rng = random.Random(27)
    monkeypatch.setattr(fetch_module, "datetime", Clock)
    monkeypatch.setattr(weekly, "datetime", Clock)
    Clock.at = datetime(2025, 1, 6, 8, tzinfo=timezone.utc)
    fake = serve(env, FakeHighLevel(list(LOCATIONS)))
    raw, out = tmp_path / "raw", tmp_path / "processed" / "weekly"
    agency = {loc: [new_pool(rng, loc, i) for i in range(rng.randint(0, 3))] for loc in LOCATIONS}
    for loc in agency:
        unique_numbers(agency[loc])
    failing: set = set()
    say = []
    kinds = Counter()
    for week in range(WEEKS):
        if week:
            agency, failing = next_week(rng, agency, week)
        serve_week(fake, agency, failing)
        Clock.at = datetime(2025, 1, 6, 8, tzinfo=timezone.utc) + timedelta(weeks=week)
        kill = rng.choice(["none", "none", "fetch", "add", "report", "held"]) if week else "none"
        kinds[kill] += 1
        report = tmp_path / "r.html" if kill == "report" else None
        with monkeypatch.context() as patched:
            if kill == "fetch":
                killing(patched, fetch_module, "write_atomic", rng.randint(1, 4))
            elif kill == "add":
                target = rng.choice(["marker", "part"])
                if target == "marker":
                    killing(patched, dataset_module, "write_atomic", 1)
                else:
                    killing(patched, pq, "write_table", rng.randint(1, 6))
            elif kill == "report":
                killing(patched, weekly, "build_report", 1)
            try:
                if kill == "held":  # a run started while another holds the dataset
                    with weekly.dataset_lock(out):
                        before = sorted(p.name for p in raw.iterdir()) if raw.exists() else []
                        with pytest.raises(poolkit.errors.RunLockedError, match="pid"):
                            poolkit.run(company_id="C1", raw=raw, out=out, report=None)
                        assert sorted(p.name for p in raw.iterdir()) == before
                else:
                    poolkit.run(company_id="C1", raw=raw, out=out, report=report, say=say.append)
            except Killed:
                leave_lock_of_a_dead_run(out)
        if kill != "none":  # the same Monday, an hour on: the run is done again
            Clock.at += timedelta(hours=1)
            poolkit.run(company_id="C1", raw=raw, out=out, report=None, say=say.append)
        if failing and rng.random() < 0.5:  # repaired the next day: a second run finishes it
            fake.broken.clear()
            Clock.at += timedelta(days=1)
            poolkit.run(company_id="C1", raw=raw, out=out, report=None, say=say.append)
            assert any(line.startswith("finishing") for line in say[-3:])
        check_dataset(raw, out)
        tally("weeks driven through poolkit run")
    assert len(dataset_snapshots(out)) == WEEKS  # one snapshot a week, each once
    assert kinds["fetch"] and kinds["add"] and kinds["held"]
    # the year read by the report and the notebooks, as an analyst opens it
    page = poolkit.report.build_report(out, tmp_path / "year.html").read_text()
    before, after = sorted(p for p in raw.iterdir())[-2:]
    want = len(reference.changes(raw_week(before)[2], raw_week(after)[2]))
    assert card(page, "changed")[0] == (f"{want:,}" if want else "0")  # the last week's

    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    for notebook in notebooks if FUZZ else [n for n in notebooks if n.name.startswith("04")]:
        executed = papermill.execute_notebook(
            str(notebook),
            str(tmp_path / notebook.name),
            kernel_name="python3",
            progress_bar=False,
            cwd=str(REPO / "notebooks"),
            parameters={"data": str(out)}
            | ({"out": str(tmp_path / "f.csv")} if notebook.name.startswith("03") else {}),
        )
        outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"], notebook.name


def test_a_run_killed_by_sigkill_at_random_moments_resumes_and_holds_the_week_once(env, tmp_path):
    """Real processes killed with SIGKILL in the middle of their fetch (the server holds
    the k-th pool answer until the kill), then run again: in the end the week is in the
    dataset once, whole, and no pool fetched whole was fetched again."""
    fake, gate, seen = FakeHighLevel(LOCATIONS), threading.Event(), []

    def held(request):  # the k-th pool request waits for the kill
        if "number-pools" in request.path:
            seen.append(request.args.get("locationId"))
            if len(seen) == hold_at[0]:
                gate.wait(30)
        return fake(request)

    hold_at = [0]
    serve(env, held)
    raw, out = tmp_path / "raw", tmp_path / "processed" / "weekly"
    args = ["run", "--company-id", "C1", "--raw", str(raw), "--out", str(out), "--no-report"]
    args += ["--workers", "1"]
    code = "import sys; from poolkit.cli import main; sys.exit(main(sys.argv[1:]))"
    rng = random.Random(9)
    for _ in range(4 if FUZZ else 2):
        folders = [f for f in raw.iterdir() if f.is_dir()] if raw.exists() else []
        written = sum(len(list(f.glob("L*.json"))) for f in folders)  # pools fetched whole
        if written >= len(LOCATIONS) - 1:
            break  # nothing left to be killed in
        seen.clear()
        hold_at[0] = rng.randint(1, min(3, len(LOCATIONS) - written))
        gate.clear()
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(seen) < hold_at[0]:
            assert time.monotonic() < deadline and process.poll() is None, "no fetch to kill"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL  # killed in the middle of its fetch
        gate.set()
        tally("runs killed with SIGKILL")
    assert main(args) in (0, 1)
    check_dataset(raw, out)
    (week,) = raw.iterdir()  # the killed runs' week, finished, not a new one
    assert sorted(raw_week(week)[2][i]["location"]["id"] for i in range(len(LOCATIONS))) == (
        sorted(LOCATIONS)
    )
