"""`pipeline.run(atlassian())`, the plain dlt way, gives a warehouse on which `dbt build` produces the same
marts as `atlassian-posture run`: the run facts (coverage, runs, posture settings) are tables of the source."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dlt
import duckdb
import pytest
from atlassian_posture.connector import atlassian
from atlassian_posture.connector.config import read_settings
from atlassian_posture.transform import build
from atlassian_simulator.core import Simulator

ROOT = Path(__file__).resolve().parents[2]
MARTS = {
    "posture_findings": "org_key, check_id, resource_key, status",
    "check_status": "org_key, check_id, status, failing_count",
    "identity_risks": "org_key, account_id, risk_score, risk_level",
    "plugin_risks": "org_key, app_key, site_ref, product, risk_score",
}


def _marts(warehouse: Path) -> dict[str, set]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {name: set(con.execute(f"select {cols} from marts.{name}").fetchall()) for name, cols in MARTS.items()}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    sim = Simulator.generate("tiny", seed=7)
    with sim.serve() as base:
        config = tmp_path_factory.mktemp("config") / "tenant.toml"
        config.write_text(sim.secrets_toml(base))
        yield config


def test_the_plain_source_carries_the_run_facts_and_a_subset_does_not_wait(served, tmp_path):
    orgs, credentials = read_settings(str(served))
    pipeline = dlt.pipeline("plain", destination=dlt.destinations.duckdb(str(tmp_path / "p.duckdb")),
                            dataset_name="raw", pipelines_dir=str(tmp_path / "state"))
    pipeline.run(atlassian(orgs, credentials).with_resources("org_domains", "coverage", "runs"))
    with duckdb.connect(str(tmp_path / "p.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.org_domains").fetchone()[0] > 0
        coverage = con.execute("select distinct resource from raw.coverage").fetchall()
        runs = con.execute("select org_key, org_id, server_time from raw.runs").fetchall()
    assert coverage == [("org_domains",)]  # what ran, and nothing that did not
    assert len(runs) == 1 and runs[0][1] and runs[0][2]


def test_plain_dlt_then_dbt_build_gives_the_marts_of_atlassian_posture_run(served, tmp_path):
    plain, cli = tmp_path / "plain", tmp_path / "cli"
    (plain / ".dlt").mkdir(parents=True)
    (plain / ".dlt" / "secrets.toml").write_text(served.read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DLT_"))}
    script = subprocess.run([sys.executable, str(ROOT / "pipelines" / "atlassian_pipeline.py")], cwd=plain,
                            env=env, capture_output=True, text=True, timeout=600)
    assert script.returncode == 0, script.stderr[-2000:]
    build(plain / "warehouse" / "atlassian_posture.duckdb")
    done = subprocess.run([sys.executable, "-m", "atlassian_posture", "run", "--config-file", str(served),
                           "--warehouse", str(cli / "w.duckdb")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "this run judged" in done.stdout  # the end of a run says what it could judge
    from_plain, from_cli = _marts(plain / "warehouse" / "atlassian_posture.duckdb"), _marts(cli / "w.duckdb")
    for name in MARTS:
        assert from_plain[name] and from_plain[name] == from_cli[name], name
