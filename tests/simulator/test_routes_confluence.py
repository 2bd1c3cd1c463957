"""Behaviour of the Confluence Cloud, Confluence DC and site-extra routes.

Each paging style walked to the end returns exactly the model's rows; an over-large page
size is silently cut to the endpoint's cap; bad credentials get 401, plain users 403 on
admin endpoints; anonymous callers see what Atlassian shows them; the Free plan has no
Confluence audit log; UPM hides Forge apps on Cloud and is not reachable with a scoped
token; responses are byte-identical for the same state and request.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import httpx
from atlassian_simulator.core import BearerAuth, Simulator
from atlassian_simulator.lazy import PROCESSING_DELAY, AuditEvent, to_ms
from atlassian_simulator.model import SpacePermission


@functools.cache
def shared() -> Simulator:
    """Read-only simulator shared by the tests that do not mutate state (exposed, hardened, unguarded)."""
    return Simulator.generate("tiny", seed=7, orgs=3)


@functools.cache
def every_read() -> Simulator:
    """Org 0 exposed, its site in space-roles mode with every read disclosing every grant (shape `all`)."""
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    confluence = sim.orgs[0].sites[0].confluence
    confluence.role_mode, confluence.legacy_api = "ROLES", True
    for space in confluence.spaces:
        space.shape = "all"
    return sim


def run(coro):
    return asyncio.run(coro)


def site(sim: Simulator, org: int = 0) -> str:
    return sim.urls(org=org)["sites"][0]


def dc(sim: Simulator, org: int = 0) -> str:
    return sim.urls(org=org)["dc"]["confluence"]


async def get(sim: Simulator, url: str, label: str | None = "site-admin-token", org: int = 0, **kwargs):
    async with sim.client() as client:
        auth = sim.auth(label, org) if label else None
        return await client.get(url, auth=auth, **kwargs)


async def walk_v1(sim: Simulator, url: str, label: str = "site-admin-token", org: int = 0) -> tuple[list, list]:
    """Follow `_links.next` (relative to `_links.base`) to the end: (all results, page sizes)."""
    results, sizes = [], []
    async with sim.client() as client:
        while url:
            r = await client.get(url, auth=sim.auth(label, org))
            assert r.status_code == 200, r.text
            body = r.json()
            results += body["results"]
            sizes.append(body["size"])
            assert body["size"] == len(body["results"])
            links = body["_links"]
            url = links["base"] + links["next"] if "next" in links else None
    return results, sizes


async def walk_v2(sim: Simulator, url: str, label: str | None = "site-admin-token", org: int = 0) -> list:
    """Follow `_links.next` (site-relative, starts with /wiki) to the end; checks the Link header agrees."""
    results = []
    async with sim.client() as client:
        while url:
            r = await client.get(url, auth=sim.auth(label, org) if label else None)
            assert r.status_code == 200, r.text
            body = r.json()
            results += body["results"]
            links = body["_links"]
            if "next" in links:
                assert r.headers["link"] == f'<{links["next"]}>; rel="next"'
                url = links["base"][: -len("/wiki")] + links["next"]
            else:
                assert "link" not in r.headers
                url = None
    return results


# --- v1 paging walked to the end ------------------------------------------------------------------


def test_v1_groups_walk_equals_model_sorted_by_name():
    sim = shared()
    org = sim.orgs[0]
    results, sizes = run(walk_v1(sim, site(sim) + "/wiki/rest/api/group?limit=5"))
    expected = sorted(org.groups, key=lambda g: (g.name.lower(), g.group_id))
    assert [g["id"] for g in results] == [g.group_id for g in expected]
    assert all(s == 5 for s in sizes[:-1]) and sizes[-1] <= 5


def test_v1_groups_access_type_filter():
    sim = shared()
    org, s = sim.orgs[0], sim.orgs[0].sites[0]
    conf = f"ari:cloud:confluence::site/{s.cloud_id}"
    for access, role in (("user", "atlassian/user"), ("admin", "atlassian/admin")):
        results, _ = run(walk_v1(sim, site(sim) + f"/wiki/rest/api/group?accessType={access}"))
        assert {g["id"] for g in results} == {g.group_id for g in org.groups if (role, conf) in g.role_assignments}
    results, _ = run(walk_v1(sim, site(sim) + "/wiki/rest/api/group?accessType=site-admin"))
    assert [g["name"] for g in results] == ["site-admins"]
    assert run(get(sim, site(sim) + "/wiki/rest/api/group?accessType=owner")).status_code == 400


def test_v1_group_members_walk_and_total_size():
    sim = shared()
    org = sim.orgs[0]
    group = max(org.groups, key=lambda g: len(org.memberships[g.group_id]))
    url = site(sim) + f"/wiki/rest/api/group/{group.group_id}/membersByGroupId?limit=3"
    results, _ = run(walk_v1(sim, url))
    assert [u["accountId"] for u in results] == org.memberships[group.group_id]
    body = run(get(sim, url + "&shouldReturnTotalSize=true")).json()
    assert body["totalSize"] == len(org.memberships[group.group_id])
    assert "totalSize" not in run(get(sim, url)).json()  # only when asked: it is "expensive"
    assert run(get(sim, site(sim) + "/wiki/rest/api/group/nope/membersByGroupId")).status_code == 404


def test_v1_user_member_of_and_lookups():
    sim = shared()
    org = sim.orgs[0]
    reader = sim.credential("site-admin-token").account_id
    results, _ = run(walk_v1(sim, site(sim) + f"/wiki/rest/api/user/memberof?accountId={reader}&limit=1"))
    assert {g["id"] for g in results} == {g for g, m in org.memberships.items() if reader in m}
    user = run(get(sim, site(sim) + f"/wiki/rest/api/user?accountId={reader}")).json()
    assert user["accountId"] == reader and user["isGuest"] is False
    guest = next(a for a in org.accounts if a.is_guest)
    assert run(get(sim, site(sim) + f"/wiki/rest/api/user?accountId={guest.account_id}")).json()["isGuest"] is True
    assert run(get(sim, site(sim) + "/wiki/rest/api/user?accountId=nobody")).status_code == 404
    ids = [a.account_id for a in org.accounts]
    bulk = run(get(sim, site(sim) + "/wiki/rest/api/user/bulk?" + urlencode({"accountId": ",".join(ids + ["x"])})))
    assert [u["accountId"] for u in bulk.json()["results"]] == ids[:100]


def test_v1_user_search_filters_licensed_users_and_guests():
    sim = shared()
    org, s = sim.orgs[0], sim.orgs[0].sites[0]

    def holders(guest: bool | None):
        return [a.account_id for a in org.accounts if a.account_type == "atlassian"
                and any(p.product_key == "confluence" and p.site_name == s.name for p in a.product_access)
                and (guest is None or a.is_guest == guest)]

    for flt, guest in (("none", False), ("externalCollaborator", True), ("all", None)):
        url = site(sim) + f"/wiki/rest/api/search/user?cql=type%3Duser&limit=4&sitePermissionTypeFilter={flt}"
        results, _ = run(walk_v1(sim, url))
        assert [r["user"]["accountId"] for r in results] == holders(guest)
        body = run(get(sim, url)).json()
        assert body["totalSize"] == len(holders(guest)) and body["cqlQuery"] == "type=user"
    assert run(get(sim, site(sim) + "/wiki/rest/api/search/user?cql=space%3DKB")).status_code == 400
    assert run(get(sim, site(sim) + "/wiki/rest/api/search/user")).status_code == 400


def test_v1_audit_walk_newest_first_without_ids_and_date_filters():
    sim = shared()
    org = sim.orgs[0]
    log = org.sites[0].confluence.audit
    results, _ = run(walk_v1(sim, site(sim) + "/wiki/rest/api/audit?limit=7"))
    window = log.window(org.clock)
    assert len(results) == len(window)
    times = [r["creationDate"] for r in results]
    assert times == sorted(times, reverse=True)
    assert times[0] == to_ms(window[len(window) - 1].time)
    assert all("id" not in r for r in results)
    start, end = to_ms(org.clock - timedelta(days=30)), to_ms(org.clock - timedelta(days=3))
    dated, _ = run(walk_v1(sim, site(sim) + f"/wiki/rest/api/audit?startDate={start}&endDate={end}&limit=10"))
    assert dated and all(start <= r["creationDate"] <= end for r in dated)
    assert len(dated) == len(log.window(org.clock, org.clock - timedelta(days=30), org.clock - timedelta(days=3)))
    hits, _ = run(walk_v1(sim, site(sim) + "/wiki/rest/api/audit?searchString=anonymous"))
    assert hits and all("anonymous" in str(h).lower() for h in hits)
    assert run(get(sim, site(sim) + "/wiki/rest/api/audit?startDate=yesterday")).status_code == 400


def test_v1_audit_cap_silently_lowers_the_page_size():
    sim = Simulator.generate("tiny", seed=7, confluence_audit=1500, dc_audit=1500)
    body = run(get(sim, site(sim) + "/wiki/rest/api/audit?limit=5000")).json()
    assert body["limit"] == 1000 and body["size"] == 1000
    assert "limit=1000" in body["_links"]["next"] and "start=1000" in body["_links"]["next"]
    legacy = run(get(sim, dc(sim) + "/rest/api/audit?limit=5000", "dc-admin-pat")).json()
    assert legacy["limit"] == 1000 and legacy["size"] == 1000
    events = run(get(sim, dc(sim) + "/rest/auditing/1.0/events?limit=5000", "dc-admin-pat")).json()
    assert events["pagingInfo"]["limit"] == 1000 and len(events["entities"]) == 1000


def test_v1_group_cap_silently_lowers_the_page_size():
    sim = Simulator.generate("tiny", seed=7, groups=1100)
    body = run(get(sim, site(sim) + "/wiki/rest/api/group?limit=5000")).json()
    assert body["limit"] == 1000 and body["size"] == 1000 and "next" in body["_links"]


# --- v2 paging and visibility ---------------------------------------------------------------------


def test_v2_spaces_walk_equals_model_sorted_by_id_and_filters():
    sim = shared()
    s = sim.orgs[0].sites[0]
    results = run(walk_v2(sim, site(sim) + "/wiki/api/v2/spaces?limit=2"))
    assert [r["id"] for r in results] == sorted((x.space_id for x in s.confluence.spaces), key=int)
    by_key = run(walk_v2(sim, site(sim) + "/wiki/api/v2/spaces?keys=FIN,KB"))
    assert {r["key"] for r in by_key} == {"FIN", "KB"}
    one = s.confluence.spaces[3]
    assert [r["key"] for r in run(walk_v2(sim, site(sim) + f"/wiki/api/v2/spaces?ids={one.space_id}"))] == [one.key]
    personal = run(walk_v2(sim, site(sim) + "/wiki/api/v2/spaces?type=personal"))
    assert [r["key"] for r in personal] == [x.key for x in s.confluence.spaces if x.space_type == "personal"]
    desc = run(walk_v2(sim, site(sim) + "/wiki/api/v2/spaces?sort=-key"))
    assert [r["key"] for r in desc] == sorted((x.key for x in s.confluence.spaces), reverse=True)
    for bad in ("type=wiki", "status=gone", "ids=abc", "sort=size", "limit=0", "cursor=%%%"):
        assert run(get(sim, site(sim) + f"/wiki/api/v2/spaces?{bad}")).status_code == 400


def test_v2_cap_silently_lowers_the_page_size():
    sim = Simulator.generate("tiny", seed=7, spaces=260)
    r = run(get(sim, site(sim) + "/wiki/api/v2/spaces?limit=1000"))
    body = r.json()
    assert len(body["results"]) == 250 and "next" in body["_links"]
    assert len(run(walk_v2(sim, site(sim) + "/wiki/api/v2/spaces?limit=1000"))) == 260


def test_v2_permissions_and_role_assignments_walk_and_filters():
    sim = every_read()
    s = sim.orgs[0].sites[0]
    space = s.confluence.spaces[0]
    perms = run(walk_v2(sim, site(sim) + f"/wiki/api/v2/spaces/{space.space_id}/permissions?limit=7"))
    assert [p["id"] for p in perms] == [p.permission_id for p in space.permissions]
    assert perms[0]["principal"]["type"] in ("user", "group", "role")
    assigned = run(walk_v2(sim, site(sim) + f"/wiki/api/v2/spaces/{space.space_id}/role-assignments?limit=1"))
    assert [(a["principal"]["principalId"], a["roleId"]) for a in assigned] == [
        (a.principal_id, a.role_id) for a in space.role_assignments]
    kb = next(x for x in s.confluence.spaces if x.key == "KB")
    only = run(walk_v2(sim, site(sim) + f"/wiki/api/v2/spaces/{kb.space_id}/role-assignments"
                                         "?principal-type=ACCESS_CLASS&principal-id=authenticated-users"))
    assert only == [{"principal": {"principalType": "ACCESS_CLASS", "principalId": "authenticated-users"},
                     "roleId": "viewer"}]
    admins = run(walk_v2(sim, site(sim) + f"/wiki/api/v2/spaces/{kb.space_id}/role-assignments?role-id=admin"))
    assert {a["roleId"] for a in admins} == {"admin"}
    url = site(sim) + f"/wiki/api/v2/spaces/{kb.space_id}/role-assignments?principal-type=USER"
    assert run(get(sim, url)).status_code == 400  # principal-id missing
    assert run(get(sim, site(sim) + "/wiki/api/v2/spaces/999999/permissions")).status_code == 404


def test_v2_space_roles_and_permission_catalogue():
    sim = every_read()
    s = sim.orgs[0].sites[0]
    roles = run(walk_v2(sim, site(sim) + "/wiki/api/v2/space-roles?limit=1"))
    assert [r["id"] for r in roles] == [r.role_id for r in s.confluence.space_roles]
    catalogue = {p["id"] for p in run(walk_v2(sim, site(sim) + "/wiki/api/v2/space-permissions?limit=3"))}
    assert all(set(r["spacePermissions"]) <= catalogue for r in roles)
    role = run(get(sim, site(sim) + "/wiki/api/v2/space-roles/editor")).json()
    assert role["id"] == "editor" and "base" in role["_links"]
    assert run(get(sim, site(sim) + "/wiki/api/v2/space-roles/nope")).status_code == 404
    anon_roles = run(walk_v2(sim, site(sim) + "/wiki/api/v2/space-roles"
                                             "?principal-type=ACCESS_CLASS&principal-id=anonymous-users"))
    assert {r["id"] for r in anon_roles} == {"viewer", "editor"}  # PUB viewers, WIKI editors
    assert run(get(sim, site(sim) + "/wiki/api/v2/space-role-mode")).json() == {"mode": "ROLES"}


def test_each_shape_discloses_the_access_class_grant_in_its_own_read_only():
    """The same anonymous grant, disclosed by one read per shape; the anonymous caller's view never changes."""
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    confluence = sim.orgs[0].sites[0].confluence
    confluence.role_mode, confluence.legacy_api = "ROLES_TRANSITION", True
    spaces = {x.key: x for x in confluence.spaces}
    spaces["PUB"].shape, spaces["WIKI"].shape = "rbac", "legacy"
    base = site(sim)

    def v2_classes(key):
        rows = run(walk_v2(sim, base + f"/wiki/api/v2/spaces/{spaces[key].space_id}/permissions"))
        return {p["principal"]["id"] for p in rows if p["principal"]["type"] == "role"}

    def rbac_classes(key):
        rows = run(walk_v2(sim, base + f"/wiki/api/v2/spaces/{spaces[key].space_id}/role-assignments"))
        return {a["principal"]["principalId"] for a in rows if a["principal"]["principalType"] == "ACCESS_CLASS"}

    legacy, _ = run(walk_v1(sim, base + "/wiki/rest/api/space?expand=permissions&limit=3"))
    flagged = {x["key"]: {(p["operation"]["operation"], p["operation"]["targetType"])
                          for p in x["permissions"] if p["anonymousAccess"]} for x in legacy}
    assert v2_classes("PUB") == set() and rbac_classes("PUB") == {"anonymous-users"} and not flagged["PUB"]
    assert v2_classes("WIKI") == set() and rbac_classes("WIKI") == set()
    assert flagged["WIKI"] == {(p.operation, p.target_type) for p in spaces["WIKI"].permissions
                               if p.principal_id == "anonymous-users"}
    groups = {g["name"] for x in legacy if x["key"] == "WIKI" for p in x["permissions"]
              for g in p.get("subjects", {}).get("group", {}).get("results", [])}
    assert groups == {p.principal_id for p in spaces["WIKI"].permissions if p.principal_type == "group"}
    assert run(get(sim, base + "/wiki/api/v2/space-role-mode")).json() == {"mode": "ROLES_TRANSITION"}
    anon = run(walk_v2(sim, base + "/wiki/api/v2/spaces", None))
    assert sorted(r["key"] for r in anon) == ["PUB", "WIKI"]  # the grants decide, not the shape

    confluence.role_mode, confluence.legacy_api = None, False  # an older site
    assert run(get(sim, base + "/wiki/api/v2/space-role-mode")).status_code == 404
    assert run(get(sim, base + f"/wiki/api/v2/spaces/{spaces['PUB'].space_id}/role-assignments")).status_code == 404
    assert run(get(sim, base + "/wiki/rest/api/space?expand=permissions")).status_code == 404
    assert sorted(r["key"] for r in run(walk_v2(sim, base + "/wiki/api/v2/spaces", None))) == ["PUB", "WIKI"]


def test_shapes_are_deterministic_per_seed_and_vary_across_sites():
    def shapes(seed):
        sim = Simulator.generate("tiny", seed=seed, orgs=3)
        return [(s.confluence.role_mode, s.confluence.legacy_api, tuple(x.shape for x in s.confluence.spaces))
                for o in sim.orgs for s in o.sites]
    assert shapes(7) == shapes(7)
    seen = {shape for seed in (7, 11) for _, _, row in shapes(seed) for shape in row}
    assert {"v2", "legacy", "all"} <= seen


def test_v2_users_bulk():
    sim = shared()
    org = sim.orgs[0]
    ids = [a.account_id for a in org.accounts[:5]]

    async def post(body):
        async with sim.client() as client:
            return await client.post(site(sim) + "/wiki/api/v2/users-bulk", json=body, auth=sim.auth())

    r = run(post({"accountIds": ids + ["unknown", ids[0]]}))
    assert r.status_code == 200 and [u["accountId"] for u in r.json()["results"]] == ids
    assert run(post({"accountIds": ["x"] * 251})).status_code == 400
    assert run(post({"accountIds": []})).status_code == 400
    assert run(get(sim, site(sim) + "/wiki/api/v2/users-bulk")).status_code == 405


def test_plain_user_sees_only_spaces_it_can_view():
    sim = shared()
    org, s = sim.orgs[0], sim.orgs[0].sites[0]
    user = sim.credential("site-user-token").account_id
    groups = {g for g, m in org.memberships.items() if user in m}
    expected = [
        x.space_id for x in s.confluence.spaces
        if any(p.operation == "read" and p.target_type == "space" and (
            (p.principal_type == "user" and p.principal_id == user) or (p.principal_type == "group" and p.principal_id in groups)
            or (p.principal_type == "role")) for p in x.permissions)
    ]
    seen = [r["id"] for r in run(walk_v2(sim, site(sim) + "/wiki/api/v2/spaces", "site-user-token"))]
    assert seen == expected and len(seen) < len(s.confluence.spaces)
    hidden = next(x for x in s.confluence.spaces if x.space_id not in seen)
    assert run(get(sim, site(sim) + f"/wiki/api/v2/spaces/{hidden.space_id}", "site-user-token")).status_code == 404


def test_anonymous_callers():
    sim = shared()
    exposed, hardened = 0, 1
    assert sim.orgs[exposed].sites[0].confluence.anonymous_access
    anon = run(walk_v2(sim, site(sim, exposed) + "/wiki/api/v2/spaces", None))
    assert sorted(r["key"] for r in anon) == ["PUB", "WIKI"]
    kb = next(x for x in sim.orgs[exposed].sites[0].confluence.spaces if x.key == "KB")
    assert run(get(sim, site(sim, exposed) + f"/wiki/api/v2/spaces/{kb.space_id}", None)).status_code == 404
    assert run(get(sim, site(sim, hardened) + "/wiki/api/v2/spaces", None, hardened)).status_code == 401
    r = run(get(sim, site(sim, exposed) + "/wiki/rest/api/group", None))
    assert r.status_code == 401 and r.json()["statusCode"] == 401
    assert run(get(sim, site(sim, exposed) + "/wiki/rest/api/audit", None)).status_code == 401
    # Data Center: anonymous "Can use" on the exposed instance only
    dc_exposed = run(get(sim, dc(sim, exposed) + "/rest/api/space", None))
    assert sorted(r["key"] for r in dc_exposed.json()["results"]) == ["PUB", "WIKI"]
    assert run(get(sim, dc(sim, hardened) + "/rest/api/space", None, hardened)).status_code == 401
    assert run(get(sim, dc(sim, exposed) + "/rest/api/user/list", None)).status_code == 401
    assert run(get(sim, dc(sim, exposed) + "/rest/api/server-information", None)).status_code == 200
    # tenant_info is public
    s = sim.orgs[exposed].sites[0]
    assert run(get(sim, site(sim) + "/_edge/tenant_info", None)).json() == {"cloudId": s.cloud_id}


# --- credentials and permissions ------------------------------------------------------------------


def test_bad_credentials_get_401():
    sim = shared()
    wrong = httpx.BasicAuth(sim.credential("site-admin-token").email, "not-the-token")

    async def calls():
        async with sim.client() as client:
            out = [await client.get(site(sim) + path, auth=wrong) for path in (
                "/wiki/rest/api/group", "/wiki/api/v2/spaces", "/_edge/tenant_info", "/rest/plugins/1.0/")]
            out.append(await client.get(dc(sim) + "/rest/api/space", auth=BearerAuth("nope")))
            # a scoped token on the site URL is refused (it only works through the gateway)
            out.append(await client.get(site(sim) + "/wiki/rest/api/group", auth=sim.auth("scoped-admin-token")))
            return out

    responses = run(calls())
    assert [r.status_code for r in responses] == [401] * len(responses)
    assert responses[1].json()["errors"][0]["status"] == 401  # Confluence v2 error body


def test_plain_user_gets_403_on_admin_endpoints():
    sim = shared()
    for path in ("/wiki/rest/api/audit", "/wiki/rest/api/audit/retention", "/rest/plugins/1.0/",
                 "/wiki/rest/plugins/1.0/", "/rest/plugins/latest/"):
        assert run(get(sim, site(sim) + path, "site-user-token")).status_code == 403, path
    for path in ("/wiki/rest/api/group", "/wiki/api/v2/spaces", "/wiki/rest/api/settings/systemInfo"):
        assert run(get(sim, site(sim) + path, "site-user-token")).status_code == 200, path
    dc_org = sim.orgs[0].dc[1]
    for path in ("/rest/api/group/confluence-users/member", "/rest/api/permissions", "/rest/api/permissions/anonymous",
                 "/rest/api/permissions/unlicensed", "/rest/api/audit", "/rest/auditing/1.0/events",
                 "/rest/plugins/1.0/", "/rest/plugins/1.0/installed-marketplace",
                 f"/rest/api/space/{dc_org.confluence.spaces[1].key}/permissions"):
        assert run(get(sim, dc(sim) + path, "dc-user-pat")).status_code == 403, path
    for path in ("/rest/api/user/list", "/rest/api/group", "/rest/api/space"):
        assert run(get(sim, dc(sim) + path, "dc-user-pat")).status_code == 200, path


def test_free_plan_has_no_confluence_audit_log():
    sim = Simulator.generate("tiny", seed=7)
    sim.orgs[0].sites[0].plan = "free"
    for path in ("/wiki/rest/api/audit", "/wiki/rest/api/audit/retention"):
        r = run(get(sim, site(sim) + path))
        assert r.status_code == 403 and "Free" in r.json()["message"]
    assert run(get(sim, site(sim) + "/wiki/rest/api/settings/systemInfo")).json()["edition"] == "free"


def test_write_methods_are_not_served():
    sim = shared()

    async def post():
        async with sim.client() as client:
            return [
                await client.post(site(sim) + "/wiki/rest/api/group", json={"name": "x"}, auth=sim.auth()),
                await client.post(site(sim) + "/wiki/api/v2/spaces", json={"key": "X"}, auth=sim.auth()),
                await client.delete(dc(sim) + "/rest/plugins/1.0/com.example.sync.confluence-key",
                                    auth=sim.auth("dc-admin-pat")),
            ]

    assert [r.status_code for r in run(post())] == [405, 405, 405]


# --- site extras: UPM -----------------------------------------------------------------------------


def test_upm_lists_connect_and_system_apps_but_not_forge():
    sim = shared()
    s = sim.orgs[0].sites[0]
    for context, apps in (("", s.jira_apps), ("/wiki", s.confluence_apps)):
        body = run(get(sim, site(sim) + f"{context}/rest/plugins/1.0/")).json()
        keys = [p["key"] for p in body["plugins"]]
        assert keys == [a.key for a in apps if a.framework != "forge"]
        assert any(a.framework == "forge" for a in apps)  # they exist, UPM just does not show them
        by_key = {p["key"]: p for p in body["plugins"]}
        for app in apps:
            if app.framework == "forge":
                r = run(get(sim, site(sim) + f"{context}/rest/plugins/1.0/{app.key}-key"))
                assert r.status_code == 404
                continue
            entry = by_key[app.key]
            assert entry["enabled"] == app.enabled and entry["userInstalled"] == app.user_installed
            assert entry["remotable"] == (app.framework == "connect")
            assert entry["links"]["self"] == f"/site/{s.name}{context}/rest/plugins/1.0/{app.key}-key"
            assert "scopes" not in entry
        latest = run(get(sim, site(sim) + f"{context}/rest/plugins/latest/")).json()
        assert [p["key"] for p in latest["plugins"]] == keys
        connect = next(a for a in apps if a.framework == "connect")
        detail = run(get(sim, site(sim) + f"{context}/rest/plugins/1.0/{connect.key}-key")).json()
        assert detail["enabledByDefault"] is True and detail["modules"]
        assert all(m["completeKey"].startswith(connect.key + ":") for m in detail["modules"])


def test_upm_is_not_served_through_the_scoped_gateway():
    sim = shared()
    s = sim.orgs[0].sites[0]
    scoped = sim.urls()["scoped"][s.name]
    for url in (scoped["confluence"] + "/wiki/rest/plugins/1.0/", scoped["jira"] + "/rest/plugins/1.0/",
                scoped["confluence"] + "/_edge/tenant_info"):
        assert run(get(sim, url, "scoped-admin-token")).status_code == 404, url
    ok = run(get(sim, scoped["confluence"] + "/wiki/api/v2/spaces", "scoped-admin-token"))
    assert ok.status_code == 200


def test_dc_upm_and_installed_marketplace_updates():
    sim = shared()
    instance = sim.orgs[0].dc[1]
    body = run(get(sim, dc(sim) + "/rest/plugins/1.0/", "dc-admin-pat")).json()
    assert [p["key"] for p in body["plugins"]] == [a.key for a in instance.apps]
    assert body["plugins"][0]["links"]["self"].startswith(f"/dc/{instance.name}/confluence/rest/plugins/1.0/")
    updates = run(get(sim, dc(sim) + "/rest/plugins/1.0/installed-marketplace?updates=true", "dc-admin-pat")).json()
    assert [(p["key"], p["updateAvailable"]) for p in updates["plugins"]] == [
        (a.key, a.update_available) for a in instance.apps if a.user_installed]
    assert any(p["updateAvailable"] for p in updates["plugins"]) and not all(p["updateAvailable"] for p in updates["plugins"])


# --- Data Center ----------------------------------------------------------------------------------


def test_dc_v1_walks_and_context():
    sim = shared()
    instance = sim.orgs[0].dc[1]
    users, _ = run(walk_v1(sim, dc(sim) + "/rest/api/user/list?limit=4&expand=status", "dc-admin-pat"))
    assert [u["username"] for u in users] == [u.username for u in instance.users if not u.deleted]
    assert {u["status"] for u in users} <= {"active", "deactivated"}
    assert len({u["userKey"] for u in users}) == len(users)
    groups, _ = run(walk_v1(sim, dc(sim) + "/rest/api/group?limit=2", "dc-admin-pat"))
    assert [g["name"] for g in groups] == sorted(instance.groups, key=str.lower)
    members, _ = run(walk_v1(sim, dc(sim) + "/rest/api/group/confluence-users/member?limit=3", "dc-admin-pat"))
    assert [m["username"] for m in members] == instance.memberships["confluence-users"]
    spaces, _ = run(walk_v1(sim, dc(sim) + "/rest/api/space?limit=2", "dc-admin-pat"))
    assert [x["key"] for x in spaces] == [x.key for x in instance.confluence.spaces]
    body = run(get(sim, dc(sim) + "/rest/api/space?limit=2", "dc-admin-pat")).json()
    assert body["_links"]["context"] == "/confluence" and body["_links"]["base"].endswith("/confluence")
    assert body["_links"]["next"].startswith("/rest/api/space?")
    assert run(get(sim, dc(sim) + "/rest/api/group/nope/member", "dc-admin-pat")).status_code == 404


def test_dc_space_permissions_map_access_classes_to_dc_subjects():
    sim = shared()
    rows = run(get(sim, dc(sim) + "/rest/api/space/PUB/permissions", "dc-admin-pat")).json()
    subjects = {r["subject"]["type"] for r in rows}
    assert subjects <= {"user", "group", "anonymous"}
    assert all(not (r["operation"]["operationKey"] == "read" and r["operation"]["targetType"] != "space") for r in rows)
    assert {"targetType": "space", "operationKey": "read"} in [r["operation"] for r in rows if r["subject"]["type"] == "anonymous"]
    anon = run(get(sim, dc(sim) + "/rest/api/space/WIKI/permissions/anonymous", "dc-admin-pat")).json()
    assert anon and {r["subject"]["type"] for r in anon} == {"anonymous"}
    assert {"targetType": "page", "operationKey": "create"} in [r["operation"] for r in anon]
    alladm = run(get(sim, dc(sim) + "/rest/api/space/ALLADM/permissions", "dc-admin-pat")).json()
    assert {"targetType": "space", "operationKey": "administer"} in [
        r["operation"] for r in alladm if r["subject"].get("name") == "confluence-users"]
    keys = [(r["subject"]["type"], r["subject"].get("name") or r["subject"].get("username"),
             r["operation"]["operationKey"], r["operation"]["targetType"]) for r in alladm]
    assert len(keys) == len(set(keys))
    assert run(get(sim, dc(sim) + "/rest/api/space/NOPE/permissions", "dc-admin-pat")).status_code == 404
    glob = run(get(sim, dc(sim) + "/rest/api/permissions/anonymous", "dc-admin-pat")).json()
    assert [r["operation"]["operationKey"] for r in glob] == ["use", "read"]
    hardened = run(get(sim, dc(sim, 1) + "/rest/api/permissions/anonymous", "dc-admin-pat", 1)).json()
    assert hardened == []


def test_dc_space_admin_may_read_that_space_grants_only():
    sim = Simulator.generate("tiny", seed=7)
    instance = next(d for d in sim.orgs[0].dc if d.product == "confluence")
    username = sim.credential("dc-user-pat").username
    mine, other = instance.confluence.spaces[1], instance.confluence.spaces[2]
    assert run(get(sim, dc(sim) + f"/rest/api/space/{mine.key}/permissions", "dc-user-pat")).status_code == 403
    mine.permissions.append(SpacePermission("9999999", "user", username, "administer", "space"))
    assert run(get(sim, dc(sim) + f"/rest/api/space/{mine.key}/permissions", "dc-user-pat")).status_code == 200
    assert run(get(sim, dc(sim) + f"/rest/api/space/{other.key}/permissions", "dc-user-pat")).status_code == 403
    assert run(get(sim, dc(sim) + "/rest/api/permissions", "dc-user-pat")).status_code == 403


def test_dc_routes_are_not_served_by_a_jira_instance():
    sim = shared()
    jira_dc = next(d for d in sim.orgs[0].dc if d.product == "jira")
    r = run(get(sim, f"http://sim.local/dc/{jira_dc.name}/confluence/rest/api/space", "dc-admin-pat"))
    assert r.status_code == 404


def test_dc_audit_events_walk_pins_its_snapshot():
    sim = Simulator.generate("tiny", seed=7)
    org = sim.orgs[0]
    instance = next(d for d in org.dc if d.product == "confluence")
    url = dc(sim) + "/rest/auditing/1.0/events?limit=7"

    async def walk(add_between: bool):
        entities, pages = [], 0
        async with sim.client() as client:
            next_url = url
            while next_url:
                r = await client.get(next_url, auth=sim.auth("dc-admin-pat"))
                assert r.status_code == 200, r.text
                body = r.json()
                entities += body["entities"]
                pages += 1
                if add_between and pages == 1:  # a new event arrives and the clock moves on
                    t = org.clock + timedelta(minutes=1)
                    instance.audit.add(AuditEvent("late-1", t, t + PROCESSING_DELAY, "User created", "admin",
                                                  {"category": "User management", "affectedObjects": [],
                                                   "changedValues": [], "source": "10.0.0.9"}))
                    org.clock += timedelta(minutes=5)
                cursor = body["pagingInfo"].get("nextPageCursor")
                assert body["pagingInfo"]["lastPage"] is (cursor is None)
                parts = urlsplit(url)
                next_url = (f"{parts.scheme}://{parts.netloc}{parts.path}?" + urlencode({"limit": 7, "pageCursor": cursor})
                            if cursor else None)
        return entities

    before = run(walk(add_between=True))
    assert len(before) == len(instance.audit.window(org.clock - timedelta(minutes=5)))
    stamps = [e["timestamp"] for e in before]
    assert stamps == sorted(stamps, reverse=True)
    assert len({e["id"] for e in before}) == len(before)
    after = run(walk(add_between=False))
    assert len(after) == len(before) + 1 and after[0]["type"]["action"] == "User created"
    since = (org.clock - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = run(get(sim, dc(sim) + f"/rest/auditing/1.0/events?from={since}&limit=1000", "dc-admin-pat")).json()
    assert recent["entities"] and all(e["timestamp"] >= since[:19] for e in recent["entities"])
    assert run(get(sim, dc(sim) + "/rest/auditing/1.0/events?pageCursor=%%", "dc-admin-pat")).status_code == 400


# --- determinism ----------------------------------------------------------------------------------


def test_responses_are_byte_identical_for_the_same_state():
    paths = [
        site(shared()) + "/wiki/rest/api/group?limit=3",
        site(shared()) + "/wiki/rest/api/audit?limit=20",
        site(shared()) + "/wiki/api/v2/spaces?limit=2",
        site(shared()) + "/wiki/rest/api/search/user?cql=type%3Duser",
        site(shared()) + "/rest/plugins/1.0/",
        dc(shared()) + "/rest/auditing/1.0/events?limit=5",
        dc(shared()) + "/rest/api/space/KB/permissions",
    ]
    twin = Simulator.generate("tiny", seed=7, orgs=3)

    def label(url):
        return "dc-admin-pat" if "/dc/" in url else "site-admin-token"

    for url in paths:
        a = run(get(shared(), url, label(url)))
        b = run(get(shared(), url, label(url)))
        c = run(get(twin, url, label(url)))
        assert a.status_code == 200 and a.content == b.content == c.content, url
