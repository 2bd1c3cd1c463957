"""The organization (Atlassian Administration) resources against the simulator.

Three organizations (profiles exposed, hardened, unguarded): every org table's current rows
equal the model, the unguarded org's Guard features are recorded in coverage while the rest
loads, a second run adds nothing, and after time travel the next run loads exactly the changes.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from types import SimpleNamespace

import duckdb
import pytest
from atlassian_posture.connector.helpers import Calls
from atlassian_posture.connector.http import AtlassianClient, RequestStats
from atlassian_posture.connector.resources import org as org_resources
from atlassian_posture.connector.resources.org import stream_events
from atlassian_posture.connector.runner import extract
from atlassian_posture.connector.settings import AUDIT_OVERLAP_HOURS
from atlassian_posture.errors import EXIT_AUTH, RunFailed
from atlassian_simulator.core import Simulator
from atlassian_simulator.generator.audit import ORG_ACTIONS
from atlassian_simulator.lazy import to_ms
from atlassian_simulator.server.routes.admin_common import V1_PRODUCT_KEYS, user_role_rows

ORG_RESOURCES = [r.name for r in org_resources.build(None, None)]
GUARD_ONLY = {  # what an org without Atlassian Guard answers
    "org_policies": "not_available",
    "org_data_security_policies": "not_available",
    "org_data_security_policy_resources": "not_available",
    "org_auth_policies": "forbidden",
    "org_auth_policy_members": "forbidden",
    "org_event_actions": "forbidden",
    "org_events": "forbidden",
}
SCD2_TABLES = [  # every scd2 table, and child table of one, that the org resources write
    "org_organizations", "org_domains", "org_directories", "org_workspaces", "org_managed_accounts",
    "org_managed_accounts__product_access", "org_users", "org_users__platform_roles", "org_users__product_access",
    "org_group_memberships", "org_last_active", "org_last_active__product_access", "org_groups",
    "org_group_role_assignments", "org_user_role_assignments", "org_policies", "org_data_security_policies",
    "org_data_security_policy_resources", "org_auth_policies", "org_auth_policy_members", "org_api_tokens",
    "org_event_actions",
]


# --- helpers ------------------------------------------------------------------------------------


def tenant(org) -> str:
    return f"{org.sites[0].name}/org/cloud"


def run(sim, base, tmp, resources=ORG_RESOURCES, **config):
    orgs, credentials = sim.connector_config(base, **config)
    return extract(orgs, credentials, tmp / "w.duckdb", pipelines_dir=tmp / "pipelines", resources=resources)


def warehouse(tmp) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(tmp / "w.duckdb"), read_only=True)


def query(con, sql: str) -> list[tuple]:
    return con.sql(sql).fetchall()


def current(con, table: str, columns: str, org) -> set[tuple]:
    return set(query(con, f"select {columns} from raw.{table} where _dlt_valid_to is null "
                          f"and _tenant = '{tenant(org)}'"))


def table_counts(tmp) -> dict[str, tuple[int, int]]:
    """(all rows, retired rows) of every org table; child tables count all rows."""
    with warehouse(tmp) as con:
        columns = query(con, "select table_name, list(column_name) from information_schema.columns "
                             "where table_schema = 'raw' and table_name like 'org_%' group by table_name")
        out = {}
        for table, names in columns:
            retired = "count(*) filter (where _dlt_valid_to is not null)" if "_dlt_valid_to" in names else "0"
            out[table] = query(con, f"select count(*), {retired} from raw.{table}")[0]
        return out


def directory_users(org):
    return [a for a in org.accounts if a.account_type == "atlassian"]


def managed(org):
    return [a for a in directory_users(org) if a.claim_status == "managed"]


def composite_status(a) -> str:
    if a.account_status != "active":
        return "deactivated"
    return {"active": "active", "suspended": "suspended", "no_membership": "not_invited"}[a.membership_status]


def membership_pairs(org) -> set[tuple[str, str]]:
    users = {a.account_id for a in directory_users(org)}
    return {(g, a) for g, members in org.memberships.items() for a in members if a in users}


def visible_event_ids(org) -> set[str]:
    window = org.events.window(org.clock, org.clock - timedelta(days=180), None, key="processed_at")
    return {e.event_id for e in window[0:len(window)]}


def expectations(sim, events_loaded_before: dict | None = None) -> list[tuple[str, str, set]]:
    """(what, SQL over current rows, expected rows) for every org table and organization, from the model.

    Audit events are kept once loaded, also after they leave the log's retention: with
    `events_loaded_before` (org id -> ids), the table holds those plus every visible event.
    """
    out = []
    for org in sim.orgs:
        t = tenant(org)
        sites = {s.name: s for s in org.sites}
        users, accounts = directory_users(org), managed(org)

        def add(table, columns, expected, child=None, org=org, t=t):
            if child:
                sql = (f"select {columns} from raw.{table} p join raw.{table}__{child} c on c._dlt_parent_id = "
                       f"p._dlt_id where p._dlt_valid_to is null and p._tenant = '{t}'")
            else:
                sql = f"select {columns} from raw.{table} where _dlt_valid_to is null and _tenant = '{t}'"
            out.append((f"{t}: {table}{'__' + child if child else ''}", sql, set(expected)))

        add("org_organizations", "id", {(org.org_id,)})
        add("org_domains", "id, attributes__claim__status", {(d.domain_id, d.status) for d in org.domains})
        add("org_directories", "directory_id", {(d.directory_id,) for d in org.directories})
        add("org_workspaces", "attributes__name, attributes__host_url", {(w.name, w.host_url) for w in org.workspaces})
        add("org_users", "account_id, mfa_enabled, status, claim_status, management_source",
            {(a.account_id, a.mfa_enabled, composite_status(a), a.claim_status, a.management_source) for a in users})
        add("org_users", "p.account_id, c.value",
            {(a.account_id, f"atlassian/{r}") for a in users for r in a.platform_roles}, child="platform_roles")
        add("org_users", "p.account_id, c.key",
            {(a.account_id, p.product_key) for a in users for p in a.product_access if p.site_name in sites},
            child="product_access")
        add("org_managed_accounts", "account_id, account_status", {(a.account_id, a.account_status) for a in accounts})
        add("org_group_memberships", "group_id, account_id", membership_pairs(org))
        add("org_groups", "id, name, counts__users",
            {(g.group_id, g.name, len(org.memberships.get(g.group_id, ()))) for g in org.groups})
        add("org_group_role_assignments", "group_id, resource_id",
            {(g.group_id, ari) for g in org.groups for _, ari in g.role_assignments})
        add("org_user_role_assignments", "account_id, resource_id",
            {(a.account_id, ari) for a in users for ari, _, _ in user_role_rows(org, a)})
        owners = {a.account_id for a in accounts}
        add("org_api_tokens", "id, account_id, status",
            {(k.token_id, k.account_id, k.status) for k in org.api_tokens if k.account_id in owners})
        add("org_last_active", "account_id", {(a.account_id,) for a in accounts})
        add("org_last_active", "p.account_id, c.id, c.key, c.last_active",
            {(a.account_id, sites[p.site_name].cloud_id, V1_PRODUCT_KEYS.get(p.product_key, p.product_key),
              f"{p.last_active:%Y-%m-%d}")
             for a in accounts for p in a.product_access if p.last_active and p.site_name in sites},
            child="product_access")
        dsp = [p for p in org.policies if p.policy_type == "data-security"]
        add("org_policies", "id, attributes__type", {(p.policy_id, p.policy_type) for p in org.policies})
        add("org_data_security_policies", "id, attributes__status", {(p.policy_id, p.status) for p in dsp})
        add("org_data_security_policy_resources", "policy_id, id",
            {(p.policy_id, ari) for p in dsp for ari in p.resources})
        add("org_auth_policies", "id, attributes__name", {(p.policy_id, p.name) for p in org.auth_policies})
        add("org_auth_policy_members", "account_id, policy_id",
            {(a.account_id, a.auth_policy_id) for a in accounts if a.auth_policy_id and org.guard})
        add("org_event_actions", "id", {(action,) for action in ORG_ACTIONS} if org.guard else set())
        events = visible_event_ids(org) | (events_loaded_before or {}).get(org.org_id, set()) if org.guard else set()
        out.append((f"{t}: org_events", f"select id from raw.org_events where _tenant = '{t}'",
                    {(i,) for i in events}))
    return out


def check(con, expected: list[tuple[str, str, set]]) -> None:
    for what, sql, rows in expected:
        found = query(con, sql)
        assert len(found) == len(set(found)), f"{what}: duplicate rows"
        assert set(found) == rows, what


def loaded_event_ids(tmp, sim) -> dict[str, set[str]]:
    with warehouse(tmp) as con:
        return {o.org_id: {i for (i,) in query(con, f"select id from raw.org_events where _tenant = '{tenant(o)}'")}
                for o in sim.orgs}


# --- one organization set: loaded, loaded again unchanged, then after time travel -----------------


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Small, seed 7, three profiles: run 1, run 2 (unchanged org), `advance(days=1)`, run 3."""
    tmp = tmp_path_factory.mktemp("org-history")
    sim = Simulator.generate("small", seed=7, orgs=3)
    assert [o.config["profile"] for o in sim.orgs] == ["exposed", "hardened", "unguarded"]
    h = SimpleNamespace(sim=sim, tmp=tmp)
    with sim.serve() as base:
        h.first = run(sim, base, tmp)
        h.counts_first = table_counts(tmp)
        h.expected_first = expectations(sim)
        h.fan_out_items = {tenant(o): (len(managed(o)), sum(1 for g in o.groups if g.role_assignments))
                           for o in sim.orgs}
        h.second = run(sim, base, tmp)
        h.counts_second = table_counts(tmp)
        shutil.copy(tmp / "w.duckdb", tmp / "second.duckdb")
        h.events_before = loaded_event_ids(tmp, sim)
        h.changes = sim.advance(days=1)["orgs"]
        h.third = run(sim, base, tmp)
        h.expected_third = expectations(sim, h.events_before)
    yield h


def test_every_org_table_equals_the_model(history):
    with duckdb.connect(str(history.tmp / "second.duckdb"), read_only=True) as con:
        check(con, history.expected_first)
    events = sum(len(rows) for what, _, rows in history.expected_first if what.endswith(": org_events"))
    assert history.first.rows_by_table["org_events"] == events > 0  # every visible event, once


def test_the_unguarded_org_is_recorded_in_coverage_while_the_rest_loads(history):
    statuses = {(c["resource"], c["tenant"]): c["status"] for c in history.first.coverage}
    assert {r for r, _ in statuses} == set(ORG_RESOURCES) | {"org_group_memberships",
                                                             "org_data_security_policy_resources"}
    for org in history.sim.orgs:
        for resource in {r for r, _ in statuses}:
            expected = "ok" if org.guard else GUARD_ONLY.get(resource, "ok")
            assert statuses[(resource, tenant(org))] == expected, (resource, tenant(org))
    with warehouse(history.tmp) as con:  # the coverage table is loaded too
        assert query(con, "select count(*) from raw.coverage where status = 'forbidden'")[0][0] >= 4


def test_a_second_run_loads_no_event_and_adds_no_version(history):
    assert "org_events" not in history.second.rows_by_table
    assert set(SCD2_TABLES) <= set(history.counts_first)
    assert history.counts_second == history.counts_first  # same rows, none retired: no new version anywhere


def test_fan_outs_are_one_call_per_item_and_skip_what_the_listing_answers(history):
    requests = {(c["resource"], c["tenant"]): c["requests"] for c in history.first.coverage}
    for t, (accounts, groups_with_roles) in history.fan_out_items.items():
        # + 1 at most: the resource that first meets a tenant resolves its org id
        assert requests[("org_last_active", t)] - (accounts + -(-accounts // 100)) in (0, 1)
        # groups whose counts.resources is 0 are not asked
        assert requests[("org_group_role_assignments", t)] - (groups_with_roles + 1) in (0, 1)
        assert requests[("org_group_memberships", t)] == 0  # from the users search


def test_after_time_travel_the_next_run_loads_exactly_the_changes(history):
    sim, changes = history.sim, history.changes
    assert history.third.rows_by_table["org_events"] == sum(c["events"].get("org", 0) for c in changes)
    with warehouse(history.tmp) as con:
        check(con, history.expected_third)
        for org, change in zip(sim.orgs, changes, strict=True):
            check_changes_loaded(con, org, change, history.events_before[org.org_id])
    assert sim.request_log.writes() == []


def check_changes_loaded(con, org, change: dict, events_before: set[str]) -> None:
    t = tenant(org)
    if org.guard:
        loaded = {i for (i,) in query(con, f"select id from raw.org_events where _tenant = '{t}'")}
        new = loaded - events_before
        assert len(new) == change["events"]["org"]
        assert set(change["late_events"]["org"]) <= new
    (newcomer,) = change["accounts_created"]
    assert (newcomer,) in current(con, "org_users", "account_id", org)
    assert (newcomer,) in current(con, "org_managed_accounts", "account_id", org)
    (leaver,) = change["accounts_deactivated"]
    versions = query(con, f"select status, _dlt_valid_to is null from raw.org_users "
                          f"where _tenant = '{t}' and account_id = '{leaver}' order by _dlt_valid_from")
    assert versions == [("active", False), ("deactivated", True)]
    if any(a.account_id == leaver for a in managed(org)):
        versions = query(con, f"select account_status, _dlt_valid_to is null from raw.org_managed_accounts "
                              f"where _tenant = '{t}' and account_id = '{leaver}' order by _dlt_valid_from")
        assert versions == [("active", False), ("inactive", True)]
    memberships = current(con, "org_group_memberships", "group_id, account_id", org)
    for added in change["memberships_added"]:
        group = next(g for g in org.groups if g.name == added["group"])
        assert (group.group_id, added["account"]) in memberships
    for removed in change["memberships_removed"]:
        group = next(g for g in org.groups if g.name == removed["group"])
        retired = query(con, f"select count(*) from raw.org_group_memberships where _tenant = '{t}' and "
                             f"group_id = '{group.group_id}' and account_id = '{removed['account']}' "
                             f"and _dlt_valid_to is not null")
        assert retired == [(1,)]


# --- variations ------------------------------------------------------------------------------------


def test_seed_11_accounts_memberships_and_tokens_equal_the_model(tmp_path):
    sim = Simulator.generate("small", seed=11, orgs=3)
    with sim.serve() as base:
        run(sim, base, tmp_path, resources=["org_users", "org_managed_accounts", "org_api_tokens", "org_groups"])
    with warehouse(tmp_path) as con:
        for org in sim.orgs:
            assert current(con, "org_users", "account_id, mfa_enabled, status", org) == \
                {(a.account_id, a.mfa_enabled, composite_status(a)) for a in directory_users(org)}
            assert current(con, "org_managed_accounts", "account_id", org) == {(a.account_id,) for a in managed(org)}
            assert current(con, "org_group_memberships", "group_id, account_id", org) == membership_pairs(org)
            assert current(con, "org_groups", "id", org) == {(g.group_id,) for g in org.groups}
            owners = {a.account_id for a in managed(org)}
            assert current(con, "org_api_tokens", "id", org) == \
                {(t.token_id,) for t in org.api_tokens if t.account_id in owners}


def test_api_tokens_fall_back_to_each_managed_account_when_the_inventory_is_forbidden(tmp_path):
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    sim.faults.forbidden = ["*/admin/api-access/*"]
    with sim.serve() as base:
        result = run(sim, base, tmp_path, resources=["org_api_tokens"])
    org = sim.orgs[0]
    (entry,) = [c for c in result.coverage if c["resource"] == "org_api_tokens"]
    assert entry["status"] == "ok" and "per-user fallback" in entry["reason"]
    owners = {a.account_id for a in managed(org)}
    with warehouse(tmp_path) as con:
        assert current(con, "org_api_tokens", "id, account_id", org) == \
            {(t.token_id, t.account_id) for t in org.api_tokens if t.account_id in owners}


def test_a_refused_stream_cursor_rereads_the_overlap_without_duplicates():
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    org = sim.orgs[0]
    with sim.serve() as base, AtlassianClient(sim.urls(base)["gateway"], sim.auth("org-admin-key"), "key",
                                              sleep=lambda s: None) as client:
        state: dict = {}
        first = [e["id"] for page in stream_events(client, org.org_id, _scope(org), state, RequestStats())
                 for e in page]
        assert set(first) == visible_event_ids(org) and len(first) == len(set(first))
        assert state["cursor"] and state["processed_ms"] == max(to_ms(e.processed_at) for e in _visible(org))
        overlap_ms = AUDIT_OVERLAP_HOURS * 3_600_000
        assert all(ms >= state["processed_ms"] - overlap_ms for ms in state["recent"].values())
        state["cursor"] = "not-a-cursor!"  # e.g. expired on the server: 400
        again = [e["id"] for page in stream_events(client, org.org_id, _scope(org), state, RequestStats())
                 for e in page]
        assert again == []  # the overlap was re-read and every id in it skipped
        sim.advance(days=1)
        new = [e["id"] for page in stream_events(client, org.org_id, _scope(org), state, RequestStats())
               for e in page]
        assert set(new) == visible_event_ids(org) - set(first)


def test_calls_counts_requests_but_not_rows():
    parent = RequestStats()
    Calls(parent).add(requests=2, rows=5, pages=1)
    assert (parent.requests, parent.rows, parent.pages) == (2, 0, 1)


def test_a_bad_org_key_fails_the_run_with_exit_code_3_naming_the_credential(tmp_path):
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base, data_center=False)
        key = next(iter(credentials))
        real = credentials[key]["admin_api_key"]
        credentials[key]["admin_api_key"] = "not-the-key-" + real[::-1]
        with pytest.raises(RunFailed) as failure:
            extract(orgs, credentials, tmp_path / "w.duckdb", pipelines_dir=tmp_path / "pipelines",
                    resources=ORG_RESOURCES)
    message = str(failure.value)
    assert failure.value.exit_code == EXIT_AUTH
    assert "\n" not in message and f"Admin API key of {key}" in message and "401" in message
    assert real not in message and credentials[key]["admin_api_key"] not in message
    assert sim.request_log.writes() == []


def _visible(org):
    window = org.events.window(org.clock, org.clock - timedelta(days=180), None, key="processed_at")
    return window[0:len(window)]


def _scope(org):
    from atlassian_posture.connector.helpers import Scope

    return Scope(org.sites[0].name, "org", "cloud", None, org.org_id)
