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

# What fails today, and why. Each topology's own cause was found with the dbt tests left out and, for the
# tenants without an org key, the org id pinned in the configuration (so its rows survive); the shared cause
# fails the whole run. The product's check models (dbt_project/models/intermediate/*/int_results__*.sql with
# macros/check_input_gaps.sql) only say not_evaluable when a coverage row says "not collected"; a product,
# Data Center or audit log that is not configured at all has no coverage row, so its checks pass on no evidence.
SHARED = ("the run exits 5: dbt tests fail on the null org_id of tenants without an org key (site-only, "
          "scoped-only, dc-*) and on POSTURE-039 emitted twice (the empty pass row of int_results__jira and of "
          "int_results__confluence) for tenants without Data Center, so the marts of every tenant are skipped")
NO_DC = "POSTURE-029/030/038/039 and PLUGIN-016 pass with no Data Center instance read (oracle: not_evaluable)"
NO_ORG_KEY = ("int_accounts takes accounts seen only through the products as 'unmanaged', so IDENT-022 and "
              "POSTURE-037 fire on every directly granted account (oracle: not_evaluable, claim status is org data)")
DC_ONLY = ("Cloud-only checks pass or stay manual without a Cloud organization: POSTURE-007/012/013 manual, "
           "POSTURE-028/035/037, IDENT-017/022/023 and the Marketplace signals PLUGIN-007..010/014/019 evaluated")
XFAIL: dict[str, str] = {
    "full": SHARED + "; alone, this topology matches the oracle",
    "cloud": f"{SHARED}; {NO_DC}",
    "cloud+noguard": f"{SHARED}; {NO_DC}",
    "cloud+free+noguard": f"{SHARED}; {NO_DC}; IDENT-017 evaluated with neither the org audit log (no Guard) "
                          "nor a Jira audit log (Free: 403)",
    "cloud+standard": f"{SHARED}; {NO_DC}",
    "site-only": f"{SHARED}; {NO_ORG_KEY}; {NO_DC}",
    "scoped-only": f"{SHARED}; {NO_ORG_KEY}; {NO_DC}",
    "org-only": f"{SHARED}; all 61 Jira, Confluence, Data Center, product-audit and plugin checks pass with no "
                "site or instance read",
    "jira-only": f"{SHARED}; Confluence checks (POSTURE-031..038, AUDIT-C01..C06) pass with no Confluence read; "
                 f"{NO_DC}",
    "confluence-only": f"{SHARED}; Jira checks (POSTURE-016..028, IDENT-021, AUDIT-J01..J09) pass with no Jira "
                       f"read; {NO_DC}",
    "split-products": f"{SHARED}; {NO_DC}",
    "dc-only": f"{SHARED}; {DC_ONLY}",
    "dc-jira": f"{SHARED}; {DC_ONLY}; Confluence checks (POSTURE-031..038, AUDIT-C01..C06, AUDIT-016) pass "
               "with no Confluence read",
    "dc-confluence": f"{SHARED}; {DC_ONLY}; Jira checks (POSTURE-016..030, IDENT-021, AUDIT-J01..J09) pass "
                     "with no Jira read",
}


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


@pytest.mark.xfail(strict=False, reason=SHARED)
def test_run_exits_0_and_builds_every_mart(matrix):
    assert matrix.exit_code == 0, matrix.output[-4000:]
    with duckdb.connect(str(matrix.warehouse), read_only=True) as con:
        built = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    assert set(MARTS) <= built


@pytest.mark.parametrize("topology", [
    pytest.param(t, marks=pytest.mark.xfail(strict=False, reason=XFAIL[t])) if t in XFAIL else t for t in MATRIX])
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
