"""Resources: installed apps (Universal Plugin Manager, Cloud and DC) and their public Marketplace listings.

What is not here, and why:
- Forge apps: Cloud UPM does not list them (DIGEST §4.4, §6.3). They are known through their
  bot accounts, which `jira_users` already holds (`accountType = app`, one per installed
  Connect or Forge app), and through app events in the org audit log. No `apps_bot_accounts`
  table repeats them.
- Apps on sites read with a scoped token: UPM declares no OAuth scope, so the scoped-token
  gateway cannot reach it; coverage records `skipped` with that reason (use a classic token
  for the site to get its apps).
- Connect scopes: UPM does not return them; the Marketplace's latest version does
  (`latest_version.deployment.scopes` in `apps_marketplace`).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote, urlsplit

from atlassian_posture.connector.changes import only
from atlassian_posture.connector.config import MARKETPLACE_URL
from atlassian_posture.connector.helpers import Connections, Coverage, Listings, Scope, fan_out, listed_rows
from atlassian_posture.connector.http import AtlassianClient, NotAvailable, RequestStats
from atlassian_posture.connector.resources.confluence_support import snapshot
from atlassian_posture.connector.settings import UPM_CLOUD_PATHS, UPM_DC_PATH

SCOPED_SKIP = ("UPM (/rest/plugins/1.0/) declares no OAuth scope, so a scoped API token cannot reach it "
               "through api.atlassian.com; configure a classic API token for this site to list its apps")
NO_CLASSIC_SKIP = "no site of this organization is read with a classic token, so no installed apps are known (UPM)"
LOOPBACK_SKIP = ("sites on a loopback address (a simulator) never send requests to the public Marketplace: "
                 "set marketplace_url to the simulator's Marketplace")


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def upm_plugins(client: AtlassianClient, path: str, stats: RequestStats, params: dict | None = None) -> list[dict]:
    """UPM's unpaged `{"plugins": [...]}`. A plugin without `key` is kept: validation quarantines it and
    holds the snapshot (validation.py) instead of retiring the app it is."""
    body = client.json(client.get(path, params=params, stats=stats))
    plugins = body.get("plugins") if isinstance(body, dict) else None
    return [p for p in plugins or [] if isinstance(p, dict)]


def build(connections: Connections, coverage: Coverage) -> list:
    listings = Listings()

    def cloud_apps(client: AtlassianClient, scope: Scope, product: str, stats: RequestStats) -> list[dict]:
        return listings.get(f"upm_{product}", scope, lambda own: upm_plugins(client, UPM_CLOUD_PATHS[product], own),
                            stats)

    @snapshot("apps_installed")
    def installed():
        """One app (plugin) installed in one product of one Cloud site or DC instance, as UPM lists it:
        Connect and system apps on Cloud (not Forge), every plugin on DC, where `updateAvailable`
        comes from `installed-marketplace?updates=true` (user-installed apps only)."""
        for product in UPM_CLOUD_PATHS:
            for _, site, client, scope in connections.site_scopes(product):
                if site.auth == "scoped":
                    coverage.skip("apps_installed", scope, SCOPED_SKIP)
                    continue
                with coverage.track("apps_installed", scope) as stats:
                    yield from listed_rows(cloud_apps(client, scope, product, stats), scope, stats)
        for product in ("jira", "confluence"):
            for _, _, client, scope in connections.dc_scopes(product):
                with coverage.track("apps_installed", scope) as stats:
                    plugins = upm_plugins(client, UPM_DC_PATH, stats)
                    try:
                        market = upm_plugins(client, f"{UPM_DC_PATH}installed-marketplace", stats,
                                             {"updates": "true"}) if plugins else []
                    except NotAvailable:  # older UPM: the apps still load, without updateAvailable
                        market = []
                    updates = {p.get("key"): p["updateAvailable"] for p in market if "updateAvailable" in p}
                    rows = [scope.stamp({**p, **({"updateAvailable": updates[p.get("key")]} if p.get("key") in updates
                                                 else {})}) for p in plugins]
                    stats.add(rows=len(rows))
                    if rows:
                        yield rows

    listing_cache: dict[str, dict] = {}

    @snapshot("apps_marketplace")
    def marketplace():
        """The public Marketplace listing of each user-installed Cloud app key of an organization.

        One row per (organization, app key): the listing (`programs`, `hosting`, `storesPersonalData`,
        `lastModified`, `_embedded.vendor`) and its latest version (`latest_version.deployment.scopes`:
        the Connect scopes); `listed = false` when the Marketplace answers 404 (a private or custom
        app, PLUGIN-007). Each key is fetched once per run, whichever organizations installed it.
        """
        for org in connections.tenants:
            base = org.marketplace_url
            market = connections.public(base)
            scope = Scope(org.key, "marketplace", "cloud", None, connections.org_ids.get(org.key))
            classic = [s for s in org.sites if s.auth == "classic"]
            if not classic:
                if org.sites:
                    coverage.skip("apps_marketplace", scope, NO_CLASSIC_SKIP)
                continue
            if base == MARKETPLACE_URL and all(_loopback(s.url) for s in classic):  # never leave a test box
                coverage.skip("apps_marketplace", scope, LOOPBACK_SKIP)
                continue
            with coverage.track("apps_marketplace", scope) as stats:
                keys: set[str] = set()
                for product in UPM_CLOUD_PATHS:
                    for _, site, client, site_scope in connections.site_scopes(product):
                        if site.auth != "classic" or site_scope.org_key != org.key:
                            continue
                        keys |= {p["key"] for p in cloud_apps(client, site_scope, product, stats)
                                 if p.get("userInstalled") and p.get("key")}

                def fetch(key: str, market=market, base=base, stats=stats) -> dict:
                    if (base, key) not in listing_cache:
                        listing_cache[(base, key)] = marketplace_listing(market, key, stats)
                    return listing_cache[(base, key)]

                keys = only("apps", scope, sorted(keys), stats, hold=lambda key: {"key": key})
                rows = [scope.stamp(dict(row)) for row in fan_out(keys, fetch)]
                stats.add(rows=len(rows))
                if rows:
                    yield rows

    return [installed, marketplace]


def marketplace_listing(market: AtlassianClient, key: str, stats: RequestStats) -> dict:
    """`/rest/2/addons/{key}?withVersion=true` (the latest version embedded), else plus `/versions/latest`
    when the answer embeds none with its deployment; a 404 is the answer `listed = false`."""
    path = f"/rest/2/addons/{quote(key, safe='')}"
    try:
        addon = market.json(market.get(path, params={"withVersion": "true"}, stats=stats))
    except NotAvailable:
        return {"key": key, "listed": False}
    embedded = addon.get("_embedded") if isinstance(addon.get("_embedded"), dict) else {}
    version = embedded.pop("version", None)  # the row keeps the listing as it was read without it
    if not (isinstance(version, dict) and isinstance(version.get("deployment"), dict)):
        try:
            version = market.json(market.get(f"{path}/versions/latest", stats=stats))
        except NotAvailable:
            version = None
    return {**addon, "key": addon.get("key") or key, "listed": True, "latest_version": version}
