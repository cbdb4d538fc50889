"""A local HighLevel that enforces its rate limits, for the tests and ``benchmarks/fetch.py``.

Each resource has its own budget, as the API notes say: the agency (``/locations/search``,
``/oauth/locationToken``) is one resource, each location (its pools, its numbers, its
details) its own. A request is counted when it arrives: ``limit`` a window of ``interval``
seconds, the window ``"sliding"`` (the last ``interval`` seconds) or ``"fixed"`` (windows
that start every ``interval`` from the server's start), and ``daily`` a day. Past the
limit it answers 429, with ``Retry-After`` (the seconds until a slot frees) when
``retry_after``; past the daily budget, 429 with ``X-RateLimit-Daily-Remaining: 0``. Every
answer carries the ``X-RateLimit-*`` headers, and comes ``latency`` seconds after the
request. ``competitor`` is the share of the agency's budget another client of the same app
spends, a request at a time all along, or (``bursts``) all at once every interval;
``spent_at_start``: it spent the agency's whole window just before the fetch began.

Run in this process (``start``/``stop``) or in another (``serve_in_process``, so that the
server's work is not counted as the client's).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

COMPANY = "C1"


@dataclass
class Limits:
    limit: int = 100
    interval: float = 10.0
    window: str = "sliding"
    daily: int = 200_000
    latency: float = 0.0
    retry_after: bool = True
    competitor: float = 0.0  # share of the agency's budget another client spends
    bursts: bool = False  # the competitor spends its share at once, each interval
    spent_at_start: bool = False  # another client spent the agency's window just before
    spent_today: tuple[str, ...] = ()  # resources whose daily budget is spent already


@dataclass
class _Budget:
    arrivals: deque = field(default_factory=deque)
    today: int = 0


class RateLimitedHighLevel:
    """HighLevel for ``locations`` locations (``L00000``...) of agency ``C1``, each with
    ``pools`` pools of two numbers and those numbers held (one page of active numbers)."""

    def __init__(self, locations: int, limits: Limits | None = None, pools: int = 2) -> None:
        self.ids = [f"L{i:05d}" for i in range(locations)]
        self.limits = limits or Limits()
        self.pools = pools
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.budgets: dict[str, _Budget] = {}
        self.refused: Counter = Counter()  # 429s per resource
        # (arrival, resource, status, what was asked: "token:L00001")
        self.arrivals: list[tuple[float, str, int, str]] = []
        self.served: list[tuple[float, str, str]] = []  # (arrival, resource, what), answered
        for resource in self.limits.spent_today:
            self._budget(resource).today = self.limits.daily
        if self.limits.spent_at_start:
            self._budget(f"company:{COMPANY}").arrivals.extend([self.started] * self.limits.limit)
        self._server: ThreadingHTTPServer | None = None
        self._stop = threading.Event()

    # -- budgets
    def _budget(self, resource: str) -> _Budget:
        return self.budgets.setdefault(resource, _Budget())

    def _in_window(self, budget: _Budget, now: float) -> int:
        limits = self.limits
        if limits.window == "fixed":
            start = self.started + (now - self.started) // limits.interval * limits.interval
        else:
            start = now - limits.interval
        while budget.arrivals and budget.arrivals[0] <= start - limits.interval:
            budget.arrivals.popleft()
        return sum(1 for t in budget.arrivals if t > start)

    def _count(self, resource: str) -> tuple[int, dict[str, str]]:
        """Count a request for ``resource`` now: its status (200 or 429) and headers."""
        limits = self.limits
        with self.lock:
            now = time.monotonic()
            budget = self._budget(resource)
            used = self._in_window(budget, now)
            headers = {
                "X-RateLimit-Max": str(limits.limit),
                "X-RateLimit-Interval-Milliseconds": str(round(limits.interval * 1000)),
                "X-RateLimit-Limit-Daily": str(limits.daily),
            }
            if budget.today >= limits.daily:
                self.refused[resource] += 1
                headers.update(
                    {"X-RateLimit-Remaining": str(limits.limit - used)}
                    | {"X-RateLimit-Daily-Remaining": "0"}
                )
                return 429, headers
            if used >= limits.limit:
                self.refused[resource] += 1
                headers.update({"X-RateLimit-Remaining": "0"})
                headers["X-RateLimit-Daily-Remaining"] = str(limits.daily - budget.today)
                if limits.retry_after:
                    headers["Retry-After"] = str(math.ceil(self._free_in(budget, now)))
                return 429, headers
            budget.arrivals.append(now)
            budget.today += 1
            headers["X-RateLimit-Remaining"] = str(limits.limit - used - 1)
            headers["X-RateLimit-Daily-Remaining"] = str(limits.daily - budget.today)
            return 200, headers

    def _free_in(self, budget: _Budget, now: float) -> float:
        if self.limits.window == "fixed":
            return self.limits.interval - (now - self.started) % self.limits.interval
        oldest = min((t for t in budget.arrivals if t > now - self.limits.interval), default=now)
        return oldest + self.limits.interval - now

    def _compete(self) -> None:
        """Another client of the app: its share of the agency's budget, spread evenly or, with
        ``bursts``, all at once every interval from the server's start."""
        limits = self.limits
        spent = round(limits.competitor * limits.limit)
        at_once = spent if limits.bursts else 1
        while True:
            with self.lock:
                budget = self._budget(f"company:{COMPANY}")
                now = time.monotonic()
                room = limits.limit - self._in_window(budget, now)
                budget.arrivals.extend([now] * max(0, min(at_once, room)))
            if self._stop.wait(limits.interval * at_once / spent):
                return

    # -- answers
    def numbers_of(self, location: str) -> list[str]:
        index = int(location[1:])
        return [f"+1512{index:05d}{k:02d}"[:12] for k in range(2 * self.pools)]

    def answer(self, method: str, path: str, query: dict, form: dict) -> tuple[str, str, dict]:
        """``(resource, what, body)`` of a request (``what``: search, token, pools,
        numbers, details)."""
        if path == "/locations/search":
            skip, size = int(query["skip"]), int(query["limit"])
            page = [
                {"id": i, "name": f"Clinic {i}", "state": "TX", "country": "US"}
                for i in self.ids[skip : skip + size]
            ]
            return f"company:{COMPANY}", "search", {"locations": page}
        if path == "/oauth/locationToken":
            location = form["locationId"]
            return f"company:{COMPANY}", "token", {"access_token": f"token-{location}"}
        if path == "/phone-system/number-pools":
            location = query["locationId"]
            numbers = self.numbers_of(location)
            pools = [
                {
                    "id": f"{location}-P{k}",
                    "name": f"Pool {k}",
                    "locationId": location,
                    "numbers": [
                        {"phoneNumber": n, "friendlyName": "line"}
                        for n in numbers[2 * k : 2 * k + 2]
                    ],
                    "forwardingNumber": "+15125550148",
                    "whisper": False,
                    "callRecording": False,
                    "isActive": True,
                    "inboundCallService": None,
                }
                for k in range(self.pools)
            ]
            return (
                f"location:{location}",
                "pools",
                {"success": True, "data": pools, "total": len(pools)},
            )
        if path.startswith("/phone-system/numbers/location/"):
            location = path.rsplit("/", 1)[-1]
            size, page = int(query["pageSize"]), int(query["page"])
            held = [
                {"phoneNumber": n, "type": "local", "countryCode": "US"}
                for n in self.numbers_of(location)
            ]
            body = {
                "numbers": held[page * size : (page + 1) * size],
                "pageSize": size,
                "page": page,
            }
            return f"location:{location}", "numbers", body | {"accountStatus": "active"}
        location = path.rsplit("/", 1)[-1]
        return (
            f"location:{location}",
            "details",
            {"location": {"id": location, "name": f"Clinic {location}"}},
        )

    def handle(self, method: str, url: str, form: dict) -> tuple[int, dict[str, str], bytes]:
        parsed = urlparse(url)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        resource, what, body = self.answer(method, parsed.path, query, form)
        arrival = time.monotonic()
        status, headers = self._count(resource)
        asked = f"{what}:{query.get('locationId') or form.get('locationId') or parsed.path}"
        with self.lock:
            self.arrivals.append((arrival - self.started, resource, status, asked))
        if self.limits.latency:
            time.sleep(self.limits.latency)
        if status == 429:
            body = {"statusCode": 429, "message": "Too many requests"}
        else:
            with self.lock:
                self.served.append((arrival - self.started, resource, what))
        return status, headers, json.dumps(body).encode()

    # -- serving
    def start(self) -> str:
        """Serve on 127.0.0.1 in a thread of this process; the base URL."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _reply(self, form: dict) -> None:
                status, headers, body = owner.handle(self.command, self.path, form)
                self.send_response(status)
                for name, value in {**headers, "Content-Type": "application/json"}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._reply({})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                self._reply(form)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 256
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        if self.limits.competitor:  # it was at work before the fetch began: a window's worth
            threading.Thread(target=self._compete, daemon=True).start()
            time.sleep(self.limits.interval)
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def figures(self) -> dict:
        """What the server saw: requests answered by kind, 429s, and the answered requests
        per resource (to check that nothing was asked twice)."""
        kinds = Counter(what for _, _, what in self.served)
        asked = Counter((resource, what) for _, resource, what in self.served)
        return {"served": dict(kinds), "refused": sum(self.refused.values()), "asked": asked}


def floor_seconds(locations: int, limits: Limits, page_size: int = 100) -> float:
    """The fetch's floor: the agency's calls (the search's pages and a token per location)
    at the pace the agency's budget allows, after what another client spends of it."""
    pages = locations // page_size + 1
    rate = limits.limit * (1 - limits.competitor) / limits.interval
    return (pages + locations) / rate


def serve_in_process(locations: int, limits: Limits, ready, stop, report) -> None:
    """``multiprocessing`` target: serve until ``stop`` is set, put the base URL on ``ready``
    and, at the end, ``figures()`` (without ``asked``) and the ``arrivals`` on ``report``."""
    server = RateLimitedHighLevel(locations, limits)
    ready.put(server.start())
    stop.wait()
    figures = server.figures()
    figures.pop("asked")
    report.put({**figures, "arrivals": server.arrivals})
    server.stop()


class ServerApart:
    """``RateLimitedHighLevel`` in a process of its own: its work is neither counted as the
    client's nor run under the client's GIL, so a pace measured is the client's, on a busy
    machine too. ``start`` gives the base URL; ``stop`` what the server saw (``seen``)."""

    def __init__(self, locations: int, limits: Limits) -> None:
        self.limits = limits
        self.seen: dict = {}
        context = multiprocessing.get_context("spawn")
        self._ready, self._report, self._stop = context.Queue(), context.Queue(), context.Event()
        self._process = context.Process(
            target=serve_in_process,
            args=(locations, limits, self._ready, self._stop, self._report),
            daemon=True,
        )

    def start(self) -> str:
        self._process.start()
        return self._ready.get(timeout=60)

    def stop(self) -> dict:
        """Stop serving: ``figures()`` without ``asked``, and the ``arrivals`` (kept as
        ``seen``)."""
        self._stop.set()
        try:
            self.seen = self._report.get(timeout=60)
            return self.seen
        finally:
            self._process.join(10)
            self._process.kill()
