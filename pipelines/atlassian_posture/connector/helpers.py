"""What every resource shares: clients per tenant, lineage columns, row cleaning, the coverage
table, per-run parent listings and fan-out.

A resource iterates over `Scope`s (one org, site+product or DC instance), wraps each in
`coverage.track(...)`, pages through with `paginate`, and stamps every row with where it
came from, so several tenants share one warehouse. The incremental audit cursor lives in
`incremental.py`.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import dlt
import httpx

from atlassian_posture.connector.config import DcConfig, OrgConfig, SiteConfig
from atlassian_posture.connector.http import (
    AtlassianClient,
    AtlassianError,
    AuthenticationFailed,
    Forbidden,
    HostLimiter,
    MalformedResponse,
    NotAvailable,
    RequestStats,
)
from atlassian_posture.connector.paging import AdminV1, paginate
from atlassian_posture.connector.settings import (
    FAN_OUT_PAGES_AHEAD,
    FAN_OUT_WINDOW,
    HOST_CONCURRENCY,
    HOST_MAX_CONCURRENCY,
)
from atlassian_posture.connector.validation import merge_hints


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


SCD2 = {"disposition": "merge", "strategy": "scd2"}


def snapshot(name: str, columns: dict | None = None, **types: str):
    """A snapshot resource: scd2 history, rows retired per `_tenant` only (the merge's `destination_scope`,
    which dlt uses instead of a `merge_key`), so a tenant that was not read in a run keeps its current
    rows; a tenant whose rows were rejected retires only what it saw again (validation.py). `columns` are column hints (lineage columns that can be null
    in a whole load); `types` fixes column types where Cloud and DC disagree."""
    disposition, validation_columns = merge_hints(name)
    hints = {**validation_columns, **(columns or {}), **{column: {"data_type": kind} for column, kind in types.items()}}
    return dlt.resource(name=name, write_disposition=disposition, columns=hints)


def drop_keys(value, keys: Collection[str], deep: bool = False):
    """`value` without the `keys` (in place): at the top level, or in every nested object with `deep`."""
    if isinstance(value, dict):
        for name in keys:
            value.pop(name, None)
        if deep:
            for item in value.values():
                drop_keys(item, keys, deep)
    elif deep and isinstance(value, list):
        for item in value:
            drop_keys(item, keys, deep)
    return value


def clean_row(scope: Scope, raw: dict, drop: Collection[str] = (), deep: bool = False, **parents) -> dict:
    """A raw object (changed in place) as a warehouse row: minus `drop`, plus its parent keys, stamped.

    `drop` names what changes without security meaning: hypermedia links name the host the row
    was read through (the site, or api.atlassian.com with a scoped token), and server clocks or
    popularity counters change by themselves; kept, either would version every scd2 row.
    Each family names its own keys (and Jira also drops them in nested objects): the raw
    shapes differ, and what a table holds stays as each family loaded it.
    """
    drop_keys(raw, drop, deep)
    raw.update(parents)
    return scope.stamp(raw)


def stable_id(*parts) -> str:
    """A deterministic id for records Atlassian gives none (Confluence audit)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _host_path(url: str) -> str:
    """A base URL as an identity: lower-case host[:port] and path, without scheme or trailing slash."""
    parts = urlsplit(url)
    return (parts.netloc.lower() + parts.path.rstrip("/")) or url


def _limited_host(base: str) -> str:
    """What a concurrency limit is per: the host; on a loopback address the base URL, since one local
    server stands for several hosts there (the simulator and the reference tenants serve each site,
    the Admin API and each Data Center instance under its own path)."""
    parts = urlsplit(base)
    try:
        loopback = parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = False
    return _host_path(base) if loopback else parts.netloc.lower()


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
        # how each org id was found (raw.runs.org_id_source): configured | admin_api | cloud_id | site_url | dc_url
        self.org_id_sources: dict[str, str] = {t.key: "configured" for t in tenants if t.org_id}
        self.cloud_ids: dict[tuple[str, str], str] = {}

    def resolve_org_ids(self) -> None:
        """Give every tenant an organization id before any row is stamped, so `_org_id` never depends on
        resource order and is never null, whichever credentials the tenant has (`identity`)."""
        for org in self.tenants:
            self.identity(org)
        taken: dict[str, str] = {}
        for org in self.tenants:
            other = taken.setdefault(self.org_ids[org.key], org.key)
            if other != org.key:
                raise AtlassianError(f"organizations {other} and {org.key} are the same tenant "
                                     f"({self.org_ids[org.key]}): configure it once")

    def identity(self, org: OrgConfig) -> str:
        """The tenant's organization id, in this order (README "Organization identity"):
        the configured `org_id`; the one organization the Admin API key sees; `cloud:<cloudId>` of the
        first configured Cloud site (public `/_edge/tenant_info`; `site:<host>` if it does not answer);
        `dc:<host/path>` of the first Data Center instance (no DC endpoint gives a server id without
        admin rights). History follows the configured key (`org_key`), so a tenant whose id changes
        (an org key added later) keeps its findings' first_seen."""
        if self.org_ids.get(org.key):
            return self.org_ids[org.key]  # type: ignore[return-value]
        if self.admin(org) is not None:
            self.org_id_sources[org.key] = "admin_api"
            return self.org_id(org)  # type: ignore[return-value]
        if org.sites:
            site = org.sites[0]
            try:
                derived, source = f"cloud:{self.cloud_id(org, site)}", "cloud_id"
            except (AtlassianError, KeyError, TypeError, ValueError):
                derived, source = f"site:{_host_path(site.url)}", "site_url"
        else:
            derived, source = f"dc:{_host_path(org.data_center[0].url)}", "dc_url"
        self.org_ids[org.key], self.org_id_sources[org.key] = derived, source
        return derived

    def org_id(self, org: OrgConfig, stats: RequestStats | None = None) -> str | None:
        """The configured org id, or the single org the Admin API key sees (there is no cloudId -> orgId
        API), resolved once; without an Admin API key, the derived identity (`identity`)."""
        client = self.admin(org)
        if self.org_ids.get(org.key) or client is None:
            return self.org_ids.get(org.key)
        orgs = [o for page in paginate(client, "/admin/v1/orgs", AdminV1(), stats=stats) for o in page]
        if len(orgs) != 1:
            raise AtlassianError(f"the Admin API key of {org.key} sees {len(orgs)} organizations: set "
                                 f"sources.atlassian.orgs.{org.key}.org_id")
        self.org_ids[org.key] = orgs[0]["id"]
        return self.org_ids[org.key]

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
                limiter = self._limiters.setdefault(_limited_host(base), HostLimiter(HOST_CONCURRENCY,
                                                                                     HOST_MAX_CONCURRENCY))
                self._clients[key] = AtlassianClient(base, auth, label, limiter=limiter, sleep=self._sleep,
                                                     transport=self._transport)
            return self._clients[key]

    def server_clock(self, org_key: str) -> datetime | None:
        """The latest `Date` any of this organization's hosts answered: "now" for the marts' windows."""
        with self._lock:
            dates = [c.last_date for key, c in self._clients.items()
                     if len(key) > 1 and key[1] == org_key and c.last_date is not None]
        return max(dates).astimezone(UTC) if dates else None

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
    # ok | degraded (rows rejected: validation.py) | partial (items refused: `per_item`) | forbidden |
    # not_available | failed | skipped. Anything but ok makes the marts treat the resource as not collected.
    status: str = "ok"
    reason: str = ""
    lineage: dict = field(default_factory=dict)  # the tenant's lineage columns (hold markers carry them)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0
    stats: RequestStats = field(default_factory=RequestStats)
    # a change-driven run (changes.py): hold columns of the items not re-read, items read/listed per kind,
    # why a kind was read whole, and the server time of the last full sweep (None: read in full now)
    held: list[dict] = field(default_factory=list)
    # ... or, the other way round, the columns of the only items whose rows this run's load may retire (a
    # snapshot read item by item: the group members of the accounts and groups the logs name)
    reads: list[dict] = field(default_factory=list)
    kept: bool = False  # read item by item (`read_items`): the rest is kept, even when no item was read
    driven: dict[str, list[int]] = field(default_factory=dict)
    whole: dict[str, str] = field(default_factory=dict)
    snapshot_as_of: datetime | None = None

    def row(self, run_id: str) -> dict:
        return {"run_id": run_id, "resource": self.resource, "tenant": self.tenant, "status": self.status,
                "reason": "; ".join(x for x in (self.reason, self.driven_reason()) if x),
                "rows": self.stats.rows, "pages": self.stats.pages,
                "requests": self.stats.requests, "retries": self.stats.retries, "throttled": self.stats.throttled,
                "started_at": self.started_at, "duration_s": round(self.duration_s, 3),
                "snapshot_as_of": self.snapshot_as_of if self.held or self.kept else None}

    def driven_reason(self) -> str:
        if not self.driven:
            return (f"kept as of the full sweep of {self.snapshot_as_of:%Y-%m-%d %H:%M} UTC"
                    if self.kept and self.snapshot_as_of else "")
        parts = []
        for kind, (read, listed) in sorted(self.driven.items()):
            why = f" ({self.whole[kind]})" if kind in self.whole else ""
            parts.append(f"{read} of {listed} {kind}{why}")
        as_of = f"; the others are kept as of the full sweep of {self.snapshot_as_of:%Y-%m-%d %H:%M} UTC" \
            if (self.held or self.kept) and self.snapshot_as_of else ""
        return (f"change-driven: re-read {', '.join(parts)} (those the audit logs name, new ones, and one a run to "
                f"check access){as_of}")


REFUSED_SHOWN = 5  # items named in a `partial` reason; the rest are counted


def refused_reason(stats: RequestStats) -> str:
    """`403 on 2 of 14 projects (ABC 10003, DEF 10007): ...`, one clause per item kind."""
    clauses = []
    for kind, items in sorted(stats.refused.items()):
        names = sorted(name for name, _ in items)  # refused from worker threads: in no particular order
        shown = ", ".join(names[:REFUSED_SHOWN]) + (f" and {len(names) - REFUSED_SHOWN} more"
                                                    if len(names) > REFUSED_SHOWN else "")
        clauses.append(f"403 on {len(items)} of {stats.asked.get(kind, len(items))} {kind} ({shown})")
    return ("; ".join(clauses) + ": the credential may not read them; their rows are kept from the last run "
            "(grant the credential admin rights on them to collect them)")


def unexpected_reason(exc: Exception, stats: RequestStats) -> str:
    """`KeyError 'id' after 3 pages (last request GET /rest/api/3/...)`: what broke, and after which answer
    (in a fan-out the last request is the latest of any item's)."""
    cause = (f"{type(exc).__name__} {str(exc)[:160]}".strip().splitlines() or [type(exc).__name__])[0]
    where = (f" after {stats.pages} page{'s' * (stats.pages != 1)} (last request {stats.last_request})"
             if stats.last_request else "")
    return (f"{cause}{where}: the answer is not the documented shape (rerun; if it persists, report this "
            f"line with the response)")


class PartialSnapshot(AtlassianError):
    """A snapshot listing failed after some rows were loaded: loading it would retire the rest."""


class Coverage:
    """What each resource collected for each tenant in this run, and why not when it did not.

    `on_progress`, when given, sees each (resource, tenant) as it happens, as a coverage row: once with
    status `running` when it starts, once with its outcome when it ends (a skip only ends), so a long run
    can show what it is doing. Validation notes (`degraded`) arrive later, in `rows()`."""

    def __init__(self, on_progress: Callable[[dict], None] | None = None):
        self.entries: list[CoverageEntry] = []
        self._lock = threading.Lock()
        self._validation: dict[tuple[str, str], dict] = {}
        self.on_progress = on_progress
        self.run_id: str | None = None  # set by RunFacts, so progress rows carry it

    def _report(self, entry: CoverageEntry, status: str | None = None) -> None:
        if self.on_progress is None:
            return
        row = entry.row(self.run_id)
        try:
            self.on_progress({**row, "status": status} if status else row)
        except Exception as exc:  # noqa: BLE001 (progress is for people: it never fails an extraction)
            self.on_progress = None
            logging.getLogger(__name__).warning("progress reporting stopped: %s", exc)

    @contextlib.contextmanager
    def track(self, resource: str, scope: Scope, snapshot: bool = True) -> Iterator[RequestStats]:
        """Record the outcome of one (resource, tenant): `ok`, `partial` when a fan-out skipped items it
        may not read, or why nothing was collected. An error that is not Atlassian's (a malformed answer
        the resource code tripped on, or a bug) is recorded `failed` and raised again as one line."""
        entry = CoverageEntry(resource, scope.label, lineage=scope.stamp({}))
        with self._lock:
            self.entries.append(entry)
        self._report(entry, "running")
        started = time.monotonic()
        try:
            yield entry.stats
            # `partial` even when every item was refused: `forbidden` means the listing was refused, and the
            # marts read it so for some resources (an org feature without Guard)
            if entry.stats.refused:
                entry.status, entry.reason = "partial", refused_reason(entry.stats)
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
        except Exception as exc:  # not Atlassian's word: a malformed answer the resource code tripped on
            entry.status = "failed"
            entry.reason = unexpected_reason(exc, entry.stats)
            raise MalformedResponse(f"{resource} for {scope.label} failed: {entry.reason}") from exc
        finally:
            entry.duration_s = time.monotonic() - started
            self._report(entry)

    def item_holds(self, resource: str) -> list[tuple[dict, dict]]:
        """(lineage, hold columns) of every item a fan-out of `resource` was refused, or not re-read in a
        change-driven run (`driven`), in this run."""
        with self._lock:
            entries = [e for e in self.entries if e.resource == resource]
        return [(e.lineage, hold) for e in entries for items in e.stats.refused.values() for _, hold in items] + \
            [(e.lineage, hold) for e in entries for hold in e.held]

    def entry_of(self, stats: RequestStats) -> CoverageEntry | None:
        """The (latest) coverage entry counting into `stats`."""
        with self._lock:
            return next((e for e in reversed(self.entries) if e.stats is stats), None)

    def item_reads(self, resource: str) -> list[tuple[dict, dict]]:
        """(lineage, columns) of every item a change-driven read of `resource` read item by item (`reads`)."""
        with self._lock:
            return [(e.lineage, read) for e in self.entries if e.resource == resource for read in e.reads]

    def read_items(self, stats: RequestStats, reads: list[dict], as_of: datetime | None) -> None:
        """The entry of `stats` read these items only (their columns): its load retires no other row."""
        with self._lock:
            entry = next((e for e in reversed(self.entries) if e.stats is stats), None)
            if entry is not None:
                entry.reads.extend(reads)
                entry.kept = True
                entry.snapshot_as_of = entry.snapshot_as_of or as_of

    def driven(self, stats: RequestStats, kind: str, read: int, listed: int, held: list[dict],
               as_of: datetime | None, whole: str) -> None:
        """A change-driven fan-out (changes.py) read `read` of `listed` items and holds `held` (their hold
        columns), kept as of `as_of`; `whole` says why the kind was read whole."""
        with self._lock:
            entry = next((e for e in reversed(self.entries) if e.stats is stats), None)
            if entry is None:
                return
            counts = entry.driven.setdefault(kind, [0, 0])
            counts[0] += read
            counts[1] += listed
            entry.held.extend(held)
            if whole:
                entry.whole[kind] = whole
            if held:
                entry.snapshot_as_of = as_of

    def mirror(self, source: RequestStats, stats: RequestStats) -> None:
        """The entry of `stats` read its rows from another resource's read (`source`, a handover): what that
        read held in a change-driven run, this table holds too."""
        with self._lock:
            origin = next((e for e in reversed(self.entries) if e.stats is source), None)
            entry = next((e for e in reversed(self.entries) if e.stats is stats), None)
            if origin is None or entry is None or not origin.driven:
                return
            for kind, (read, listed) in origin.driven.items():
                counts = entry.driven.setdefault(kind, [0, 0])
                counts[0] += read
                counts[1] += listed
            entry.held.extend(origin.held)
            entry.reads.extend(origin.reads)
            entry.kept = entry.kept or origin.kept
            entry.whole.update(origin.whole)
            entry.snapshot_as_of = entry.snapshot_as_of or origin.snapshot_as_of

    def skip(self, resource: str, scope: Scope, reason: str) -> None:
        entry = CoverageEntry(resource, scope.label, "skipped", reason)
        with self._lock:
            self.entries.append(entry)
        self._report(entry)

    def note(self, resource: str, tenant: str, rejected: int = 0, duplicates: int = 0, reason: str = "") -> None:
        """Rows of (resource, tenant) that validation rejected (no key: quarantined) or dropped (a key twice)."""
        with self._lock:
            counts = self._validation.setdefault((resource, tenant), {"rejected": 0, "duplicates": 0, "reasons": {}})
            counts["rejected"] += rejected
            counts["duplicates"] += duplicates
            if reason:
                counts["reasons"][reason] = counts["reasons"].get(reason, 0) + rejected

    def rows(self, run_id: str) -> list[dict]:
        """Every entry as a coverage row; an `ok` entry whose rows were rejected is `degraded`, with why."""
        rows = [e.row(run_id) for e in self.entries]
        by_key = {(r["resource"], r["tenant"]): r for r in rows}
        for (resource, tenant), counts in self._validation.items():
            row = by_key.get((resource, tenant))
            if row is None:
                row = CoverageEntry(resource, tenant).row(run_id)
                rows.append(row)
            notes = []
            if counts["rejected"]:
                why = "; ".join(f"{n} with {reason}" for reason, n in sorted(counts["reasons"].items()))
                notes.append(f"{counts['rejected']} rows rejected ({why}): in raw.quarantine; rows absent from "
                             f"this run were not retired")
                if row["status"] == "ok":
                    row["status"] = "degraded"
            if counts["duplicates"]:
                notes.append(f"{counts['duplicates']} duplicate rows dropped (a key sent twice)")
            row["reason"] = "; ".join(x for x in (row["reason"], *notes) if x)
        return rows


class Calls(RequestStats):
    """Counts a listing's or fan-out's requests into `parent` but not its rows: they are not the table's rows."""

    def __init__(self, parent: RequestStats):
        super().__init__()
        self.parent = parent

    def add(self, **counts: int) -> None:
        counts.pop("rows", None)
        self.parent.add(**counts)

    def ask(self, kind: str) -> None:
        self.parent.ask(kind)

    def refuse(self, kind: str, name: str, hold: dict) -> None:
        self.parent.refuse(kind, name, hold)

    def requested(self, what: str) -> None:
        self.parent.requested(what)


class Listings:
    """One parent listing per (kind, tenant) and run, shared by the resources that fan out over it.

    dlt runs the resources in parallel (connector/__init__.py), and several resources need the same parent
    list (projects for role actors and scheme assignments, groups for members, spaces for
    permissions and role assignments, UPM for the Marketplace). The first asks, the others
    reuse it; a failure is remembered and raised again to each, so every resource records the
    same outcome in coverage. A resource that streams the full listing itself (`jira_projects`)
    `remember`s what the others need once it completed, so they do not list again. Parent lists
    are small (the projects, spaces, groups or UPM apps of one tenant: thousands at most), unlike
    the fan-out results, which stream. The listing's requests are counted on the resource that
    asked first (`Calls`: not its rows; they are counted by the resources that load them).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._fetching: dict[tuple[str, str], threading.Lock] = {}  # one per listing: others list meanwhile
        self._done: dict[tuple[str, str], tuple[bool, object]] = {}

    def remember(self, kind: str, scope: Scope, value: list) -> None:
        with self._lock:
            self._done[(kind, scope.label)] = (True, value)

    def get(self, kind: str, scope: Scope, fetch: Callable[[RequestStats], Iterable], stats: RequestStats) -> list:
        """The listing, from `fetch(stats)` the first time it is asked for this tenant in this run."""
        key = (kind, scope.label)
        with self._lock:
            fetching = self._fetching.setdefault(key, threading.Lock())
        with fetching:  # resources run in parallel: the second asker waits for the first's listing
            with self._lock:
                done = self._done.get(key)
            if done is None:
                try:
                    found = fetch(Calls(stats))
                    done = (True, found if isinstance(found, list) else list(found))  # a list subclass stays
                except AtlassianError as exc:
                    done = (False, exc)
                with self._lock:
                    done = self._done.setdefault(key, done)
        ok, value = done
        if not ok:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]


def listed_rows(rows: list[dict], scope: Scope, stats: RequestStats) -> Iterator[list[dict]]:
    """A shared listing's rows as this resource's rows: counted here, and copied before stamping
    so the listing stays as the other resources see it."""
    stats.add(rows=len(rows))
    if rows:
        yield [scope.stamp(dict(item)) for item in rows]


def is_gone(exc: AtlassianError) -> bool:
    """A per-item call that found nothing: the item vanished since its parent listing (404)."""
    return isinstance(exc, NotAvailable)


def unless_missing(fetch: Callable, empty=None, missing: Callable[[AtlassianError], bool] = is_gone) -> Callable:
    """Wrap a per-item fetch so an item gone since its parent listing gives `empty` instead of failing the listing.

    `missing` says which errors mean gone: a 404 everywhere; Jira also hides items with a 400
    (`jira_common.is_missing`)."""

    def wrapped(item):
        try:
            return fetch(item)
        except AtlassianError as exc:
            if missing(exc):
                return empty
            raise

    return wrapped


def per_item(fetch: Callable, stats: RequestStats, kind: str, *, empty=None,
             missing: Callable[[AtlassianError], bool] = is_gone, name: Callable[[object], str] = str,
             hold: Callable[[object], dict] = lambda item: {}) -> Callable:
    """Wrap a fan-out's per-item fetch: an item gone since its parent listing gives `empty` (as
    `unless_missing`), and so does an item the credential may not read (403: a token without admin
    rights on one project, space or group), recorded in `stats` (`kind`, its `name`, and the
    `hold` columns that find its rows). Coverage then says `partial` and names the items, and the
    snapshot keeps their rows from the last run instead of retiring them (validation.py); the other
    items load as usual. A 403 on the parent listing itself is the resource's outcome, not this."""

    def wrapped(item):
        stats.ask(kind)
        try:
            return fetch(item)
        except Forbidden:
            stats.refuse(kind, name(item), hold(item))
            return empty
        except AtlassianError as exc:
            if missing(exc):
                return empty
            raise

    return wrapped


def fan_out(items: Iterable, fetch: Callable, workers: int = HOST_MAX_CONCURRENCY, window: int = FAN_OUT_WINDOW
            ) -> Iterator:
    """Run `fetch(item)` concurrently and yield the results in item order.

    At most `window` items are in flight or fetched and waiting to be yielded: results never
    pile up unconsumed however many parents (accounts, groups, projects, spaces) a tenant has,
    and `items` may be a lazy iterator. The host limiter still caps requests per host.
    An error raises when its item's turn comes; the items behind it are cancelled.
    """
    pending: deque[Future] = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for item in items:
                pending.append(pool.submit(fetch, item))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def offer(out: queue.Queue, message: tuple, stop: threading.Event) -> bool:
    """Put `message` on a bounded queue, waiting while it is full; False once `stop` is set (the
    consumer left, so a producer thread never blocks for ever)."""
    while not stop.is_set():
        try:
            out.put(message, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def read_ahead(pages: Iterator, mark: Callable[[], object] = lambda: None, ahead: int = FAN_OUT_PAGES_AHEAD
               ) -> Iterator[tuple[object, object]]:
    """(page, `mark()` right after it was read) from `pages`, read by a thread up to `ahead` pages
    before the consumer: a rate-limited listing (the org events stream) asks for its next page while
    this one is processed. The mark (a paginator's cursor) is what a consumer saves as its position:
    the paginator itself is ahead. An error raises where its page would have come."""
    out: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(message: tuple) -> bool:
        return offer(out, message, stop)

    def read() -> None:
        try:
            for page in pages:
                if not put(("page", (page, mark()))):
                    return
            put(("end", None))
        except BaseException as exc:  # noqa: BLE001 (raised in the consumer's thread)
            put(("error", exc))

    reader = threading.Thread(target=read, name="read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            what, value = out.get()
            if what == "page":
                yield value
            elif what == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        reader.join()


def fan_out_pages(items: Iterable, open_pages: Callable[[object], Iterator[list]],
                  missing: Callable[[AtlassianError], bool] = is_gone, *, stats: RequestStats | None = None,
                  kind: str = "items", name: Callable[[object], str] = str,
                  hold: Callable[[object], dict] = lambda item: {}, workers: int = HOST_MAX_CONCURRENCY,
                  window: int = FAN_OUT_WINDOW, ahead: int = FAN_OUT_PAGES_AHEAD) -> Iterator[tuple[object, list]]:
    """(item, page) for every page of every item's paginated listing, the items read concurrently.

    A worker thread reads each item's listing page after page into a queue at most `ahead` pages
    long, which the caller drains in item order; at most `window` items are open at once. So the
    follow-up pages of several items are fetched at the same time, yet one huge item (a group
    with 100,000 members) never sits in memory whole. An item whose first page answers `missing`
    (it vanished after the parent listing) yields nothing; with `stats`, one that answers 403 (on
    any page) is skipped and recorded as refused (`per_item`): the pages read before still load.
    """
    stop = threading.Event()  # the caller stopped (done, failed or closed): workers give up their queues

    def put(out: queue.Queue, message: tuple) -> bool:
        return offer(out, message, stop)

    def read(item, out: queue.Queue) -> None:
        first = True
        try:
            if stats is not None:
                stats.ask(kind)
            for page in open_pages(item):
                first = False
                if not put(out, ("page", page)):
                    return
            put(out, ("end", None))
        except Forbidden as exc:
            if stats is None:
                put(out, ("error", exc))
            else:
                stats.refuse(kind, name(item), hold(item))
                put(out, ("end", None))
        except AtlassianError as exc:
            put(out, ("end", None) if first and missing(exc) else ("error", exc))
        except BaseException as exc:  # noqa: BLE001 (raised in the caller's thread, where it belongs)
            put(out, ("error", exc))

    def drain(item, out: queue.Queue) -> Iterator[tuple[object, list]]:
        while True:
            what, value = out.get()
            if what == "page":
                if value is not None:
                    yield item, value
            elif what == "error":
                raise value
            else:
                return

    pending: deque[tuple[object, queue.Queue, Future]] = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for item in items:
                out: queue.Queue = queue.Queue(maxsize=ahead)
                pending.append((item, out, pool.submit(read, item, out)))
                if len(pending) >= window:
                    item, out, _ = pending.popleft()
                    yield from drain(item, out)
            while pending:
                item, out, _ = pending.popleft()
                yield from drain(item, out)
        finally:
            stop.set()
            for _, _, future in pending:
                future.cancel()
