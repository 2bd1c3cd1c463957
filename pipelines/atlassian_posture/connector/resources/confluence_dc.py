"""Confluence Data Center reads, one function per table: each yields pages of stamped rows for one instance.
Spaces and groups are the shared listings themselves (`space_list`, `group_list`, loaded by `confluence.py`).

The client's base is the instance URL including its context path (`https://wiki.example.com/confluence`),
so paths start at `/rest/api/...`. Groups are named, not numbered: memberships and space
permissions refer to group names and usernames.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from atlassian_posture.connector import changes
from atlassian_posture.connector.changes import only
from atlassian_posture.connector.helpers import fan_out, fan_out_pages, per_item
from atlassian_posture.connector.http import NotAvailable
from atlassian_posture.connector.paging import ConfluenceV1, paginate
from atlassian_posture.connector.resources.confluence_support import listing, row
from atlassian_posture.connector.settings import PAGE

API = "/rest/api"
# holder -> endpoint of the global permissions (who may use Confluence, create spaces, administer...)
GLOBAL_PERMISSIONS = {"all": f"{API}/permissions", "anonymous": f"{API}/permissions/anonymous",
                      "unlicensed": f"{API}/permissions/unlicensed"}


def _segment(value: str) -> str:
    return quote(value, safe="")


def space_list(listings, client, scope, stats) -> list[dict]:
    """Spaces the PAT's user can view (no `status` filter: current and archived)."""
    return listing(listings, "dc_spaces", client, scope, f"{API}/space",
                   lambda: ConfluenceV1(PAGE["dc_confluence_spaces"]), stats)


def group_list(listings, client, scope, stats) -> list[dict]:
    return listing(listings, "dc_groups", client, scope, f"{API}/group",
                   lambda: ConfluenceV1(PAGE["dc_confluence_groups"]), stats)


def group_members(listings, client, scope, stats) -> Iterator[list[dict]]:
    """Members per group name (`/group/{name}/member`, admin only), with `group_name`."""

    def open_members(group: dict):
        return paginate(client, f"{API}/group/{_segment(group['name'])}/member",
                        ConfluenceV1(PAGE["dc_confluence_members"]), stats=stats)

    groups = group_list(listings, client, scope, stats)
    hold = lambda g: {"group_name": g["name"]}  # noqa: E731
    per_member = changes.members(scope, groups, stats, ids=lambda g: (g["name"],), hold=hold, dc=True)
    if per_member is None:
        groups = only("groups", scope, groups, stats, ids=lambda g: (g["name"],), hold=hold)
    for group, page in fan_out_pages(per_member.groups if per_member else groups, open_members, stats=stats,
                                     kind="groups", name=lambda g: g["name"], hold=hold):
        if page:
            yield [row(scope, member, group_name=group["name"]) for member in page]
    if per_member is not None:
        yield from member_groups(client, scope, stats, per_member)


def member_groups(client, scope, stats, per_member) -> Iterator[list[dict]]:
    """A change-driven run's members per named username (`changes.Plan.members`): the user as a group member
    listing shows it (`user`) and its groups (`user/memberof`); groups read whole are not repeated."""
    whole = {g["name"] for g in per_member.groups}

    def fetch(username: str):
        user = client.json(client.get(f"{API}/user", params={"username": username}, stats=stats))
        groups = [g["name"] for page in paginate(client, f"{API}/user/memberof", ConfluenceV1(PAGE["dc_confluence_groups"]),
                                                 params={"username": username}, stats=stats) for g in page]
        return user, groups

    read = []
    for username, result in zip(per_member.accounts, fan_out(per_member.accounts, per_item(
            fetch, stats, "accounts", missing=is_gone_user, hold=lambda u: {"username": u})), strict=True):
        if result is None:  # not found or refused: its rows stay until the sweep (a 404 proves nothing here)
            continue
        user, groups = result
        read.append(user.get("username") or username)
        rows = [row(scope, dict(user), group_name=name) for name in groups if name not in whole]
        if rows:
            yield rows
    refused = stats.refused_names("accounts")
    changes.read_items(stats, [{"username": u} for u in read if u not in refused])


def is_gone_user(exc) -> bool:
    """A user the logs name that Confluence no longer has (404; 400 for a name it cannot look up)."""
    return isinstance(exc, NotAvailable) or getattr(exc, "status", None) in (400, 404)


def users(client, scope, stats) -> Iterator[list[dict]]:
    """Every user, disabled ones included; `status` says which, `details.personal` holds the e-mail. A
    change-driven run reads the usernames the logs name only (`changes.accounts`)."""
    named = changes.accounts(scope, stats, dc=True)
    if named is not None:
        def fetch(username: str) -> dict:
            return client.json(client.get(f"{API}/user", params={"username": username,
                                                                 "expand": "status,details.personal"}, stats=stats))

        read = []
        for username, user in zip(named, fan_out(named, per_item(fetch, stats, "accounts", missing=is_gone_user,
                                                                 hold=lambda u: {"username": u})), strict=True):
            if user:  # not found: kept until the sweep (a 404 proves nothing here)
                read.append(user.get("username") or username)
                yield [row(scope, user)]
        refused = stats.refused_names("accounts")
        changes.read_items(stats, [{"username": u} for u in read if u not in refused])
        return
    for page in paginate(client, f"{API}/user/list", ConfluenceV1(PAGE["dc_confluence_users"]),
                         params={"expand": "status,details.personal"}, stats=stats):
        if page:
            yield [row(scope, user) for user in page]


def space_permissions(listings, client, scope, stats) -> Iterator[list[dict]]:
    """`/space/{key}/permissions` per space (an unpaged array); rows carry DC's own `spaceKey`/`spaceId`."""

    def fetch(space: dict) -> list[dict]:
        body = client.json(client.get(f"{API}/space/{_segment(space['key'])}/permissions", stats=stats))
        stats.add(rows=len(body))
        return [row(scope, item, spaceKey=item.get("spaceKey", space["key"]),
                    spaceId=item.get("spaceId", space.get("id"))) for item in body]

    # a space deleted since the listing contributes nothing; one the PAT may not administer is skipped
    spaces = only("spaces", scope, space_list(listings, client, scope, stats), stats,
                  ids=lambda sp: (sp.get("id"), sp["key"], sp.get("name")), hold=lambda sp: {"space_key": sp["key"]})
    for rows in fan_out(spaces,
                        per_item(fetch, stats, "spaces", empty=[], name=lambda sp: sp["key"],
                                 hold=lambda sp: {"space_key": sp["key"]})):
        if rows:
            yield rows


def global_permissions(client, scope, stats) -> Iterator[list[dict]]:
    """The three global permission lists, read in full before any row is yielded, with `holder`."""
    rows = []
    for holder, path in GLOBAL_PERMISSIONS.items():
        body = client.json(client.get(path, stats=stats))
        rows.extend(row(scope, item, holder=holder) for item in body)
    stats.add(rows=len(rows))
    if rows:
        yield rows


def settings(client, scope, stats) -> Iterator[list[dict]]:
    info = client.json(client.get_once(f"{API}/server-information", stats=stats))
    mode = client.json(client.get(f"{API}/accessmode", stats=stats))
    stats.add(rows=1)
    yield [row(scope, info, accessMode=mode)]
