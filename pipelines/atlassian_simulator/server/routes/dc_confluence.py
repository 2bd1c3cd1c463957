"""Confluence Data Center: users, groups, spaces, space and global permissions, audit, UPM.

Mounted at `/dc/{instance}`; every path starts with `/confluence` because that is the DC
context path (the CDC spec's server URL ends in `/confluence`). A Jira DC instance answers
404 here. Authentication is a personal access token as Bearer; no token is the anonymous
user, who gets the spaces anonymous users may view when the instance grants anonymous
"Can use" (`dc.anonymous_permissions`), the server information and the access mode, and
401 elsewhere. Principal ids in the state are usernames and group names.

The CDC document is generated from Java types and leaves most shapes open (`Person`,
`Subject` with just `displayName`/`type`, `Group` empty); where it does, the shapes follow
Confluence's REST representation (user `type: known`, `username`, `userKey`), and the
choices the spec cannot settle are listed in the module's tests and the report:
- DC user keys are 32 hex digits derived from the instance and the username;
- space permissions only list operations DC knows (`read` applies to the space only);
  Cloud-style access classes map to DC subjects: `anonymous-users` -> the anonymous subject,
  `authenticated-users`/`all-licensed-users` -> the instance's `confluence-users` group;
- group global permissions (`/rest/api/permissions`) are derived from the instance's admin
  and users groups (the state only records the anonymous and unlicensed grants).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.generator.common import stable_hash
from atlassian_simulator.lazy import Reversed, from_ms, to_ms
from atlassian_simulator.model import DcInstance, DcUser, Space
from atlassian_simulator.server.context import Context, Denied, ctx, require_admin
from atlassian_simulator.server.paging import InvalidCursor, confluence_v1, dc_audit, decode_cursor, site_url
from atlassian_simulator.server.routes.confluence_common import (
    Matching,
    epoch_ms,
    iso_offset,
    iso_z,
    multi_param,
    parse_iso,
    patch_links,
)
from atlassian_simulator.server.routes.upm import context_of, upm_detail, upm_listing, upm_marketplace

CONTEXT = "/confluence"
USERS = (100, 1000)  # CDC: default 100; the cap ("fixed system limits") is not published
GROUPS = (200, 1000)  # CDC: default 200
MEMBERS = (200, 1000)  # CDC: default 200
SPACES = (25, 1000)  # CDC: default 25
AUDIT = (1000, 1000)  # legacy /rest/api/audit, as on Cloud
AUDIT_EVENTS = (200, 1000)  # Atlassian Audit: not in CDC; DIGEST gives no numbers (assumed)

# Global permission keys -> the (operationKey, targetType) Confluence's REST API reports.
GLOBAL_OPERATIONS = {
    "USECONFLUENCE": ("use", "application"),
    "VIEWUSERPROFILES": ("read", "userProfile"),
    "CREATESPACE": ("create_space", "application"),
    "ADMINISTRATECONFLUENCE": ("administer", "application"),
}
USERS_GROUP_GRANTS = ("USECONFLUENCE", "VIEWUSERPROFILES", "CREATESPACE")
ADMIN_GROUP_GRANTS = ("USECONFLUENCE", "VIEWUSERPROFILES", "CREATESPACE", "ADMINISTRATECONFLUENCE")
AREAS = {"Security": "SECURITY", "User management": "USER_MANAGEMENT", "Permissions": "PERMISSIONS"}


# --- the instance and the caller ----------------------------------------------------------------


def instance(request: Request) -> tuple[Context, DcInstance]:
    context = ctx(request)
    if context.dc is None or context.dc.product != "confluence":
        raise Denied(404, "Not found.")
    return context, context.dc


def admin_instance(request: Request, what: str) -> tuple[Context, DcInstance]:
    """A Confluence instance (404 otherwise) and a caller with admin permission (401/403 otherwise)."""
    instance(request)
    return require_admin(request, what), ctx(request).dc


def base_url(request: Request) -> str:
    """The instance's base URL including the `/confluence` context path."""
    return site_url(request)


def user_key(dc: DcInstance, username: str) -> str:
    """Confluence user keys are 32 hex digits (e.g. 4028d6768851c8900188556ba6000014)."""
    return f"{stable_hash('userkey', dc.name, username):016x}{stable_hash('userkey2', dc.name, username):016x}"


def users_by_name(dc: DcInstance) -> dict[str, DcUser]:
    return {u.username: u for u in dc.users if not u.deleted}


def users_group(dc: DcInstance) -> str:
    return "confluence-users" if "confluence-users" in dc.groups else next(
        (g for g in dc.groups if g.endswith("-users")), dc.groups[0] if dc.groups else "confluence-users")


def admin_group(dc: DcInstance) -> str:
    return "confluence-administrators" if "confluence-administrators" in dc.groups else next(
        (g for g in dc.groups if g.endswith("-administrators")), "confluence-administrators")


def caller_groups(dc: DcInstance, username: str | None) -> set[str]:
    return {g for g, members in dc.memberships.items() if username in members} if username else set()


def can_view(space: Space, dc: DcInstance, username: str | None) -> bool:
    """Read/space held directly, through a group, or by everyone (anonymous grant)."""
    groups = caller_groups(dc, username)
    for p in space.permissions:
        if p.operation != "read" or p.target_type != "space":
            continue
        if p.principal_type == "role":
            if p.principal_id == "anonymous-users" and "USECONFLUENCE" in dc.anonymous_permissions:
                return True
            if username is not None and p.principal_id in ("authenticated-users", "all-licensed-users"):
                return True
        elif username is None:
            continue
        elif p.principal_type == "user" and p.principal_id == username:
            return True
        elif p.principal_type == "group" and p.principal_id in groups:
            return True
    return False


def caller(request: Request, allow_anonymous: bool = False) -> tuple[Context, DcInstance, str | None]:
    context, dc = instance(request)
    if context.anonymous:
        if allow_anonymous and "USECONFLUENCE" in dc.anonymous_permissions:
            return context, dc, None
        raise Denied(401, "Client must be authenticated to access this resource.")
    return context, dc, context.credential.username


def find_space(dc: DcInstance, key: str) -> Space:
    space = next((s for s in dc.confluence.spaces if s.key == key), None) if dc.confluence else None
    if space is None:
        raise Denied(404, f"No space with key : {key}")
    return space


def dc_v1(request: Request, items, render, default: int, cap: int) -> JSONResponse:
    """Confluence v1 start/limit paging with DC's `_links.context` (`/confluence`)."""
    return patch_links(confluence_v1(request, items, render, default, cap), context=CONTEXT)


# --- renderers -----------------------------------------------------------------------------------


def render_user(dc: DcInstance, user: DcUser, base: str, expand: set[str]) -> dict:
    key = user_key(dc, user.username)
    body = {
        "type": "known",
        "username": user.username,
        "userKey": key,
        "profilePicture": {"path": f"{CONTEXT}/images/icons/profilepics/default.svg", "width": 48, "height": 48,
                           "isDefault": True},
        "displayName": user.display_name,
    }
    expandable = {}
    if "status" in expand:
        body["status"] = "active" if user.active else "deactivated"
    else:
        expandable["status"] = ""
    if "details.personal" in expand:
        body["details"] = {"personal": {"email": user.email}}
    else:
        expandable["details"] = ""
    body["_links"] = {"self": f"{base}/rest/api/user?key={key}"}
    body["_expandable"] = expandable
    return body


def expand_of(request: Request) -> set[str]:
    return set(multi_param(request, "expand"))


def render_group(name: str, base: str) -> dict:
    return {"type": "group", "name": name, "_links": {"self": f"{base}/rest/api/group/{name}"}}


def render_space(space: Space, base: str) -> dict:
    return {
        "id": int(space.space_id),
        "key": space.key,
        "name": space.name,
        "type": space.space_type,
        "status": space.status,
        "_links": {"webui": f"/display/{space.key}", "self": f"{base}/rest/api/space/{space.key}"},
        "_expandable": {"metadata": "", "icon": "", "description": "", "retentionPolicy": "",
                        "homepage": f"/rest/api/content/{space.homepage_id}"},
    }


def subject(dc: DcInstance, principal_type: str, principal_id: str) -> dict:
    if principal_type == "role" and principal_id == "anonymous-users":
        return {"type": "anonymous", "displayName": "Anonymous"}
    if principal_type == "role":  # authenticated / all licensed users: DC's users group
        principal_type, principal_id = "group", users_group(dc)
    if principal_type == "group":
        return {"type": "group", "displayName": principal_id, "name": principal_id}
    user = users_by_name(dc).get(principal_id)
    return {"type": "user", "displayName": user.display_name if user else principal_id, "username": principal_id,
            "userKey": user_key(dc, principal_id)}


def space_permission_rows(dc: DcInstance, space: Space, only_anonymous: bool = False) -> list[dict]:
    """The space's grants as DC reports them: DC operations only, access classes mapped, no duplicates."""
    rows: list[dict] = []
    seen: set[tuple] = set()
    for p in space.permissions:
        if p.operation == "read" and p.target_type != "space":
            continue  # DC has a single "View" permission (read/space)
        subj = subject(dc, p.principal_type, p.principal_id)
        if only_anonymous and subj["type"] != "anonymous":
            continue
        key = (subj["type"], subj.get("name") or subj.get("username") or "", p.operation, p.target_type)
        if key in seen:
            continue
        seen.add(key)
        rows.append({
            "operation": {"targetType": p.target_type, "operationKey": p.operation},
            "subject": subj,
            "spaceKey": space.key,
            "spaceId": int(space.space_id),
        })
    return rows


def global_rows(dc: DcInstance, who: str) -> list[dict]:
    """Global permission grants: `who` is "all", "anonymous" or "unlicensed"."""
    rows: list[dict] = []

    def add(keys, subj):
        for key in keys:
            if key in GLOBAL_OPERATIONS:
                op, target = GLOBAL_OPERATIONS[key]
                rows.append({"operation": {"targetType": target, "operationKey": op}, "subject": dict(subj)})

    if who == "all":
        add(ADMIN_GROUP_GRANTS, subject(dc, "group", admin_group(dc)))
        add(USERS_GROUP_GRANTS, subject(dc, "group", users_group(dc)))
    if who in ("all", "anonymous"):
        add(dc.anonymous_permissions, {"type": "anonymous", "displayName": "Anonymous"})
    if who == "unlicensed":
        add(dc.unlicensed_permissions, {"type": "unlicensed", "displayName": "Unlicensed users"})
    return rows


def render_legacy_audit(dc: DcInstance):
    users = users_by_name(dc)

    def render(event) -> dict:
        f = event.fields
        who = users.get(event.actor_id) if event.actor_id else None
        objects = [{"name": o.get("name", ""), "objectType": o.get("type", "")} for o in f.get("affectedObjects", [])]
        return {
            "author": {
                "type": "known",
                "displayName": who.display_name if who else (event.actor_id or "Anonymous"),
                "username": event.actor_id or "",
                "userKey": user_key(dc, event.actor_id) if event.actor_id else "",
            },
            "remoteAddress": f.get("source", ""),
            "creationDate": epoch_ms(event.time),
            "summary": event.action,
            "description": "",
            "category": f.get("category", ""),
            "sysAdmin": False,
            "affectedObject": objects[0] if objects else {"name": "", "objectType": ""},
            "changedValues": [{"name": c.get("name", c.get("key", "")), "oldValue": c.get("from", ""),
                               "newValue": c.get("to", "")} for c in f.get("changedValues", [])],
            "associatedObjects": objects[1:],
        }

    return render


def _i18n(prefix: str, text: str) -> str:
    return prefix + re.sub(r"[^a-z0-9]+", ".", text.lower()).strip(".")


def render_audit_entity(dc: DcInstance, base: str):
    """Atlassian Audit `entities[]`, in the same shape the Jira DC routes serve (one parser for both)."""
    users = users_by_name(dc)

    def render(event) -> dict:
        f = event.fields
        who = users.get(event.actor_id) if event.actor_id else None
        category = f.get("category", "")
        changed = []
        for change in f.get("changedValues", []):
            entry = {"key": change.get("key") or change.get("name", ""),
                     "from": change.get("from", change.get("oldValue")), "to": change.get("to", change.get("newValue"))}
            changed.append({k: v for k, v in entry.items() if v is not None})
        return {
            "timestamp": iso_z(event.time),
            "author": {
                "name": who.display_name if who else (event.actor_id or "Anonymous"),
                "type": "user" if event.actor_id else "system",
                "id": user_key(dc, event.actor_id) if event.actor_id else "-1",
                "uri": f"{base}/display/~{event.actor_id or ''}",
                "avatarUri": "",
            },
            "type": {
                "categoryI18nKey": _i18n("confluence.auditing.category.", category),
                "category": category,
                "actionI18nKey": _i18n("confluence.auditing.", event.action),
                "action": event.action,
                "area": AREAS.get(category, "GLOBAL_CONFIG_AND_ADMINISTRATION"),
                "level": "BASE",
            },
            "affectedObjects": [{"name": o.get("name", ""), "type": o.get("type", ""),
                                 **({"id": o["id"]} if o.get("id") else {})} for o in f.get("affectedObjects", [])],
            "changedValues": changed,
            "source": f.get("source", ""),
            "system": base,
            "method": "Browser",
            "extraAttributes": [],
            "id": int(event.event_id) if event.event_id.isdigit() else stable_hash(event.event_id) % 10**12,
        }

    return render


# --- handlers ------------------------------------------------------------------------------------


async def user_list(request: Request):
    """GET /confluence/rest/api/user/list: every registered user (disabled included), `expand=status`."""
    _, dc, _ = caller(request)
    base = base_url(request)
    expand = expand_of(request)
    items = [u for u in dc.users if not u.deleted]
    return dc_v1(request, items, lambda u: render_user(dc, u, base, expand), *USERS)


async def current_user(request: Request):
    """GET /confluence/rest/api/user/current: the user the credential authenticates as."""
    _, dc, username = caller(request)
    found = users_by_name(dc).get(username)
    if found is None:
        return JSONResponse({"type": "known", "username": username})
    return JSONResponse(render_user(dc, found, base_url(request), expand_of(request)))


def _one_user(request: Request, dc: DcInstance) -> DcUser:
    """The user `username=` or `key=` names; 404 as Confluence answers for an unknown or deleted one."""
    username, key = request.query_params.get("username"), request.query_params.get("key")
    if not username and not key:
        raise Denied(400, "A username or key must be provided.")
    found = next((u for u in dc.users if not u.deleted and
                  (u.username == username if username else user_key(dc, u.username) == key)), None)
    if found is None:
        raise Denied(404, f"No user found with {'username' if username else 'key'} : {username or key}")
    return found


async def user(request: Request):
    """GET /confluence/rest/api/user?username= (or key=): one user, as user/list renders it (`expand`)."""
    _, dc, _ = caller(request)
    return JSONResponse(render_user(dc, _one_user(request, dc), base_url(request), expand_of(request)))


async def user_member_of(request: Request):
    """GET /confluence/rest/api/user/memberof?username= (or key=): the user's groups, alphabetical, paged."""
    _, dc, _ = caller(request)
    found = _one_user(request, dc)
    base = base_url(request)
    items = sorted((g for g, members in dc.memberships.items() if found.username in members and g in dc.groups),
                   key=str.lower)
    return dc_v1(request, items, lambda g: render_group(g, base), *GROUPS)


async def groups(request: Request):
    """GET /confluence/rest/api/group: group names, alphabetical."""
    _, dc, _ = caller(request)
    base = base_url(request)
    return dc_v1(request, sorted(dc.groups, key=str.lower), lambda g: render_group(g, base), *GROUPS)


async def group_members(request: Request):
    """GET /confluence/rest/api/group/{groupName}/member: admin only."""
    _, dc = admin_instance(request, "group members")
    name = request.path_params["groupName"]
    if name not in dc.groups:
        raise Denied(404, f"No group found with name : {name}")
    users = users_by_name(dc)
    items = [users[u] for u in dc.memberships.get(name, []) if u in users]
    base = base_url(request)
    expand = expand_of(request)
    return dc_v1(request, items, lambda u: render_user(dc, u, base, expand), *MEMBERS)


async def spaces(request: Request):
    """GET /confluence/rest/api/space: spaces the caller can view; filters spaceKey, type, status."""
    _, dc, username = caller(request, allow_anonymous=True)
    keys = multi_param(request, "spaceKey", "spaceKeys")
    ids = multi_param(request, "spaceId", "spaceIds")
    space_type = request.query_params.get("type")
    status = request.query_params.get("status")
    items = [
        s for s in (dc.confluence.spaces if dc.confluence else [])
        if (not keys or s.key in keys) and (not ids or s.space_id in ids)
        and (not space_type or s.space_type == space_type) and (not status or s.status == status)
        and can_view(s, dc, username)
    ]
    base = base_url(request)
    return dc_v1(request, items, lambda s: render_space(s, base), *SPACES)


def _space_admin(request: Request) -> tuple[DcInstance, Space]:
    """The space, for a system administrator or an administrator of that space (403 otherwise)."""
    context, dc, username = caller(request)
    space = find_space(dc, request.path_params["spaceKey"])
    if not context.is_admin:
        groups = caller_groups(dc, username)
        if not any(p.operation == "administer" and p.target_type == "space" and (
            (p.principal_type == "user" and p.principal_id == username)
            or (p.principal_type == "group" and p.principal_id in groups)
        ) for p in space.permissions):
            raise Denied(403, "You are not allowed to view permissions of this space.")
    return dc, space


async def space_permissions(request: Request):
    """GET /confluence/rest/api/space/{spaceKey}/permissions: an unpaged array."""
    dc, space = _space_admin(request)
    return JSONResponse(space_permission_rows(dc, space))


async def space_permissions_anonymous(request: Request):
    """GET /confluence/rest/api/space/{spaceKey}/permissions/anonymous."""
    dc, space = _space_admin(request)
    return JSONResponse(space_permission_rows(dc, space, only_anonymous=True))


def _global(who: str):
    async def handler(request: Request):
        _, dc = admin_instance(request, "global permissions")
        return JSONResponse(global_rows(dc, who))

    return handler


async def server_information(request: Request):
    """GET /confluence/rest/api/server-information (no permission needed)."""
    _, dc = instance(request)
    parts = [int(p) for p in (dc.version.split(".") + ["0", "0"])[:3] if p.isdigit()] + [0, 0, 0]
    major, minor, patch = parts[:3]
    build = major * 1000 + minor * 10 + patch
    built = datetime(2015 + major, 1 + minor % 12, 1 + patch % 28, tzinfo=UTC)
    return JSONResponse({
        "baseUrl": base_url(request),
        "version": dc.version,
        "buildNumber": build,
        "marketplaceBuildNumber": build,
        "buildDate": iso_offset(built),
    })


async def access_mode(request: Request):
    """GET /confluence/rest/api/accessmode: a bare JSON string."""
    instance(request)
    return JSONResponse("READ_WRITE")


async def legacy_audit(request: Request):
    """GET /confluence/rest/api/audit (deprecated): v1 records, newest first, admin only."""
    context, dc = admin_instance(request, "the audit log")
    since = parse_iso(request.query_params.get("startDate"), "startDate")
    until = parse_iso(request.query_params.get("endDate"), "endDate")
    render = render_legacy_audit(dc)
    if dc.audit is None or (since and until and since > until):
        items = []
    else:
        items = Reversed(dc.audit.window(context.org.clock, since, until))
    needle = request.query_params.get("searchString")
    if needle:
        items = Matching(items, needle, render)
    return dc_v1(request, items, render, *AUDIT)


async def audit_events(request: Request):
    """GET /confluence/rest/auditing/1.0/events: Atlassian Audit, newest first, `from`/`to` ISO 8601.

    The first page pins its snapshot (visibility moment and window) in the cursor, so later
    pages stay consistent while the clock moves; `pageCursor` wins over `offset`.
    """
    context, dc = admin_instance(request, "the audit log")
    state: dict = {}
    token = request.query_params.get("pageCursor")
    if token:
        try:
            state = decode_cursor(token)
        except InvalidCursor as exc:
            raise Denied(400, str(exc)) from exc
    if "v" in state:
        visible, since_ms, until_ms = state["v"], state.get("f"), state.get("t")
    else:
        since = parse_iso(request.query_params.get("from"), "from")
        until = parse_iso(request.query_params.get("to"), "to")
        visible = to_ms(context.org.clock)
        since_ms = to_ms(since) if since else None
        until_ms = to_ms(until) if until else None
    if dc.audit is None or (since_ms is not None and until_ms is not None and since_ms > until_ms):
        items = []
    else:
        items = Reversed(dc.audit.window(
            from_ms(visible),
            from_ms(since_ms) if since_ms is not None else None,
            from_ms(until_ms) if until_ms is not None else None,
        ))
    return dc_audit(request, items, render_audit_entity(dc, base_url(request)), *AUDIT_EVENTS,
                    cursor_state={"v": visible, "f": since_ms, "t": until_ms})


async def upm_list(request: Request):
    _, dc = admin_instance(request, "the plugin manager")
    return upm_listing(dc.apps, context_of(request))


async def upm_plugin(request: Request):
    _, dc = admin_instance(request, "the plugin manager")
    return upm_detail(dc.apps, request.path_params["plugin_key"], context_of(request))


async def upm_installed_marketplace(request: Request):
    _, dc = admin_instance(request, "the plugin manager")
    return upm_marketplace(dc.apps, context_of(request))


def _upm_routes() -> list[Route]:
    routes = []
    for version in ("1.0", "latest"):
        base = f"{CONTEXT}/rest/plugins/{version}"
        routes += [
            Route(f"{base}/", upm_list, methods=["GET"]),
            Route(base, upm_list, methods=["GET"]),
            Route(f"{base}/installed-marketplace", upm_installed_marketplace, methods=["GET"]),
            Route(base + "/{plugin_key}-key", upm_plugin, methods=["GET"]),
        ]
    return routes


ROUTES: list[Route] = [
    Route(f"{CONTEXT}/rest/api/user/list", user_list, methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/user/current", current_user, methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/user/memberof", user_member_of, methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/user", user, methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/group", groups, methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/group/{{groupName}}/member", group_members, methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/space", spaces, methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/space/{{spaceKey}}/permissions", space_permissions, methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/space/{{spaceKey}}/permissions/anonymous", space_permissions_anonymous,
          methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/permissions", _global("all"), methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/permissions/anonymous", _global("anonymous"), methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/permissions/unlicensed", _global("unlicensed"), methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/server-information", server_information, methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/accessmode", access_mode, methods=["GET"]),
    Route(f"{CONTEXT}/rest/api/audit", legacy_audit, methods=["GET"]),
    Route(f"{CONTEXT}/rest/auditing/1.0/events", audit_events, methods=["GET"]),
] + _upm_routes()
