"""Exit codes and coverage that say what happened: nothing read is a failure, a resource that could not
be read fails the run once the rest is loaded, a failed run's coverage claims no rows, and a
scheduler's strict mode (--fail-on)."""

from __future__ import annotations

import re

import duckdb
import httpx
import pytest
from atlassian_posture.cli import main
from atlassian_posture.connector.doctor import diagnose, nothing_answered
from atlassian_posture.connector.runner import extract, verdict
from atlassian_posture.errors import EXIT_CONFIG, EXIT_FAILED, EXIT_GAPS, RunFailed
from atlassian_simulator.core import Simulator
from click.testing import CliRunner


@pytest.fixture(scope="module")
def tiny():
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    with sim.serve() as base:
        yield sim, base


def _no_wait(_seconds: float) -> None:
    return None


def test_wrong_urls_everywhere_fail_naming_the_configuration_and_move_no_clock(tiny, tmp_path):
    sim, base = tiny
    orgs, credentials = sim.connector_config(base, admin=False)
    for org in orgs.values():  # every URL one path segment off: the host answers, every endpoint is 404
        for site in org["sites"].values():
            site["url"] = site["url"].replace("/site/", "/nowhere/")
        for dc in org["data_center"].values():
            dc["url"] = dc["url"].replace("/dc/", "/nowhere/")
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(RunFailed) as info:
        extract(orgs, credentials, warehouse, sleep=_no_wait)
    assert info.value.exit_code == EXIT_CONFIG
    assert "every endpoint answered 404" in str(info.value) and "\n" not in str(info.value)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'raw'").fetchall()}
        assert "runs" not in tables  # the marts' clock does not move on a run that read nothing
        assert con.execute("select count(*) from raw.coverage where status = 'ok' "
                           "and resource not like '%_probe'").fetchone()[0] == 0
    findings = diagnose(orgs, credentials)
    assert nothing_answered(findings)[0] == 2


def test_doctor_fails_when_nothing_answers(tmp_path):
    orgs = {"acme": {"sites": {"acme": {"url": "https://127.0.0.1:9", "email": "a@example.com",
                                        "products": ["jira"]}}}}
    credentials = {"acme": {"sites": {"acme": "token-123456789"}}}
    findings = diagnose(orgs, credentials, transport=httpx.MockTransport(_refuse))
    code, line = nothing_answered(findings)
    assert code == 1 and "nothing answered for organization acme" in line


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def test_a_listing_that_keeps_failing_fails_the_run_after_the_rest_is_loaded(tiny, tmp_path):
    sim, base = tiny
    sim.faults.error_rate, sim.faults.only = 1.0, ["*/rest/api/3/group/bulk"]
    try:
        orgs, credentials = sim.connector_config(base)
        result = extract(orgs, credentials, tmp_path / "w.duckdb", sleep=_no_wait)
    finally:
        sim.faults.error_rate, sim.faults.only = 0.0, []
    failed = [r for r in result.coverage if r["status"] == "failed"]
    assert failed and {r["resource"] for r in failed} <= {"jira_groups", "jira_group_members"}
    assert sum(r["status"] == "ok" for r in result.coverage) > 20  # everything else was loaded
    problem = verdict(result)
    assert problem.exit_code == EXIT_FAILED and "failed" in str(problem) and "run again later" in str(problem)
    assert verdict(result, frozenset()) is None  # --fail-on none
    strict = verdict(result, frozenset({"not_available"}))  # the tiny org has plan-limited endpoints
    assert strict is None or strict.exit_code == EXIT_GAPS


class _FailAfterFirstPage(httpx.BaseTransport):
    """The simulator, except the Jira users listing answers 500 from its second page on."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/rest/api/3/users/search") and request.url.params.get("startAt", "0") != "0":
            return httpx.Response(500, json={"errorMessages": ["boom"]}, request=request)
        return self.inner.handle_request(request)


def test_a_failed_run_records_coverage_that_claims_no_rows(tmp_path):
    sim = Simulator.generate("tiny", seed=7, orgs=1, accounts=120)  # the users listing needs two pages
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base, data_center=False)
        with pytest.raises(RunFailed) as info:
            extract(orgs, credentials, tmp_path / "w.duckdb", transport=_FailAfterFirstPage(), sleep=_no_wait)
    assert "jira_users" in str(info.value) and "\n" not in str(info.value)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        rows = con.execute("select resource, status, \"rows\", reason from raw.coverage").fetchall()
    assert rows and all(status != "ok" for _, status, _, _ in rows)
    assert all(n == 0 for _, status, n, _ in rows if status == "failed")
    read_not_loaded = [reason for _, _, _, reason in rows if re.match(r"read \d+ rows, not loaded", reason or "")]
    assert read_not_loaded  # what was read is said, and that it did not land


def test_fail_on_is_parsed_and_unknown_statuses_are_named(tmp_path):
    result = CliRunner().invoke(main, ["extract", "--fail-on", "degraded,bogus", "--warehouse",
                                       str(tmp_path / "w.duckdb")])
    assert result.exit_code == 2 and "unknown status bogus" in result.output
