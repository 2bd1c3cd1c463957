"""Jira Data Center REST API (`/rest/api/2`), Atlassian Audit and the Universal Plugin Manager.

Mounted at `/dc/{instance}` for every Data Center instance; a Confluence instance answers
404 here. Principals are usernames and group names (the instance's `JiraSite` stores them
that way), authentication is a personal access token sent as Bearer.

Paging per endpoint (default / cap):
    user/list                         StreamPageBean (cursor)    2000 / 2000
    user/search                       bare array                   50 / 1000, only the first
                                                                   1000 matches reachable (JRASERVER-29069)
    group/member                      PageBean                     50 / 50
    dashboard                         {startAt, prev, next, dashboards}  20 / 1000 (assumed)
    /rest/auditing/1.0/events         limit + offset | pageCursor  200 / 1000 (assumed)
    groups/picker                     one response                 20 / 10000 (the only way to list
                                                                   groups on DC: large pages allowed)
Everything else (projects, roles, schemes, UPM) answers in one response.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.generator.common import stable_hash
from atlassian_simulator.lazy import Reversed, from_ms, to_ms
from atlassian_simulator.model import DcInstance, DcUser, Filter, Grant, PermissionScheme, Project
from atlassian_simulator.server.context import Denied, ctx
from atlassian_simulator.server.paging import (
    InvalidCursor,
    _BadParam,
    _int_param,
    _page_size,
    bare_array,
    dc_audit,
    dc_stream,
    decode_cursor,
    page_bean,
)
from atlassian_simulator.server.routes import upm
from atlassian_simulator.server.routes.jira_common import (
    Caller,
    Permissions,
    actor_id,
    application_properties,
    archived_date,
    base_url,
    configuration,
    expands,
    find_project,
    flag,
    iso_z,
    jira_time,
    multi,
    parse_moment,
    project_category_id,
    render_permission,
    requested_permissions,
    visible_project,
)

USER_SEARCH_REACH = 1000
PICKER_DEFAULT, PICKER_CAP = 20, 10_000
DASHBOARD_DEFAULT, DASHBOARD_CAP = 20, 1000
AUDIT_DEFAULT, AUDIT_CAP = 200, 1000
TIMEZONES = ("Europe/Berlin", "America/New_York", "Europe/London", "Asia/Tokyo", "Etc/UTC")
AUDIT_AREAS = {
    "user management": ("USER_MANAGEMENT", "BASE"),
    "security": ("SECURITY", "BASE"),
    "permissions": ("PERMISSIONS", "BASE"),
    "workflows": ("LOCAL_CONFIG_AND_ADMINISTRATION", "ADVANCED"),
}


def _json(body) -> JSONResponse:
    return JSONResponse(body)


class DcView:
    """Per-request view of a Jira DC instance: caller, permissions, URLs and renderers."""

    def __init__(self, request: Request):
        context = ctx(request)
        dc: DcInstance | None = context.dc
        if dc is None or dc.product != "jira" or dc.jira is None:
            raise Denied(404, "Not found.")
        self.request = request
        self.context = context
        self.org = context.org
        self.dc = dc
        self.jira = dc.jira
        self.base = base_url(request)
        self.api = f"{self.base}/rest/api/2"
        self.users = {u.username: u for u in dc.users}
        self.by_key = {u.key: u for u in dc.users}
        credential = context.credential
        username = credential.username if credential else None
        groups = frozenset(g for g, members in dc.memberships.items() if username and username in members)
        self.caller = Caller(username, groups, bool(credential and credential.admin))
        self.perms = Permissions(self.jira, self.caller)

    # --- gates ----------------------------------------------------------------------------------

    def require_user(self) -> None:
        if self.caller.anonymous:
            raise Denied(401, "You are not authenticated. Authentication required to perform this operation.")

    def require_admin(self, what: str) -> None:
        self.require_user()
        if not self.perms.jira_admin:
            raise Denied(403, f"You do not have the permission to see {what}.")

    # --- users and groups -----------------------------------------------------------------------

    def avatar_urls(self, user: DcUser) -> dict:
        ident = 10_100 + sum(map(ord, user.username)) % 40
        return {size: f"{self.base}/secure/useravatar?size={name}&ownerId={quote(user.username)}&avatarId={ident}"
                for size, name in (("48x48", "large"), ("24x24", "small"), ("16x16", "xsmall"), ("32x32", "medium"))}

    @staticmethod
    def timezone(user: DcUser) -> str:
        return TIMEZONES[sum(map(ord, user.key)) % len(TIMEZONES)]

    def user_json(self, user: DcUser) -> dict:
        """`UserJsonBean` (group members, owners, holders)."""
        return {"self": f"{self.api}/user?username={quote(user.username)}", "key": user.key, "name": user.username,
                "emailAddress": user.email, "avatarUrls": self.avatar_urls(user), "displayName": user.display_name,
                "active": user.active, "timeZone": self.timezone(user)}

    def user(self, user: DcUser) -> dict:
        """`UserBean` (user/list, user/search, user): adds deleted, locale and lastLoginTime."""
        body = self.user_json(user)
        body.update(deleted=user.deleted, locale="en_US")
        if user.last_login is not None:
            body["lastLoginTime"] = jira_time(user.last_login)
        return body

    def user_ref(self, username: str) -> dict:
        user = self.users.get(username)
        return self.user_json(user) if user else {"name": username, "active": False}

    def group_json(self, name: str) -> dict:
        return {"name": name, "self": f"{self.api}/group?groupname={quote(name)}"}

    def application_role(self, role) -> dict:
        members: set[str] = set()
        for group in role.group_ids:
            members.update(self.dc.memberships.get(group, ()))
        users = sum(1 for m in members if (u := self.users.get(m)) is not None and u.active)
        return {"key": role.key, "groups": sorted(role.group_ids), "name": role.name,
                "defaultGroups": sorted(role.default_group_ids), "selectedByDefault": False, "defined": True,
                "numberOfSeats": role.number_of_seats, "remainingSeats": max(role.number_of_seats - users, 0),
                "userCount": users, "userCountDescription": "users", "hasUnlimitedSeats": False,
                "platform": False}

    # --- projects, roles, schemes ---------------------------------------------------------------

    def project_avatars(self, project: Project) -> dict:
        ident = 10_400 + int(project.project_id) % 25
        return {size: f"{self.base}/secure/projectavatar?size={name}&pid={project.project_id}&avatarId={ident}"
                for size, name in (("48x48", "large"), ("24x24", "small"), ("16x16", "xsmall"), ("32x32", "medium"))}

    def project(self, project: Project, expand: set[str]) -> dict:
        body: dict = {"expand": "description,lead,url,projectKeys", "self": f"{self.api}/project/{project.project_id}",
                      "id": project.project_id, "key": project.key}
        if "description" in expand:
            body["description"] = f"{project.name} project"
        if "lead" in expand:
            body["lead"] = self.user_ref(project.lead_account_id)
        body.update(name=project.name, avatarUrls=self.project_avatars(project))
        if project.category:
            ident = project_category_id(project.category)
            body["projectCategory"] = {"self": f"{self.api}/projectCategory/{ident}", "id": ident,
                                       "name": project.category, "description": f"{project.category} projects"}
        body.update(projectTypeKey=project.project_type, archived=project.archived)
        if project.archived:
            body["archivedDate"] = jira_time(archived_date(project))
        if "projectKeys" in expand:
            body["projectKeys"] = [project.key]
        return body

    def project_roles(self, project: Project) -> dict:
        return {r.name: f"{self.api}/project/{project.project_id}/role/{r.role_id}" for r in self.jira.roles}

    def role(self, role, project: Project | None = None) -> dict:
        self_url = (f"{self.api}/project/{project.project_id}/role/{role.role_id}" if project
                    else f"{self.api}/role/{role.role_id}")
        actors = []
        if project is not None:
            for position, actor in enumerate(project.actors.get(role.role_id, [])):
                ident = actor_id(project, role.role_id, position)
                if actor.actor_type == "group":
                    actors.append({"id": ident, "displayName": actor.actor_id, "type": "atlassian-group-role-actor",
                                   "name": actor.actor_id,
                                   "avatarUrl": f"{self.base}/secure/useravatar?size=xsmall&avatarId=10123"})
                else:
                    user = self.users.get(actor.actor_id)
                    actors.append({"id": ident, "displayName": user.display_name if user else actor.actor_id,
                                   "type": "atlassian-user-role-actor", "name": actor.actor_id,
                                   "avatarUrl": self.avatar_urls(user)["16x16"] if user
                                   else f"{self.base}/secure/useravatar?size=xsmall&avatarId=10122"})
        return {"self": self_url, "name": role.name, "id": role.role_id, "description": role.description,
                "actors": actors}

    def scheme(self, scheme: PermissionScheme, expand: set[str]) -> dict:
        body: dict = {"expand": "permissions,user,group,projectRole,field,all", "id": scheme.scheme_id,
                      "self": f"{self.api}/permissionscheme/{scheme.scheme_id}", "name": scheme.name,
                      "description": scheme.description}
        if expand:
            body["permissions"] = [self.grant(scheme, g, expand) for g in scheme.grants]
        return body

    def grant(self, scheme: PermissionScheme, grant: Grant, expand: set[str]) -> dict:
        holder: dict = {"type": grant.holder_type}
        if grant.parameter is not None:
            holder["parameter"] = grant.parameter
        everything = "all" in expand
        if grant.holder_type == "group":
            holder["expand"] = "group"
            if everything or "group" in expand:
                holder["group"] = self.group_json(grant.parameter or "")
        elif grant.holder_type == "user":
            holder["expand"] = "user"
            if everything or "user" in expand:
                holder["user"] = self.user_ref(grant.parameter or "")
        elif grant.holder_type == "projectRole":
            holder["expand"] = "projectRole"
            if everything or "projectRole" in expand:
                role = next((r for r in self.jira.roles if str(r.role_id) == grant.parameter), None)
                if role is not None:
                    holder["projectRole"] = {"self": f"{self.api}/role/{role.role_id}", "name": role.name,
                                             "id": role.role_id, "description": role.description}
        return {"id": grant.grant_id, "self": f"{self.api}/permissionscheme/{scheme.scheme_id}/permission/"
                                              f"{grant.grant_id}",
                "holder": holder, "permission": grant.permission}

    # --- filters and dashboards -----------------------------------------------------------------

    def share(self, share) -> dict:
        body: dict = {"id": share.share_id, "type": share.share_type}
        if share.share_type == "group" and share.target:
            body["group"] = self.group_json(share.target)
        elif share.share_type in ("project", "projectRole") and share.target:
            project = self.perms.project_by_id(share.target)
            if project is not None:
                body["project"] = {"self": f"{self.api}/project/{project.project_id}", "id": project.project_id,
                                   "key": project.key, "name": project.name,
                                   "avatarUrls": self.project_avatars(project), "archived": project.archived}
        elif share.share_type == "user" and share.target:
            body["user"] = self.user_ref(share.target)
        body.update(view=True, edit=False)
        return body

    def filter(self, item: Filter) -> dict:
        owner = self.users.get(item.owner_account_id)
        mine = not self.caller.anonymous and item.owner_account_id == self.caller.user_id
        body: dict = {"self": f"{self.api}/filter/{item.filter_id}", "id": item.filter_id, "name": item.name,
                      "description": ""}
        if owner is not None:
            body["owner"] = self.user_json(owner)
        body.update(jql=item.jql, viewUrl=f"{self.base}/issues/?filter={item.filter_id}",
                    searchUrl=f"{self.api}/search?jql={quote(item.jql, safe='')}", favourite=mine,
                    sharePermissions=[self.share(s) for s in item.share_permissions], editable=mine,
                    sharedUsers={"size": 0, "items": [], "max-results": 1000, "start-index": 0, "end-index": 0},
                    subscriptions={"size": 0, "items": [], "max-results": 1000, "start-index": 0, "end-index": 0})
        return body

    def dashboard(self, item, full: bool = False) -> dict:
        body = {"id": item.dashboard_id, "name": item.name, "self": f"{self.api}/dashboard/{item.dashboard_id}",
                "view": f"{self.base}/secure/Dashboard.jspa?selectPageId={item.dashboard_id}"}
        if full:
            body["sharePermissions"] = [self.share(s) for s in item.share_permissions]
        return body


# --- users and groups ----------------------------------------------------------------------------


async def user_list(request: Request):
    view = DcView(request)
    view.require_admin("the list of users")
    return dc_stream(request, view.dc.users, view.user, 2000, 2000)


def _matches(user: DcUser, query: str) -> bool:
    if query in (".", "%", "*"):
        return True
    q = query.lower()
    words = [user.username.lower(), user.email.lower(), *user.display_name.lower().split()]
    return any(w.startswith(q) for w in words) or user.display_name.lower().startswith(q)


async def user_search(request: Request):
    view = DcView(request)
    view.require_user()
    query = request.query_params.get("username")
    if not query:
        raise Denied(400, "The username query parameter was not provided")
    include_active = flag(request, "includeActive", True)
    include_inactive = flag(request, "includeInactive", False)
    if not (view.perms.has_global("USER_PICKER") or view.perms.jira_admin):
        found: list[DcUser] = []
    else:
        found = [u for u in view.dc.users if ((u.active and include_active) or (not u.active and include_inactive))
                 and not u.deleted and _matches(u, query)]
        found.sort(key=lambda u: (u.username.lower(), u.key))
    return bare_array(request, found[:USER_SEARCH_REACH], view.user, 50, 1000)


async def user(request: Request):
    view = DcView(request)
    view.require_user()
    username = request.query_params.get("username")
    key = request.query_params.get("key")
    if not username and not key:
        raise Denied(400, "Either the 'username' or the 'key' query parameter must be provided.")
    found = view.users.get(username) if username else view.by_key.get(key)
    if found is None or (found.deleted and not (flag(request, "includeDeleted") and view.perms.jira_admin)):
        raise Denied(404, f"The user named '{username or key}' does not exist")
    expand = expands(request)
    groups = sorted(g for g, members in view.dc.memberships.items() if found.username in members)
    roles = [r for r in view.jira.application_roles if set(r.group_ids) & set(groups)]
    body = view.user(found)
    body["groups"] = {"size": len(groups), "items": [view.group_json(g) for g in groups] if "groups" in expand
                      else []}
    body["applicationRoles"] = {"size": len(roles), "items": [{"key": r.key, "name": r.name} for r in roles]
                                if "applicationRoles" in expand else []}
    body["expand"] = "groups,applicationRoles"
    return _json(body)


async def myself(request: Request):
    """GET /rest/api/2/myself: the user the credential authenticates as (the connector's own account)."""
    view = DcView(request)
    view.require_user()
    found = view.users.get(view.caller.user_id)
    return _json(view.user(found) if found else {"name": view.caller.user_id, "active": True})


def _highlight(name: str, query: str) -> str:
    i = name.lower().find(query.lower()) if query else -1
    return name if i < 0 else f"{name[:i]}<b>{name[i:i + len(query)]}</b>{name[i + len(query):]}"


async def groups_picker(request: Request):
    view = DcView(request)
    query = request.query_params.get("query", "")
    excluded = set(multi(request, "exclude"))
    raw = request.query_params.get("maxResults")
    if raw and not raw.strip().isdigit():
        raise Denied(400, f"Invalid value '{raw}' for parameter 'maxResults'.")
    size = min(int(raw), PICKER_CAP) if raw else PICKER_DEFAULT
    matches = [] if view.caller.anonymous else [
        g for g in sorted(view.dc.groups, key=str.lower) if g not in excluded and query.lower() in g.lower()]
    admin_groups = {h.partition(":")[2] for h in view.jira.global_permissions.get("ADMINISTER", [])}
    shown = matches[:size]
    groups = []
    for name in shown:
        labels = []
        if name in admin_groups:
            labels.append({"text": "Admin", "title": "Users added to this group will be given administrative access",
                           "type": "ADMIN"})
        for role in view.jira.application_roles:
            if name in role.group_ids:
                labels.append({"text": role.name, "title": f"Users added to this group will be given access to "
                                                           f"{role.name}", "type": "SINGLE"})
        groups.append({"name": name, "html": _highlight(name, query), "labels": labels})
    return _json({"header": f"Showing {len(shown)} of {len(matches)} matching groups", "total": len(matches),
                  "groups": groups})


async def group_member(request: Request):
    view = DcView(request)
    view.require_admin("group members")
    name = request.query_params.get("groupname")
    if not name:
        raise Denied(400, "The group name must not be empty.")
    if name not in view.dc.memberships and name not in view.dc.groups:
        raise Denied(404, f"The group '{name}' does not exist.")
    include_inactive = flag(request, "includeInactiveUsers")
    members = [view.users[m] for m in view.dc.memberships.get(name, []) if m in view.users]
    members = [u for u in sorted(members, key=lambda u: (u.username.lower(), u.key)) if include_inactive or u.active]
    return page_bean(request, members, view.user_json, 50, 50)


# --- roles, projects, schemes, permissions -------------------------------------------------------


async def application_roles(request: Request):
    view = DcView(request)
    view.require_admin("application roles")
    return _json([view.application_role(r) for r in view.jira.application_roles])


async def roles(request: Request):
    view = DcView(request)
    view.require_admin("project roles")
    return _json([view.role(r) for r in view.jira.roles])


async def projects(request: Request):
    view = DcView(request)
    include_archived = flag(request, "includeArchived")
    expand = expands(request)
    items = [p for p in view.jira.projects if (include_archived or not p.archived) and view.perms.can_view(p)]
    items.sort(key=lambda p: p.key)
    return _json([view.project(p, expand) for p in items])


async def project(request: Request):
    view = DcView(request)
    item = visible_project(view.perms, request.path_params["key"])
    body = view.project(item, expands(request) | {"description", "lead"})
    body["roles"] = view.project_roles(item)
    return _json(body)


async def project_roles(request: Request):
    view = DcView(request)
    item = visible_project(view.perms, request.path_params["key"])
    return _json(view.project_roles(item))


async def project_role(request: Request):
    view = DcView(request)
    item = visible_project(view.perms, request.path_params["key"])
    raw = request.path_params["id"]
    role = next((r for r in view.jira.roles if str(r.role_id) == raw), None)
    if role is None:
        raise Denied(404, f"Can not find a project role with id: {raw}")
    return _json(view.role(role, item))


async def project_permission_scheme(request: Request):
    view = DcView(request)
    view.require_user()
    item = find_project(view.jira, request.path_params["key"])
    if item is None or not view.perms.can_view(item):
        raise Denied(404, f"No project could be found with key '{request.path_params['key']}'.")
    view.require_admin("the project's configuration")
    scheme = view.perms.schemes.get(item.scheme_id)
    if scheme is None:
        raise Denied(404, "The project has no permission scheme.")
    return _json(view.scheme(scheme, expands(request)))


async def permission_schemes(request: Request):
    view = DcView(request)
    view.require_admin("permission schemes")
    expand = expands(request)
    return _json({"permissionSchemes": [view.scheme(s, expand) for s in view.jira.schemes]})


async def my_permissions(request: Request):
    view = DcView(request)
    keys = requested_permissions(request, required=False)
    key = request.query_params.get("projectKey") or request.query_params.get("projectId")
    context_project = visible_project(view.perms, key) if key else None
    have = view.perms.mine(keys, context_project)
    return _json({"permissions": {k: render_permission(k, have[k]) for k in keys}})


# --- filters and dashboards ----------------------------------------------------------------------


def _filter(view: DcView, raw: str):
    item = next((f for f in view.jira.filters if f.filter_id == raw), None)
    if item is None or not view.perms.sees_filter(item):
        raise Denied(400, "The selected filter is not available to you, perhaps it has been deleted or had its "
                          "permissions changed.")
    return item


async def filter_one(request: Request):
    view = DcView(request)
    return _json(view.filter(_filter(view, request.path_params["id"])))


async def filter_permissions(request: Request):
    view = DcView(request)
    item = _filter(view, request.path_params["id"])
    return _json([view.share(s) for s in item.share_permissions])


async def filter_favourites(request: Request):
    view = DcView(request)
    view.require_user()
    mine = [f for f in view.jira.filters if f.owner_account_id == view.caller.user_id]
    return _json([view.filter(f) for f in sorted(mine, key=lambda f: (f.name.lower(), int(f.filter_id)))])


async def dashboards(request: Request):
    view = DcView(request)
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
        start = _int_param(request.query_params, "startAt", 0)
        size = _page_size(request.query_params, "maxResults", DASHBOARD_DEFAULT, DASHBOARD_CAP)
    except _BadParam as exc:
        raise Denied(400, str(exc)) from exc
    page = items[start:start + size] if size > 0 else []
    body: dict = {"startAt": start, "maxResults": size, "total": len(items)}
    if start > 0 and size > 0:
        body["prev"] = str(request.url.include_query_params(startAt=max(start - size, 0), maxResults=size))
    if start + len(page) < len(items) and size > 0:
        body["next"] = str(request.url.include_query_params(startAt=start + size, maxResults=size))
    body["dashboards"] = [view.dashboard(d) for d in page]
    return _json(body)


async def dashboard_one(request: Request):
    view = DcView(request)
    raw = request.path_params["id"]
    item = next((d for d in view.jira.dashboards if d.dashboard_id == raw), None)
    if item is None or not view.perms.sees_dashboard(item):
        raise Denied(404, f"The dashboard with id '{raw}' does not exist.")
    return _json(view.dashboard(item, full=True))


# --- instance ------------------------------------------------------------------------------------


def version_numbers(version: str) -> list[int]:
    numbers = [int(n) for n in re.findall(r"\d+", version)[:3]]
    return numbers + [0] * (3 - len(numbers))


async def server_info(request: Request):
    view = DcView(request)
    major, minor, patch = version_numbers(view.dc.version)
    clock = view.org.clock
    build = (clock - timedelta(days=60 + minor)).replace(hour=11, minute=5, second=0, microsecond=0)
    return _json({
        "baseUrl": view.base,
        "version": view.dc.version,
        "versionNumbers": [major, minor, patch],
        "deploymentType": "Server",  # what Data Center answers too (Jira 10.3.13 reports "Server")
        "buildNumber": major * 100_000 + minor * 1000 + patch,
        "buildDate": jira_time(build),
        "databaseBuildNumber": major * 100_000 + minor * 1000 + patch,
        "serverTime": jira_time(clock),
        "scmInfo": "1c4b2e8f9a0d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
        "serverTitle": view.jira.application_properties.get("jira.title", "Jira"),
    })


async def configuration_(request: Request):
    view = DcView(request)
    view.require_user()
    return _json(configuration(view.jira))


async def app_properties(request: Request):
    view = DcView(request)
    if view.caller.anonymous:
        raise Denied(403, "The action performed requires a logged in user.")
    key = request.query_params.get("key")
    if not view.perms.jira_admin:
        raise Denied(404, f"Property with key '{key}' does not exist." if key
                     else "You do not have permission to view application properties.")
    properties = application_properties(view.jira, view.base)
    if key:
        found = next((p for p in properties if p["key"] == key), None)
        if found is None:
            raise Denied(404, f"Property with key '{key}' does not exist.")
        return _json(found)
    pattern = request.query_params.get("keyFilter")
    if pattern:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise Denied(400, f"Invalid keyFilter '{pattern}': {exc}") from exc
        properties = [p for p in properties if compiled.match(p["key"])]
    return _json(properties)


# --- Atlassian Audit -----------------------------------------------------------------------------


def _i18n(prefix: str, text: str) -> str:
    return prefix + re.sub(r"[^a-z0-9]+", ".", text.lower()).strip(".")


def _audit_entity(view: DcView, event) -> dict:
    fields = event.fields
    author = view.users.get(event.actor_id or "")
    category = fields.get("category", "")
    area, level = AUDIT_AREAS.get(category.lower(), ("GLOBAL_CONFIG_AND_ADMINISTRATION", "BASE"))
    changed = []
    for change in fields.get("changedValues", []):
        entry = {"key": change.get("key") or change.get("fieldName") or change.get("name", ""),
                 "from": change.get("from", change.get("changedFrom")), "to": change.get("to", change.get("changedTo"))}
        changed.append({k: v for k, v in entry.items() if v is not None})
    return {
        "timestamp": iso_z(event.time),
        "author": {"name": author.display_name if author else (event.actor_id or "Anonymous"),
                   "type": "user" if event.actor_id else "system",
                   "id": author.key if author else (event.actor_id or "-1"),
                   "uri": f"{view.base}/secure/ViewProfile.jspa?name={quote(event.actor_id or '')}",
                   "avatarUri": ""},
        "type": {"categoryI18nKey": _i18n("jira.auditing.category.", category), "category": category,
                 "actionI18nKey": _i18n("jira.auditing.", event.action), "action": event.action,
                 "area": area, "level": level},
        "affectedObjects": [{"name": o.get("name", ""), "type": o.get("type", ""),
                             **({"id": o["id"]} if o.get("id") else {})}
                            for o in fields.get("affectedObjects", [])],
        "changedValues": changed,
        "source": fields.get("source", ""),
        "system": view.base,
        "method": "Browser",
        "extraAttributes": [],
        "id": int(event.event_id) if event.event_id.isdigit() else stable_hash(event.event_id) % 10**12,
    }


async def audit_events(request: Request):
    view = DcView(request)
    view.require_admin("the audit log")
    token = request.query_params.get("pageCursor")
    visible = view.org.clock
    if token:
        try:
            pinned = decode_cursor(token).get("v")
        except InvalidCursor as exc:
            raise Denied(400, str(exc)) from exc
        if isinstance(pinned, int):
            visible = min(visible, from_ms(pinned))
    since = parse_moment(request.query_params.get("from"), "from")
    until = parse_moment(request.query_params.get("to"), "to")
    log = view.dc.audit
    if log is None or (since and until and since > until):
        items = []
    else:
        items = Reversed(log.window(visible, since, until))
    return dc_audit(request, items, lambda e: _audit_entity(view, e), AUDIT_DEFAULT, AUDIT_CAP,
                    cursor_state={"v": to_ms(visible)})


# --- Universal Plugin Manager --------------------------------------------------------------------


async def upm_installed(request: Request):
    view = DcView(request)
    view.require_admin("installed apps")
    return upm.upm_listing(view.dc.apps, upm.context_of(request))


async def upm_plugin(request: Request):
    view = DcView(request)
    view.require_admin("installed apps")
    return upm.upm_detail(view.dc.apps, request.path_params["plugin_key"], upm.context_of(request))


async def upm_marketplace(request: Request):
    view = DcView(request)
    view.require_admin("installed apps")
    flag(request, "updates")  # validated; every Marketplace entry carries updateAvailable either way
    return upm.upm_marketplace(view.dc.apps, upm.context_of(request))


# --- routing -------------------------------------------------------------------------------------

_API = "/rest/api/2"
ROUTES: list[Route] = [
    Route(f"{_API}/user/list", user_list, methods=["GET"]),
    Route(f"{_API}/user/search", user_search, methods=["GET"]),
    Route(f"{_API}/user", user, methods=["GET"]),
    Route(f"{_API}/myself", myself, methods=["GET"]),
    Route(f"{_API}/groups/picker", groups_picker, methods=["GET"]),
    Route(f"{_API}/group/member", group_member, methods=["GET"]),
    Route(f"{_API}/applicationrole", application_roles, methods=["GET"]),
    Route(f"{_API}/role", roles, methods=["GET"]),
    Route(f"{_API}/project", projects, methods=["GET"]),
    Route(f"{_API}/project/{{key}}", project, methods=["GET"]),
    Route(f"{_API}/project/{{key}}/role", project_roles, methods=["GET"]),
    Route(f"{_API}/project/{{key}}/role/{{id}}", project_role, methods=["GET"]),
    Route(f"{_API}/project/{{key}}/permissionscheme", project_permission_scheme, methods=["GET"]),
    Route(f"{_API}/permissionscheme", permission_schemes, methods=["GET"]),
    Route(f"{_API}/mypermissions", my_permissions, methods=["GET"]),
    Route(f"{_API}/filter/favourite", filter_favourites, methods=["GET"]),
    Route(f"{_API}/filter/{{id}}", filter_one, methods=["GET"]),
    Route(f"{_API}/filter/{{id}}/permission", filter_permissions, methods=["GET"]),
    Route(f"{_API}/dashboard", dashboards, methods=["GET"]),
    Route(f"{_API}/dashboard/{{id}}", dashboard_one, methods=["GET"]),
    Route(f"{_API}/serverInfo", server_info, methods=["GET"]),
    Route(f"{_API}/configuration", configuration_, methods=["GET"]),
    Route(f"{_API}/application-properties", app_properties, methods=["GET"]),
    Route("/rest/auditing/1.0/events", audit_events, methods=["GET"]),
    Route("/rest/plugins/1.0/", upm_installed, methods=["GET"]),
    Route("/rest/plugins/1.0/installed-marketplace", upm_marketplace, methods=["GET"]),
    Route("/rest/plugins/1.0/{plugin_key}-key", upm_plugin, methods=["GET"]),
]

