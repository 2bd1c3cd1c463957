"""`doctor`: check each configured credential and each endpoint family before a run.

One cheap request per (tenant, resource family) tells what a run will and will not
collect, and why: a 401 (credential wrong or for another host), a 403 (a permission or a
plan feature missing), a 404 (not on this plan or version). Nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from atlassian_posture.connector.config import OrgConfig, load_tenants
from atlassian_posture.connector.helpers import Connections
from atlassian_posture.connector.http import (
    AtlassianClient,
    AtlassianError,
    AuthenticationFailed,
    Forbidden,
    NotAvailable,
)

# (what, path, needs): the path is read with limit 1 where the endpoint pages
ORG_PROBES = [
    ("organization", "/admin/v1/orgs", "an Admin API key"),
    ("domains", "/admin/v1/orgs/{org}/domains", "an Admin API key"),
    ("managed accounts", "/admin/v1/orgs/{org}/users", "an Admin API key"),
    ("directories and users", "/admin/v2/orgs/{org}/directories", "an Admin API key"),
    ("policies", "/admin/v1/orgs/{org}/policies", "Atlassian Guard"),
    ("org audit log", "/admin/v1/orgs/{org}/events-stream?limit=1", "Atlassian Guard"),
    ("API tokens", "/admin/api-access/v1/orgs/{org}/api-tokens", "an Admin API key with read:tokens:admin"),
    ("auth policies", "/admin/control/v1/orgs/{org}/auth-policies", "Atlassian Guard"),
]
JIRA_PROBES = [
    ("server info", "/rest/api/3/serverInfo", "nothing"),
    ("users", "/rest/api/3/users/search?maxResults=1", "Browse users and groups"),
    ("groups", "/rest/api/3/group/bulk?maxResults=1", "Browse users and groups"),
    ("projects", "/rest/api/3/project/search?maxResults=1", "Browse projects (Administer Jira to see all)"),
    ("permission schemes", "/rest/api/3/permissionscheme", "access to Jira"),
    ("application roles", "/rest/api/3/applicationrole", "Administer Jira"),
    ("audit log", "/rest/api/3/auditing/record?limit=1", "Administer Jira"),
    ("filters", "/rest/api/3/filter/search?maxResults=1&overrideSharePermissions=true", "Administer Jira"),
    ("installed apps", "/rest/plugins/1.0/", "site admin, classic token"),
]
CONFLUENCE_PROBES = [
    ("site info", "/wiki/rest/api/settings/systemInfo", "Can use Confluence"),
    ("groups", "/wiki/rest/api/group?limit=1", "Can use Confluence"),
    ("spaces", "/wiki/api/v2/spaces?limit=1", "Can use Confluence (only viewable spaces are listed)"),
    ("audit log", "/wiki/rest/api/audit?limit=1", "Confluence administrator, paid plan"),
    ("installed apps", "/wiki/rest/plugins/1.0/", "site admin, classic token"),
]
DC_PROBES = {
    "jira": [
        ("server info", "/rest/api/2/serverInfo", "nothing"),
        ("users", "/rest/api/2/user/list?maxResults=1", "Jira administrator"),
        ("projects", "/rest/api/2/project", "Browse projects"),
        ("application properties", "/rest/api/2/application-properties", "Jira administrator"),
        ("audit log", "/rest/auditing/1.0/events?limit=1", "Jira administrator (Jira 8.8+)"),
        ("installed apps", "/rest/plugins/1.0/", "Jira administrator"),
    ],
    "confluence": [
        ("server info", "/rest/api/server-information", "nothing"),
        ("users", "/rest/api/user/list?limit=1", "Confluence administrator"),
        ("spaces", "/rest/api/space?limit=1", "Can use Confluence"),
        ("global permissions", "/rest/api/permissions", "Confluence administrator"),
        ("audit log", "/rest/auditing/1.0/events?limit=1", "Confluence administrator (7.5+)"),
        ("installed apps", "/rest/plugins/1.0/", "Confluence administrator"),
    ],
}


@dataclass
class Finding:
    tenant: str
    target: str
    what: str
    status: str  # ok | forbidden | not_available | unauthorized | failed | skipped
    detail: str

    @property
    def collected(self) -> bool:
        return self.status == "ok"


def _probe(client: AtlassianClient, tenant: str, target: str, probes, org_id: str = "") -> list[Finding]:
    out = []
    for what, path, needs in probes:
        try:
            client.get(path.replace("{org}", org_id))
            out.append(Finding(tenant, target, what, "ok", ""))
        except AuthenticationFailed as exc:
            out.append(Finding(tenant, target, what, "unauthorized", str(exc)))
        except Forbidden:
            out.append(Finding(tenant, target, what, "forbidden", f"needs {needs}"))
        except NotAvailable:
            out.append(Finding(tenant, target, what, "not_available", f"not on this plan or version (needs {needs})"))
        except AtlassianError as exc:
            out.append(Finding(tenant, target, what, "failed", str(exc)))
    return out


def diagnose(orgs: dict, credentials: dict, transport: httpx.BaseTransport | None = None) -> list[Finding]:
    """Probe every configured credential; never raises for an HTTP outcome."""
    connections = Connections(load_tenants(orgs, credentials), transport=transport, sleep=lambda s: None)
    findings: list[Finding] = []
    try:
        for org in connections.tenants:
            findings += _org(connections, org)
            findings.append(_identity(connections, org))
            for site in org.sites:
                for product, probes in (("jira", JIRA_PROBES), ("confluence", CONFLUENCE_PROBES)):
                    if product not in site.products:
                        continue
                    target = f"{site.name} {product} ({site.auth} token)"
                    try:
                        client = connections.site(org, site, product)
                    except AtlassianError as exc:
                        findings.append(Finding(org.key, target, "site", "failed", str(exc)))
                        continue
                    if site.auth == "scoped":  # UPM is not served through the scoped-token gateway
                        probes = [p for p in probes if p[0] != "installed apps"]
                        findings.append(Finding(org.key, target, "installed apps", "skipped",
                                                "the plugin manager needs a classic token on the site URL"))
                    findings += _probe(client, org.key, target, probes)
            for dc in org.data_center:
                findings += _probe(connections.dc(org, dc), org.key, f"{dc.name} (Data Center {dc.product})",
                                   DC_PROBES[dc.product])
    finally:
        connections.close()
    return findings


def nothing_answered(findings: list[Finding]) -> tuple[int, str] | None:
    """(exit code, one line) when an organization's every probe failed (nothing a run could read), else None:
    all 404 is a wrong URL (exit 2); connection errors and 5xx are worth a retry (exit 1)."""
    by_org: dict[str, list[Finding]] = {}
    for f in findings:
        if f.status != "skipped" and f.what != "identity":  # the id can come from the configured URL alone
            by_org.setdefault(f.tenant, []).append(f)
    for org, probes in by_org.items():
        if probes and not any(f.status == "ok" for f in probes):
            if all(f.status == "not_available" for f in probes):
                return 2, (f"nothing answered for organization {org}: every endpoint is 404; check its site and "
                           f"Data Center URLs in the configuration")
            first = next((f for f in probes if f.status == "failed"), probes[0])
            return 1, (f"nothing answered for organization {org} ({len(probes)} probes; first {first.target} "
                       f"{first.what}: {first.status}, {first.detail}); a run would read nothing")
    return None


SOURCES = {"configured": "configured org_id", "admin_api": "the Admin API", "cloud_id": "the first site's cloudId",
           "site_url": "the first site's URL (tenant_info did not answer)", "dc_url": "the first Data Center URL"}


def _identity(connections: Connections, org: OrgConfig) -> Finding:
    """The id the tenant's rows will carry (helpers.py Connections.identity): never none."""
    try:
        org_id = connections.identity(org)
    except AtlassianError as exc:
        status = "unauthorized" if isinstance(exc, AuthenticationFailed) else "failed"
        return Finding(org.key, "organization", "identity", status, str(exc))
    return Finding(org.key, "organization", "identity", "ok",
                   f"{org_id} (from {SOURCES.get(connections.org_id_sources.get(org.key, ''), 'configuration')})")


def _org(connections: Connections, org: OrgConfig) -> list[Finding]:
    client = connections.admin(org)
    if client is None:
        return [Finding(org.key, "organization", "Admin API", "skipped", "no admin_api_key configured")]
    org_id = org.org_id
    if not org_id:
        try:
            data = client.json(client.get("/admin/v1/orgs"))["data"]
            org_id = data[0]["id"] if len(data) == 1 else ""
        except AtlassianError as exc:
            status = "unauthorized" if isinstance(exc, AuthenticationFailed) else "failed"
            return [Finding(org.key, "organization", "Admin API", status, str(exc))]
    return _probe(client, org.key, "organization", ORG_PROBES, org_id)
