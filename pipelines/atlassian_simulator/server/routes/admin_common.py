"""Shared helpers of the Atlassian Administration routes (`/gateway` = https://api.atlassian.com).

Resolving the caller's organization, the Admin API's timestamp formats, Atlassian resource
identifiers (ARIs), query/body parameter parsing with the Admin API's 400 bodies, and a
per-state index of group memberships. The route modules (`admin_org`, `admin_events`,
`admin_directory`, `admin_extra`) build on these; `admin.py` assembles their routes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from atlassian_simulator.model import Account, Group, Organization, Site
from atlassian_simulator.server.context import Context, require_admin
from atlassian_simulator.server.memo import per_request
from atlassian_simulator.server.paging import error_response

PRODUCT_NAMES = {
    "jira-software": "Jira Software",
    "jira-servicedesk": "Jira Service Management",
    "jira-core": "Jira Work Management",
    "confluence": "Confluence",
}
# The v1 organization API spells Jira Service Management's key with a dash more.
V1_PRODUCT_KEYS = {"jira-servicedesk": "jira-service-desk"}


# --- errors --------------------------------------------------------------------------------------


class Reply(Exception):
    """Raised anywhere in a handler to answer with `response` (an error body with its own code).

    `Denied` (context.py) answers with the default code of a status; the Admin API documents
    specific codes (`ADMIN-404-2` organization not found, `ADMIN-404-4` event not found, ...)
    and the user-management API a different body altogether (`{"key": "accountNotFound"}`).
    """

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def admin_error(status: int, title: str, code: str | None = None, detail: str | None = None) -> Reply:
    return Reply(error_response("admin", status, title, code=code, detail=detail))


def um_error(status: int, key: str) -> Reply:
    """A user-management API error body: `{"key": "accountNotFound"}`."""
    return Reply(JSONResponse({"key": key}, status))


def endpoint(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Wraps a route handler so that a raised `Reply` becomes its response."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except Reply as reply:
            return reply.response

    return wrapper


# --- caller and organization ---------------------------------------------------------------------


def org_for(request: Request, missing: int = 404) -> Context:
    """The caller's context, after checking that `{org_id}` is the caller's own organization.

    An org API key only sees its own organization. Another organization's id (or any unknown
    id) answers `missing`: 404 `ADMIN-404-2` ("Organization not found", what most operations
    document), or 403 where the spec documents only a permission error (domains).
    """
    context = require_admin(request, "this organization")
    if request.path_params.get("org_id") != context.org.org_id:
        if missing == 403:
            raise admin_error(403, "Forbidden", "ADMIN-403-3", "The API key has no permission on this organization.")
        raise admin_error(404, "Organization not found", "ADMIN-404-2")
    return context


def require_guard_code(context: Context, status: int, code: str) -> None:
    """The plan gap of Guard-only features, with the error code the operation documents.

    Same rule as `context.require_guard` (policies 404, audit events 403), but e.g. a policy
    lookup documents only `ADMIN-404-5` / `ADMIN-404-2` for its 404.
    """
    if not context.org.guard:
        raise admin_error(status, "This feature requires an Atlassian Guard subscription.", code)


def gateway_url(request: Request) -> str:
    """scheme://host plus the mount prefix: what stands for https://api.atlassian.com."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


# --- formats -------------------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    """Admin API date-time: ISO 8601 UTC with milliseconds and `Z` (`2024-01-01T00:00:00.000Z`)."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def iso_seconds(moment: datetime | None) -> str | None:
    """`yyyy-MM-dd'T'HH:mm:ss'Z'` (the last-active-dates timestamps have no fraction)."""
    return None if moment is None else f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def day(moment: datetime | None) -> str | None:
    return None if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d}"


def avatar(account: Account) -> str:
    initials = "".join(part[:1] for part in account.name.split()[:2]).upper() or "U"
    return f"https://avatar-management.services.atlassian.com/default/{initials}/{account.account_id}/48"


# --- resource identifiers ------------------------------------------------------------------------


def product_family(product_key: str) -> str:
    return "confluence" if product_key == "confluence" else "jira"


def site_ari(product_key: str, site: Site) -> str:
    """ARI of a product on a site, as role assignments, workspaces and policies name it."""
    return f"ari:cloud:{product_family(product_key)}::site/{site.cloud_id}"


def org_ari(org: Organization) -> str:
    return f"ari:cloud:platform::org/{org.org_id}"


def platform_site_ari(site: Site) -> str:
    return f"ari:cloud:platform::site/{site.cloud_id}"


def group_ari(group: Group) -> str:
    return f"ari:cloud:identity::group/{group.group_id}"


def resource_owner(ari: str) -> str:
    """`ari:cloud:jira::site/x` -> `jira`."""
    parts = ari.split(":")
    return parts[2] if len(parts) > 2 else ari


def sites_by_name(org: Organization) -> dict[str, Site]:
    return {s.name: s for s in org.sites}


# --- parameters ----------------------------------------------------------------------------------


def bad_request(message: str, code: str = "ADMIN-400-19") -> Reply:
    return admin_error(400, "Bad request", code, message)


def query_list(request: Request, name: str) -> list[str]:
    """A repeated query parameter (`a=1&a=2`), also accepting comma-separated values."""
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    return values


def query_bool(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise bad_request(f"Invalid value '{raw}' for parameter '{name}'.")


def body_list(body: Mapping[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"Invalid value for field '{name}': expected a list of strings.")
    return value


def body_bool(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise bad_request(f"Invalid value for field '{name}': expected a boolean.")


def check_list(name: str, values: list[str], max_items: int, allowed: tuple[str, ...] | None = None) -> list[str]:
    if len(values) > max_items:
        raise bad_request(f"Too many values for '{name}': at most {max_items} are allowed.")
    if allowed is not None:
        for value in values:
            if value not in allowed:
                raise bad_request(f"Invalid value '{value}' for '{name}'.")
    return values


async def json_body(request: Request, default: Any = None) -> Any:
    """The request's JSON body; `default` when empty; 400 when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return {} if default is None else default
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise bad_request("Invalid request body: not valid JSON.", "ADMIN-400-24") from exc


def epoch_ms_param(request: Request, name: str) -> int | None:
    """`from`/`to` of the events endpoints: UNIX epoch milliseconds."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"'{raw}' for parameter '{name}' is not epoch milliseconds.", "ADMIN-400-3") from None


# --- memberships index ---------------------------------------------------------------------------

_INDEX: dict[int, tuple[tuple, dict[str, list[Group]]]] = {}
_INDEX_SIZE = 8


def groups_of(org: Organization) -> dict[str, list[Group]]:
    """account id -> groups it belongs to (in `org.groups` order), rebuilt when memberships change.

    Building the reverse index costs one pass over every membership; it is cached per
    organization under a key that changes whenever time travel (or a test) edits the state, and
    that key is checked once a request (`memo.per_request`).
    """
    return per_request(("groups_of", id(org)), lambda: _groups_of(org))


def state_key(org: Organization) -> tuple:
    """Changes whenever time travel (or a test adding accounts, groups or members) edits the state."""
    return (org.org_id, org.seed, org.clock, len(org.accounts), len(org.groups),
            sum(len(m) for m in org.memberships.values()))


def _groups_of(org: Organization) -> dict[str, list[Group]]:
    key = state_key(org)
    cached = _INDEX.get(id(org))
    if cached is not None and cached[0] == key:
        return cached[1]
    index: dict[str, list[Group]] = {}
    for group in org.groups:
        for account_id in org.memberships.get(group.group_id, ()):
            index.setdefault(account_id, []).append(group)
    _INDEX.pop(id(org), None)
    while len(_INDEX) >= _INDEX_SIZE:  # bounded: test runs build many organizations
        _INDEX.pop(next(iter(_INDEX)))
    _INDEX[id(org)] = (key, index)
    return index


def directory_user(account: Account) -> bool:
    """Whether an account is a user of the org's directories (v2 API): Atlassian accounts only."""
    return account.account_type == "atlassian"


def composite_status(account: Account) -> str:
    """The v2 `status`: a composite of `accountStatus` and `membershipStatus` (see the spec)."""
    if account.account_status != "active":
        return "deactivated"
    return {"active": "active", "suspended": "suspended", "no_membership": "not_invited"}[account.membership_status]


def user_role_rows(org: Organization, account: Account) -> list[tuple[str, str, str]]:
    """(resource ARI, role id, assignment method) of every role the account holds.

    Platform roles are assigned directly (org-admin on the org, site-admin and
    user-access-admin on each site's platform resource); product roles come from the
    groups the account is in (`Group.role_assignments`).
    """
    rows = platform_role_rows(org, account)
    for group in groups_of(org).get(account.account_id, ()):
        rows.extend((ari, group_role(account.is_guest, role, ari), "group_direct")
                    for role, ari in group.role_assignments)
    return rows


def platform_role_rows(org: Organization, account: Account) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for role in account.platform_roles:
        if role in ("site-admin", "user-access-admin"):
            rows.extend((platform_site_ari(site), f"atlassian/{role}", "direct") for site in org.sites)
        else:
            rows.append((org_ari(org), f"atlassian/{role}", "direct"))
    return rows


def group_role(guest: bool, role: str, ari: str) -> str:
    """The role a group's assignment gives a member: a guest's product-user role on Confluence is
    `atlassian/guest`."""
    if guest and role == "atlassian/user" and ari.startswith("ari:cloud:confluence"):
        return "atlassian/guest"
    return role
