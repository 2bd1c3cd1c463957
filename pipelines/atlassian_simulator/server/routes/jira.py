"""Jira Cloud REST API (platform v3, and v2 at the same paths): identity, permissions, audit, config.

Mounted at `/site/{site}` (https://{site}.atlassian.net, classic API tokens) and at
`/gateway/ex/jira/{cloudId}` (api.atlassian.com, scoped tokens; the tenant layer refuses
scoped tokens on the site mount). Every path is served as `/rest/api/3/...` and
`/rest/api/2/...` with the same JSON: posture data has no rich-text (ADF) fields, the only
difference between the two versions.

Paging per endpoint (DIGEST section 4.1; default / cap):
    users/search, users               bare array        50 / 1000 (page until empty)
    group/bulk                        PageBean          50 / 50   (cap not documented: assumed)
    user/bulk                         PageBean          10 / 200  (cap not documented: assumed)
    group/member                      PageBean          50 / 50   (documented: 1..50)
    project/search                    PageBean          50 / 100  (documented)
    filter/search, dashboard/search   PageBean          50 / 100  (cap not documented: assumed)
    auditing/record                   audit offset    1000 / 1000
    groups/picker                     one response      20 / 1000 (autocomplete limit: assumed)
Everything else answers in one response.

Permissions are evaluated from the site's data (see jira_common.Permissions): global
permission holders, permission-scheme grants, project-role actors and share permissions,
so an anonymous caller sees exactly what grants to Anyone expose.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Sequence
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.lazy import Reversed
from atlassian_simulator.server.context import Denied, require_admin, require_user
from atlassian_simulator.server.memo import listing
from atlassian_simulator.server.paging import audit_offset, bare_array, page_bean
from atlassian_simulator.server.routes.jira_common import (
    PERMISSIONS,
    Caller,
    Permissions,
    advanced_settings,
    application_properties,
    configuration,
    expands,
    filter_properties,
    find_project,
    flag,
    jira_time,
    multi,
    parse_moment,
    render_permission,
    requested_permissions,
    visible_project,
)
from atlassian_simulator.server.routes.jira_index import is_active, state_fingerprint
from atlassian_simulator.server.routes.jira_render import CloudView

GROUP_BULK_CAP = 50
GROUP_MEMBER_CAP = 50
PROJECT_SEARCH_CAP = 100
SHARED_SEARCH_CAP = 100
PICKER_DEFAULT, PICKER_CAP = 20, 1000
CLOUD_VERSION = "1001.0.0-SNAPSHOT"


def _json(body) -> JSONResponse:
    return JSONResponse(body)


# --- users and groups ----------------------------------------------------------------------------


async def users_search(request: Request):
    view = CloudView(request)
    view.require_browse_users()
    users = view.index.site_users[view.site.name]
    return bare_array(request, users, view.user, 50, 1000)


async def user_bulk(request: Request):
    """GET user/bulk?accountId=a&accountId=b: the site's users among the ids asked, in the order asked (an id
    not on the site is left out)."""
    view = CloudView(request)
    view.require_browse_users()
    ids = list(dict.fromkeys(request.query_params.getlist("accountId")))
    if not ids:
        raise Denied(400, "The accountId query parameter needs to be provided.")
    on_site = view.index.site_user_ids[view.site.name]
    users = [a for a in (view.account(i) for i in ids if i in on_site) if a is not None]
    return page_bean(request, users, view.user, 10, 200)


def _account_param(view: CloudView, request: Request):
    account_id = request.query_params.get("accountId")
    if not account_id:
        if request.query_params.get("username") or request.query_params.get("key"):
            raise Denied(400, "The username and key parameters are no longer supported: use accountId.")
        raise Denied(400, "The accountId query parameter needs to be provided.")
    account = view.account(account_id)
    if account is None or account_id not in view.index.site_user_ids[view.site.name]:
        raise Denied(404, f"Specified user does not exist or you do not have required permissions: {account_id}")
    return account


async def user(request: Request):
    view = CloudView(request)
    view.require_browse_users()
    account = _account_param(view, request)
    expand = expands(request)
    body = view.user(account)
    groups = sorted((view.index.groups[g] for g in view.index.groups_of(account.account_id)
                     if g in view.index.groups), key=lambda g: g.name)
    roles = [r for r in view.jira.application_roles if set(r.group_ids) & view.index.groups_of(account.account_id)]
    body["groups"] = {"size": len(groups),
                      "items": [view.group_name(g) for g in groups] if "groups" in expand else []}
    body["applicationRoles"] = {"size": len(roles),
                                "items": [view.application_role(r) for r in roles]
                                if "applicationRoles" in expand else []}
    body["expand"] = "groups,applicationRoles"
    return _json(body)


async def user_groups(request: Request):
    view = CloudView(request)
    view.require_browse_users()
    account = _account_param(view, request)
    groups = sorted((view.index.groups[g] for g in view.index.groups_of(account.account_id)
                     if g in view.index.groups), key=lambda g: g.name)
    return _json([view.group_name(g) for g in groups])


def _site_access_groups(view: CloudView, access: str, application: str | None) -> set[str] | None:
    """Group ids granting `accessType` (user | admin | site-admin) on this site, optionally for one product."""
    if not access and not application:
        return None
    ids: set[str] = set()
    jira_ari = f"ari:cloud:jira::site/{view.site.cloud_id}"
    for group in view.org.groups:
        roles = [role for role, resource in group.role_assignments if resource == jira_ari]
        if access == "site-admin":
            if group.name.startswith("site-admins") and roles:
                ids.add(group.group_id)
        elif access == "admin":
            if "atlassian/admin" in roles:
                ids.add(group.group_id)
        elif access == "user":
            if "atlassian/user" in roles:
                ids.add(group.group_id)
        elif access:
            raise Denied(400, f"Invalid accessType '{access}': expected site-admin, admin or user.")
    if application:
        role = next((r for r in view.jira.application_roles if r.key == application), None)
        in_role = set(role.group_ids) if role else set()
        ids = in_role if not access else ids & in_role
    return ids


async def group_bulk(request: Request):
    view = CloudView(request)
    view.require_browse_users()
    ids = set(multi(request, "groupId"))
    names = set(multi(request, "groupName"))
    allowed = _site_access_groups(view, request.query_params.get("accessType", ""),
                                  request.query_params.get("applicationKey"))
    groups = [g for g in sorted(view.org.groups, key=lambda g: (g.name.lower(), g.group_id))
              if (not ids or g.group_id in ids) and (not names or g.name in names)
              and (allowed is None or g.group_id in allowed)]
    return page_bean(request, groups, lambda g: {"name": g.name, "groupId": g.group_id}, 50, GROUP_BULK_CAP)


async def group_member(request: Request):
    view = CloudView(request)
    if not (view.perms.has_global("USER_PICKER") or view.perms.jira_admin):
        raise Denied(401 if view.caller.anonymous else 403,
                     "You don't have the permission to browse users and groups.")
    group_id = request.query_params.get("groupId")
    name = request.query_params.get("groupname")
    if not group_id and not name:
        raise Denied(400, "Either groupId or groupname must be provided.")
    group = view.index.groups.get(group_id) if group_id else view.index.groups_by_name.get(name)
    if group is None:
        raise Denied(404, f"Group not found: {group_id or name}")
    include_inactive = flag(request, "includeInactiveUsers")

    def members() -> list:
        found = [view.index.accounts[a] for a in view.org.memberships.get(group.group_id, ())
                 if a in view.index.accounts]
        return [a for a in sorted(found, key=lambda a: (a.name.lower(), a.account_id))
                if include_inactive or is_active(a)]

    key = ("group/member", id(view.org), state_fingerprint(view.org), group.group_id, include_inactive)
    continuing = request.query_params.get("startAt", "0") not in ("", "0")
    return page_bean(request, listing(key, continuing, members), view.user_details, 50, GROUP_MEMBER_CAP)


def _picker_labels(view: CloudView, group_id: str) -> list[dict]:
    labels = []
    admin_ids = {holder.partition(":")[2] for holder in view.jira.global_permissions.get("ADMINISTER", [])
                 if holder.startswith("group:")}
    if group_id in admin_ids:
        labels.append({"text": "Admin", "title": "Users added to this group will be given administrative access",
                       "type": "ADMIN"})
    for role in view.jira.application_roles:
        if group_id in role.group_ids:
            labels.append({"text": role.name, "title": f"Users added to this group will be given access to "
                                                       f"{role.name}", "type": "SINGLE"})
    return labels


def _highlight(name: str, query: str) -> str:
    if not query:
        return name
    i = name.lower().find(query.lower())
    return name if i < 0 else f"{name[:i]}<b>{name[i:i + len(query)]}</b>{name[i + len(query):]}"


def picker_size(request: Request) -> int:
    value = request.query_params.get("maxResults")
    if value is None or value == "":
        return PICKER_DEFAULT
    if not value.strip().lstrip("-").isdigit():
        raise Denied(400, f"Invalid value '{value}' for parameter 'maxResults'.")
    return max(0, min(int(value), PICKER_CAP))


async def groups_picker(request: Request):
    view = CloudView(request)
    query = request.query_params.get("query", "")
    excluded = set(multi(request, "exclude"))
    excluded_ids = set(multi(request, "excludeId"))
    size = picker_size(request)
    if view.caller.anonymous or not view.perms.has_in_any_project("BROWSE_PROJECTS"):
        matches = []  # anonymous callers and users without Browse projects get an empty list
    else:
        browse = view.perms.has_global("USER_PICKER") or view.perms.jira_admin
        matches = [g for g in sorted(view.org.groups, key=lambda g: (g.name.lower(), g.group_id))
                   if g.name not in excluded and g.group_id not in excluded_ids
                   and ((browse and query.lower() in g.name.lower()) or g.name == query)]
    shown = matches[:size]
    return _json({"header": f"Showing {len(shown)} of {len(matches)} matching groups", "total": len(matches),
                  "groups": [{"name": g.name, "html": _highlight(g.name, query),
                              "labels": _picker_labels(view, g.group_id), "groupId": g.group_id}
                             for g in shown]})


# --- application roles and project roles ---------------------------------------------------------


async def application_roles(request: Request):
    require_admin(request, "application roles")
    view = CloudView(request)
    return _json([view.application_role(r) for r in view.jira.application_roles])


async def application_role(request: Request):
    require_admin(request, "application roles")
    view = CloudView(request)
    key = request.path_params["key"]
    role = next((r for r in view.jira.application_roles if r.key == key), None)
    if role is None:
        raise Denied(404, f"The application role '{key}' does not exist.")
    return _json(view.application_role(role))


async def roles(request: Request):
    require_admin(request, "project roles")
    view = CloudView(request)
    return _json([view.role(r) for r in view.jira.roles])


def _role(view: CloudView, raw: str):
    role = next((r for r in view.jira.roles if str(r.role_id) == raw), None)
    if role is None:
        raise Denied(404, f"Can not find a project role with id: {raw}")
    return role


async def role(request: Request):
    require_admin(request, "project roles")
    view = CloudView(request)
    return _json(view.role(_role(view, request.path_params["id"])))


# --- projects ------------------------------------------------------------------------------------

PROJECT_ORDER = {"key": lambda p: p.key, "name": lambda p: p.name.lower(), "category": lambda p: p.category or "",
                 "owner": lambda p: p.lead_account_id}


async def project_search(request: Request):
    view = CloudView(request)
    statuses = set(multi(request, "status")) or {"live"}
    if not statuses <= {"live", "archived", "deleted"}:
        raise Denied(400, f"Invalid status: {', '.join(sorted(statuses))}")
    action = request.query_params.get("action", "view")
    if action not in ("view", "browse", "edit", "create"):
        raise Denied(400, f"Invalid action '{action}'.")
    keys = {k.upper() for k in multi(request, "keys")}
    ids = set(multi(request, "id"))
    query = request.query_params.get("query", "").lower()
    type_key = request.query_params.get("typeKey")
    category_id = request.query_params.get("categoryId")
    projects = [
        p for p in view.jira.projects
        if (("archived" in statuses) if p.archived else ("live" in statuses))
        and (not keys or p.key in keys) and (not ids or p.project_id in ids)
        and (not query or query in p.key.lower() or query in p.name.lower())
        and (not type_key or p.project_type in type_key.split(","))
        and (not category_id or (p.category and view.category(p)["id"] == category_id))
        and view.perms.allows(p, action)
    ]
    order = request.query_params.get("orderBy", "key")
    field = order.lstrip("+-")
    if field not in PROJECT_ORDER and field not in ("issueCount", "lastIssueUpdatedDate", "archivedDate",
                                                     "deletedDate"):
        raise Denied(400, f"Invalid orderBy '{order}'.")
    projects.sort(key=PROJECT_ORDER.get(field, PROJECT_ORDER["key"]), reverse=order.startswith("-"))
    expand = expands(request)
    return page_bean(request, projects, lambda p: view.project(p, expand), 50, PROJECT_SEARCH_CAP)


async def project(request: Request):
    view = CloudView(request)
    item = visible_project(view.perms, request.path_params["key"])
    return _json(view.project(item, expands(request), full=True))


def _project_admin(view: CloudView, item, scope: str = "project") -> None:
    """Administer Projects (for this project, or any project when scope='any') or Administer Jira."""
    perms = view.perms
    allowed = perms.jira_admin or (
        perms.can_administer(item) if scope == "project"
        else any(perms.can_administer(p) for p in view.jira.projects)
    )
    if not allowed:
        if view.caller.anonymous:
            raise Denied(401, "Client must be authenticated to access this resource.")
        raise Denied(403, "You cannot view the configuration of this project.")


async def project_roles(request: Request):
    view = CloudView(request)
    item = visible_project(view.perms, request.path_params["key"])
    _project_admin(view, item, "any")
    return _json(view.project_roles(item))


async def project_role(request: Request):
    view = CloudView(request)
    item = visible_project(view.perms, request.path_params["key"])
    _project_admin(view, item)
    found = _role(view, request.path_params["id"])
    return _json(view.role_actors(item, found, flag(request, "excludeInactiveUsers")))


async def project_role_details(request: Request):
    view = CloudView(request)
    item = visible_project(view.perms, request.path_params["key"])
    _project_admin(view, item)
    return _json([view.role_details(item, r) for r in view.jira.roles])


async def project_permission_scheme(request: Request):
    view = CloudView(request)
    if view.caller.anonymous:
        raise Denied(401, "Client must be authenticated to access this resource.")
    item = find_project(view.jira, request.path_params["key"])
    if item is None or not view.perms.can_view(item):
        raise Denied(404, f"No project could be found with key '{request.path_params['key']}'.")
    _project_admin(view, item)
    scheme = view.perms.schemes.get(item.scheme_id)
    if scheme is None:
        raise Denied(404, "The project has no permission scheme.")
    return _json(view.scheme(scheme, expands(request)))


# --- permission schemes and permissions ----------------------------------------------------------


async def permission_schemes(request: Request):
    require_user(request)
    view = CloudView(request)
    expand = expands(request)
    return _json({"permissionSchemes": [view.scheme(s, expand) for s in view.jira.schemes]})


def _scheme(view: CloudView, raw: str):
    scheme = next((s for s in view.jira.schemes if str(s.scheme_id) == raw), None)
    if scheme is None:
        raise Denied(404, f"The permission scheme with id '{raw}' does not exist.")
    return scheme


async def permission_scheme(request: Request):
    require_user(request)
    view = CloudView(request)
    return _json(view.scheme(_scheme(view, request.path_params["scheme_id"]), expands(request)))


async def permission_scheme_grants(request: Request):
    require_user(request)
    view = CloudView(request)
    scheme = _scheme(view, request.path_params["scheme_id"])
    expand = expands(request)
    return _json({"expand": "user,group,projectRole,field,all",
                  "permissions": [view.grant(scheme, g, expand) for g in scheme.grants]})


async def permissions_catalogue(request: Request):
    return _json({"permissions": {key: render_permission(key) for key in sorted(PERMISSIONS)}})


def _context_project(view: CloudView, request: Request):
    key = request.query_params.get("projectKey") or request.query_params.get("projectId")
    return visible_project(view.perms, key) if key else None


async def my_permissions(request: Request):
    view = CloudView(request)
    keys = requested_permissions(request, required=True)
    project_ = _context_project(view, request)
    have = view.perms.mine(keys, project_)
    return _json({"permissions": {key: render_permission(key, have[key]) for key in keys}})


async def permissions_check(request: Request):
    view = CloudView(request)
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise Denied(400, "The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise Denied(400, "The request body must be a JSON object.")
    perms = view.perms
    account_id = body.get("accountId")
    if account_id and account_id != view.caller.user_id:
        if not perms.jira_admin:
            raise Denied(403, "Only Jira administrators can check the permissions of other users.")
        if view.account(account_id) is None:
            raise Denied(400, f"The user with account ID '{account_id}' does not exist.")
        perms = Permissions(view.jira, Caller(account_id, view.index.groups_of(account_id)),
                            anonymous_access=view.site.plan != "free")
    global_keys = body.get("globalPermissions") or []
    project_checks = body.get("projectPermissions") or []
    if not isinstance(global_keys, list) or not isinstance(project_checks, list):
        raise Denied(400, "globalPermissions and projectPermissions must be arrays.")
    unknown = [k for k in global_keys if PERMISSIONS.get(k, ("", "", ""))[2] != "GLOBAL"]
    if unknown:
        raise Denied(400, f"Unrecognized global permission keys: {', '.join(map(str, unknown))}")
    out_projects = []
    for check in project_checks:
        if not isinstance(check, dict):
            raise Denied(400, "Each projectPermissions entry must be an object.")
        wanted = [str(p) for p in check.get("projects") or []]
        for key in check.get("permissions") or []:
            if PERMISSIONS.get(key, ("", "", ""))[2] != "PROJECT":
                raise Denied(400, f"Unrecognized project permission key: {key}")
            granted = [int(p.project_id) for p in view.jira.projects
                       if p.project_id in wanted and perms.has_project(p, key)]
            out_projects.append({"issues": [], "permission": key, "projects": granted})
    return _json({"globalPermissions": [k for k in dict.fromkeys(global_keys) if perms.has_global(k)],
                  "projectPermissions": out_projects})


# --- audit ---------------------------------------------------------------------------------------


class _Positions(Sequence):
    """A lazy view of `inner` at the given positions (the audit text filter's matches)."""

    def __init__(self, inner: Sequence, positions: array):
        self._inner = inner
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self._inner[p] for p in self._positions[item]]
        return self._inner[self._positions[item]]


def _audit_text(event) -> str:
    fields = event.fields
    obj = fields.get("objectItem") or {}
    parts = [event.action, fields.get("category", ""), fields.get("eventSource", ""), obj.get("name", ""),
             obj.get("parentName", ""), obj.get("typeName", ""), fields.get("remoteAddress", "")]
    for change in fields.get("changedValues", []):
        parts += [change.get("changedFrom") or "", change.get("changedTo") or ""]
    return " ".join(str(p) for p in parts if p).lower()


def _text_filter(records: Sequence, text: str, chunk: int = 2000) -> Sequence:
    """Records matching every space-separated term (each term in at least one field), still lazy."""
    terms = [t.lower() for t in text.split() if t]
    if not terms:
        return records
    positions = array("q")
    for start in range(0, len(records), chunk):
        for offset, event in enumerate(records[start:start + chunk]):
            haystack = _audit_text(event)
            if all(term in haystack for term in terms):
                positions.append(start + offset)
    return _Positions(records, positions)


async def audit_records(request: Request):
    context = require_admin(request, "the audit log")
    view = CloudView(request)
    if view.site.plan == "free":
        raise Denied(403, "The audit log is not available on the Free plan.")
    log = view.jira.audit
    since = parse_moment(request.query_params.get("from"), "from")
    until = parse_moment(request.query_params.get("to"), "to")
    if log is None or (since and until and since > until):
        records: Sequence = []
    else:
        records = Reversed(log.window(context.org.clock, since, until))
        records = _text_filter(records, request.query_params.get("filter", ""))
    return audit_offset(request, records, view.audit_record, 1000, 1000)


# --- filters and dashboards ----------------------------------------------------------------------


def _shared_with(share_permissions, group_id: str | None, project_id: str | None) -> bool:
    return ((not group_id or any(s.share_type == "group" and s.target == group_id for s in share_permissions))
            and (not project_id or any(s.share_type in ("project", "projectRole") and s.target == project_id
                                       for s in share_permissions)))


def _group_filter(view: CloudView, request: Request) -> str | None:
    group_id = request.query_params.get("groupId")
    name = request.query_params.get("groupname")
    if name and not group_id:
        group = view.index.groups_by_name.get(name)
        return group.group_id if group else "-"
    return group_id


def _order(items: list, order: str, allowed: dict) -> list:
    field = order.lstrip("+-")
    if field not in allowed:
        raise Denied(400, f"Invalid orderBy '{order}'.")
    return sorted(items, key=allowed[field], reverse=order.startswith("-"))


FILTER_ORDER = {"name": lambda f: (f.name.lower(), int(f.filter_id)), "id": lambda f: int(f.filter_id),
                "owner": lambda f: (f.owner_account_id, int(f.filter_id)),
                "description": lambda f: int(f.filter_id), "favourite_count": lambda f: int(f.filter_id),
                "is_favourite": lambda f: int(f.filter_id),
                "is_shared": lambda f: (bool(f.share_permissions), int(f.filter_id))}


async def filter_search(request: Request):
    view = CloudView(request)
    override = flag(request, "overrideSharePermissions")
    name = request.query_params.get("filterName", "").lower()
    owner = request.query_params.get("accountId")
    group_id = _group_filter(view, request)
    project_id = request.query_params.get("projectId")
    ids = set(multi(request, "id"))
    items = [f for f in view.jira.filters
             if view.perms.sees_filter(f, override)
             and (not name or name in f.name.lower()) and (not owner or f.owner_account_id == owner)
             and (not ids or f.filter_id in ids) and _shared_with(f.share_permissions, group_id, project_id)]
    items = _order(items, request.query_params.get("orderBy", "name"), FILTER_ORDER)
    expand = expands(request)
    return page_bean(request, items, lambda f: view.filter_details(f, expand), 50, SHARED_SEARCH_CAP)


def _visible_filter(view: CloudView, request: Request, status: int):
    raw = request.path_params["id"]
    override = flag(request, "overrideSharePermissions")
    item = next((f for f in view.jira.filters if f.filter_id == raw), None)
    if item is None or not view.perms.sees_filter(item, override):
        raise Denied(status, "The selected filter is not available to you, perhaps it has been deleted or had its "
                             "permissions changed.")
    return item


async def filter_one(request: Request):
    view = CloudView(request)
    return _json(view.filter_full(_visible_filter(view, request, 400)))


async def filter_permissions(request: Request):
    view = CloudView(request)
    item = _visible_filter(view, request, 404)
    return _json([view.share(s) for s in item.share_permissions])


DASHBOARD_ORDER = {"name": lambda d: (d.name.lower(), int(d.dashboard_id)), "id": lambda d: int(d.dashboard_id),
                   "owner": lambda d: (d.owner_account_id or "", int(d.dashboard_id)),
                   "description": lambda d: int(d.dashboard_id), "favorite_count": lambda d: int(d.dashboard_id),
                   "is_favorite": lambda d: int(d.dashboard_id)}


async def dashboard_search(request: Request):
    view = CloudView(request)
    status = request.query_params.get("status", "active")
    if status not in ("active", "archived", "deleted"):
        raise Denied(400, f"Invalid status '{status}'.")
    name = request.query_params.get("dashboardName", "").lower()
    owner = request.query_params.get("accountId")
    group_id = _group_filter(view, request)
    project_id = request.query_params.get("projectId")
    items = [] if status != "active" else [
        d for d in view.jira.dashboards
        if view.perms.sees_dashboard(d) and (not name or name in d.name.lower())
        and (not owner or d.owner_account_id == owner) and _shared_with(d.share_permissions, group_id, project_id)
    ]
    items = _order(items, request.query_params.get("orderBy", "name"), DASHBOARD_ORDER)
    expand = expands(request)
    return page_bean(request, items, lambda d: view.dashboard(d, expand), 50, SHARED_SEARCH_CAP)


async def dashboard_one(request: Request):
    view = CloudView(request)
    raw = request.path_params["id"]
    item = next((d for d in view.jira.dashboards if d.dashboard_id == raw), None)
    if item is None or not view.perms.sees_dashboard(item):
        raise Denied(404, f"The dashboard with id '{raw}' does not exist.")
    return _json(view.dashboard(item, set(), full=True))


async def dashboards_classic(request: Request):
    """GET /dashboard (Cloud's classic list): dashboards owned by or shared with the caller; `filter`
    favourite | my. `PageOfDashboards` {startAt, maxResults, total, prev, next, dashboards} with share permissions."""
    view = CloudView(request)
    which = request.query_params.get("filter")
    if which not in (None, "", "favourite", "my"):
        raise Denied(400, f"Invalid filter '{which}': expected favourite or my.")
    if which and view.caller.anonymous:
        items = []
    elif which:
        items = [d for d in view.jira.dashboards if d.owner_account_id == view.caller.user_id]
    else:
        items = [d for d in view.jira.dashboards if view.perms.sees_dashboard(d)]
    items.sort(key=lambda d: (d.name.lower(), int(d.dashboard_id)))
    try:
        start = max(int(request.query_params.get("startAt", 0)), 0)
        size = min(max(int(request.query_params.get("maxResults", 20)), 0), 1000)
    except ValueError as exc:
        raise Denied(400, "startAt and maxResults must be integers.") from exc
    page = items[start:start + size]
    body: dict = {"startAt": start, "maxResults": size, "total": len(items),
                  "dashboards": [view.dashboard(d, set(), full=True) for d in page]}
    base = f"{view.api}/dashboard"
    if start > 0:
        body["prev"] = f"{base}?startAt={max(start - size, 0)}&maxResults={size}"
    if start + size < len(items):
        body["next"] = f"{base}?startAt={start + size}&maxResults={size}"
    return _json(body)


# --- issue security schemes ----------------------------------------------------------------------


def _security_level(view: CloudView, scheme, level) -> dict:
    return {"self": f"{view.api}/securitylevel/{level.level_id}", "id": level.level_id, "name": level.name,
            "description": level.description, "isDefault": level.level_id == scheme.default_level_id,
            "issueSecuritySchemeId": str(scheme.scheme_id)}


def _security_scheme(view: CloudView, scheme) -> dict:
    body = {"self": f"{view.api}/issuesecurityschemes/{scheme.scheme_id}", "id": scheme.scheme_id,
            "name": scheme.name, "description": scheme.description,
            "levels": [_security_level(view, scheme, level) for level in scheme.levels]}
    if scheme.default_level_id is not None:
        body["defaultSecurityLevelId"] = int(scheme.default_level_id)
    return body


async def issue_security_schemes(request: Request):
    """GET /issuesecurityschemes: `SecuritySchemes` {issueSecuritySchemes: [SecurityScheme with levels]}."""
    require_admin(request, "issue security schemes")
    view = CloudView(request)
    return _json({"issueSecuritySchemes": [_security_scheme(view, s) for s in view.jira.issue_security_schemes]})


async def issue_security_scheme(request: Request):
    require_admin(request, "issue security schemes")
    view = CloudView(request)
    scheme = next((s for s in view.jira.issue_security_schemes if str(s.scheme_id) == request.path_params["id"]), None)
    if scheme is None:
        raise Denied(404, "The issue security scheme does not exist.")
    return _json(_security_scheme(view, scheme))


async def issue_security_scheme_projects(request: Request):
    """GET /issuesecurityschemes/project?issueSecuritySchemeId=&projectId=: PageBean of
    `IssueSecuritySchemeToProjectMapping` {issueSecuritySchemeId, projectId}: which projects use which scheme."""
    require_admin(request, "issue security schemes")
    view = CloudView(request)
    scheme_ids, project_ids = set(multi(request, "issueSecuritySchemeId")), set(multi(request, "projectId"))
    rows = [(scheme, project_id) for scheme in view.jira.issue_security_schemes
            if not scheme_ids or str(scheme.scheme_id) in scheme_ids
            for project_id in scheme.project_ids if not project_ids or project_id in project_ids]
    return page_bean(request, rows, lambda item: {"issueSecuritySchemeId": str(item[0].scheme_id),
                                                  "projectId": str(item[1])}, 50, 50)


async def issue_security_level_members(request: Request):
    """GET /issuesecurityschemes/level/member?schemeId=&levelId=: PageBean of `SecurityLevelMember`
    {id, issueSecurityLevelId, issueSecuritySchemeId, holder {type, parameter, value, expand}}."""
    require_admin(request, "issue security schemes")
    view = CloudView(request)
    scheme_ids = set(multi(request, "schemeId"))
    level_ids = set(multi(request, "levelId"))
    rows = []
    for scheme in view.jira.issue_security_schemes:
        if scheme_ids and str(scheme.scheme_id) not in scheme_ids:
            continue
        for level in scheme.levels:
            if level_ids and level.level_id not in level_ids:
                continue
            for n, (kind, parameter) in enumerate(level.members):
                rows.append((scheme, level, n, kind, parameter))

    def render(item) -> dict:
        scheme, level, n, kind, parameter = item
        holder: dict = {"type": kind, "expand": "group" if kind == "group" else ""}
        if parameter is not None:
            holder.update(parameter=parameter, value=parameter)
        return {"id": f"{level.level_id}{n:02d}", "issueSecurityLevelId": level.level_id,
                "issueSecuritySchemeId": str(scheme.scheme_id), "holder": holder}

    return page_bean(request, rows, render, 50, 50)


# --- instance ------------------------------------------------------------------------------------


async def server_info(request: Request):
    view = CloudView(request)
    clock = view.org.clock
    build = clock.replace(hour=2, minute=20, second=43, microsecond=0) - timedelta(days=4)
    return _json({
        "baseUrl": view.site_url,
        "displayUrl": view.site_url,
        "displayUrlServicedeskHelpCenter": f"{view.site_url}/servicedesk/customer",
        "displayUrlConfluence": f"{view.site_url}/wiki",
        "version": CLOUD_VERSION,
        "versionNumbers": [1001, 0, 0],
        "deploymentType": "Cloud",
        "buildNumber": 100_283,
        "buildDate": jira_time(build),
        "serverTime": jira_time(clock),
        "scmInfo": "8f1c2d5a9b0e3f4a6c7d8e9f0a1b2c3d4e5f6a7b",
        "serverTitle": view.jira.application_properties.get("jira.title", "Jira"),
    })


async def configuration_(request: Request):
    require_user(request)
    view = CloudView(request)
    return _json(configuration(view.jira))


async def app_properties(request: Request):
    require_admin(request, "application properties")
    view = CloudView(request)
    return _json(filter_properties(request, application_properties(view.jira, view.site_url)))


async def app_advanced_settings(request: Request):
    require_admin(request, "advanced settings")
    return _json(advanced_settings())


# --- routing -------------------------------------------------------------------------------------

_PATHS: list[tuple[str, object, list[str]]] = [
    ("/users/search", users_search, ["GET"]),
    ("/users", users_search, ["GET"]),
    ("/user", user, ["GET"]),
    ("/user/groups", user_groups, ["GET"]),
    ("/user/bulk", user_bulk, ["GET"]),
    ("/group/bulk", group_bulk, ["GET"]),
    ("/group/member", group_member, ["GET"]),
    ("/groups/picker", groups_picker, ["GET"]),
    ("/applicationrole", application_roles, ["GET"]),
    ("/applicationrole/{key}", application_role, ["GET"]),
    ("/role", roles, ["GET"]),
    ("/role/{id}", role, ["GET"]),
    ("/project/search", project_search, ["GET"]),
    ("/project/{key}", project, ["GET"]),
    ("/project/{key}/role", project_roles, ["GET"]),
    ("/project/{key}/role/{id}", project_role, ["GET"]),
    ("/project/{key}/roledetails", project_role_details, ["GET"]),
    ("/project/{key}/permissionscheme", project_permission_scheme, ["GET"]),
    ("/permissionscheme", permission_schemes, ["GET"]),
    ("/permissionscheme/{scheme_id}", permission_scheme, ["GET"]),
    ("/permissionscheme/{scheme_id}/permission", permission_scheme_grants, ["GET"]),
    ("/permissions", permissions_catalogue, ["GET"]),
    ("/permissions/check", permissions_check, ["POST"]),
    ("/mypermissions", my_permissions, ["GET"]),
    ("/auditing/record", audit_records, ["GET"]),
    ("/filter/search", filter_search, ["GET"]),
    ("/filter/{id}", filter_one, ["GET"]),
    ("/filter/{id}/permission", filter_permissions, ["GET"]),
    ("/dashboard", dashboards_classic, ["GET"]),
    ("/dashboard/search", dashboard_search, ["GET"]),
    ("/issuesecurityschemes", issue_security_schemes, ["GET"]),
    ("/issuesecurityschemes/level/member", issue_security_level_members, ["GET"]),
    ("/issuesecurityschemes/project", issue_security_scheme_projects, ["GET"]),
    ("/issuesecurityschemes/{id}", issue_security_scheme, ["GET"]),
    ("/dashboard/{id}", dashboard_one, ["GET"]),
    ("/serverInfo", server_info, ["GET"]),
    ("/configuration", configuration_, ["GET"]),
    ("/application-properties", app_properties, ["GET"]),
    ("/application-properties/advanced-settings", app_advanced_settings, ["GET"]),
]

ROUTES: list[Route] = [
    Route(f"/rest/api/{version}{path}", endpoint, methods=methods)
    for path, endpoint, methods in _PATHS
    for version in ("3", "2")
]
