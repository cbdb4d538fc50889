"""A polite HighLevel API client: one urllib3 pool, urllib3 Retry, rate-limit pacing, typed errors.

The token comes from the ``token`` argument, the ``GHL_TOKEN`` environment variable, or
a ``.env`` file in the working folder. It is sent only in the Authorization header,
scrubbed from every response handed out, and never logged, printed or written.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
from typing import Any
from urllib.parse import urlencode, urlparse

import requests
import urllib3
from dotenv import dotenv_values
from urllib3.exceptions import (
    DecodeError,
    HTTPError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ResponseError,
    SSLError,
)
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
from .pacing import DailyBudgetSpent, RateBudget
from .snapshot import is_location_id
from .transport import as_response, describe, pool_manager

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://services.leadconnectorhq.com"
DEFAULT_VERSION = "2021-07-28"
RETRY_STATUSES = (500, 502, 503, 504)  # a 429 is waited out by the pacer (Client.request)
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
NUMBERS_PAGE = 1000  # numbers asked a page of active numbers at a time
MAX_REDIRECTS = 10


def resolve_token(token: str | None = None) -> str:
    """The API token: ``token``, else ``$GHL_TOKEN``, else ``GHL_TOKEN`` in ``./.env``."""
    token = token or os.environ.get("GHL_TOKEN") or dotenv_values(".env").get("GHL_TOKEN")
    token = (token or "").strip()
    if not token:
        raise ConfigurationError(
            "no HighLevel API token: set GHL_TOKEN in the environment or put GHL_TOKEN=... in a "
            ".env file in the working folder (a sub-account token with numberpools.read, or an "
            "agency token with locations.readonly and oauth.write for --company-id)"
        )
    if not _is_token(token):  # never quoted: a header error would print it whole
        raise ConfigurationError(
            "the HighLevel API token holds what an HTTP header cannot carry (a space, a line "
            "break or a character past ASCII): copy it again, whole, into GHL_TOKEN"
        )
    return token


def _is_token(text: object) -> bool:
    """Whether ``text`` can be a bearer token: printable ASCII, no space, not empty."""
    return (
        isinstance(text, str)
        and bool(text)
        and text.isascii()
        and text.isprintable()
        and " " not in text
    )


class _Retry(Retry):
    """urllib3's Retry, with a server's Retry-After capped so a run stays bounded in time."""

    MAX_RETRY_AFTER = 60.0
    RETRY_AFTER_STATUS_CODES = frozenset({413, 503})  # a 429 is the pacer's (Client.request)

    def get_retry_after(self, response) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.MAX_RETRY_AFTER)

    def increment(self, method=None, url=None, response=None, error=None, **kwargs) -> Retry:
        """As urllib3 counts, but a redirect is no failure: it spends only ``redirect``, not
        ``total`` (urllib3 would spend both, and a moved API its retries)."""
        moved = error is None and response is not None and response.get_redirect_location()
        counted = self.new(total=self.total + 1) if moved and self.total is not None else self
        return Retry.increment(counted, method, url, response, error, **kwargs)


class Client:
    """HighLevel API client for number pools and the agency flow: one urllib3 pool with
    urllib3's ``Retry``, ``timeout=(connect, read)``, a rate budget
    per resource (the agency, each location), and typed exceptions that carry the response.

    Examples
    --------
    >>> client = Client()  # token from GHL_TOKEN or .env  # doctest: +SKIP
    >>> body = client.list_number_pools("ve9EPM428h8vShlRW1KT")  # doctest: +SKIP
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
        pool_size: int = 48,
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
        self.max_retries = max_retries
        self.retry = _Retry(
            total=max_retries,  # redirects apart (_Retry.increment)
            connect=min(max_retries, 2),  # a refused connection is said within seconds
            read=max_retries,
            status=max_retries,
            other=0,
            redirect=MAX_REDIRECTS,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "POST"}),
            backoff_factor=backoff_factor,
            backoff_max=30,
            backoff_jitter=backoff_factor,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self._http = pool_manager(self.base_url, pool_size)  # not a Session: transport.py
        self.headers = {
            **urllib3.util.make_headers(keep_alive=True, accept_encoding=True),
            "Accept": "application/json",
            "Version": version,
            "User-Agent": f"poolkit/{__version__}",
        }
        self._budgets: dict[str, RateBudget] = {}
        self._budgets_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, version={self.version!r}, token=<redacted>)"

    @property
    def _host(self) -> str:
        """The API's host (and port), as messages name it."""
        parsed = urlparse(self.base_url)  # never a user:password@ the URL may hold
        return f"{parsed.hostname}:{parsed.port}" if parsed.port else parsed.hostname or "the API"

    def close(self) -> None:
        """Close the client's connections (``with Client(...)`` does it on leaving).

        Returns
        -------
        None

        Examples
        --------
        >>> client = poolkit.Client()  # doctest: +SKIP
        >>> client.close()  # doctest: +SKIP
        """
        self._http.clear()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- pacing
    def budget(self, key: str) -> RateBudget:
        """The rate budget shared by the requests for one resource.

        Parameters
        ----------
        key : str
            A location id, or ``company:<id>`` for the agency.

        Returns
        -------
        RateBudget
            Its pace: 100 requests per 10 s, the server's ``X-RateLimit-*`` headers its authority.

        Examples
        --------
        >>> poolkit.Client().budget("company:C1").limit  # doctest: +SKIP
        100
        """
        with self._budgets_lock:
            if key not in self._budgets:  # made once: not one thrown away on every request
                self._budgets[key] = RateBudget()
            return self._budgets[key]

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
        """Send one request, paced by the rate budget of its resource; the successful response.

        A 429 is waited out through the same budget (``Retry-After``, else the window its headers
        give, else a backoff) and sent again, up to ``max_retries`` times; a resource whose daily
        budget is spent fails at once, and only its own requests. The response's Authorization
        header is scrubbed.

        Parameters
        ----------
        method : str
            ``"GET"``, ``"POST"``...
        path : str
            The path under the base URL, such as ``/phone-system/number-pools``.
        budget : str
            The resource that pays for it: a location id or ``company:<id>``.
        token : str, optional
            A location's token; default: the client's.
        location_id : str, optional
            The location the request is for, named in errors.
        **kwargs
            ``params`` (the query) or ``data`` (a form body).

        Returns
        -------
        requests.Response

        Raises
        ------
        poolkit.errors.APIError
            An error status, typed (``AuthenticationError``, ``RateLimitError``...).
        poolkit.errors.NetworkError
            No answer came; it names the host.

        Examples
        --------
        >>> client = poolkit.Client()  # doctest: +SKIP
        >>> client.request("GET", "/locations/L1", budget="L1").status_code  # doctest: +SKIP
        200
        """
        where = f"{method} {path}"
        pacing = self.budget(budget)
        for attempt in range(self.max_retries + 1):
            try:
                sent = pacing.acquire()
            except DailyBudgetSpent:
                raise _day_spent(budget, where, location_id) from None
            try:
                response = self._send(method, path, token, location_id, **kwargs)
            except BaseException:
                pacing.release(sent)
                raise
            pacing.release(sent, response.headers)
            if response.status_code != 429 or attempt == self.max_retries:
                break
            if pacing.daily_remaining is not None and pacing.daily_remaining <= 0:
                # tomorrow, not in a moment: this resource fails now
                raise _day_spent(budget, where, location_id, response)
            wait = self._after_429(response, attempt, pacing)
            log.info("%s: 429 (rate limit); sending again after %.2f s", where, wait)
            pacing.pause(wait)
        if response.status_code >= 400:
            raise _api_error(response, where, location_id, budget)
        return response

    def _after_429(self, response: requests.Response, attempt: int, pacing: RateBudget) -> float:
        """How long to wait after a 429: its ``Retry-After`` (capped); else, when its headers
        say the window is spent, what is left of it is waited out by the budget (which has
        just read them; one slot's time here); else a backoff with jitter. Never nothing."""
        try:
            retry_after = self.retry.get_retry_after(response)
        except (InvalidHeader, ValueError):  # "1.5" or words: as if it said nothing
            retry_after = None
        if retry_after:  # "0" says no more than no header does
            return retry_after
        headers = response.headers
        if "X-RateLimit-Remaining" in headers and "X-RateLimit-Interval-Milliseconds" in headers:
            return pacing.interval / pacing.limit
        backoff = self.retry.backoff_factor * 2**attempt
        return min(backoff + random.uniform(0, self.retry.backoff_factor), self.retry.backoff_max)

    def _send(
        self,
        method: str,
        path: str,
        token: str | None,
        location_id: str | None,
        *,
        params: dict | None = None,
        data: dict | None = None,
    ) -> requests.Response:
        """One request, urllib3 retrying what failed on the way (5xx, connections) and
        following redirects (the Authorization header never goes to another host); a body
        cut short is retried here, against the same ``Retry``."""
        query = {k: v for k, v in (params or {}).items() if v is not None}  # as requests does
        url = f"{self.base_url}{path}" + (f"?{urlencode(query, doseq=True)}" if query else "")
        where = f"{method} {path}"
        headers = {**self.headers, "Authorization": f"Bearer {token or self._token}"}
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        timeout = urllib3.Timeout(connect=self.timeout[0], read=self.timeout[1])
        retry = self.retry  # the body's retries, carried into each try of the answer
        while True:
            try:
                answer = self._http.urlopen(
                    method,
                    url,
                    body=body,
                    headers=headers,
                    retries=retry,
                    timeout=timeout,
                    preload_content=False,
                )
            except MaxRetryError as exc:
                raise self._no_answer(where, exc.reason, location_id) from None
            except HTTPError as exc:  # a URL or proxy urllib3 cannot use
                raise self._no_answer(where, exc, location_id) from None
            failed = None
            try:
                content = answer.read()
            except HTTPError as exc:  # the body: cut short, stalled, undecodable
                failed = exc
            finally:
                answer.release_conn()
            if failed is None:
                break
            cut = isinstance(failed, (ProtocolError, DecodeError, SSLError))  # TLS cut it too
            try:  # each a read error, against the same Retry
                retry = retry.increment(
                    method, url, error=ProtocolError(type(failed).__name__) if cut else failed
                )
            except MaxRetryError:
                if not cut:
                    raise self._no_answer(where, failed, location_id) from None
                raise NetworkError(
                    f"{where}: the response body was cut short (or could not be decoded), "
                    f"after {self.max_retries} retries",
                    url=where,
                    location_id=location_id,
                ) from None
            log.info("%s: body cut short or stalled, retrying", where)
            retry.sleep()
        return as_response(answer, content, url, method, {**headers, "Authorization": _SCRUBBED})

    def _no_answer(self, where: str, reason: Any, location_id: str | None) -> NetworkError:
        """The error of a request that got no answer, after retries: what went wrong, in words."""
        if isinstance(reason, ResponseError):  # the only one raised: too many redirects
            said = f"{self._host} redirected it more than {MAX_REDIRECTS} times"
        elif isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
            reason,
            NewConnectionError,  # a refused connection is one of urllib3's timeouts
        ):
            said = f"{self._host} did not answer in time, after retries ({describe(reason)})"
        else:
            said = f"no answer from {self._host} after retries ({describe(reason)})"
        return NetworkError(f"{where}: {said}", url=where, location_id=location_id)

    def get_json(self, path: str, **kwargs) -> Any:
        """A request's answer, parsed.

        Parameters
        ----------
        path : str
            The path under the base URL.
        **kwargs
            Passed to ``request`` (``budget``, ``params``...).

        Returns
        -------
        object
            The parsed JSON.

        Raises
        ------
        poolkit.errors.InvalidResponseError
            The answer is not JSON; it names the call.

        Examples
        --------
        >>> client = poolkit.Client()  # doctest: +SKIP
        >>> client.get_json("/locations/L1", budget="L1")["location"]["id"]  # doctest: +SKIP
        'L1'
        """
        response = self.request("GET", path, **kwargs)
        return _json(response, f"GET {path}", kwargs.get("location_id"))

    # -- endpoints
    def number_pools_response(
        self, location_id: str | None = None, *, token: str | None = None
    ) -> requests.Response:
        """The raw response of ``GET /phone-system/number-pools``, its body as received.

        Parameters
        ----------
        location_id : str, optional
            The location; default: the token's own.
        token : str, optional
            A location's token; default: the client's.

        Returns
        -------
        requests.Response

        Examples
        --------
        >>> client = poolkit.Client()  # doctest: +SKIP
        >>> client.number_pools_response("ve9EPM428h8vShlRW1KT").status_code  # doctest: +SKIP
        200
        """
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
        """The parsed body of ``GET /phone-system/number-pools`` for one location.

        Parameters
        ----------
        location_id : str, optional
            The location; default: the token's own.
        token : str, optional
            A location's token; default: the client's.

        Returns
        -------
        dict
            The response's envelope: ``{"success", "data", "total"}``.

        Examples
        --------
        >>> body = poolkit.Client().list_number_pools("ve9EPM428h8vShlRW1KT")  # doctest: +SKIP
        >>> poolkit.read_pools(body).pools.shape[0]  # doctest: +SKIP
        3
        """
        response = self.number_pools_response(location_id, token=token)
        return _json(response, "GET /phone-system/number-pools", location_id)

    def search_locations(self, company_id: str) -> list[dict]:
        """Every location of an agency (agency token), paging until a short page.

        Parameters
        ----------
        company_id : str
            The agency.

        Returns
        -------
        list of dict
            The locations as the search answers them.

        Raises
        ------
        poolkit.errors.InvalidResponseError
            A page repeats an earlier one (a server that ignores ``skip``, or cycles), rather
            than paging for ever.

        Examples
        --------
        >>> len(poolkit.Client().search_locations("COMPANY_ID"))  # doctest: +SKIP
        46
        """
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
        """``GET /locations/{id}``: the location's details (scope ``locations.readonly``).

        Parameters
        ----------
        location_id : str
            The location.
        token : str, optional
            A location's token; default: the client's.

        Returns
        -------
        dict
            The ``location`` object.

        Examples
        --------
        >>> poolkit.Client().location_details("L1")["id"]  # doctest: +SKIP
        'L1'
        """
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
        self,
        location_id: str,
        page: int,
        *,
        page_size: int = NUMBERS_PAGE,
        token: str | None = None,
    ) -> requests.Response:
        """One page of the numbers a location holds, as received, pool numbers included.

        ``GET /phone-system/numbers/location/{id}`` with ``skipNumberPool=false`` (the API leaves
        pool numbers out by default).

        Parameters
        ----------
        location_id : str
            The location.
        page : int
            The page, from 0.
        page_size : int, default 1000
            Numbers a page.
        token : str, optional
            A location's token; default: the client's.

        Returns
        -------
        requests.Response

        Examples
        --------
        >>> poolkit.Client().active_numbers_page("L1", 0).json()["numbers"][:1]  # doctest: +SKIP
        [{'phoneNumber': '+14155552671', ...}]
        """
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
        self, location_id: str, *, page_size: int = NUMBERS_PAGE, token: str | None = None
    ) -> list[requests.Response]:
        """Every page of the numbers a location holds (scope ``phonenumbers.read``), as received.

        Pages from 0 until one holds fewer than ``page_size`` numbers (there is no total). Both
        documented bodies are read: the full one and ``{"numbers": [], "total": 0}``.

        Parameters
        ----------
        location_id : str
            The location.
        page_size : int, default 1000
            Numbers a page.
        token : str, optional
            A location's token; default: the client's.

        Returns
        -------
        list of requests.Response

        Raises
        ------
        poolkit.errors.InvalidResponseError
            A body of any other shape.

        Examples
        --------
        >>> len(poolkit.Client().list_active_numbers("L1"))  # doctest: +SKIP
        1
        """
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
            if is_last_page(body, page_size):  # shorter than a page: no earlier page's repeat
                return [*pages, response]
            seen = json.dumps(numbers, sort_keys=True)
            if numbers and seen in previous:  # a server that ignores page, or cycles, would loop
                raise InvalidResponseError(
                    status=response.status_code,
                    url=where,
                    location_id=location_id,
                    message=f"page {len(pages)} repeats page {previous[seen]}",
                )
            pages.append(response)
            previous[seen] = len(pages) - 1

    def location_token(self, company_id: str, location_id: str) -> str:
        """A sub-account access token for a location, from an agency token (kept in memory).

        Parameters
        ----------
        company_id : str
            The agency.
        location_id : str
            The location.

        Returns
        -------
        str
            The token: never logged, saved or shown.

        Examples
        --------
        >>> token = poolkit.Client().location_token("COMPANY_ID", "L1")  # doctest: +SKIP
        """
        response = self.request(
            "POST",
            "/oauth/locationToken",
            budget=f"company:{company_id}",
            data={"companyId": company_id, "locationId": location_id},
            location_id=location_id,
        )
        body = _json(response, "POST /oauth/locationToken", location_id)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not _is_token(token):
            raise InvalidResponseError(
                status=response.status_code,
                url="POST /oauth/locationToken",
                location_id=location_id,
                message="the answer has no access_token a header can carry",
            )
        return token


def is_last_page(body: dict, page_size: int = NUMBERS_PAGE) -> bool:
    """Whether a page of active numbers asked ``page_size`` at a time is the last: it holds
    fewer numbers than a page does (the server's ``pageSize`` when it keeps smaller pages).
    There is no total to go by."""
    served = body.get("pageSize")
    size = served if isinstance(served, int) and 0 < served < page_size else page_size
    return len(body["numbers"]) < size


def _day_spent(
    budget: str, where: str, location_id: str | None, response: requests.Response | None = None
) -> RateLimitError:
    """The error of a resource whose daily budget is spent, its resource in words."""
    kind, _, name = budget.partition(":")
    resource = f"the agency {name}" if kind == "company" else f"location {name}"
    return RateLimitError(
        status=429,
        message=f"the daily request budget of {resource} is spent",
        url=where,
        location_id=location_id,
        response=response,
    )


def _check_path_id(location_id: object) -> None:
    """A location id goes into a URL path only when it is one (``../x`` never does)."""
    if not is_location_id(location_id):
        raise ConfigurationError(f"not a location id: {location_id!r}")


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


def _api_error(
    response: requests.Response, where: str, location_id: str | None, budget: str = ""
) -> APIError:
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
    company = budget.removeprefix("company:") if budget.startswith("company:") else None
    hint = (  # an agency call: it is the company id that was refused, not a location's
        f"check the company id {company} (--company-id) and that the agency token belongs "
        "to it; HighLevel's message says what it rejected"
        if company
        and location_id is None
        and cls in (BadRequestError, NotFoundError, ForbiddenError)
        else None
    )
    return cls(
        status=status,
        message=message,
        trace_id=trace_id,
        location_id=location_id,
        url=where,
        response=response,
        hint=hint,
    )
