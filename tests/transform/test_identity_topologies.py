"""Tenants configured without an org key, or with Data Center only, build every mart under a derived,
non-null organization identity; a tenant given an org key later keeps its history; a renamed field
makes its checks not_evaluable naming the column, never a silent pass."""

from __future__ import annotations

import duckdb
import pytest
from atlassian_posture.cli import main
from atlassian_posture.connector.evaluability import drift_lines
from atlassian_posture.connector.runner import extract
from atlassian_posture.transform import build
from atlassian_posture.warehouse import Warehouse
from atlassian_simulator.core import Simulator
from click.testing import CliRunner


@pytest.fixture(scope="module")
def sim():
    return Simulator.generate("tiny", seed=7, orgs=1)


def _run(sim, warehouse, pipelines, **config) -> None:
    with sim.serve() as base:
        orgs, credentials = sim.connector_config(base, **config.pop("options", {}))
        for key in orgs:
            if config.get("no_sites"):
                orgs[key]["sites"], credentials[key]["sites"] = {}, {}
        extract(orgs, credentials, warehouse, pipelines_dir=pipelines)
    build(warehouse)


def _status(con) -> dict[str, tuple[str, str]]:
    return {c: (s, r) for c, s, r in con.execute("select check_id, status, reason from marts.check_status").fetchall()}


def test_a_data_center_only_tenant_builds_every_mart_under_its_instance_identity(tmp_path, sim):
    warehouse = tmp_path / "dc.duckdb"
    _run(sim, warehouse, tmp_path / "p", no_sites=True, options={"admin": False})
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (org_id, source), = con.execute("select org_id, org_id_source from intermediate.int_orgs").fetchall()
        status = _status(con)
        findings = con.execute("select count(*), count(org_id) from marts.posture_findings").fetchone()
    assert org_id.startswith("dc:") and source == "dc_url"
    assert findings[0] == findings[1] > 0
    assert status["POSTURE-039"][0] == "evaluated"            # the DC version check has its instances
    assert status["POSTURE-017"][0] == "evaluated"            # Jira permissions are read on DC too
    assert status["POSTURE-001"] == ("not_evaluable",
                                     "not read with this configuration: needs an organization API key (admin_api_key)")
    assert status["IDENT-003"][0] == "not_evaluable"


def test_an_org_key_added_later_keeps_history_and_a_renamed_field_is_not_evaluable(tmp_path, sim):
    warehouse, pipelines = tmp_path / "w.duckdb", tmp_path / "p"
    _run(sim, warehouse, pipelines, options={"admin": False, "data_center": False})
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (first_id, first_clock), = con.execute("select org_id, as_of from intermediate.int_orgs").fetchall()
        before = dict(((c, k), f) for c, k, f in con.execute(
            "select check_id, resource_key, first_seen_at from marts.posture_findings where status = 'fail'").fetchall())
        status = _status(con)
        fired = con.execute("select count(*) from marts.identity_signals where signal_id = 'IDENT-003'").fetchone()[0]
        unique_039 = con.execute("select count(*) from intermediate.int_check_results "
                                 "where check_id = 'POSTURE-039'").fetchone()[0]
    assert first_id.startswith("cloud:")
    assert before, "the tiny organization fails some posture check on its sites"
    # without an org key the org-only checks fire for nobody; without DC, the DC check is one row
    assert status["IDENT-003"][0] == "not_evaluable" and fired == 0
    assert status["POSTURE-039"][0] == "not_evaluable" and unique_039 == 1

    sim.advance(1)
    _run(sim, warehouse, pipelines, options={"data_center": False})
    with duckdb.connect(str(warehouse), read_only=True) as con:
        orgs = con.execute("select org_id, org_id_source, as_of from intermediate.int_orgs").fetchall()
        after = dict(((c, k), f) for c, k, f in con.execute(
            "select check_id, resource_key, first_seen_at from marts.posture_findings where status = 'fail'").fetchall())
        days = con.execute("select count(*) from marts.posture_score_daily").fetchone()[0]
        audit_orgs = {o for (o,) in con.execute("select distinct org_id from marts.audit_events").fetchall()}
        status = _status(con)
    assert len(orgs) == 1 and orgs[0][0] == sim.orgs[0].org_id and orgs[0][1] == "admin_api"
    kept = set(before) & set(after)
    assert kept and all(after[k] == first_clock for k in kept), "history did not follow the tenant"
    assert days == 2 and audit_orgs == {sim.orgs[0].org_id}  # events read before the key follow the tenant
    assert status["IDENT-003"][0] in ("evaluated", "manual")

    # drift: Atlassian renames mfaEnabled; IDENT-003 must not pass silently
    with duckdb.connect(str(warehouse)) as con:
        con.execute('alter table raw.org_users rename column mfa_enabled to mfa_enrolled')
    build(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        status = _status(con)
        fired = con.execute("select count(*) from marts.identity_signals where signal_id = 'IDENT-003'").fetchone()[0]
    assert status["IDENT-003"][0] == "not_evaluable" and "mfa_enabled" in status["IDENT-003"][1]
    assert status["POSTURE-003"][0] == "not_evaluable" and fired == 0
    assert any("IDENT-003" in line and "mfa_enabled" in line for line in drift_lines(warehouse))
    # doctor says it too, from the last run's published copy
    Warehouse(warehouse).publish()
    with sim.serve() as base:
        config = tmp_path / "tenant.toml"
        config.write_text(sim.secrets_toml(base))
        said = CliRunner().invoke(main, ["doctor", "--config-file", str(config), "--warehouse", str(warehouse)])
    drift = said.output[said.output.index("last run"):]
    assert "IDENT-003" in drift and "mfa_enabled" in drift, said.output
