"""What every resource shares: clients per tenant, lineage columns, the coverage table, fan-out.

A resource iterates over `Scope`s (one org, site+product or DC instance), wraps each in
`coverage.track(...)`, pages through with `paginate`, and stamps every row with where it
came from, so several tenants share one warehouse.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from pipelines.atlassian.config import DcConfig, OrgConfig, SiteConfig
from pipelines.atlassian.http import (
    AtlassianClient,
    AtlassianError,
    AuthenticationFailed,
    Forbidden,
    HostLimiter,
    NotAvailable,
    RequestStats,
)
from pipelines.atlassian.settings import HOST_CONCURRENCY


class BearerAuth(httpx.Auth):
    def __init__(self, token: str):
        self._token = token

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


@dataclass(frozen=True)
class Scope:
    """Where rows come from: lineage columns stamped on every raw row."""

    org_key: str  # the tenant's name in the configuration
    product: str  # org | jira | confluence
    deployment: str  # cloud | dc
    site: str | None = None  # Cloud site name or DC instance name
    org_id: str | None = None

    @property
    def label(self) -> str:
        return "/".join(x for x in (self.org_key, self.site, self.product, self.deployment) if x)

    def stamp(self, row: dict) -> dict:
        row["_org_key"] = self.org_key
        row["_org_id"] = self.org_id
        row["_site"] = self.site
        row["_product"] = self.product
        row["_deployment"] = self.deployment
        row["_tenant"] = self.label  # the scd2 partition: only this tenant's rows are retired
        return row


def stable_id(*parts) -> str:
    """A deterministic id for records Atlassian gives none (Confluence audit)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Connections:
    """Clients per tenant and product, one concurrency limiter per host shared by all of them."""

    def __init__(self, tenants: list[OrgConfig], transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.tenants = tenants
        self._transport = transport
        self._sleep = sleep
        self._limiters: dict[str, HostLimiter] = {}
        self._clients: dict[tuple, AtlassianClient] = {}
        self._lock = threading.Lock()
        self.org_ids: dict[str, str | None] = {t.key: t.org_id for t in tenants}
        self.cloud_ids: dict[tuple[str, str], str] = {}

    def resolve_org_ids(self) -> None:
        """Fill every tenant's org id before any row is stamped, so `_org_id` never depends on resource order."""
        for org in self.tenants:
            client = self.admin(org)
            if self.org_ids.get(org.key) or client is None:
                continue
            data = client.json(client.get("/admin/v1/orgs")).get("data") or []
            if len(data) != 1:
                raise AtlassianError(f"the Admin API key of {org.key} sees {len(data)} organizations: set "
                                     f"sources.atlassian.orgs.{org.key}.org_id")
            self.org_ids[org.key] = data[0]["id"]

    def anonymous(self, org_key: str, name: str, url: str) -> AtlassianClient:
        """A client without credentials on a site or DC host (the anonymous-access probes).

        Always the site URL, never the scoped gateway (which needs a credential)."""
        return self._client(("anonymous", org_key, name), url, None, f"an anonymous caller on {name}")

    def public(self, url: str) -> AtlassianClient:
        """A client without credentials for a public API (the Marketplace)."""
        return self._client(("public", url), url, None, f"the public API at {urlsplit(url).netloc}")

    def _client(self, key: tuple, base: str, auth: httpx.Auth | None, label: str) -> AtlassianClient:
        with self._lock:
            if key not in self._clients:
                host = urlsplit(base).netloc
                limiter = self._limiters.setdefault(host, HostLimiter(HOST_CONCURRENCY, HOST_CONCURRENCY * 2))
                self._clients[key] = AtlassianClient(base, auth, label, limiter=limiter, sleep=self._sleep,
                                                     transport=self._transport)
            return self._clients[key]

    def admin(self, org: OrgConfig) -> AtlassianClient | None:
        if not org.admin_api_key:
            return None
        return self._client(("admin", org.key), org.admin_url, BearerAuth(org.admin_api_key),
                            f"the Admin API key of {org.key}")

    def site(self, org: OrgConfig, site: SiteConfig, product: str) -> AtlassianClient:
        """A client whose base is the site root (classic) or the product's gateway root (scoped)."""
        label = f"the API token of {site.email} on {site.name}"
        auth = httpx.BasicAuth(site.email, site.token)
        if site.auth == "scoped":
            cloud_id = self.cloud_id(org, site)
            base = f"{site.gateway_url}/ex/{product}/{cloud_id}"
            return self._client(("scoped", org.key, site.name, product), base, auth, f"the scoped {label}")
        return self._client(("site", org.key, site.name), site.url, auth, label)

    def cloud_id(self, org: OrgConfig, site: SiteConfig) -> str:
        """Resolved once from the public `/_edge/tenant_info`; it never changes for a site."""
        key = (org.key, site.name)
        if key not in self.cloud_ids:
            probe = self._client(("edge", org.key, site.name), site.url, None, f"tenant_info of {site.name}")
            self.cloud_ids[key] = probe.json(probe.get("/_edge/tenant_info"))["cloudId"]
        return self.cloud_ids[key]

    def dc(self, org: OrgConfig, dc: DcConfig) -> AtlassianClient:
        return self._client(("dc", org.key, dc.name), dc.url, BearerAuth(dc.token),
                            f"the personal access token for {dc.name}")

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    # --- scopes --------------------------------------------------------------------------------

    def org_scopes(self) -> Iterator[tuple[OrgConfig, AtlassianClient, Scope]]:
        for org in self.tenants:
            client = self.admin(org)
            if client is not None:
                yield org, client, Scope(org.key, "org", "cloud", None, self.org_ids.get(org.key))

    def site_scopes(self, product: str) -> Iterator[tuple[OrgConfig, SiteConfig, AtlassianClient, Scope]]:
        for org in self.tenants:
            for site in org.sites:
                if product in site.products:
                    yield org, site, self.site(org, site, product), Scope(org.key, product, "cloud", site.name,
                                                                           self.org_ids.get(org.key))

    def dc_scopes(self, product: str) -> Iterator[tuple[OrgConfig, DcConfig, AtlassianClient, Scope]]:
        for org in self.tenants:
            for dc in org.data_center:
                if dc.product == product:
                    yield org, dc, self.dc(org, dc), Scope(org.key, product, "dc", dc.name, self.org_ids.get(org.key))


@dataclass
class CoverageEntry:
    resource: str
    tenant: str
    status: str = "ok"  # ok | forbidden | not_available | failed | skipped
    reason: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0
    stats: RequestStats = field(default_factory=RequestStats)

    def row(self, run_id: str) -> dict:
        return {"run_id": run_id, "resource": self.resource, "tenant": self.tenant, "status": self.status,
                "reason": self.reason, "rows": self.stats.rows, "pages": self.stats.pages,
                "requests": self.stats.requests, "retries": self.stats.retries, "throttled": self.stats.throttled,
                "started_at": self.started_at, "duration_s": round(self.duration_s, 3)}


class PartialSnapshot(AtlassianError):
    """A snapshot listing failed after some rows were loaded: loading it would retire the rest."""


class Coverage:
    """What each resource collected for each tenant in this run, and why not when it did not."""

    def __init__(self):
        self.entries: list[CoverageEntry] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def track(self, resource: str, scope: Scope, snapshot: bool = True) -> Iterator[RequestStats]:
        entry = CoverageEntry(resource, scope.label)
        with self._lock:
            self.entries.append(entry)
        started = time.monotonic()
        try:
            yield entry.stats
        except AuthenticationFailed:
            entry.status, entry.reason = "failed", "authentication failed (401)"
            raise
        except Forbidden as exc:
            entry.status, entry.reason = "forbidden", str(exc)
            if snapshot and entry.stats.rows:
                raise PartialSnapshot(f"{resource} for {scope.label}: {exc} after {entry.stats.rows} rows") from exc
        except NotAvailable as exc:
            entry.status, entry.reason = "not_available", str(exc)
            if snapshot and entry.stats.rows:
                raise PartialSnapshot(f"{resource} for {scope.label}: {exc} after {entry.stats.rows} rows") from exc
        except AtlassianError as exc:
            entry.status, entry.reason = "failed", str(exc)
            if snapshot and entry.stats.rows:
                raise PartialSnapshot(f"{resource} for {scope.label} failed after {entry.stats.rows} rows, so this "
                                      f"run is not loaded (a partial list would retire the rest): {exc}") from exc
        finally:
            entry.duration_s = time.monotonic() - started

    def skip(self, resource: str, scope: Scope, reason: str) -> None:
        with self._lock:
            self.entries.append(CoverageEntry(resource, scope.label, "skipped", reason))

    def rows(self, run_id: str) -> list[dict]:
        return [e.row(run_id) for e in self.entries]


def fan_out(items: Iterable, fetch: Callable, workers: int = HOST_CONCURRENCY) -> Iterator:
    """Run `fetch(item)` concurrently (the host limiter still caps requests); yield results in item order."""
    items = list(items)
    if not items:
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(fetch, items)
