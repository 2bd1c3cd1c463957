"""The Dagster definitions materialize every asset against the simulator, with lineage from each
API resource through the dbt models to the published copy."""

from __future__ import annotations

import duckdb
import pytest
from atlassian_posture.consume.readcopy import published_path
from atlassian_simulator.core import Simulator

dg = pytest.importorskip("dagster", reason="the dagster extra is not installed: uv sync --extra dagster")


@pytest.fixture
def definitions(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLASSIAN_POSTURE_DAGSTER_AUTOLOAD", "0")
    from atlassian_posture.orchestration.dagster_defs import build_definitions

    sim = Simulator.generate("tiny", seed=7, orgs=1)
    with sim.serve() as base:
        config = tmp_path / "atlassian.toml"
        config.write_text(sim.secrets_toml(base))
        yield build_definitions(tmp_path / "posture.duckdb", str(config)), tmp_path / "posture.duckdb"


def test_every_asset_materializes_with_lineage(definitions):
    defs, warehouse = definitions
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    raw = dg.AssetKey(["atlassian_raw", "jira_users"])
    staging = next(k for k in keys if k.path[-1] == "stg_directory__jira_users")
    assert raw in graph.get(staging).parent_keys  # dbt's source resolves to the dlt asset
    assert dg.AssetKey(["atlassian_raw", "runs"]) in graph.get(
        next(k for k in keys if k.path[-1] == "stg_connector__runs")).parent_keys
    job = defs.resolve_job_def("daily_posture")
    assert any(s.cron_schedule == "15 2 * * *" for s in defs.schedules)
    assert job.op_retry_policy.max_retries == 2
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == keys
    with duckdb.connect(str(published_path(warehouse)), read_only=True) as con:
        assert con.execute("select count(*) from marts.check_status").fetchone()[0] == 114
        assert con.execute("select count(*) from raw.jira_users").fetchone()[0] > 0
