"""Injected faults and the request log, with a fake clock and a sleep that never waits."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest
from atlassian_simulator.server.faults import FaultConfig, FaultMiddleware, product_kind
from atlassian_simulator.server.log import RequestLog, RequestLogMiddleware
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

WALL = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
ALICE = {"Authorization": "Bearer tok-alice"}
BOB = {"Authorization": "Bearer tok-bob"}
LABELS = {b"Bearer tok-alice": "alice-admin", b"Bearer tok-bob": "bob-readonly"}


def auth_layer(app):
    """Stands in for the simulator's auth: labels the credential, never stores the secret."""

    async def middleware(scope, receive, send):
        if scope["type"] == "http":
            token = dict(scope["headers"]).get(b"authorization")
            scope.setdefault("state", {})["credential_label"] = LABELS.get(token, "anonymous")
        await app(scope, receive, send)

    return middleware


async def myself(request):
    return JSONResponse({"accountId": "a1"})


async def big(request):
    return JSONResponse({"values": [{"id": i, "name": f"user {i}"} for i in range(50)]})


async def accepted(request):
    return JSONResponse({}, status_code=204 if request.method == "DELETE" else 200)


ROUTES = [
    Route("/rest/api/3/myself", myself),
    Route("/rest/api/3/project/{key}", myself),
    Route("/rest/api/3/users", big),
    Route("/wiki/rest/api/group", myself),
    Route("/admin/v1/orgs", myself),
    Route("/rest/api/3/group", accepted, methods=["DELETE", "POST"]),
    Route("/admin/v2/orgs/o1/directories/d1/users/search", accepted, methods=["POST"]),
]


class Sim:
    """The app as the simulator wires it: log ⟶ faults ⟶ auth ⟶ routes, with fake time."""

    def __init__(self, config: FaultConfig, log: RequestLog | None = None):
        self.now = 0.0
        self.sleeps: list[float] = []
        self.log = log or RequestLog()
        self.faults = FaultMiddleware(
            auth_layer(Starlette(routes=ROUTES)),
            config,
            self.log,
            clock=lambda: self.now,
            sleep=self._sleep,
            wall_clock=lambda: WALL + timedelta(seconds=self.now),
        )
        self.app = RequestLogMiddleware(self.faults, self.log)

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def run(self, scenario, **transport_options):
        async def main():
            transport = httpx.ASGITransport(app=self.app, **transport_options)
            async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
                return await scenario(client)

        return asyncio.run(main())


# --- rate limiting ------------------------------------------------------------------------------


def test_429_after_the_burst_with_all_headers_then_recovery():
    sim = Sim(FaultConfig(rate_limits={"*/rest/api/3/*": (5, 10.0)}))

    async def burst(client):
        return [await client.get("/rest/api/3/myself", headers=ALICE) for _ in range(6)]

    responses = sim.run(burst)
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    # near limit: fewer than 20 % of the 5 tokens left, i.e. after the fifth call only
    assert [r.headers.get("x-ratelimit-nearlimit") for r in responses[:5]] == [None] * 4 + ["true"]
    limited = responses[5]
    assert limited.headers["retry-after"] == "2"  # one token back after 10 s / 5
    assert limited.headers["x-ratelimit-limit"] == "5"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["x-ratelimit-reset"] == "2026-03-02T12:01Z"  # 12:00:32, rounded up to the minute
    assert limited.headers["ratelimit-reason"] == "jira-burst-based"
    assert limited.json() == {"errorMessages": ["Rate limit exceeded."], "errors": {}}

    async def other_caller_and_other_path(client):
        return (
            (await client.get("/rest/api/3/myself", headers=BOB)).status_code,
            (await client.get("/admin/v1/orgs", headers=ALICE)).status_code,
        )

    assert sim.run(other_caller_and_other_path) == (200, 200)  # buckets are per pattern and caller

    async def statuses(client, n):
        return [(await client.get("/rest/api/3/myself", headers=ALICE)).status_code for _ in range(n)]

    sim.now += 2.0  # one token refilled
    assert sim.run(lambda c: statuses(c, 2)) == [200, 429]
    sim.now += 10.0  # the whole window: a full bucket
    assert sim.run(lambda c: statuses(c, 6)) == [200] * 5 + [429]
    assert sim.sleeps == []  # nothing ever waited


def test_admin_429_has_no_reason_and_an_admin_error_body():
    sim = Sim(FaultConfig(rate_limits={"/admin/*": (1, 60.0)}))

    async def twice(client):
        return [await client.get("/admin/v1/orgs", headers=ALICE) for _ in range(2)]

    first, second = sim.run(twice)
    assert first.status_code == 200 and second.status_code == 429
    assert "ratelimit-reason" not in second.headers
    assert second.headers["retry-after"] == "60"
    assert second.headers["x-ratelimit-reset"] == "2026-03-02T12:02Z"
    assert second.json() == {"errors": [{"status": "429", "code": "ADMIN-429-1", "title": "Rate limit exceeded."}]}


def test_retry_after_as_an_http_date():
    sim = Sim(FaultConfig(rate_limits={"*": (1, 30.0)}, retry_after_format="http-date"))

    async def twice(client):
        return [await client.get("/wiki/rest/api/group") for _ in range(2)]

    _, limited = sim.run(twice)
    assert parsedate_to_datetime(limited.headers["retry-after"]) == WALL + timedelta(seconds=30)
    assert limited.headers["ratelimit-reason"] == "jira-burst-based"
    assert limited.json()["statusCode"] == 429  # Confluence's own error body


# --- random faults ------------------------------------------------------------------------------


def test_error_rate_one_gives_only_5xx_and_503_carries_retry_after():
    sim = Sim(FaultConfig(error_rate=1.0, seed=7))

    async def many(client):
        return [await client.get("/rest/api/3/myself", headers=ALICE) for _ in range(40)]

    responses = sim.run(many)
    assert {r.status_code for r in responses} == {500, 502, 503}
    assert all(r.headers["retry-after"] == "1" for r in responses if r.status_code == 503)
    assert all("retry-after" not in r.headers for r in responses if r.status_code != 503)
    assert {e["fault"] for e in sim.log.entries()} == {"error"}


def test_faults_can_be_changed_at_runtime_and_restricted_with_only():
    config = FaultConfig()
    sim = Sim(config)

    async def pair(client):
        return (
            (await client.get("/rest/api/3/myself")).status_code,
            (await client.get("/admin/v1/orgs")).status_code,
        )

    assert sim.run(pair) == (200, 200)
    config.error_rate = 1.0
    config.only = ["/admin/*"]
    jira, admin = sim.run(pair)
    assert jira == 200 and admin >= 500
    config.error_rate = 0.0
    assert sim.run(pair) == (200, 200)


def test_same_seed_same_faults():
    def statuses(seed):
        sim = Sim(FaultConfig(error_rate=0.5, seed=seed))
        sim.run(lambda client: _get_n(client, 30))
        return [e["status"] for e in sim.log.entries()]

    first = statuses(42)
    assert first == statuses(42)
    assert 200 in first and any(status >= 500 for status in first)


def test_forbidden_and_not_found_patterns():
    sim = Sim(FaultConfig(forbidden=["*/project/SECRET"], not_found=["*/project/GONE"]))

    async def three(client):
        return [await client.get(f"/rest/api/3/project/{key}", headers=ALICE) for key in ("SECRET", "GONE", "OPEN")]

    secret, gone, open_ = sim.run(three)
    assert secret.status_code == 403 and secret.json()["errorMessages"]
    assert gone.status_code == 404 and gone.json()["errors"] == {}
    assert open_.status_code == 200


def test_reset_raises_on_the_client_as_a_transport_error():
    sim = Sim(FaultConfig(reset_rate=1.0))

    async def once(client):
        await client.get("/rest/api/3/myself", headers=ALICE)

    with pytest.raises(ConnectionResetError) as caught:
        sim.run(once)
    assert isinstance(caught.value, httpx.TransportError)
    (entry,) = sim.log.entries()
    assert (entry["status"], entry["fault"]) == (None, "reset")


def test_truncated_body_fails_to_parse():
    sim = Sim(FaultConfig(truncate_rate=1.0))

    async def once(client):
        return await client.get("/rest/api/3/users")

    response = sim.run(once, raise_app_exceptions=False)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > len(response.content) > 0
    with pytest.raises(json.JSONDecodeError):
        response.json()
    with pytest.raises(httpx.RemoteProtocolError):  # what httpx says when a peer closes mid-body
        sim.run(once)
    assert [(e["status"], e["fault"]) for e in sim.log.entries()] == [(200, "truncate")] * 2


def test_timeout_and_latency_sleep_through_the_injected_sleep():
    sim = Sim(FaultConfig(timeout_rate=1.0, latency_ms=250))

    async def once(client):
        return await client.get("/rest/api/3/myself")

    assert sim.run(once).status_code == 200  # it answers, but only after the client should have given up
    assert sim.sleeps == [0.25, 30.0]
    assert sim.log.entries()[0]["fault"] == "timeout"


# --- request log --------------------------------------------------------------------------------


def test_log_records_every_request_with_labels_faults_and_writes():
    sim = Sim(FaultConfig(rate_limits={"/admin/v1/*": (1, 60.0)}))

    async def session(client):
        await client.get("/rest/api/3/myself", headers=ALICE, params={"expand": "groups"})
        await client.get("/admin/v1/orgs", headers=BOB)
        await client.get("/admin/v1/orgs", headers=BOB)  # rate limited, never reaches auth
        await client.delete("/rest/api/3/group", headers=ALICE, params={"groupId": "g1"})
        await client.post("/admin/v2/orgs/o1/directories/d1/users/search", headers=BOB, json={})
        await client.post("/rest/api/3/group", headers=ALICE, json={"name": "new"})

    sim.run(session)
    entries = sim.log.entries()
    assert [(e["seq"], e["method"], e["status"], e["credential"], e["fault"]) for e in entries] == [
        (1, "GET", 200, "alice-admin", None),
        (2, "GET", 200, "bob-readonly", None),
        (3, "GET", 429, "anonymous", "rate_limit"),
        (4, "DELETE", 204, "alice-admin", None),
        (5, "POST", 200, "bob-readonly", None),
        (6, "POST", 200, "alice-admin", None),
    ]
    assert entries[0]["path"] == "/rest/api/3/myself" and entries[0]["query"] == "expand=groups"
    assert not any("tok-" in json.dumps(e) for e in entries)
    assert [(e["method"], e["path"]) for e in sim.log.writes()] == [
        ("DELETE", "/rest/api/3/group"),
        ("POST", "/rest/api/3/group"),
    ]
    counts = sim.log.counts()
    assert counts["total"] == 6 and counts["writes"] == 2
    assert counts["by_method"] == {"GET": 3, "DELETE": 1, "POST": 2}
    assert counts["by_status"] == {200: 4, 429: 1, 204: 1}
    assert counts["by_fault"] == {"rate_limit": 1}


def test_log_is_bounded_but_counters_are_not_and_it_can_write_json_lines(tmp_path):
    sim = Sim(FaultConfig(), RequestLog(maxlen=3, path=tmp_path / "requests.jsonl"))
    sim.run(lambda client: _get_n(client, 5))
    assert [e["seq"] for e in sim.log.entries()] == [3, 4, 5]
    assert sim.log.counts()["total"] == 5
    sim.log.close()
    lines = (tmp_path / "requests.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4, 5]
    sim.log.clear()
    assert sim.log.entries() == [] and sim.log.counts()["total"] == 0


async def _get_n(client, n):
    for _ in range(n):
        await client.get("/rest/api/3/myself")


def test_fault_middleware_refuses_to_run_unlogged():
    log = RequestLog()
    unlogged = FaultMiddleware(Starlette(routes=ROUTES), FaultConfig(), log)

    async def once():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=unlogged), base_url="http://sim") as client:
            await client.get("/rest/api/3/myself")

    with pytest.raises(RuntimeError, match="RequestLogMiddleware"):
        asyncio.run(once())


def test_product_kind_by_path():
    assert product_kind("/admin/v1/orgs") == "admin"
    assert product_kind("/sites/acme/wiki/api/v2/spaces") == "confluence_v2"
    assert product_kind("/wiki/rest/api/group") == "confluence"
    assert product_kind("/rest/api/3/myself") == "jira"


def test_a_rate_limited_answer_dates_retry_after_on_the_same_clock_as_its_date_header():
    """Issue 14 #11: the served simulator's Date is the organization's simulated clock; an HTTP-date
    Retry-After on the wall clock made a client that measures one against the other wait its full cap."""
    from atlassian_simulator.core import Simulator

    sim = Simulator.generate("tiny", seed=7)
    sim.faults.rate_limits = {"*/rest/api/3/*": (1, 30.0)}
    sim.faults.retry_after_format = "http-date"
    path = f"/site/{sim.orgs[0].sites[0].name}/rest/api/3/serverInfo"

    async def twice():
        async with sim.client() as client:
            return [await client.get(path, auth=sim.auth()) for _ in range(2)]

    ok, limited = asyncio.run(twice())
    assert (ok.status_code, limited.status_code) == (200, 429)
    date = parsedate_to_datetime(limited.headers["date"])
    assert date == parsedate_to_datetime(ok.headers["date"]) == sim.orgs[0].clock.replace(microsecond=0)
    assert (parsedate_to_datetime(limited.headers["retry-after"]) - date).total_seconds() == 30
