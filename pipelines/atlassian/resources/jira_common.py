"""What the Jira resources share: Cloud and Data Center tenants, row cleaning, per-run listings, fan-out.

Jira Cloud (`/rest/api/3`, a site or the scoped-token gateway) and Jira Data Center
(`/rest/api/2`, a personal access token) run the same Jira, so most resources read both
and write one table, told apart by `_deployment`. Data Center names users and groups by
*name* (username, group name) where Cloud uses ids (accountId, groupId): DC rows keep the
name as their key column.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pipelines.atlassian.config import DcConfig, OrgConfig, SiteConfig
from pipelines.atlassian.helpers import Connections, Scope, fan_out
from pipelines.atlassian.http import AtlassianClient, AtlassianError, NotAvailable, RequestStats
from pipelines.atlassian.paging import PageBean, SinglePage, paginate
from pipelines.atlassian.settings import JIRA_API, JIRA_FAN_OUT_CHUNK, JIRA_VOLATILE_FIELDS, PAGE

SCD2 = {"disposition": "merge", "strategy": "scd2"}


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


def clean(value):
    """Drop fields that change without security meaning (links, server clock, popularity), recursively."""
    if isinstance(value, dict):
        for name in JIRA_VOLATILE_FIELDS:
            value.pop(name, None)
        for item in value.values():
            clean(item)
    elif isinstance(value, list):
        for item in value:
            clean(item)
    return value


def row(scope: Scope, raw: dict, **parents) -> dict:
    """A raw Jira object as a warehouse row: cleaned, with its parent keys and the lineage columns."""
    clean(raw)
    raw.update(parents)
    return scope.stamp(raw)


def is_missing(exc: AtlassianError) -> bool:
    """A per-item call that found nothing: the item vanished since the listing (404) or is hidden (400 on DC)."""
    return isinstance(exc, NotAvailable) or exc.status in (400, 404)


# --- listings several resources need ------------------------------------------------------------


@dataclass(frozen=True)
class ProjectRef:
    id: str
    key: str


class Listings:
    """Per-run memo of the small id lists that fan-out resources iterate (projects, groups).

    The resource that lists the entity in full (`jira_projects`, `jira_groups`) records the
    ids it streamed once its listing completed; a fan-out resource running later reuses
    them instead of listing again. Only ids are kept, never the rows.
    """

    def __init__(self):
        self._done: dict[tuple[str, str], list] = {}
        self._lock = threading.Lock()

    def remember(self, kind: str, tenant: JiraTenant, refs: list) -> None:
        with self._lock:
            self._done[(kind, tenant.scope.label)] = refs

    def get(self, kind: str, tenant: JiraTenant, load: Callable[[], Iterable]) -> list:
        with self._lock:
            known = self._done.get((kind, tenant.scope.label))
        if known is not None:
            return known
        refs = list(load())
        self.remember(kind, tenant, refs)
        return refs


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


def project_refs(listings: Listings, tenant: JiraTenant, stats: RequestStats) -> list[ProjectRef]:
    def load():
        for page in project_pages(tenant, stats):
            for project in page:
                yield ProjectRef(str(project["id"]), project["key"])

    return listings.get("projects", tenant, load)


# --- fan-out -------------------------------------------------------------------------------------


def chunked(items: Iterable, size: int = JIRA_FAN_OUT_CHUNK) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fan_out_chunked(items: Iterable, fetch: Callable) -> Iterator:
    """`helpers.fan_out`, a chunk of parents at a time: finished results never pile up unconsumed."""
    for chunk in chunked(items):
        yield from fan_out(chunk, fetch)


def fan_out_pages(items: Iterable, open_pages: Callable[[object], Iterator[list]]) -> Iterator[tuple[object, list]]:
    """(item, page) for every page of every item's listing, first pages fetched concurrently.

    A worker thread opens each item's paginated listing and reads its first page; the
    caller's thread reads the rest while streaming, so one huge item (jira-users with
    100,000 members) never sits in memory whole. An item whose listing answers 404 (it
    vanished after the parent listing) yields nothing.
    """

    def first(item):
        pages = open_pages(item)
        try:
            return item, next(pages, None), pages
        except AtlassianError as exc:
            if is_missing(exc):
                return item, None, iter(())
            raise

    for item, page, rest in fan_out_chunked(items, first):
        if page is None:
            continue
        yield item, page
        for more in rest:
            yield item, more


def role_id_of(url: str) -> str:
    """The numeric role id at the end of a project role URL (`.../project/10000/role/10002`)."""
    return url.rstrip("/").rsplit("/", 1)[-1]
