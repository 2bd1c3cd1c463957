"""Contract: the Confluence Cloud, Confluence Data Center and site-extra endpoints vs. the official specs.

On a tiny and a small organization set (seed 7, three orgs: exposed, hardened, unguarded)
every served endpoint is called — the first page and a later page of the paged ones, and a
representative of each id-parameterised path — on the site, through the scoped-token
gateway (Confluence Cloud) and on the Confluence DC instance. Each response whose path a
spec covers must validate (`validate(...) == []`); the endpoints no spec covers are
collected and must be exactly `UNCOVERED` (the list the README carries). A last check makes
sure no route of the three modules went uncalled.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pytest
from atlassian_simulator.core import SIM_BASE, Simulator
from atlassian_simulator.server.routes import confluence, dc_confluence, site

from tests.contract.spec_index import locate, validate

SIZES = ("tiny", "small")

#: Endpoints no published OpenAPI document describes (method, route as mounted).
UNCOVERED = {
    ("GET", "/site/{site}/_edge/tenant_info"),
    # the legacy v1 space list (expand=permissions) left the current C1 document (checks.md POSTURE-031)
    ("GET", "/site/{site}/wiki/rest/api/space"),
    ("GET", "/gateway/ex/confluence/{cloud_id}/wiki/rest/api/space"),
    ("GET", "/site/{site}/rest/plugins/1.0/"),
    ("GET", "/site/{site}/rest/plugins/1.0"),
    ("GET", "/site/{site}/rest/plugins/1.0/{plugin_key}-key"),
    ("GET", "/site/{site}/rest/plugins/latest/"),
    ("GET", "/site/{site}/rest/plugins/latest"),
    ("GET", "/site/{site}/rest/plugins/latest/{plugin_key}-key"),
    ("GET", "/site/{site}/wiki/rest/plugins/1.0/"),
    ("GET", "/site/{site}/wiki/rest/plugins/1.0"),
    ("GET", "/site/{site}/wiki/rest/plugins/1.0/{plugin_key}-key"),
    ("GET", "/site/{site}/wiki/rest/plugins/latest/"),
    ("GET", "/site/{site}/wiki/rest/plugins/latest"),
    ("GET", "/site/{site}/wiki/rest/plugins/latest/{plugin_key}-key"),
    ("GET", "/dc/{instance}/confluence/rest/auditing/1.0/events"),
    ("GET", "/dc/{instance}/confluence/rest/plugins/1.0/"),
    ("GET", "/dc/{instance}/confluence/rest/plugins/1.0"),
    ("GET", "/dc/{instance}/confluence/rest/plugins/1.0/installed-marketplace"),
    ("GET", "/dc/{instance}/confluence/rest/plugins/1.0/{plugin_key}-key"),
    ("GET", "/dc/{instance}/confluence/rest/plugins/latest/"),
    ("GET", "/dc/{instance}/confluence/rest/plugins/latest"),
    ("GET", "/dc/{instance}/confluence/rest/plugins/latest/installed-marketplace"),
    ("GET", "/dc/{instance}/confluence/rest/plugins/latest/{plugin_key}-key"),
}


@functools.cache
def simulator(size: str) -> Simulator:
    """Every site in space-roles mode and still answering the v1 space list, so every route answers 200
    (the shapes that turn reads off are the route tests' and the connector tests' business)."""
    sim = Simulator.generate(size, seed=7, orgs=3)
    for org in sim.orgs:
        for cloud_site in org.sites:
            cloud_site.confluence.role_mode, cloud_site.confluence.legacy_api = "ROLES", True
    return sim


@dataclass(frozen=True)
class Call:
    route: str  # the route as mounted, e.g. /site/{site}/wiki/rest/api/group
    url: str  # absolute URL of the first request
    label: str  # credential label
    paging: str | None = None  # v1 | v2 | dc_audit: fetch a later page too
    method: str = "GET"
    body: dict | None = None


def calls(sim: Simulator, oi: int) -> list[Call]:
    org = sim.orgs[oi]
    urls = sim.urls(org=oi)
    s = org.sites[0]
    site_url = urls["sites"][0]
    scoped = urls["scoped"][s.name]["confluence"]
    dc_url = urls["dc"]["confluence"]
    dc = next(d for d in org.dc if d.product == "confluence")
    reader = sim.credential("site-admin-token", oi).account_id
    busy_group = max(org.groups, key=lambda g: (len(org.memberships[g.group_id]), g.name))
    space = s.confluence.spaces[0]
    dc_team = max(dc.groups, key=lambda g: (len(dc.memberships.get(g, [])), g))
    dc_member = dc.memberships[dc_team][0]  # a username in several groups
    jira_app = next(a for a in s.jira_apps if a.framework == "connect")
    conf_app = next(a for a in s.confluence_apps if a.framework == "connect")
    dc_app = next(a for a in dc.apps if a.user_installed)
    S, D = "/site/{site}", "/dc/{instance}/confluence"

    out: list[Call] = []
    for base, prefix, label in ((site_url, S, "site-admin-token"), (scoped, "/gateway/ex/confluence/{cloud_id}",
                                                                      "scoped-admin-token")):
        w = prefix + "/wiki"
        out += [
            Call(f"{w}/rest/api/group", f"{base}/wiki/rest/api/group?limit=3", label, "v1"),
            Call(f"{w}/rest/api/group/by-id", f"{base}/wiki/rest/api/group/by-id?id={busy_group.group_id}", label),
            Call(f"{w}/rest/api/group/{{groupId}}/membersByGroupId",
                 f"{base}/wiki/rest/api/group/{busy_group.group_id}/membersByGroupId?limit=2&shouldReturnTotalSize=true",
                 label, "v1"),
            Call(f"{w}/rest/api/search/user", f"{base}/wiki/rest/api/search/user?cql=type%3Duser&limit=3", label, "v1"),
            Call(f"{w}/rest/api/user", f"{base}/wiki/rest/api/user?accountId={reader}", label),
            Call(f"{w}/rest/api/user/memberof", f"{base}/wiki/rest/api/user/memberof?accountId={reader}&limit=1",
                 label, "v1"),
            Call(f"{w}/rest/api/user/bulk",
                 f"{base}/wiki/rest/api/user/bulk?accountId={reader},{org.accounts[-1].account_id}", label),
            Call(f"{w}/rest/api/audit", f"{base}/wiki/rest/api/audit?limit=7", label, "v1"),
            Call(f"{w}/rest/api/audit/retention", f"{base}/wiki/rest/api/audit/retention", label),
            Call(f"{w}/rest/api/settings/systemInfo", f"{base}/wiki/rest/api/settings/systemInfo", label),
            Call(f"{w}/rest/api/space", f"{base}/wiki/rest/api/space?expand=permissions&limit=2", label, "v1"),
            Call(f"{w}/api/v2/spaces", f"{base}/wiki/api/v2/spaces?limit=2&description-format=plain&include-icon=true",
                 label, "v2"),
            Call(f"{w}/api/v2/spaces/{{id}}",
                 f"{base}/wiki/api/v2/spaces/{space.space_id}?include-permissions=true&include-labels=true", label),
            Call(f"{w}/api/v2/spaces/{{id}}/permissions", f"{base}/wiki/api/v2/spaces/{space.space_id}/permissions?limit=5",
                 label, "v2"),
            Call(f"{w}/api/v2/spaces/{{id}}/role-assignments",
                 f"{base}/wiki/api/v2/spaces/{space.space_id}/role-assignments?limit=2", label, "v2"),
            Call(f"{w}/api/v2/space-roles", f"{base}/wiki/api/v2/space-roles?limit=1", label, "v2"),
            Call(f"{w}/api/v2/space-roles/{{id}}", f"{base}/wiki/api/v2/space-roles/{s.confluence.space_roles[0].role_id}",
                 label),
            Call(f"{w}/api/v2/space-permissions", f"{base}/wiki/api/v2/space-permissions?limit=4", label, "v2"),
            Call(f"{w}/api/v2/space-role-mode", f"{base}/wiki/api/v2/space-role-mode", label),
            Call(f"{w}/api/v2/users-bulk", f"{base}/wiki/api/v2/users-bulk", label, method="POST",
                 body={"accountIds": [a.account_id for a in org.accounts[:7]]}),
        ]
    admin = "site-admin-token"
    for context, _apps, app in (("", s.jira_apps, jira_app), ("/wiki", s.confluence_apps, conf_app)):
        for version in ("1.0", "latest"):
            route = f"{S}{context}/rest/plugins/{version}"
            url = f"{site_url}{context}/rest/plugins/{version}"
            out += [
                Call(f"{route}/", f"{url}/", admin),
                Call(route, url, admin),
                Call(f"{route}/{{plugin_key}}-key", f"{url}/{app.key}-key", admin),
            ]
    out.append(Call(f"{S}/_edge/tenant_info", f"{site_url}/_edge/tenant_info", admin))

    pat = "dc-admin-pat"
    out += [
        Call(f"{D}/rest/api/user/list", f"{dc_url}/rest/api/user/list?limit=4&expand=status", pat, "v1"),
        Call(f"{D}/rest/api/user/current", f"{dc_url}/rest/api/user/current", pat),
        Call(f"{D}/rest/api/user", f"{dc_url}/rest/api/user?username={dc_member}&expand=status,details.personal", pat),
        Call(f"{D}/rest/api/user/memberof", f"{dc_url}/rest/api/user/memberof?username={dc_member}&limit=1", pat, "v1"),
        Call(f"{D}/rest/api/group", f"{dc_url}/rest/api/group?limit=2", pat, "v1"),
        Call(f"{D}/rest/api/group/{{groupName}}/member", f"{dc_url}/rest/api/group/{dc_team}/member?limit=2", pat, "v1"),
        Call(f"{D}/rest/api/space", f"{dc_url}/rest/api/space?limit=2", pat, "v1"),
        Call(f"{D}/rest/api/space/{{spaceKey}}/permissions", f"{dc_url}/rest/api/space/{dc.confluence.spaces[0].key}/permissions",
             pat),
        Call(f"{D}/rest/api/space/{{spaceKey}}/permissions/anonymous",
             f"{dc_url}/rest/api/space/{dc.confluence.spaces[2].key}/permissions/anonymous", pat),
        Call(f"{D}/rest/api/permissions", f"{dc_url}/rest/api/permissions", pat),
        Call(f"{D}/rest/api/permissions/anonymous", f"{dc_url}/rest/api/permissions/anonymous", pat),
        Call(f"{D}/rest/api/permissions/unlicensed", f"{dc_url}/rest/api/permissions/unlicensed", pat),
        Call(f"{D}/rest/api/server-information", f"{dc_url}/rest/api/server-information", pat),
        Call(f"{D}/rest/api/accessmode", f"{dc_url}/rest/api/accessmode", pat),
        Call(f"{D}/rest/api/audit", f"{dc_url}/rest/api/audit?limit=5", pat, "v1"),
        Call(f"{D}/rest/auditing/1.0/events", f"{dc_url}/rest/auditing/1.0/events?limit=5", pat, "dc_audit"),
    ]
    for version in ("1.0", "latest"):
        route, url = f"{D}/rest/plugins/{version}", f"{dc_url}/rest/plugins/{version}"
        out += [
            Call(f"{route}/", f"{url}/", pat),
            Call(route, url, pat),
            Call(f"{route}/installed-marketplace", f"{url}/installed-marketplace?updates=true", pat),
            Call(f"{route}/{{plugin_key}}-key", f"{url}/{dc_app.key}-key", pat),
        ]
    return out


def later_page_url(call: Call, body) -> str | None:
    """Where a client goes for the next page, by the endpoint's paging style."""
    if call.paging == "v1":
        links = body["_links"]
        return links["base"] + links["next"] if "next" in links else None
    if call.paging == "v2":
        links = body["_links"]
        if "next" not in links:
            return None
        root = links["base"][: -len("/wiki")]
        return root + links["next"]
    if call.paging == "dc_audit":
        cursor = body["pagingInfo"].get("nextPageCursor")
        if cursor is None:
            return None
        parts = urlsplit(call.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}?" + urlencode({"limit": 5, "pageCursor": cursor})
    return None


async def run_calls(sim: Simulator) -> tuple[list[str], set[tuple[str, str]], set[tuple[str, str]]]:
    """(problems, uncovered endpoints, routes exercised)."""
    problems: list[str] = []
    uncovered: set[tuple[str, str]] = set()
    exercised: set[tuple[str, str]] = set()
    async with sim.client() as client:
        for oi in range(len(sim.orgs)):
            for call in calls(sim, oi):
                exercised.add((call.method, call.route))
                url = call.url
                pages = 0
                while url is not None and pages < 2:
                    pages += 1
                    auth = sim.auth(call.label, oi)
                    if call.method == "POST":
                        response = await client.post(url, json=call.body, auth=auth)
                    else:
                        response = await client.get(url, auth=auth)
                    path = urlsplit(url).path
                    where = f"org {oi} {call.method} {url.replace(SIM_BASE, '')}"
                    if response.status_code != 200:
                        problems.append(f"{where}: HTTP {response.status_code} {response.text[:200]}")
                        break
                    body = response.json()
                    match = locate(call.method, path)
                    if match is None:
                        uncovered.add((call.method, call.route))
                    else:
                        errors = validate(match.spec, match.template, call.method, response.status_code, body)
                        problems += [f"{where} [{match.spec} {match.template}]: {e}" for e in errors]
                    next_url = later_page_url(call, body) if call.paging else None
                    if call.paging and pages == 1 and next_url is None:
                        problems.append(f"{where}: expected a later page (choose a smaller limit)")
                    url = next_url
    return problems, uncovered, exercised


def mounted_routes() -> set[tuple[str, str]]:
    """Every (method, mounted path) the three modules serve, as the app mounts them."""
    out = set()
    for prefixes, routes in (
        (("/site/{site}", "/gateway/ex/confluence/{cloud_id}"), confluence.ROUTES),
        (("/site/{site}",), site.ROUTES),
        (("/dc/{instance}",), dc_confluence.ROUTES),
    ):
        for route in routes:
            for method in route.methods - {"HEAD"}:
                for prefix in prefixes:
                    out.add((method, prefix + route.path))
    return out


@pytest.mark.parametrize("size", SIZES)
def test_every_endpoint_matches_its_spec(size):
    sim = simulator(size)
    assert [o.config["profile"] for o in sim.orgs] == ["exposed", "hardened", "unguarded"]
    problems, uncovered, exercised = asyncio.run(run_calls(sim))
    assert problems == []
    print(f"\nendpoints covered by no spec ({size}):")
    for method, route in sorted(uncovered, key=lambda mr: (mr[1], mr[0])):
        print(f"  {method} {route}")
    assert uncovered == UNCOVERED
    assert exercised == mounted_routes(), "a served route was not exercised by the contract test"
