"""Contract test of the simulated Atlassian Administration APIs (`/gateway` = api.atlassian.com).

On a tiny and a small estate (seed 7, three organizations: exposed, hardened, unguarded),
every route in `routes/admin.py` is called with the org API key: the first page and a later
page of every paged endpoint, and one representative of every id-parameterised path. Each
2xx response (and each error whose status the spec declares) whose path an official spec
covers must validate against it. Endpoints no spec covers are collected and must be exactly
the documented list (`NO_SPEC`, which the simulator README repeats).
"""

from __future__ import annotations

import asyncio
import functools
from urllib.parse import urlsplit

import pytest
from atlassian_simulator.core import SIM_BASE, Simulator
from atlassian_simulator.server.routes import admin

from tests.contract import spec_index
from tests.contract.spec_index import SpecDefect, SpecLookupError, locate, response_schema, validate

GW = "/gateway"

#: Admin endpoints no published OpenAPI document covers (they follow DIGEST.md / checks.md).
NO_SPEC = {
    ("GET", "/admin/api-access/v1/orgs/{org_id}/api-tokens"),
    ("GET", "/admin/control/v1/orgs/{org_id}/policies"),
    ("GET", "/admin/control/v1/orgs/{org_id}/policies/{policy_id}/resources"),
    ("GET", "/admin/control/v1/orgs/{org_id}/auth-policies"),
    ("POST", "/admin/control/v1/orgs/{org_id}/users/auth-policies/bulk-fetch"),
}


@functools.cache
def estate(size: str) -> Simulator:
    return Simulator.generate(size, seed=7, orgs=3)


def _path(url_or_path: str) -> str:
    parts = urlsplit(url_or_path)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Recorder:
    """Calls the simulator and checks every response against the spec covering its path."""

    def __init__(self, sim: Simulator, org_index: int):
        self.sim = sim
        self.org = sim.orgs[org_index]
        self.auth = sim.auth("org-admin-key", org=org_index)
        self.hit: set[tuple[str, str]] = set()
        self.uncovered: set[tuple[str, str]] = set()
        self.errors: list[str] = []
        self.validated = 0

    async def call(self, client, method: str, template: str, *, url: str | None = None, json=None, **values):
        """`template` is the route path (relative to /gateway); `url` overrides it (a next link)."""
        self.hit.add((method, template))
        path = url or GW + template.format(org_id=self.org.org_id, **values)
        response = await client.request(method, path, auth=self.auth, json=json)
        match = locate(method, _path(path))
        if match is None:
            self.uncovered.add((method, template))
            return response
        body = response.json() if response.content else None
        try:
            response_schema(match.spec, match.template, method, response.status_code)
        except SpecLookupError:
            if response.status_code < 300:
                self.errors.append(f"{method} {path}: {response.status_code} not declared by {match.spec}")
            return response  # an undeclared error status (e.g. the Guard plan gap): nothing to check
        problems = validate(match.spec, match.template, method, response.status_code, body)
        self.validated += 1
        self.errors.extend(f"{method} {path} [{response.status_code}]: {p}" for p in problems)
        return response


async def exercise(rec: Recorder) -> None:
    org = rec.org
    async with rec.sim.client() as client:
        c = functools.partial(rec.call, client)
        V1, V2 = "/admin/v1/orgs/{org_id}", "/admin/v2/orgs/{org_id}"
        d = next(x for x in org.directories).directory_id

        await c("GET", "/admin/v1/orgs")
        await c("GET", V1)
        r = await c("GET", V1 + "/domains", url=f"{GW}/admin/v1/orgs/{org.org_id}/domains?limit=1")
        await c("GET", V1 + "/domains", url=_path(r.json()["links"]["next"]))
        await c("GET", V1 + "/domains/{domain_id}", domain_id=org.domains[-1].domain_id)
        await c("GET", V1 + "/domains/{domain_id}", domain_id="no-such-domain")
        r = await c("GET", V1 + "/users")
        if "next" in r.json()["links"]:
            await c("GET", V1 + "/users", url=_path(r.json()["links"]["next"]))
        else:
            r = await c("GET", V1 + "/users", url=f"{GW}/admin/v1/orgs/{org.org_id}/users?limit=3")
            await c("GET", V1 + "/users", url=_path(r.json()["links"]["next"]))
        reader = next(a for a in org.accounts if a.email and a.email.startswith("posture-reader"))
        await c("GET", V1 + "/directory/users/{account_id}/last-active-dates", account_id=reader.account_id)
        await c("GET", V1 + "/directory/users/{account_id}/last-active-dates", account_id="712020:nobody")

        r = await c("GET", V1 + "/policies", url=f"{GW}/admin/v1/orgs/{org.org_id}/policies?limit=1")
        if org.guard:
            await c("GET", V1 + "/policies", url=_path(r.json()["links"]["next"]))
            await c("GET", V1 + "/policies", url=f"{GW}/admin/v1/orgs/{org.org_id}/policies?type=ip-allowlist")
            await c("GET", V1 + "/policies/{policy_id}", policy_id=org.policies[0].policy_id)
        await c("GET", V1 + "/policies/{policy_id}", policy_id="no-such-policy")

        r = await c("GET", V1 + "/events", url=f"{GW}/admin/v1/orgs/{org.org_id}/events?limit=7")
        if org.guard:
            await c("GET", V1 + "/events", url=_path(r.json()["links"]["next"]))
            await c("GET", V1 + "/events", url=f"{GW}/admin/v1/orgs/{org.org_id}/events?action=user_logged_in&limit=3")
            await c("GET", V1 + "/events/{event_id}", event_id=r.json()["data"][0]["id"])
        await c("GET", V1 + "/events/{event_id}", event_id="no-such-event")
        r = await c("GET", V1 + "/events-stream", url=f"{GW}/admin/v1/orgs/{org.org_id}/events-stream?limit=5")
        if org.guard:
            await c("GET", V1 + "/events-stream", url=_path(r.json()["links"]["next"]))
            await c("GET", V1 + "/events-stream",
                    url=f"{GW}/admin/v1/orgs/{org.org_id}/events-stream?sortOrder=desc&limit=5")
        await c("GET", V1 + "/event-actions")

        r = await c("GET", V2 + "/directories", url=f"{GW}/admin/v2/orgs/{org.org_id}/directories?limit=1")
        if "next" in r.json()["links"]:
            await c("GET", V2 + "/directories",
                    url=f"{GW}/admin/v2/orgs/{org.org_id}/directories?cursor={r.json()['links']['next']}")
        D = V2 + "/directories/{directory_id}"
        r = await c("GET", D + "/users", directory_id="-")
        await c("GET", D + "/users", url=f"{GW}/admin/v2/orgs/{org.org_id}/directories/-/users?cursor="
                                         f"{r.json()['links']['next']}")
        expand = ["platformRoles", "counts.resources", "productAccess", "groups"]
        r = await c("POST", D + "/users/search", directory_id="-", json={"expand": expand, "limit": 10})
        await c("POST", D + "/users/search", directory_id="-", json={"cursor": r.json()["links"]["next"]})
        await c("POST", D + "/users/search", directory_id=d, json={"mfaEnabled": False, "limit": 5})
        await c("GET", D + "/users/count", directory_id="-")
        await c("GET", D + "/users/stats", directory_id="-")
        await c("GET", D + "/users/{account_id}", directory_id="-", account_id=reader.account_id)
        await c("GET", D + "/users/{account_id}", directory_id="-", account_id="712020:nobody")
        admin_ = next(a for a in org.accounts if "org-admin" in a.platform_roles)
        r = await c("GET", D + "/users/{account_id}/role-assignments", url=f"{GW}/admin/v2/orgs/{org.org_id}/"
                    f"directories/-/users/{reader.account_id}/role-assignments?limit=2")
        await c("GET", D + "/users/{account_id}/role-assignments", url=f"{GW}/admin/v2/orgs/{org.org_id}/"
                f"directories/-/users/{reader.account_id}/role-assignments?cursor={r.json()['links']['next']}")
        await c("GET", D + "/users/{account_id}/role-assignments", directory_id="-", account_id=admin_.account_id)

        r = await c("GET", D + "/groups", url=f"{GW}/admin/v2/orgs/{org.org_id}/directories/-/groups?limit=5")
        await c("GET", D + "/groups", url=f"{GW}/admin/v2/orgs/{org.org_id}/directories/-/groups?cursor="
                                          f"{r.json()['links']['next']}")
        r = await c("POST", D + "/groups/search", directory_id="-", json={"expand": ["counts.users", "counts.resources"],
                                                                      "limit": 5})
        await c("POST", D + "/groups/search", directory_id="-", json={"cursor": r.json()["links"]["next"]})
        await c("GET", D + "/groups/count", directory_id=d)
        await c("GET", D + "/groups/stats", directory_id="-")
        admins = next(g for g in org.groups if g.role_assignments)
        await c("GET", D + "/groups/{group_id}", directory_id="-", group_id=admins.group_id)
        await c("GET", D + "/groups/{group_id}", directory_id="-", group_id="no-such-group")
        await c("GET", D + "/groups/{group_id}/role-assignments", directory_id="-", group_id=admins.group_id)

        r = await c("POST", V2 + "/workspaces", json={"limit": 1})
        await c("POST", V2 + "/workspaces", json={"cursor": r.json()["links"]["next"]})

        api = "/admin/api-access/v1/orgs/{org_id}/api-tokens"
        r = await c("GET", api, url=f"{GW}/admin/api-access/v1/orgs/{org.org_id}/api-tokens?limit=2")
        await c("GET", api, url=_path(r.json()["links"]["next"]))
        ctl = "/admin/control/v1/orgs/{org_id}"
        await c("GET", ctl + "/policies", url=f"{GW}/admin/control/v1/orgs/{org.org_id}/policies?type=data-security")
        await c("GET", ctl + "/policies/{policy_id}/resources",
                policy_id=org.policies[0].policy_id if org.policies else "none")
        await c("GET", ctl + "/auth-policies")
        await c("POST", ctl + "/users/auth-policies/bulk-fetch", json={"accountIds": [reader.account_id]})

        external = next(a for a in org.accounts if a.claim_status == "unmanaged" and a.account_type == "atlassian")
        token_owner = next(t.account_id for t in org.api_tokens
                           if any(a.account_id == t.account_id and a.claim_status == "managed" for a in org.accounts))
        await c("GET", "/users/{account_id}/manage", account_id=reader.account_id)
        await c("GET", "/users/{account_id}/manage", account_id=external.account_id)
        await c("GET", "/users/{account_id}/manage", account_id="712020:nobody")
        await c("GET", "/users/{account_id}/manage/profile", account_id=reader.account_id)
        await c("GET", "/users/{account_id}/manage/api-tokens", account_id=token_owner)


#: Applied for this test only: tests/contract/test_spec_index.py uses this very defect as its example of
#: an *unregistered* one, so it cannot sit in KNOWN_SPEC_DEFECTS (the lead may move it there).
ACCOUNT_ID_PATTERN = SpecDefect(
    reason=(
        "AccountId.pattern is '[a-zA-Z0-9_|:-]{1,128}\\n': a YAML block-scalar artifact leaves a literal newline at "
        "its end, so no account id matches, not even the schema's own example '557057:4f9acfd2-6155-...'."
    ),
    relax=("/components/schemas/AccountId/pattern",),
)


@pytest.mark.parametrize("size", ["tiny", "small"])
@pytest.mark.parametrize("org_index", [0, 1, 2])
def test_every_admin_endpoint_matches_its_spec(size, org_index, monkeypatch):
    monkeypatch.setitem(spec_index.KNOWN_SPEC_DEFECTS,
                        ("admin-user-management", "/users/{account_id}/manage/profile", "GET"), ACCOUNT_ID_PATTERN)
    sim = estate(size)
    rec = Recorder(sim, org_index)
    asyncio.run(exercise(rec))
    assert rec.errors == [], "\n".join(rec.errors[:40])
    assert rec.validated > 30
    served = {(m, r.path) for r in admin.ROUTES for m in r.methods if m != "HEAD"}
    assert served - rec.hit == set(), "routes never exercised by the contract test"
    print(f"\n[{size} org {org_index} {sim.orgs[org_index].config['profile']}] endpoints covered by no spec:")
    for method, template in sorted(rec.uncovered):
        print(f"  {method} {template}")
    assert rec.uncovered == NO_SPEC


def test_profiles_cover_guard_and_no_guard():
    sim = estate("tiny")
    assert [o.config["profile"] for o in sim.orgs] == ["exposed", "hardened", "unguarded"]
    assert [o.guard for o in sim.orgs] == [True, True, False]
    assert SIM_BASE.startswith("http")
