"""Behaviour of the simulated Jira Cloud and Jira Data Center routes.

Each pagination style is walked to the end the way a correct client walks it and compared
with the model; caps silently lower the page size; credentials are checked (401 for a bad
one, 403 for a non-admin on admin-only endpoints, anonymous access exactly as grants to
Anyone allow); plan gaps answer as Atlassian's do.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import httpx
import pytest
from atlassian_simulator.core import Simulator
from atlassian_simulator.lazy import AuditEvent
from atlassian_simulator.server.routes.jira_index import is_active

ADMIN, USER, SCOPED = "site-admin-token", "site-user-token", "scoped-admin-token"
DC_ADMIN, DC_USER = "dc-admin-pat", "dc-user-pat"


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator.generate("tiny", seed=7, orgs=3)


def call(sim: Simulator, requests):
    """Run `requests` (a list of (method, path, credential label | None, org)) in one client."""

    async def main():
        async with sim.client() as client:
            out = []
            for method, path, who, org in requests:
                auth = sim.auth(who, org) if who else None
                out.append(await client.request(method, path, auth=auth))
            return out

    return asyncio.run(main())


def get(sim: Simulator, path: str, who: str | None = ADMIN, org: int = 0) -> httpx.Response:
    return call(sim, [("GET", path, who, org)])[0]


def site(sim: Simulator, org: int = 0) -> str:
    return f"/site/{sim.orgs[org].sites[0].name}/rest/api/3"


def dc(sim: Simulator, org: int = 0) -> str:
    return f"/dc/{next(d for d in sim.orgs[org].dc if d.product == 'jira').name}"


def org_of(sim: Simulator, profile: str) -> int:
    return next(i for i, o in enumerate(sim.orgs) if o.config["profile"] == profile)


def walk_page_bean(sim: Simulator, path: str, who: str | None = ADMIN, org: int = 0) -> tuple[list, list[dict]]:
    """Follow `nextPage` until `isLast`; returns (values, page bodies)."""
    values, bodies = [], []
    url = path
    while True:
        body = get(sim, url, who, org).json()
        bodies.append(body)
        values += body["values"]
        if body["isLast"]:
            return values, bodies
        url = body["nextPage"].replace("http://sim.local", "")


def walk_bare_array(sim: Simulator, path: str, size: int, who: str | None = ADMIN, org: int = 0) -> list:
    """Advance `startAt` by what came back; stop on an empty page (the only reliable end signal)."""
    out, start = [], 0
    sep = "&" if "?" in path else "?"
    while True:
        page = get(sim, f"{path}{sep}startAt={start}&maxResults={size}", who, org).json()
        if not page:
            return out
        out += page
        start += len(page)


# --- Cloud: users and groups ---------------------------------------------------------------------


def test_users_search_bare_array_walk_and_cap():
    big = Simulator.generate("tiny", seed=7, accounts=1300, with_dc=False)
    org = big.orgs[0]
    users = walk_bare_array(big, f"{site(big)}/users/search", 1000)
    # one site: every account of the org is one of its users, inactive ones and app bots included
    assert [u["accountId"] for u in users] == [a.account_id for a in org.accounts]
    assert len(users) > 1000
    first = get(big, f"{site(big)}/users/search?maxResults=5000").json()
    assert len(first) == 1000  # the cap silently lowered the page
    default = get(big, f"{site(big)}/users").json()
    assert len(default) == 50
    assert get(big, f"{site(big)}/users?startAt=999999").json() == []


def test_user_fields_follow_status_and_privacy(sim):
    org = sim.orgs[0]
    users = {u["accountId"]: u for u in walk_bare_array(sim, f"{site(sim)}/users/search", 1000)}
    for account in org.accounts:
        rendered = users[account.account_id]
        assert rendered["active"] is is_active(account)
        assert rendered["accountType"] == account.account_type
        if account.claim_status == "unmanaged" and account.account_type == "atlassian":
            assert "emailAddress" not in rendered  # external accounts keep their e-mail private
        if account.account_type == "app":
            assert "emailAddress" not in rendered
        if account.claim_status == "managed":
            assert rendered["emailAddress"] == account.email
    assert {u["accountType"] for u in users.values()} == {a.account_type for a in org.accounts} >= {"atlassian", "app"}
    assert any(not u["active"] for u in users.values())


def test_user_and_user_groups(sim):
    org = sim.orgs[0]
    reader = sim.credential(ADMIN).account_id
    groups = sorted(g.name for g in org.groups if reader in org.memberships[g.group_id])
    body = get(sim, f"{site(sim)}/user?accountId={reader}&expand=groups").json()
    assert body["groups"]["size"] == len(groups)
    assert [g["name"] for g in body["groups"]["items"]] == groups
    assert [g["name"] for g in get(sim, f"{site(sim)}/user/groups?accountId={reader}").json()] == groups
    assert get(sim, f"{site(sim)}/user?accountId=nope").status_code == 404
    assert get(sim, f"{site(sim)}/user").status_code == 400


def test_group_bulk_page_bean_walk_and_cap(sim):
    org = sim.orgs[0]
    values, bodies = walk_page_bean(sim, f"{site(sim)}/group/bulk?maxResults=5")
    assert sorted(v["groupId"] for v in values) == sorted(g.group_id for g in org.groups)
    assert len(bodies) == -(-len(org.groups) // 5)
    assert get(sim, f"{site(sim)}/group/bulk?maxResults=500").json()["maxResults"] == 50
    admins = get(sim, f"{site(sim)}/group/bulk?accessType=admin").json()["values"]
    assert {v["name"] for v in admins} >= {f"jira-admins-{org.sites[0].name}"}


def test_group_member_walk_cap_and_inactive(sim):
    org = sim.orgs[0]
    group = next(g for g in org.groups if g.name == f"jira-admins-{org.sites[0].name}")
    members = [a for a in org.accounts if a.account_id in org.memberships[group.group_id]]
    path = f"{site(sim)}/group/member?groupId={group.group_id}&maxResults=2"
    active, _ = walk_page_bean(sim, path)
    assert {v["accountId"] for v in active} == {a.account_id for a in members if is_active(a)}
    everyone, _ = walk_page_bean(sim, path + "&includeInactiveUsers=true")
    assert {v["accountId"] for v in everyone} == {a.account_id for a in members}
    assert len(everyone) > len(active)  # the suspended Jira admin is only listed on request
    body = get(sim, f"{site(sim)}/group/member?groupname={group.name}&maxResults=1000").json()
    assert body["maxResults"] == 50
    assert get(sim, f"{site(sim)}/group/member").status_code == 400
    assert get(sim, f"{site(sim)}/group/member?groupname=nope").status_code == 404


# --- Cloud: projects, roles, schemes ---------------------------------------------------------------


def test_project_search_walk_cap_and_status(sim):
    jira = sim.orgs[0].sites[0].jira
    values, _ = walk_page_bean(sim, f"{site(sim)}/project/search?maxResults=3")
    assert [v["key"] for v in values] == sorted(p.key for p in jira.projects if not p.archived)
    assert get(sim, f"{site(sim)}/project/search?maxResults=1000").json()["maxResults"] == 100
    archived = get(sim, f"{site(sim)}/project/search?status=archived").json()["values"]
    assert [v["key"] for v in archived] == sorted(p.key for p in jira.projects if p.archived)
    assert all(v["archived"] for v in archived)
    lead = get(sim, f"{site(sim)}/project/search?expand=lead&maxResults=1").json()["values"][0]
    assert "accountId" in lead["lead"]


def test_anonymous_sees_only_public_projects():
    sim = Simulator.generate("tiny", seed=7, orgs=2, with_dc=False)
    exposed, hardened = org_of(sim, "exposed"), org_of(sim, "hardened")
    public = get(sim, f"{site(sim, exposed)}/project/search", None, exposed).json()
    assert [v["key"] for v in public["values"]] == ["DOCS", "OSS"]
    assert get(sim, f"{site(sim, hardened)}/project/search", None, hardened).json()["values"] == []
    assert get(sim, f"{site(sim, exposed)}/project/OSS", None, exposed).status_code == 200
    # Browse users and groups granted to Anyone: the people directory is public (POSTURE-019)
    assert get(sim, f"{site(sim, exposed)}/users/search", None, exposed).status_code == 200
    assert get(sim, f"{site(sim, hardened)}/users/search", None, hardened).status_code == 403
    assert get(sim, f"{site(sim, exposed)}/project/FIN", None, exposed).status_code == 404


def test_project_roles_and_actors(sim):
    org = sim.orgs[0]
    jira = org.sites[0].jira
    fin = next(p for p in jira.projects if p.key == "FIN")
    roles = get(sim, f"{site(sim)}/project/FIN/role").json()
    assert set(roles) == {r.name for r in jira.roles}
    assert roles["Administrators"].endswith(f"/project/{fin.project_id}/role/10002")
    body = get(sim, f"{site(sim)}/project/FIN/role/10002").json()
    expected = [(a.actor_type, a.actor_id) for a in fin.actors[10002]]
    got = [("group", a["actorGroup"]["groupId"]) if a["type"] == "atlassian-group-role-actor"
           else ("user", a["actorUser"]["accountId"]) for a in body["actors"]]
    assert got == expected
    # the planted project admin holds the Administrators role directly on a dozen projects
    planted = org.planted["IDENT-021"]
    many = (planted["positives"] + planted["negatives"])[0]["resource"].split(":", 1)[1]
    holding = [p.key for p in jira.projects
               if any(a["actorUser"]["accountId"] == many for a in get(
                   sim, f"{site(sim)}/project/{p.key}/role/10002").json()["actors"] if "actorUser" in a)]
    assert len(holding) == min(12, len(jira.projects))
    assert get(sim, f"{site(sim)}/project/FIN/role/99999").status_code == 404
    details = get(sim, f"{site(sim)}/project/FIN/roledetails").json()
    assert [d["id"] for d in details] == [r.role_id for r in jira.roles]


def test_permission_schemes_expand_and_public_grants(sim):
    exposed = org_of(sim, "exposed")
    jira = sim.orgs[exposed].sites[0].jira
    bare = get(sim, f"{site(sim, exposed)}/permissionscheme", org=exposed).json()["permissionSchemes"]
    assert all("permissions" not in s for s in bare)
    full = get(sim, f"{site(sim, exposed)}/permissionscheme?expand=all", org=exposed).json()["permissionSchemes"]
    assert [len(s["permissions"]) for s in full] == [len(s.grants) for s in jira.schemes]
    public = {s["id"] for s in full for g in s["permissions"]
              if g["permission"] == "BROWSE_PROJECTS" and g["holder"]["type"] == "anyone"}
    assert public == {10_002, 10_003}
    group_holder = next(g["holder"] for s in full for g in s["permissions"] if g["holder"]["type"] == "group")
    assert group_holder["group"]["groupId"] == group_holder["value"]
    oss = get(sim, f"{site(sim, exposed)}/project/OSS/permissionscheme", org=exposed).json()
    assert oss["id"] == 10_003 and "permissions" not in oss
    grants = get(sim, f"{site(sim, exposed)}/permissionscheme/10003/permission", org=exposed).json()
    assert len(grants["permissions"]) == len(next(s for s in jira.schemes if s.scheme_id == 10_003).grants)
    assert get(sim, f"{site(sim, exposed)}/permissionscheme/1", org=exposed).status_code == 404


def test_mypermissions_anonymous_reflects_anyone_grants(sim):
    exposed, hardened = org_of(sim, "exposed"), org_of(sim, "hardened")
    query = "/mypermissions?permissions=USER_PICKER,BROWSE_PROJECTS,ADMINISTER"
    open_ = get(sim, site(sim, exposed) + query, None, exposed).json()["permissions"]
    closed = get(sim, site(sim, hardened) + query, None, hardened).json()["permissions"]
    assert open_["USER_PICKER"]["havePermission"] is True
    assert open_["BROWSE_PROJECTS"]["havePermission"] is True
    assert closed["USER_PICKER"]["havePermission"] is False
    assert closed["BROWSE_PROJECTS"]["havePermission"] is False
    assert open_["ADMINISTER"]["havePermission"] is False
    admin = get(sim, site(sim, hardened) + query, ADMIN, hardened).json()["permissions"]
    assert admin["ADMINISTER"]["havePermission"] is True
    assert get(sim, f"{site(sim)}/mypermissions").status_code == 400
    assert get(sim, f"{site(sim)}/mypermissions?permissions=NOPE").status_code == 400
    in_fin = get(sim, f"{site(sim, hardened)}/mypermissions?permissions=BROWSE_PROJECTS&projectKey=FIN",
                 None, hardened)
    assert in_fin.status_code == 404  # an anonymous caller cannot see a restricted project


def test_permissions_check_for_another_user(sim):
    org = sim.orgs[0]
    jira = org.sites[0].jira
    user_id = sim.credential(USER).account_id

    async def main():
        async with sim.client() as client:
            body = {"accountId": user_id, "globalPermissions": ["ADMINISTER", "USER_PICKER"],
                    "projectPermissions": [{"permissions": ["BROWSE_PROJECTS"],
                                            "projects": [int(p.project_id) for p in jira.projects]}]}
            as_admin = await client.post(f"{site(sim)}/permissions/check", json=body, auth=sim.auth(ADMIN))
            other = dict(body, accountId=sim.credential(ADMIN).account_id)
            as_user = await client.post(f"{site(sim)}/permissions/check", json=other, auth=sim.auth(USER))
            itself = await client.post(f"{site(sim)}/permissions/check", json=body, auth=sim.auth(USER))
            return as_admin, as_user, itself

    as_admin, as_user, itself = asyncio.run(main())
    assert as_admin.status_code == 200
    assert as_admin.json()["globalPermissions"] == ["USER_PICKER"]
    browse = as_admin.json()["projectPermissions"][0]["projects"]
    fin = next(p for p in jira.projects if p.key == "FIN")
    assert int(fin.project_id) not in browse or user_id in {a.actor_id for r in fin.actors.values() for a in r}
    assert as_user.status_code == 403  # checking someone else needs Administer Jira
    assert itself.status_code == 200 and itself.json() == as_admin.json()


# --- Cloud: audit ----------------------------------------------------------------------------------


def test_audit_offset_walk_is_newest_first_and_complete(sim):
    org = sim.orgs[0]
    log = org.sites[0].jira.audit
    window = log.window(org.clock)
    records, offset = [], 0
    while True:
        body = get(sim, f"{site(sim)}/auditing/record?offset={offset}&limit=40").json()
        records += body["records"]
        offset += len(body["records"])
        if not body["records"] or offset >= body["total"]:
            break
    assert body["total"] == len(window)
    assert [str(r["id"]) for r in records] == [e.event_id for e in reversed(window[0:len(window)])]
    created = [r["created"] for r in records]
    assert created == sorted(created, reverse=True)
    assert get(sim, f"{site(sim)}/auditing/record?limit=5000").json()["limit"] == 1000
    assert get(sim, f"{site(sim)}/auditing/record?limit=0").json()["limit"] == 1000


def test_audit_from_to_and_text_filter(sim):
    org = sim.orgs[0]
    log = org.sites[0].jira.audit
    since, until = org.clock - timedelta(days=10), org.clock - timedelta(days=3)
    expected = log.window(org.clock, since, until)
    q = (f"from={since:%Y-%m-%dT%H:%M:%S.000%%2B0000}&to={until:%Y-%m-%dT%H:%M:%S}Z")
    body = get(sim, f"{site(sim)}/auditing/record?{q}").json()
    assert body["total"] == len(expected)
    assert {str(r["id"]) for r in body["records"]} == {e.event_id for e in expected[0:len(expected)]}
    scheme = get(sim, f"{site(sim)}/auditing/record?filter=permission%20updated").json()["records"]
    assert scheme and all("permission" in (r["summary"] + r["category"]).lower() for r in scheme)
    assert any(r["summary"] == "Permission scheme updated" for r in scheme)
    backwards = get(sim, f"{site(sim)}/auditing/record?from=2026-10-30&to=2026-10-01").json()
    assert backwards["total"] == 0
    assert get(sim, f"{site(sim)}/auditing/record?from=yesterday").status_code == 400


def test_late_audit_events_appear_once_processed():
    sim = Simulator.generate("tiny", seed=7, with_dc=False)
    org = sim.orgs[0]
    log = org.sites[0].jira.audit
    before = get(sim, f"{site(sim)}/auditing/record?limit=1").json()["total"]
    late = AuditEvent("99999999", org.clock - timedelta(days=1), org.clock + timedelta(hours=1), "User created",
                      None, {"category": "user management", "objectItem": {"name": "late", "typeName": "USER"}})
    log.add(late)
    assert get(sim, f"{site(sim)}/auditing/record?limit=1").json()["total"] == before
    org.clock += timedelta(hours=2)
    body = get(sim, f"{site(sim)}/auditing/record?filter=late").json()
    assert [r["id"] for r in body["records"]] == [99999999]
    assert "authorAccountId" not in body["records"][0]


# --- Cloud: filters and dashboards -------------------------------------------------------------------


def public_project_ids(jira) -> set[str]:
    public_schemes = {s.scheme_id for s in jira.schemes
                      if any(g.permission == "BROWSE_PROJECTS" and g.holder_type == "anyone" for g in s.grants)}
    return {p.project_id for p in jira.projects if p.scheme_id in public_schemes}


def test_filter_search_visibility_and_override(sim):
    for org in range(3):
        jira = sim.orgs[org].sites[0].jira
        everything, _ = walk_page_bean(sim, f"{site(sim, org)}/filter/search?overrideSharePermissions=true"
                                            "&maxResults=3&expand=sharePermissions", ADMIN, org)
        assert sorted(v["id"] for v in everything) == sorted(f.filter_id for f in jira.filters)
        shared, _ = walk_page_bean(sim, f"{site(sim, org)}/filter/search", ADMIN, org)
        assert len(shared) < len(everything)  # private filters of other users stay hidden without override
        anonymous, _ = walk_page_bean(sim, f"{site(sim, org)}/filter/search?expand=sharePermissions", None, org)
        # shared with the public, or with a project anyone may browse (documented as visible)
        public_projects = public_project_ids(jira)
        public = {f.filter_id for f in jira.filters
                  if any(s.share_type == "global" or (s.share_type == "project" and s.target in public_projects)
                         for s in f.share_permissions)}
        assert {v["id"] for v in anonymous} == public
        assert ("10000" in public) is (sim.orgs[org].config["profile"] != "hardened")
    exposed = org_of(sim, "exposed")
    assert get(sim, f"{site(sim, exposed)}/filter/10000", None, exposed).status_code == 200
    hardened = org_of(sim, "hardened")
    assert get(sim, f"{site(sim, hardened)}/filter/10000", None, hardened).status_code == 400
    assert get(sim, f"{site(sim, hardened)}/filter/10000/permission", None, hardened).status_code == 404
    assert get(sim, f"{site(sim)}/filter/search?maxResults=500").json()["maxResults"] == 100


def test_dashboard_search_has_no_override(sim):
    exposed = org_of(sim, "exposed")
    jira = sim.orgs[exposed].sites[0].jira
    admin, _ = walk_page_bean(sim, f"{site(sim, exposed)}/dashboard/search?maxResults=1", ADMIN, exposed)
    reader = sim.credential(ADMIN, exposed).account_id
    hidden = [d for d in jira.dashboards if not d.share_permissions and d.owner_account_id != reader]
    assert {v["id"] for v in admin}.isdisjoint({d.dashboard_id for d in hidden})
    anonymous = get(sim, f"{site(sim, exposed)}/dashboard/search?expand=sharePermissions", None, exposed).json()
    public_projects = public_project_ids(jira)
    assert {v["id"] for v in anonymous["values"]} == {
        d.dashboard_id for d in jira.dashboards
        if any(s.share_type == "global" or (s.share_type == "project" and s.target in public_projects)
               for s in d.share_permissions)}
    assert any(s["type"] == "global" for v in anonymous["values"] for s in v["sharePermissions"])
    assert get(sim, f"{site(sim, exposed)}/dashboard/search?status=archived", ADMIN, exposed).json()["total"] == 0
    assert get(sim, f"{site(sim, exposed)}/dashboard/10000", None, exposed).status_code == 200
    assert get(sim, f"{site(sim, exposed)}/dashboard/10001", None, exposed).status_code == 404


# --- Cloud: credentials and permissions ---------------------------------------------------------------

ADMIN_ONLY = ("/applicationrole", "/applicationrole/jira-software", "/role", "/role/10002", "/auditing/record",
              "/application-properties", "/application-properties/advanced-settings")


def test_non_admin_gets_403_on_admin_endpoints_but_can_read_users(sim):
    for path in ADMIN_ONLY:
        assert get(sim, site(sim) + path, USER).status_code == 403, path
        assert get(sim, site(sim) + path, None).status_code == 401, path
        assert get(sim, site(sim) + path, ADMIN).status_code == 200, path
    assert get(sim, f"{site(sim)}/users/search", USER).status_code == 200
    assert get(sim, f"{site(sim)}/project/search", USER).status_code == 200
    # a project the plain user browses but does not administer: its scheme is for (project) admins
    visible = [v["key"] for v in get(sim, f"{site(sim)}/project/search", USER).json()["values"]]
    browsed = next(k for k in visible if k != "LEG")
    assert get(sim, f"{site(sim)}/project/{browsed}/permissionscheme", USER).status_code == 403
    assert get(sim, f"{site(sim)}/project/{browsed}/permissionscheme", ADMIN).status_code == 200
    # LEG's scheme grants Administer Projects to every Jira user (POSTURE-023): the user may read it
    assert get(sim, f"{site(sim)}/project/LEG/permissionscheme", USER).status_code == 200
    assert get(sim, f"{site(sim)}/project/FIN/permissionscheme", USER).status_code == 404  # cannot even see FIN


def test_bad_credentials_and_scoped_tokens(sim):
    org = sim.orgs[0]
    bad = httpx.BasicAuth(sim.credential(ADMIN).email, "not-the-token")

    async def main():
        async with sim.client() as client:
            return (
                await client.get(f"{site(sim)}/users/search", auth=bad),
                await client.get(f"{site(sim)}/serverInfo", auth=sim.auth(SCOPED)),
                await client.get(f"/gateway/ex/jira/{org.sites[0].cloud_id}/rest/api/3/users/search",
                                 auth=sim.auth(SCOPED)),
                await client.get(f"/gateway/ex/jira/{org.sites[0].cloud_id}/rest/api/3/users/search",
                                 auth=sim.auth(ADMIN)),
            )

    bad_token, scoped_on_site, scoped_on_gateway, classic_on_gateway = asyncio.run(main())
    assert bad_token.status_code == 401
    assert bad_token.json()["errorMessages"]
    assert scoped_on_site.status_code == 401
    assert scoped_on_gateway.status_code == 200
    assert classic_on_gateway.status_code == 401
    assert scoped_on_gateway.json()[0]["self"].startswith(
        f"http://sim.local/gateway/ex/jira/{org.sites[0].cloud_id}/rest/api/3/user")


def test_anonymous_server_info_and_configuration(sim):
    info = get(sim, f"{site(sim)}/serverInfo", None)
    assert info.status_code == 200
    assert info.json()["deploymentType"] == "Cloud"
    assert info.json()["serverTime"] == "2026-11-01T09:00:00.000+0000"
    assert get(sim, f"{site(sim)}/configuration", None).status_code == 401
    assert get(sim, f"{site(sim)}/configuration").json()["timeTrackingConfiguration"]["defaultUnit"] == "minute"
    props = get(sim, f"{site(sim)}/application-properties?key=jira.mode").json()
    assert [p["key"] for p in props] == ["jira.mode"]
    assert get(sim, f"{site(sim)}/application-properties?key=nope").status_code == 404


def test_free_plan_gaps():
    sim = Simulator.generate("tiny", seed=7, with_dc=False)  # the exposed profile
    sim.orgs[0].sites[0].plan = "free"
    assert get(sim, f"{site(sim)}/project/search", None).json()["values"] == []
    mine = get(sim, f"{site(sim)}/mypermissions?permissions=USER_PICKER", None).json()["permissions"]
    assert mine["USER_PICKER"]["havePermission"] is False
    assert get(sim, f"{site(sim)}/auditing/record").status_code == 403
    assert get(sim, f"{site(sim)}/filter/search", None).json()["values"] == []


def test_v2_and_v3_serve_the_same_json(sim):
    for path in ("/users/search?maxResults=5", "/project/search?expand=lead", "/permissionscheme?expand=all",
                 "/auditing/record?limit=5", "/filter/search?expand=owner", "/applicationrole"):
        v3 = get(sim, site(sim) + path).text
        v2 = get(sim, site(sim).replace("/3", "/2") + path).text
        assert v2 == v3.replace("/rest/api/3/", "/rest/api/2/"), path


def test_responses_are_byte_deterministic():
    paths = ["/users/search?maxResults=100", "/project/search?expand=lead,insight", "/permissionscheme?expand=all",
             "/auditing/record?limit=100", "/filter/search?overrideSharePermissions=true&expand=sharePermissions,owner",
             "/dashboard/search?expand=owner,sharePermissions", "/group/bulk", "/serverInfo"]
    one = Simulator.generate("tiny", seed=7)
    two = Simulator.generate("tiny", seed=7)
    for path in paths:
        assert get(one, site(one) + path).content == get(two, site(two) + path).content, path
    for path in ("/rest/api/2/user/list", "/rest/auditing/1.0/events", "/rest/plugins/1.0/"):
        assert get(one, dc(one) + path, DC_ADMIN).content == get(two, dc(two) + path, DC_ADMIN).content


def test_reads_only_writes_are_405(sim):
    responses = call(sim, [("POST", f"{site(sim)}/users/search", ADMIN, 0),
                           ("DELETE", f"{site(sim)}/project/FIN", ADMIN, 0),
                           ("PUT", f"{dc(sim)}/rest/api/2/user/list", DC_ADMIN, 0)])
    assert [r.status_code for r in responses] == [405, 405, 405]


def test_state_changes_show_up(sim):
    fresh = Simulator.generate("tiny", seed=7, with_dc=False)
    org = fresh.orgs[0]
    before = walk_bare_array(fresh, f"{site(fresh)}/users/search", 1000)
    clone = dataclasses.replace(org.accounts[-1], account_id="712020:new-account", product_access=[])
    org.accounts.append(clone)
    after = walk_bare_array(fresh, f"{site(fresh)}/users/search", 1000)
    assert len(after) == len(before) + 1 and after[-1]["accountId"] == "712020:new-account"


# --- Data Center -----------------------------------------------------------------------------------


def test_dc_user_list_stream_walk_and_cap():
    big = Simulator.generate("tiny", seed=7, dc_users=2600)
    instance = next(d for d in big.orgs[0].dc if d.product == "jira")
    seen, url, pages = [], f"{dc(big)}/rest/api/2/user/list", 0
    while True:
        body = get(big, url, DC_ADMIN).json()
        pages += 1
        seen += [u["name"] for u in body["values"]]
        if body["isLast"]:
            break
        assert "total" not in body
        url = f"{dc(big)}/rest/api/2/user/list?cursor={body['nextCursor']}"
    assert seen == [u.username for u in instance.users]
    assert pages == 2
    assert get(big, f"{dc(big)}/rest/api/2/user/list?maxResults=9000", DC_ADMIN).json()["maxResults"] == 2000
    last_login = {u["name"]: u.get("lastLoginTime") for u in get(big, f"{dc(big)}/rest/api/2/user/list",
                                                                  DC_ADMIN).json()["values"]}
    assert last_login["admin"] and last_login["admin"].endswith("+0000")


def test_dc_user_search_reaches_only_the_first_1000():
    big = Simulator.generate("tiny", seed=7, dc_users=1400)
    instance = next(d for d in big.orgs[0].dc if d.product == "jira")
    found = walk_bare_array(big, f"{dc(big)}/rest/api/2/user/search?username=.&includeInactive=true", 1000,
                            DC_ADMIN)
    assert len(found) == 1000 < len(instance.users)
    assert len(get(big, f"{dc(big)}/rest/api/2/user/search?username=.&maxResults=5000", DC_ADMIN).json()) == 1000
    active = walk_bare_array(big, f"{dc(big)}/rest/api/2/user/search?username=admin", 100, DC_ADMIN)
    assert [u["name"] for u in active] == ["admin"]
    assert get(big, f"{dc(big)}/rest/api/2/user/search", DC_ADMIN).status_code == 400


def test_dc_group_member_and_picker(sim):
    instance = next(d for d in sim.orgs[0].dc if d.product == "jira")
    values, _ = walk_page_bean(sim, f"{dc(sim)}/rest/api/2/group/member?groupname=jira-software-users&maxResults=4",
                               DC_ADMIN)
    users = {u.username: u for u in instance.users}
    assert {v["name"] for v in values} == {m for m in instance.memberships["jira-software-users"] if users[m].active}
    picker = get(sim, f"{dc(sim)}/rest/api/2/groups/picker?maxResults=5000", DC_ADMIN).json()
    assert sorted(g["name"] for g in picker["groups"]) == sorted(instance.groups)
    assert picker["total"] == len(instance.groups)
    default = get(sim, f"{dc(sim)}/rest/api/2/groups/picker?query=team", DC_ADMIN).json()
    assert all("<b>team</b>" in g["html"] for g in default["groups"])


def test_dc_audit_cursor_walk_is_pinned_and_newest_first():
    sim = Simulator.generate("tiny", seed=7)
    org = sim.orgs[0]
    instance = next(d for d in org.dc if d.product == "jira")
    window = instance.audit.window(org.clock)
    expected = [int(e.event_id) for e in reversed(window[0:len(window)])]
    first = get(sim, f"{dc(sim)}/rest/auditing/1.0/events?limit=7", DC_ADMIN).json()
    # an event arriving mid-walk does not shift the pages of a pinned walk
    instance.audit.add(AuditEvent("999999", org.clock + timedelta(minutes=1), org.clock + timedelta(minutes=1),
                                  "User created", "admin", {"category": "User management"}))
    org.clock += timedelta(minutes=5)
    ids = [e["id"] for e in first["entities"]]
    paging = first["pagingInfo"]
    while not paging["lastPage"]:
        body = get(sim, f"{dc(sim)}/rest/auditing/1.0/events?limit=7&pageCursor={paging['nextPageCursor']}",
                   DC_ADMIN).json()
        ids += [e["id"] for e in body["entities"]]
        paging = body["pagingInfo"]
    assert ids == expected
    fresh = get(sim, f"{dc(sim)}/rest/auditing/1.0/events?limit=1", DC_ADMIN).json()
    assert fresh["entities"][0]["id"] == 999999
    assert fresh["entities"][0]["timestamp"].endswith("Z")
    capped = get(sim, f"{dc(sim)}/rest/auditing/1.0/events?limit=50000", DC_ADMIN).json()
    assert capped["pagingInfo"]["limit"] == 1000
    since = (org.clock - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = get(sim, f"{dc(sim)}/rest/auditing/1.0/events?from={since}&limit=1000", DC_ADMIN).json()
    assert len(recent["entities"]) == len(instance.audit.window(org.clock, org.clock - timedelta(days=20)))


def test_dc_dashboard_paging(sim):
    instance = next(d for d in sim.orgs[0].dc if d.product == "jira")
    seen, url = [], f"{dc(sim)}/rest/api/2/dashboard?maxResults=1"
    while url:
        body = get(sim, url, DC_ADMIN).json()
        seen += [d["id"] for d in body["dashboards"]]
        url = body.get("next", "").replace("http://sim.local", "")
    assert body["total"] == len(seen)
    assert "prev" in body or body["startAt"] == 0
    admin = sim.credential(DC_ADMIN).username
    visible = [d for d in instance.jira.dashboards
               if d.share_permissions or d.owner_account_id == admin]
    assert sorted(seen) == sorted(d.dashboard_id for d in visible)


def test_dc_admin_only_endpoints(sim):
    admin_only = ("/rest/api/2/user/list", "/rest/api/2/group/member?groupname=jira-software-users",
                  "/rest/api/2/applicationrole", "/rest/api/2/role", "/rest/api/2/permissionscheme",
                  "/rest/auditing/1.0/events", "/rest/plugins/1.0/",
                  "/rest/plugins/1.0/installed-marketplace?updates=true")
    for path in admin_only:
        assert get(sim, dc(sim) + path, DC_USER).status_code == 403, path
        assert get(sim, dc(sim) + path, None).status_code == 401, path
        assert get(sim, dc(sim) + path, DC_ADMIN).status_code == 200, path
    visible = get(sim, f"{dc(sim)}/rest/api/2/project", DC_USER).json()
    assert visible  # the plain user browses some projects, but their configuration is for admins
    scheme = f"{dc(sim)}/rest/api/2/project/{visible[0]['key']}/permissionscheme"
    assert get(sim, scheme, DC_USER).status_code == 403
    assert get(sim, scheme, DC_ADMIN).status_code == 200
    assert get(sim, f"{dc(sim)}/rest/api/2/application-properties", DC_USER).status_code == 404
    assert get(sim, f"{dc(sim)}/rest/api/2/application-properties", None).status_code == 403
    assert get(sim, f"{dc(sim)}/rest/api/2/serverInfo", None).status_code == 200
    bad = httpx.Headers({"Authorization": "Bearer nope"})

    async def main():
        async with sim.client() as client:
            return await client.get(f"{dc(sim)}/rest/api/2/user/list", headers=bad)

    assert asyncio.run(main()).status_code == 401


def test_dc_posture_data(sim):
    exposed, hardened = org_of(sim, "exposed"), org_of(sim, "hardened")
    mode = {org: get(sim, f"{dc(sim, org)}/rest/api/2/application-properties?key=jira.mode", DC_ADMIN, org).json()
            for org in (exposed, hardened)}
    assert mode[exposed]["value"] == "public" and mode[hardened]["value"] == "private"
    info = get(sim, f"{dc(sim, exposed)}/rest/api/2/serverInfo", None, exposed).json()
    assert info["deploymentType"] == "Server" and info["versionNumbers"] == [9, 12, 4]
    apps = get(sim, f"{dc(sim)}/rest/plugins/1.0/installed-marketplace?updates=true", DC_ADMIN).json()["plugins"]
    assert {a["key"]: a["updateAvailable"] for a in apps} == {"com.example.reports.jira": True,
                                                             "com.example.sync.jira": False}
    everything = get(sim, f"{dc(sim)}/rest/plugins/1.0/", DC_ADMIN).json()["plugins"]
    assert [a["userInstalled"] for a in everything] == [False, True, True]
    anonymous = get(sim, f"{dc(sim, exposed)}/rest/api/2/mypermissions?permissions=USER_PICKER,BROWSE_PROJECTS",
                    None, exposed).json()["permissions"]
    assert anonymous["USER_PICKER"]["havePermission"] and anonymous["BROWSE_PROJECTS"]["havePermission"]
    projects = get(sim, f"{dc(sim, hardened)}/rest/api/2/project", None, hardened).json()
    assert projects == []
    role = get(sim, f"{dc(sim)}/rest/api/2/project/FIN/role/10002", DC_ADMIN).json()
    assert {a["type"] for a in role["actors"]} == {"atlassian-user-role-actor", "atlassian-group-role-actor"}
    scheme = get(sim, f"{dc(sim)}/rest/api/2/permissionscheme?expand=all", DC_ADMIN).json()["permissionSchemes"]
    assert any(g["holder"].get("group", {}).get("name") == "jira-administrators"
               for s in scheme for g in s["permissions"])


def test_dc_routes_answer_404_for_a_confluence_instance(sim):
    confluence = next(d for d in sim.orgs[0].dc if d.product == "confluence")
    response = get(sim, f"/dc/{confluence.name}/rest/api/2/serverInfo", DC_ADMIN)
    assert response.status_code == 404
    assert get(sim, f"/dc/{confluence.name}/rest/plugins/1.0/", DC_ADMIN).status_code == 404


def test_restrict_refuses_some_projects_spaces_and_groups_to_one_credential_only():
    sim = Simulator.generate("tiny", seed=7)
    site = sim.orgs[0].sites[0]
    refused = sim.restrict(ADMIN, every=3)
    projects = [p.project_id for p in site.jira.projects]
    assert refused["projects"] == projects[2::3] and refused["spaces"] and refused["groups"]
    no, yes = refused["projects"][0], next(p for p in projects if p not in refused["projects"])
    group = refused["groups"][0]
    base = f"/site/{site.name}"
    paths = [f"{base}/rest/api/3/project/{no}/role", f"{base}/rest/api/3/project/{yes}/role",
             f"{base}/rest/api/3/project/{no}/permissionscheme",
             f"{base}/rest/api/3/group/member?groupId={group}&includeInactiveUsers=true",
             f"{base}/wiki/api/v2/spaces/{refused['spaces'][0]}/permissions",
             f"{base}/wiki/rest/api/group/{group}/membersByGroupId", f"{base}/rest/api/3/project/search"]
    restricted = [r.status_code for r in call(sim, [("GET", p, ADMIN, 0) for p in paths])]
    assert restricted == [403, 200, 403, 403, 403, 403, 200]
    sim.restrict(ADMIN, every=0)
    assert {r.status_code for r in call(sim, [("GET", p, ADMIN, 0) for p in paths])} == {200}


def test_dc_says_who_a_token_authenticates_as(sim):
    """Jira `myself` and Confluence `user/current`: how the connector learns its own Data Center account."""
    jira = get(sim, f"{dc(sim)}/rest/api/2/myself", DC_ADMIN)
    assert jira.status_code == 200 and jira.json()["name"] == sim.credential(DC_ADMIN).username
    assert get(sim, f"{dc(sim)}/rest/api/2/myself", None).status_code == 401
    confluence = next(d for d in sim.orgs[0].dc if d.product == "confluence").name
    current = get(sim, f"/dc/{confluence}/confluence/rest/api/user/current", DC_ADMIN)
    assert current.status_code == 200 and current.json()["username"] == sim.credential(DC_ADMIN).username
