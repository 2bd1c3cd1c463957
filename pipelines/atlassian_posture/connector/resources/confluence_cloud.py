"""Confluence Cloud reads, one function per table: each yields pages of stamped rows for one site.
Spaces and groups are the shared listings themselves (`space_list`, `group_list`, loaded by `confluence.py`).

Paths are relative to the client's base: the site URL (classic token) or the scoped-token
gateway (`api.atlassian.com/ex/confluence/<cloudId>`); the paths are the same on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from atlassian_posture.connector import changes
from atlassian_posture.connector.changes import only
from atlassian_posture.connector.helpers import Calls, Listings, Scope, fan_out, fan_out_pages, per_item, stable_id
from atlassian_posture.connector.http import (
    AtlassianClient,
    AtlassianError,
    AuthenticationFailed,
    Forbidden,
    NotAvailable,
    RequestStats,
)
from atlassian_posture.connector.incremental import incremental_audit, server_now, to_ms
from atlassian_posture.connector.paging import ConfluenceV1, ConfluenceV2, paginate
from atlassian_posture.connector.resources.confluence_support import listing, row
from atlassian_posture.connector.settings import AUDIT_INITIAL_DAYS, CONFLUENCE_USER_SEARCH_CAP, PAGE

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"


def space_list(listings: Listings, client: AtlassianClient, scope: Scope, stats: RequestStats) -> list[dict]:
    """Every space the credential can view, current and archived (no `status` filter: both come back)."""
    return listing(listings, "cloud_spaces", client, scope, f"{V2}/spaces",
                   lambda: ConfluenceV2(PAGE["confluence_spaces"]), stats)


def group_list(listings: Listings, client: AtlassianClient, scope: Scope, stats: RequestStats) -> list[dict]:
    return listing(listings, "cloud_groups", client, scope, f"{V1}/group",
                   lambda: ConfluenceV1(PAGE["confluence_groups"]), stats)


def group_members(listings, client, scope, stats, wanted: set[str] | None = None) -> Iterator[list[dict]]:
    """Members per group id (of every group, or the ids in `wanted`), fanned out; a group deleted since the
    listing contributes nothing."""

    def open_members(group: dict):
        return paginate(client, f"{V1}/group/{group['id']}/membersByGroupId", ConfluenceV1(PAGE["confluence_members"]),
                        stats=stats)

    groups = [g for g in group_list(listings, client, scope, stats) if wanted is None or g["id"] in wanted]
    groups = only("groups", scope, groups, stats, ids=lambda g: (g["id"], g.get("name")),
                  hold=lambda g: {"group_id": g["id"]})
    for group, page in fan_out_pages(groups, open_members, stats=stats,
                                     kind="groups", name=lambda g: g.get("name") or g["id"],
                                     hold=lambda g: {"group_id": g["id"]}):
        if page:
            yield [row(scope, member, group_id=group["id"]) for member in page]


def users(client, scope, stats, log) -> Iterator[list[dict]]:
    """Licensed users and guests (`sitePermissionTypeFilter=all`); the search stops at 10,000. A change-driven
    run asks the same search for each account the logs name (`user.accountid`): one with no Confluence
    access is not found, and its row retires."""
    named = changes.accounts(scope, stats)
    if named is not None:
        def fetch(account_id: str) -> list[dict]:
            body = client.json(client.get(f"{V1}/search/user", params={
                "cql": f'type=user AND user.accountid="{account_id}"', "sitePermissionTypeFilter": "all"},
                stats=stats))
            found = [r["user"] for r in body.get("results") or [] if isinstance(r.get("user"), dict)]
            if any(user.get("accountId") != account_id for user in found):
                raise AtlassianError(f"search/user on {scope.label} ignores user.accountid (answered other "
                                     f"accounts): rerun with --full")
            return found

        for found in fan_out(named, per_item(fetch, stats, "accounts", empty=[], hold=lambda a: {"account_id": a})):
            if found:
                yield [row(scope, user) for user in found]
        refused = stats.refused_names("accounts")
        changes.read_items(stats, [{"account_id": a} for a in named if a not in refused])
        return
    seen = 0
    for page in paginate(client, f"{V1}/search/user", ConfluenceV1(PAGE["confluence_user_search"]),
                         params={"cql": "type=user", "sitePermissionTypeFilter": "all"}, stats=stats):
        rows = [row(scope, result["user"]) for result in page if isinstance(result.get("user"), dict)]
        seen += len(rows)
        if rows:
            yield rows
    if seen >= CONFLUENCE_USER_SEARCH_CAP:
        log(f"confluence_users for {scope.label}: the user search stops at {CONFLUENCE_USER_SEARCH_CAP} users; "
            f"use jira_users / the Admin API users for the complete list")


def _per_space(listings, client, scope, stats, suffix: str, page_size: int) -> Iterator[list[dict]]:
    """One paged listing per space, fanned out; a space deleted since the listing contributes nothing."""

    def open_pages(space: dict):
        return paginate(client, f"{V2}/spaces/{space['id']}/{suffix}", ConfluenceV2(page_size), stats=stats)

    spaces = only("spaces", scope, space_list(listings, client, scope, stats), stats,
                  ids=lambda sp: (sp["id"], sp.get("key"), sp.get("name")), hold=lambda sp: {"space_id": sp["id"]})
    for space, page in fan_out_pages(spaces, open_pages, stats=stats,
                                     kind="spaces", name=lambda sp: sp.get("key") or sp["id"],
                                     hold=lambda sp: {"space_id": sp["id"]}):
        if page:
            yield [row(scope, item, space_id=space["id"]) for item in page]


def space_permissions(listings, client, scope, stats) -> Iterator[list[dict]]:
    yield from _per_space(listings, client, scope, stats, "permissions", PAGE["confluence_space_permissions"])


def role_mode(client: AtlassianClient) -> str | None:
    """`ROLES` on sites with space roles (RBAC), `ROLES_TRANSITION` while a site moves to them,
    `PRE_ROLES` before; None when unknown (an older site answers 404).

    Unknown (no endpoint, refused, failing) lets the role-assignment listing run and record its
    own outcome in coverage; only a 401 stops the run here.
    """
    try:
        return client.json(client.get_once(f"{V2}/space-role-mode")).get("mode")
    except AuthenticationFailed:
        raise
    except AtlassianError:
        return None


def role_assignments(listings, client, scope, stats) -> Iterator[list[dict]]:
    yield from _per_space(listings, client, scope, stats, "role-assignments", PAGE["confluence_role_assignments"])


def legacy_space_permissions(client, scope, stats) -> Iterator[list[dict]]:
    """The v1 space list with its permissions (`GET /wiki/rest/api/space?expand=permissions`): the only
    Cloud read that shows `anonymousAccess` / `unlicensedAccess` on sites that never moved to space roles.

    One row per (space, permission, subject): `space_id`, `space_key`, `operation`, `target_type`,
    `anonymous_access`, `unlicensed_access`, `subject_type` (`user` | `group` | None when the entry names
    no subject, as the anonymous/unlicensed entries do) and `subject_id` (accountId; group id, else name).
    The call has left the current v1 document: a 404 is recorded in coverage as not available.
    """
    for page in paginate(client, f"{V1}/space", ConfluenceV1(PAGE["confluence_legacy_spaces"]),
                         params={"expand": "permissions"}, stats=Calls(stats)):
        rows = []
        for space in page:
            for permission in space.get("permissions") or []:
                rows.extend(row(scope, item) for item in _legacy_rows(space, permission))
        stats.add(rows=len(rows))
        if rows:
            yield rows


def _legacy_rows(space: dict, permission: dict) -> list[dict]:
    """One v1 space permission as flat rows, one per subject (or one without a subject)."""
    operation = permission.get("operation") or {}
    base = {
        "space_id": str(space.get("id")) if space.get("id") is not None else None,
        "space_key": space.get("key"),
        "permission_id": str(permission["id"]) if permission.get("id") is not None else None,
        "operation": operation.get("operation") or operation.get("key"),
        "target_type": operation.get("targetType"),
        "anonymous_access": bool(permission.get("anonymousAccess")),
        "unlicensed_access": bool(permission.get("unlicensedAccess")),
    }
    subjects = permission.get("subjects") or {}
    out = []
    for kind in ("user", "group"):
        block = subjects.get(kind) or {}
        for subject in (block.get("results") if isinstance(block, dict) else block) or []:
            subject_id = (subject.get("accountId") if kind == "user"
                          else subject.get("id") or subject.get("name"))
            out.append({**base, "subject_type": kind, "subject_id": subject_id,
                        "subject_name": subject.get("displayName") or subject.get("name")})
    return out or [{**base, "subject_type": None, "subject_id": None, "subject_name": None}]


def space_roles(client, scope, stats) -> Iterator[list[dict]]:
    for page in paginate(client, f"{V2}/space-roles", ConfluenceV2(PAGE["confluence_space_roles"]), stats=stats):
        if page:
            yield [row(scope, item) for item in page]


def settings(client, scope, stats, mode: str | None = None) -> Iterator[list[dict]]:
    """systemInfo plus `space_role_mode` (None when the site does not answer space-role-mode)."""
    body = client.json(client.get(f"{V1}/settings/systemInfo", stats=stats))
    stats.add(rows=1)
    yield [row(scope, body, space_role_mode=mode)]


def anonymous_probe(anonymous: AtlassianClient, scope: Scope, stats: RequestStats) -> Iterator[list[dict]]:
    """What a caller without credentials sees: the spaces listed, or the status that refused them.

    401/403 is the healthy answer (the site refuses anonymous callers), not a failure, so it is
    caught here; any other error goes to coverage.
    """
    keys: list[str] = []
    try:  # the spaces seen are not rows of this table: only the requests count
        for page in paginate(anonymous, f"{V2}/spaces", ConfluenceV2(PAGE["confluence_spaces"]), stats=Calls(stats)):
            keys.extend(str(space.get("key")) for space in page)
        status = 200
    except (AuthenticationFailed, Forbidden) as exc:
        status = exc.status
    stats.add(rows=1)
    yield [scope.stamp({
        "anonymous_access": status == 200,
        "status_code": status,
        "space_count": len(keys),
        "space_keys": ",".join(sorted(keys)),
    })]


def audit_record_id(record: dict) -> str:
    """Confluence audit records have no id: a hash of what makes one record differ from another."""
    author = record.get("author") or {}
    return stable_id(record.get("creationDate"), author.get("accountId"), record.get("summary"),
                     record.get("affectedObject"), record.get("changedValues"), record.get("associatedObjects"),
                     record.get("remoteAddress"))


RETENTION_UNIT_DAYS = {"DAYS": 1, "WEEKS": 7, "MONTHS": 30, "YEARS": 365}


def audit_records(client, scope, stats, state: dict) -> Iterator[list[dict]]:
    """New audit records since the last load (minus the overlap), up to the server's now.

    `/audit/retention` comes first: it needs the same admin permission and paid plan as the log
    (a 403 on Free is recorded before any paging), its `Date` header pins the window's end,
    and it bounds how far back the first load reaches.
    """
    days = AUDIT_INITIAL_DAYS
    try:
        response = client.get_once(f"{V1}/audit/retention", stats=stats)  # the change plan may have asked
        now = server_now(client, response)
        retention = client.json(response)
        unit = RETENTION_UNIT_DAYS.get(str(retention.get("units", "DAYS")).upper(), 1)
        days = min(days, int(retention.get("number") or days) * unit)
    except NotAvailable:
        now = server_now(client)

    def pages(start_ms: int, end_ms: int):
        return paginate(client, f"{V1}/audit", ConfluenceV1(PAGE["confluence_audit"]),
                        params={"startDate": start_ms, "endDate": end_ms}, stats=stats)

    yield from incremental_audit(
        state, pages, now_ms=to_ms(now), initial_ms=to_ms(now - timedelta(days=days)),
        time_ms=lambda r: int(r["creationDate"]) if r.get("creationDate") is not None else None,
        record_id=audit_record_id,
        stamp=lambda r, rid: scope.stamp({**r, "record_id": rid}), stats=stats,
    )
