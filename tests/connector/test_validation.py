"""Row validation at the edge (issue 14 #3, #10): a row without its key is quarantined and retires
nothing; a key sent twice loads once; both are counted in coverage."""

import json
import random

import duckdb
import httpx
import pytest
from atlassian_posture.connector.runner import extract
from atlassian_posture.connector.validation import KeySet
from atlassian_posture.transform import PROFILE_NAME, PROJECT_DIR, _release_duckdb, profile_yaml
from atlassian_simulator.core import Simulator

RESOURCES = ["org_users", "jira_users", "jira_group_members", "apps_installed"]


class Tampering(httpx.BaseTransport):
    """The real simulator over HTTP, with `mutate(path, body)` applied to JSON answers while `on`."""

    def __init__(self, mutate):
        self.inner, self.mutate, self.on = httpx.HTTPTransport(), mutate, False

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        if not self.on or "json" not in response.headers.get("content-type", ""):
            return response
        response.read()
        body = self.mutate(request.url.path, response.json())
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return httpx.Response(response.status_code, headers=headers, content=json.dumps(body).encode())


def _break(path, body):
    """One org user with a null accountId, one Jira user without one, one app without key, one Jira
    user renamed (a real change in the same run), one group member listed twice."""
    if path.endswith("/users/search") and "/admin/" in path and body.get("data"):
        body["data"][0]["accountId"] = None
    elif path.endswith("/rest/api/3/users/search") and body:
        body[0].pop("accountId")
        if len(body) > 1:
            body[1]["displayName"] = "Renamed While Broken"
    elif path.endswith("/rest/plugins/1.0/") and body.get("plugins"):
        body["plugins"][0].pop("key")
    elif path.endswith("/group/member") and body.get("values"):
        body["values"].append(dict(body["values"][0]))
    return body


def _current(db, table, key):
    return db.execute(f"select {key} from raw.{table} where _dlt_valid_to is null").fetchall()


def _coverage_as_dbt_sees_it(database, tmp):
    """`dbt build` of int_coverage_latest and what it depends on, with their tests (accepted_values on
    status): {resource: (status, is_collected)} of the rows that are not ok. (Only that part of the project: a resource
    subset trips an unrelated grain test of the check history.)"""
    from dbt.cli.main import dbtRunner

    profiles = tmp / "profiles"
    profiles.mkdir(exist_ok=True)
    (profiles / "profiles.yml").write_text(profile_yaml(database))
    try:
        result = dbtRunner().invoke([
            "build", "--select", "+int_coverage_latest", "--indirect-selection", "cautious",
            "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(profiles), "--profile", PROFILE_NAME,
            "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"), "--quiet"])
    finally:
        _release_duckdb()  # dbt-duckdb keeps its connection open otherwise
    assert result.success, [str(n.message) for n in result.result or [] if str(n.status) in ("error", "fail")]
    with duckdb.connect(str(database), read_only=True) as db:
        return {resource: (status, collected) for resource, status, collected in db.execute(
            "select resource_name, status, is_collected from intermediate.int_coverage_latest "
            "where status <> 'ok'").fetchall()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("validation")
    sim = Simulator.generate("tiny", seed=7)
    transport = Tampering(_break)
    database = tmp / "w.duckdb"
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base, data_center=False)

        def run():
            result = extract(orgs, credentials, database, pipelines_dir=tmp / "p", resources=RESOURCES,
                             transport=transport, sleep=lambda s: None)
            with duckdb.connect(str(database), read_only=True) as db:
                state = {t: sorted(map(str, _current(db, t, k))) for t, k in
                         [("org_users", "account_id"), ("org_group_memberships", "group_id, account_id"),
                          ("jira_users", "account_id"), ("apps_installed", "key"),
                          ("jira_group_members", "group_id, account_id")]}
                quarantine = db.execute("select resource, reason from raw.quarantine").fetchall() \
                    if db.execute("select count(*) from information_schema.tables where table_name = 'quarantine'"
                                  ).fetchone()[0] else []
                renamed = db.execute("select count(*), count(distinct account_id) from raw.jira_users "
                                     "where _dlt_valid_to is null").fetchone()
            return result, state, quarantine, renamed

        clean = run()
        transport.on = True
        refused = sim.restrict(every=3)  # and some groups' members refused (test_partial_rights.py): one dbt build
        broken = run()
        judged = _coverage_as_dbt_sees_it(database, tmp)
        transport.on = False
        sim.restrict(every=0)
        healed = run()
    assert refused["groups"]
    return clean, broken + (judged,), healed


def test_rows_without_their_key_are_quarantined_and_retire_nothing(runs):
    (_, clean, _, _), (result, broken, quarantine, _, _), _ = runs
    assert all("None" not in row for rows in broken.values() for row in rows)  # no NULL key loaded
    assert broken["org_users"] == clean["org_users"]  # the nulled user is still current...
    assert broken["org_group_memberships"] == clean["org_group_memberships"]  # ...with its memberships
    assert broken["jira_users"] == clean["jira_users"]
    assert broken["apps_installed"] == clean["apps_installed"]
    rejected = {resource for resource, _ in quarantine}
    assert {"org_users", "jira_users", "apps_installed"} <= rejected
    assert any("accountId" in reason for _, reason in quarantine)
    status = {(c["resource"], c["status"]) for c in result.coverage}
    assert {("org_users", "degraded"), ("jira_users", "degraded"), ("apps_installed", "degraded")} <= status
    degraded = [c for c in result.coverage if c["status"] == "degraded"]
    assert all("rejected" in c["reason"] and "not retired" in c["reason"] for c in degraded)


def test_a_degraded_resource_builds_and_counts_as_not_collected(runs):
    judged = runs[1][4]
    assert all(judged[r] == ("degraded", False) for r in ("org_users", "jira_users", "apps_installed"))


def test_a_partial_resource_builds_and_counts_as_not_collected(runs):
    """A fan-out with refused items (403 on some groups' members) is not collected: its checks not_evaluable."""
    assert runs[1][4]["jira_group_members"] == ("partial", False)


def test_a_changed_row_in_a_held_snapshot_still_replaces_its_version(runs):
    _, (_, _, _, (current, accounts), _), _ = runs
    assert current == accounts  # one current version per account, the renamed one included


def test_a_key_sent_twice_loads_once_and_is_counted(runs):
    (_, clean, _, _), (result, broken, _, _, _), _ = runs
    members = broken["jira_group_members"]
    assert len(members) == len(set(members)) and set(members) == set(clean["jira_group_members"])
    reasons = [c["reason"] for c in result.coverage if c["resource"] == "jira_group_members"]
    assert any("duplicate rows dropped" in r for r in reasons)


def test_a_clean_run_after_a_degraded_one_is_ok_again(runs):
    (_, clean, _, _), _, (result, healed, _, _) = runs
    assert healed == clean
    assert not [c for c in result.coverage if c["status"] == "degraded"]


def test_the_key_set_remembers_every_key_across_its_merges():
    keys = KeySet()
    rng = random.Random(7)
    first = [rng.getrandbits(64) for _ in range(3 * KeySet.RECENT_MAX + 5)]
    # each key new once, a key twice in one batch new once, whether merged into the sorted array or recent
    assert keys.first_seen(first[:10] + first[:3]) == [True] * 10 + [False] * 3
    for start in range(10, len(first), 1000):
        assert all(keys.first_seen(first[start:start + 1000]))
    assert len(keys) == len(first) and keys._sorted.size >= 2 * KeySet.RECENT_MAX
    again = rng.sample(first, 500) + [0, 2**64 - 1]
    assert keys.first_seen(again) == [False] * 500 + [True, True]
    assert keys.first_seen([0, 2**64 - 1, 5]) == [False, False, True]
