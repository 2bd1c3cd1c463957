"""Jira Cloud and Jira Data Center resources against the simulator: every table equals the model.

Expected values come from the simulated organization's state (the model), computed the way
Jira evaluates them (`atlassian_simulator.server.routes.jira_common.Permissions`), never
from the connector's own output.
"""

from datetime import timedelta

import duckdb
from atlassian_posture.connector.resources import jira_identity
from atlassian_posture.connector.resources.jira_identity import picker_queries
from atlassian_posture.connector.runner import extract
from atlassian_posture.connector.settings import AUDIT_INITIAL_DAYS
from atlassian_simulator.core import Simulator
from atlassian_simulator.generator.common import stable_hash
from atlassian_simulator.server.routes.jira_common import Caller, Permissions
from atlassian_simulator.server.routes.jira_index import org_index
from atlassian_simulator.server.routes.jira_render import CloudView

JIRA = ["jira_users", "jira_dc_users", "jira_groups", "jira_group_members", "jira_application_roles",
        "jira_global_permission_probe", "jira_project_roles", "jira_projects", "jira_role_actors",
        "jira_permission_schemes", "jira_project_permission_schemes", "jira_filters", "jira_dashboards",
        "jira_audit_records", "jira_dc_audit_events", "jira_server_info", "jira_configuration",
        "jira_application_properties", "jira_anonymous_probe"]
AUDIT_TABLES = ("jira_audit_records", "dc_audit_events")


def run(sim, base, tmp_path, auth="classic", data_center=True, db="w.duckdb"):
    orgs, credentials = sim.connector_config(base, auth=auth, admin=False, data_center=data_center)
    return extract(orgs, credentials, tmp_path / db, pipelines_dir=tmp_path / f"{db}.pipelines", resources=JIRA)


def query(path, sql) -> set[tuple]:
    with duckdb.connect(str(path), read_only=True) as db:
        return {tuple(r) for r in db.sql(sql).fetchall()}


def current(path, table, columns, deployment, extra="") -> set[tuple]:
    """Current (not retired) rows of a snapshot table for one deployment."""
    return query(path, f"select {columns} from raw.{table} where _dlt_valid_to is null "
                       f"and _deployment = '{deployment}' {extra}")


def table_sizes(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as db:
        names = [t for (t,) in db.sql("select table_name from information_schema.tables where table_schema = 'raw' "
                                      "and (table_name like 'jira%' or table_name like 'dc_audit%')").fetchall()]
        return {t: db.sql(f"select count(*) from raw.{t}").fetchall()[0][0] for t in names}


# --- the model --------------------------------------------------------------------------------------


def cloud_model(sim, org_no=0) -> dict[str, set]:
    org = sim.orgs[org_no]
    site = org.sites[0]
    jira = site.jira
    index = org_index(org)
    reader = sim.credential("site-admin-token", org_no).account_id
    perms = Permissions(jira, Caller(reader, index.groups_of(reader), True), anonymous_access=site.plan != "free")
    since = org.clock - timedelta(days=AUDIT_INITIAL_DAYS)
    actors = set()
    for project in jira.projects:
        for role_id, held in project.actors.items():
            actors |= {(project.project_id, role_id, a.actor_id) for a in held}
    return {
        "users": {(a.account_id, a.account_type) for a in index.site_users[site.name]},
        "groups": {(g.group_id, g.name) for g in org.groups},
        "members": {(g, a) for g, members in org.memberships.items() for a in members if a in index.accounts},
        "application_roles": {(r.key,) for r in jira.application_roles},
        "project_roles": {(r.role_id, r.name) for r in jira.roles},
        "projects": {(p.project_id, p.key, bool(p.archived)) for p in jira.projects},
        "role_actors": actors,
        "schemes": {(s.scheme_id, s.name) for s in jira.schemes},
        "grants": {(s.scheme_id, g.grant_id, g.permission, g.holder_type) for s in jira.schemes for g in s.grants},
        "project_schemes": {(p.project_id, p.scheme_id) for p in jira.projects},
        "filters": {(f.filter_id, ",".join(sorted(s.share_type for s in f.share_permissions))) for f in jira.filters},
        "dashboards": {(d.dashboard_id, ",".join(sorted(s.share_type for s in d.share_permissions)))
                       for d in jira.dashboards if perms.sees_dashboard(d)},
        "audit": {CloudView.audit_record(e)["id"] for e in jira.audit.window(org.clock, since, org.clock)},
        "properties": {(k, v or f"SITE:{site.name}") for k, v in jira.application_properties.items()},
    }


def dc_model(sim, org_no=0) -> dict[str, set]:
    org = sim.orgs[org_no]
    dc = next(d for d in org.dc if d.product == "jira")
    jira = dc.jira
    admin = sim.credential("dc-admin-pat", org_no).username
    groups = frozenset(g for g, members in dc.memberships.items() if admin in members)
    perms = Permissions(jira, Caller(admin, groups, True))
    since = org.clock - timedelta(days=AUDIT_INITIAL_DAYS)
    actors = set()
    for project in jira.projects:
        for role_id, held in project.actors.items():
            actors |= {(project.project_id, role_id, a.actor_id) for a in held}
    return {
        "users": {(u.username, u.key) for u in dc.users},
        "groups": {(g,) for g in dc.groups},
        "members": {(g, u) for g, members in dc.memberships.items() for u in members},
        "application_roles": {(r.key,) for r in jira.application_roles},
        "project_roles": {(r.role_id, r.name) for r in jira.roles},
        "projects": {(p.project_id, p.key, bool(p.archived)) for p in jira.projects},
        "role_actors": actors,
        "schemes": {(s.scheme_id, s.name) for s in jira.schemes},
        "grants": {(s.scheme_id, g.grant_id, g.permission, g.holder_type) for s in jira.schemes for g in s.grants},
        "project_schemes": {(p.project_id, p.scheme_id) for p in jira.projects},
        # no filter listing on DC: every filter the credential may see (owned or shared with it)
        "filters": {(f.filter_id, ",".join(sorted(s.share_type for s in f.share_permissions)))
                    for f in jira.filters if perms.sees_filter(f)},
        "dashboards": {(d.dashboard_id, ",".join(sorted(s.share_type for s in d.share_permissions)))
                       for d in jira.dashboards if perms.sees_dashboard(d)},
        "audit": {int(e.event_id) if e.event_id.isdigit() else stable_hash(e.event_id) % 10**12
                  for e in dc.audit.window(org.clock, since, org.clock)},
        "version": {(dc.version,)},
        "jira_mode": {(jira.application_properties["jira.mode"],)},
    }


def shares(table) -> str:
    """`type`s of a shared object's nested share permissions, comma-joined, per current row."""
    return (f"coalesce((select string_agg(s.type, ',' order by s.type) from raw.{table}__share_permissions s "
            f"where s._dlt_parent_id = t._dlt_id), '')")


def assert_cloud_matches(path, model) -> None:
    assert current(path, "jira_users", "account_id, account_type", "cloud") == model["users"]
    assert {"app", "atlassian"} <= {t for _, t in model["users"]}  # app bots are users too
    assert current(path, "jira_groups", "group_id, name", "cloud") == model["groups"]
    assert current(path, "jira_group_members", "group_id, account_id", "cloud") == model["members"]
    assert current(path, "jira_application_roles", "key", "cloud") == model["application_roles"]
    assert current(path, "jira_project_roles", "id, name", "cloud") == model["project_roles"]
    assert current(path, "jira_projects", "id, key, coalesce(archived, false)", "cloud") == model["projects"]
    assert current(path, "jira_role_actors", "project_id, role_id, coalesce(actor_user__account_id, "
                                             "actor_group__group_id)", "cloud") == model["role_actors"]
    assert current(path, "jira_permission_schemes", "id, name", "cloud") == model["schemes"]
    assert current(path, "jira_permission_grants", "scheme_id, id, permission, holder__type", "cloud") \
        == model["grants"]
    assert current(path, "jira_project_permission_schemes", "project_id, id", "cloud") == model["project_schemes"]
    assert current(path, "jira_filters t", f"id, {shares('jira_filters')}", "cloud") == model["filters"]
    assert current(path, "jira_dashboards t", f"id, {shares('jira_dashboards')}", "cloud") == model["dashboards"]
    assert query(path, "select id from raw.jira_audit_records") == {(i,) for i in model["audit"]}
    properties = current(path, "jira_application_properties", "key, value", "cloud")
    assert {k for k, _ in properties} == {k for k, _ in model["properties"]}
    assert ("jira.mode", dict(model["properties"])["jira.mode"]) in properties


def assert_dc_matches(path, model) -> None:
    assert query(path, "select name, key from raw.jira_dc_users where _dlt_valid_to is null") == model["users"]
    assert current(path, "jira_groups", "name", "dc") == model["groups"]
    assert current(path, "jira_group_members", "group_name, name", "dc") == model["members"]
    assert current(path, "jira_application_roles", "key", "dc") == model["application_roles"]
    assert current(path, "jira_project_roles", "id, name", "dc") == model["project_roles"]
    assert current(path, "jira_projects", "id, key, coalesce(archived, false)", "dc") == model["projects"]
    assert current(path, "jira_role_actors", "project_id, role_id, name", "dc") == model["role_actors"]
    assert current(path, "jira_permission_schemes", "id, name", "dc") == model["schemes"]
    assert current(path, "jira_permission_grants", "scheme_id, id, permission, holder__type", "dc") == model["grants"]
    assert current(path, "jira_project_permission_schemes", "project_id, id", "dc") == model["project_schemes"]
    assert current(path, "jira_filters t", f"id, {shares('jira_filters')}", "dc") == model["filters"]
    assert current(path, "jira_dashboards t", f"id, {shares('jira_dashboards')}", "dc") == model["dashboards"]
    assert query(path, "select id from raw.dc_audit_events") == {(i,) for i in model["audit"]}
    assert current(path, "jira_server_info", "version", "dc") == model["version"]
    assert current(path, "jira_application_properties", "value", "dc", "and key = 'jira.mode'") == model["jira_mode"]


def anonymous_view(sim, org_no=0) -> dict:
    """What Jira shows a caller without credentials, per deployment: visible live projects, USER_PICKER."""
    org = sim.orgs[org_no]
    site, dc = org.sites[0], next(d for d in org.dc if d.product == "jira")
    out = {}
    for deployment, jira, anonymous_access in (("cloud", site.jira, site.plan != "free"), ("dc", dc.jira, True)):
        perms = Permissions(jira, Caller(None), anonymous_access=anonymous_access)
        keys = sorted(p.key for p in jira.projects if perms.can_view(p) and (deployment == "dc" or not p.archived))
        out[deployment] = (len(keys), ",".join(keys), perms.has_global("USER_PICKER"))
    return out


# --- the tests --------------------------------------------------------------------------------------


def test_exposed_org_loads_the_model_then_nothing_then_exactly_the_changes(tmp_path):
    sim = Simulator.generate("small", seed=7)
    assert sim.orgs[0].config["profile"] == "exposed"
    site = sim.orgs[0].sites[0].name
    with sim.serve() as base:
        first = run(sim, base, tmp_path)
        assert [c for c in first.problems if c["resource"] in JIRA] == []
        path = tmp_path / "w.duckdb"
        assert_cloud_matches(path, cloud_model(sim))
        assert_dc_matches(path, dc_model(sim))
        view = anonymous_view(sim)
        assert view["cloud"][0] >= 2 and view["cloud"][2] is True  # the exposed org: public projects, open directory
        probes = query(path, "select _deployment, projects_visible, project_keys, user_picker, projects_status, "
                             "permissions_status from raw.jira_anonymous_probe where _dlt_valid_to is null")
        assert probes == {(d, n, keys, picker, "ok", "ok") for d, (n, keys, picker) in view.items()}
        assert query(path, "select filters_visible > 0 from raw.jira_anonymous_probe "
                           "where _deployment = 'cloud'") == {(True,)}  # a filter shared with the public
        admin_groups = current(path, "jira_global_permission_probe", "group_name", "cloud", "and type = 'ADMIN'")
        assert admin_groups and all("admin" in name for (name,) in admin_groups)

        # an unchanged organization: no audit rows, no new history versions
        sizes = table_sizes(path)
        second = run(sim, base, tmp_path)
        assert not any(second.rows_by_table.get(t) for t in AUDIT_TABLES)
        assert table_sizes(path) == sizes

        # time travel: exactly the new audit records (the late one included) and the changed entities
        before_cloud, before_dc = cloud_model(sim)["audit"], dc_model(sim)["audit"]
        changes = sim.advance(days=1)["orgs"][0]
        third = run(sim, base, tmp_path)
        after_cloud, after_dc = cloud_model(sim), dc_model(sim)
        new_cloud = after_cloud["audit"] - before_cloud
        assert len(new_cloud) == changes["events"][f"jira:{site}"]
        assert {int(i) for i in changes["late_events"][f"jira:{site}"]} <= new_cloud
        latest = "(select max(_dlt_load_id) from raw.{0})"
        assert query(path, f"select id from raw.jira_audit_records where _dlt_load_id = "
                           f"{latest.format('jira_audit_records')}") == {(i,) for i in new_cloud}
        assert third.rows_by_table["jira_audit_records"] == len(new_cloud)
        dc_events = next(n for k, n in changes["events"].items() if k.startswith("dc:") and "jira" in k)
        assert third.rows_by_table["dc_audit_events"] == len(after_dc["audit"] - before_dc) == dc_events
        after_cloud["audit"] |= before_cloud  # loaded records stay when the 180-day window moves on
        after_dc["audit"] |= before_dc
        assert_cloud_matches(path, after_cloud)
        assert_dc_matches(path, after_dc)

        added = changes["memberships_added"][0]
        group_id = next(g.group_id for g in sim.orgs[0].groups if g.name == added["group"])
        assert (group_id, added["account"]) in current(path, "jira_group_members", "group_id, account_id", "cloud")
        removed = changes["memberships_removed"][0]
        group_id = next(g.group_id for g in sim.orgs[0].groups if g.name == removed["group"])
        assert query(path, f"select _dlt_valid_to is not null from raw.jira_group_members where group_id = "
                           f"'{group_id}' and account_id = '{removed['account']}'") == {(True,)}
        granted = changes["grants_added"][0]
        assert granted["permission"] == "BROWSE_PROJECTS" and granted["holder"] == "anyone"
        internal = current(path, "jira_permission_grants", "permission, holder__type", "cloud",
                           f"and scheme_id = {granted['scheme']}")
        assert ("BROWSE_PROJECTS", "anyone") in internal
        retired = changes["grants_removed"][0]
        history = query(path, f"select _dlt_valid_to is null from raw.jira_permission_grants where _deployment = "
                              f"'cloud' and scheme_id = {retired['scheme']} and permission = 'ADD_COMMENTS' "
                              f"and holder__type = 'anyone'")
        assert history == {(False,)}  # the grant is retired, not deleted and not current

    assert sim.request_log.writes() == []


def test_hardened_org_with_classic_and_scoped_tokens(tmp_path):
    sim = Simulator.generate("small", seed=11, profiles=["hardened"])
    with sim.serve() as base:
        classic = run(sim, base, tmp_path)
        scoped = run(sim, base, tmp_path, auth="scoped", data_center=False, db="scoped.duckdb")
    assert [c for c in classic.problems + scoped.problems if c["resource"] in JIRA] == []
    assert any(p for p in cloud_model(sim)["projects"] if p[2])  # seed 11 has an archived project
    for path in (tmp_path / "w.duckdb", tmp_path / "scoped.duckdb"):
        assert_cloud_matches(path, cloud_model(sim))
    assert_dc_matches(tmp_path / "w.duckdb", dc_model(sim))
    assert query(tmp_path / "w.duckdb", "select _deployment, projects_visible, project_keys, filters_visible, "
                                        "user_picker from raw.jira_anonymous_probe") \
        == {("cloud", 0, "", 0, False), ("dc", 0, "", None, False)}  # the hardened org shows nothing

    # the same rows through the gateway as on the site (lineage included: same tenant)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as site_db, \
            duckdb.connect(str(tmp_path / "scoped.duckdb"), read_only=True) as gateway_db:
        def rows(db, sql):
            return {tuple(r) for r in db.sql(sql).fetchall()}

        tables = rows(gateway_db, "select table_name from information_schema.tables where table_schema = 'raw' "
                                  "and table_name like 'jira%' and table_name not like '%\\_\\_%' escape '\\'")
        assert len(tables) > 15
        for (table,) in sorted(tables):
            columns = sorted(c for (c,) in set.intersection(*(  # the site warehouse also holds DC columns
                rows(db, f"select column_name from information_schema.columns where table_schema = 'raw' and "
                         f"table_name = '{table}' and column_name not like '\\_dlt%' escape '\\'")
                for db in (site_db, gateway_db))))
            snapshot = table != "jira_audit_records"
            # a snapshot row's _dlt_id hashes the whole raw object, nested lists included
            select = ", ".join(f'"{c}"' for c in columns + (["_dlt_id"] if snapshot else []))
            sql = f"select {select} from raw.{table} where _deployment = 'cloud'"
            sql += " and _dlt_valid_to is null" if snapshot else ""
            assert rows(gateway_db, sql) == rows(site_db, sql), table


def test_a_forbidden_audit_log_is_recorded_and_the_rest_loads(tmp_path):
    sim = Simulator.generate("tiny", seed=7)
    sim.faults.forbidden = ["*/rest/api/3/auditing/record"]
    sim.faults.not_found = ["*/rest/api/2/user/list"]  # a Jira DC before 10: user/search instead
    with sim.serve() as base:
        result = run(sim, base, tmp_path)
    status = {c["resource"]: c["status"] for c in result.coverage if c["resource"] in JIRA}
    assert status.pop("jira_audit_records") == "forbidden"
    assert set(status.values()) == {"ok"}
    path = tmp_path / "w.duckdb"
    assert "jira_audit_records" not in result.rows_by_table
    assert_dc_matches(path, dc_model(sim))
    model = cloud_model(sim)
    assert current(path, "jira_users", "account_id, account_type", "cloud") == model["users"]
    assert current(path, "jira_permission_grants", "scheme_id, id, permission, holder__type", "cloud") \
        == model["grants"]
    assert sim.request_log.writes() == []


def test_probe_records_what_an_anonymous_caller_reached_and_security_schemes_load(tmp_path):
    """The probe's keys are the corroborating evidence of POSTURE-016/017/020/021: exactly the projects,
    filters and dashboards an anonymous caller can list, and the reached projects Anyone may write to.
    Issue security schemes land with their levels and level members; the classic dashboard list adds no
    duplicate to dashboard/search."""
    from atlassian_simulator.truth import _Jira

    sim = Simulator.generate("tiny", seed=7)
    site = sim.orgs[0].sites[0]
    resources = ["jira_anonymous_probe", "jira_dashboards", "jira_issue_security_schemes"]
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base, admin=False, data_center=False)
        result = extract(orgs, credentials, tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p", resources=resources)
    assert [c for c in result.problems if c["resource"] in resources] == []
    path = tmp_path / "w.duckdb"
    dep = _Jira(site.name, "cloud", site.jira, lambda g: set(), lambda g: g, anonymous_reach=site.plan != "free")
    projects, filters, dashboards = dep.anonymous_reached()
    assert projects and dashboards  # the exposed organization: something to reach
    writable = {p.key for p in dep.projects if p.key in projects and any(
        g.holder_type == "anyone" and g.permission != "BROWSE_PROJECTS" for g in dep.grants(p))}
    (row,) = current(path, "jira_anonymous_probe", "project_keys, write_project_keys, filter_ids, dashboard_ids, "
                     "dashboards_status", "cloud")
    as_set = lambda text: set(filter(None, (text or "").split(",")))  # noqa: E731
    assert as_set(row[0]) == projects
    assert as_set(row[1]) <= writable and (writable == set() or as_set(row[1]))
    assert as_set(row[2]) == filters
    assert as_set(row[3]) == dashboards and row[4] == "ok"

    ids = query(path, "select id from raw.jira_dashboards where _dlt_valid_to is null")
    assert len(ids) == len(query(path, "select id, _dlt_id from raw.jira_dashboards where _dlt_valid_to is null"))

    (scheme,) = site.jira.issue_security_schemes
    assert current(path, "jira_issue_security_schemes", "id, name", "cloud") == {(str(scheme.scheme_id), scheme.name)} \
        or current(path, "jira_issue_security_schemes", "id, name", "cloud") == {(scheme.scheme_id, scheme.name)}
    levels = current(path, "jira_issue_security_levels", "id, name", "cloud")
    assert levels == {(level.level_id, level.name) for level in scheme.levels}
    members = current(path, "jira_issue_security_level_members", "issue_security_level_id, holder__type", "cloud")
    assert members == {(level.level_id, kind) for level in scheme.levels for kind, _ in level.members}
    using = current(path, "jira_issue_security_scheme_projects", "scheme_id, project_id", "cloud")
    assert {project for _, project in using} == set(scheme.project_ids) and scheme.project_ids
    assert sim.request_log.writes() == []


def test_picker_queries_cover_every_group_and_none_matches_more_than_the_cap():
    names = ([f"team-{i:04d}" for i in range(5000)] + ["jira-admins-wayne", "site-admins", "a", "A-Team", "ä"]
             + [f"okta-{w}" for w in ("eng", "sales", "ops")])
    for cap, most in ((1000, 20), (200, 100), (7, len(names))):
        queries = picker_queries(names, cap)
        lowered = [n.lower() for n in names]
        matched = [{n for n in lowered if q.lower() in n} for q in queries]
        assert set().union(*matched) == set(lowered)
        # a query naming a group by itself may match more (a name inside other names): the caller checks
        assert all(len(m) <= cap or q in names for q, m in zip(queries, matched, strict=True))
        assert len(queries) <= most, (cap, len(queries))  # 5,008 groups: 10 requests, not 5,008


def test_more_groups_than_the_cloud_picker_answers_are_all_probed(tmp_path, monkeypatch):
    """Jira Cloud's groups/picker answers at most jira.ajax.autocomplete.limit groups (1,000) a request:
    a site with more gets its labels through substring queries over the groups group/bulk lists."""
    sim = Simulator.generate("tiny", seed=7)
    resources = ["jira_groups", "jira_global_permission_probe"]
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base, data_center=False)
        whole = extract(orgs, credentials, tmp_path / "a.duckdb", pipelines_dir=tmp_path / "pa", resources=resources)
        monkeypatch.setattr(jira_identity, "JIRA_CLOUD_GROUP_PICKER_MAX", 3)
        capped = extract(orgs, credentials, tmp_path / "b.duckdb", pipelines_dir=tmp_path / "pb",
                         resources=resources)
    assert not whole.problems and not capped.problems, capped.problems
    labels = "group_id, group_name, type, text"
    want = current(tmp_path / "a.duckdb", "jira_global_permission_probe", labels, "cloud")
    assert want and current(tmp_path / "b.duckdb", "jira_global_permission_probe", labels, "cloud") == want
    (probe,) = [r for r in capped.coverage if r["resource"] == "jira_global_permission_probe"]
    assert probe["requests"] > 2  # the first answer was cut short: queries followed
