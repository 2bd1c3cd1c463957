"""Confluence Cloud and Data Center tables against the simulated organizations' state.

Every table's current rows must equal the model (counts and keys), for the exposed and the
hardened profile, with classic and scoped tokens; a second run loads no audit row and adds no
history version; after time travel exactly the new audit records load, the late one included.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest
from atlassian_posture.connector.helpers import Connections, Coverage
from atlassian_posture.connector.http import AtlassianError
from atlassian_posture.connector.incremental import incremental_audit
from atlassian_posture.connector.resources import confluence
from atlassian_posture.connector.runner import extract
from atlassian_posture.connector.settings import AUDIT_INITIAL_DAYS
from atlassian_simulator.core import Simulator
from atlassian_simulator.lazy import to_ms

RESOURCES = [r.name for r in confluence.build(Connections([]), Coverage())]
SNAPSHOTS = ["confluence_groups", "confluence_group_members", "confluence_users", "confluence_dc_users",
             "confluence_spaces", "confluence_space_permissions", "confluence_space_role_assignments",
             "confluence_space_roles", "confluence_settings", "confluence_dc_global_permissions",
             "confluence_anonymous_probe", "confluence_legacy_space_permissions"]
ACCESS_CLASSES = ("anonymous-users", "authenticated-users", "all-licensed-users")


def run(sim, base, tmp_path, auth="classic"):
    orgs, credentials = sim.connector_config(base, auth=auth)
    return extract(orgs, credentials, tmp_path / "w.duckdb", pipelines_dir=tmp_path / "pipelines",
                   resources=RESOURCES)


def current(tmp_path, table: str, columns: str, where: str = "true") -> list[tuple]:
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as db:
        history = "_dlt_valid_to is null" if table in SNAPSHOTS else "true"
        return db.execute(f"select {columns} from raw.{table} where {history} and ({where})").fetchall()


def counts(tmp_path) -> dict[str, int]:
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as db:
        present = {t for (t,) in db.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'raw'").fetchall()}
        return {t: db.execute(f"select count(*) from raw.{t}").fetchone()[0]
                for t in SNAPSHOTS + ["confluence_audit_records", "dc_audit_events"] if t in present}


def rbac(site) -> bool:
    return site.confluence.role_mode in ("ROLES", "ROLES_TRANSITION")


def expected_gaps(sim) -> dict[tuple[str, str], str]:
    """(resource, site) -> status where the site's shapes leave a read unanswered (README "Shapes of the same
    fact"): role assignments skipped in PRE_ROLES mode; space roles need roles mode; the v1 space list can be
    gone."""
    gaps = {}
    for org in sim.orgs:
        for site in org.sites:
            mode = site.confluence.role_mode
            if mode == "PRE_ROLES":
                gaps[("confluence_space_role_assignments", site.name)] = "skipped"
            # mode None (no /space-role-mode): the assignments are still asked for (the reference tenant
            # serves them without the mode endpoint); a 404 per space reads as "no assignments": ok, no rows
            if not rbac(site):
                gaps[("confluence_space_roles", site.name)] = "not_available"
            if not site.confluence.legacy_api:
                gaps[("confluence_legacy_space_permissions", site.name)] = "not_available"
    return gaps


def coverage_problems(sim, result) -> list:
    gaps = expected_gaps(sim)
    return [c for c in result.coverage
            if c["status"] != gaps.get((c["resource"], c["tenant"].split("/")[1]), "ok")]


def shown(space, permission, read: str) -> bool:
    """Does `read` (v2 | rbac | legacy) disclose this grant of the space? Access classes only where the shape says."""
    is_class = permission.principal_id in ACCESS_CLASSES and permission.principal_type in ("role", "ACCESS_CLASS")
    return not is_class or space.shape in ("all", read)


def tenant(org, site: str, deployment: str) -> str:
    return f"{org.sites[0].name}/{site}/confluence/{deployment}"


def licensed(account, site) -> bool:
    return any(p.product_key == "confluence" and p.site_name == site.name for p in account.product_access)


def expected_dc_permissions(dc, space) -> set[tuple]:
    """DC lists `read` only for the space, maps access classes to subjects, and shows each grant once."""
    users_group = "confluence-users"
    out = set()
    for p in space.permissions:
        if p.operation == "read" and p.target_type != "space":
            continue
        if p.principal_type == "role":
            subject = ("anonymous", None) if p.principal_id == "anonymous-users" else ("group", users_group)
        else:
            subject = (p.principal_type, p.principal_id)
        out.add((space.key, *subject, p.operation, p.target_type))
    return out


def check_org(sim, i: int, tmp_path) -> None:
    org = sim.orgs[i]
    site = org.sites[0]
    cloud = tenant(org, site.name, "cloud")
    accounts = {a.account_id for a in org.accounts}

    # groups and memberships (Cloud: by id)
    assert {r[0] for r in current(tmp_path, "confluence_groups", "id", f"_tenant = '{cloud}'")} == \
        {g.group_id for g in org.groups}
    pairs = current(tmp_path, "confluence_group_members", "group_id, account_id", f"_tenant = '{cloud}'")
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == {(g, a) for g, members in org.memberships.items() for a in members if a in accounts}

    # users: the licensed people of the site, guests included
    users = current(tmp_path, "confluence_users", "account_id, is_guest", f"_tenant = '{cloud}'")
    wanted = [a for a in org.accounts if a.account_type == "atlassian" and licensed(a, site)]
    assert sorted(users) == sorted((a.account_id, a.is_guest) for a in wanted)

    # spaces (archived included), permissions and role assignments per space
    spaces = current(tmp_path, "confluence_spaces", "id, key, status", f"_tenant = '{cloud}'")
    assert sorted(spaces) == sorted((s.space_id, s.key, s.status) for s in site.confluence.spaces)
    permissions = current(tmp_path, "confluence_space_permissions",
                          "space_id, id, principal__type, principal__id, operation__key, operation__target_type",
                          f"_tenant = '{cloud}'")
    assert sorted(permissions) == sorted((s.space_id, p.permission_id, p.principal_type, p.principal_id, p.operation,
                                          p.target_type) for s in site.confluence.spaces for p in s.permissions
                                         if shown(s, p, "v2"))
    assignments = current(tmp_path, "confluence_space_role_assignments",
                          "space_id, principal__principal_type, principal__principal_id, role_id",
                          f"_tenant = '{cloud}'") if rbac(site) else []
    assert sorted(assignments) == sorted((s.space_id, a.principal_type, a.principal_id, a.role_id)
                                         for s in site.confluence.spaces for a in s.role_assignments
                                         if rbac(site) and shown(s, a, "rbac"))
    anonymous = {s.key for s in site.confluence.spaces  # the state, whatever read discloses it
                 if any(a.principal_type == "ACCESS_CLASS" and a.principal_id == "anonymous-users"
                        for a in s.role_assignments)}
    if rbac(site):
        roles = current(tmp_path, "confluence_space_roles", "id", f"_tenant = '{cloud}'")
        assert sorted(r[0] for r in roles) == sorted(r.role_id for r in site.confluence.space_roles)

    # legacy v1 permissions: anonymousAccess exactly where the space's shape discloses it there; subjects always
    if site.confluence.legacy_api:
        flagged = current(tmp_path, "confluence_legacy_space_permissions", "space_key, operation, target_type",
                          f"_tenant = '{cloud}' and anonymous_access")
        assert sorted(flagged) == sorted((s.key, p.operation, p.target_type) for s in site.confluence.spaces
                                         for p in s.permissions if p.principal_id == "anonymous-users"
                                         and shown(s, p, "legacy"))
        groups = current(tmp_path, "confluence_legacy_space_permissions", "space_key, subject_id, operation, target_type",
                         f"_tenant = '{cloud}' and subject_type = 'group'")
        assert sorted(groups) == sorted({(s.key, p.principal_id, p.operation, p.target_type)
                                         for s in site.confluence.spaces for p in s.permissions
                                         if p.principal_type == "group"})

    # the anonymous probe sees exactly the spaces with an anonymous-users assignment
    probe = current(tmp_path, "confluence_anonymous_probe", "anonymous_access, status_code, space_keys",
                    f"_tenant = '{cloud}'")
    if org.config["profile"] == "exposed":
        assert anonymous == {"PUB", "WIKI"}
        assert probe == [(True, 200, "PUB,WIKI")]
    else:
        assert anonymous == set()
        assert probe == [(False, 401, "")]

    # settings: one row per site and DC instance
    assert current(tmp_path, "confluence_settings", "cloud_id", f"_tenant = '{cloud}'") == [(site.cloud_id,)]
    if site.confluence.role_mode is not None:  # dlt adds no column that is null in every row
        assert current(tmp_path, "confluence_settings", "space_role_mode", f"_tenant = '{cloud}'") == \
            [(site.confluence.role_mode,)]

    # audit: every record of the first load's window, each once
    log = site.confluence.audit.window(org.clock, org.clock - timedelta(days=AUDIT_INITIAL_DAYS), org.clock)
    audit = current(tmp_path, "confluence_audit_records", "record_id, creation_date, summary", f"_tenant = '{cloud}'")
    assert len(audit) == len({r[0] for r in audit}) == len(log)
    assert sorted((r[1], r[2]) for r in audit) == sorted((to_ms(e.time), e.action) for e in log)

    # Data Center: users, groups and members by name, spaces, permissions, global permissions
    dc = next(d for d in org.dc if d.product == "confluence")
    on_dc = tenant(org, dc.name, "dc")
    live = {u.username for u in dc.users if not u.deleted}
    dc_users = current(tmp_path, "confluence_dc_users", "username, status", f"_tenant = '{on_dc}'")
    assert sorted(dc_users) == sorted((u.username, "active" if u.active else "deactivated")
                                      for u in dc.users if not u.deleted)
    assert {r[0] for r in current(tmp_path, "confluence_groups", "name", f"_tenant = '{on_dc}'")} == set(dc.groups)
    members = current(tmp_path, "confluence_group_members", "group_name, username", f"_tenant = '{on_dc}'")
    assert sorted(members) == sorted((g, u) for g, names in dc.memberships.items() for u in names if u in live)
    dc_spaces = current(tmp_path, "confluence_spaces", "id, key, status", f"_tenant = '{on_dc}'")
    assert sorted(dc_spaces) == sorted((s.space_id, s.key, s.status) for s in dc.confluence.spaces)
    dc_permissions = current(tmp_path, "confluence_space_permissions",
                             "space_key, subject__type, coalesce(subject__name, subject__username), "
                             "operation__operation_key, operation__target_type", f"_tenant = '{on_dc}'")
    assert len(dc_permissions) == len(set(dc_permissions))
    assert set(dc_permissions) == set().union(*(expected_dc_permissions(dc, s) for s in dc.confluence.spaces))
    held = current(tmp_path, "confluence_dc_global_permissions", "holder, subject__type", f"_tenant = '{on_dc}'")
    assert sum(h == "anonymous" for h, _ in held) == len(dc.anonymous_permissions)
    assert sum(h == "unlicensed" for h, _ in held) == len(dc.unlicensed_permissions)
    assert sum(h == "all" and t == "anonymous" for h, t in held) == len(dc.anonymous_permissions)
    assert current(tmp_path, "confluence_settings", "version, access_mode", f"_tenant = '{on_dc}'") == \
        [(dc.version, "READ_WRITE")]
    dc_log = dc.audit.window(org.clock, org.clock - timedelta(days=AUDIT_INITIAL_DAYS), org.clock)
    assert len(current(tmp_path, "dc_audit_events", "id", f"_tenant = '{on_dc}'")) == len(dc_log)


@pytest.mark.parametrize("seed", [7, 11])
def test_every_confluence_table_equals_the_model(tmp_path, seed):
    sim = Simulator.generate("small", seed=seed, orgs=2)  # an exposed and a hardened organization
    with sim.serve() as base:
        result = run(sim, base, tmp_path)
    assert [o.config["profile"] for o in sim.orgs] == ["exposed", "hardened"]
    assert coverage_problems(sim, result) == [], result.problems
    for i in range(len(sim.orgs)):
        check_org(sim, i, tmp_path)
    assert not sim.request_log.writes()


def test_scoped_tokens_read_the_same_confluence_rows(tmp_path):
    sim = Simulator.generate("small", seed=11, orgs=1)
    with sim.serve() as base:
        run(sim, base, tmp_path / "classic")
        scoped = run(sim, base, tmp_path / "scoped", auth="scoped")
    assert coverage_problems(sim, scoped) == [], scoped.problems
    assert any("/gateway/ex/confluence/" in e["path"] for e in sim.request_log.entries())
    check_org(sim, 0, tmp_path / "scoped")
    ignored = {"_dlt_load_id", "_dlt_id", "_dlt_valid_from", "_dlt_valid_to", "base_url", "fallback_base_url"}
    for table in [t for t in counts(tmp_path / "scoped") if t != "dc_audit_events"]:
        def rows(path):
            with duckdb.connect(str(path / "w.duckdb"), read_only=True) as db:
                names = [c[0] for c in db.execute(f"describe raw.{table}").fetchall() if c[0] not in ignored]
                return sorted(db.execute(f"select {', '.join(names)} from raw.{table}").fetchall(), key=repr)
        assert rows(tmp_path / "classic") == rows(tmp_path / "scoped"), table
    assert not sim.request_log.writes()


def test_second_run_adds_nothing_and_time_travel_loads_exactly_the_changes(tmp_path):
    sim = Simulator.generate("small", seed=7, orgs=1)
    org, site = sim.orgs[0], sim.orgs[0].sites[0]
    cloud = tenant(org, site.name, "cloud")
    with sim.serve() as base:
        run(sim, base, tmp_path)
        before = counts(tmp_path)
        again = run(sim, base, tmp_path)
        assert counts(tmp_path) == before  # no new history version, no new audit row
        assert not again.rows_by_table.get("confluence_audit_records")
        assert not again.rows_by_table.get("dc_audit_events")
        assert all(c["rows"] == 0 for c in again.coverage if c["resource"] == "confluence_audit_records")

        previous = org.clock
        changes = sim.advance(days=1)["orgs"][0]
        after = run(sim, base, tmp_path)
    assert after.rows_by_table["confluence_audit_records"] == changes["events"][f"confluence:{site.name}"] == 3
    # a sign-in and a user added to a group on the Confluence DC instance
    assert after.rows_by_table["dc_audit_events"] == sum(n for k, n in changes["events"].items()
                                                         if k.startswith("dc:") and "confluence" in k) == 2
    last_load = "(select max(_dlt_load_id) from raw.confluence_audit_records)"
    new = current(tmp_path, "confluence_audit_records", "summary, creation_date",
                  f"_tenant = '{cloud}' and _dlt_load_id = {last_load}")
    assert sorted(s for s, _ in new) == ["Space created", "Space logo updated", "Space permission added"]
    late = next(ms for s, ms in new if s == "Space logo updated")
    assert late < to_ms(previous)  # it happened before the previous load and only became visible now
    audit = current(tmp_path, "confluence_audit_records", "record_id", f"_tenant = '{cloud}'")
    assert len(audit) == len(set(audit))
    # memberships changed: the newcomer joined confluence-users, a team lost a member
    pairs = set(current(tmp_path, "confluence_group_members", "group_id, account_id", f"_tenant = '{cloud}'"))
    accounts = {a.account_id for a in org.accounts}
    assert pairs == {(g, a) for g, members in org.memberships.items() for a in members if a in accounts}
    assert not sim.request_log.writes()


def test_free_plan_and_a_forbidden_resource_are_recorded_while_the_rest_loads(tmp_path):
    sim = Simulator.generate("tiny", seed=11, orgs=1)
    sim.orgs[0].sites[0].plan = "free"
    sim.orgs[0].sites[0].confluence.role_mode = "ROLES"  # every read answers but the two below
    sim.orgs[0].sites[0].confluence.legacy_api = True
    sim.faults.forbidden = ["*/wiki/api/v2/space-roles"]
    with sim.serve() as base:
        result = run(sim, base, tmp_path)
    status = {(c["resource"], c["tenant"].endswith("/cloud")): c["status"] for c in result.coverage}
    assert status[("confluence_audit_records", True)] == "forbidden"
    assert status[("confluence_space_roles", True)] == "forbidden"
    assert all(s == "ok" for (resource, _), s in status.items()
               if resource not in ("confluence_audit_records", "confluence_space_roles"))
    assert result.rows_by_table["confluence_spaces"] == len(sim.orgs[0].sites[0].confluence.spaces) + len(
        next(d for d in sim.orgs[0].dc if d.product == "confluence").confluence.spaces)
    assert "confluence_audit_records" not in result.rows_by_table
    assert not sim.request_log.writes()


def test_the_audit_cursor_moves_only_after_the_whole_window_was_read():
    hour = 3_600_000
    records = [{"id": str(n), "t": n * hour} for n in (50, 49, 30)]  # newest first, as Confluence pages

    def read(state, pages):
        return [r["id"] for page in incremental_audit(state, pages, now_ms=60 * hour, initial_ms=0,
                                                      time_ms=lambda r: r["t"], record_id=lambda r: r["id"],
                                                      stamp=lambda r, _: r) for r in page]

    def failing(start_ms, end_ms):
        yield records[:1]
        raise AtlassianError("dropped half-way")

    state: dict = {}
    with pytest.raises(AtlassianError):
        read(state, failing)
    assert state == {}  # the next run asks for the same window again
    asked = []

    def whole(start_ms, end_ms):
        asked.append((start_ms, end_ms))
        yield [r for r in records if start_ms <= r["t"] <= end_ms]

    assert read(state, whole) == ["50", "49", "30"]
    assert state["max_ms"] == 50 * hour and set(state["recent"]) == {"50", "49", "30"}
    assert read(state, whole) == []  # unchanged log: nothing loads
    assert asked[-1] == (26 * hour, 60 * hour)  # newest minus the 24 h overlap, up to the server's now
    records.append({"id": "late", "t": 40 * hour})  # arrived late, inside the overlap
    assert read(state, whole) == ["late"]


def test_legacy_space_permissions_flatten_every_subject_shape():
    """v1 `permissions[]` as one row per subject; the anonymous/unlicensed entries (no subjects) as one row;
    `subjects.*` given as a plain list or as `{results: [...]}`, groups with or without an id."""
    from atlassian_posture.connector.resources.confluence_cloud import _legacy_rows

    space = {"id": 65538, "key": "PUBKB"}
    anonymous = _legacy_rows(space, {"operation": {"operation": "read", "targetType": "space"},
                                     "anonymousAccess": True, "unlicensedAccess": False})
    assert [(r["space_id"], r["space_key"], r["operation"], r["target_type"], r["anonymous_access"],
             r["unlicensed_access"], r["subject_type"]) for r in anonymous] == \
        [("65538", "PUBKB", "read", "space", True, False, None)]
    subjects = _legacy_rows(space, {"id": 7, "operation": {"operation": "create", "targetType": "page"},
                                    "subjects": {"group": {"results": [{"name": "confluence-users"},
                                                                       {"id": "g-1", "name": "team"}]},
                                                 "user": [{"accountId": "557058:a", "displayName": "A"}]}})
    assert sorted((r["subject_type"], r["subject_id"], r["anonymous_access"]) for r in subjects) == [
        ("group", "confluence-users", False), ("group", "g-1", False), ("user", "557058:a", False)]
    assert {r["permission_id"] for r in subjects} == {"7"}
