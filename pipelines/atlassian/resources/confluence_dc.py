"""Confluence Data Center reads, one function per table: each yields pages of stamped rows for one instance.

The client's base is the instance URL including its context path (`https://wiki.example.com/confluence`),
so paths start at `/rest/api/...`. Groups are named, not numbered: memberships and space
permissions refer to group names and usernames.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from pipelines.atlassian.helpers import Scope
from pipelines.atlassian.http import AtlassianClient, RequestStats
from pipelines.atlassian.paging import ConfluenceV1, paginate
from pipelines.atlassian.resources.confluence_support import Listings, drop_missing, fan_out_chunked, without_links
from pipelines.atlassian.settings import PAGE

API = "/rest/api"
# holder -> endpoint of the global permissions (who may use Confluence, create spaces, administer...)
GLOBAL_PERMISSIONS = {"all": f"{API}/permissions", "anonymous": f"{API}/permissions/anonymous",
                      "unlicensed": f"{API}/permissions/unlicensed"}


def _segment(value: str) -> str:
    return quote(value, safe="")


def _listing(listings: Listings, kind: str, client: AtlassianClient, scope: Scope, path: str, page_size: int,
             stats: RequestStats) -> list[dict]:
    def fetch(own: RequestStats) -> list[dict]:
        return [without_links(row) for page in paginate(client, path, ConfluenceV1(page_size), stats=own)
                for row in page]

    return listings.get(kind, scope, fetch, stats)


def space_list(listings, client, scope, stats) -> list[dict]:
    """Spaces the PAT's user can view (no `status` filter: current and archived)."""
    return _listing(listings, "dc_spaces", client, scope, f"{API}/space", PAGE["dc_confluence_spaces"], stats)


def group_list(listings, client, scope, stats) -> list[dict]:
    return _listing(listings, "dc_groups", client, scope, f"{API}/group", PAGE["dc_confluence_groups"], stats)


def spaces(listings, client, scope, stats) -> Iterator[list[dict]]:
    rows = space_list(listings, client, scope, stats)
    stats.add(rows=len(rows))
    if rows:
        yield [scope.stamp(dict(row)) for row in rows]


def groups(listings, client, scope, stats) -> Iterator[list[dict]]:
    rows = group_list(listings, client, scope, stats)
    stats.add(rows=len(rows))
    if rows:
        yield [scope.stamp(dict(row)) for row in rows]


def group_members(listings, client, scope, stats) -> Iterator[list[dict]]:
    """Members per group name (`/group/{name}/member`, admin only), with `group_name`."""

    def fetch(group: dict) -> list[dict]:
        name = group["name"]
        return [scope.stamp({**without_links(row), "group_name": name})
                for page in paginate(client, f"{API}/group/{_segment(name)}/member",
                                     ConfluenceV1(PAGE["dc_confluence_members"]), stats=stats)
                for row in page]

    for rows in fan_out_chunked(group_list(listings, client, scope, stats), drop_missing(fetch)):
        if rows:
            yield rows


def users(client, scope, stats) -> Iterator[list[dict]]:
    """Every user, disabled ones included; `status` says which, `details.personal` holds the e-mail."""
    for page in paginate(client, f"{API}/user/list", ConfluenceV1(PAGE["dc_confluence_users"]),
                         params={"expand": "status,details.personal"}, stats=stats):
        if page:
            yield [scope.stamp(without_links(row)) for row in page]


def space_permissions(listings, client, scope, stats) -> Iterator[list[dict]]:
    """`/space/{key}/permissions` per space (an unpaged array); rows carry DC's own `spaceKey`/`spaceId`."""

    def fetch(space: dict) -> list[dict]:
        body = client.json(client.get(f"{API}/space/{_segment(space['key'])}/permissions", stats=stats))
        stats.add(rows=len(body))
        return [scope.stamp({**without_links(row), "spaceKey": row.get("spaceKey", space["key"]),
                             "spaceId": row.get("spaceId", space.get("id"))}) for row in body]

    for rows in fan_out_chunked(space_list(listings, client, scope, stats), drop_missing(fetch)):
        if rows:
            yield rows


def global_permissions(client, scope, stats) -> Iterator[list[dict]]:
    """The three global permission lists, read in full before any row is yielded, with `holder`."""
    rows = []
    for holder, path in GLOBAL_PERMISSIONS.items():
        body = client.json(client.get(path, stats=stats))
        rows.extend(scope.stamp({**without_links(row), "holder": holder}) for row in body)
    stats.add(rows=len(rows))
    if rows:
        yield rows


def settings(client, scope, stats) -> Iterator[list[dict]]:
    info = client.json(client.get(f"{API}/server-information", stats=stats))
    mode = client.json(client.get(f"{API}/accessmode", stats=stats))
    stats.add(rows=1)
    yield [scope.stamp({**without_links(info), "accessMode": mode})]
