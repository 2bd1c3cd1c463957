"""The ASGI application: tenant resolution and auth, faults, the request log, and the routes.

Layers, outermost first: `RequestLogMiddleware` (records everything, faulted requests
included) -> `FaultMiddleware` (rate limits and injected failures) -> `TenantMiddleware`
(which organization, site or DC instance; which credential) -> the Starlette router.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from fnmatch import fnmatchcase

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount

from atlassian_simulator.server.context import Context, Denied, authenticate, denied_response, error_kind
from atlassian_simulator.server.control import ControlDispatch, build_control
from atlassian_simulator.server.faults import FaultMiddleware
from atlassian_simulator.server.log import RequestLogMiddleware
from atlassian_simulator.server.memo import request_scope
from atlassian_simulator.server.paging import error_response
from atlassian_simulator.server.routes import admin, confluence, dc_confluence, dc_jira, jira, marketplace, site


def require_product(site, product: str | None) -> None:
    """A site answers 404 under the paths of a product it does not run (a Jira-only site has no /wiki).
    What Atlassian's edge answers exactly there is not documented: 404 is the plausible reading."""
    if product is not None and product not in site.products:
        raise Denied(404, f"{product.title()} is not available on this site.")


class TenantMiddleware:
    """Resolves `Context` from the path prefix and the Authorization header (see context.py)."""

    def __init__(self, app, sim):
        self.app = app
        self.sim = sim

    def resolve(self, path: str, headers: dict[bytes, bytes]) -> Context:
        parts = path.split("/")
        auth = headers.get(b"authorization", b"").decode("latin-1") or None
        orgs = self.sim.orgs
        if len(parts) > 2 and parts[1] == "site":
            for org in orgs:
                for s in org.sites:
                    if s.name == parts[2]:
                        require_product(s, "confluence" if len(parts) > 3 and parts[3] == "wiki" else
                                        "jira" if len(parts) > 3 and parts[3] == "rest" else None)
                        return Context(org, "site", site=s, credential=authenticate(org, "site", auth))
        elif len(parts) > 1 and parts[1] == "gateway":
            if len(parts) > 4 and parts[2] == "ex" and parts[3] in ("jira", "confluence"):
                for org in orgs:
                    for s in org.sites:
                        if s.cloud_id == parts[4]:
                            require_product(s, parts[3])
                            return Context(org, "scoped", site=s, credential=authenticate(org, "scoped", auth))
                raise Denied(404, "Site not found.")
            # api.atlassian.com is shared by every organization: the key says whose
            failure: Denied | None = None
            for org in orgs:
                try:
                    return Context(org, "admin", credential=authenticate(org, "admin", auth))
                except Denied as exc:
                    failure = exc
            raise failure or Denied(401, "Unauthorized")
        elif len(parts) > 1 and parts[1] == "marketplace":  # public: no credential, every org's apps
            return Context(orgs[0], "marketplace")
        elif len(parts) > 2 and parts[1] == "dc":
            for org in orgs:
                for instance in org.dc:
                    if instance.name == parts[2]:
                        return Context(org, "dc", dc=instance, credential=authenticate(org, "dc", auth))
        raise Denied(404, "Not found.")

    def clock_of(self, scope) -> datetime:
        """The simulated clock of the organization a request is for (every answer's `Date`); the first
        organization's when the request names none (a bad credential, an unknown host)."""
        try:
            return self.resolve(scope["path"], dict(scope["headers"])).org.clock
        except Denied:
            return self.sim.orgs[0].clock

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})
        try:
            context = self.resolve(scope["path"], dict(scope["headers"]))
        except Denied as exc:
            state["credential_label"] = "invalid" if exc.status == 401 else "anonymous"
            response = error_response(error_kind(scope["path"]), exc.status, exc.message)
            return await response(scope, receive, send)
        refused = context.credential.refused if context.credential else ()
        if refused:  # partial rights (`Simulator.restrict`): this user may not see these items
            target = scope["path"] + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            if any(fnmatchcase(target, pattern) for pattern in refused):
                state["credential_label"] = context.credential.label
                response = error_response(error_kind(scope["path"]), 403,
                                          "You do not have permission to view this resource.")
                return await response(scope, receive, send)
        state["sim_context"] = context
        state["sim_orgs"] = self.sim.orgs
        state["credential_label"] = context.credential.label if context.credential else "anonymous"
        date = format_datetime(context.org.clock, usegmt=True).encode()

        async def send_with_date(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [(k, v) for k, v in message["headers"] if k.lower() != b"date"]
                message["headers"].append((b"date", date))
            await send(message)

        with request_scope():
            await self.app(scope, receive, send_with_date)


def build_app(sim) -> object:
    """The whole simulated estate as one ASGI app (`sim` is a `Simulator`)."""

    async def on_denied(request: Request, exc: Denied):
        return denied_response(request, exc)

    router = Starlette(
        routes=[
            Mount("/site/{site}", routes=jira.ROUTES + confluence.ROUTES + site.ROUTES),
            Mount("/gateway/ex/jira/{cloud_id}", routes=jira.ROUTES),
            Mount("/gateway/ex/confluence/{cloud_id}", routes=confluence.ROUTES),
            Mount("/gateway", routes=admin.ROUTES),
            Mount("/dc/{instance}", routes=dc_jira.ROUTES + dc_confluence.ROUTES),
            Mount("/marketplace", routes=marketplace.ROUTES),
        ],
        exception_handlers={Denied: on_denied},
    )
    tenant = TenantMiddleware(router, sim)
    faults = FaultMiddleware(tenant, sim.faults, sim.request_log, date_of=tenant.clock_of)
    return ControlDispatch(RequestLogMiddleware(faults, sim.request_log), build_control(sim))
