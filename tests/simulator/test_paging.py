"""Each Atlassian pagination style, walked the way a correct client walks it.

A tiny Starlette app serves 23 items through every style (from a lazy sequence that
refuses to be iterated whole), wrapped in the request log and fault middlewares exactly
as the simulator is, and called in-process through httpx.ASGITransport.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from atlassian_simulator.server import paging
from atlassian_simulator.server.faults import FaultConfig, FaultMiddleware
from atlassian_simulator.server.log import RequestLog, RequestLogMiddleware
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, Route

N = 23
DEFAULT = 5
CAP = 10
BASE = "http://sim"
SITE = "http://sim/sites/acme"  # Confluence is mounted under a prefix, as the simulator may do


class LazyItems(Sequence):
    """Supports len() and slicing only, like the simulator's generated audit logs."""

    def __init__(self, values):
        self._values = list(values)

    def __len__(self):
        return len(self._values)

    def __getitem__(self, item):
        if not isinstance(item, slice):
            raise AssertionError("paging must slice, not index")
        return self._values[item]

    def __iter__(self):
        raise AssertionError("paging must never iterate the whole sequence")

    def __contains__(self, value):
        raise AssertionError("paging must never search the whole sequence")


ITEMS = LazyItems(range(N))


def render(i: int) -> dict:
    return {"id": i}


def _odd_search(state: dict) -> LazyItems:
    return LazyItems([i for i in range(N) if i % 2 == 1]) if state.get("q") == "odd" else ITEMS


async def admin_v2_search(request: Request):
    """Admin v2 POST search: the filter travels in the cursor, other body fields are ignored then."""
    body = await request.json()
    if body.get("cursor"):
        try:
            state = paging.decode_cursor(body["cursor"])
        except paging.InvalidCursor:
            return paging.error_response("admin", 400, "Invalid page cursor", code=paging.ADMIN_INVALID_CURSOR)
    else:
        state = {"q": body.get("searchTerm")}
    return paging.admin_v2(body, _odd_search(state), render, DEFAULT, CAP, cursor_state={"q": state.get("q")})


def build_app():
    def route(path, handler, methods=("GET",)):
        return Route(path, handler, methods=list(methods))

    wiki = [
        route("/wiki/rest/api/group", lambda r: paging.confluence_v1(r, ITEMS, render, DEFAULT, CAP)),
        route("/wiki/api/v2/spaces", lambda r: paging.confluence_v2(r, ITEMS, render, DEFAULT, CAP)),
    ]
    routes = [
        route("/rest/api/3/group/bulk", lambda r: paging.page_bean(r, ITEMS, render, DEFAULT, CAP)),
        route("/rest/api/3/users/search", lambda r: paging.bare_array(r, ITEMS, render, DEFAULT, CAP)),
        route("/rest/api/3/auditing/record", lambda r: paging.audit_offset(r, ITEMS, render, DEFAULT, CAP)),
        route("/rest/api/2/user/list", lambda r: paging.dc_stream(r, ITEMS, render, DEFAULT, CAP)),
        route("/rest/auditing/1.0/events", lambda r: paging.dc_audit(r, ITEMS, render, DEFAULT, CAP)),
        route("/admin/v1/orgs/o1/users", lambda r: paging.admin_v1(r, ITEMS, render, DEFAULT, CAP, meta={"total": N})),
        route("/admin/v1/orgs/o1/events", lambda r: paging.admin_v1(r, ITEMS, render, DEFAULT, CAP, meta_next=True)),
        route("/admin/v2/orgs/o1/directories/d1/users", lambda r: paging.admin_v2(r, ITEMS, render, DEFAULT, CAP)),
        route("/admin/v2/orgs/o1/directories/d1/users/search", admin_v2_search, methods=("POST",)),
        Mount("/sites/acme", routes=wiki),
    ]
    log = RequestLog()
    return RequestLogMiddleware(FaultMiddleware(Starlette(routes=routes), FaultConfig(), log), log), log


def run(scenario):
    """Run `scenario(client)` against a fresh app; returns its result."""

    async def main():
        app, _ = build_app()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            return await scenario(client)

    return asyncio.run(main())


def ok_json(response: httpx.Response):
    assert response.status_code == 200, response.text
    return response.json()


# --- correct walkers, one per style -------------------------------------------------------------


async def walk_page_bean(client):
    seen, url = [], "/rest/api/3/group/bulk"
    while True:
        page = ok_json(await client.get(url))
        seen += [v["id"] for v in page["values"]]
        if page["isLast"]:
            assert "nextPage" not in page
            return seen
        url = page["nextPage"]


async def walk_bare_array(client):
    seen, start = [], 0
    while True:
        page = ok_json(await client.get("/rest/api/3/users/search", params={"startAt": start, "maxResults": 7}))
        if not page:
            return seen
        seen += [v["id"] for v in page]
        start += len(page)


async def walk_audit_offset(client):
    seen, offset = [], 0
    while True:
        page = ok_json(await client.get("/rest/api/3/auditing/record", params={"offset": offset}))
        seen += [v["id"] for v in page["records"]]
        offset = page["offset"] + len(page["records"])
        if not page["records"] or offset >= page["total"]:
            return seen


async def walk_confluence_v1(client):
    seen, url = [], f"{SITE}/wiki/rest/api/group?limit=4"
    while True:
        page = ok_json(await client.get(url))
        seen += [v["id"] for v in page["results"]]
        links = page["_links"]
        if "next" not in links:
            return seen
        url = links["base"] + links["next"]  # v1: next is relative to base (which ends in /wiki)


async def walk_confluence_v2(client):
    seen, url = [], f"{SITE}/wiki/api/v2/spaces?limit=4"
    while True:
        response = await client.get(url)
        page = ok_json(response)
        seen += [v["id"] for v in page["results"]]
        nxt = page["_links"].get("next")
        if nxt is None:
            assert "link" not in response.headers
            return seen
        assert response.links["next"]["url"] == nxt
        url = SITE + nxt  # v2: next is relative to the site and starts with /wiki


async def walk_admin_v1(client):
    seen, url = [], "/admin/v1/orgs/o1/users"
    while True:
        page = ok_json(await client.get(url))
        seen += [v["id"] for v in page["data"]]
        if "next" not in page["links"]:
            return seen
        url = page["links"]["next"]


async def walk_admin_v1_events(client):
    seen, params = [], {"limit": 6}
    while True:
        page = ok_json(await client.get("/admin/v1/orgs/o1/events", params=params))
        seen += [v["id"] for v in page["data"]]
        if "next" not in page["meta"]:
            return seen
        params = {"limit": 6, "cursor": page["meta"]["next"]}


async def walk_admin_v2(client):
    seen, params = [], {}
    while True:
        page = ok_json(await client.get("/admin/v2/orgs/o1/directories/d1/users", params=params))
        seen += [v["id"] for v in page["data"]]
        if "next" not in page["links"]:
            return seen
        params = {"cursor": page["links"]["next"]}


async def walk_dc_stream(client):
    seen, params = [], {"maxResults": 6}
    while True:
        page = ok_json(await client.get("/rest/api/2/user/list", params=params))
        seen += [v["id"] for v in page["values"]]
        if page["isLast"]:
            return seen
        params = {"maxResults": 6, "cursor": page["nextCursor"]}


async def walk_dc_audit(client):
    seen, params = [], {"limit": 6}
    while True:
        page = ok_json(await client.get("/rest/auditing/1.0/events", params=params))
        seen += [v["id"] for v in page["entities"]]
        if page["pagingInfo"]["lastPage"]:
            return seen
        params = {"limit": 6, "pageCursor": page["pagingInfo"]["nextPageCursor"]}


WALKERS = [
    walk_page_bean,
    walk_bare_array,
    walk_audit_offset,
    walk_confluence_v1,
    walk_confluence_v2,
    walk_admin_v1,
    walk_admin_v1_events,
    walk_admin_v2,
    walk_dc_stream,
    walk_dc_audit,
]


@pytest.mark.parametrize("walker", WALKERS, ids=lambda w: w.__name__.removeprefix("walk_"))
def test_walking_each_style_yields_every_item_once_in_order(walker):
    assert run(walker) == list(range(N))


def test_admin_v2_search_keeps_its_filter_in_the_cursor_and_ignores_body_filters():
    async def scenario(client):
        url = "/admin/v2/orgs/o1/directories/d1/users/search"
        seen, body = [], {"searchTerm": "odd", "limit": 3}
        while True:
            page = ok_json(await client.post(url, json=body))
            seen += [v["id"] for v in page["data"]]
            if "next" not in page["links"]:
                return seen
            # a conflicting filter next to the cursor must be ignored, as the Admin API does
            body = {"cursor": page["links"]["next"], "searchTerm": "all", "limit": 3}

    assert run(scenario) == [i for i in range(N) if i % 2 == 1]


# --- page size caps -----------------------------------------------------------------------------


def test_asking_more_than_the_cap_is_silently_cut_and_reported():
    async def scenario(client):
        bean = ok_json(await client.get("/rest/api/3/group/bulk", params={"maxResults": 1000}))
        assert (len(bean["values"]), bean["maxResults"]) == (CAP, CAP)
        assert parse_qs(urlsplit(bean["nextPage"]).query) == {"maxResults": ["10"], "startAt": ["10"]}

        assert len(ok_json(await client.get("/rest/api/3/users/search", params={"maxResults": 1000}))) == CAP

        audit = ok_json(await client.get("/rest/api/3/auditing/record", params={"limit": 1000}))
        assert (len(audit["records"]), audit["limit"]) == (CAP, CAP)

        v1 = ok_json(await client.get(f"{SITE}/wiki/rest/api/group", params={"limit": 1000}))
        assert (len(v1["results"]), v1["limit"], v1["size"]) == (CAP, CAP, CAP)

        v2 = ok_json(await client.get(f"{SITE}/wiki/api/v2/spaces", params={"limit": 1000}))
        assert len(v2["results"]) == CAP

        events = ok_json(await client.get("/admin/v1/orgs/o1/events", params={"limit": 1000}))
        assert (len(events["data"]), events["meta"]["page_size"]) == (CAP, CAP)

        v2_users = ok_json(await client.get("/admin/v2/orgs/o1/directories/d1/users", params={"limit": 1000}))
        assert len(v2_users["data"]) == CAP

        stream = ok_json(await client.get("/rest/api/2/user/list", params={"maxResults": 1000}))
        assert (len(stream["values"]), stream["maxResults"]) == (CAP, CAP)

        dc = ok_json(await client.get("/rest/auditing/1.0/events", params={"limit": 1000}))
        assert (len(dc["entities"]), dc["pagingInfo"]["limit"], dc["pagingInfo"]["size"]) == (CAP, CAP, CAP)

    run(scenario)


def test_a_client_advancing_by_the_size_it_asked_for_loses_rows():
    async def naive(client):
        seen, start, asked = [], 0, 20
        while True:
            page = ok_json(await client.get("/rest/api/3/users/search", params={"startAt": start, "maxResults": asked}))
            if not page:
                return seen
            seen += [v["id"] for v in page]
            start += asked  # wrong: the server served only CAP rows

    seen = run(naive)
    assert seen == list(range(10)) + [20, 21, 22]
    assert set(range(N)) - set(seen) == set(range(10, 20))


def test_defaults_apply_without_parameters_and_audit_limit_zero_falls_back():
    async def scenario(client):
        bean = ok_json(await client.get("/rest/api/3/group/bulk"))
        assert (bean["startAt"], bean["maxResults"], bean["total"], bean["isLast"]) == (0, DEFAULT, N, False)
        audit = ok_json(await client.get("/rest/api/3/auditing/record", params={"limit": 0}))
        assert audit["limit"] == DEFAULT and len(audit["records"]) == DEFAULT
        past_end = ok_json(await client.get("/rest/api/3/group/bulk", params={"startAt": 500}))
        assert past_end["values"] == [] and past_end["isLast"] is True and "nextPage" not in past_end

    run(scenario)


# --- style-specific shapes ----------------------------------------------------------------------


def test_page_bean_envelope_and_next_page_url():
    async def scenario(client):
        response = await client.get("/rest/api/3/group/bulk", params={"startAt": 20, "maxResults": 2, "x": "y"})
        assert list(ok_json(response)) == ["self", "nextPage", "maxResults", "startAt", "total", "isLast", "values"]
        page = response.json()
        assert page["self"] == "http://sim/rest/api/3/group/bulk?startAt=20&maxResults=2&x=y"
        assert page["nextPage"] == "http://sim/rest/api/3/group/bulk?startAt=22&maxResults=2&x=y"
        last = ok_json(await client.get(page["nextPage"]))
        assert last["values"] == [{"id": 22}] and last["isLast"] is True and "nextPage" not in last

    run(scenario)


def test_confluence_v1_links_and_total_size():
    async def scenario(client):
        page = ok_json(await client.get(f"{SITE}/wiki/rest/api/group", params={"limit": 4, "expand": "x"}))
        assert "totalSize" not in page
        assert page["_links"] == {
            "base": "http://sim/sites/acme/wiki",
            "context": "/wiki",
            "self": "http://sim/sites/acme/wiki/rest/api/group?limit=4&expand=x",
            "next": "/rest/api/group?limit=4&expand=x&start=4",
        }
        counted = ok_json(await client.get(f"{SITE}/wiki/rest/api/group?start=20&shouldReturnTotalSize=true"))
        assert (counted["totalSize"], counted["size"], counted["start"]) == (N, 3, 20)
        assert "next" not in counted["_links"]

    run(scenario)


def test_confluence_v2_link_header_keeps_other_params_and_vanishes_on_last_page():
    async def scenario(client):
        response = await client.get(f"{SITE}/wiki/api/v2/spaces", params={"status": "current", "limit": 10})
        page = ok_json(response)
        nxt = page["_links"]["next"]
        assert nxt.startswith("/wiki/api/v2/spaces?status=current&limit=10&cursor=")
        assert response.headers["link"] == f'<{nxt}>; rel="next"'
        assert page["_links"]["base"] == "http://sim/sites/acme/wiki"
        second = ok_json(await client.get(SITE + nxt))
        last = await client.get(SITE + second["_links"]["next"])
        assert [v["id"] for v in ok_json(last)["results"]] == [20, 21, 22]
        assert "next" not in last.json()["_links"] and "link" not in last.headers

    run(scenario)


def test_admin_v1_next_is_an_absolute_url_and_events_carry_meta_next():
    async def scenario(client):
        users = ok_json(await client.get("/admin/v1/orgs/o1/users"))
        assert users["links"]["self"] == "http://sim/admin/v1/orgs/o1/users"
        assert users["links"]["next"].startswith("http://sim/admin/v1/orgs/o1/users?cursor=")
        assert users["meta"] == {"total": N}
        events = ok_json(await client.get("/admin/v1/orgs/o1/events", params={"limit": 9}))
        assert events["links"]["next"] == f"http://sim/admin/v1/orgs/o1/events?limit=9&cursor={events['meta']['next']}"
        assert events["meta"]["page_size"] == 9
        second = ok_json(await client.get(events["links"]["next"]))
        last = ok_json(await client.get(second["links"]["next"]))
        assert [e["id"] for e in last["data"]] == [18, 19, 20, 21, 22]
        assert "next" not in last["links"] and "next" not in last["meta"]

    run(scenario)


def test_admin_v2_links_are_bare_cursor_tokens():
    async def scenario(client):
        page = ok_json(await client.get("/admin/v2/orgs/o1/directories/d1/users"))
        assert "/" not in page["links"]["next"] and "/" not in page["links"]["self"]
        assert paging.decode_cursor(page["links"]["next"]) == {"o": DEFAULT}

    run(scenario)


def test_dc_stream_never_404s_on_an_unknown_cursor():
    async def scenario(client):
        page = ok_json(await client.get("/rest/api/2/user/list", params={"cursor": 999}))
        assert page["values"] == [] and page["isLast"] is True and "nextCursor" not in page
        first = ok_json(await client.get("/rest/api/2/user/list"))
        assert first["nextCursor"] == str(DEFAULT)
        assert first["nextPage"] == "http://sim/rest/api/2/user/list?cursor=5&maxResults=5"

    run(scenario)


def test_dc_audit_reports_offset_only_when_offset_paged():
    async def scenario(client):
        by_offset = ok_json(await client.get("/rest/auditing/1.0/events", params={"offset": 20}))
        assert by_offset["pagingInfo"] == {"limit": DEFAULT, "offset": 20, "size": 3, "lastPage": True}
        first = ok_json(await client.get("/rest/auditing/1.0/events"))
        by_cursor = ok_json(
            await client.get("/rest/auditing/1.0/events", params={"pageCursor": first["pagingInfo"]["nextPageCursor"]})
        )
        assert "offset" not in by_cursor["pagingInfo"]
        assert [e["id"] for e in by_cursor["entities"]] == [5, 6, 7, 8, 9]

    run(scenario)


# --- errors and determinism ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected",
    [
        ("/rest/api/3/group/bulk?startAt=-1", "jira"),
        ("/rest/api/3/group/bulk?maxResults=ten", "jira"),
        ("/rest/api/3/users/search?startAt=1.5", "jira"),
        ("/rest/api/3/auditing/record?offset=x", "jira"),
        ("/rest/api/2/user/list?cursor=abc", "jira"),
        ("/rest/auditing/1.0/events?pageCursor=not-ours", "jira"),
        (f"{SITE}/wiki/rest/api/group?start=-3", "confluence"),
        (f"{SITE}/wiki/api/v2/spaces?cursor=%25%25%25", "confluence_v2"),
        (f"{SITE}/wiki/api/v2/spaces?limit=0", "confluence_v2"),
        ("/admin/v1/orgs/o1/users?cursor=bm90LWpzb24", "admin"),
        ("/admin/v2/orgs/o1/directories/d1/users?cursor=eyJvIjotMX0", "admin"),
    ],
)
def test_invalid_parameters_answer_400_with_the_product_error_body(url, expected):
    async def scenario(client):
        return await client.get(url)

    response = run(scenario)
    assert response.status_code == 400
    body = response.json()
    if expected == "jira":
        assert list(body) == ["errorMessages", "errors"] and body["errors"] == {}
    elif expected == "confluence":
        assert body["statusCode"] == 400 and body["data"]["successful"] is False and body["message"]
    elif expected == "confluence_v2":
        (error,) = body["errors"]
        assert (error["status"], error["code"], error["detail"]) == (400, "INVALID_REQUEST_PARAMETER", None)
    else:
        (error,) = body["errors"]
        assert error["status"] == "400" and error["code"] == "ADMIN-400-1" and error["title"]


def test_responses_are_byte_identical_and_compact():
    async def scenario(client):
        first = await client.get("/rest/api/3/group/bulk", params={"startAt": 3})
        second = await client.get("/rest/api/3/group/bulk", params={"startAt": 3})
        return first.content, second.content

    first, second = run(scenario)
    assert first == second
    assert b", " not in first and b'": ' not in first
    assert first == json.dumps(json.loads(first), separators=(",", ":")).encode()


def test_cursor_round_trip_and_rejection():
    token = paging.encode_cursor({"o": 40, "q": {"status": ["active"]}})
    assert "=" not in token and paging.decode_cursor(token) == {"o": 40, "q": {"status": ["active"]}}
    for bad in ["", "!!", "bm90LWpzb24", "WzFd", "a b"]:  # empty, bad alphabet, not JSON, a list, space
        with pytest.raises(paging.InvalidCursor):
            paging.decode_cursor(bad)


def test_error_bodies_follow_each_product():
    assert paging.error_body("jira", 404, "No group") == {"errorMessages": ["No group"], "errors": {}}
    assert paging.error_body("confluence", 403, "Denied") == {
        "statusCode": 403,
        "data": {"authorized": False, "valid": True, "errors": [], "successful": False},
        "message": "Denied",
    }
    assert paging.error_body("confluence_v2", 404, "Gone") == {
        "errors": [{"status": 404, "code": "NOT_FOUND", "title": "Gone", "detail": None}]
    }
    assert paging.error_body("admin", 429, "Slow down") == {
        "errors": [{"status": "429", "code": "ADMIN-429-1", "title": "Slow down"}]
    }
    with pytest.raises(ValueError):
        paging.error_body("bitbucket", 500, "?")


def test_site_url_helpers_strip_the_wiki_context():
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "path": "/sites/acme/wiki/rest/api/group",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:8765")],
        }
    )
    assert paging.site_url(request) == "http://127.0.0.1:8765/sites/acme"
    assert paging.wiki_base_url(request) == "http://127.0.0.1:8765/sites/acme/wiki"
