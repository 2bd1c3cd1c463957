"""The Atlassian source: every security-relevant resource of Atlassian Cloud and Data Center.

The resources live in `resources/` by family (organization, Jira, Confluence, apps); each
module's `build(connections, coverage)` returns its dlt resources, and `pipelines/atlassian_posture/connector/README.md`
tables them (table, endpoint, write disposition, permission needed).
"""

from __future__ import annotations

import dlt
from dlt.extract.resource import DltResource

from atlassian_posture.connector.config import load_tenants
from atlassian_posture.connector.helpers import Connections, Coverage
from atlassian_posture.connector.resources import apps, confluence, jira, org


def all_resources(connections: Connections, coverage: Coverage) -> list[DltResource]:
    """Every resource, bound to these tenants' clients and this run's coverage."""
    return [
        *org.build(connections, coverage),
        *jira.build(connections, coverage),
        *confluence.build(connections, coverage),
        *apps.build(connections, coverage),
    ]


@dlt.source(name="atlassian")
def atlassian(orgs: dict = dlt.config.value, credentials: dict = dlt.secrets.value):
    """All resources for the tenants configured under `sources.atlassian` (see config.py)."""
    return all_resources(Connections(load_tenants(orgs, credentials)), Coverage())
