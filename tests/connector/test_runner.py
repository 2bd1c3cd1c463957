"""The runner and the CLI around it: configuration errors, the lock, doctor, exit codes, no writes."""

from pathlib import Path

import duckdb
import pytest
from atlassian_posture import warehouse as warehouse_module
from atlassian_posture.cli import main
from atlassian_posture.connector.config import ConfigError, load_tenants
from atlassian_posture.connector.doctor import diagnose
from atlassian_posture.connector.runner import extract
from atlassian_posture.errors import EXIT_AUTH, EXIT_CONFIG, EXIT_LOCKED, RunFailed
from atlassian_posture.warehouse import Warehouse
from atlassian_simulator.core import Simulator
from click.testing import CliRunner


def test_configuration_problems_are_one_line_and_name_the_key():
    with pytest.raises(ConfigError, match="sources.atlassian.credentials.acme.sites.acme"):
        load_tenants({"acme": {"sites": {"acme": {"url": "https://acme.atlassian.net", "email": "a@b.c"}}}}, {})
    with pytest.raises(ConfigError, match="https"):
        load_tenants({"acme": {"sites": {"acme": {"url": "http://acme.atlassian.net", "email": "a@b.c"}}}},
                     {"acme": {"sites": {"acme": "t"}}})
    with pytest.raises(ConfigError, match="no organization configured"):
        load_tenants({}, {})


def test_a_second_run_on_a_locked_warehouse_exits_cleanly(tmp_path):
    database = tmp_path / "w.duckdb"
    with Warehouse(database).lock():
        with pytest.raises(RunFailed) as info:
            extract({"acme": {}}, {"acme": {"admin_api_key": "k"}}, database, pipelines_dir=tmp_path / "p")
    assert info.value.exit_code == EXIT_LOCKED
    assert "another run holds" in str(info.value)


def test_a_bad_credential_fails_fast_naming_it_without_the_secret(tmp_path):
    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base, data_center=False)
        key = next(iter(credentials))
        credentials[key]["admin_api_key"] = "wrong-key-123"
        with pytest.raises(RunFailed) as info:
            extract(orgs, credentials, tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p")
    assert info.value.exit_code == EXIT_AUTH
    message = str(info.value)
    assert "Admin API key" in message and "wrong-key-123" not in message and "\n" not in message


def test_doctor_tells_what_an_unguarded_org_cannot_give(tmp_path):
    sim = Simulator.generate("tiny", seed=7, orgs=3)
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base)
        findings = diagnose(orgs, credentials)
        assert not sim.request_log.writes()
    unguarded = sim.orgs[2].sites[0].name
    statuses = {(f.tenant, f.what): f.status for f in findings}
    assert statuses[(unguarded, "policies")] == "not_available"
    assert statuses[(unguarded, "org audit log")] == "forbidden"
    assert statuses[(sim.orgs[0].sites[0].name, "org audit log")] == "ok"
    assert all(f.status == "ok" for f in findings if f.tenant == sim.orgs[0].sites[0].name)


def test_cli_doctor_and_extract_against_a_served_simulator(tmp_path):
    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        config = tmp_path / "sim.toml"
        config.write_text(sim.secrets_toml(base))
        runner = CliRunner()
        doctor = runner.invoke(main, ["doctor", "--config-file", str(config)])
        assert doctor.exit_code == 0, doctor.output
        assert "audit log" in doctor.output
        result = runner.invoke(main, ["extract", "--config-file", str(config), "--warehouse",
                                      str(tmp_path / "w.duckdb"), "--resource", "org_domains"])
        assert result.exit_code == 0, result.output
        assert "Loaded" in result.output
        bad = runner.invoke(main, ["extract", "--config-file", str(config), "--warehouse",
                                   str(tmp_path / "w.duckdb"), "--resource", "nope"])
        assert bad.exit_code == EXIT_CONFIG
    assert not sim.request_log.writes()
    assert Path(tmp_path / "w.duckdb").exists()


def test_every_row_carries_its_org_id_whatever_order_resources_run_in(tmp_path):
    import duckdb

    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base)
        extract(orgs, credentials, tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p",
                resources=["jira_projects", "confluence_spaces", "org_domains"])
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        for table in ("jira_projects", "confluence_spaces", "org_domains"):
            ids = con.sql(f"select distinct _org_id from raw.{table}").fetchall()
            assert ids == [(sim.orgs[0].org_id,)], table


def test_run_extracts_then_builds_a_dbt_project_over_the_warehouse(tmp_path):
    import duckdb

    project = tmp_path / "dbt"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: probe\nversion: '1.0'\nconfig-version: 2\nprofile: atlassian_posture\nmodel-paths: [models]\n")
    (project / "models" / "coverage_summary.sql").write_text(
        "select status, count(*) as resources from raw.coverage group by status")
    (project / "models" / "schema.yml").write_text(
        "version: 2\nmodels:\n  - name: coverage_summary\n    columns:\n      - name: status\n"
        "        data_tests: [not_null, unique]\n")
    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        config = tmp_path / "sim.toml"
        config.write_text(sim.secrets_toml(base))
        warehouse = tmp_path / "w" / "w.duckdb"
        result = CliRunner().invoke(main, ["run", "--config-file", str(config), "--warehouse", str(warehouse),
                                           "--dbt-project", str(project)])
    assert result.exit_code == 0, result.output
    assert "1 models and seeds built, 2 tests passed" in result.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select sum(resources) from main.coverage_summary").fetchone()[0] > 10


def test_memory_is_given_back_before_normalize_and_before_load(tmp_path, monkeypatch):
    """Each of dlt's steps allocates through its own allocator (Python's, pyarrow's, DuckDB's): the run hands
    what the step before freed back to the system before the next starts, and the rows still load."""
    from atlassian_posture.connector import memory, runner
    from dlt.pipeline.pipeline import Pipeline

    calls = []
    monkeypatch.setattr(memory, "give_back", lambda: calls.append("give_back"))
    monkeypatch.setattr(runner, "give_back", lambda: calls.append("give_back"))
    for step in ("normalize", "load"):
        original = getattr(Pipeline, step)
        def spied(self, *args, _original=original, _step=step, **kwargs):
            calls.append(_step)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Pipeline, step, spied)
    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base)
        result = extract(orgs, credentials, tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p", resources=["org_domains"])
    assert calls == ["give_back", "normalize", "give_back", "load", "give_back"]
    assert result.rows_by_table["org_domains"] > 0


def test_a_load_that_runs_out_of_duckdbs_memory_is_retried_with_more_and_loses_nothing(tmp_path, monkeypatch):
    """DuckDB really runs out of an 8 MB limit in the load's merge: dlt retries the job (a warning naming the
    cause, one line each, no traceback), then the run loads the pending package again at the ladder's next
    limit; every row lands (as in a run that had enough), and the CLI says it needed more memory."""
    from atlassian_posture.connector import runner

    seen, original = [], warehouse_module._NoTraceback.filter

    def spied(self, record):  # what dlt's logger hands its handlers, after the product's filter
        kept = original(self, record)
        seen.append(record)
        return kept

    monkeypatch.setattr(warehouse_module._NoTraceback, "filter", spied)

    def current(database, table):
        with duckdb.connect(str(database), read_only=True) as con:
            return con.execute(f"select account_id from raw.{table} where _dlt_valid_to is null "
                               "order by all").fetchall()

    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        config = tmp_path / "sim.toml"
        config.write_text(sim.secrets_toml(base))
        orgs, credentials = sim.connector_config(base)
        extract(orgs, credentials, tmp_path / "enough.duckdb", pipelines_dir=tmp_path / "p", resources=["org_users"])
        monkeypatch.setitem(warehouse_module.LOAD_DUCKDB_SETTINGS, "memory_limit", "8MB")
        monkeypatch.setattr(runner, "LOAD_MEMORY_LIMITS", ("8MB", "256MB"))
        result = CliRunner().invoke(main, ["extract", "--config-file", str(config), "--warehouse",
                                           str(tmp_path / "w.duckdb"), "--resource", "org_users"])
    assert result.exit_code == 0, result.output
    assert "loaded at 256MB" in result.output and "Loaded 0 rows" not in result.output
    assert "warning: dlt: Transient exception in job" in result.output and "error:" not in result.output
    retried = [r for r in seen if r.getMessage().startswith("Transient exception in job")]
    assert retried and all(r.levelname == "WARNING" and not r.exc_info and "Out of Memory" in r.getMessage()
                           for r in retried)
    for table in ("org_users", "org_group_memberships"):
        assert current(tmp_path / "w.duckdb", table) == current(tmp_path / "enough.duckdb", table) != []


def test_a_load_out_of_memory_at_every_limit_fails_in_one_line_and_the_next_run_loads(tmp_path, monkeypatch):
    from atlassian_posture.connector import runner

    monkeypatch.setitem(warehouse_module.LOAD_DUCKDB_SETTINGS, "memory_limit", "1MB")
    monkeypatch.setattr(runner, "LOAD_MEMORY_LIMITS", ("1MB", "2MB"))
    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base)
        with pytest.raises(RunFailed) as failed:
            extract(orgs, credentials, tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p", resources=["org_users"])
        monkeypatch.setitem(warehouse_module.LOAD_DUCKDB_SETTINGS, "memory_limit", "256MB")
        result = extract(orgs, credentials, tmp_path / "w.duckdb", pipelines_dir=tmp_path / "p",
                         resources=["org_users"])
    assert "Out of Memory" in str(failed.value) and "\n" not in str(failed.value)
    assert result.load_memory is None
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        users = con.execute("select count(*) from raw.org_users where _dlt_valid_to is null").fetchone()[0]
    assert users == result.rows_by_table["org_users"] > 0
