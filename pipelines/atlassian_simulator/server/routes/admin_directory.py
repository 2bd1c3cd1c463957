"""Organization API v2, users: directories, user search/list/detail/count/stats, role assignments.

Multi-directory endpoints under `/admin/v2/orgs/{orgId}/directories/{directoryId}`, where
`directoryId` `-` widens to every directory. Directory users are the org's Atlassian
accounts (the v2 `accountType` enum has only `atlassian`: app bots and JSM customers are
not directory members). Paging is the Admin v2 style: bare cursor tokens in `links`, and
once a cursor is sent every other filter is ignored, so the filters travel in the cursor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.model import Account, Directory, Organization
from atlassian_simulator.server.memo import listing
from atlassian_simulator.server.paging import ADMIN_INVALID_CURSOR, InvalidCursor, admin_v2, decode_cursor
from atlassian_simulator.server.routes.admin_common import (
    admin_error,
    avatar,
    bad_request,
    body_bool,
    body_list,
    check_list,
    composite_status,
    directory_user,
    endpoint,
    group_ari,
    group_role,
    groups_of,
    iso,
    json_body,
    org_for,
    platform_role_rows,
    query_bool,
    query_list,
    resource_owner,
    site_ari,
    sites_by_name,
    state_key,
    user_role_rows,
)

DIRECTORIES_PAGE, DIRECTORIES_CAP = 20, 100
USERS_GET_PAGE, USERS_SEARCH_PAGE, USERS_CAP = 20, 50, 100
ROLES_PAGE, ROLES_CAP = 20, 100
ROLE_IDS = ("atlassian/user", "atlassian/admin", "atlassian/guest", "atlassian/customer", "atlassian/user-access-admin",
            "atlassian/contributor", "atlassian/basic", "atlassian/stakeholder", "atlassian/org-admin",
            "atlassian/site-admin", "atlassian/ai-access")
STATUSES = ("active", "suspended", "not_invited", "deactivated", "for_deletion")
ACCOUNT_STATUSES = ("active", "inactive", "closed")
MEMBERSHIP_STATUSES = ("active", "suspended", "no_membership")
USER_EXPANDS = ("platformRoles", "counts.resources", "productAccess", "groups")
# (filter name, max items, allowed values) of the list-valued user filters
USER_LIST_FILTERS = (
    ("accountIds", 10, None), ("directoryIds", 10, None), ("resourceIds", 20, None), ("groupIds", 10, None),
    ("status", 4, STATUSES), ("accountStatus", 3, ACCOUNT_STATUSES), ("membershipStatus", 3, MEMBERSHIP_STATUSES),
    ("roleIds", 10, ROLE_IDS), ("emailDomains", 10, None),
)


# --- scope and cursors ---------------------------------------------------------------------------


def directory_scope(org: Organization, directory_id: str) -> Directory | None:
    """None for `-` (every directory); the directory, or 404 when the org has no such directory."""
    if directory_id == "-":
        return None
    directory = next((d for d in org.directories if d.directory_id == directory_id), None)
    if directory is None:
        raise admin_error(404, "Directory not found", "ADMIN-404-1")
    return directory


def cursor_state(token: Any) -> dict | None:
    """The state of an incoming v2 cursor (None without one); 400 ADMIN-400-1 when malformed."""
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise bad_request(f"malformed cursor {token!r}", ADMIN_INVALID_CURSOR)
    try:
        return decode_cursor(token)
    except InvalidCursor as exc:
        raise bad_request(str(exc), ADMIN_INVALID_CURSOR) from None


def in_scope(account: Account, scope: Directory | None) -> bool:
    return directory_user(account) and (scope is None or account.directory_id == scope.directory_id)


def find_user(org: Organization, scope: Directory | None, account_id: str) -> Account:
    account = next((a for a in org.accounts if a.account_id == account_id and in_scope(a, scope)), None)
    if account is None:
        raise admin_error(404, "User not found", "ADMIN-404-8")
    return account


def compact(filters: dict) -> dict:
    """Filters without empty values (they travel in every cursor)."""
    return {k: v for k, v in filters.items() if v not in (None, "", [], {})}


def role_filters(request: Request) -> dict:
    """Query filters of the role-assignments endpoints (users and groups)."""
    return compact({"resourceIds": check_list("resourceIds", query_list(request, "resourceIds"), 20),
                    "resourceOwners": check_list("resourceOwners", query_list(request, "resourceOwners"), 10),
                    "roleIds": check_list("roleIds", query_list(request, "roleIds"), 10, ROLE_IDS)})


# --- user filters --------------------------------------------------------------------------------


def user_filters(source: Mapping[str, Any], from_query: Request | None = None) -> dict:
    """Normalized user filters from a search body, or (with `from_query`) from query parameters."""
    filters: dict = {}
    for name, max_items, allowed in USER_LIST_FILTERS:
        values = query_list(from_query, name) if from_query else body_list(source, name)
        if values:
            filters[name] = check_list(name, values, max_items, allowed)
    if not from_query:
        emails = body_list(source, "emails")
        if emails:
            filters["emails"] = check_list("emails", emails, 100)
    mfa = query_bool(from_query, "mfaEnabled") if from_query else body_bool(source, "mfaEnabled")
    if mfa is not None:
        filters["mfaEnabled"] = mfa
    claim = source.get("claimStatus")
    if claim:
        filters["claimStatus"] = check_list("claimStatus", [claim], 1, ("managed", "unmanaged"))[0]
    term = source.get("searchTerm")
    if term:
        if not isinstance(term, str):
            raise bad_request("Invalid value for field 'searchTerm'.")
        if "emails" in filters:
            raise bad_request("'searchTerm' and 'emails' are mutually exclusive.")
        filters["searchTerm"] = term.lower()
    sort = source.get("sortBy") if not from_query else None
    if sort:
        if not isinstance(sort, list) or len(sort) != 1 or not isinstance(sort[0], dict):
            raise bad_request("'sortBy' takes exactly one {field, direction}.")
        field, direction = sort[0].get("field", "nick_name"), sort[0].get("direction", "asc")
        if field != "nick_name" or direction not in ("asc", "desc"):
            raise bad_request("'sortBy' supports field 'nick_name', direction 'asc' or 'desc'.")
        filters["sortBy"] = direction
    return filters


def _group_ids(values: list[str]) -> set[str]:
    return {v.rpartition("/")[2] if v.startswith("ari:") else v for v in values}


def search_users(org: Organization, scope: Directory | None, filters: dict) -> list[Account]:
    index = groups_of(org)
    wanted_groups = _group_ids(filters.get("groupIds", []))
    holds = _holds(org, index, filters) if "roleIds" in filters or "resourceIds" in filters else None
    out = []
    for account in org.accounts:
        if not in_scope(account, scope):
            continue
        if "accountIds" in filters and account.account_id not in filters["accountIds"]:
            continue
        if "directoryIds" in filters and account.directory_id not in filters["directoryIds"]:
            continue
        if "mfaEnabled" in filters and account.mfa_enabled != filters["mfaEnabled"]:
            continue
        if "claimStatus" in filters and account.claim_status != filters["claimStatus"]:
            continue
        if "status" in filters and composite_status(account) not in filters["status"]:
            continue
        if "accountStatus" in filters and account.account_status not in filters["accountStatus"]:
            continue
        if "membershipStatus" in filters and account.membership_status not in filters["membershipStatus"]:
            continue
        email = (account.email or "").lower()
        if "emailDomains" in filters and email.rpartition("@")[2] not in {d.lower().lstrip("@") for d in
                                                                         filters["emailDomains"]}:
            continue
        if "emails" in filters and email not in {e.lower() for e in filters["emails"]}:
            continue
        if "searchTerm" in filters and not any(
            filters["searchTerm"] in (text or "").lower() for text in (account.name, account.nickname, account.email)
        ):
            continue
        if wanted_groups and not any(g.group_id in wanted_groups for g in index.get(account.account_id, ())):
            continue
        if holds is not None and not holds(account):
            continue
        out.append(account)
    if "sortBy" in filters:
        out.sort(key=lambda a: ((a.nickname or a.name).lower(), a.account_id), reverse=filters["sortBy"] == "desc")
    return out


def _holds(org: Organization, index: dict, filters: dict):
    """Whether an account holds a role the filters name on a resource they name (both filters name one
    assignment: the role held on one of the resources, not anywhere). `user_role_rows` per account, but
    the groups decided once, not per account: a large organization's search walks 100,000 accounts."""
    roles, resources = filters.get("roleIds"), filters.get("resourceIds")

    def wanted(ari: str, role: str) -> bool:
        return (roles is None or role in roles) and (resources is None or ari in resources)

    granting = {guest: {g.group_id for g in org.groups
                        if any(wanted(ari, group_role(guest, role, ari)) for role, ari in g.role_assignments)}
                for guest in (False, True)}

    def holds(account: Account) -> bool:
        groups = granting[account.is_guest]
        return (bool(groups) and any(g.group_id in groups for g in index.get(account.account_id, ()))) or any(
            wanted(ari, role) for ari, role, _ in platform_role_rows(org, account))

    return holds


# --- rendering -----------------------------------------------------------------------------------


def product_resources(org: Organization, account: Account) -> list[str]:
    return sorted({ari for ari, _, method in user_role_rows(org, account) if method == "group_direct"})


def render_user(org: Organization, account: Account, expand: set[str] | frozenset[str], detail: bool = False) -> dict:
    """`MultiDirectoryUser` (search/list) or `MultiDirectoryUserDetailsData` (detail)."""
    user: dict = {
        "accountId": account.account_id,
        "accountType": account.account_type,
        "accountStatus": account.account_status,
        "membershipStatus": account.membership_status,
        "status": composite_status(account),
        "claimStatus": account.claim_status,
        "name": account.name,
        "nickname": account.nickname or account.name.split()[0],
    }
    if account.email:
        user["email"] = account.email
    user["emailVerified"] = account.email_verified
    user["mfaEnabled"] = account.mfa_enabled
    user["picture"] = avatar(account)
    user["avatar"] = avatar(account)
    user["timeZone"] = account.timezone
    user["addedToOrg"] = iso(account.added_to_org)
    user["managementSource"] = account.management_source
    if detail or "platformRoles" in expand:
        user["platformRoles"] = [f"atlassian/{role}" for role in account.platform_roles]
    if not detail and "productAccess" in expand:
        sites = sites_by_name(org)
        access = []
        for product in account.product_access:
            site = sites.get(product.site_name)
            if site is None:
                continue
            entry = {"id": site_ari(product.product_key, site), "key": product.product_key}
            if product.last_active is not None:
                entry["lastActiveTimestamp"] = iso(product.last_active)
            access.append(entry)
        user["productAccess"] = access
    if not detail and "groups" in expand:
        user["groups"] = [{"id": group_ari(g), "name": g.name, "description": g.description}
                          for g in groups_of(org).get(account.account_id, ())]
    if detail or "counts.resources" in expand:
        user["counts"] = {"resources": len(product_resources(org, account))}
    return user


def role_assignment_rows(org: Organization, account: Account, filters: dict) -> list[dict]:
    """One row per resource: platform roles (no directory) first, then product resources by ARI."""
    by_resource: dict[str, dict[str, set[str]]] = {}
    platform: set[str] = set()
    for ari, role, method in user_role_rows(org, account):
        by_resource.setdefault(ari, {}).setdefault(role, set()).add(method)
        if method == "direct":
            platform.add(ari)
    rows = []
    for ari in sorted(by_resource, key=lambda a: (a not in platform, a)):
        roles = by_resource[ari]
        owner = resource_owner(ari)
        if filters.get("resourceIds") and ari not in filters["resourceIds"]:
            continue
        if filters.get("resourceOwners") and owner not in filters["resourceOwners"]:
            continue
        if filters.get("roleIds") and not set(roles) & set(filters["roleIds"]):
            continue
        row: dict = {"resourceId": ari, "resourceOwner": owner,
                     "directoryId": None if ari in platform else account.directory_id}
        if ari not in platform:
            row["userDirectoryStatus"] = account.membership_status
        row["roles"] = sorted(roles)
        row["roleAssignments"] = [{"role": role, "roleAssignmentMethods": sorted(methods)}
                                  for role, methods in sorted(roles.items())]
        rows.append(row)
    return rows


# --- handlers ------------------------------------------------------------------------------------


@endpoint
async def list_directories(request: Request):
    org = org_for(request).org
    state = cursor_state(request.query_params.get("cursor"))
    if state is not None:
        filters = state.get("q") or {}
    else:
        filters = compact({"accountId": request.query_params.get("accountId"),
                           "directoryIds": check_list("directoryIds", query_list(request, "directoryIds"), 10),
                           "searchTerm": (request.query_params.get("searchTerm") or "").lower()})
    directories = org.directories
    if filters.get("accountId"):
        homes = {a.directory_id for a in org.accounts if a.account_id == filters["accountId"] and directory_user(a)}
        directories = [d for d in directories if d.directory_id in homes]
    if filters.get("directoryIds"):
        directories = [d for d in directories if d.directory_id in filters["directoryIds"]]
    if filters.get("searchTerm"):
        directories = [d for d in directories if filters["searchTerm"] in d.name.lower()]

    def render(d: Directory) -> dict:
        icon = "okta" if d.kind == "scim" else "atlassian"
        return {"directoryId": d.directory_id, "name": d.name, "icon": f"https://admin.atlassian.com/icons/{icon}.svg"}

    return admin_v2(request, directories, render, DIRECTORIES_PAGE, DIRECTORIES_CAP, cursor_state={"q": filters})


async def _users_page(request: Request, source: Mapping[str, Any], from_query: bool, default: int):
    org = org_for(request).org
    scope = directory_scope(org, request.path_params["directory_id"])
    state = cursor_state(source.get("cursor"))
    if state is not None:
        filters, expand = state.get("q") or {}, state.get("e") or []
    else:
        filters = user_filters(source, request if from_query else None)
        expand = ["platformRoles"] if from_query else check_list("expand", body_list(source, "expand"), 4,
                                                                 USER_EXPANDS)
    key = ("users", id(org), state_key(org), scope.directory_id if scope else None,
           json.dumps(filters, sort_keys=True, default=sorted))
    users = listing(key, state is not None, lambda: search_users(org, scope, filters))
    wanted = frozenset(expand)
    return admin_v2(source, users, lambda a: render_user(org, a, wanted), default, USERS_CAP,
                    cursor_state={"q": filters, "e": expand})


@endpoint
async def list_users(request: Request):
    """Deprecated GET (until 30 June 2027): query filters, `limit` 20/100, `platformRoles` shown."""
    return await _users_page(request, request.query_params, True, USERS_GET_PAGE)


@endpoint
async def search_users_post(request: Request):
    """POST search: body filters, `limit` 50/100, `expand` for roles, product access, groups, counts."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "ADMIN-400-24")
    return await _users_page(request, body, False, USERS_SEARCH_PAGE)


@endpoint
async def count_users(request: Request):
    org = org_for(request).org
    scope = directory_scope(org, request.path_params["directory_id"])
    return JSONResponse({"count": len(search_users(org, scope, user_filters(request.query_params, request)))})


@endpoint
async def user_stats(request: Request):
    org = org_for(request).org
    scope = directory_scope(org, request.path_params["directory_id"])
    users = [a for a in org.accounts if in_scope(a, scope)]
    statuses = [{"count": sum(1 for a in users if a.account_status == s), "status": s} for s in ACCOUNT_STATUSES]
    holders: dict[str, int] = {}
    for account in users:
        for role in sorted({role for _, role, _ in user_role_rows(org, account)}):
            holders[role] = holders.get(role, 0) + 1
    roles = [{"count": holders[r], "roleId": r} for r in ROLE_IDS if r in holders]
    return JSONResponse({"accountStatus": statuses, "roles": roles})


@endpoint
async def get_user(request: Request):
    org = org_for(request).org
    scope = directory_scope(org, request.path_params["directory_id"])
    account = find_user(org, scope, request.path_params["account_id"])
    return JSONResponse({"data": render_user(org, account, frozenset(), detail=True)})


@endpoint
async def user_role_assignments(request: Request):
    org = org_for(request).org
    scope = directory_scope(org, request.path_params["directory_id"])
    account = find_user(org, scope, request.path_params["account_id"])
    state = cursor_state(request.query_params.get("cursor"))
    if state is not None:
        filters = state.get("q") or {}
    else:
        filters = role_filters(request)
    rows = role_assignment_rows(org, account, filters)
    return admin_v2(request, rows, lambda row: row, ROLES_PAGE, ROLES_CAP, cursor_state={"q": filters})


_DIR = "/admin/v2/orgs/{org_id}/directories/{directory_id}"
ROUTES = [
    Route("/admin/v2/orgs/{org_id}/directories", list_directories, methods=["GET"]),
    Route(f"{_DIR}/users", list_users, methods=["GET"]),
    Route(f"{_DIR}/users/search", search_users_post, methods=["POST"]),
    Route(f"{_DIR}/users/count", count_users, methods=["GET"]),
    Route(f"{_DIR}/users/stats", user_stats, methods=["GET"]),
    Route(f"{_DIR}/users/{{account_id}}", get_user, methods=["GET"]),
    Route(f"{_DIR}/users/{{account_id}}/role-assignments", user_role_assignments, methods=["GET"]),
]
