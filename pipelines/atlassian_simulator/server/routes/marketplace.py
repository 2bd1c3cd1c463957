"""The public Atlassian Marketplace API (https://marketplace.atlassian.com), as far as app risk needs it.

No OpenAPI document of the Marketplace is vendored, so this follows Atlassian's Marketplace
REST v2 documentation as summarised in the check catalog's plugin signals (fields
`programs.cloudFortified.status`, `programs.bugBountyParticipant.cloud.status`,
`storesPersonalData`, `lastModified`, `_embedded.vendor` programmes) and the Marketplace Java
client's version model (a version knows whether it is Connect, Cloud, and its Connect
scopes). Where the exact JSON key is not documented publicly (`deployment.scopes`) that is
an inference, listed in the simulator README. No authentication: the API is public. An app
without a public listing (private or custom) answers 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.model import InstalledApp
from atlassian_simulator.server.context import Denied


def _find(request: Request) -> InstalledApp:
    key = request.path_params["addon_key"]
    for org in request.scope["state"]["sim_orgs"]:
        for site in org.sites:
            for app in site.jira_apps + site.confluence_apps:
                if app.key == key and app.listing is not None:
                    return app
    raise Denied(404, f"No add-on with key {key}")


def _status(flag: bool) -> dict:
    return {"status": "approved" if flag else "notApproved"}


def _addon(app: InstalledApp) -> dict:
    listing = app.listing
    return {
        "_links": {"self": {"href": f"/rest/2/addons/{app.key}"},
                   "vendor": {"href": f"/rest/2/vendors/{listing.vendor_id}"},
                   "versions": {"href": f"/rest/2/addons/{app.key}/versions"}},
        "_embedded": {"vendor": {"_links": {"self": {"href": f"/rest/2/vendors/{listing.vendor_id}"}},
                                 "name": app.vendor,
                                 "programs": {"topVendor": _status(listing.top_vendor)}}},
        "name": app.name,
        "key": app.key,
        "status": "public",
        "summary": f"{app.name} for Atlassian Cloud",
        "tagLine": f"{app.name} by {app.vendor}",
        "programs": {"cloudFortified": _status(listing.cloud_fortified),
                     "bugBountyParticipant": {"cloud": _status(listing.bug_bounty)}},
        "hosting": {"cloud": {"visibility": "public"}},
        "storesPersonalData": listing.stores_personal_data,
        "lastModified": listing.last_release.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def _version(app: InstalledApp) -> dict:
    listing = app.listing
    connect = app.framework == "connect"
    return {
        "_links": {"self": {"href": f"/rest/2/addons/{app.key}/versions/name/{app.version}"}},
        "name": app.version,
        "status": "public",
        "release": {"date": listing.last_release.strftime("%Y-%m-%d"), "beta": False, "supported": True},
        "deployment": {"cloud": True, "server": False, "dataCenter": False, "connect": connect,
                       "forge": not connect or listing.has_forge_version,
                       "runsOnAtlassian": listing.runs_on_atlassian,
                       "scopes": list(app.scopes)},
    }


async def addon(request: Request) -> JSONResponse:
    """`withVersion=true` embeds the latest version (`_embedded.version`), as the Marketplace's
    `AddonQuery.withVersion` does."""
    app = _find(request)
    body = _addon(app)
    if request.query_params.get("withVersion", "").lower() == "true":
        body["_embedded"]["version"] = _version(app)
    return JSONResponse(body)


async def latest_version(request: Request) -> JSONResponse:
    return JSONResponse(_version(_find(request)))


ROUTES = [
    Route("/rest/2/addons/{addon_key}", addon, methods=["GET"]),
    Route("/rest/2/addons/{addon_key}/versions/latest", latest_version, methods=["GET"]),
]
