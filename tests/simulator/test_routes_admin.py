"""Behaviour of the simulated Atlassian Administration APIs (`/gateway` = https://api.atlassian.com).

Each pagination style walked to the end equals the model; caps silently lower the page
size; auth (401, org isolation); Guard plan gaps; events `from`/`to`; events-stream
polling with a saved cursor; the v2 user search against the model; user management.
"""

from __future__ import annotations

import asyncio
import functools
import json
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from atlassian_simulator.core import Simulator
from atlassian_simulator.lazy import AuditEvent, to_ms
from atlassian_simulator.server.routes.admin_events import RETENTION

GW = "/gateway"


@functools.cache
def estate(size: str = "tiny") -> Simulator:
    """Shared, never mutated: seed 7, three orgs (exposed, hardened, unguarded)."""
    return Simulator.generate(size, seed=7, orgs=3)


def run(coro):
    return asyncio.run(coro)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def get(client, sim, path, org=0, **kw):
    return await client.get(GW + path if path.startswith("/admin") or path.startswith("/users") else path,
                            auth=sim.auth("org-admin-key", org=org), **kw)


async def post(client, sim, path, body, org=0):
    return await client.post(GW + path, auth=sim.auth("org-admin-key", org=org), json=body)


async def walk_v1(client, sim, path, org=0, via_meta=False):
    """Follows `links.next` (absolute URLs) or, with `via_meta`, `meta.next` as a bare cursor."""
    rows, pages, url = [], 0, path
    while True:
        r = await get(client, sim, url, org=org)
        assert r.status_code == 200, r.text
        body = r.json()
        rows += body["data"]
        pages += 1
        if not body["data"] and pages > 1 and "next" in body.get("links", {}):
            raise AssertionError("an empty page kept a next link")
        if via_meta:
            token = body.get("meta", {}).get("next")
            if not token:
                return rows, pages
            sep = "&" if "?" in path else "?"
            url = f"{path}{sep}cursor={token}"
        else:
            if "next" not in body["links"]:
                return rows, pages
            url = path_of(body["links"]["next"])


async def walk_v2_get(client, sim, path, org=0):
    rows, pages, url = [], 0, path
    while True:
        r = await get(client, sim, url, org=org)
        assert r.status_code == 200, r.text
        body = r.json()
        rows += body["data"]
        pages += 1
        if "next" not in body["links"]:
            return rows, pages
        url = f"{path}{'&' if '?' in path else '?'}cursor={body['links']['next']}"


async def walk_v2_post(client, sim, path, body, org=0):
    rows, pages, request = [], 0, dict(body)
    while True:
        r = await post(client, sim, path, request, org=org)
        assert r.status_code == 200, r.text
        page = r.json()
        rows += page["data"]
        pages += 1
        if "next" not in page["links"]:
            return rows, pages
        request = {"cursor": page["links"]["next"]}


def directory_accounts(org, directory_id=None):
    return [a for a in org.accounts if a.account_type == "atlassian"
            and (directory_id is None or a.directory_id == directory_id)]


# --- auth and isolation --------------------------------------------------------------------------


def test_bad_or_missing_credentials_are_401_and_site_tokens_do_not_work_on_the_gateway():
    sim = estate()

    async def main():
        async with sim.client() as client:
            orgs = "/gateway/admin/v1/orgs"
            assert (await client.get(orgs)).status_code == 401
            assert (await client.get(orgs, headers={"Authorization": "Bearer nope"})).status_code == 401
            for label in ("site-admin-token", "site-user-token", "scoped-admin-token"):
                r = await client.get(orgs, auth=sim.auth(label))
                assert r.status_code == 401, label
                assert r.json()["errors"][0]["status"] == "401"
            r = await client.get(f"/gateway/users/{sim.orgs[0].accounts[0].account_id}/manage")
            assert r.status_code == 401

    run(main())


def test_a_key_sees_only_its_own_organization():
    sim = estate()

    async def main():
        async with sim.client() as client:
            for i, org in enumerate(sim.orgs):
                r = await get(client, sim, "/admin/v1/orgs", org=i)
                assert [o["id"] for o in r.json()["data"]] == [org.org_id]
            other = sim.orgs[1].org_id
            r = await get(client, sim, f"/admin/v1/orgs/{other}", org=0)
            assert r.status_code == 404 and r.json()["errors"][0]["code"] == "ADMIN-404-2"
            r = await get(client, sim, f"/admin/v2/orgs/{other}/directories/-/users", org=0)
            assert r.status_code == 404
            r = await get(client, sim, f"/admin/v1/orgs/{other}/domains", org=0)
            assert r.status_code == 403  # the spec documents only a permission error here
            foreign = sim.orgs[1].accounts[0].account_id
            r = await get(client, sim, f"/users/{foreign}/manage", org=0)
            assert r.status_code == 404 and r.json() == {"key": "accountNotFound"}

    run(main())


def test_only_reads_are_routed_and_bad_parameters_are_400():
    sim = estate()
    org = sim.orgs[0]

    async def main():
        async with sim.client() as client:
            a = sim.auth("org-admin-key")
            base = f"/gateway/admin/v1/orgs/{org.org_id}"
            assert (await client.post(f"{base}/policies", auth=a, json={})).status_code == 405
            assert (await client.delete(f"{base}/policies/{org.policies[0].policy_id}", auth=a)).status_code == 405
            r = await client.get(f"{base}/users?cursor=%%%", auth=a)
            assert r.status_code == 400 and r.json()["errors"][0]["code"] == "ADMIN-400-1"
            r = await client.get(f"{base}/events?limit=0", auth=a)
            assert r.status_code == 400
            r = await client.get(f"{base}/events?from=yesterday", auth=a)
            assert r.status_code == 400 and r.json()["errors"][0]["code"] == "ADMIN-400-3"
            r = await client.post(f"/gateway/admin/v2/orgs/{org.org_id}/directories/-/users/search", auth=a,
                                  json={"cursor": "not a cursor!"})
            assert r.status_code == 400 and r.json()["errors"][0]["code"] == "ADMIN-400-1"
            r = await client.post(f"/gateway/admin/v2/orgs/{org.org_id}/directories/-/users/search", auth=a,
                                  json={"searchTerm": "a", "emails": ["a@b.c"]})
            assert r.status_code == 400
            r = await client.post(f"/gateway/admin/v2/orgs/{org.org_id}/directories/-/users/search", auth=a,
                                  json={"groupIds": [str(i) for i in range(11)]})
            assert r.status_code == 400
            r = await client.get(f"/gateway/admin/v2/orgs/{org.org_id}/directories/nope/users", auth=a)
            assert r.status_code == 404

    run(main())


def test_responses_are_deterministic_and_never_carry_a_secret():
    first, second = Simulator.generate("tiny", seed=7), Simulator.generate("tiny", seed=7)
    org = first.orgs[0]
    secrets = [c.secret for c in org.credentials]
    paths = [f"/admin/v1/orgs/{org.org_id}/users", f"/admin/v1/orgs/{org.org_id}/events?limit=50",
             f"/admin/v1/orgs/{org.org_id}/events-stream?limit=50",
             f"/admin/api-access/v1/orgs/{org.org_id}/api-tokens",
             f"/admin/v2/orgs/{org.org_id}/directories/-/users?limit=100"]

    async def bodies(sim):
        async with sim.client() as client:
            return [(await get(client, sim, p)).content for p in paths]

    a, b = run(bodies(first)), run(bodies(second))
    assert a == b
    for body in a:
        assert not any(s.encode() in body for s in secrets)


# --- v1 pagination -------------------------------------------------------------------------------


def test_v1_managed_users_walked_to_the_end_equal_the_managed_accounts():
    sim = estate("small")
    org = sim.orgs[0]
    managed = [a.account_id for a in org.accounts if a.claim_status == "managed" and a.account_type == "atlassian"]

    async def main():
        async with sim.client() as client:
            r = await get(client, sim, f"/admin/v1/orgs/{org.org_id}/users")
            assert r.json()["meta"]["total"] == len(managed)
            assert len(r.json()["data"]) == 100 and r.json()["links"]["next"].startswith("http://sim.local/gateway/")
            rows, pages = await walk_v1(client, sim, f"/admin/v1/orgs/{org.org_id}/users")
            assert [u["account_id"] for u in rows] == managed
            assert pages == -(-len(managed) // 100)
            rows, _ = await walk_v1(client, sim, f"/admin/v1/orgs/{org.org_id}/users?limit=7")
            assert [u["account_id"] for u in rows] == managed
            rows, _ = await walk_v1(client, sim, f"/admin/v1/orgs/{org.org_id}/domains?limit=1")
            assert [d["id"] for d in rows] == [d.domain_id for d in org.domains]

    run(main())


def test_v1_policies_walked_by_meta_next_and_filtered_by_type():
    sim = estate()
    org = sim.orgs[0]

    async def main():
        async with sim.client() as client:
            rows, pages = await walk_v1(client, sim, f"/admin/v1/orgs/{org.org_id}/policies?limit=1", via_meta=True)
            assert [p["id"] for p in rows] == [p.policy_id for p in org.policies] and pages == len(org.policies)
            r = await get(client, sim, f"/admin/v1/orgs/{org.org_id}/policies?type=ip-allowlist")
            (allowlist,) = r.json()["data"]
            assert allowlist["attributes"]["rule"] == {"in": org.policies[0].rule["ipRanges"]}
            assert allowlist["attributes"]["status"] == org.policies[0].status

    run(main())


def test_last_active_dates_follow_the_model():
    sim = estate()
    org = sim.orgs[0]
    active = next(a for a in org.accounts if a.email and a.email.startswith("posture-reader"))
    never = next(a for a in org.accounts if a.product_access and all(p.last_active is None for p in a.product_access))

    async def main():
        async with sim.client() as client:
            r = await get(client, sim, f"/admin/v1/orgs/{org.org_id}/directory/users/{active.account_id}/last-active-dates")
            data = r.json()["data"]
            assert [p["key"] for p in data["product_access"]] == [p.product_key for p in active.product_access]
            assert data["added_to_org"] == f"{active.added_to_org:%Y-%m-%d}"
            r = await get(client, sim, f"/admin/v1/orgs/{org.org_id}/directory/users/{never.account_id}/last-active-dates")
            assert r.json()["data"]["product_access"] == []

    run(main())


# --- Guard plan gap ------------------------------------------------------------------------------


def test_unguarded_org_answers_404_for_policies_403_for_events_and_serves_the_rest():
    sim = estate()
    index = next(i for i, o in enumerate(sim.orgs) if not o.guard)
    org = sim.orgs[index]
    v1, v2 = f"/admin/v1/orgs/{org.org_id}", f"/admin/v2/orgs/{org.org_id}"
    control = f"/admin/control/v1/orgs/{org.org_id}"

    async def main():
        async with sim.client() as client:
            for path in (f"{v1}/policies", f"{v1}/policies/x", f"{control}/policies", f"{control}/policies/x/resources"):
                assert (await get(client, sim, path, org=index)).status_code == 404, path
            for path in (f"{v1}/events", f"{v1}/events/x", f"{v1}/events-stream", f"{v1}/event-actions",
                         f"{control}/auth-policies"):
                assert (await get(client, sim, path, org=index)).status_code == 403, path
            r = await post(client, sim, f"{control}/users/auth-policies/bulk-fetch", {"accountIds": ["x"]}, org=index)
            assert r.status_code == 403
            for path in (v1, f"{v1}/domains", f"{v1}/users", f"{v2}/directories", f"{v2}/directories/-/users",
                         f"{v2}/directories/-/groups", f"/admin/api-access/v1/orgs/{org.org_id}/api-tokens"):
                assert (await get(client, sim, path, org=index)).status_code == 200, path
            assert (await post(client, sim, f"{v2}/workspaces", {}, org=index)).status_code == 200

    run(main())


# --- events --------------------------------------------------------------------------------------


def test_events_walked_to_the_end_newest_first_without_duplicates():
    sim = estate()
    org = sim.orgs[0]
    visible = org.events.window(org.clock, org.clock - RETENTION)
    assert len(visible) < len(org.events.window(org.clock))  # the oldest events are past the retention

    async def main():
        async with sim.client() as client:
            rows, pages = await walk_v1(client, sim, f"/admin/v1/orgs/{org.org_id}/events")
            assert len(rows) == len(visible) and pages == -(-len(visible) // 30)
            assert len({e["id"] for e in rows}) == len(rows)
            times = [e["attributes"]["time"] for e in rows]
            assert times == sorted(times, reverse=True)
            via_meta, _ = await walk_v1(client, sim, f"/admin/v1/orgs/{org.org_id}/events?limit=40", via_meta=True)
            assert [e["id"] for e in via_meta] == [e["id"] for e in rows]
            detail = await get(client, sim, f"/admin/v1/orgs/{org.org_id}/events/{rows[5]['id']}")
            assert detail.json()["data"] == rows[5]

    run(main())


def test_events_from_to_and_content_filters():
    sim = estate()
    org = sim.orgs[0]
    lo, hi = org.clock - timedelta(days=20), org.clock - timedelta(days=5)
    expected = org.events.window(org.clock, lo, hi, key="time")

    async def main():
        async with sim.client() as client:
            path = f"/admin/v1/orgs/{org.org_id}/events?from={to_ms(lo)}&to={to_ms(hi)}&limit=11"
            rows, _ = await walk_v1(client, sim, path)
            assert sorted(e["id"] for e in rows) == sorted(e.event_id for e in expected[:])
            assert all(lo <= e.time <= hi for e in expected[:])
            assert rows and all(f"{lo:%Y-%m-%dT%H:%M:%S}" <= e["attributes"]["time"][:19] <= f"{hi:%Y-%m-%dT%H:%M:%S}"
                                for e in rows)
            # an action filter scans: a short page may still have a next link, the walk finds them all
            rows, _ = await walk_v1(client, sim, f"/admin/v1/orgs/{org.org_id}/events?action=user_logged_in_as_user")
            want = [e.event_id for e in org.events.window(org.clock, org.clock - RETENTION)[:]
                    if e.action == "user_logged_in_as_user"]
            assert [e["id"] for e in rows] == want[::-1] and want
            r = await get(client, sim, f"/admin/v1/orgs/{org.org_id}/events?q=north%20korea")
            assert r.json()["data"] and all(e["attributes"]["location"]["countryName"] == "North Korea"
                                            for e in r.json()["data"])

    run(main())


def test_events_caps_silently_lower_the_page_size():
    sim = estate("small")
    org = sim.orgs[0]

    async def main():
        async with sim.client() as client:
            for endpoint in ("events", "events-stream"):
                r = await get(client, sim, f"/admin/v1/orgs/{org.org_id}/{endpoint}?limit=5000")
                assert r.status_code == 200
                assert len(r.json()["data"]) == 500 and r.json()["meta"]["page_size"] == 500
            r = await get(client, sim, f"/admin/v1/orgs/{org.org_id}/events-stream")
            assert len(r.json()["data"]) == 200  # default

    run(main())


def test_events_stream_walks_in_processing_order_and_polls_with_the_saved_cursor():
    sim = Simulator.generate("tiny", seed=7)  # mutated below: not the shared estate
    org = sim.orgs[0]
    path = f"/admin/v1/orgs/{org.org_id}/events-stream?limit=50"

    async def last_page(client, url):
        """Walks from `url` until a short page; returns (events, cursor of the last page)."""
        rows = []
        while True:
            body = (await get(client, sim, url)).json()
            rows += body["data"]
            assert body["meta"]["next"] and "next" in body["links"]  # a cursor on every ascending page
            if len(body["data"]) < 50:
                return rows, body["meta"]["next"]
            url = path_of(body["links"]["next"])

    async def main():
        async with sim.client() as client:
            rows, cursor = await last_page(client, path)
            expected = org.events.window(org.clock, org.clock - RETENTION, key="processed_at")
            assert [e["id"] for e in rows] == [e.event_id for e in expected[:]]
            processed = [e["attributes"]["processedAt"] for e in rows]
            assert processed == sorted(processed)
            poll = f"/admin/v1/orgs/{org.org_id}/events-stream?cursor={cursor}"
            again = (await get(client, sim, poll)).json()
            assert again["data"] == [] and again["meta"]["next"]
            # a late event: it happened two days ago but is processed only after the clock
            late_time = org.clock - timedelta(days=2)
            org.events.add(AuditEvent("late-0001", late_time, org.clock + timedelta(minutes=5), "user_logged_in",
                                      org.accounts[0].account_id,
                                      {"actor": {"id": org.accounts[0].account_id}, "context": [], "container": []}))
            assert (await get(client, sim, poll)).json()["data"] == []  # not processed yet
            org.clock += timedelta(minutes=10)
            fresh = (await get(client, sim, poll)).json()
            assert [e["id"] for e in fresh["data"]] == ["late-0001"]
            assert fresh["data"][0]["attributes"]["time"].startswith(f"{late_time:%Y-%m-%dT%H:%M}")
            after = (await get(client, sim, f"/admin/v1/orgs/{org.org_id}/events-stream?cursor="
                                            f"{fresh['meta']['next']}")).json()
            assert after["data"] == []
            # descending: newest processed first, no cursor on the last page
            rows_desc, _ = await walk_v1(client, sim, f"/admin/v1/orgs/{org.org_id}/events-stream?sortOrder=desc&limit=40")
            assert [e["id"] for e in rows_desc] == [e["id"] for e in rows + fresh["data"]][::-1]

    run(main())


def test_events_age_out_after_the_180_day_retention():
    sim = Simulator.generate("tiny", seed=7)  # mutated below
    org = sim.orgs[0]
    path = f"/admin/v1/orgs/{org.org_id}/events-stream?limit=10"

    async def main():
        async with sim.client() as client:
            oldest = (await get(client, sim, path)).json()["data"][0]
            assert (await get(client, sim, f"/admin/v1/orgs/{org.org_id}/events/{oldest['id']}")).status_code == 200
            org.clock += timedelta(days=3)
            assert (await get(client, sim, path)).json()["data"][0]["id"] != oldest["id"]
            r = await get(client, sim, f"/admin/v1/orgs/{org.org_id}/events/{oldest['id']}")
            assert r.status_code == 404 and r.json()["errors"][0]["code"] == "ADMIN-404-4"

    run(main())


def test_event_actions_are_the_generator_catalog():
    from atlassian_simulator.generator.audit import ORG_ACTIONS

    sim = estate()

    async def main():
        async with sim.client() as client:
            r = await get(client, sim, f"/admin/v1/orgs/{sim.orgs[0].org_id}/event-actions")
            assert [a["id"] for a in r.json()["data"]] == list(ORG_ACTIONS)

    run(main())


# --- v2 directory users and groups ---------------------------------------------------------------


def test_v2_user_search_walked_to_the_end_equals_the_directory_accounts():
    sim = estate("small")
    org = sim.orgs[0]
    search = f"/admin/v2/orgs/{org.org_id}/directories/{{d}}/users/search"

    async def main():
        async with sim.client() as client:
            rows, pages = await walk_v2_post(client, sim, search.format(d="-"), {"expand": ["platformRoles"]})
            accounts = directory_accounts(org)
            assert [u["accountId"] for u in rows] == [a.account_id for a in accounts]
            assert pages == -(-len(accounts) // 50)
            by_id = {a.account_id: a for a in accounts}
            for user in rows:
                account = by_id[user["accountId"]]
                assert user["mfaEnabled"] == account.mfa_enabled
                assert user["platformRoles"] == [f"atlassian/{r}" for r in account.platform_roles]
                assert user["claimStatus"] == account.claim_status
            for directory in org.directories:
                rows, _ = await walk_v2_post(client, sim, search.format(d=directory.directory_id), {"limit": 100})
                assert [u["accountId"] for u in rows] == [a.account_id for a in directory_accounts(org,
                                                                                                directory.directory_id)]
                assert "platformRoles" not in rows[0]  # only with expand
            # the deprecated GET walks the same users, 20 a page
            rows, pages = await walk_v2_get(client, sim, f"/admin/v2/orgs/{org.org_id}/directories/-/users")
            assert [u["accountId"] for u in rows] == [a.account_id for a in accounts]
            assert pages == -(-len(accounts) // 20)

    run(main())


def test_v2_user_filters_count_and_cap():
    sim = estate("small")
    org = sim.orgs[0]
    base = f"/admin/v2/orgs/{org.org_id}/directories/-"
    no_mfa = [a.account_id for a in directory_accounts(org) if not a.mfa_enabled]
    org_admins = [a.account_id for a in directory_accounts(org) if "org-admin" in a.platform_roles]
    group = next(g for g in org.groups if g.name == "org-admins")

    async def main():
        async with sim.client() as client:
            rows, _ = await walk_v2_post(client, sim, f"{base}/users/search", {"mfaEnabled": False})
            assert [u["accountId"] for u in rows] == no_mfa
            r = await get(client, sim, f"{base}/users/count?mfaEnabled=false")
            assert r.json() == {"count": len(no_mfa)}
            rows, _ = await walk_v2_post(client, sim, f"{base}/users/search", {"roleIds": ["atlassian/org-admin"]})
            assert [u["accountId"] for u in rows] == org_admins
            rows, _ = await walk_v2_post(client, sim, f"{base}/users/search",
                                         {"groupIds": [group.group_id], "expand": ["groups"]})
            assert sorted(u["accountId"] for u in rows) == sorted(org.memberships[group.group_id])
            assert all(f"ari:cloud:identity::group/{group.group_id}" in [g["id"] for g in u["groups"]] for u in rows)
            # the cap silently lowers the page size; a cursor carries the filters and ignores new ones
            r = await post(client, sim, f"{base}/users/search", {"limit": 1000})
            assert len(r.json()["data"]) == 100
            r = await get(client, sim, f"{base}/users?limit=1000")
            assert len(r.json()["data"]) == 100
            first = await post(client, sim, f"{base}/users/search", {"mfaEnabled": False, "limit": 5})
            second = await post(client, sim, f"{base}/users/search",
                                {"cursor": first.json()["links"]["next"], "mfaEnabled": True, "limit": 5})
            assert [u["accountId"] for u in second.json()["data"]] == no_mfa[5:10]

    run(main())


def test_v2_role_assignments_come_from_platform_roles_and_group_roles():
    sim = estate()
    org = sim.orgs[0]
    reader = next(a for a in org.accounts if a.email and a.email.startswith("posture-reader"))
    site = org.sites[0]

    async def main():
        async with sim.client() as client:
            path = f"/admin/v2/orgs/{org.org_id}/directories/-/users/{reader.account_id}/role-assignments?limit=1"
            rows, pages = await walk_v2_get(client, sim, path)
            by_resource = {r["resourceId"]: r for r in rows}
            assert pages == len(rows)
            assert by_resource[f"ari:cloud:platform::site/{site.cloud_id}"]["roles"] == ["atlassian/site-admin"]
            assert by_resource[f"ari:cloud:platform::site/{site.cloud_id}"]["directoryId"] is None
            jira = by_resource[f"ari:cloud:jira::site/{site.cloud_id}"]
            assert "atlassian/admin" in jira["roles"] and jira["directoryId"] == reader.directory_id
            group = next(g for g in org.groups if g.name.startswith("jira-admins"))
            r = await get(client, sim, f"/admin/v2/orgs/{org.org_id}/directories/-/groups/{group.group_id}"
                                       f"/role-assignments")
            assert [(x["resourceId"], x["roles"]) for x in r.json()["data"]] == \
                [(ari, [role]) for role, ari in group.role_assignments]
            # workspace ids are the same resource ARIs
            r = await post(client, sim, f"/admin/v2/orgs/{org.org_id}/workspaces", {})
            assert jira["resourceId"] in {w["id"] for w in r.json()["data"]}

    run(main())


def test_v2_groups_walked_to_the_end_and_counted():
    sim = estate("small")
    org = sim.orgs[0]
    base = f"/admin/v2/orgs/{org.org_id}/directories"

    async def main():
        async with sim.client() as client:
            rows, pages = await walk_v2_post(client, sim, f"{base}/-/groups/search", {"expand": ["counts.users"]})
            assert [g["id"] for g in rows] == [g.group_id for g in org.groups] and pages == -(-len(org.groups) // 20)
            assert all(g["counts"]["users"] == len(org.memberships[g["id"]]) for g in rows)
            rows, _ = await walk_v2_get(client, sim, f"{base}/-/groups?limit=7")
            assert [g["id"] for g in rows] == [g.group_id for g in org.groups]
            for directory in org.directories:
                r = await get(client, sim, f"{base}/{directory.directory_id}/groups/count")
                assert r.json()["count"] == sum(1 for g in org.groups if g.directory_id == directory.directory_id)
            r = await post(client, sim, f"{base}/-/groups/search", {"limit": 500})
            assert len(r.json()["data"]) == min(100, len(org.groups))
            r = await post(client, sim, f"{base}/-/groups/search", {"groupNames": ["ORG-ADMINS"]})
            assert [g["name"] for g in r.json()["data"]] == ["org-admins"]

    run(main())


def test_workspaces_page_meta_and_cap():
    sim = estate()
    org = sim.orgs[0]
    path = f"/admin/v2/orgs/{org.org_id}/workspaces"

    async def main():
        async with sim.client() as client:
            rows, pages, body, index = [], 0, {"limit": 1}, 0
            while True:
                page = (await post(client, sim, path, body)).json()
                assert page["meta"] == {"startIndex": index, "endIndex": index, "pageSize": 1,
                                        "total": len(org.workspaces)}
                rows += page["data"]
                pages += 1
                index += 1
                if "next" not in page["links"]:
                    break
                body = {"cursor": page["links"]["next"], "limit": 1}
            assert [w["attributes"]["typeKey"] for w in rows] == [w.type_key for w in org.workspaces]
            page = (await post(client, sim, path, {"limit": 5000})).json()
            assert page["meta"]["pageSize"] == 1000
            page = (await post(client, sim, path, {"query": {"field": {"name": "typeKey",
                                                                        "values": ["confluence"]}}})).json()
            assert {w["attributes"]["typeKey"] for w in page["data"]} == {"confluence"}

    run(main())


# --- tokens, control API, user management --------------------------------------------------------


def test_api_token_inventory_lists_managed_users_tokens_and_filters():
    sim = estate()
    org = sim.orgs[0]
    managed = {a.account_id for a in org.accounts if a.claim_status == "managed" and a.account_type == "atlassian"}
    expected = [t.token_id for t in org.api_tokens if t.account_id in managed]

    async def main():
        async with sim.client() as client:
            path = f"/admin/api-access/v1/orgs/{org.org_id}/api-tokens?limit=10"
            rows, _ = await walk_v1(client, sim, path)
            assert [t["id"] for t in rows] == expected
            assert len(expected) < len(org.api_tokens)  # unmanaged accounts' tokens are not the org's to see
            since = org.clock - timedelta(days=30)
            rows, _ = await walk_v1(client, sim, f"{path}&createdAtAfter={since:%Y-%m-%dT%H:%M:%SZ}")
            assert {t["id"] for t in rows} == {t.token_id for t in org.api_tokens
                                              if t.account_id in managed and t.created_at > since}
            never = [t for t in rows if t["expiresAt"] is None]
            assert never == []

    run(main())


def test_auth_policies_expose_names_only_and_bulk_fetch_maps_users():
    sim = estate()
    org = sim.orgs[0]
    sso = next(p for p in org.auth_policies if p.sso_enforced)
    synced = next(a for a in org.accounts if a.auth_policy_id == sso.policy_id)
    external = next(a for a in org.accounts if a.claim_status == "unmanaged" and a.account_type == "atlassian")
    control = f"/admin/control/v1/orgs/{org.org_id}"

    async def main():
        async with sim.client() as client:
            r = await get(client, sim, f"{control}/auth-policies")
            assert all(set(p["attributes"]) == {"name"} for p in r.json()["data"])
            assert "sso" not in json.dumps(r.json()).lower().replace("sso enforced", "")
            r = await post(client, sim, f"{control}/users/auth-policies/bulk-fetch",
                           {"accountIds": [synced.account_id, external.account_id]})
            assert r.json() == [{"email": synced.email, "accountId": synced.account_id, "policyId": sso.policy_id,
                                 "policyName": sso.name}]
            r = await get(client, sim, f"{control}/policies?type=data-security")
            (dsp,) = r.json()["data"]
            assert dsp["attributes"]["status"] in ("active", "draft")
            assert dsp["attributes"]["rule"]["export"]["effect"] == "BLOCK"
            r = await get(client, sim, f"{control}/policies/{dsp['id']}/resources")
            assert r.json()["meta"]["page_size"] == 25
            assert {x["applicationStatus"] for x in r.json()["data"]} == {"applied"}

    run(main())


def test_user_management_only_for_managed_accounts():
    sim = estate()
    org = sim.orgs[0]
    owner = next(a for a in org.accounts if a.claim_status == "managed"
                 and sum(t.account_id == a.account_id for t in org.api_tokens) > 1)
    synced = next(a for a in org.accounts if a.management_source == "synced" and a.claim_status == "managed")
    external = next(a for a in org.accounts if a.claim_status == "unmanaged" and a.account_type == "atlassian")

    async def main():
        async with sim.client() as client:
            r = await get(client, sim, f"/users/{owner.account_id}/manage?privileges=apiToken.read")
            assert r.json() == {"apiToken.read": {"allowed": True}}
            r = await get(client, sim, f"/users/{synced.account_id}/manage")
            assert r.json()["email.set"] == {"allowed": False, "reason": {"key": "externalDirectory.scim"}}
            r = await get(client, sim, f"/users/{external.account_id}/manage/api-tokens")
            assert r.status_code == 403 and r.json() == {"key": "forbidden.targetUnverified"}
            r = await get(client, sim, f"/users/{owner.account_id}/manage/api-tokens")
            assert sorted(t["id"] for t in r.json()) == sorted(t.token_id for t in org.api_tokens
                                                               if t.account_id == owner.account_id)
            r = await get(client, sim, f"/users/{owner.account_id}/manage/profile")
            assert r.json()["account"]["email"] == owner.email

    run(main())


def test_every_gateway_route_refuses_a_request_without_the_key():
    sim = estate()
    org = sim.orgs[0]

    async def main():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://sim.local") as c:
            from atlassian_simulator.server.routes import admin

            for route in admin.ROUTES:
                path = GW + route.path.format(org_id=org.org_id, directory_id="-", account_id="x", group_id="x",
                                              domain_id="x", policy_id="x", event_id="x")
                method = sorted(route.methods - {"HEAD"})[0]
                r = await c.request(method, path)
                assert r.status_code == 401, path

    run(main())
