"""The connector's HTTP client: retries, Retry-After, limiter, read-only, errors without secrets."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from atlassian_posture.connector.budget import family
from atlassian_posture.connector.http import (
    AtlassianClient,
    AtlassianError,
    AuthenticationFailed,
    Forbidden,
    HostLimiter,
    RequestStats,
    check_base_url,
)


def _client(handler, sleeps=None, **kw):
    return AtlassianClient("https://acme.atlassian.net", httpx.BasicAuth("a@b.c", "s3cret-token"), "site-admin-token",
                           transport=httpx.MockTransport(handler), sleep=(sleeps.append if sleeps is not None else
                                                                           (lambda s: None)), seed=3, **kw)


def test_429_waits_as_long_as_retry_after_says_in_seconds_or_as_a_date():
    answers = iter([
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"Retry-After": format_datetime(datetime(2026, 11, 1, 9, 0, 20, tzinfo=UTC),
                                                                    usegmt=True),
                                     "Date": format_datetime(datetime(2026, 11, 1, 9, 0, 0, tzinfo=UTC), usegmt=True)}),
        httpx.Response(200, json={"ok": True}),
    ])
    sleeps = []
    stats = RequestStats()
    response = _client(lambda r: next(answers), sleeps).get("/rest/api/3/serverInfo", stats=stats)
    assert response.status_code == 200
    assert 7 <= sleeps[0] < 7.5 and 20 <= sleeps[1] < 20.5
    assert (stats.requests, stats.retries, stats.throttled) == (3, 2, 2)


def test_x_ratelimit_reset_is_honoured_when_there_is_no_retry_after():
    now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    answers = iter([
        httpx.Response(429, headers={"X-RateLimit-Reset": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%MZ"),
                                     "Date": format_datetime(now, usegmt=True)}),
        httpx.Response(200, json={}),
    ])
    sleeps = []
    _client(lambda r: next(answers), sleeps).get("/x")
    assert 60 <= sleeps[0] < 60.5


def test_5xx_and_dropped_connections_are_retried_with_backoff_then_give_up_in_one_line():
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadError("connection reset")
        return httpx.Response(503)

    sleeps = []
    with pytest.raises(AtlassianError) as info:
        _client(handler, sleeps, max_retries=3).get("/rest/api/3/users/search")
    assert len(calls) == 4 and len(sleeps) == 3
    assert "still failing after 4 attempts" in str(info.value) and "\n" not in str(info.value)


def test_401_names_the_credential_never_the_secret_and_403_is_a_resource_outcome():
    with pytest.raises(AuthenticationFailed) as info:
        _client(lambda r: httpx.Response(401, text="Client must be authenticated")).get("/x")
    message = str(info.value)
    assert "site-admin-token" in message and "s3cret-token" not in message
    forbidden = _client(lambda r: httpx.Response(403, json={"errorMessages": ["You need Administer Jira"]}))
    with pytest.raises(Forbidden, match="Administer Jira"):
        forbidden.get("/rest/api/3/auditing/record")


def test_only_reads_are_ever_sent():
    sent = []
    client = _client(lambda r: sent.append(r) or httpx.Response(200, json={}))
    with pytest.raises(AtlassianError, match="only reads"):
        client.request("DELETE", "/rest/api/3/group")
    with pytest.raises(AtlassianError, match="only reads"):
        client.request("POST", "/rest/api/3/group", json={"name": "x"})
    assert sent == []
    client.post_search("/admin/v2/orgs/o/directories/-/users/search", {})
    assert len(sent) == 1


def test_base_urls_must_be_https_except_loopback():
    assert check_base_url("https://acme.atlassian.net/") == "https://acme.atlassian.net"
    assert check_base_url("http://127.0.0.1:8080/site/acme") == "http://127.0.0.1:8080/site/acme"
    with pytest.raises(ValueError, match="https"):
        check_base_url("http://acme.atlassian.net")


def test_limiter_halves_on_throttling_and_recovers_after_successes():
    limiter = HostLimiter(initial=4, maximum=6, recover_after=3)
    limiter.acquire()
    limiter.release(throttled=True)
    assert limiter.limit == 2
    limiter.acquire()
    limiter.release(throttled=True)
    assert limiter.limit == 1
    for _ in range(3):
        limiter.acquire()
        limiter.release(throttled=False)
    assert limiter.limit == 2


def test_against_the_simulator_rate_limits_and_errors_are_absorbed(served):
    sim, base = served
    sim.faults.rate_limits = {"/site/*/rest/api/*": (5, 1.0)}
    sim.faults.error_rate = 0.2
    sim.faults.only = ["*/rest/api/3/serverInfo"]
    try:
        client = AtlassianClient(sim.urls(base)["sites"][0], sim.auth(), "site-admin-token", seed=1)
        stats = RequestStats()
        for _ in range(15):
            assert client.get("/rest/api/3/serverInfo", stats=stats).status_code == 200
        assert stats.retries > 0
    finally:
        sim.faults.rate_limits, sim.faults.error_rate, sim.faults.only = {}, 0.0, []


def test_a_429_lost_to_other_requests_of_the_host_is_not_counted_as_an_attempt():
    """Issue 14 #11: under a quota stricter than documented, the requests of a fan-out wake together after
    Retry-After and one wins; a request that loses more races than it has attempts must not fail the run
    while the host keeps serving the others."""
    limiter = HostLimiter(4, 8)
    served_meanwhile = []

    def handler(request):
        if request.url.path == "/other":
            return httpx.Response(200, json={})
        return httpx.Response(429, headers={"Retry-After": "1"}) if len(served_meanwhile) < 10 else \
            httpx.Response(200, json={"won": True})

    other = AtlassianClient("https://acme.atlassian.net", None, "other", limiter=limiter,
                            transport=httpx.MockTransport(handler))

    def sleep(seconds):  # while this request waits, another request of the host gets the quota
        served_meanwhile.append(other.get("/other").status_code)

    unlucky = AtlassianClient("https://acme.atlassian.net", None, "unlucky", limiter=limiter, max_retries=3,
                              sleep=sleep, transport=httpx.MockTransport(handler))
    stats = RequestStats()
    assert unlucky.get("/rest/api/3/project/1/role", stats=stats).json() == {"won": True}
    assert (stats.requests, stats.throttled, stats.retries) == (11, 10, 10)


def test_a_host_that_throttles_everyone_still_fails_after_the_retries_in_one_line():
    sleeps = []
    client = _client(lambda r: httpx.Response(429, headers={"Retry-After": "1"}), sleeps, max_retries=3)
    with pytest.raises(AtlassianError) as info:
        client.get("/rest/api/3/users/search")
    assert len(sleeps) == 3 and "still failing after 4 attempts (HTTP 429)" in str(info.value)


def test_a_429_on_a_paced_family_slows_that_family_not_the_whole_host():
    """The audit endpoint's 429 is its own budget's business (budget.py); a 429 on an endpoint without a known
    limit still halves the host's concurrency, and from then on that endpoint is paced too."""
    limiter = HostLimiter(4, 8)
    answers = {"/admin/v1/orgs/o1/events": [429, 200], "/admin/v1/orgs/o1/policies": [429, 200]}

    def handler(request):
        return httpx.Response(answers[request.url.path].pop(0), headers={"Retry-After": "6"}, json={})

    sleeps = []
    client = AtlassianClient("https://api.atlassian.com", None, "key", limiter=limiter, sleep=sleeps.append,
                             transport=httpx.MockTransport(handler))
    client.get("/admin/v1/orgs/o1/events")
    assert limiter.limit == 4 and 6 <= sleeps[-1] < 6.5
    client.get("/admin/v1/orgs/o1/policies")
    assert limiter.limit == 2 and 6 <= sleeps[-1] < 6.5
    assert family("GET", "/admin/v1/orgs/o1/policies") in client.budget.buckets
