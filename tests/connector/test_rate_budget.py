"""Rate budgets (connector/budget.py): requests paced to documented, announced and learned limits, and
resources extracted in parallel so one slow endpoint never stalls the others."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import dlt
import httpx
import pytest
from atlassian_posture.connector import all_resources
from atlassian_posture.connector.budget import RateBudget, family
from atlassian_posture.connector.helpers import Connections, Coverage, fan_out_pages, read_ahead
from atlassian_posture.connector.http import AtlassianClient, RequestStats
from atlassian_posture.connector.runner import extract
from atlassian_simulator.core import Simulator
from atlassian_simulator.settings import DOCUMENTED_RATE_LIMITS

EVENTS = "/admin/v1/orgs/o1/events"


class FakeClock:
    """Monotonic time that only moves when someone sleeps: pacing is measured, never waited for."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Server:
    """A token bucket server on the fake clock: `limit` per `per_seconds`, a 429 with Retry-After when empty."""

    def __init__(self, clock: FakeClock, limit: int, per_seconds: float, headers: bool = False):
        self.clock, self.limit, self.per_seconds, self.headers = clock, limit, per_seconds, headers
        self.tokens, self.stamp = float(limit), clock()
        self.sent: list[tuple[float, int]] = []  # (time, status)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        now = self.clock()
        self.tokens = min(self.limit, self.tokens + (now - self.stamp) * self.limit / self.per_seconds)
        self.stamp = now
        if self.tokens < 1:
            self.sent.append((now, 429))
            wait = (1 - self.tokens) * self.per_seconds / self.limit
            return httpx.Response(429, headers={"Retry-After": str(max(1, round(wait + 0.5)))})
        self.tokens -= 1
        self.sent.append((now, 200))
        extra = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(int(self.tokens))} \
            if self.headers else {}
        return httpx.Response(200, json={"data": []}, headers=extra)


def _client(clock: FakeClock, server: Server) -> AtlassianClient:
    return AtlassianClient("https://api.atlassian.com", None, "the Admin API key", sleep=clock.sleep,
                           transport=httpx.MockTransport(server), budget=RateBudget(clock), seed=1)


def test_the_documented_audit_limit_is_paced_not_hit():
    clock = FakeClock()
    server = Server(clock, 10, 60.0)
    client = _client(clock, server)
    for _ in range(40):
        client.get(EVENTS)
    assert [status for _, status in server.sent] == [200] * 40  # not one 429
    # after the burst, one request every 60/10 s (with the budget's margin): 40 requests in about 3.5 min
    assert 180 <= clock.now - 1000 <= 240
    paced = [t for t, _ in server.sent][9:]  # after the burst
    assert min(b - a for a, b in zip(paced, paced[1:], strict=False)) >= 6.0


def test_a_stricter_limit_than_documented_converges_without_a_429_storm():
    """A tenant at 4/min on the audit path, saying so only by its 429s' Retry-After: a few 429s, then paced."""
    clock = FakeClock()
    server = Server(clock, 4, 60.0)
    client = _client(clock, server)
    for _ in range(40):
        client.get(EVENTS)
    statuses = [status for _, status in server.sent]
    assert statuses.count(200) == 40 and statuses.count(429) <= 4  # a 429 every few minutes, no storm
    bucket = client.budget.buckets[family("GET", EVENTS)]
    assert bucket.ceiling <= 1.25 * 4 / 60  # it learned the limit is well below the documented 10/min


def test_a_limit_announced_in_headers_is_learned():
    clock = FakeClock()
    server = Server(clock, 5, 60.0, headers=True)  # the Admin API says X-RateLimit-Limit: 5 (documented: 10)
    client = _client(clock, server)
    for _ in range(20):
        client.get(EVENTS)
    assert [status for _, status in server.sent].count(429) == 0
    assert client.budget.buckets[family("GET", EVENTS)].capacity < 5


class FixedWindowServer:
    """The Admin API's own words: a limit per period, `X-RateLimit-Remaining` in it, `X-RateLimit-Reset` its end."""

    def __init__(self, clock: FakeClock, limit: int):
        self.clock, self.limit, self.sent = clock, limit, []
        self.epoch = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        elapsed = self.clock() - 1000.0
        window = int(elapsed // 60)
        used = sum(1 for t, status in self.sent if int((t - 1000.0) // 60) == window and status == 200)
        reset = self.epoch + timedelta(minutes=window + 1)
        headers = {"Date": format_datetime(self.epoch + timedelta(seconds=elapsed), usegmt=True),
                   "X-RateLimit-Limit": str(self.limit), "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ")}
        if used >= self.limit:
            self.sent.append((self.clock(), 429))
            return httpx.Response(429, headers={**headers, "X-RateLimit-Remaining": "0",
                                                "Retry-After": str(int((reset - self.epoch).total_seconds() - elapsed) + 1)})
        self.sent.append((self.clock(), 200))
        return httpx.Response(200, json={}, headers={**headers, "X-RateLimit-Remaining": str(self.limit - used - 1)})


def test_a_fixed_window_is_waited_out_until_its_reset():
    """A token bucket's burst then refill would overrun a per-minute window: the reset says when to go on."""
    clock = FakeClock()
    server = FixedWindowServer(clock, 10)
    client = _client(clock, server)
    for _ in range(40):
        client.get(EVENTS)
    windows = Counter(int((t - 1000.0) // 60) for t, status in server.sent if status == 200)
    assert [status for _, status in server.sent].count(429) == 0
    assert max(windows.values()) <= 10 and len(windows) <= 5


def test_data_center_bucket_headers_and_a_burst_reason_make_a_budget():
    clock = FakeClock()
    budget = RateBudget(clock)
    dc = httpx.Response(200, headers={"X-RateLimit-Limit": "100", "X-RateLimit-FillRate": "20",
                                      "X-RateLimit-Interval-Seconds": "1", "X-RateLimit-Remaining": "100"})
    key, other_key = family("GET", "/rest/api/2/user/search"), family("GET", "/rest/api/2/project/1/role/2")
    assert budget.reserve(key) == 0 and key not in budget.buckets  # unknown: only concurrency-limited
    budget.observe(budget.scope(key, dc), dc)
    # one bucket for the user, whatever the endpoint: two endpoints share it
    waits = [budget.reserve(key if i % 2 else other_key) for i in range(300)]
    assert waits[:90] == [0.0] * 90  # the burst (95 % of the bucket)...
    assert waits[-1] == pytest.approx((300 - 95) / 19, rel=0.02)  # ...then 20/s less the margin
    cloud = httpx.Response(429, headers={"X-RateLimit-Limit": "50", "RateLimit-Reason": "jira-burst-based",
                                         "Retry-After": "1"})
    other = family("GET", "/rest/api/3/group/member")
    budget.observe(other, cloud)
    assert budget.buckets[other].rate == pytest.approx(50 * 0.95)


def test_a_429_on_an_unknown_endpoint_paces_it_below_one_request_in_flight():
    clock = FakeClock()
    server = Server(clock, 2, 10.0)  # 1 every 5 s, announced nowhere
    client = AtlassianClient("https://acme.atlassian.net", None, "t", sleep=clock.sleep, seed=1,
                             transport=httpx.MockTransport(server), budget=RateBudget(clock))
    for _ in range(12):
        client.get("/rest/api/3/project/10001/role/10002")
    statuses = [status for _, status in server.sent]
    assert statuses.count(200) == 12 and statuses.count(429) <= 4


def test_fan_out_reads_follow_up_pages_of_several_items_at_once():
    """Item 0's second page is only served once item 1's second page was asked for: read one item after
    the other, this would never finish."""
    asked = {1: threading.Event()}

    def open_pages(item):
        yield [f"{item}-1"]
        if item == 0:
            assert asked[1].wait(10), "item 1's follow-up page was not read while item 0 was"
        else:
            asked[1].set()
        yield [f"{item}-2"]

    pages = list(fan_out_pages(range(2), open_pages, stats=RequestStats()))
    assert pages == [(0, ["0-1"]), (0, ["0-2"]), (1, ["1-1"]), (1, ["1-2"])]


def test_a_paced_listing_asks_for_its_next_page_while_this_one_is_processed():
    """The events stream's pages come one per budget slot: the next is fetched before the consumer asks,
    and each page comes with the cursor read right after it (the position a consumer may save)."""
    fetched = [threading.Event() for _ in range(3)]
    cursor = {"at": None}

    def pages():
        for n in range(3):
            cursor["at"] = f"c{n}"
            fetched[n].set()
            yield [n]

    got = []
    for page, mark in read_ahead(pages(), lambda: cursor["at"]):
        if page == [0]:
            assert fetched[1].wait(10), "page 1 was not read ahead"
        got.append((page, mark))
    assert got == [([0], "c0"), ([1], "c1"), ([2], "c2")]


def test_a_resource_waiting_on_its_endpoint_does_not_stall_the_others(monkeypatch, tmp_path):
    """`slow` blocks until `fast` has yielded all its rows: extracted one after the other, it would time out."""
    from atlassian_posture.connector.resources import apps, confluence, jira, org

    fast_done = threading.Event()

    @dlt.resource(name="slow")
    def slow():
        assert fast_done.wait(10), "the other resource did not run while this one waited"
        yield [{"id": 1}]

    @dlt.resource(name="fast")
    def fast():
        for i in range(3):
            yield [{"id": i}]
        fast_done.set()

    monkeypatch.setattr(org, "build", lambda c, cov, *handover: [slow])
    monkeypatch.setattr(jira, "build", lambda c, cov, *handover: [fast])
    for module in (confluence, apps):
        monkeypatch.setattr(module, "build", lambda c, cov, *handover: [])
    resources = all_resources(Connections([]), Coverage())
    pipeline = dlt.pipeline("rate_budget_parallel", destination="duckdb", pipelines_dir=str(tmp_path),
                            dataset_name="raw")
    info = pipeline.extract(resources)
    assert info.metrics  # extracted, and neither resource raised


@pytest.fixture(scope="module")
def tiny_served():
    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        yield sim, base


def test_a_tiny_org_under_the_documented_limits_loads_the_same_rows_without_429s(tiny_served, tmp_path):
    sim, base = tiny_served
    orgs, credentials = sim.connector_config(base)
    free = extract(orgs, credentials, tmp_path / "free.duckdb", pipelines_dir=tmp_path / "p1")
    sim.faults.rate_limits, sim.faults.latency_ms = dict(DOCUMENTED_RATE_LIMITS), 5.0
    sim.request_log.clear()
    try:
        limited = extract(orgs, credentials, tmp_path / "limited.duckdb", pipelines_dir=tmp_path / "p2")
    finally:
        sim.faults.rate_limits, sim.faults.latency_ms = {}, 0.0
    counts = sim.request_log.counts()
    assert limited.rows_by_table == free.rows_by_table
    assert counts["by_status"].get(429, 0) <= 0.01 * counts["total"]
