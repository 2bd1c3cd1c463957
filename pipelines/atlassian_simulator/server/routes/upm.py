"""The Universal Plugin Manager's read endpoints, shared by Cloud sites and both Data Center products.

No OpenAPI document exists for UPM; the shapes follow DIGEST §4.4 (consistent across
public Go/Java/Groovy/Python client models): an unpaged `{"plugins": [...], "links": {...}}`
listing, and a detail object per plugin at `<prefix>/{pluginKey}-key` that adds
`enabledByDefault` and `modules[]`. Links are host-relative paths, as UPM writes them
(`/rest/plugins/1.0/...` on Jira, `/wiki/rest/plugins/1.0/...` on Confluence Cloud,
`/confluence/rest/plugins/1.0/...` on Confluence DC), after the simulator's mount prefix, so
they resolve against the host as real ones do (the Jira DC routes write them the same way).
Scopes of Connect apps are not part of UPM's answer (they live in the app's
`atlassian-connect.json` on the vendor's host).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from atlassian_simulator.generator.apps import vendor_id
from atlassian_simulator.model import InstalledApp
from atlassian_simulator.server.context import Denied

UPM = "/rest/plugins/1.0"


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum()) or "vendor"


def vendor(app: InstalledApp) -> dict:
    if app.vendor_is_atlassian:
        return {"name": "Atlassian", "marketplaceLink": "https://marketplace.atlassian.com/vendors/1",
                "link": "https://www.atlassian.com/"}
    return {"name": app.vendor, "marketplaceLink": f"https://marketplace.atlassian.com/vendors/{vendor_id(app.vendor)}",
            "link": f"https://www.{_slug(app.vendor)}.example/"}


def plugin_links(app: InstalledApp, context: str) -> dict:
    """`context` is the path before `/rest/` on this host (the product's context path, after any mount)."""
    self_link = f"{context}{UPM}/{app.key}-key"
    return {
        "self": self_link,
        "plugin-summary": f"{self_link}/summary",
        "modify": self_link,
        "plugin-icon": f"{self_link}/media/plugin-icon",
        "plugin-logo": f"{self_link}/media/plugin-logo",
        "manage": f"{context}/plugins/servlet/upm#manage/{app.key}",
    }


def listing_links(context: str) -> dict:
    return {"self": f"{context}{UPM}/", "alt": f"{context}/plugins/servlet/upm",
            "installed": f"{context}{UPM}/", "installed-marketplace": f"{context}{UPM}/installed-marketplace"}


def context_of(request: Request) -> str:
    """The request path before `/rest/plugins/`: links are paths on this host, as UPM writes them."""
    path = request.url.path
    return path[: path.find("/rest/plugins/")] if "/rest/plugins/" in path else ""


def render_plugin(app: InstalledApp, context: str) -> dict:
    return {
        "key": app.key,
        "name": app.name,
        "version": app.version,
        "description": f"{app.name} by {app.vendor}",
        "enabled": app.enabled,
        "userInstalled": app.user_installed,
        "optional": app.user_installed,  # bundled system plugins are required
        "static": False,
        "unloadable": False,
        "usesLicensing": app.user_installed and not app.vendor_is_atlassian,
        "remotable": app.framework == "connect",
        "vendor": vendor(app),
        "links": plugin_links(app, context),
    }


MODULES = {
    "connect": (("general-page", "General page"), ("lifecycle-installed", "Installed lifecycle webhook")),
    "forge": (("macro", "Macro"),),
    "p2": (("rest", "REST API"), ("web-resources", "Web resources")),
    "system": (("rest", "REST API"), ("web-resources", "Web resources")),
}


def render_plugin_detail(app: InstalledApp, context: str) -> dict:
    body = render_plugin(app, context)
    links = body.pop("links")
    body["enabledByDefault"] = True
    body["modules"] = [
        {
            "key": key,
            "completeKey": f"{app.key}:{key}",
            "name": name,
            "enabled": app.enabled,
            "optional": True,
            "recognisableType": True,
            "broken": False,
            "links": {"self": f"{context}{UPM}/{app.key}-key/modules/{key}-key"},
        }
        for key, name in MODULES.get(app.framework, MODULES["p2"])
    ]
    body["links"] = links
    return body


def upm_listing(apps: list[InstalledApp], context: str) -> JSONResponse:
    """`GET <context>/rest/plugins/1.0/`: every listed plugin, unpaged, in installation-list order."""
    return JSONResponse({
        "plugins": [render_plugin(a, context) for a in apps],
        "links": listing_links(context),
    })


def upm_detail(apps: list[InstalledApp], key: str, context: str) -> JSONResponse:
    app = next((a for a in apps if a.key == key), None)
    if app is None:
        raise Denied(404, f"Plugin with key '{key}' not found.")
    return JSONResponse(render_plugin_detail(app, context))


def upm_marketplace(apps: list[InstalledApp], context: str) -> JSONResponse:
    """`GET <context>/rest/plugins/1.0/installed-marketplace[?updates=true]`: the user-installed apps,
    each with `updateAvailable` (the same reading the Jira DC routes take of `updates=true`)."""
    chosen = [a for a in apps if a.user_installed]
    return JSONResponse({
        "plugins": [{**render_plugin(a, context), "updateAvailable": a.update_available} for a in chosen],
        "links": listing_links(context),
    })
