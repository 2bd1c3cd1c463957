"""Jira filters and dashboards with their share permissions (Cloud and Data Center)."""

from __future__ import annotations

from atlassian_posture.connector import changes
from atlassian_posture.connector.helpers import Connections, Coverage, fan_out, snapshot, unless_missing
from atlassian_posture.connector.http import AtlassianError, Forbidden, NotAvailable
from atlassian_posture.connector.paging import PageBean, paginate
from atlassian_posture.connector.resources.jira_common import JiraTenant, is_missing, jira_tenants, row
from atlassian_posture.connector.settings import (
    JIRA_DC_FILTER_ID_START,
    JIRA_DC_FILTER_NEW_MISSES,
    JIRA_DC_FILTER_SCAN_BATCH,
    JIRA_DC_FILTER_SCAN_MISSES,
    PAGE,
)

FILTER_EXPAND = "description,owner,jql,sharePermissions,editPermissions"
DASHBOARD_EXPAND = "description,owner,sharePermissions,editPermissions"


class DcDashboardPages(PageBean):
    """Jira DC `/dashboard`: `{startAt, maxResults, total, prev, next, dashboards}`; the last page has no `next`."""

    list_key = "dashboards"

    def next(self, request, body, response, rows):
        if not body.get("next"):
            return None
        return super().next(request, body, response, rows)


def dc_filter(tenant: JiraTenant, stats, filter_id) -> dict | None:
    """filter/{id}, or None when there is no such filter or the credential may not see it (Jira answers 400)."""
    try:
        response = tenant.client.get(f"{tenant.api}/filter/{filter_id}", stats=stats)
    except AtlassianError as exc:
        if is_missing(exc):
            return None
        raise
    stats.add(pages=1, rows=1)
    return tenant.client.json(response)


def dc_filters(tenant: JiraTenant, stats, known: set[str] | None = None):
    """Jira DC cannot list filters: the caller's favourites, then ids probed upwards from the first filter id
    until JIRA_DC_FILTER_SCAN_MISSES ids in a row are missing or hidden. A change-driven run (`known`: the ids
    the last run loaded) probes only past the highest of them, until JIRA_DC_FILTER_NEW_MISSES misses in a row:
    new filters (Jira numbers them upwards)."""
    seen: set[str] = set()
    favourites = tenant.client.json(tenant.client.get(f"{tenant.api}/filter/favourite", stats=stats))
    stats.add(pages=1, rows=len(favourites))
    for item in favourites:
        seen.add(str(item["id"]))
        yield item
    numeric = [int(k) for k in known or () if k.isdigit()]
    start, misses = max(numeric) + 1 if numeric else JIRA_DC_FILTER_ID_START, 0
    most = JIRA_DC_FILTER_NEW_MISSES if numeric else JIRA_DC_FILTER_SCAN_MISSES
    while misses < most:
        batch = range(start, start + min(JIRA_DC_FILTER_SCAN_BATCH, most))
        for found in fan_out(batch, lambda filter_id: dc_filter(tenant, stats, filter_id)):
            if found is None:
                misses += 1
                continue
            misses = 0
            if str(found["id"]) not in seen:
                seen.add(str(found["id"]))
                yield found
        start += len(batch)


def classic_dashboards(tenant: JiraTenant, stats, seen: set[str]):
    """Cloud's classic `GET /dashboard` (owned by or shared with the caller, with `sharePermissions`): the
    dashboards the search left out. Optional evidence: a site that does not answer it (404/403) keeps
    what the search found."""
    try:
        for page in paginate(tenant.client, f"{tenant.api}/dashboard", DcDashboardPages(PAGE["jira_dashboards"]),
                             stats=stats):
            extra = [d for d in page if str(d["id"]) not in seen]
            seen.update(str(d["id"]) for d in extra)
            if extra:
                yield [row(tenant.scope, d) for d in extra]
    except (NotAvailable, Forbidden):
        return


def build(connections: Connections, coverage: Coverage) -> list:
    @snapshot("jira_filters")
    def filters():
        """One row per saved filter with owner, JQL, `sharePermissions` and `editPermissions` (nested tables;
        share `type` `global` = public, `loggedin`, `group`, `project`, `projectRole`, `user`). Cloud:
        filter/search with overrideSharePermissions (every filter, as a Jira admin). DC has no filter search:
        the credential's favourites plus filter ids probed from 10000, i.e. every filter the credential may
        see (public and shared ones included; other users' private filters are out of reach). Key: `id`."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_filters", tenant.scope) as stats:
                if tenant.cloud:
                    for page in paginate(tenant.client, f"{tenant.api}/filter/search", PageBean(PAGE["jira_filters"]),
                                         params={"expand": FILTER_EXPAND, "overrideSharePermissions": "true"},
                                         stats=stats):
                        yield [row(tenant.scope, f) for f in page]
                else:
                    known = changes.scan_from(tenant.scope, stats, "filters", "id")
                    for found in dc_filters(tenant, stats, known):
                        yield row(tenant.scope, found)

    @snapshot("jira_dashboards")
    def dashboards():
        """One row per dashboard the credential can see, with owner and `sharePermissions` (nested table).
        Cloud: dashboard/search, plus what the classic dashboard list adds (Jira has no admin override: other
        users' private dashboards are invisible).
        DC: the dashboard list, then dashboard/{id} for each one's share permissions. Key: `id`."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_dashboards", tenant.scope) as stats:
                if tenant.cloud:
                    seen: set[str] = set()
                    for page in paginate(tenant.client, f"{tenant.api}/dashboard/search",
                                         PageBean(PAGE["jira_dashboards"]), params={"expand": DASHBOARD_EXPAND},
                                         stats=stats):
                        seen.update(str(d["id"]) for d in page)
                        yield [row(tenant.scope, d) for d in page]
                    yield from classic_dashboards(tenant, stats, seen)
                    continue

                def detail(item, tenant=tenant, stats=stats):
                    return tenant.client.json(tenant.client.get(f"{tenant.api}/dashboard/{item['id']}", stats=stats))

                # a change-driven run reads the details of new dashboards only (no log records a share change)
                known = changes.scan_from(tenant.scope, stats, "dashboards", "id") or set()
                for page in paginate(tenant.client, f"{tenant.api}/dashboard",
                                     DcDashboardPages(PAGE["jira_dc_dashboards"]), stats=stats):
                    page = [d for d in page if str(d.get("id")).lower() not in known]
                    yield [row(tenant.scope, d) for d in fan_out(page, unless_missing(detail, None, is_missing))
                           if d is not None]

    return [filters, dashboards]
