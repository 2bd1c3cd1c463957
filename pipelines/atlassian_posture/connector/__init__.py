"""The Atlassian source: every security-relevant resource of Atlassian Cloud and Data Center.

The resources live in `resources/` by family (organization, Jira, Confluence, apps); each
module's `build(connections, coverage)` returns its dlt resources, and `pipelines/atlassian_posture/connector/README.md`
tables them (table, endpoint, write disposition, permission needed).
"""

from __future__ import annotations

import os
from collections.abc import Collection

import dlt
from dlt.common.typing import TSecretValue
from dlt.extract.resource import DltResource

from atlassian_posture.connector.config import load_tenants, with_env
from atlassian_posture.connector.handover import Handover
from atlassian_posture.connector.helpers import Connections, Coverage
from atlassian_posture.connector.resources import apps, confluence, jira, org
from atlassian_posture.connector.run_facts import RUN_FACT_TABLES, RunFacts
from atlassian_posture.connector.settings import EXTRACT_WORKERS
from atlassian_posture.connector.validation import guarded

__all__ = ["OPT_IN", "RUN_FACT_TABLES", "RunFacts", "all_resources", "atlassian"]

# dlt's extract thread pool: one thread per resource in flight (they wait on the network, not the CPU;
# requests stay capped per host by http.HostLimiter). Set in the environment, dlt's own configuration
# (EXTRACT__WORKERS, EXTRACT__MAX_PARALLEL_ITEMS), unless the user set them.
os.environ.setdefault("EXTRACT__WORKERS", str(EXTRACT_WORKERS))
os.environ.setdefault("EXTRACT__MAX_PARALLEL_ITEMS", str(EXTRACT_WORKERS))


# Resources read only when asked for by name (`--resource`, `include`): what they give, another listing
# the run reads anyway already carries, at a cost that dominates a big organization's run.
OPT_IN = {
    "org_last_active": "not read by default: the users listing (org_users.productAccess[].lastActiveTimestamp) "
                       "carries the same dates; --resource org_last_active reads them per account",
}


def all_resources(connections: Connections, coverage: Coverage, facts: RunFacts | None = None,
                  include: Collection[str] = ()) -> list[DltResource]:
    """Every data resource, bound to these tenants' clients and this run's coverage; with `facts`, each
    watched by the run, followed by the run-fact resources (coverage, runs, posture_settings). The
    `OPT_IN` resources only when `include` names them."""
    handover = Handover(facts.selected if facts else ())  # listings one resource reads for another (handover.py)
    built = [*org.build(connections, coverage, handover), *jira.build(connections, coverage, handover),
             *confluence.build(connections, coverage, handover), *apps.build(connections, coverage)]
    # parallelized: each resource's generator runs in dlt's extract worker threads, so one waiting on a
    # slow endpoint (the org audit at 10 requests a minute) never stalls the others
    data = [guarded(resource, coverage, facts.run_id if facts else None).parallelize() for resource in built
            if resource.name not in OPT_IN or resource.name in include]
    if facts is None:
        return data
    return [*(facts.watch(resource) for resource in data), *facts.resources()]


@dlt.source(name="atlassian")
def atlassian(orgs: dict | None = None, credentials: TSecretValue | None = None, run_id: str | None = None,
              include: list[str] | None = None):
    """Everything the marts need for the tenants configured under `sources.atlassian` (see config.py):
    every data resource (the `OPT_IN` ones only if `include` names them), then the run facts. Building
    the source makes no request.

    dlt fills `orgs` and `credentials` from `.dlt/config.toml` and `.dlt/secrets.toml`; the
    `SOURCES__ATLASSIAN__...` environment variables are laid over them key by key (`config.with_env`):
    dlt's environment provider cannot list a section, so it would never find them."""
    orgs, credentials = with_env(orgs, credentials, os.environ)
    connections, coverage = Connections(load_tenants(orgs, credentials)), Coverage()
    return all_resources(connections, coverage, RunFacts(connections, coverage, run_id), include or ())
