"""A polite HighLevel API client: one Session, urllib3 Retry, rate-limit pacing, typed errors.

The token comes from the ``token`` argument, the ``GHL_TOKEN`` environment variable, or
a ``.env`` file in the working folder. It is sent only in the Authorization header,
scrubbed from every response handed out, and never logged, printed or written.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from typing import Any, Mapping

import requests
from dotenv import dotenv_values
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

from ._version import __version__
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ForbiddenError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from .snapshot import is_location_id

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://services.leadconnectorhq.com"
DEFAULT_VERSION = "2021-07-28"
RETRY_STATUSES = (429, 500, 502, 503, 504)
RATE_HEADERS = (
    "X-RateLimit-Max",
    "X-RateLimit-Remaining",
    "X-RateLimit-Interval-Milliseconds",
    "X-RateLimit-Limit-Daily",
    "X-RateLimit-Daily-Remaining",
)
_ERRORS = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}
_SCRUBBED = "Bearer <redacted>"


def resolve_token(token: str | None = None) -> str:
    """The API token: ``token``, else ``$GHL_TOKEN``, else ``GHL_TOKEN`` in ``./.env``."""
    token = token or os.environ.get("GHL_TOKEN") or dotenv_values(".env").get("GHL_TOKEN")
    if not token:
        raise ConfigurationError(
            "no HighLevel API token: set GHL_TOKEN in the environment or put GHL_TOKEN=... in a "
            ".env file in the working folder (a sub-account token with numberpools.read, or an "
            "agency token with locations.readonly and oauth.write for --company-id)"
        )
    return token.strip()


class _Retry(Retry):
    """urllib3's Retry, with a server's Retry-After capped so a run stays bounded in time."""

    MAX_RETRY_AFTER = 60.0

    def get_retry_after(self, response) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.MAX_RETRY_AFTER)


class RateBudget:
    """Paces requests that share one HighLevel budget (an app's, per location or company).

    Keeps at most ``limit - reserve`` requests in any ``interval`` (a sliding window),
    and when the server's ``X-RateLimit-Remaining`` says the budget is nearly spent (other
    clients share it), waits for the window to pass instead of running into 429s.
    """

    def __init__(self, limit: int = 100, interval: float = 10.0, reserve: int = 10) -> None:
        # reserve: requests left unused in each window for other clients of the same app
        self.limit, self.interval, self.reserve = limit, interval, reserve
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting, for reports

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._sent and self._sent[0] <= now - self.interval:
                    self._sent.popleft()
                wait = self._paused_until - now
                if len(self._sent) >= max(1, self.limit - self.reserve):
                    wait = max(wait, self._sent[0] + self.interval - now)
                if wait <= 0:
                    self._sent.append(now)
                    return
            self.waited += wait
            time.sleep(min(wait, self.interval))

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the budget from a response's X-RateLimit-* headers."""
        try:
            limit = int(headers.get("X-RateLimit-Max", self.limit))
            interval = (
                float(headers.get("X-RateLimit-Interval-Milliseconds", self.interval * 1000)) / 1000
            )
            remaining = headers.get("X-RateLimit-Remaining")
        except ValueError:
            return
        with self._lock:
            self.limit, self.interval = max(1, limit), max(0.001, interval)
            self.reserve = max(1, self.limit // 10)
            if (
                remaining is not None
                and remaining.strip().lstrip("-").isdigit()
                and int(remaining) <= self.reserve
            ):
                self._paused_until = max(self._paused_until, time.monotonic() + self.interval)
                log.info(
                    "rate budget nearly spent (%s left of %s): pausing %.1f s",
                    remaining,
                    limit,
                    self.interval,
                )


class Client:
    """HighLevel API client for number pools and the agency flow.

    >>> client = Client()                      # token from GHL_TOKEN or .env
    >>> body = client.list_number_pools("ve9EPM428h8vShlRW1KT")
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        version: str = DEFAULT_VERSION,
        timeout: tuple[float, float] = (5, 30),
        max_retries: int = 5,
        backoff_factor: float = 0.5,
        pool_size: int = 16,
        page_size: int = 100,
    ) -> None:
        self._token = resolve_token(token)
        self.base_url = (base_url or os.environ.get("GHL_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not self.base_url.lower().startswith(("http://", "https://")):
            raise ConfigurationError(
                f"base URL {self.base_url!r} does not start with http:// or https:// "
                "(such as https://services.leadconnectorhq.com)"
            )
        self.version = version
        self.timeout = timeout
        self.page_size = page_size
        self.retry = _Retry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            other=0,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "POST"}),
            backoff_factor=backoff_factor,
            backoff_max=30,
            backoff_jitter=backoff_factor,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=self.retry, pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update(
            {
                "Accept": "application/json",
                "Version": version,
                "User-Agent": f"poolkit/{__version__}",
            }
        )
        self._budgets: dict[str, RateBudget] = {}
        self._budgets_lock = threading.Lock()
        self.daily_remaining: int | None = None

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, version={self.version!r}, token=<redacted>)"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- pacing
    def budget(self, key: str) -> RateBudget:
        """The rate budget shared by requests for ``key`` (a location or ``company:<id>``)."""
        with self._budgets_lock:
            return self._budgets.setdefault(key, RateBudget())

    # -- requests
    def request(
        self,
        method: str,
        path: str,
        *,
        budget: str,
        token: str | None = None,
        location_id: str | None = None,
        **kwargs,
    ) -> requests.Response:
        """Send one request (paced, retried) and return the successful response.

        Raises a typed ``APIError`` for an error status and ``NetworkError`` when no
        answer came. The response's Authorization header is scrubbed.
        """
        if self.daily_remaining is not None and self.daily_remaining <= 0:
            raise RateLimitError(
                status=429,
                message="the daily request budget is spent",
                url=f"{method} {path}",
                location_id=location_id,
            )
        url = f"{self.base_url}{path}"
        where = f"{method} {path}"
        headers = {"Authorization": f"Bearer {token or self._token}"}
        pacing = self.budget(budget)
        retry = self.retry
        while True:
            pacing.acquire()
            try:
                response = self.session.request(
                    method, url, headers=headers, timeout=self.timeout, **kwargs
                )
                break
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                # a body cut short is read after urllib3's own retries: count it against the
                # same Retry
                try:
                    retry = retry.increment(method, url, error=ProtocolError(type(exc).__name__))
                except MaxRetryError:
                    raise NetworkError(
                        f"{where}: the response body was cut short, after "
                        f"{self.retry.total} retries",
                        url=where,
                        location_id=location_id,
                    ) from None
                log.info("%s: body cut short, retrying", where)
                retry.sleep()
            except requests.exceptions.Timeout as exc:
                raise NetworkError(
                    f"{where}: timed out after retries ({type(exc).__name__})",
                    url=where,
                    location_id=location_id,
                ) from None
            except requests.exceptions.RequestException as exc:
                reason = getattr(exc.args[0], "reason", exc.args[0]) if exc.args else exc
                raise NetworkError(
                    f"{where}: no answer after retries ({_describe(reason)})",
                    url=where,
                    location_id=location_id,
                ) from None
        response.request.headers["Authorization"] = _SCRUBBED
        pacing.observe(response.headers)
        daily = response.headers.get("X-RateLimit-Daily-Remaining", "")
        if daily.isdigit():
            self.daily_remaining = int(daily)
        if response.status_code >= 400:
            raise _api_error(response, where, location_id)
        return response

    def get_json(self, path: str, **kwargs) -> Any:
        response = self.request("GET", path, **kwargs)
        return _json(response, f"GET {path}", kwargs.get("location_id"))

    # -- endpoints
    def number_pools_response(
        self, location_id: str | None = None, *, token: str | None = None
    ) -> requests.Response:
        """The raw response of ``GET /phone-system/number-pools`` (body kept as received)."""
        params = {"locationId": location_id} if location_id else None
        return self.request(
            "GET",
            "/phone-system/number-pools",
            params=params,
            token=token,
            budget=f"location:{location_id or 'token'}",
            location_id=location_id,
        )

    def list_number_pools(
        self, location_id: str | None = None, *, token: str | None = None
    ) -> dict:
        """The parsed body of ``GET /phone-system/number-pools`` for one location."""
        response = self.number_pools_response(location_id, token=token)
        return _json(response, "GET /phone-system/number-pools", location_id)

    def search_locations(self, company_id: str) -> list[dict]:
        """Every location of an agency (agency token), paging until a short page. A page
        that repeats an earlier one (a server that ignores ``skip``, or cycles) raises
        ``InvalidResponseError`` rather than paging for ever."""
        locations: list[dict] = []
        page_size = self.page_size
        previous: dict[str, int] = {}  # each full page so far, as text -> its index
        while True:
            body = self.get_json(
                "/locations/search",
                budget=f"company:{company_id}",
                params={"companyId": company_id, "skip": len(locations), "limit": page_size},
            )
            page = body.get("locations") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise InvalidResponseError(
                    status=200,
                    url="GET /locations/search",
                    message="the answer has no 'locations' list",
                )
            seen = json.dumps(page, sort_keys=True, default=str)
            if page and seen in previous:
                raise InvalidResponseError(
                    status=200,
                    url="GET /locations/search",
                    message=f"page {len(previous)} repeats page {previous[seen]}",
                )
            locations.extend(page)
            if len(page) < page_size:
                return locations
            previous[seen] = len(previous)

    def location_details(self, location_id: str, *, token: str | None = None) -> dict:
        """``GET /locations/{id}``: the location's details (scope ``locations.readonly``)."""
        _check_path_id(location_id)
        where = f"GET /locations/{location_id}"
        body = self.get_json(
            f"/locations/{location_id}",
            token=token,
            budget=f"location:{location_id}",
            location_id=location_id,
        )
        location = body.get("location") if isinstance(body, dict) else None
        if not isinstance(location, dict):
            raise InvalidResponseError(
                status=200,
                url=where,
                location_id=location_id,
                message="the answer has no 'location'",
            )
        return location

    def active_numbers_page(
        self, location_id: str, page: int, *, page_size: int = 1000, token: str | None = None
    ) -> requests.Response:
        """The raw response of one page of ``GET /phone-system/numbers/location/{id}``, pool
        numbers included (``skipNumberPool=false``; the API leaves them out by default)."""
        _check_path_id(location_id)
        return self.request(
            "GET",
            f"/phone-system/numbers/location/{location_id}",
            params={"pageSize": page_size, "page": page, "skipNumberPool": "false"},
            token=token,
            budget=f"location:{location_id}",
            location_id=location_id,
        )

    def list_active_numbers(
        self, location_id: str, *, page_size: int = 1000, token: str | None = None
    ) -> list[requests.Response]:
        """Every page of the numbers a location holds (scope ``phonenumbers.read``), as
        received: pages from 0 until one holds fewer than ``page_size`` numbers (there is no
        total). Both documented bodies are read: the full one and ``{"numbers": [], "total":
        0}``; any other raises ``InvalidResponseError``."""
        pages: list[requests.Response] = []
        previous: dict[str, int] = {}  # each full page so far, as text -> its index
        while True:
            response = self.active_numbers_page(
                location_id, len(pages), page_size=page_size, token=token
            )
            where = f"GET /phone-system/numbers/location/{location_id}"
            body = _json(response, where, location_id)
            numbers = body.get("numbers") if isinstance(body, dict) else None
            if not isinstance(numbers, list):
                raise InvalidResponseError(
                    status=response.status_code,
                    url=where,
                    location_id=location_id,
                    message="the answer has no 'numbers' list",
                )
            seen = json.dumps(numbers, sort_keys=True)
            if numbers and seen in previous:  # a server that ignores page, or cycles, would loop
                raise InvalidResponseError(
                    status=response.status_code,
                    url=where,
                    location_id=location_id,
                    message=f"page {len(pages)} repeats page {previous[seen]}",
                )
            pages.append(response)
            served = body.get("pageSize")  # a server may hold pages smaller than asked
            size = served if isinstance(served, int) and 0 < served < page_size else page_size
            if len(numbers) < size:
                return pages
            previous[seen] = len(pages) - 1

    def location_token(self, company_id: str, location_id: str) -> str:
        """A sub-account access token for ``location_id`` from an agency token (kept in memory)."""
        response = self.request(
            "POST",
            "/oauth/locationToken",
            budget=f"company:{company_id}",
            data={"companyId": company_id, "locationId": location_id},
            location_id=location_id,
        )
        body = _json(response, "POST /oauth/locationToken", location_id)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise InvalidResponseError(
                status=response.status_code,
                url="POST /oauth/locationToken",
                location_id=location_id,
                message="the answer has no access_token",
            )
        return token


def _check_path_id(location_id: object) -> None:
    """A location id goes into a URL path only when it is one (``../x`` never does)."""
    if not is_location_id(location_id):
        raise ConfigurationError(f"not a location id: {location_id!r}")


def _describe(reason: Any) -> str:
    text = str(reason)
    for marker in (
        "Connection refused",
        "Connection reset",
        "Read timed out",
        "Max retries exceeded",
    ):
        if marker in text:
            return marker.lower()
    return type(reason).__name__ if not isinstance(reason, str) else text[:200]


def _json(response: requests.Response, where: str, location_id: str | None) -> Any:
    try:
        return response.json()
    except ValueError:
        raise InvalidResponseError(
            status=response.status_code,
            url=where,
            location_id=location_id,
            response=response,
            message=f"the body is not JSON (starts {response.text[:60]!r})",
        ) from None


def _api_error(response: requests.Response, where: str, location_id: str | None) -> APIError:
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    status = response.status_code
    cls = _ERRORS.get(status) or (ServerError if status >= 500 else APIError)
    message = body.get("message") or body.get("error") or response.reason
    trace_id = (
        body.get("traceId") or response.headers.get("traceId") or response.headers.get("X-Trace-Id")
    )
    return cls(
        status=status,
        message=message,
        trace_id=trace_id,
        location_id=location_id,
        url=where,
        response=response,
    )
