"""fetch_pools and `poolkit fetch` against a real local server: snapshots, manifest, resume,
secrets."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import poolkit
from poolkit.cli import main

from conftest import TOKEN, envelope, make_pool

POOLS = "/phone-system/number-pools"


def pools_for(location_id: str, n: int = 2) -> dict:
    return envelope(
        *[make_pool(id=f"{location_id}-p{i}", locationId=location_id) for i in range(n)]
    )


class FakeHighLevel:
    """A handler that plays HighLevel for a set of locations; ``broken`` maps a location to
    the (status, body) it answers until repaired."""

    def __init__(
        self,
        locations: list[str],
        broken: dict[str, tuple[int, dict]] | None = None,
        location_tokens: bool = False,
    ) -> None:
        self.locations = locations
        self.broken = dict(broken or {})
        self.location_tokens = location_tokens
        self.pool_requests: list[str] = []
        self.detail_requests: list[str] = []
        self.expired: set[str] = set()  # location tokens that answer 401 once
        self.details_forbidden: set[str] = set()  # GET /locations/{id} answers 403
        self.held: dict[str, list[dict]] = {}  # the numbers each location holds
        self.numbers_forbidden: set[str] = set()  # GET /phone-system/numbers/... answers 403
        self.short_empty: set[str] = set()  # answers {"numbers": [], "total": 0}
        self.ignore_page: set[str] = set()  # answers page 0 whatever page is asked
        self.number_requests: list[dict] = []
        self.bodies: dict[str, dict] = {}  # a location's pool response, when not pools_for's

    def numbers_page(self, request: Request) -> Response:
        """``GET /phone-system/numbers/location/{id}``: pages of ``pageSize`` from ``page``."""
        loc = request.path.rsplit("/", 1)[-1]
        self.number_requests.append({"location": loc, **request.args.to_dict()})
        if loc in self.numbers_forbidden:
            body = {"statusCode": 403, "message": "The token is not authorized for this scope."}
            return Response(json.dumps(body), status=403, content_type="application/json")
        if loc in self.short_empty:
            return Response(
                json.dumps({"numbers": [], "total": 0}), content_type="application/json"
            )
        size, page = int(request.args["pageSize"]), int(request.args["page"])
        page = 0 if loc in self.ignore_page else page
        held = self.held.get(loc, [])
        body = {
            "numbers": held[page * size : (page + 1) * size],
            "isUnderGhl": True,
            "pageSize": size,
            "page": page,
            "accountStatus": "active",
        }
        return Response(json.dumps(body), content_type="application/json")

    def __call__(self, request: Request) -> Response:
        if request.path.startswith("/phone-system/numbers/location/"):
            return self.numbers_page(request)
        if request.path == "/locations/search":
            skip, limit = int(request.args["skip"]), int(request.args["limit"])
            page = [location_details(loc) for loc in self.locations[skip : skip + limit]]
            return Response(json.dumps({"locations": page}), content_type="application/json")
        if request.path.startswith("/locations/"):
            loc = request.path.rsplit("/", 1)[-1]
            self.detail_requests.append(loc)
            if loc in self.details_forbidden:
                body = {"statusCode": 403, "message": "The token is not authorized for this scope."}
                return Response(json.dumps(body), status=403, content_type="application/json")
            body = {"location": {**location_details(loc), "companyId": "C1", "settings": {}}}
            return Response(json.dumps(body), content_type="application/json")
        if request.path == "/oauth/locationToken":
            loc = request.form["locationId"]
            issued = getattr(self, "issued", {})
            issued[loc] = issued.get(loc, 0) + 1
            self.issued = issued
            return Response(
                json.dumps({"access_token": f"loctoken-{loc}-{issued[loc]}"}),
                content_type="application/json",
            )
        loc = request.args.get("locationId")
        self.pool_requests.append(loc)
        auth = request.headers.get("Authorization", "")
        if self.location_tokens and not auth.startswith(f"Bearer loctoken-{loc}-"):
            return Response(json.dumps({"statusCode": 401, "message": "wrong token"}), status=401)
        if loc in self.expired:
            self.expired.discard(loc)
            return Response(
                json.dumps(
                    {"statusCode": 401, "message": "Invalid token: access token is invalid"}
                ),
                status=401,
                content_type="application/json",
            )
        if loc in self.broken:
            status, body = self.broken[loc]
            return Response(json.dumps(body), status=status, content_type="application/json")
        return Response(
            json.dumps(self.bodies.get(loc) or pools_for(loc)),
            content_type="application/json",
            headers={
                "X-RateLimit-Max": "100",
                "X-RateLimit-Remaining": "99",
                "X-RateLimit-Interval-Milliseconds": "10000",
            },
        )


def location_details(loc: str) -> dict:
    """A location as HighLevel describes one, owner data included (which must not be kept)."""
    return {
        "id": loc,
        "name": f"Name of {loc}",
        "address": "4th fleet street",
        "city": "Chicago",
        "state": "IL",
        "country": "US",
        "postalCode": "60601",
        "timezone": "America/Chicago",
        "website": "https://example.com",
        "email": f"owner-{loc}@example.com",
        "phone": "+13125550199",
        "firstName": "Ada",
        "lastName": "Owner",
    }


OWNER_DATA = ("owner-", "+13125550199", "Ada", "4th fleet street")


def serve(httpserver: HTTPServer, fake: FakeHighLevel) -> FakeHighLevel:
    httpserver.expect_request(POOLS).respond_with_handler(fake)
    httpserver.expect_request(re.compile(r"^/locations/[^/]+$")).respond_with_handler(fake)
    httpserver.expect_request("/oauth/locationToken", method="POST").respond_with_handler(fake)
    httpserver.expect_request(
        re.compile(r"^/phone-system/numbers/location/[^/]+$")
    ).respond_with_handler(fake)
    return fake


def test_partial_failure_is_recorded_and_resume_completes_the_snapshot(env, tmp_path: Path):
    locations = [f"L{i}" for i in range(6)]
    fake = serve(
        env,
        FakeHighLevel(
            locations,
            broken={
                "L1": (
                    403,
                    {"statusCode": 403, "message": "no access to this location", "traceId": "tr-1"},
                ),
                "L4": (
                    422,
                    {
                        "statusCode": 422,
                        "message": ["locationId is invalid"],
                        "error": "Unprocessable",
                    },
                ),
            },
        ),
    )
    result = poolkit.fetch_pools(locations, out=tmp_path, workers=3)
    snapshot = result.snapshot
    assert snapshot.parent == tmp_path and snapshot.name.endswith("Z")
    assert sorted(p.name for p in snapshot.iterdir()) == sorted(
        [f"L{i}.json" for i in (0, 2, 3, 5)] + ["locations.json", "manifest.json"]
    )  # no temp files, no failed bodies
    assert (
        set(result.tables.pools["location_id"]) == {"L0", "L2", "L3", "L5"}
        and len(result.tables.pools) == 8
    )
    failures = result.failures.set_index("location_id")
    assert (
        failures.loc["L1", "error"] == "ForbiddenError" and failures.loc["L1", "http_status"] == 403
    )
    assert (
        failures.loc["L1", "trace_id"] == "tr-1"
        and failures.loc["L4", "message"] == "locationId is invalid"
    )

    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["summary"] == {"ok": 4, "failed": 2, "pending": 0}
    assert manifest["api_version"] == "2021-07-28" and manifest["base_url"].startswith(
        "http://localhost"
    )
    ok = {e["location_id"]: e for e in manifest["locations"]}
    assert ok["L0"]["bytes"] == (snapshot / "L0.json").stat().st_size
    assert ok["L0"]["rate_limit"]["X-RateLimit-Remaining"] == "99"
    # body kept exactly as received
    assert json.loads((snapshot / "L2.json").read_bytes()) == pools_for("L2")

    fake.broken.clear()
    fake.pool_requests.clear()
    resumed = poolkit.fetch_pools(resume=snapshot, workers=2)
    assert sorted(fake.pool_requests) == ["L1", "L4"]  # only what was missing or failed
    assert resumed.snapshot == snapshot and resumed.failures.empty
    assert len(resumed.tables.pools) == 12
    assert json.loads((snapshot / "manifest.json").read_text())["summary"] == {
        "ok": 6,
        "failed": 0,
        "pending": 0,
    }


def test_agency_flow_lists_every_location_and_uses_each_location_token(env, tmp_path: Path):
    locations = [f"A{i}" for i in range(7)]
    fake = serve(env, FakeHighLevel(locations, location_tokens=True))
    client = poolkit.Client(base_url=env.url_for("").rstrip("/"), page_size=3)
    fake.expired = {"A2"}  # the first location token of A2 is refused once
    result = poolkit.fetch_pools(company_id="C1", out=tmp_path, client=client, workers=4)
    assert result.failures.empty and result.tables.pools["location_id"].nunique() == 7
    assert fake.issued["A2"] == 2 and all(fake.issued[loc] == 1 for loc in locations if loc != "A2")
    manifest = json.loads((result.snapshot / "manifest.json").read_text())
    assert manifest["company_id"] == "C1"
    assert {e["name"] for e in manifest["locations"]} == {f"Name of {loc}" for loc in locations}


def test_cli_exit_codes_and_summary(env, tmp_path: Path, capsys, monkeypatch):
    serve(env, FakeHighLevel(["G1", "G2"], broken={"B1": (403, {"message": "forbidden"})}))
    assert main(["fetch", "G1", "G2", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "2 ok, 0 failed" in out and "4 pools" in out and "snapshot:" in out

    assert main(["fetch", "G1", "B1", "--out", str(tmp_path / "b")]) == 1
    captured = capsys.readouterr()
    assert "1 ok, 1 failed" in captured.out and "B1" in captured.err and "--resume" in captured.err

    assert main(["fetch"]) == 2
    monkeypatch.delenv("GHL_TOKEN")
    monkeypatch.chdir(tmp_path)
    assert main(["fetch", "G1"]) == 2
    assert "GHL_TOKEN" in capsys.readouterr().err


def test_cli_exit_2_when_every_location_refuses_the_token(env, tmp_path: Path, capsys):
    unauthorized = (401, {"statusCode": 401, "message": "Invalid token: access token is invalid"})
    serve(env, FakeHighLevel(["X1", "X2"], broken={"X1": unauthorized, "X2": unauthorized}))
    assert main(["fetch", "X1", "X2", "--out", str(tmp_path)]) == 2
    assert "sub-account" in capsys.readouterr().err


def test_a_failed_location_is_said_once_by_the_command(env, tmp_path: Path):
    """In a process of its own (pytest's log capture would hide it): the command's summary
    names the failed location once; logging does not print it again."""
    serve(env, FakeHighLevel(["G1"], broken={"B1": (403, {"message": "forbidden"})}))
    done = subprocess.run(
        [sys.executable, "-m", "poolkit", "fetch", "G1", "B1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "1 ok, 1 failed" in done.stdout
    assert done.stderr.count("B1") == 1, done.stderr


def test_progress_bar_when_asked(env, tmp_path: Path, capsys):
    serve(env, FakeHighLevel(["P1"]))
    assert main(["fetch", "P1", "--out", str(tmp_path), "--progress"]) == 0
    assert "fetching pools" in capsys.readouterr().err


def test_the_token_appears_in_nothing_a_fetch_produces(env, tmp_path: Path, capsys, caplog):
    locations = [f"S{i}" for i in range(4)]
    serve(
        env,
        FakeHighLevel(
            locations,
            broken={
                "S1": (
                    401,
                    {"statusCode": 401, "message": "Invalid token: access token is invalid"},
                ),
                "S2": (400, {"statusCode": 400, "message": "Invalid locationId format"}),
                "S9": (503, {"message": "down", "traceId": "t-9"}),
            },
        ),
    )
    caplog.set_level(logging.DEBUG)
    texts = []
    code = main(["fetch", *locations, "--out", str(tmp_path), "--progress"])
    assert code == 1
    result = poolkit.fetch_pools(
        locations,
        out=tmp_path,
        client=poolkit.Client(
            base_url=env.url_for("").rstrip("/"), backoff_factor=0.01, max_retries=1
        ),
    )
    texts += [repr(result), result.failures.to_csv(), repr(poolkit.Client())]
    for error in (poolkit.errors.AuthenticationError, poolkit.errors.ServerError):
        with pytest.raises(error) as caught:
            poolkit.Client(backoff_factor=0.01, max_retries=1).list_number_pools(
                "S1" if error is poolkit.errors.AuthenticationError else "S9"
            )
        texts += [
            str(caught.value),
            repr(caught.value),
            repr(caught.value.__dict__),
            str(caught.value.response.request.headers),
        ]
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    written = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 6  # two snapshots: bodies and manifests
    assert any("S1" in t for t in texts)  # the texts do talk about the failures
    for blob in texts:
        assert TOKEN not in blob
    for blob in written:
        assert TOKEN.encode() not in blob


def test_agency_fetch_paces_company_budget_calls_and_never_trips_a_429(env, tmp_path: Path):
    """The server enforces 20 company requests per 0.5 s, as HighLevel does per 10 s."""
    import time as clock

    locations = [f"R{i:02d}" for i in range(45)]
    fake = FakeHighLevel(locations)
    company_calls: list[float] = []
    refused = []

    def company(request: Request) -> Response:
        now = clock.monotonic()
        recent = [t for t in company_calls if t > now - 0.5]
        company_calls.append(now)
        headers = {
            "X-RateLimit-Max": "20",
            "X-RateLimit-Interval-Milliseconds": "500",
            "X-RateLimit-Remaining": str(max(0, 19 - len(recent))),
        }
        if len(recent) >= 20:
            refused.append(now)
            return Response(
                json.dumps({"message": "Too many requests"}), status=429, headers=headers
            )
        answer = fake(request)
        answer.headers.update(headers)
        return answer

    env.expect_request(POOLS).respond_with_handler(fake)
    env.expect_request("/locations/search").respond_with_handler(company)
    env.expect_request("/oauth/locationToken", method="POST").respond_with_handler(company)
    client = poolkit.Client(base_url=env.url_for("").rstrip("/"), page_size=10)
    result = poolkit.fetch_pools(company_id="C9", out=tmp_path, client=client, workers=8)
    assert result.failures.empty and result.tables.pools["location_id"].nunique() == 45
    assert refused == []
    assert len(company_calls) == 45 + 5  # a token per location, five pages of locations


# ----------------------------------------------------------------------------- who locations are


def snapshot_text(folder: Path) -> str:
    return "".join(p.read_text() for p in folder.iterdir() if p.is_file())


def test_agency_fetch_keeps_who_each_location_is_and_no_owner_data(env, tmp_path: Path):
    locations = [f"A{i}" for i in range(7)]  # three pages of three
    fake = serve(env, FakeHighLevel(locations, location_tokens=True))
    client = poolkit.Client(base_url=env.url_for("").rstrip("/"), page_size=3)
    result = poolkit.fetch_pools(company_id="C1", out=tmp_path, client=client, workers=3)
    kept = json.loads((result.snapshot / "locations.json").read_text())["locations"]
    assert kept[0] == {
        "id": "A0",
        "name": "Name of A0",
        "city": "Chicago",
        "state": "IL",
        "country": "US",
        "postalCode": "60601",
        "timezone": "America/Chicago",
    }
    assert [k["id"] for k in kept] == locations and fake.detail_requests == []  # the search said it
    text = snapshot_text(result.snapshot)
    assert not [word for word in OWNER_DATA if word in text]
    manifest = json.loads((result.snapshot / "manifest.json").read_text())
    assert manifest["location_details"] == "ok"
    table = result.tables.locations
    assert table["location_name"].tolist() == [f"Name of {loc}" for loc in locations]
    assert set(table["state"]) == {"IL"} and set(table["status"]) == {"ok"}


def test_location_token_fetch_asks_each_location_once_and_survives_a_403(env, tmp_path: Path):
    fake = serve(env, FakeHighLevel(["L1", "L2", "L3"], broken={"L3": (403, {"message": "no"})}))
    fake.details_forbidden = {"L2"}  # a token without locations.readonly for L2
    result = poolkit.fetch_pools(["L1", "L2", "L3"], out=tmp_path, workers=2)
    assert sorted(fake.detail_requests) == ["L1", "L2"]  # L3 refused its pools: not asked more
    assert set(result.tables.pools["location_id"]) == {"L1", "L2"}  # L2's pools were fetched
    manifest = json.loads((result.snapshot / "manifest.json").read_text())
    details = {e["location_id"]: e.get("details") for e in manifest["locations"]}
    assert details == {"L1": "ok", "L2": "unavailable: ForbiddenError", "L3": None}
    assert manifest["location_details"] == "partial"
    table = result.tables.locations.set_index("location_id")
    assert table.loc["L1", "location_name"] == "Name of L1"
    assert pd.isna(table.loc["L2", "location_name"])
    assert pd.isna(table.loc["L3", "location_name"])
    assert table["status"].astype(str).to_dict() == {"L1": "ok", "L2": "ok", "L3": "failed"}
    assert table.loc["L3", "error"].startswith("ForbiddenError") and pd.isna(
        table.loc["L3", "pools"]
    )
    assert not [word for word in OWNER_DATA if word in snapshot_text(result.snapshot)]

    fake.broken.clear()
    resumed = poolkit.fetch_pools(resume=result.snapshot, workers=2)
    assert sorted(fake.detail_requests) == ["L1", "L2", "L3"]  # only L3, now fetched, is asked
    kept = json.loads((result.snapshot / "locations.json").read_text())["locations"]
    assert sorted(k["id"] for k in kept) == ["L1", "L3"]  # L1's, from the first run, are kept
    assert resumed.tables.locations["status"].astype(str).tolist() == ["ok", "ok", "ok"]


def test_a_location_that_failed_without_an_http_status_is_reported(tmp_path, capsys, monkeypatch):
    import functools

    monkeypatch.setenv("GHL_TOKEN", TOKEN)
    quick = functools.partial(poolkit.client.Client, max_retries=0)  # no backoff to wait for
    monkeypatch.setattr(poolkit.fetch, "Client", quick)
    closed = "http://127.0.0.1:9"  # nothing listens: a network error, no HTTP status
    args = ["fetch", "L1", "--base-url", closed, "--out", str(tmp_path), "--workers", "1"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "failed L1: NetworkError:" in err and "HTTP" not in err.split("failed L1")[1][:30]


def test_a_resume_takes_whole_pages_on_disk_and_drops_an_older_tries_past_them(tmp_path: Path):
    """Pages 0 and 1 of a try, page 1 short (the last), and pages 2 and 3 an older try left
    (a run killed while it removed them): the location's numbers are fetched, pages 0 and 1
    stay, and the stale ones go, the last first, so that no gap is ever left."""
    from poolkit.fetch import _inventory_on_disk, _remove_pages

    full = {"numbers": [{"phoneNumber": f"+1512555{i:04d}"} for i in range(1000)]}
    short = {"numbers": [{"phoneNumber": "+15125550001"}]}
    for page, body in enumerate([full, short, full, short]):
        (tmp_path / f"L1.numbers.{page}.json").write_text(json.dumps(body))
    assert _inventory_on_disk(tmp_path, "L1") == 2
    _remove_pages(tmp_path, "L1", 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["L1.numbers.0.json", "L1.numbers.1.json"]
    (tmp_path / "L1.numbers.1.json").unlink()  # a try cut short: not whole
    assert _inventory_on_disk(tmp_path, "L1") is None


def test_a_manifest_holding_an_integer_past_64_bits_is_written_and_read_back(tmp_path: Path):
    from poolkit.snapshot import read_manifest, write_manifest

    write_manifest(tmp_path, {"locations": [{"location_id": "L1", "bytes": 2**70}]})
    assert read_manifest(tmp_path)["locations"][0]["bytes"] == 2**70


def test_a_fetch_reads_its_tables_only_when_asked(env, tmp_path: Path):
    """The tidy is the next stage: a fetch returns before reading its snapshot into tables,
    and its repr does not read them either (issue 29: CPU the fetch spent unasked)."""
    serve(env, FakeHighLevel(["G1", "G2"]))
    result = poolkit.fetch_pools(company_id="C1", out=tmp_path, progress=False)
    assert "tables" not in vars(result) and "tables not read" in repr(result)
    assert result.tables.pools["location_id"].nunique() == 2  # the fake's two locations
    assert "tables" in vars(result) and "PoolTables(pools=" in repr(result)
