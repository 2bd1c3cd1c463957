"""Audit logs of Jira Cloud and of Data Center (Atlassian Audit, shared by Jira and Confluence DC).

Both load incrementally through `incremental.py`: each run asks for `from = newest loaded
record - AUDIT_OVERLAP_HOURS` (late events land inside that window) and `to = the server's now`
(`serverTime`/`Date` of a cheap call; pinned, so paging is stable while the log grows), skips
the records already loaded inside the window (their ids are kept in dlt resource state, pruned
by age), and merges on (`_tenant`, `id`). An unchanged log therefore loads zero rows, and a
re-read after a failed run cannot duplicate.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import dlt

from atlassian_posture.connector.helpers import Connections, Coverage, Scope
from atlassian_posture.connector.http import AtlassianClient, RequestStats
from atlassian_posture.connector.incremental import (
    DC_CLOCK_PATH,
    from_ms,
    incremental_audit,
    iso_z,
    jira_time,
    parse_time,
    server_now,
    tenant_state,
    to_ms,
)
from atlassian_posture.connector.paging import AuditOffset, DcAudit, paginate
from atlassian_posture.connector.resources.jira_common import jira_tenants, row
from atlassian_posture.connector.settings import AUDIT_INITIAL_DAYS, PAGE

DC_AUDIT_PATH = "/rest/auditing/1.0/events"


def read_audit(client: AtlassianClient, scope: Scope, stats: RequestStats, clock_path: str, path: str, paginator,
               time_form, time_field: str) -> Iterator[list[dict]]:
    """One tenant's audit log through `incremental.incremental_audit`, its window pinned to the server's clock."""
    now = server_now(client, client.get_once(clock_path, stats=stats))  # also the server-info resource's

    def pages(start_ms: int, end_ms: int):
        params = {"from": time_form(from_ms(start_ms)), "to": time_form(from_ms(end_ms))}
        return paginate(client, path, paginator, params=params, stats=stats)

    yield from incremental_audit(
        tenant_state(scope), pages, now_ms=to_ms(now), initial_ms=to_ms(now - timedelta(days=AUDIT_INITIAL_DAYS)),
        time_ms=lambda r: to_ms(parse_time(r[time_field])), record_id=lambda r: r["id"],
        stamp=lambda r, _: row(scope, r), stats=stats)


def build(connections: Connections, coverage: Coverage) -> list:
    @dlt.resource(name="jira_audit_records", write_disposition="merge", primary_key=("_tenant", "id"))
    def audit_records():
        """One row per Jira Cloud audit record (auditing/record): `id`, `created`, `summary`, `category`,
        `objectItem`, `authorAccountId`, `remoteAddress`, `changedValues` and `associatedItems` (nested).
        Incremental (see the module docstring). Key: (`_tenant`, `id`). Needs Administer Jira; 403 on Free."""
        for tenant in jira_tenants(connections, dc=False):
            with coverage.track("jira_audit_records", tenant.scope, snapshot=False) as stats:
                yield from read_audit(tenant.client, tenant.scope, stats, f"{tenant.api}/serverInfo",
                                      f"{tenant.api}/auditing/record", AuditOffset(PAGE["jira_audit"]), jira_time,
                                      "created")

    return [audit_records, build_dc_audit_resource(connections, coverage, "jira")]


def build_dc_audit_resource(connections: Connections, coverage: Coverage, product: str):
    """The Atlassian Audit resource of Jira or Confluence Data Center, writing `dc_audit_events`.

    Both products serve the same API and entity shape, so both resources come from here and
    their rows have the same columns; each keeps its own state (resource `<product>_dc_audit_events`).
    """
    name = f"{product}_dc_audit_events"

    @dlt.resource(name=name, table_name="dc_audit_events", write_disposition="merge", primary_key=("_tenant", "id"))
    def dc_audit_events():
        """One row per Atlassian Audit event of a Data Center instance (/rest/auditing/1.0/events): `id`,
        `timestamp`, `author`, `type` (category, action, area, level), `affectedObjects`, `changedValues`,
        `source`, `method`. Incremental like the Jira Cloud log. Key: (`_tenant`, `id`)."""
        for _org, _instance, client, scope in connections.dc_scopes(product):
            with coverage.track(name, scope, snapshot=False) as stats:
                yield from read_audit(client, scope, stats, DC_CLOCK_PATH[product], DC_AUDIT_PATH,
                                      DcAudit(PAGE["dc_audit"]), iso_z, "timestamp")

    return dc_audit_events
