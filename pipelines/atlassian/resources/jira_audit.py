"""Audit logs of Jira Cloud and of Data Center (Atlassian Audit, shared by Jira and Confluence DC).

Both load incrementally: each run asks for `from = newest loaded record - AUDIT_OVERLAP_HOURS`
(late events land inside that window) and `to = the server's now` (pinned, so paging is
stable while the log grows), skips the records already loaded inside the window (their ids
are kept in dlt resource state, pruned by age), and merges on (`_tenant`, `id`). An
unchanged log therefore loads zero rows, and a re-read after a failed run cannot duplicate.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import dlt

from pipelines.atlassian.helpers import Connections, Coverage, Scope
from pipelines.atlassian.http import AtlassianClient, RequestStats
from pipelines.atlassian.paging import AuditOffset, DcAudit, paginate
from pipelines.atlassian.resources.jira_common import jira_tenants, row
from pipelines.atlassian.settings import AUDIT_INITIAL_DAYS, AUDIT_OVERLAP_HOURS, PAGE

DC_AUDIT_PATH = "/rest/auditing/1.0/events"
# A cheap call per product whose response carries the server's clock (Date header; Jira also serverTime)
DC_CLOCK_PATH = {"jira": "/rest/api/2/serverInfo", "confluence": "/rest/api/server-information"}


def parse_time(value: str) -> datetime:
    """Jira's `2026-10-30T09:00:00.000+0000`, or ISO 8601 with `Z`, as an aware UTC datetime."""
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def jira_time(moment: datetime) -> str:
    """Jira's own date-time form, accepted by auditing/record's `from`/`to`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def iso_z(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def server_now(client: AtlassianClient, path: str, stats: RequestStats) -> datetime:
    """The server's clock: `serverTime` when the body has one, else the Date header, else ours."""
    response = client.get(path, stats=stats)
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("serverTime"):
        return parse_time(body["serverTime"])
    header = response.headers.get("date")
    if header:
        try:
            return email.utils.parsedate_to_datetime(header).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    return datetime.now(UTC)


class AuditCursor:
    """One tenant's position in one audit log, kept in the resource's dlt state.

    State per tenant: `last` (the newest record time loaded) and `seen` (id -> time of every
    record loaded within AUDIT_OVERLAP_HOURS of `last`). Committed only after the whole
    window was read, so a run that fails half-way re-reads the window next time.
    """

    def __init__(self, state: dict, tenant: str, now: datetime):
        self._tenants = state.setdefault("tenants", {})
        self._tenant = tenant
        entry = self._tenants.get(tenant) or {}
        self.overlap = timedelta(hours=AUDIT_OVERLAP_HOURS)
        self.last = parse_time(entry["last"]) if entry.get("last") else None
        self.seen: dict[str, str] = dict(entry.get("seen") or {})
        self.since = self.last - self.overlap if self.last else now - timedelta(days=AUDIT_INITIAL_DAYS)
        self.until = now
        self.skipped = 0

    def fresh(self, record_id, created: str) -> bool:
        """True for a record not loaded before; remembers it."""
        key = str(record_id)
        if key in self.seen:
            self.skipped += 1
            return False
        moment = parse_time(created)
        self.seen[key] = moment.isoformat()
        if self.last is None or moment > self.last:
            self.last = moment
        return True

    def commit(self) -> None:
        if self.last is None:
            return
        keep_from = self.last - self.overlap
        self._tenants[self._tenant] = {
            "last": self.last.isoformat(),
            "seen": {k: v for k, v in self.seen.items() if parse_time(v) >= keep_from},
        }


def build(connections: Connections, coverage: Coverage) -> list:
    @dlt.resource(name="jira_audit_records", write_disposition="merge", primary_key=("_tenant", "id"))
    def audit_records():
        """One row per Jira Cloud audit record (auditing/record): `id`, `created`, `summary`, `category`,
        `objectItem`, `authorAccountId`, `remoteAddress`, `changedValues` and `associatedItems` (nested).
        Incremental (see the module docstring). Key: (`_tenant`, `id`). Needs Administer Jira; 403 on Free."""
        state = dlt.current.resource_state()
        for tenant in jira_tenants(connections, dc=False):
            with coverage.track("jira_audit_records", tenant.scope, snapshot=False) as stats:
                now = server_now(tenant.client, f"{tenant.api}/serverInfo", stats)
                cursor = AuditCursor(state, tenant.scope.label, now)
                params = {"from": jira_time(cursor.since), "to": jira_time(cursor.until)}
                for page in paginate(tenant.client, f"{tenant.api}/auditing/record", AuditOffset(PAGE["jira_audit"]),
                                     params=params, stats=stats):
                    fresh = [row(tenant.scope, r) for r in page if cursor.fresh(r["id"], r["created"])]
                    if fresh:
                        yield fresh
                stats.add(rows=-cursor.skipped)  # coverage counts the rows loaded, not the overlap re-read
                cursor.commit()

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
        state = dlt.current.resource_state()
        for _org, _instance, client, scope in connections.dc_scopes(product):
            yield from _dc_audit_tenant(coverage, name, state, client, scope, product)

    return dc_audit_events


def _dc_audit_tenant(coverage: Coverage, name: str, state: dict, client: AtlassianClient, scope: Scope, product: str):
    with coverage.track(name, scope, snapshot=False) as stats:
        now = server_now(client, DC_CLOCK_PATH[product], stats)
        cursor = AuditCursor(state, scope.label, now)
        params = {"from": iso_z(cursor.since), "to": iso_z(cursor.until)}
        for page in paginate(client, DC_AUDIT_PATH, DcAudit(PAGE["dc_audit"]), params=params, stats=stats):
            fresh = [row(scope, e) for e in page if cursor.fresh(e["id"], e["timestamp"])]
            if fresh:
                yield fresh
        stats.add(rows=-cursor.skipped)
        cursor.commit()
