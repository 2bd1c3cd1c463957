"""What the Jira resources share: Cloud and Data Center tenants, row cleaning, the project listing.

Jira Cloud (`/rest/api/3`, a site or the scoped-token gateway) and Jira Data Center
(`/rest/api/2`, a personal access token) run the same Jira, so most resources read both
and write one table, told apart by `_deployment`. Data Center names users and groups by
*name* (username, group name) where Cloud uses ids (accountId, groupId): DC rows keep the
name as their key column.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from atlassian_posture.connector.config import DcConfig, OrgConfig, SiteConfig
from atlassian_posture.connector.helpers import Connections, Listings, Scope, clean_row
from atlassian_posture.connector.http import AtlassianClient, AtlassianError, NotAvailable, RequestStats
from atlassian_posture.connector.paging import PageBean, SinglePage, paginate
from atlassian_posture.connector.settings import JIRA_API, JIRA_VOLATILE_FIELDS, PAGE


@dataclass(frozen=True)
class JiraTenant:
    """One Jira to read: a Cloud site (classic or scoped token) or a Data Center instance."""

    deployment: str  # cloud | dc
    org: OrgConfig
    target: SiteConfig | DcConfig
    client: AtlassianClient
    scope: Scope

    @property
    def api(self) -> str:
        return JIRA_API[self.deployment]

    @property
    def cloud(self) -> bool:
        return self.deployment == "cloud"


def jira_tenants(connections: Connections, cloud: bool = True, dc: bool = True) -> Iterator[JiraTenant]:
    """Every configured Jira: Cloud sites first, then Data Center instances."""
    if cloud:
        for org, site, client, scope in connections.site_scopes("jira"):
            yield JiraTenant("cloud", org, site, client, scope)
    if dc:
        for org, instance, client, scope in connections.dc_scopes("jira"):
            yield JiraTenant("dc", org, instance, client, scope)


def anonymous_client(connections: Connections, tenant: JiraTenant) -> AtlassianClient:
    """A client without credentials on the site or DC host, sharing the host's concurrency limiter."""
    return connections.anonymous(tenant.org.key, tenant.target.name, tenant.target.url)


def row(scope: Scope, raw: dict, **parents) -> dict:
    """A raw Jira object as a warehouse row (`helpers.clean_row`): without the fields that change without
    security meaning (`self` links, server clock, popularity) at any depth, where Jira nests them in
    every object, with its parent keys and the lineage columns."""
    return clean_row(scope, raw, JIRA_VOLATILE_FIELDS, deep=True, **parents)


def is_missing(exc: AtlassianError) -> bool:
    """A per-item call that found nothing: the item vanished since the listing (404) or is hidden (400 on DC)."""
    return isinstance(exc, NotAvailable) or exc.status in (400, 404)


# --- listings several resources need ------------------------------------------------------------


@dataclass(frozen=True)
class ProjectRef:
    id: str
    key: str
    # company-managed (Cloud `style: classic`, every DC project): its roles are the global role catalogue
    shared_roles: bool = False


def project_ref(tenant: JiraTenant, project: dict) -> ProjectRef:
    """A project's id and key, and whether it uses the global roles (team-managed Cloud projects have their own;
    a listing without `style` says nothing, so the project's own role map is read)."""
    return ProjectRef(str(project["id"]), project["key"], not tenant.cloud or project.get("style") == "classic")


def project_pages(tenant: JiraTenant, stats: RequestStats, expand: str | None = None) -> Iterator[list[dict]]:
    """Every project, live and archived. Cloud: project/search pages; DC: one unpaged list."""
    params: dict = {"expand": expand} if expand else {}
    if tenant.cloud:
        params["status"] = ["live", "archived"]
        yield from paginate(tenant.client, f"{tenant.api}/project/search", PageBean(PAGE["jira_projects"]),
                            params=params, stats=stats)
    else:
        params["includeArchived"] = "true"
        yield from paginate(tenant.client, f"{tenant.api}/project", SinglePage(), params=params, stats=stats)


PROJECT_EXPAND = "lead,description"


def project_list(listings: Listings, tenant: JiraTenant, stats: RequestStats) -> list[dict]:
    """Every project as listed (with lead and description), read once per tenant and run: `jira_projects`
    loads it and the fan-out resources iterate it. A shared listing: copy a project before cleaning it."""

    def load(own: RequestStats):
        for page in project_pages(tenant, own, expand=PROJECT_EXPAND):
            for project in page:
                project_ref(tenant, project)  # a project without id or key fails the listing, where it was read
                yield project

    return listings.get("projects", tenant.scope, load, stats)


def project_refs(listings: Listings, tenant: JiraTenant, stats: RequestStats) -> list[ProjectRef]:
    """The projects the fan-out resources iterate."""
    return [project_ref(tenant, project) for project in project_list(listings, tenant, stats)]


def role_id_of(url: str) -> str:
    """The numeric role id at the end of a project role URL (`.../project/10000/role/10002`)."""
    return url.rstrip("/").rsplit("/", 1)[-1]
