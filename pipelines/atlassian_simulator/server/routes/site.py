"""Site-level extras of a Cloud site: `/_edge/tenant_info` and the Universal Plugin Manager.

Mounted only at `/site/{site}` (https://<site>.atlassian.net), never behind the scoped-token
gateway: UPM declares no OAuth scope, so a scoped token cannot reach it (DIGEST §1, §6.3).

- `GET /_edge/tenant_info` is public: `{"cloudId": "..."}`.
- UPM (`/rest/plugins/1.0/` for Jira, `/wiki/rest/plugins/1.0/` for Confluence, `latest`
  accepted for `1.0`) needs a site/product administrator: 401 anonymous, 403 for a plain user.
  No OpenAPI document exists; the shapes follow DIGEST §4.4.
- Forge apps are not listed by UPM on Cloud (reported by public collectors, DIGEST §4.4/§6.3),
  and their detail answers 404: a connector learns about Forge apps from the app bot
  accounts (`accountType = app`) in Jira `users/search`, and from the org audit log.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.model import InstalledApp, Site
from atlassian_simulator.server.context import Denied, ctx, require_admin
from atlassian_simulator.server.routes.upm import context_of, upm_detail, upm_listing


async def tenant_info(request: Request):
    site = ctx(request).site
    if site is None:
        raise Denied(404, "Not found.")
    return JSONResponse({"cloudId": site.cloud_id})


def _listed(site: Site, product: str) -> list[InstalledApp]:
    apps = site.jira_apps if product == "jira" else site.confluence_apps
    return [a for a in apps if a.framework != "forge"]


def _upm(product: str):
    context = "" if product == "jira" else "/wiki"

    async def listing(request: Request):
        site = require_admin(request, "the plugin manager").site
        return upm_listing(_listed(site, product), context_of(request))

    async def detail(request: Request):
        site = require_admin(request, "the plugin manager").site
        return upm_detail(_listed(site, product), request.path_params["plugin_key"], context_of(request))

    routes = []
    for version in ("1.0", "latest"):
        base = f"{context}/rest/plugins/{version}"
        routes += [
            Route(f"{base}/", listing, methods=["GET"]),
            Route(base, listing, methods=["GET"]),
            Route(base + "/{plugin_key}-key", detail, methods=["GET"]),
        ]
    return routes


ROUTES: list[Route] = [Route("/_edge/tenant_info", tenant_info, methods=["GET"])] + _upm("jira") + _upm("confluence")
