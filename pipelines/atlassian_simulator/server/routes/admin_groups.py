"""Organization API v2, groups and workspaces.

Groups: deprecated GET list and POST search (`limit` 20/100), detail, count, stats, and a
group's role assignments (`Group.role_assignments`). Workspaces: `POST /v2/orgs/{orgId}/
workspaces` (body `cursor`/`limit` 20/1000/`query`/`sort`, `meta {startIndex, endIndex,
pageSize, total}`). A workspace's id is its product ARI (`ari:cloud:jira::site/<cloudId>`):
the spec tells clients to take resource ids for role assignments from this endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.model import Directory, Group, Organization, Workspace
from atlassian_simulator.server.paging import _BadParam, _page_size, admin_v2
from atlassian_simulator.server.routes.admin_common import (
    admin_error,
    bad_request,
    body_list,
    check_list,
    endpoint,
    iso,
    json_body,
    org_for,
    query_bool,
    query_list,
    resource_owner,
    site_ari,
    sites_by_name,
)
from atlassian_simulator.server.routes.admin_directory import ROLE_IDS, cursor_state, directory_scope, role_filters

GROUPS_PAGE, GROUPS_CAP = 20, 100
WORKSPACES_PAGE, WORKSPACES_CAP = 20, 1000
GROUP_EXPANDS = ("counts.resources", "counts.users")


# --- groups --------------------------------------------------------------------------------------


def group_filters(source: Mapping[str, Any], request: Request | None = None) -> dict:
    """Normalized group filters from a search body, or (with `request`) from query parameters."""
    filters: dict = {}
    for name, max_items in (("accountIds", 10), ("directoryIds", 10), ("groupIds", 10), ("resourceIds", 20),
                            ("resourceOwners", 10), ("roleIds", 10), ("groupNames", 100)):
        if name == "groupNames" and request is not None:
            continue
        values = query_list(request, name) if request is not None else body_list(source, name)
        if values:
            filters[name] = check_list(name, values, max_items, ROLE_IDS if name == "roleIds" else None)
    term = source.get("searchTerm")
    if term:
        if not isinstance(term, str):
            raise bad_request("Invalid value for field 'searchTerm'.")
        filters["searchTerm"] = term.lower()
    if "groupNames" in filters and ("groupIds" in filters or "searchTerm" in filters):
        raise bad_request("'groupNames' is mutually exclusive with 'groupIds' and 'searchTerm'.")
    sort = source.get("sortBy") if request is None else None
    if sort:
        if not isinstance(sort, list) or len(sort) != 1 or not isinstance(sort[0], dict):
            raise bad_request("'sortBy' takes exactly one {field, direction}.")
        if sort[0].get("field") != "name" or sort[0].get("direction") not in ("asc", "desc"):
            raise bad_request("'sortBy' supports field 'name', direction 'asc' or 'desc'.")
        filters["sortBy"] = sort[0]["direction"]
    return filters


def search_groups(org: Organization, scope: Directory | None, filters: dict) -> list[Group]:
    members_wanted = set(filters.get("accountIds", []))
    names = {n.lower() for n in filters.get("groupNames", [])}
    out = []
    for group in org.groups:
        if scope is not None and group.directory_id != scope.directory_id:
            continue
        if "directoryIds" in filters and group.directory_id not in filters["directoryIds"]:
            continue
        if "groupIds" in filters and group.group_id not in filters["groupIds"]:
            continue
        if names and group.name.lower() not in names:
            continue
        if "searchTerm" in filters and filters["searchTerm"] not in group.name.lower():
            continue
        if members_wanted and not members_wanted & set(org.memberships.get(group.group_id, ())):
            continue
        aris = [ari for _, ari in group.role_assignments]
        if "resourceIds" in filters and not set(aris) & set(filters["resourceIds"]):
            continue
        if "resourceOwners" in filters and not {resource_owner(a) for a in aris} & set(filters["resourceOwners"]):
            continue
        if "roleIds" in filters and not {r for r, _ in group.role_assignments} & set(filters["roleIds"]):
            continue
        out.append(group)
    if "sortBy" in filters:
        out.sort(key=lambda g: (g.name.lower(), g.group_id), reverse=filters["sortBy"] == "desc")
    return out


def render_group(org: Organization, group: Group, counts: frozenset[str] | set[str]) -> dict:
    protected = bool(group.role_assignments)  # product access / admin groups cannot be deleted
    body: dict = {
        "id": group.group_id,
        "name": group.name,
        "description": group.description,
        "directoryId": group.directory_id,
        "externalSynced": group.external_synced,
        "managedBy": "external" if group.external_synced else "admins",
        "managementAccess": {"readable": True, "modifiable": not group.external_synced,
                             "deletable": not group.external_synced and not protected},
    }
    if counts:
        body["counts"] = {}
        if "counts.resources" in counts:
            body["counts"]["resources"] = len({ari for _, ari in group.role_assignments})
        if "counts.users" in counts:
            body["counts"]["users"] = len(org.memberships.get(group.group_id, ()))
    return body


def find_group(org: Organization, scope: Directory | None, group_id: str) -> Group:
    group = next((g for g in org.groups if g.group_id == group_id
                  and (scope is None or g.directory_id == scope.directory_id)), None)
    if group is None:
        raise admin_error(404, "Group not found", "ADMIN-404-10")
    return group


async def _groups_page(request: Request, source: Mapping[str, Any], from_query: bool):
    org = org_for(request).org
    scope = directory_scope(org, request.path_params["directory_id"])
    state = cursor_state(source.get("cursor"))
    if state is not None:
        filters, expand = state.get("q") or {}, state.get("e") or []
    elif from_query:
        filters = group_filters(source, request)
        expand = [name for name, flag in (("counts.resources", "counts.includeResources"),
                                          ("counts.users", "counts.includeUsers")) if query_bool(request, flag)]
    else:
        filters = group_filters(source)
        expand = check_list("expand", body_list(source, "expand"), 2, GROUP_EXPANDS)
    groups = search_groups(org, scope, filters)
    wanted = frozenset(expand)
    return admin_v2(source, groups, lambda g: render_group(org, g, wanted), GROUPS_PAGE, GROUPS_CAP,
                    cursor_state={"q": filters, "e": expand})


@endpoint
async def list_groups(request: Request):
    """Deprecated GET (until 30 June 2027); counts with `counts.includeUsers=true` etc."""
    return await _groups_page(request, request.query_params, True)


@endpoint
async def search_groups_post(request: Request):
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "ADMIN-400-24")
    return await _groups_page(request, body, False)


@endpoint
async def count_groups(request: Request):
    org = org_for(request).org
    scope = directory_scope(org, request.path_params["directory_id"])
    return JSONResponse({"count": len(search_groups(org, scope, group_filters(request.query_params, request)))})


@endpoint
async def group_stats(request: Request):
    org = org_for(request).org
    scope = directory_scope(org, request.path_params["directory_id"])
    groups = search_groups(org, scope, {})
    synced = sum(1 for g in groups if g.external_synced)
    return JSONResponse({"totals": {"all": len(groups), "managed": len(groups) - synced, "synced": synced},
                         "types": [{"count": len(groups), "type": "GROUP"}]})


@endpoint
async def get_group(request: Request):
    org = org_for(request).org
    scope = directory_scope(org, request.path_params["directory_id"])
    group = find_group(org, scope, request.path_params["group_id"])
    return JSONResponse({"data": render_group(org, group, frozenset(GROUP_EXPANDS))})


@endpoint
async def group_role_assignments(request: Request):
    org = org_for(request).org
    scope = directory_scope(org, request.path_params["directory_id"])
    group = find_group(org, scope, request.path_params["group_id"])
    state = cursor_state(request.query_params.get("cursor"))
    if state is not None:
        filters = state.get("q") or {}
    else:
        filters = role_filters(request)
    by_resource: dict[str, list[str]] = {}
    for role, ari in group.role_assignments:
        by_resource.setdefault(ari, [])
        if role not in by_resource[ari]:
            by_resource[ari].append(role)
    rows = []
    for ari in sorted(by_resource):
        roles = sorted(by_resource[ari])
        if filters.get("resourceIds") and ari not in filters["resourceIds"]:
            continue
        if filters.get("resourceOwners") and resource_owner(ari) not in filters["resourceOwners"]:
            continue
        if filters.get("roleIds") and not set(roles) & set(filters["roleIds"]):
            continue
        rows.append({"defaultRole": None, "resourceId": ari, "resourceOwner": resource_owner(ari), "roles": roles})
    return admin_v2(request, rows, lambda row: row, GROUPS_PAGE, GROUPS_CAP, cursor_state={"q": filters})


# --- workspaces ----------------------------------------------------------------------------------


def render_workspace(org: Organization, workspace: Workspace) -> dict:
    site = sites_by_name(org).get(workspace.site_name)
    ari = site_ari(workspace.type_key, site) if site else workspace.workspace_id
    residency = next((p for p in org.policies if p.policy_type == "data-residency" and p.status == "enabled"
                      and ari in p.resources), None)
    realm = (residency.rule.get("in") or ["us"])[0].lower() if residency else "us"
    policies = [{"id": p.policy_id, "type": "policy",
                 "attributes": {"fields": {"policyType": p.policy_type, "status": p.status}}}
                for p in org.policies if ari in p.resources]
    plan = site.plan if site else "standard"
    return {
        "id": ari,
        "type": "workspace",
        "attributes": {
            "name": workspace.name,
            "typeKey": workspace.type_key,
            "type": workspace.type_key.split("-")[0],
            "owner": org.org_id,
            "status": workspace.status,
            "statusDetails": [],
            "icons": {},
            "avatars": {},
            "labels": [],
            "sandbox": {"type": "NONE"},
            "usage": None,
            "capacity": None,
            "createdAt": iso(workspace.created_at),
            "createdBy": None,
            "updatedAt": None,
            "hostUrl": workspace.host_url,
            "realm": realm,
            "regions": [{"eu": "eu-central-1", "us": "us-east-1"}.get(realm, realm)],
        },
        "relationships": {
            "entitlements": [{"id": f"{ari}/entitlement", "type": "entitlement",
                              "attributes": {"key": workspace.type_key, "plan": plan.upper(),
                                             "planKey": f"{workspace.type_key}.{plan}"}}],
            "policies": policies,
        },
    }


def _matches(query: Any, rendered: dict) -> bool:
    """Evaluates the workspace `query` (and / nor / field / searchWorkspaces) on a rendered workspace."""
    if not query:
        return True
    if not isinstance(query, dict):
        raise bad_request("Invalid 'query'.", "ADMIN-400-24")
    attributes = rendered["attributes"]
    if "and" in query:
        return all(_matches(q, rendered) for q in query["and"] or [])
    if "nor" in query:
        return not any(_matches(q, rendered) for q in query["nor"] or [])
    if "field" in query:
        field = query["field"] or {}
        name, values = field.get("name"), field.get("values") or []
        actual = rendered.get(name) if name in ("id", "type") else attributes.get(name)
        return str(actual) in [str(v) for v in values]
    if "searchWorkspaces" in query or "value" in query:
        term = str(query.get("value") or query.get("searchWorkspaces") or "").lower()
        return term in attributes["name"].lower() or term in (attributes["hostUrl"] or "").lower()
    if "policies" in query:
        return bool({p["id"] for p in rendered["relationships"]["policies"]} & set(query["policies"] or []))
    if "features" in query:
        return not query["features"]
    raise bad_request("Invalid 'query'.", "ADMIN-400-24")


@endpoint
async def search_workspaces(request: Request):
    org = org_for(request).org
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "ADMIN-400-24")
    state = cursor_state(body.get("cursor"))
    if state is not None:
        query, sort = state.get("q"), state.get("s")
    else:
        query, sort = body.get("query"), body.get("sort") or []
    rendered = [render_workspace(org, w) for w in org.workspaces]
    rendered = [r for r in rendered if _matches(query, r)]
    if not isinstance(sort, list):
        raise bad_request("Invalid 'sort'.", "ADMIN-400-24")
    for spec in reversed(sort):
        field = (spec or {}).get("field")
        rendered.sort(key=lambda r: str(r["attributes"].get(field) or r.get(field) or ""),
                      reverse=(spec or {}).get("order") == "desc")
    start = (state or {}).get("o", 0)
    try:
        size = _page_size(body, "limit", WORKSPACES_PAGE, WORKSPACES_CAP, minimum=1)
    except _BadParam:
        size = WORKSPACES_PAGE  # admin_v2 answers the 400 itself
    start = start if isinstance(start, int) and not isinstance(start, bool) else 0
    shown = max(0, min(size, len(rendered) - start))
    meta = {"startIndex": start if shown else None, "endIndex": start + shown - 1 if shown else None,
            "pageSize": size, "total": len(rendered)}
    return admin_v2(body, rendered, lambda r: r, WORKSPACES_PAGE, WORKSPACES_CAP,
                    cursor_state={"q": query, "s": sort}, meta=meta)


_DIR = "/admin/v2/orgs/{org_id}/directories/{directory_id}"
ROUTES = [
    Route(f"{_DIR}/groups", list_groups, methods=["GET"]),
    Route(f"{_DIR}/groups/search", search_groups_post, methods=["POST"]),
    Route(f"{_DIR}/groups/count", count_groups, methods=["GET"]),
    Route(f"{_DIR}/groups/stats", group_stats, methods=["GET"]),
    Route(f"{_DIR}/groups/{{group_id}}", get_group, methods=["GET"]),
    Route(f"{_DIR}/groups/{{group_id}}/role-assignments", group_role_assignments, methods=["GET"]),
    Route("/admin/v2/orgs/{org_id}/workspaces", search_workspaces, methods=["POST"]),
]
