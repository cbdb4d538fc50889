"""Client against a real HTTP server on 127.0.0.1: envelopes, errors, retries, pacing, headers."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Response

import poolkit
from poolkit.client import DailyBudgetSpent, RateBudget

from conftest import envelope, make_pool
from servers import RawServer, http_reply

TOKEN = "pit-test-token-0123456789"
POOLS = "/phone-system/number-pools"


@pytest.fixture
def client(httpserver: HTTPServer) -> poolkit.Client:
    return poolkit.Client(
        TOKEN, base_url=httpserver.url_for(""), backoff_factor=0.01, timeout=(2, 2), max_retries=3
    )


def test_headers_and_both_envelopes(httpserver: HTTPServer, client: poolkit.Client):
    v3 = {"status": 200, "statusCode": 200, "message": "ok", "data": [make_pool()]}
    httpserver.expect_request(
        POOLS,
        query_string={"locationId": "loc123"},
        headers={
            "Version": "2021-07-28",
            "Authorization": f"Bearer {TOKEN}",
            "Accept": "application/json",
        },
    ).respond_with_json(envelope(make_pool()))
    httpserver.expect_request(POOLS, query_string={"locationId": "v3loc"}).respond_with_json(v3)
    assert client.list_number_pools("loc123")["data"][0]["id"] == make_pool()["id"]
    assert poolkit.read_pools(client.list_number_pools("v3loc")).pools["pool_id"].tolist() == [
        make_pool()["id"]
    ]


def test_version_v3_is_sent_when_asked(httpserver: HTTPServer):
    httpserver.expect_request(POOLS, headers={"Version": "v3"}).respond_with_json(envelope())
    client = poolkit.Client(TOKEN, base_url=httpserver.url_for(""), version="v3")
    assert client.list_number_pools("x") == envelope()


@pytest.mark.parametrize(
    "status, body, error, words",
    [
        (
            400,
            {"statusCode": 400, "message": "Invalid locationId format", "error": "Bad Request"},
            poolkit.errors.BadRequestError,
            "Invalid locationId format",
        ),
        (
            401,
            {
                "statusCode": 401,
                "message": "Invalid token: access token is invalid",
                "error": "Unauthorized",
                "traceId": "trace-401",
            },
            poolkit.errors.AuthenticationError,
            "token is expired or invalid",
        ),
        (
            403,
            {
                "statusCode": 403,
                "message": "The token does not have access to this location",
                "error": "Forbidden",
            },
            poolkit.errors.ForbiddenError,
            "numberpools.read",
        ),
        (
            404,
            {"statusCode": 404, "message": "Cannot GET", "error": "Not Found"},
            poolkit.errors.NotFoundError,
            "Cannot GET",
        ),
        (
            422,
            {
                "statusCode": 422,
                "message": ["locationId must be a string", "locationId should not be empty"],
                "error": "Unprocessable Entity",
            },
            poolkit.errors.BadRequestError,
            "locationId must be a string; locationId should",
        ),
    ],
)
def test_error_statuses_raise_typed_errors_carrying_the_details(
    httpserver, client, status, body, error, words
):
    httpserver.expect_request(POOLS).respond_with_json(body, status=status)
    with pytest.raises(error) as caught:
        client.list_number_pools("loc9")
    exc = caught.value
    assert exc.status == status and exc.location_id == "loc9" and exc.response.status_code == status
    assert words in str(exc) and "loc9" in str(exc)
    assert exc.message == body["message"]  # a list stays a list (422)
    assert exc.trace_id == body.get("traceId")
    assert TOKEN not in str(exc) and TOKEN not in repr(exc)
    assert TOKEN not in exc.response.request.headers["Authorization"]
    assert len(httpserver.log) == 1  # client errors are not retried


def test_429_with_retry_after_then_success(httpserver: HTTPServer, client: poolkit.Client):
    httpserver.expect_oneshot_request(POOLS).respond_with_response(
        Response(
            json.dumps({"message": "Too many requests"}), status=429, headers={"Retry-After": "1"}
        )
    )
    httpserver.expect_request(POOLS).respond_with_json(envelope(make_pool()))
    start = time.monotonic()
    assert len(client.list_number_pools("loc1")["data"]) == 1
    assert time.monotonic() - start >= 0.95  # Retry-After was honoured
    assert len(httpserver.log) == 2


def test_503_storm_beyond_the_retry_budget_raises_server_error(
    httpserver: HTTPServer, client: poolkit.Client
):
    httpserver.expect_request(POOLS).respond_with_json(
        {"message": "unavailable", "traceId": "t-503"}, status=503
    )
    with pytest.raises(poolkit.errors.ServerError) as caught:
        client.list_number_pools("loc1")
    assert caught.value.status == 503 and caught.value.trace_id == "t-503"
    assert len(httpserver.log) == 4  # first try + max_retries=3


def test_429_storm_raises_rate_limit_error(httpserver: HTTPServer, client: poolkit.Client):
    httpserver.expect_request(POOLS).respond_with_json({"message": "slow down"}, status=429)
    with pytest.raises(poolkit.errors.RateLimitError, match="slow down"):
        client.list_number_pools("loc1")
    assert len(httpserver.log) == 4


def test_read_timeout_is_retried_then_reported(httpserver: HTTPServer):
    def slow(request):
        time.sleep(0.6)
        return Response(json.dumps(envelope()), content_type="application/json")

    httpserver.expect_request(POOLS).respond_with_handler(slow)
    client = poolkit.Client(
        TOKEN, base_url=httpserver.url_for(""), timeout=(1, 0.2), max_retries=1, backoff_factor=0.01
    )
    with pytest.raises(poolkit.errors.NetworkError, match="timed out|read timed out") as caught:
        client.list_number_pools("slowloc")
    assert "slowloc" in str(caught.value) and TOKEN not in str(caught.value)


def test_invalid_json_body_raises_invalid_response(httpserver: HTTPServer, client: poolkit.Client):
    httpserver.expect_request(POOLS).respond_with_data(
        "<html>502 Bad Gateway</html>", content_type="text/html"
    )
    with pytest.raises(poolkit.errors.InvalidResponseError, match="not JSON") as caught:
        client.list_number_pools("loc1")
    assert caught.value.response.text.startswith("<html>")


def test_body_cut_short_is_retried_with_the_same_budget_then_succeeds():
    body = json.dumps(envelope(make_pool())).encode()
    server = RawServer([http_reply(body[:40], content_length=len(body)), http_reply(body)])
    try:
        client = poolkit.Client(TOKEN, base_url=server.url, backoff_factor=0.01, max_retries=2)
        assert client.list_number_pools("loc1")["data"][0]["name"] == "Sales Team Pool"
        assert len(server.requests) == 2
    finally:
        server.close()


def test_body_always_cut_short_raises_network_error():
    body = json.dumps(envelope(make_pool())).encode()
    server = RawServer([http_reply(body[:40], content_length=len(body))])
    try:
        client = poolkit.Client(TOKEN, base_url=server.url, backoff_factor=0.01, max_retries=2)
        with pytest.raises(poolkit.errors.NetworkError, match="cut short"):
            client.list_number_pools("loc1")
        assert len(server.requests) == 3
    finally:
        server.close()


def test_connection_refused_is_a_network_error():
    client = poolkit.Client(
        TOKEN, base_url="http://127.0.0.1:9", max_retries=1, backoff_factor=0.01
    )
    with pytest.raises(poolkit.errors.NetworkError, match="connection refused"):
        client.list_number_pools("loc1")


def test_agency_flow_pages_locations_and_gets_location_tokens(httpserver: HTTPServer):
    names = [{"id": f"L{i}", "name": f"Location {i}"} for i in range(5)]
    for skip in (0, 2, 4):
        httpserver.expect_request(
            "/locations/search",
            query_string={"companyId": "C1", "skip": str(skip), "limit": "2"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).respond_with_json({"locations": names[skip : skip + 2]})
    httpserver.expect_request(
        "/oauth/locationToken",
        method="POST",
        data="companyId=C1&locationId=L3",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Version": "2021-07-28"},
    ).respond_with_json({"access_token": "loc-token-L3", "locationId": "L3", "expires_in": 86399})
    client = poolkit.Client(TOKEN, base_url=httpserver.url_for(""), page_size=2)
    assert [loc["id"] for loc in client.search_locations("C1")] == [f"L{i}" for i in range(5)]
    assert client.location_token("C1", "L3") == "loc-token-L3"


def test_missing_token_says_how_to_provide_one(monkeypatch, tmp_path):
    monkeypatch.delenv("GHL_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(poolkit.errors.ConfigurationError, match="GHL_TOKEN.*.env"):
        poolkit.Client()
    (tmp_path / ".env").write_text("GHL_TOKEN=from-dotenv-file\n")
    client = poolkit.Client()
    assert client._token == "from-dotenv-file" and "from-dotenv-file" not in repr(client)
    monkeypatch.setenv("GHL_TOKEN", "from-environment")
    assert poolkit.Client()._token == "from-environment"


def test_rate_budget_keeps_within_the_window_counting_each_slot_until_its_answer():
    """limit 5, reserve 1: four requests a window. A slot is held from the send until the
    answer, and the window runs from the answer: the fifth waits for the first answer to
    leave the window, not for a whole window from some other moment."""
    budget = RateBudget(limit=5, interval=0.5)
    assert budget.reserve == 1
    sent = [budget.acquire() for _ in range(4)]  # four sent, none answered yet
    blocked = threading.Thread(target=budget.acquire)
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive()  # four in flight: no slot, however long they take
    time.sleep(0.1)
    answered = time.monotonic()
    budget.release(sent[0])  # the first answer: its slot leaves the window 0.5 s later
    blocked.join(2)
    assert not blocked.is_alive()
    assert 0.45 <= time.monotonic() - answered < 0.7


def test_rate_budget_takes_the_servers_word_when_others_spend_the_budget():
    """The server says 3 of 100 are left after one answer of ours: 96 are other clients',
    and are left their room. One more request fits (98 a window, 2 kept in reserve); the next
    waits for the oldest own slot to leave the window (0.3 s, the interval of the headers),
    not 10 s."""
    budget = RateBudget()
    budget.release(
        budget.acquire(),
        {
            "X-RateLimit-Max": "100",
            "X-RateLimit-Remaining": "3",
            "X-RateLimit-Interval-Milliseconds": "300",
        },
    )
    start = time.monotonic()
    budget.acquire()
    assert time.monotonic() - start < 0.05
    budget.acquire()
    assert 0.25 <= time.monotonic() - start < 1


def test_rate_budget_odd_headers_never_stop_it():
    """A budget of one request a window still lets one through; headers that are not
    numbers ("²" passes ``isdigit``) are ignored; a lowered limit clamps the others' room."""
    budget = RateBudget()
    one = {"X-RateLimit-Max": "1", "X-RateLimit-Remaining": "0"}
    budget.release(budget.acquire(), {**one, "X-RateLimit-Interval-Milliseconds": "100"})
    budget.release(budget.acquire(), {"X-RateLimit-Interval-Milliseconds": "100"})
    budget.release(budget.acquire(), {"X-RateLimit-Max": "²", "X-RateLimit-Remaining": "²"})
    start = time.monotonic()
    budget.acquire()  # one slot a window: waits for the last answer to leave it, no more
    assert 0.05 <= time.monotonic() - start < 0.5


def test_a_429_whose_retry_after_is_not_whole_seconds_is_backed_off(httpserver, client):
    httpserver.expect_oneshot_request(POOLS).respond_with_response(
        Response(json.dumps({"message": "slow"}), status=429, headers={"Retry-After": "1.5"})
    )
    httpserver.expect_request(POOLS).respond_with_json(envelope(make_pool()))
    assert len(client.list_number_pools("loc1")["data"]) == 1
    assert len(httpserver.log) == 2


def test_rate_budget_daily_budget_is_its_own():
    spent, other = RateBudget(), RateBudget()
    spent.release(spent.acquire(), {"X-RateLimit-Daily-Remaining": "0"})
    with pytest.raises(DailyBudgetSpent):
        spent.acquire()
    other.acquire()  # another resource's budget is untouched


def test_client_slows_down_before_the_burst_budget_runs_out(httpserver: HTTPServer):
    served = []

    def answer(request):
        served.append(time.monotonic())
        remaining = max(0, 6 - len(served))
        return Response(
            json.dumps(envelope()),
            content_type="application/json",
            headers={
                "X-RateLimit-Max": "6",
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Interval-Milliseconds": "400",
            },
        )

    httpserver.expect_request(POOLS).respond_with_handler(answer)
    client = poolkit.Client(TOKEN, base_url=httpserver.url_for(""))
    for _ in range(8):
        client.list_number_pools("same-location")
    gaps = [b - a for a, b in zip(served, served[1:])]
    assert max(gaps) >= 0.3  # it waited for the window instead of running into 429s
    assert all(entry[1].status_code == 200 for entry in httpserver.log)


def test_redirects_are_followed_and_the_token_never_goes_to_another_host(httpserver):
    """A moved path is followed on the same host with the token; a move to another host
    (``127.0.0.1`` is not ``localhost`` by name) is followed without it."""
    port = httpserver.port  # the server's name is localhost
    httpserver.expect_request("/old" + POOLS).respond_with_response(
        Response(status=307, headers={"Location": POOLS + "?locationId=loc1"})
    )
    httpserver.expect_request("/away" + POOLS).respond_with_response(
        Response(status=302, headers={"Location": f"http://127.0.0.1:{port}{POOLS}?x=1"})
    )
    httpserver.expect_request(POOLS).respond_with_json(envelope(make_pool()))
    moved = poolkit.Client(TOKEN, base_url=httpserver.url_for("/old"))
    assert moved.list_number_pools("loc1")["data"][0]["name"] == "Sales Team Pool"
    away = poolkit.Client(TOKEN, base_url=httpserver.url_for("/away"))
    assert away.list_number_pools("loc1")["data"][0]["name"] == "Sales Team Pool"
    asked = [(r.path, r.headers.get("Authorization")) for r, _ in httpserver.log]
    assert asked == [
        ("/old" + POOLS, f"Bearer {TOKEN}"),
        (POOLS, f"Bearer {TOKEN}"),
        ("/away" + POOLS, f"Bearer {TOKEN}"),
        (POOLS, None),
    ]


def test_no_cookie_is_kept_or_sent(httpserver, client):
    httpserver.expect_request(POOLS).respond_with_response(
        Response(json.dumps(envelope()), headers={"Set-Cookie": "session=abc; Path=/"})
    )
    client.list_number_pools("loc1")
    client.list_number_pools("loc1")
    assert [r.headers.get("Cookie") for r, _ in httpserver.log] == [None, None]


def test_the_environments_proxy_is_used_unless_no_proxy_says_otherwise(httpserver, monkeypatch):
    """The API's host does not exist (``.invalid`` never resolves): only through the proxy
    (this server) is it answered. A proxy named without its scheme is http://, as requests
    takes it; one urllib3 cannot use is said, without quoting it (it may hold a password)."""
    httpserver.expect_request(POOLS).respond_with_json(envelope(make_pool()))
    for proxy in (httpserver.url_for(""), f"127.0.0.1:{httpserver.port}"):
        monkeypatch.setenv("HTTP_PROXY", proxy)
        through = poolkit.Client(TOKEN, base_url="http://api.poolkit.invalid")
        assert through.list_number_pools("loc1")["data"][0]["name"] == "Sales Team Pool"
    assert [r.headers.get("Host") for r, _ in httpserver.log] == ["api.poolkit.invalid"] * 2
    monkeypatch.setenv("NO_PROXY", "api.poolkit.invalid")
    direct = poolkit.Client(TOKEN, base_url="http://api.poolkit.invalid", max_retries=0)
    with pytest.raises(poolkit.errors.NetworkError, match="no answer from api.poolkit.invalid"):
        direct.list_number_pools("loc1")
    assert len(httpserver.log) == 2
    monkeypatch.delenv("NO_PROXY")
    for unusable in ("ftp://user:hunter2@proxy.example:21", "http://user:hunter2@proxy:99999"):
        monkeypatch.setenv("HTTP_PROXY", unusable)
        with pytest.raises(poolkit.errors.ConfigurationError, match="HTTP_PROXY") as caught:
            poolkit.Client(TOKEN, base_url="http://api.poolkit.invalid")
        assert "hunter2" not in str(caught.value)


def test_a_ca_bundle_that_is_not_there_is_said_before_any_request(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with pytest.raises(poolkit.errors.ConfigurationError, match="REQUESTS_CA_BUNDLE.*missing.pem"):
        poolkit.Client(TOKEN, base_url="https://api.poolkit.invalid")


def test_a_token_a_header_cannot_carry_is_refused_without_being_quoted(monkeypatch):
    with pytest.raises(poolkit.errors.ConfigurationError, match="no HighLevel API token"):
        poolkit.Client("  \n", base_url="http://127.0.0.1:9")
    for bad in ("pit-abc\r\nX-Evil: 1", "pit abc", "pit-é"):
        with pytest.raises(poolkit.errors.ConfigurationError, match="copy it again") as caught:
            poolkit.Client(bad, base_url="http://127.0.0.1:9")
        assert "pit" not in str(caught.value)


@pytest.mark.parametrize("answered", ["loc-token\r\nX-Evil: 1", "", None])
def test_a_location_token_a_header_cannot_carry_fails_that_location_only(httpserver, answered):
    """Never the agency's token in its place (an empty one would have been)."""
    httpserver.expect_request("/oauth/locationToken", method="POST").respond_with_json(
        {"access_token": answered}
    )
    client = poolkit.Client(TOKEN, base_url=httpserver.url_for(""))
    with pytest.raises(poolkit.errors.InvalidResponseError, match="no access_token") as caught:
        client.location_token("C1", "L1")
    assert "loc-token" not in str(caught.value)


def test_a_body_that_stalls_is_retried_then_said_as_no_answer_in_time():
    """The headers come, then the body stops coming (``hold``): a read timeout in the body
    is retried like one before it, and fails as a NetworkError, never urllib3's own."""
    body = json.dumps(envelope(make_pool())).encode()
    stalled = http_reply(body[:40], content_length=len(body))
    server = RawServer([stalled, http_reply(body)], hold=3)
    try:
        client = poolkit.Client(
            TOKEN, base_url=server.url, timeout=(2, 1), max_retries=2, backoff_factor=0.01
        )
        assert client.list_number_pools("loc1")["data"][0]["name"] == "Sales Team Pool"
        assert len(server.requests) == 2
    finally:
        server.close()
    server = RawServer([stalled], hold=3)
    try:
        client = poolkit.Client(
            TOKEN, base_url=server.url, timeout=(2, 1), max_retries=1, backoff_factor=0.01
        )
        with pytest.raises(poolkit.errors.NetworkError, match="did not answer in time"):
            client.list_number_pools("loc1")
        assert len(server.requests) == 2
    finally:
        server.close()


def test_redirects_spend_no_retry_and_too_many_are_said(httpserver):
    httpserver.expect_request("/old" + POOLS).respond_with_response(
        Response(status=301, headers={"Location": POOLS})
    )
    httpserver.expect_request("/loop").respond_with_response(
        Response(status=302, headers={"Location": "/loop"})
    )
    httpserver.expect_request(POOLS).respond_with_json(envelope(make_pool()))
    client = poolkit.Client(TOKEN, base_url=httpserver.url_for("/old"), max_retries=0)
    assert client.list_number_pools("loc1")["data"][0]["name"] == "Sales Team Pool"
    looping = poolkit.Client(TOKEN, base_url=httpserver.url_for(""), max_retries=0)
    with pytest.raises(poolkit.errors.NetworkError, match="redirected it more than 10 times"):
        looping.request("GET", "/loop", budget="L1")
    assert len(httpserver.log) == 2 + 11


def test_an_answer_reads_as_any_requests_response(httpserver, client):
    httpserver.expect_request(POOLS).respond_with_json(envelope(make_pool()), headers={"X-A": "1"})
    response = client.number_pools_response("loc1")
    assert isinstance(response, requests.Response) and response.ok
    assert response.status_code == 200 and response.reason == "OK"
    assert response.headers["x-a"] == "1" and response.encoding == "utf-8"
    assert b"".join(response.iter_content(7)) == response.content
    assert response.json() == json.loads(response.text) == envelope(make_pool())
    assert response.url == response.request.url == httpserver.url_for(POOLS) + "?locationId=loc1"
    assert response.request.headers["Authorization"] == "Bearer <redacted>"


def test_an_answers_url_is_the_one_it_came_from_after_retries_and_redirects(httpserver, client):
    httpserver.expect_oneshot_request(POOLS).respond_with_json({"message": "busy"}, status=503)
    httpserver.expect_request(POOLS).respond_with_json(envelope())
    assert client.number_pools_response("L1").url == httpserver.url_for(POOLS) + "?locationId=L1"
    httpserver.expect_request("/moved").respond_with_response(
        Response(status=302, headers={"Location": POOLS + "?skip=0"})
    )
    moved = client.request("GET", "/moved", params={"a": 1, "none": None}, budget="L1")
    assert moved.url == httpserver.url_for(POOLS) + "?skip=0"
    assert httpserver.log[-2][0].query_string == b"a=1"  # None is left out, as requests does


def test_a_redirect_spends_none_of_the_retries_a_503_after_it_needs(httpserver):
    """One retry: the move is not it, so the 503 at the new place is retried."""
    httpserver.expect_request("/old" + POOLS).respond_with_response(
        Response(status=308, headers={"Location": POOLS + "?locationId=loc1"})
    )
    httpserver.expect_oneshot_request(POOLS).respond_with_json({"message": "busy"}, status=503)
    httpserver.expect_request(POOLS).respond_with_json(envelope(make_pool()))
    client = poolkit.Client(
        TOKEN, base_url=httpserver.url_for("/old"), max_retries=1, backoff_factor=0.01
    )
    assert client.list_number_pools("loc1")["data"][0]["name"] == "Sales Team Pool"
    assert [status for _, status in ((r.path, a.status_code) for r, a in httpserver.log)] == [
        308,
        503,
        200,
    ]
