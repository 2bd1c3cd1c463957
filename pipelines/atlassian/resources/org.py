"""Resources of the Atlassian Administration (organization) API."""

from __future__ import annotations

import dlt

from pipelines.atlassian.helpers import Connections, Coverage
from pipelines.atlassian.paging import AdminV1, paginate

SCD2 = {"disposition": "merge", "strategy": "scd2"}


def build(connections: Connections, coverage: Coverage) -> list:
    def resolve_org_id(org, client, stats) -> str | None:
        """The configured org id, or the single org the key sees (DIGEST §1: no cloudId -> orgId API)."""
        if connections.org_ids.get(org.key):
            return connections.org_ids[org.key]
        orgs = [o for page in paginate(client, "/admin/v1/orgs", AdminV1(), stats=stats) for o in page]
        if len(orgs) != 1:
            raise ValueError(f"the Admin API key of {org.key} sees {len(orgs)} organizations: set "
                             f"sources.atlassian.orgs.{org.key}.org_id")
        connections.org_ids[org.key] = orgs[0]["id"]
        return orgs[0]["id"]

    @dlt.resource(name="org_organizations", write_disposition=SCD2, merge_key="_tenant")
    def organizations():
        """The organization each Admin API key reads (id, name)."""
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_organizations", scope) as stats:
                org_id = resolve_org_id(org, client, stats)
                body = client.json(client.get(f"/admin/v1/orgs/{org_id}", stats=stats))
                stats.add(rows=1)
                yield scope_with(scope, org_id).stamp(body["data"])

    @dlt.resource(name="org_domains", write_disposition=SCD2, merge_key="_tenant")
    def domains():
        """Claimed domains and their verification status."""
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_domains", scope) as stats:
                org_id = resolve_org_id(org, client, stats)
                s = scope_with(scope, org_id)
                for page in paginate(client, f"/admin/v1/orgs/{org_id}/domains", AdminV1(), stats=stats):
                    yield [s.stamp(row) for row in page]

    return [organizations, domains]


def scope_with(scope, org_id):
    from dataclasses import replace

    return replace(scope, org_id=org_id)
