"""The transform reads the raw tables the warehouse holds, whatever dbt's relation cache says of them."""

from __future__ import annotations

import duckdb
from atlassian_posture.connector.runner import extract
from atlassian_posture.transform import build
from atlassian_simulator.core import Simulator
from dbt.adapters.base.impl import BaseAdapter


def test_a_present_raw_table_is_read_even_when_dbts_cache_misses_it(tmp_path, monkeypatch):
    """dbt lists the raw schema (which it does not build) on a first cache miss, from several threads at once,
    and a thread can find the schema cached before its tables are in: CI on a busy machine once built a
    warehouse whose Data Center audit events were all in raw and none in the marts. Here the cache says
    raw is empty; the marts still hold every event."""
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    warehouse = tmp_path / "w.duckdb"
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base)
        extract(orgs, credentials, warehouse, pipelines_dir=tmp_path / "p",
                resources=["jira_dc_audit_events", "confluence_dc_audit_events"])
    listed = BaseAdapter.list_relations

    def stale(self, database, schema):
        return [] if schema == "raw" else listed(self, database, schema)

    monkeypatch.setattr(BaseAdapter, "list_relations", stale)
    build(warehouse, tests=False)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw = con.execute("select count(*) from raw.dc_audit_events").fetchone()[0]
        marts = con.execute("select count(*) from marts.audit_events where source = 'dc'").fetchone()[0]
    assert marts == raw > 0
