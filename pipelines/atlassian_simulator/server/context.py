"""Who is calling which tenant: resolved once per request from the path prefix and the credential.

The simulator serves every host of a real Atlassian estate on one port, each under a
path prefix that stands for its base URL (the rest of the path is the real API path):

    /site/{site}              https://{site}.atlassian.net        (Jira + Confluence Cloud, UPM, tenant_info)
    /gateway                  https://api.atlassian.com           (Admin APIs, user management)
    /gateway/ex/jira/{cloudId}        .../ex/jira/{cloudId}       (scoped tokens, Jira)
    /gateway/ex/confluence/{cloudId}  .../ex/confluence/{cloudId} (scoped tokens, Confluence)
    /dc/{instance}            https://jira.example.com or https://wiki.example.com (Data Center)

Authentication follows Atlassian: Basic `email:api_token` on sites (a scoped token is
refused there, 401); scoped tokens only through `/gateway/ex/...`; the org API key as
Bearer on `/gateway/admin` and `/gateway/users`; a personal access token as Bearer on
Data Center. A wrong credential is 401; no credential at all is the anonymous user.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from starlette.requests import Request

from atlassian_simulator.model import Credential, DcInstance, Organization, Site
from atlassian_simulator.server.paging import error_response


@dataclass(slots=True)
class Context:
    org: Organization
    surface: str  # site | scoped | admin | dc
    site: Site | None = None
    dc: DcInstance | None = None
    credential: Credential | None = None  # None: anonymous

    @property
    def is_admin(self) -> bool:
        return self.credential is not None and self.credential.admin

    @property
    def anonymous(self) -> bool:
        return self.credential is None


class Denied(Exception):
    """Raised by a route to answer with the product's own error body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_kind(path: str) -> str:
    """Which product's error body a path gets."""
    if "/wiki/api/v2/" in path:
        return "confluence_v2"
    if "/wiki/" in path or path.startswith("/dc/") and "/confluence/" in path:
        return "confluence"
    if path.startswith("/gateway/admin") or path.startswith("/gateway/users"):
        return "admin"
    return "jira"


def denied_response(request: Request, exc: Denied):
    return error_response(error_kind(request.url.path), exc.status, exc.message)


def ctx(request: Request) -> Context:
    return request.scope["state"]["sim_context"]


def require_admin(request: Request, what: str = "this resource") -> Context:
    """The caller must be an administrator of the product (site admin / Jira admin / org key)."""
    context = ctx(request)
    if context.anonymous:
        raise Denied(401, "Client must be authenticated to access this resource.")
    if not context.is_admin:
        raise Denied(403, f"You do not have permission to view {what}.")
    return context


def require_user(request: Request) -> Context:
    context = ctx(request)
    if context.anonymous:
        raise Denied(401, "Client must be authenticated to access this resource.")
    return context


def require_guard(request: Request, status: int = 403) -> Context:
    """Org features sold with Atlassian Guard answer 403 (events) or 404 (policies) without it."""
    context = ctx(request)
    if not context.org.guard:
        raise Denied(status, "This feature requires an Atlassian Guard subscription.")
    return context


def parse_authorization(header: str | None) -> tuple[str, str, str] | None:
    """('basic', email, token) or ('bearer', token, '') or None; raises ValueError when malformed."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError("malformed Basic credentials") from exc
        email, sep, token = decoded.partition(":")
        if not sep:
            raise ValueError("malformed Basic credentials")
        return "basic", email, token
    if scheme.lower() == "bearer":
        return "bearer", value.strip(), ""
    raise ValueError(f"unsupported authorization scheme {scheme}")


def authenticate(org: Organization, surface: str, header: str | None) -> Credential | None:
    """The credential for this surface, None for anonymous; raises Denied(401) for a bad one."""
    try:
        parsed = parse_authorization(header)
    except ValueError as exc:
        raise Denied(401, str(exc)) from exc
    if parsed is None:
        if surface == "admin":
            raise Denied(401, "Unauthorized: an API key is required.")
        return None
    kind, first, second = parsed
    accepted = {
        "site": ("basic",),
        "scoped": ("scoped",),
        "admin": ("org-key",),
        "dc": ("pat",),
    }[surface]
    for credential in org.credentials:
        if credential.kind not in accepted:
            continue
        if kind == "basic" and credential.kind in ("basic", "scoped"):
            if credential.email == first and credential.secret == second:
                return credential
        elif kind == "bearer" and credential.kind in ("org-key", "pat") and credential.secret == first:
            return credential
    raise Denied(401, "Client must be authenticated to access this resource.")
