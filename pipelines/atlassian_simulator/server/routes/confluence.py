"""Confluence Cloud: the v1 (`/wiki/rest/api/...`) and v2 (`/wiki/api/v2/...`) read endpoints.

Mounted at `/site/{site}` (https://<site>.atlassian.net, classic token) and at
`/gateway/ex/confluence/{cloudId}` (scoped token); the paths are the real ones. State:
`ctx(request).site.confluence` plus the organization's accounts, groups and memberships
(Confluence's users are the org accounts with Confluence access on the site; guests carry
`isGuest`). Shapes follow the C1/C2 OpenAPI documents; see the module-level notes on each
endpoint for what the specs leave open.

Who sees what:
- every endpoint needs a credential (401 without one), except the v2 space endpoints on
  a site whose anonymous access is on: the anonymous caller then sees the spaces with an
  `anonymous-users` role assignment, and nothing else;
- the v2 space endpoints only return spaces the caller can view (an admin who lacks view
  permission on a space does not see it either, as on Confluence);
- the audit log needs a Confluence administrator (403 otherwise) and a paid plan (403 on Free).

Shapes of the same fact (README "Shapes of the same fact"): a space's access-class grants (anonymous,
unlicensed, all licensed users) are disclosed by the read its `shape` names (v2 permissions with a `role`
principal, ACCESS_CLASS role assignments, or the legacy v1 `anonymousAccess`/`unlicensedAccess` flags; `all`:
every one). `/space-role-mode` answers the site's `role_mode` (404 when None); role assignments and space
roles answer 404 unless the mode is ROLES or ROLES_TRANSITION; the v1 space list answers 404 when
`legacy_api` is off. Who may view a space follows the grants, never the shape.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.generator.common import stable_hash
from atlassian_simulator.lazy import Reversed, from_ms
from atlassian_simulator.model import Account, Group, Organization, Site, Space, SpaceRole
from atlassian_simulator.server.context import Context, Denied, ctx, require_admin, require_user
from atlassian_simulator.server.paging import confluence_v1, confluence_v2, encode_cursor, wiki_base_url
from atlassian_simulator.server.routes.confluence_common import (
    Matching,
    accounts_by_id,
    augment,
    bool_param,
    epoch_ms,
    iso_z,
    multi_param,
    parse_epoch_ms,
)
from atlassian_simulator.server.routes.jira_index import org_index

# Page sizes: (default, cap). C1 documents the defaults and only says the limit "may be
# restricted by fixed system limits" (the caps are not published: 1000 is assumed);
# C2 documents default 25 and maximum 250 for every list used here.
GROUPS = (200, 1000)
MEMBERS = (200, 1000)
MEMBER_OF = (200, 1000)
USER_SEARCH = (25, 1000)
USER_SEARCH_MAX_RESULTS = 10_000  # C1: "cql=type=user will return up to 10k users"
AUDIT = (1000, 1000)
V2 = (25, 250)
BULK_USERS_V1 = 100  # C1: "returns a maximum of 100 results"
BULK_USERS_V2 = 250  # C2: accountIds maxItems 250

ACCESS_CLASSES = ("anonymous-users", "authenticated-users", "all-licensed-users")
SPACE_TYPES = ("global", "collaboration", "knowledge_base", "personal", "system", "onboarding", "xflow_sample_space")
SPACE_STATUSES = ("current", "archived")
SPACE_SORTS = ("id", "-id", "key", "-key", "name", "-name")
PRINCIPAL_TYPES = ("USER", "GROUP", "ACCESS_CLASS")


# --- who is calling ------------------------------------------------------------------------------


@dataclass(slots=True)
class Viewer:
    """What decides space visibility: the account, its groups, whether it holds a Confluence licence."""

    account_id: str | None  # None: anonymous
    group_ids: frozenset[str]
    licensed: bool


def site_of(request: Request) -> tuple[Context, Site]:
    context = ctx(request)
    if context.site is None:
        raise Denied(404, "Not found.")
    return context, context.site


def licensed(account: Account | None, site: Site) -> bool:
    return account is not None and any(
        p.product_key == "confluence" and p.site_name == site.name for p in account.product_access
    )


def viewer_of(context: Context, site: Site) -> Viewer:
    """The caller as a space viewer; 401 for an anonymous caller when the site refuses anonymous access."""
    if context.anonymous:
        if not site.confluence.anonymous_access:
            raise Denied(401, "This site does not allow anonymous access. Log in to continue.")
        return Viewer(None, frozenset(), False)
    account_id = context.credential.account_id
    account = accounts_by_id(context.org).get(account_id) if account_id else None
    groups = org_index(context.org).groups_of(account_id)
    return Viewer(account_id, groups, licensed(account, site))


def can_view(space: Space, viewer: Viewer, site: Site) -> bool:
    """Does `viewer` hold the read/space permission on `space`, directly, by group or by access class?"""
    if viewer.account_id is None:
        return site.confluence.anonymous_access and any(
            r.principal_type == "ACCESS_CLASS" and r.principal_id == "anonymous-users" for r in space.role_assignments
        )
    for p in space.permissions:
        if p.operation != "read" or p.target_type != "space":
            continue
        if p.principal_type == "user" and p.principal_id == viewer.account_id:
            return True
        if p.principal_type == "group" and p.principal_id in viewer.group_ids:
            return True
        if p.principal_type == "role":
            if p.principal_id == "authenticated-users":
                return True
            if p.principal_id == "all-licensed-users" and viewer.licensed:
                return True
            if p.principal_id == "anonymous-users" and site.confluence.anonymous_access:
                return True
    return False


def visible_space(request: Request, space_id: str) -> tuple[Context, Site, Space, Viewer]:
    """The space with this id if the caller can view it; 404 otherwise (as Confluence answers)."""
    context, site = site_of(request)
    viewer = viewer_of(context, site)
    if not space_id.isdigit():
        raise Denied(400, f"Invalid value '{space_id}' for path parameter 'id'.")
    space = next((s for s in site.confluence.spaces if s.space_id == space_id), None)
    if space is None or not can_view(space, viewer, site):
        raise Denied(404, "No space found with the given id.")
    return context, site, space, viewer


# --- renderers: v1 -------------------------------------------------------------------------------


def avatar_path(account_id: str) -> str:
    return f"/wiki/aa-avatar/{account_id}"


def render_user_v1(account: Account, base: str) -> dict:
    """C1 `User` (type known). A closed account is shown as "Former user" without an e-mail."""
    closed = account.account_status == "closed"
    name = "Former user" if closed else account.name
    return {
        "type": "known",
        "accountId": account.account_id,
        "accountType": account.account_type if account.account_type in ("atlassian", "app") else "",
        "email": None if closed else account.email,
        "publicName": name if closed else (account.nickname or account.name),
        "profilePicture": {"path": avatar_path(account.account_id), "width": 48, "height": 48, "isDefault": False},
        "displayName": name,
        "timeZone": account.timezone,
        "externalCollaborator": account.is_guest,
        "isExternalCollaborator": account.is_guest,
        "isGuest": account.is_guest,
        "_expandable": {"operations": "", "personalSpace": ""},
        "_links": {"self": f"{base}/rest/api/user?accountId={account.account_id}"},
    }


def render_bulk_user_v1(account: Account, base: str) -> dict:
    """C1 `BulkUserLookup`: like `User`, but `email` is a string (empty when hidden or absent)."""
    user = render_user_v1(account, base)
    user["email"] = user["email"] or ""
    return user


def render_group_v1(group: Group, base: str) -> dict:
    return {
        "type": "group",
        "name": group.name,
        "id": group.group_id,
        "usageType": "USERBASE_GROUP",
        "managedBy": "EXTERNAL" if group.external_synced else "ADMINS",
        "_links": {"self": f"{base}/rest/api/group/by-id?id={group.group_id}"},
    }


def render_audit_v1(org: Organization):
    accounts = accounts_by_id(org)

    def render(event) -> dict:
        f = event.fields
        who = accounts.get(event.actor_id) if event.actor_id else None
        author = {
            "type": "user",
            "displayName": who.name if who else "Unknown user",
            "operations": None,
            "accountId": event.actor_id or "",
            "accountType": (who.account_type if who and who.account_type in ("atlassian", "app") else ""),
            "externalCollaborator": bool(who and who.is_guest),
            "isExternalCollaborator": bool(who and who.is_guest),
            "isGuest": bool(who and who.is_guest),
            "publicName": (who.nickname or who.name) if who else "Unknown user",
        }
        return {
            "author": author,
            "remoteAddress": f.get("remoteAddress", ""),
            "creationDate": epoch_ms(event.time),
            "summary": event.action,
            "description": f.get("description", ""),
            "category": f.get("category", ""),
            "sysAdmin": bool(f.get("sysAdmin", False)),
            "superAdmin": bool(f.get("superAdmin", False)),
            "affectedObject": dict(f.get("affectedObject") or {"name": "", "objectType": ""}),
            "changedValues": [dict(c) for c in f.get("changedValues", [])],
            "associatedObjects": [dict(o) for o in f.get("associatedObjects", [])],
        }

    return render


# --- renderers: v2 -------------------------------------------------------------------------------


def render_space_v2(request: Request, space: Space) -> dict:
    body = {
        "id": space.space_id,
        "key": space.key,
        "name": space.name,
        "type": space.space_type,
        "status": space.status,
        "authorId": space.author_account_id,
        "createdAt": iso_z(space.created_at),
        "homepageId": space.homepage_id,
        "currentActiveAlias": space.key,
    }
    fmt = request.query_params.get("description-format")
    if fmt:
        if fmt not in ("plain", "view"):
            raise Denied(400, f"Invalid value '{fmt}' for parameter 'description-format'.")
        value = space.name if fmt == "plain" else f"<p>{space.name}</p>"
        body["description"] = {fmt: {"representation": fmt, "value": value}}
    if bool_param(request, "include-icon"):
        icon = {"path": f"/wiki/download/attachments/{space.homepage_id}/{space.key}-icon.png"}
        if space.space_type != "personal":
            icon["apiDownloadLink"] = f"/wiki/rest/api/space/{space.key}/icon"
        body["icon"] = icon
    body["_links"] = {"webui": f"/spaces/{space.key}"}
    return body


def render_permission_v2(permission) -> dict:
    return {
        "id": permission.permission_id,
        "principal": {"type": permission.principal_type, "id": permission.principal_id},
        "operation": {"key": permission.operation, "targetType": permission.target_type},
    }


def render_role_assignment(assignment) -> dict:
    return {
        "principal": {"principalType": assignment.principal_type, "principalId": assignment.principal_id},
        "roleId": assignment.role_id,
    }


def permission_id(operation: str, target: str) -> str:
    """The id of a space permission in the catalogue (`/space-permissions`) and in roles' `spacePermissions`."""
    return f"{operation}/{target}"


def render_space_role(role: SpaceRole) -> dict:
    return {
        "id": role.role_id,
        "type": role.role_type,
        "name": role.name,
        "description": role.description,
        "spacePermissions": [permission_id(op, target) for op, target in role.permissions],
    }


PERMISSION_NAMES = {
    "read": "View", "create": "Add", "delete": "Delete", "administer": "Administer", "export": "Export",
    "restrict_content": "Add or delete restrictions on", "archive": "Archive", "update": "Edit",
}


def space_permission_catalogue(site: Site) -> list[dict]:
    """Every permission the site's roles are made of, in first-seen order (read/space first)."""
    seen: list[tuple[str, str]] = []
    for role in site.confluence.space_roles:
        for pair in role.permissions:
            if pair not in seen:
                seen.append(pair)
    base = permission_id("read", "space")
    out = []
    for operation, target in seen:
        pid = permission_id(operation, target)
        out.append({
            "id": pid,
            "displayName": f"{PERMISSION_NAMES.get(operation, operation.title())} {target}",
            "description": f"Allows to {operation.replace('_', ' ')} {target} in the space.",
            "requiredPermissionIds": [] if pid == base else [base],
        })
    return out


def render_user_v2(account: Account, site: Site) -> dict:
    closed = account.account_status == "closed"
    name = "Former user" if closed else account.name
    body = {
        "accountId": account.account_id,
        "accountType": account.account_type if account.account_type in ("atlassian", "app", "customer") else "unknown",
        "accountStatus": account.account_status if account.account_status in ("active", "inactive", "closed")
        else "unknown",
        "displayName": name,
        "publicName": name if closed else (account.nickname or account.name),
        "email": "" if closed else (account.email or ""),
        "timeZone": account.timezone,
        "isExternalCollaborator": account.is_guest,
        "profilePicture": {"path": avatar_path(account.account_id), "isDefault": False},
    }
    personal = next(
        (s for s in site.confluence.spaces if s.space_type == "personal" and s.author_account_id == account.account_id),
        None,
    )
    if personal is not None:
        body["personalSpaceId"] = personal.space_id
    return body


# --- v1 handlers ---------------------------------------------------------------------------------


def _group_filter(site: Site, access_type: str | None):
    jira_ari = f"ari:cloud:jira::site/{site.cloud_id}"
    conf_ari = f"ari:cloud:confluence::site/{site.cloud_id}"
    if access_type is None or access_type == "":
        return lambda g: True
    if access_type == "user":
        return lambda g: ("atlassian/user", conf_ari) in g.role_assignments
    if access_type == "admin":
        return lambda g: ("atlassian/admin", conf_ari) in g.role_assignments
    if access_type == "site-admin":
        return lambda g: ("atlassian/admin", conf_ari) in g.role_assignments and (
            "atlassian/admin", jira_ari) in g.role_assignments
    raise Denied(400, f"Invalid value '{access_type}' for parameter 'accessType'.")


async def groups(request: Request):
    """GET /wiki/rest/api/group: every group of the org, sorted by name; `accessType` filter."""
    context = require_user(request)
    _, site = site_of(request)
    keep = _group_filter(site, request.query_params.get("accessType"))
    items = sorted((g for g in context.org.groups if keep(g)), key=lambda g: (g.name.lower(), g.group_id))
    base = wiki_base_url(request)
    return confluence_v1(request, items, lambda g: render_group_v1(g, base), *GROUPS)


def _group_by_id(org: Organization, group_id: str | None) -> Group:
    if not group_id:
        raise Denied(400, "The 'id' parameter is required.")
    group = next((g for g in org.groups if g.group_id == group_id), None)
    if group is None:
        raise Denied(404, f"No group found with id {group_id}")
    return group


async def group_by_id(request: Request):
    """GET /wiki/rest/api/group/by-id?id="""
    context = require_user(request)
    group = _group_by_id(context.org, request.query_params.get("id"))
    return JSONResponse(render_group_v1(group, wiki_base_url(request)))


async def group_members(request: Request):
    """GET /wiki/rest/api/group/{groupId}/membersByGroupId: members in membership order."""
    context = require_user(request)
    group = _group_by_id(context.org, request.path_params["groupId"])
    accounts = accounts_by_id(context.org)
    items = [accounts[a] for a in context.org.memberships.get(group.group_id, []) if a in accounts]
    base = wiki_base_url(request)
    return confluence_v1(request, items, lambda a: render_user_v1(a, base), *MEMBERS)


def _account(org: Organization, account_id: str | None) -> Account:
    if not account_id:
        raise Denied(400, "The 'accountId' parameter is required.")
    account = accounts_by_id(org).get(account_id)
    if account is None:
        raise Denied(404, f"No user found with accountId {account_id}")
    return account


async def user(request: Request):
    """GET /wiki/rest/api/user?accountId="""
    context = require_user(request)
    account = _account(context.org, request.query_params.get("accountId"))
    return JSONResponse(render_user_v1(account, wiki_base_url(request)))


async def user_member_of(request: Request):
    """GET /wiki/rest/api/user/memberof?accountId=: the user's groups, sorted by name."""
    context = require_user(request)
    account = _account(context.org, request.query_params.get("accountId"))
    items = sorted(
        (g for g in context.org.groups if account.account_id in context.org.memberships.get(g.group_id, ())),
        key=lambda g: (g.name.lower(), g.group_id),
    )
    base = wiki_base_url(request)
    return confluence_v1(request, items, lambda g: render_group_v1(g, base), *MEMBER_OF)


async def user_bulk(request: Request):
    """GET /wiki/rest/api/user/bulk?accountId=a,b: at most the first 100 ids; unknown ids are skipped."""
    context = require_user(request)
    ids = multi_param(request, "accountId")
    if not ids:
        raise Denied(400, "The 'accountId' parameter is required.")
    accounts = accounts_by_id(context.org)
    found = [accounts[i] for i in ids[:BULK_USERS_V1] if i in accounts]
    base = wiki_base_url(request)
    return JSONResponse({
        "results": [render_bulk_user_v1(a, base) for a in found],
        "start": 0,
        "limit": BULK_USERS_V1,
        "size": len(found),
        "_links": {"base": base, "context": "/wiki", "self": str(request.url)},
    })


def _cql_users(cql: str, org: Organization, site: Site, type_filter: str) -> list[Account]:
    """The users a `type=user` CQL (optionally `AND user.accountid="..."`) selects."""
    clauses = [c.strip() for c in cql.replace(" and ", " AND ").split(" AND ") if c.strip()]
    wanted_ids: set[str] | None = None
    saw_type = False
    for clause in clauses:
        field, sep, value = clause.partition("=")
        field, value = field.strip().lower(), value.strip().strip('"').strip("'")
        if not sep:
            raise Denied(400, f"Could not parse cql : {cql}")
        if field == "type" and value.lower() == "user":
            saw_type = True
        elif field in ("user", "user.accountid"):
            wanted_ids = {value} if wanted_ids is None else wanted_ids & {value}
        else:
            raise Denied(400, f"CQL field '{field}' is not supported by user search: {cql}")
    if not saw_type and wanted_ids is None:
        raise Denied(400, f"Could not parse cql : {cql}")
    out = []
    for account in org.accounts:
        if account.account_type != "atlassian" or not licensed(account, site):
            continue
        if type_filter == "none" and account.is_guest:
            continue
        if type_filter == "externalCollaborator" and not account.is_guest:
            continue
        if wanted_ids is not None and account.account_id not in wanted_ids:
            continue
        out.append(account)
    return out[:USER_SEARCH_MAX_RESULTS]


async def search_user(request: Request):
    """GET /wiki/rest/api/search/user?cql=type=user: licensed users (`sitePermissionTypeFilter`), max 10k."""
    context = require_user(request)
    _, site = site_of(request)
    cql = request.query_params.get("cql")
    if not cql:
        raise Denied(400, "The 'cql' parameter is required.")
    type_filter = request.query_params.get("sitePermissionTypeFilter") or "none"
    if type_filter not in ("all", "externalCollaborator", "none"):
        raise Denied(400, f"Invalid value '{type_filter}' for parameter 'sitePermissionTypeFilter'.")
    items = _cql_users(cql, context.org, site, type_filter)
    base = wiki_base_url(request)

    def render(account: Account) -> dict:
        return {
            "user": render_user_v1(account, base),
            "title": account.name,
            "excerpt": "",
            "url": f"/people/{account.account_id}",
            "breadcrumbs": [],
            "entityType": "user",
            "iconCssClass": "aui-icon content-type-profile",
            "lastModified": iso_z(account.added_to_org),
            "score": 0.0,
        }

    response = confluence_v1(request, items, render, *USER_SEARCH)
    duration = 20 + stable_hash(site.name, cql, type_filter) % 80  # deterministic, not the wall clock
    return augment(response, before="_links", totalSize=len(items), cqlQuery=cql, searchDuration=duration)


def require_paid_audit(request: Request) -> tuple[Context, Site]:
    context = require_admin(request, "the audit log")
    _, site = site_of(request)
    if site.plan == "free":
        raise Denied(403, "The audit log is not available on the Confluence Free plan.")
    return context, site


async def audit(request: Request):
    """GET /wiki/rest/api/audit: newest first; `startDate`/`endDate` epoch ms, `searchString`; no record id."""
    context, site = require_paid_audit(request)
    since = parse_epoch_ms(request.query_params.get("startDate"), "startDate")
    until = parse_epoch_ms(request.query_params.get("endDate"), "endDate")
    log = site.confluence.audit
    render = render_audit_v1(context.org)
    if log is None or (since and until and since > until):
        items: Sequence = []
    else:
        items = Reversed(log.window(context.org.clock, since, until))
    needle = request.query_params.get("searchString")
    if needle:
        items = Matching(items, needle, render)
    return confluence_v1(request, items, render, *AUDIT)


async def audit_retention(request: Request):
    """GET /wiki/rest/api/audit/retention: how far back the simulated log reaches, in days."""
    context, site = require_paid_audit(request)
    log = site.confluence.audit
    span = context.org.clock - from_ms(log.start_ms) if log is not None else timedelta(days=180)
    return JSONResponse({"number": max(1, round(span / timedelta(days=1))), "units": "DAYS"})


async def system_info(request: Request):
    """GET /wiki/rest/api/settings/systemInfo."""
    require_user(request)
    _, site = site_of(request)
    base = wiki_base_url(request)
    return JSONResponse({
        "cloudId": site.cloud_id,
        "commitHash": hashlib.sha1(f"confluence-cloud:{site.cloud_id}".encode()).hexdigest(),
        "baseUrl": base,
        "fallbackBaseUrl": base,
        "edition": site.plan,
        "siteTitle": "Confluence",
        "defaultLocale": "en_US",
        "defaultTimeZone": "Etc/UTC",
        "microsPerimeter": "commercial",
    })


# --- v2 handlers ---------------------------------------------------------------------------------


async def spaces(request: Request):
    """GET /wiki/api/v2/spaces: spaces the caller can view, by id ascending; filters ids/keys/type/status."""
    context, site = site_of(request)
    viewer = viewer_of(context, site)
    ids = multi_param(request, "ids")
    if any(not i.isdigit() for i in ids):
        raise Denied(400, "Invalid value for parameter 'ids': space ids are integers.")
    keys = multi_param(request, "keys")
    if len(ids) > 250 or len(keys) > 250:
        raise Denied(400, "At most 250 ids or keys can be given.")
    space_type = request.query_params.get("type")
    if space_type and space_type not in SPACE_TYPES:
        raise Denied(400, f"Invalid value '{space_type}' for parameter 'type'.")
    status = request.query_params.get("status")
    if status and status not in SPACE_STATUSES:
        raise Denied(400, f"Invalid value '{status}' for parameter 'status'.")
    sort = request.query_params.get("sort") or "id"
    if sort not in SPACE_SORTS:
        raise Denied(400, f"Invalid value '{sort}' for parameter 'sort'.")
    labels = multi_param(request, "labels")
    items = [
        s for s in site.confluence.spaces
        if (not ids or s.space_id in ids) and (not keys or s.key in keys)
        and (not space_type or s.space_type == space_type) and (not status or s.status == status)
        and not labels  # the simulated spaces carry no labels
        and can_view(s, viewer, site)
    ]
    field = sort.lstrip("-")
    sort_key = {"id": lambda s: int(s.space_id), "key": lambda s: s.key, "name": lambda s: (s.name, int(s.space_id))}
    items.sort(key=sort_key[field], reverse=sort.startswith("-"))
    return confluence_v2(request, items, lambda s: render_space_v2(request, s), *V2)


def _optional_field(items: list, render, self_link: str) -> dict:
    """C2 optional-field block: the first 50 results, `meta` (hasMore, cursor) and a link to the full list."""
    page = items[:50]
    meta: dict = {"hasMore": len(items) > 50}
    if meta["hasMore"]:
        meta["cursor"] = encode_cursor({"o": 50})
    return {"results": [render(i) for i in page], "meta": meta, "_links": {"self": self_link}}


async def space(request: Request):
    """GET /wiki/api/v2/spaces/{id}: one space the caller can view (404 otherwise)."""
    _, _, space_, _ = visible_space(request, request.path_params["id"])
    body = render_space_v2(request, space_)
    links = body.pop("_links")
    if bool_param(request, "include-permissions"):
        body["permissions"] = _optional_field(disclosed(space_, "v2"), render_permission_v2,
                                              f"/wiki/api/v2/spaces/{space_.space_id}/permissions")
    for flag, name in (("include-labels", "labels"), ("include-properties", "properties"),
                       ("include-operations", "operations")):
        if bool_param(request, flag):
            body[name] = {"results": [], "meta": {"hasMore": False}}
    body["_links"] = {**links, "base": wiki_base_url(request)}
    return JSONResponse(body)


def disclosed(space_: Space, shape: str, principal_id: str | None = None) -> list:
    """The space's v2 permissions this read shows: access-class rows only where the space's shape says so."""
    shown = space_.shape in ("all", shape)
    return [p for p in space_.permissions
            if shown or not (p.principal_type == "role" and p.principal_id in ACCESS_CLASSES)]


def require_roles_mode(site: Site) -> None:
    """Role assignments and space roles exist on sites in (or moving to) space-roles mode only."""
    if site.confluence.role_mode not in ("ROLES", "ROLES_TRANSITION"):
        raise Denied(404, "Space roles are not enabled on this site.")


async def space_permissions(request: Request):
    """GET /wiki/api/v2/spaces/{id}/permissions."""
    _, _, space_, _ = visible_space(request, request.path_params["id"])
    return confluence_v2(request, disclosed(space_, "v2"), render_permission_v2, *V2)


def _principal_filter(request: Request) -> tuple[str | None, str | None]:
    principal_type = request.query_params.get("principal-type") or None
    principal_id = request.query_params.get("principal-id") or None
    if (principal_type is None) != (principal_id is None):
        raise Denied(400, "'principal-type' and 'principal-id' must be given together.")
    if principal_type is not None and principal_type not in PRINCIPAL_TYPES:
        raise Denied(400, f"Invalid value '{principal_type}' for parameter 'principal-type'.")
    return principal_type, principal_id


async def space_role_assignments(request: Request):
    """GET /wiki/api/v2/spaces/{id}/role-assignments: filters role-id, role-type, principal-type+principal-id."""
    _, site, space_, _ = visible_space(request, request.path_params["id"])
    require_roles_mode(site)
    principal_type, principal_id = _principal_filter(request)
    role_id = request.query_params.get("role-id") or None
    hide_classes = space_.shape not in ("all", "rbac")
    role_type = request.query_params.get("role-type") or None
    role_types = {r.role_id: r.role_type for r in site.confluence.space_roles}
    items = [
        a for a in space_.role_assignments
        if not (hide_classes and a.principal_type == "ACCESS_CLASS")
        and (principal_type is None or (a.principal_type == principal_type and a.principal_id == principal_id))
        and (role_id is None or a.role_id == role_id)
        and (role_type is None or role_types.get(a.role_id) == role_type)
    ]
    return confluence_v2(request, items, render_role_assignment, *V2)


async def space_roles(request: Request):
    """GET /wiki/api/v2/space-roles: the role catalogue; filters space-id, role-type, principal."""
    context, site = site_of(request)
    viewer = viewer_of(context, site)
    require_roles_mode(site)
    principal_type, principal_id = _principal_filter(request)
    role_type = request.query_params.get("role-type") or None
    space_id = request.query_params.get("space-id") or None
    scope = site.confluence.spaces
    if space_id is not None:
        _, _, one, _ = visible_space(request, space_id)
        scope = [one]
    items = []
    for role in site.confluence.space_roles:
        if role_type is not None and role.role_type != role_type:
            continue
        if principal_type is not None and not any(
            a.role_id == role.role_id and a.principal_type == principal_type and a.principal_id == principal_id
            for s in scope if can_view(s, viewer, site) for a in s.role_assignments
        ):
            continue
        items.append(role)
    return confluence_v2(request, items, render_space_role, *V2)


async def space_role(request: Request):
    """GET /wiki/api/v2/space-roles/{id}."""
    context, site = site_of(request)
    viewer_of(context, site)
    require_roles_mode(site)
    role = next((r for r in site.confluence.space_roles if r.role_id == request.path_params["id"]), None)
    if role is None:
        raise Denied(404, "No space role found with the given id.")
    return JSONResponse({**render_space_role(role), "_links": {"base": wiki_base_url(request)}})


async def space_permission_catalogue_route(request: Request):
    """GET /wiki/api/v2/space-permissions: the permissions roles are built from."""
    context, site = site_of(request)
    viewer_of(context, site)
    return confluence_v2(request, space_permission_catalogue(site), lambda p: p, *V2)


async def space_role_mode(request: Request):
    """GET /wiki/api/v2/space-role-mode: the site's mode; 404 on a site without the endpoint (role_mode None)."""
    context, site = site_of(request)
    viewer_of(context, site)
    if site.confluence.role_mode is None:
        raise Denied(404, "No route.")
    return JSONResponse({"mode": site.confluence.role_mode})


def render_space_legacy(space_: Space) -> dict:
    """A v1 space with `permissions` (expand=permissions): per operation, its group and user subjects; the
    anonymous and unlicensed grants as entries of their own flagged `anonymousAccess` / `unlicensedAccess`
    (shown only where the space's shape is `legacy` or `all`). all-licensed-users has no v1 spelling."""
    subjects: dict[tuple[str, str], dict[str, list]] = {}
    flagged: list[tuple[str, str, str]] = []
    show_classes = space_.shape in ("all", "legacy")
    for p in space_.permissions:
        op = (p.operation, p.target_type)
        if p.principal_type in ("user", "group"):
            entry = subjects.setdefault(op, {"user": [], "group": []})
            entry[p.principal_type].append(
                {"type": "known", "accountId": p.principal_id} if p.principal_type == "user"
                else {"type": "group", "id": p.principal_id, "name": p.principal_id})
        elif show_classes and p.principal_id == "anonymous-users":
            flagged.append((*op, "anonymousAccess"))
        elif show_classes and p.principal_id == "authenticated-users":
            flagged.append((*op, "unlicensedAccess"))
    permissions = []

    def entry_of(n: int, operation: str, target: str) -> dict:
        return {"id": int(space_.space_id) * 1000 + n, "operation": {"operation": operation, "targetType": target}}

    for n, ((operation, target), entry) in enumerate(subjects.items()):
        permissions.append({**entry_of(n, operation, target), "anonymousAccess": False, "unlicensedAccess": False,
                            "subjects": {kind: {"results": items, "size": len(items)}
                                         for kind, items in entry.items() if items}})
    for n, (operation, target, flag) in enumerate(flagged, start=len(permissions)):
        permissions.append({**entry_of(n, operation, target), "anonymousAccess": flag == "anonymousAccess",
                            "unlicensedAccess": flag == "unlicensedAccess"})
    return {"id": int(space_.space_id), "key": space_.key, "name": space_.name, "type": space_.space_type,
            "status": space_.status, "permissions": permissions,
            "_links": {"webui": f"/spaces/{space_.key}", "self": f"/wiki/rest/api/space/{space_.key}"}}


async def spaces_legacy(request: Request):
    """GET /wiki/rest/api/space (v1, left the current C1 document; still answered by many sites): spaces the
    caller can view; `expand=permissions` adds each space's permissions in the legacy shape."""
    context, site = site_of(request)
    if context.anonymous:
        raise Denied(401, "This site does not allow anonymous access. Log in to continue.")
    viewer = viewer_of(context, site)
    if not site.confluence.legacy_api:
        raise Denied(404, "No route.")
    items = [s for s in site.confluence.spaces if can_view(s, viewer, site)]
    expand = "permissions" in (request.query_params.get("expand") or "").split(",")

    def render(space_: Space) -> dict:
        body = render_space_legacy(space_)
        if not expand:
            body.pop("permissions")
        return body

    return confluence_v1(request, items, render, 25, 500)


async def users_bulk(request: Request):
    """POST /wiki/api/v2/users-bulk {"accountIds": [...]} (1 to 250 ids; unknown ids are left out)."""
    context = require_user(request)
    _, site = site_of(request)
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise Denied(400, "The request body is not valid JSON.") from None
    ids = body.get("accountIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise Denied(400, "'accountIds' must be a non-empty list of account ids.")
    if len(ids) > BULK_USERS_V2:
        raise Denied(400, f"At most {BULK_USERS_V2} account ids can be requested at once.")
    accounts = accounts_by_id(context.org)
    seen: set[str] = set()
    found = []
    for i in ids:
        if i in accounts and i not in seen:
            seen.add(i)
            found.append(accounts[i])
    return JSONResponse({
        "results": [render_user_v2(a, site) for a in found],
        "_links": {"base": wiki_base_url(request)},
    })


ROUTES: list[Route] = [
    # v1
    Route("/wiki/rest/api/group", groups, methods=["GET"]),
    Route("/wiki/rest/api/group/by-id", group_by_id, methods=["GET"]),
    Route("/wiki/rest/api/group/{groupId}/membersByGroupId", group_members, methods=["GET"]),
    Route("/wiki/rest/api/search/user", search_user, methods=["GET"]),
    Route("/wiki/rest/api/user", user, methods=["GET"]),
    Route("/wiki/rest/api/user/memberof", user_member_of, methods=["GET"]),
    Route("/wiki/rest/api/user/bulk", user_bulk, methods=["GET"]),
    Route("/wiki/rest/api/audit", audit, methods=["GET"]),
    Route("/wiki/rest/api/audit/retention", audit_retention, methods=["GET"]),
    Route("/wiki/rest/api/settings/systemInfo", system_info, methods=["GET"]),
    Route("/wiki/rest/api/space", spaces_legacy, methods=["GET"]),
    # v2
    Route("/wiki/api/v2/spaces", spaces, methods=["GET"]),
    Route("/wiki/api/v2/spaces/{id}", space, methods=["GET"]),
    Route("/wiki/api/v2/spaces/{id}/permissions", space_permissions, methods=["GET"]),
    Route("/wiki/api/v2/spaces/{id}/role-assignments", space_role_assignments, methods=["GET"]),
    Route("/wiki/api/v2/space-roles", space_roles, methods=["GET"]),
    Route("/wiki/api/v2/space-roles/{id}", space_role, methods=["GET"]),
    Route("/wiki/api/v2/space-permissions", space_permission_catalogue_route, methods=["GET"]),
    Route("/wiki/api/v2/space-role-mode", space_role_mode, methods=["GET"]),
    Route("/wiki/api/v2/users-bulk", users_bulk, methods=["POST"]),
]
