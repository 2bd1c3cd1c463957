"""The topology matrix: `atlassian-posture run`, end to end through the CLI, against ONE simulator
holding one tiny organization per topology (pipelines/atlassian_simulator/topology.py), so one
extraction and one dbt build cover them all. For every organization, every check's status and
failing resources must equal the oracle's (truth.py), which says `not_evaluable` wherever the
topology's credentials cannot reach a check's inputs.

The marts key an organization by the id the product resolves (the Admin API's org id, or a derived
id when there is no org key), so the oracle's organizations are matched to the marts' by the
configuration key (`org_key`), and the oracle's `org:<id>` resource keys are rewritten to it.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from atlassian_simulator.core import Simulator
from atlassian_simulator.truth import manifest

from tests.transform.compare import compare, observable_truth

# One organization each; profiles alternate exposed / hardened (look-alike negatives)
MATRIX = [
    "full",  # org key + Cloud site + Jira DC + Confluence DC (what the other transform tests run)
    "cloud",  # org key + Cloud site, no Data Center
    "cloud+noguard",  # ... without Atlassian Guard
    "cloud+free+noguard",  # Free plan: no product audit log, no anonymous access, no public links
    "cloud+standard",  # Standard plan: no IP allowlists or data residency
    "site-only",  # a site URL, e-mail and classic API token, no org key
    "scoped-only",  # a scoped API token through the api.atlassian.com gateway, no org key
    "org-only",  # the org API key alone
    "jira-only",  # org key + a Jira-only site
    "confluence-only",  # org key + a Confluence-only site
    "split-products",  # org key + a Jira-only site and a Confluence-only site in one organization
    "dc-only",  # Jira DC + Confluence DC, personal access tokens, no Cloud
    "dc-jira",  # Jira DC alone
    "dc-confluence",  # Confluence DC alone
]
MARTS = sorted(p.stem for p in (Path(__file__).parents[2] / "dbt_project" / "models" / "marts").glob("*.sql"))

# Every topology matches the oracle (the identity branch: derived org ids, int_check_input_gaps, one
# row per check resource); a topology that stops matching fails here, it is not marked expected to fail.


@dataclass
class Matrix:
    sim: Simulator
    warehouse: Path
    exit_code: int
    output: str
    truth: dict  # observable truth, per org (oracle org ids)

    def mart_org_ids(self) -> dict[str, str]:
        """org_key -> the org id the marts use."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            rows = con.execute("select distinct org_key, org_id from marts.check_status").fetchall()
        return dict(rows)

    def oracle(self, topology: str) -> dict:
        org = self.sim.orgs[MATRIX.index(topology)]
        return next(o for o in self.truth["orgs"] if o["org_id"] == org.org_id)

    def org_truth(self, topology: str) -> tuple[dict, str | None]:
        """The oracle's manifest of the org with this topology, re-keyed to the marts' org id."""
        org = self.sim.orgs[MATRIX.index(topology)]
        entry = self.oracle(topology)
        mart_id = self.mart_org_ids().get(org.config["tenant_key"])
        if mart_id is None:
            return entry, None
        old, new = f"org:{org.org_id}", f"org:{mart_id}"
        checks = {cid: {**c, "fails": sorted(new if k == old else k for k in c["fails"])}
                  for cid, c in entry["checks"].items()}
        return {**entry, "org_id": mart_id, "checks": checks}, mart_id


@pytest.fixture(scope="module")
def matrix(module_tmp) -> Matrix:
    sim = Simulator.generate("tiny", seed=7, topologies=MATRIX)
    config = module_tmp / "tenants.toml"
    warehouse = module_tmp / "warehouse.duckdb"
    with sim.serve() as base:
        config.write_text(sim.secrets_toml(base, attestation_dir=module_tmp / "attestation"))
        done = subprocess.run(
            [sys.executable, "-m", "atlassian_posture", "run", "--config-file", str(config),
             "--warehouse", str(warehouse)],
            cwd=module_tmp, capture_output=True, text=True, timeout=1200)
    return Matrix(sim, warehouse, done.returncode, done.stdout + done.stderr,
                  observable_truth(manifest(sim), sim))


def test_run_exits_0_and_builds_every_mart(matrix):
    assert matrix.exit_code == 0, matrix.output[-4000:]
    with duckdb.connect(str(matrix.warehouse), read_only=True) as con:
        built = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    assert set(MARTS) <= built


@pytest.mark.parametrize("topology", MATRIX)
def test_every_check_matches_the_oracle(matrix, topology):
    truth, mart_id = matrix.org_truth(topology)
    assert mart_id is not None, f"{topology}: the organization is absent from marts.check_status"
    problems = compare(matrix.warehouse, {"orgs": [truth]}, source="marts")
    assert problems == [], f"{topology}:\n" + "\n".join(problems)


def test_the_matrix_is_not_vacuous(matrix):
    """Each topology keeps checks the oracle can judge, and the oracle gates the rest."""
    for topology in MATRIX:
        truth = matrix.oracle(topology)
        statuses = {c["status"] for c in truth["checks"].values()}
        assert "evaluated" in statuses, topology
        if topology != "full":
            assert "not_evaluable" in statuses, topology
