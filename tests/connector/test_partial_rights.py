"""A credential with partial rights (issue 14 #5): a 403 on one item of a fan-out (a project's role
actors, a space's permissions, a group's members) skips that item, the run completes, coverage says
`partial` and names the items, the rows loaded earlier for them stay current, and the marts count the
resource as not collected (its checks not_evaluable: asserted on the dbt build test_validation.py already
runs, `test_a_partial_resource_builds_and_counts_as_not_collected`)."""

import duckdb
import pytest
from atlassian_posture.connector.runner import extract
from atlassian_simulator.core import Simulator
from atlassian_simulator.model import RoleActor

# (table, the column naming the fan-out item, the refused kind of `Simulator.restrict`)
FAN_OUTS = [
    ("jira_role_actors", "project_id", "projects"),
    ("jira_project_permission_schemes", "project_id", "projects"),
    ("jira_group_members", "group_id", "groups"),
    ("confluence_group_members", "group_id", "groups"),
    ("confluence_space_permissions", "space_id", "spaces"),
]
RESOURCES = [table for table, _, _ in FAN_OUTS]


def _current(database, table: str, parent: str) -> dict[str, set[str]]:
    """Current rows of `table` per item: {item id: {row identity}}."""
    with duckdb.connect(str(database), read_only=True) as db:
        rows = db.execute(f"select {parent}, _dlt_id, * exclude (_dlt_id, _dlt_load_id, _dlt_valid_from) "
                          f"from raw.{table} where _dlt_valid_to is null").fetchall()
    out: dict[str, set[str]] = {}
    for row in rows:
        out.setdefault(str(row[0]), set()).add(repr(row[2:]))
    return out


def _actors(database) -> set[tuple[str, str]]:
    with duckdb.connect(str(database), read_only=True) as db:
        return set(db.execute("select project_id, coalesce(actor_user__account_id, actor_group__group_id) "
                              "from raw.jira_role_actors where _dlt_valid_to is null").fetchall())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A full-rights run, then (same warehouse) a run where every third project, space and group answers 403,
    after one actor left a readable project and one left a refused project."""
    tmp = tmp_path_factory.mktemp("partial")
    sim = Simulator.generate("tiny", seed=7)
    database = tmp / "w.duckdb"
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base, data_center=False)

        def run():
            return extract(orgs, credentials, database, pipelines_dir=tmp / "p", resources=RESOURCES,
                           sleep=lambda s: None)

        full = run()
        before = {table: _current(database, table, parent) for table, parent, _ in FAN_OUTS}
        actors_before = _actors(database)
        refused = sim.restrict("site-admin-token", every=3)
        projects = sim.orgs[0].sites[0].jira.projects
        left = {}
        for project in projects:  # one actor removed from a readable project, one from a refused one
            kind = "refused" if project.project_id in refused["projects"] else "read"
            users = [(role, a) for role, actors in project.actors.items() for a in actors
                     if isinstance(a, RoleActor) and a.actor_type == "user"]
            if kind not in left and users:
                role, actor = users[0]
                project.actors[role].remove(actor)
                left[kind] = (project.project_id, actor.actor_id)
        partial = run()
        after = {table: _current(database, table, parent) for table, parent, _ in FAN_OUTS}
        actors_after = _actors(database)
        sim.restrict("site-admin-token", every=0)
        # the plain user's token (no admin rights, Project Administrator of one project), on its own warehouse
        user = sim.credential("site-user-token")
        for key, org in orgs.items():
            org["sites"] = {name: {**site, "email": user.email} for name, site in org["sites"].items()}
            credentials[key]["sites"] = {name: user.secret for name in credentials[key]["sites"]}
        plain = extract(orgs, credentials, tmp / "user.duckdb", pipelines_dir=tmp / "p",
                        resources=["jira_role_actors", "jira_project_permission_schemes"], sleep=lambda s: None)
    return full, partial, refused, before, after, left, actors_before, actors_after, plain


def test_the_run_completes_and_coverage_names_the_refused_items(runs):
    full, partial, refused, *_ = runs
    assert {c["status"] for c in full.coverage if c["resource"] in RESOURCES} == {"ok"}
    assert all(refused.values())  # the simulator refused something of every kind
    coverage = {c["resource"]: c for c in partial.coverage}
    for table, _, kind in FAN_OUTS:
        row = coverage[table]
        assert row["status"] == "partial", row
        assert f"403 on {len(refused[kind])} of " in row["reason"] and kind in row["reason"], row["reason"]
        assert "kept from the last run" in row["reason"]
        assert row["rows"] > 0  # the readable items loaded
    first = refused["projects"][0]
    assert first in coverage["jira_role_actors"]["reason"]


def test_rows_of_refused_items_stay_current(runs):
    _, _, refused, before, after, *_ = runs
    for table, _, kind in FAN_OUTS:
        held = [item for item in refused[kind] if item in before[table]]
        assert held, f"{table}: no rows of a refused item were loaded before"
        for item in held:
            assert after[table].get(item) == before[table][item], f"{table}: rows of {item} retired or changed"


def test_a_readable_item_still_retires_what_it_lost(runs):
    *_, left, actors_before, actors_after, _ = runs
    read_project, gone = left["read"]
    assert (read_project, gone) in actors_before and (read_project, gone) not in actors_after
    refused_project, kept = left["refused"]  # invisible to this credential: kept from the last run
    assert (refused_project, kept) in actors_after



def test_a_token_without_admin_rights_completes_and_says_which_projects_it_could_not_read(runs):
    """The issue's case: a plain user's token administers one project; the others' role actors answer 403."""
    plain = runs[-1]
    coverage = {c["resource"]: c for c in plain.coverage}
    for resource in ("jira_role_actors", "jira_project_permission_schemes"):
        row = coverage[resource]
        assert row["status"] == "partial" and row["rows"] > 0, row
        assert row["reason"].startswith("403 on ") and " projects (" in row["reason"], row["reason"]


def test_per_item_refusals_make_the_entry_partial_even_when_every_item_was_refused():
    from atlassian_posture.connector.helpers import Coverage, Scope, per_item
    from atlassian_posture.connector.http import Forbidden, NotAvailable

    def fetch(item):
        if item.startswith("no"):
            raise Forbidden(f"may not read {item} (403)", 403)
        if item == "gone":
            raise NotAvailable("gone (404)", 404)
        return [item]

    coverage, scope = Coverage(), Scope("acme", "jira", "cloud", "acme")
    outcomes = {}
    for items in (["a", "no1", "gone", "no2"], ["no1", "no2"]):
        with coverage.track("jira_role_actors", scope) as stats:
            outcomes[len(items)] = [per_item(fetch, stats, "projects", empty=[], hold=lambda i: {"project_id": i})(i)
                                    for i in items]
    partial, every = coverage.rows("r")
    assert outcomes[4] == [["a"], [], [], []]
    assert partial["status"] == "partial" and partial["reason"].startswith("403 on 2 of 4 projects (no1, no2)")
    # not `forbidden` (the listing was read), which the marts take for "no Guard" on some org resources
    assert every["status"] == "partial" and every["reason"].startswith("403 on 2 of 2 projects")
    assert coverage.item_holds("jira_role_actors")[0][1] == {"project_id": "no1"}


def test_a_group_refused_on_its_first_or_a_later_page_is_skipped_and_a_401_still_stops():
    from atlassian_posture.connector.helpers import fan_out_pages, per_item
    from atlassian_posture.connector.http import AuthenticationFailed, Forbidden, RequestStats

    def pages(group):
        if group == "first":
            raise Forbidden("may not read first (403)", 403)
        yield [f"{group}-1"]
        if group == "later":
            raise Forbidden("may not read later's second page (403)", 403)
        yield [f"{group}-2"]

    stats = RequestStats()
    got = list(fan_out_pages(["a", "first", "later", "b"], pages, stats=stats, kind="groups",
                             hold=lambda g: {"group_id": g}))
    assert got == [("a", ["a-1"]), ("a", ["a-2"]), ("later", ["later-1"]), ("b", ["b-1"]), ("b", ["b-2"])]
    assert stats.asked == {"groups": 4} and [n for n, _ in stats.refused["groups"]] == ["first", "later"]

    def rejected(item):
        raise AuthenticationFailed("the token was rejected (401)", 401)

    with pytest.raises(AuthenticationFailed):
        per_item(rejected, RequestStats(), "projects")("p")
