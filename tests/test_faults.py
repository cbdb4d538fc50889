"""Injected faults against a real local server and real filesystems (tmpfs mounts).

After every fault: nothing half-written remains, the manifest claims nothing false, and
``resume`` completes the snapshot.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import poolkit
from poolkit.cli import main

from robustness import tally
from servers import RawServer, http_reply
from test_fetch import POOLS, TOKEN, FakeHighLevel, location_details, pools_for, serve

LOCATIONS = [f"F{i}" for i in range(6)]


@pytest.fixture
def env(monkeypatch, httpserver: HTTPServer):
    monkeypatch.setenv("GHL_TOKEN", TOKEN)
    return httpserver


def quick_client(base_url: str) -> poolkit.Client:
    return poolkit.Client(
        TOKEN, base_url=base_url.rstrip("/"), backoff_factor=0.01, max_retries=2, timeout=(1, 0.5)
    )


def check_snapshot(folder: Path, *, stale_ok: bool = False) -> dict:
    """No temporary or partial files; every "ok" in the manifest is a complete file."""
    names = sorted(p.name for p in folder.iterdir())
    assert all(name.endswith(".json") and not name.startswith(".") for name in names), names
    for name in names:
        json.loads((folder / name).read_bytes())  # every file is whole JSON
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["locations"]:
        file = folder / f"{entry['location_id']}.json"
        if entry["status"] == "ok":
            assert file.is_file() and file.stat().st_size == entry["bytes"]
        elif entry["status"] == "failed":
            assert entry["error"] and entry["message"] and not file.exists()
        else:
            assert stale_ok, f"{entry['location_id']} left pending"
    return manifest


def resume_completes(folder: Path, base_url: str) -> None:
    result = poolkit.fetch_pools(resume=folder, client=quick_client(base_url))
    manifest = check_snapshot(folder)
    assert result.failures.empty and manifest["summary"] == {
        "ok": len(LOCATIONS),
        "failed": 0,
        "pending": 0,
    }
    assert sorted(result.tables.pools["location_id"].unique()) == sorted(LOCATIONS)


def test_connection_refused(env, tmp_path: Path):
    tally("faults injected: connection refused")
    serve(env, FakeHighLevel(LOCATIONS))
    result = poolkit.fetch_pools(LOCATIONS, out=tmp_path, client=quick_client("http://127.0.0.1:9"))
    manifest = check_snapshot(result.snapshot)
    assert manifest["summary"]["failed"] == len(LOCATIONS)
    assert set(result.failures["error"]) == {"NetworkError"}
    assert all("connection refused" in m for m in result.failures["message"])
    resume_completes(result.snapshot, env.url_for(""))


def test_connection_reset_in_the_middle_of_a_body(env, tmp_path: Path):
    tally("faults injected: reset mid-body")
    serve(env, FakeHighLevel(LOCATIONS))

    def reply(request: bytes) -> bytes:
        asked = re.search(rb"GET /locations/(\w+)", request)
        if asked:  # who the location is: answered whole
            return http_reply(
                json.dumps({"location": location_details(asked.group(1).decode())}).encode()
            )
        location = re.search(rb"locationId=(\w+)", request).group(1).decode()
        body = json.dumps(pools_for(location)).encode()
        if location in ("F1", "F4"):
            return http_reply(
                body[: len(body) // 2], content_length=len(body)
            )  # then the socket closes
        return http_reply(body)

    server = RawServer(reply)
    try:
        result = poolkit.fetch_pools(
            LOCATIONS, out=tmp_path, client=quick_client(server.url), workers=2
        )
    finally:
        server.close()
    check_snapshot(result.snapshot)
    assert sorted(result.failures["location_id"]) == ["F1", "F4"]
    assert all("cut short" in m for m in result.failures["message"])
    resume_completes(result.snapshot, env.url_for(""))


def test_read_timeouts(tmp_path: Path):
    tally("faults injected: read timeouts")
    fake = FakeHighLevel(LOCATIONS)
    slow = {"F2"}

    def handler(request: Request) -> Response:
        if request.args.get("locationId") in slow:
            time.sleep(0.8)
        return fake(request)

    server = HTTPServer(threaded=True)  # the slow location must not hold up the others
    server.expect_request(POOLS).respond_with_handler(handler)
    server.expect_request(re.compile("^/locations/")).respond_with_handler(fake)
    server.start()
    try:
        result = poolkit.fetch_pools(
            LOCATIONS, out=tmp_path, client=quick_client(server.url_for("")), workers=3
        )
        check_snapshot(result.snapshot)
        assert result.failures["location_id"].tolist() == ["F2"]
        assert result.failures["error"].tolist() == ["NetworkError"]
        slow.clear()
        resume_completes(result.snapshot, server.url_for(""))
    finally:
        server.stop()


@pytest.mark.parametrize(
    "status, error", [(503, "ServerError"), (500, "ServerError"), (429, "RateLimitError")]
)
def test_storms_longer_than_the_retry_budget(env, tmp_path: Path, status, error):
    tally(f"faults injected: {status} storms")
    fake = serve(
        env,
        FakeHighLevel(
            LOCATIONS,
            broken={
                "F0": (status, {"message": "storm", "traceId": "t-storm"}),
                "F3": (status, {"message": "storm"}),
            },
        ),
    )
    result = poolkit.fetch_pools(
        LOCATIONS, out=tmp_path, client=quick_client(env.url_for("")), workers=3
    )
    check_snapshot(result.snapshot)
    failures = result.failures.set_index("location_id")
    assert sorted(failures.index) == ["F0", "F3"] and set(failures["error"]) == {error}
    assert (
        failures.loc["F0", "trace_id"] == "t-storm" and failures.loc["F0", "http_status"] == status
    )
    assert fake.pool_requests.count("F0") == 3  # first try + max_retries=2
    fake.broken.clear()
    resume_completes(result.snapshot, env.url_for(""))


def test_token_expiring_in_the_middle_of_an_agency_fetch(env, tmp_path: Path):
    """Some locations answer 401: poolkit gets a fresh location token once, then reports."""
    tally("faults injected: token expiry mid agency fetch")
    fake = serve(env, FakeHighLevel(LOCATIONS, location_tokens=True))
    fake.expired = {"F1", "F2"}  # refused once: the fresh token works
    stubborn = (401, {"statusCode": 401, "message": "Invalid token: access token is invalid"})
    fake.broken = {"F4": stubborn}  # refused every time
    client = quick_client(env.url_for(""))
    result = poolkit.fetch_pools(company_id="C1", out=tmp_path, client=client)
    check_snapshot(result.snapshot)
    assert result.failures["location_id"].tolist() == ["F4"]
    assert result.failures["error"].tolist() == ["AuthenticationError"]
    assert fake.issued["F1"] == 2 and fake.issued["F4"] == 2 and fake.issued["F0"] == 1
    fake.broken.clear()
    resume_completes(result.snapshot, env.url_for(""))


# ----------------------------------------------------------------------------- filesystems


@pytest.fixture
def tmpfs(tmp_path: Path):
    """A real tmpfs mount (root only); the test can remount it smaller or read-only."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")

    def remount(options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(mount)], check=True)

    try:
        yield mount, remount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_snapshot_folder_not_writable(env, tmpfs, capsys):
    tally("faults injected: read-only snapshot folder")
    mount, remount = tmpfs
    serve(env, FakeHighLevel(LOCATIONS))
    remount("ro")
    with pytest.raises(poolkit.PoolkitError, match="cannot create a snapshot folder.*Read-only"):
        poolkit.fetch_pools(LOCATIONS, out=mount / "raw", client=quick_client(env.url_for("")))
    # the command could not do its job (an output that cannot be written): 2, not 1
    assert (
        main(["fetch", *LOCATIONS, "--out", str(mount / "raw"), "--base-url", env.url_for("")]) == 2
    )
    assert "Read-only file system" in capsys.readouterr().err
    assert list(mount.iterdir()) == []


def test_folder_turning_read_only_in_the_middle_of_a_fetch(env, tmpfs):
    tally("faults injected: folder read-only mid-fetch")
    mount, remount = tmpfs
    fake = FakeHighLevel(LOCATIONS)
    armed = [True]  # turn read-only once, when F3 is asked for

    def handler(request: Request) -> Response:
        if request.args.get("locationId") == "F3" and armed:
            armed.clear()
            remount("ro")
        return fake(request)

    env.expect_request(POOLS).respond_with_handler(handler)
    env.expect_request(re.compile("^/locations/")).respond_with_handler(fake)
    with pytest.raises(poolkit.PoolkitError, match="could not write manifest.json.*resume"):
        poolkit.fetch_pools(LOCATIONS, out=mount, client=quick_client(env.url_for("")), workers=1)
    folder = next(mount.iterdir())
    manifest = check_snapshot(folder, stale_ok=True)
    assert {e["location_id"] for e in manifest["locations"] if e["status"] == "ok"} <= {
        "F0",
        "F1",
        "F2",
    }
    remount("rw")
    resume_completes(folder, env.url_for(""))


def test_full_disk(env, tmpfs):
    tally("faults injected: full disk")
    mount, remount = tmpfs
    serve(env, FakeHighLevel(LOCATIONS))
    remount("size=20k")  # a manifest and a few responses fit, then ENOSPC
    try:
        result = poolkit.fetch_pools(
            LOCATIONS, out=mount, client=quick_client(env.url_for("")), workers=1
        )
        failures = result.failures
        folder = result.snapshot
        stale = False
    except poolkit.PoolkitError as exc:  # the final manifest itself did not fit
        assert "No space left on device" in str(exc) and "--resume" in str(exc)
        folder, failures, stale = next(mount.iterdir()), None, True
    manifest = check_snapshot(folder, stale_ok=stale)
    if failures is not None:
        assert len(failures) >= 1 and all("No space left" in m for m in failures["message"])
    assert manifest["summary"]["ok"] < len(LOCATIONS)
    remount("size=1m")
    resume_completes(folder, env.url_for(""))
