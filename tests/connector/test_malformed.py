"""Malformed answers (issue 14 #4, #6): a repeated page, a renamed field, a list where an object was, an
HTML login page served with 200. Each ends in one line naming the resource, or the resource recorded
`failed` in coverage; never a traceback, never `ok`. (A null or absent key: test_validation.py.)

Each case runs the real connector against the served simulator, with one endpoint rewritten on the
way back, and selects only the resource it breaks, so the whole module takes seconds."""

import json
import re
from urllib.parse import urlencode

import duckdb
import httpx
import pytest
from atlassian_posture.connector.helpers import Coverage, Scope
from atlassian_posture.connector.http import MalformedResponse
from atlassian_posture.connector.runner import extract
from atlassian_posture.errors import RunFailed
from atlassian_simulator.core import Simulator


class Rewrite(httpx.BaseTransport):
    """The served simulator, with `rule(request, forward)` deciding the answer to each request."""

    def __init__(self):
        self.inner, self.rule, self.calls = httpx.HTTPTransport(), None, []

    def handle_request(self, request):
        self.calls.append(request.url.path)
        if self.rule is None:
            return self.inner.handle_request(request)
        return self.rule(request, self.inner.handle_request)


def json_rewrite(suffix: str, change):
    """A rule: JSON answers of paths ending with `suffix` go through `change(body)`."""

    def rule(request, forward):
        response = forward(request)
        if not request.url.path.endswith(suffix):
            return response
        response.read()
        return httpx.Response(response.status_code, headers={"content-type": "application/json"},
                              content=json.dumps(change(response.json())).encode())

    return rule


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    """run(resource, rule, database=None) -> (RunResult | RunFailed, {resource: (status, reason)}, requests)."""
    tmp = tmp_path_factory.mktemp("malformed")
    sim = Simulator.generate("tiny", seed=3)
    transport = Rewrite()
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base, data_center=False)

        def run(resource, rule, database=None):
            database = database or tmp / f"{resource}-{len(transport.calls)}.duckdb"
            transport.rule, transport.calls = rule, []
            try:
                outcome = extract(orgs, credentials, database, pipelines_dir=tmp / "p", resources=[resource],
                                  transport=transport, sleep=lambda s: None)
            except RunFailed as exc:
                outcome = exc
            with duckdb.connect(str(database), read_only=True) as db:
                # the newest run by when it started (two runs in one second have ids that sort at random)
                latest = db.execute("select resource, status, reason from raw.coverage where run_id = "
                                    "(select run_id from raw.coverage order by started_at desc limit 1)").fetchall()
            return outcome, {r: (s, why) for r, s, why in latest}, list(transport.calls)

        yield run, tmp


def one_line_failure(outcome, resource):
    assert isinstance(outcome, RunFailed), outcome
    message = str(outcome)
    assert "\n" not in message and "Traceback" not in message and resource in message, message
    return message


def test_a_server_repeating_its_first_page_is_stopped_in_two_requests(sim_run):
    run, _ = sim_run

    def first_page_always(request, forward):
        if request.url.path.endswith("/rest/api/3/users/search"):
            params = {**dict(request.url.params), "startAt": "0"}
            request = httpx.Request(request.method, request.url.copy_with(query=urlencode(params).encode()),
                                    headers=request.headers)
        return forward(request)

    outcome, coverage, calls = run("jira_users", first_page_always)
    message = one_line_failure(outcome, "jira_users")
    assert "repeated a page" in message
    assert sum(path.endswith("/users/search") for path in calls) == 2
    assert coverage["jira_users"][0] == "failed"


def test_a_renamed_field_fails_the_resource_in_one_line_naming_the_field_and_request(sim_run):
    run, _ = sim_run

    def rename_id(body):
        for project in body["values"]:
            project["projectId"] = project.pop("id")
        return body

    outcome, coverage, _ = run("jira_projects", json_rewrite("/project/search", rename_id))
    message = one_line_failure(outcome, "jira_projects")
    assert "KeyError 'id'" in message and "GET " in message and "/project/search" in message
    status, reason = coverage["jira_projects"]
    assert status == "failed" and "KeyError 'id'" in reason


def test_a_list_where_an_object_was_fails_the_resource(sim_run):
    run, _ = sim_run

    def as_list(request, forward):  # project/{id}/role/{roleId} answers {.., actors: [..]}: here a list of its values
        response = forward(request)
        if not re.search(r"/project/[^/]+/role/\d+$", request.url.path):
            return response
        response.read()
        return httpx.Response(response.status_code, headers={"content-type": "application/json"},
                              content=json.dumps(list(response.json().values())).encode())

    rule = as_list
    outcome, coverage, _ = run("jira_role_actors", rule)
    message = one_line_failure(outcome, "jira_role_actors")
    assert "AttributeError" in message
    assert coverage["jira_role_actors"][0] == "failed"


def test_a_listing_whose_list_became_an_object_is_recorded_failed_and_the_run_goes_on(sim_run):
    run, _ = sim_run
    rule = json_rewrite("/permissionscheme", lambda body: {**body, "permissionSchemes": {"scheme": body}})
    outcome, coverage, _ = run("jira_permission_schemes", rule)
    # the run of this one resource read nothing else, so it ends as such (exit 1); in a full run the rest loads
    assert not isinstance(outcome, RunFailed) or "nothing could be read" in str(outcome), outcome
    status, reason = coverage["jira_permission_schemes"]
    assert status == "failed" and "unexpected response shape" in reason and "\n" not in reason


def test_an_html_login_page_with_200_is_recorded_failed_and_retires_nothing(sim_run):
    run, tmp = sim_run
    database = tmp / "html.duckdb"
    run("jira_users", None, database)  # a clean run first
    with duckdb.connect(str(database), read_only=True) as db:
        loaded = db.execute("select count(*) from raw.jira_users where _dlt_valid_to is null").fetchone()[0]

    def login_page(request, forward):
        if request.url.path.endswith("/users/search"):
            return httpx.Response(200, headers={"content-type": "text/html; charset=utf-8"},
                                  content=b"<!DOCTYPE html><html><body><form>Log in to continue</form></body></html>")
        return forward(request)

    outcome, coverage, _ = run("jira_users", login_page, database)
    assert not isinstance(outcome, RunFailed) or "nothing could be read" in str(outcome), outcome
    status, reason = coverage["jira_users"]
    assert status == "failed" and "HTML page" in reason and "base URL" in reason
    with duckdb.connect(str(database), read_only=True) as db:
        assert db.execute("select count(*) from raw.jira_users where _dlt_valid_to is null").fetchone()[0] == loaded


@pytest.mark.parametrize("error", [KeyError("values"), TypeError("'NoneType' object is not iterable"),
                                   ValueError("invalid literal for int() with base 10: 'x'")])
def test_coverage_never_says_ok_for_a_resource_that_raised(error):
    coverage = Coverage()
    scope = Scope("acme", "jira", "cloud", "acme")
    with pytest.raises(MalformedResponse) as raised:
        with coverage.track("jira_projects", scope) as stats:
            stats.add(pages=3)
            stats.requested("GET /rest/api/3/project/search")
            raise error
    [row] = coverage.rows("r1")
    assert row["status"] == "failed"
    assert type(error).__name__ in row["reason"] and "after 3 pages (last request GET /rest/api/3/project/search)" \
        in row["reason"]
    assert str(raised.value).startswith("jira_projects for acme/acme/jira/cloud failed: ")
    assert "\n" not in str(raised.value)
