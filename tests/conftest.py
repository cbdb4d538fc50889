"""Shared fixtures: small, valid pool responses that tests then break on purpose."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

# a failure prints the blob that replays it: @reproduce_failure(...) on the test
settings.register_profile("poolkit", print_blob=True)
settings.load_profile("poolkit")

#: The dtype each kind of column of ``SCHEMAS`` has in the tables, written out here.
DTYPE_OF_KIND = {
    "string": "string",
    "boolean": "boolean",
    "Int64": "Int64",
    "int64": "int64",
    "category": "category",
    "status": "category",
    "timestamp": "datetime64[ns, UTC]",
}

TOKEN = "pit-SECRET-4c1d-9e2f-token-for-leak-test"
#: What makes an HTTP client go through a proxy, or not (``REQUEST_METHOD``: a CGI's).
PROXY_VARIABLES = [
    case(name)
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    for case in (str.lower, str.upper)
] + ["REQUEST_METHOD"]


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch):
    """Every test talks to servers on 127.0.0.1 directly, whatever proxy the machine has."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def env(monkeypatch, httpserver):
    """The token and base URL of a local HighLevel (pytest-httpserver) in the environment."""
    monkeypatch.setenv("GHL_TOKEN", TOKEN)
    monkeypatch.setenv("GHL_BASE_URL", httpserver.url_for("").rstrip("/"))
    return httpserver


POOL = {
    "id": "ve9EPM428h8vShlRW1KT",
    "name": "Sales Team Pool",
    "locationId": "loc123",
    "numbers": [
        {"phoneNumber": "+14155552671", "friendlyName": "Sales Line 1"},
        {"phoneNumber": "+18005550100", "friendlyName": "Sales Line 2"},
    ],
    "forwardingNumber": "+14155552671",
    "whisper": True,
    "whisperMessage": "Incoming call from sales line",
    "callRecording": True,
    "isActive": True,
    "inboundCallService": {"type": "voice_ai", "value": "68e381b296a83800a27cd1"},
}


#: The findings' and the changes' documented columns and dtypes, written out here.
FINDING_COLUMNS = {
    "severity": "category",
    "rule": "string",
    "location_id": "string",
    "location": "string",
    "pool_id": "string",
    "pool": "string",
    "phone_number": "string",
    "detail": "string",
    "suggestion": "string",
    "pool_key": "Int64",
}
CHANGE_COLUMNS = {
    "before": "string",
    "after": "string",
    "location_id": "string",
    "location": "string",
    "pool_id": "string",
    "pool": "string",
    "phone_number": "string",
    "change": "category",
    "field": "string",
    "old": "string",
    "new": "string",
}

AUSTIN = {"id": "L1", "name": "Acme Dental - Austin", "state": "TX", "country": "US"}
DALLAS = {"id": "L2", "name": "Bolt HVAC - Dallas", "state": "Texas", "country": "US"}


def clean_pool(pool_id: str, location: dict, *numbers: str, **fields) -> dict:
    """A pool of ``location`` holding ``numbers`` that no audit rule finds fault with, but
    for ``fields``."""
    return {
        "id": pool_id,
        "name": f"Pool {pool_id}",
        "locationId": location["id"],
        "numbers": [{"phoneNumber": n, "friendlyName": f"n{i}"} for i, n in enumerate(numbers)],
        "forwardingNumber": "+15125550148",
        "whisper": False,
        "whisperMessage": "",
        "callRecording": False,
        "isActive": True,
        "inboundCallService": {"type": "voice_ai", "value": "agent-7"},
        **fields,
    }


def snapshot(
    folder: Path, *pools: dict, locations=(AUSTIN, DALLAS), failed=(), taken_at=None
) -> Path:
    """A snapshot folder as a fetch writes it: each location's pools, and the ``failed``
    locations' fetch failed."""
    from poolkit.synthetic import write_snapshot

    answered = [
        (loc, envelope(*(p for p in pools if p["locationId"] == loc["id"]))) for loc in locations
    ]
    return write_snapshot(folder, answered + [(loc, None) for loc in failed], taken_at=taken_at)


def make_pool(**changes) -> dict:
    """A valid pool (the reference page's example) with ``changes`` applied."""
    pool = copy.deepcopy(POOL)
    pool.update(changes)
    return pool


def envelope(*pools: dict, total: int | None = None) -> dict:
    return {"success": True, "data": list(pools), "total": len(pools) if total is None else total}


def write_json(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def two_locations(tmp_path: Path) -> Path:
    """A folder with two response files in the documented envelope."""
    write_json(
        tmp_path / "a.json",
        envelope(make_pool(), make_pool(id="p2", numbers=[], inboundCallService=None)),
    )
    write_json(tmp_path / "sub" / "b.json", envelope(make_pool(locationId="loc456", id="p3")))
    return tmp_path


def pytest_sessionfinish(session):
    """Under pytest-xdist, a worker hands its counts to the controller, which prints them."""
    from robustness import COUNTS

    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["robustness"] = dict(COUNTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    from robustness import COUNTS

    COUNTS.update(getattr(node, "workeroutput", {}).get("robustness", {}))


def pytest_terminal_summary(terminalreporter):
    """Print, and save to reports/robustness.json, how many generated inputs and injected
    faults the suite tried (the README's figures table quotes a run of this)."""
    from robustness import COUNTS, FUZZ

    if not COUNTS:
        return
    terminalreporter.section("robustness figures")
    for kind, count in sorted(COUNTS.items()):
        terminalreporter.write_line(f"{count:6,d}  {kind}")
    out = Path(__file__).resolve().parent.parent / "reports"
    out.mkdir(exist_ok=True)
    name = "robustness-fuzz.json" if FUZZ else "robustness.json"  # make fuzz keeps make test's
    (out / name).write_text(json.dumps(dict(sorted(COUNTS.items())), indent=2) + "\n")


#: The columns that name each row's file (README, "Tables"): a dataset keeps the file's name
#: in its snapshot, wherever the snapshot folder was.
FILE_COLUMNS = ("pool_source", "number_source", "location_source", "inventory_source", "source")


def by_file_name(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its file columns as the files' names (``/raw/week/L1.json`` ->
    ``L1.json``), as a dataset stores them; ``<memory>[i]`` stays."""
    out = frame.copy()
    for column in set(FILE_COLUMNS) & set(frame.columns):
        out[column] = frame[column].map(
            lambda f: f if not isinstance(f, str) or f.startswith("<memory>") else Path(f).name,
            na_action="ignore",
        )
    return out
