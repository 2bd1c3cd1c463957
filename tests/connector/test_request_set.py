"""The minimal request set (issue 12): values come from the cheapest listing that carries them, and the
rows are the same as the per-entity reads give.

Each test reads a few resources of the small simulated organization straight from their dlt resources
(no pipeline, no dbt): once as the connector reads them, once from a server that ignores what the
cheap path relies on, and compares rows and request counts.
"""

from __future__ import annotations

import json

import httpx
import pytest
from atlassian_posture.connector.config import load_tenants
from atlassian_posture.connector.handover import Handover
from atlassian_posture.connector.helpers import Connections, Coverage
from atlassian_posture.connector.resources import apps, confluence, jira, org, org_roles
from atlassian_posture.connector.resources.site_members import CONFLUENCE, JIRA

ORG_ROLES = ("org_user_role_assignments", "cloud")
LINEAGE = {"_org_key", "_org_id", "_site", "_product", "_deployment", "_tenant"}


class Rewriting(httpx.BaseTransport):
    """A real HTTP transport that ignores what a look-alike server might: the named users search body filters
    or query parameters (`drop`), or a whole endpoint (`refuse`: 403)."""

    def __init__(self, drop: tuple[str, ...] = (), refuse: str | None = None):
        self.inner, self.drop, self.refuse = httpx.HTTPTransport(), drop, refuse

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and set(self.drop) & set(request.url.params):
            url = request.url
            for name in self.drop:
                url = url.copy_remove_param(name)
            request = httpx.Request("GET", url, headers=request.headers)
        if self.refuse and request.url.path.endswith(self.refuse):
            return httpx.Response(403, json={"errorMessages": ["refused by the test"]})
        if request.method == "POST" and request.url.path.endswith("/users/search"):
            body = json.loads(request.read() or b"{}")
            if "cursor" not in body:
                body = {k: v for k, v in body.items() if k not in self.drop}
            request = httpx.Request("POST", request.url, headers={k: v for k, v in request.headers.items()
                                                                  if k.lower() != "content-length"}, json=body)
        return self.inner.handle_request(request)


def read(served, names: list[str], transport: httpx.BaseTransport | None = None, family=org,
         handover: Handover | None = None) -> tuple[dict, dict]:
    """(table -> canonical rows, (resource, deployment) -> coverage entry) of the named resources of one
    family, in the family's order (dlt interleaves them; a hand-over buffers instead)."""
    sim, base = served
    orgs, credentials = sim.connector_config(base)
    connections, coverage = Connections(load_tenants(orgs, credentials), transport=transport), Coverage()
    tables: dict[str, set] = {}
    try:
        connections.resolve_org_ids()
        for resource in family.build(connections, coverage, *([handover] if handover else [])):
            if resource.name not in names:
                continue
            for item in resource:
                rows = item if isinstance(item, list) else [item]
                tables.setdefault(resource.name, set()).update(canonical(r) for r in rows if isinstance(r, dict))
    finally:
        connections.close()
    return tables, {(e.resource, e.tenant.rpartition("/")[2]): e for e in coverage.entries}


def canonical(row: dict) -> str:
    return json.dumps({k: v for k, v in row.items() if k not in LINEAGE}, sort_keys=True)


@pytest.fixture(scope="module")
def role_reads(served):
    names = ["org_workspaces", "org_group_role_assignments", "org_user_role_assignments"]
    handed = ["org_users", "org_user_role_assignments"]
    return {"filtered": read(served, names),
            "handed": read(served, [*names, "org_users"], handover=Handover(handed)),
            "ignoring": read(served, names, Rewriting(("accountIds", "resourceIds", "roleIds"))),
            "no_roles": read(served, names, Rewriting(("roleIds",)))}


def test_user_role_assignments_come_from_filtered_searches_with_the_per_user_rows(role_reads):
    (filtered, cheap), (per_user, dear) = role_reads["filtered"], role_reads["ignoring"]
    assert filtered["org_user_role_assignments"] == per_user["org_user_role_assignments"]
    assert any('"atlassian/admin"' in r for r in filtered["org_user_role_assignments"])
    assert cheap[ORG_ROLES].status == dear[ORG_ROLES].status == "ok"
    assert cheap[ORG_ROLES].reason == ""
    # the small org has ~100 users: one call each before, a few dozen searches now
    assert cheap[ORG_ROLES].stats.requests * 2 < dear[ORG_ROLES].stats.requests
    # the group listing is read once and charged to its own table
    assert filtered["org_group_role_assignments"] == per_user["org_group_role_assignments"]


def test_the_users_listing_org_users_reads_is_not_read_again_for_the_roles(role_reads):
    (filtered, alone), (handed, shared) = role_reads["filtered"], role_reads["handed"]
    assert handed["org_user_role_assignments"] == filtered["org_user_role_assignments"]
    assert "counts" not in next(iter(handed["org_users"]))  # asked for the roles, not kept in the user rows
    saved = alone[ORG_ROLES].stats.requests - shared[ORG_ROLES].stats.requests
    assert saved == shared[("org_users", "cloud")].stats.requests > 0


def test_a_server_ignoring_the_search_filters_is_read_per_user(role_reads):
    _, coverage = role_reads["ignoring"]
    assert "ignored the accountIds filter" in coverage[ORG_ROLES].reason


def test_a_server_ignoring_the_role_filter_names_no_one_admin_wrongly(role_reads):
    """Honouring accountIds but not roleIds: every user on a site would hold every role there. The
    per-user answers contradict the searches, so every user is read per user."""
    (filtered, _), (lax, coverage) = role_reads["filtered"], role_reads["no_roles"]
    assert lax["org_user_role_assignments"] == filtered["org_user_role_assignments"]
    assert coverage[ORG_ROLES].reason.startswith("per-user role assignments")


def test_role_actors_of_company_managed_projects_need_no_role_map(served):
    """Company-managed projects use the global roles: their actors are read without the per-project role map,
    and the rows equal those read with it (the catalogue refused, every project reads its map)."""
    names = ["jira_project_roles", "jira_projects", "jira_role_actors"]
    cheap, cheap_coverage = read(served, names, family=jira)
    dear, dear_coverage = read(served, names, Rewriting(refuse="/rest/api/3/role"), family=jira)
    assert cheap["jira_role_actors"] == dear["jira_role_actors"] and cheap["jira_role_actors"]
    assert dear_coverage[("jira_project_roles", "cloud")].status == "forbidden"
    saved = dear_coverage[("jira_role_actors", "cloud")].stats.requests - \
        cheap_coverage[("jira_role_actors", "cloud")].stats.requests
    assert 0 < saved <= len(cheap["jira_projects"])  # one role map call less per company-managed project


def site_members(served, shared: bool, transport: httpx.BaseTransport | None = None) -> tuple[set, dict]:
    """(table, deployment, group, member) of Jira's and Confluence's group members, and their coverage."""
    sim, base = served
    orgs, credentials = sim.connector_config(base)
    connections, coverage = Connections(load_tenants(orgs, credentials), transport=transport), Coverage()
    handover = Handover({JIRA, CONFLUENCE} if shared else ())
    resources = {r.name: r for r in [*jira.build(connections, coverage, handover),
                                     *confluence.build(connections, coverage, handover)]}
    pairs = set()
    try:
        connections.resolve_org_ids()
        for name in (JIRA, CONFLUENCE):  # Jira first: dlt interleaves them, this test need not
            for r in resources[name]:  # dlt yields the rows one by one
                pairs.add((name, r["_deployment"], r.get("group_id") or r.get("group_name"),
                           r.get("accountId") or r.get("username") or r.get("name")))
    finally:
        connections.close()
    return pairs, {(e.resource, e.tenant.rpartition("/")[2]): e for e in coverage.entries}


def test_confluence_cloud_members_are_the_pages_jira_read_on_the_same_site(served):
    """Jira and Confluence on one Cloud site share groups and users: Jira's member read fills both tables
    when a run selects both, and the Confluence pairs equal those Confluence's own endpoint gives."""
    (shared, cheap), (own, dear) = site_members(served, True), site_members(served, False)
    assert shared == own and any(p[:2] == (CONFLUENCE, "cloud") for p in shared)
    assert cheap[(CONFLUENCE, "cloud")].stats.requests == 0 < dear[(CONFLUENCE, "cloud")].stats.requests
    assert cheap[(CONFLUENCE, "cloud")].status == "ok"
    assert cheap[(CONFLUENCE, "dc")].stats.requests == dear[(CONFLUENCE, "dc")].stats.requests > 0


def test_groups_jira_may_not_read_are_read_by_confluence(served):
    """A token refused Jira's group members (403 per group) still gets Confluence's: those groups are read
    from Confluence's endpoint, and Jira's coverage alone is partial."""
    refused = Rewriting(refuse="/rest/api/3/group/member")
    (shared, coverage), (own, _) = site_members(served, True, refused), site_members(served, False)
    confluence_pairs = {p for p in own if p[0] == CONFLUENCE}
    assert confluence_pairs and confluence_pairs <= shared
    assert coverage[(JIRA, "cloud")].status == "partial" and coverage[(CONFLUENCE, "cloud")].status == "ok"


def test_auth_policy_members_take_the_managed_account_ids_as_the_managed_listing_reads_them(served):
    names = ["org_managed_accounts", "org_auth_policy_members"]
    shared, cheap = read(served, names, handover=Handover(names))
    own, dear = read(served, names)
    assert shared == own and shared["org_auth_policy_members"]
    key = ("org_auth_policy_members", "cloud")
    listing = dear[("org_managed_accounts", "cloud")].stats.requests  # the listing, read by its table only now
    assert cheap[key].stats.requests == dear[key].stats.requests - listing > 0 and cheap[key].status == "ok"


def test_marketplace_listings_embed_their_latest_version(served):
    """One call per app key: `withVersion=true` embeds the latest version; a Marketplace that ignores it
    is asked for `/versions/latest` as before, and the rows are the same."""
    cheap_rows, cheap = read(served, ["apps_marketplace"], family=apps)
    dear_rows, dear = read(served, ["apps_marketplace"], Rewriting(("withVersion",)), family=apps)
    assert cheap_rows == dear_rows and any('"scopes"' in r for r in cheap_rows["apps_marketplace"])
    key = ("apps_marketplace", "cloud")
    assert 0 < cheap[key].stats.requests < dear[key].stats.requests


def test_role_holdings_group_by_account_in_sorted_order_with_unlisted_accounts_last():
    """`Held` keeps the filtered searches as account numbers; reading them back gives each account's
    resource -> roles as a dict of sets would, sorted accounts first, accounts no users search listed after."""
    pairs = [("ari:jira/a", "atlassian/user"), ("ari:jira/a", "atlassian/admin"), ("ari:wiki/b", "atlassian/user")]
    held = org_roles.Held(["ann", "bob", "cyd"], pairs)
    for listed in (["cyd", "ann", "zed"], ["ann"], ["bob", "ann", "yan"]):
        held.add(listed)
    assert list(held.by_account()) == [
        ("ann", {"ari:jira/a": {"atlassian/user", "atlassian/admin"}, "ari:wiki/b": {"atlassian/user"}}),
        ("bob", {"ari:wiki/b": {"atlassian/user"}}),
        ("cyd", {"ari:jira/a": {"atlassian/user"}}),
        ("zed", {"ari:jira/a": {"atlassian/user"}}),
        ("yan", {"ari:wiki/b": {"atlassian/user"}}),
    ]
    assert [a for a, _ in held.by_account({"bob", "yan"})] == ["bob", "yan"]
    assert list(org_roles.Held(["ann"], []).by_account()) == []
