"""Jira identity resources: users, groups, group members, application roles (Cloud and Data Center)."""

from __future__ import annotations

import re
from collections import Counter
from itertools import chain

from atlassian_posture.connector import changes
from atlassian_posture.connector.changes import only
from atlassian_posture.connector.handover import Handover
from atlassian_posture.connector.helpers import (
    Connections,
    Coverage,
    Listings,
    fan_out,
    fan_out_pages,
    per_item,
    snapshot,
)
from atlassian_posture.connector.http import AtlassianError, NotAvailable
from atlassian_posture.connector.paging import BareArray, DcStream, PageBean, SinglePage, paginate
from atlassian_posture.connector.resources import site_members
from atlassian_posture.connector.resources.jira_common import JiraTenant, is_missing, jira_tenants, row
from atlassian_posture.connector.resources.site_members import CONFLUENCE, JIRA
from atlassian_posture.connector.settings import (
    JIRA_CLOUD_GROUP_PICKER_MAX,
    JIRA_DC_GROUP_PICKER_MAX,
    JIRA_DC_USER_SEARCH_QUERY,
    JIRA_USER_BULK_IDS,
    PAGE,
    PICKER_EXACT_MAX,
)

GROUPS = "jira_groups"
GROUP_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class NamedGroups(list):
    """A change-driven run's Jira Cloud group listing: the named groups only; `ids` the group ids whose rows
    may retire (those found, and those asked by id and gone)."""

    ids: list[str] = []


# the fields of Jira Cloud's `UserDetails` (group/member's items): what a member row is made of
USER_DETAILS = ("accountId", "accountType", "active", "avatarUrls", "displayName", "emailAddress", "key", "name",
                "self", "timeZone")


def only_asked(found: list[dict], field: str, asked: list[str], what: str) -> None:
    """A change-driven read by id must answer only the ids asked: a server that ignores the filter would
    make the named accounts missing from its first page look gone (their rows retired)."""
    extra = {str(item.get(field)) for item in found} - set(asked)
    if extra:
        raise AtlassianError(f"{what} answered {len(extra)} account(s) not asked for: the server ignores the "
                             f"filter; rerun with --full")


def picker_page(tenant: JiraTenant, stats, limit: int, query: str | None = None) -> tuple[list[dict], int]:
    """One groups/picker answer: (groups, total matching); `query`: the groups whose names contain it."""
    params = {"maxResults": limit} if query is None else {"maxResults": limit, "query": query,
                                                          "caseInsensitive": "true"}
    body = tenant.client.json(tenant.client.get(f"{tenant.api}/groups/picker", params=params, stats=stats))
    groups = body.get("groups") or []
    stats.add(pages=1, rows=len(groups))
    return groups, body.get("total", len(groups))


def cut_short(tenant: JiraTenant, groups: list[dict], total: int) -> AtlassianError:
    return AtlassianError(f"groups/picker on {tenant.scope.label} returned {len(groups)} of {total} groups "
                          f"(its cap, jira.ajax.autocomplete.limit, is lower than the number of groups)")


def group_picker(tenant: JiraTenant, stats, limit: int) -> list[dict]:
    """Every group from groups/picker (DC's only group listing); fails when the answer was cut short."""
    groups, total = picker_page(tenant, stats, limit)
    if total > len(groups):
        raise cut_short(tenant, groups, total)
    return groups


def picker_queries(names: list[str], cap: int) -> list[str]:
    """Substrings (lower case) whose groups/picker answers cover every name in `names`, none matching more
    than `cap` of them: the shortest first, each time the one that covers most names still uncovered. A
    name every substring of which is in more than `cap` names is asked by itself (the caller checks that
    no answer was cut short)."""
    lowered = [n.lower() for n in names]
    uncovered = set(range(len(names)))
    queries: list[str] = []
    for length in range(1, max(map(len, lowered), default=0) + 1):
        if not uncovered:
            break
        grams = [{n[i:i + length] for i in range(len(n) - length + 1)} for n in lowered]
        counts = Counter(chain.from_iterable(grams))
        while uncovered:
            cover = Counter(g for i in uncovered for g in grams[i] if counts[g] <= cap)
            if not cover:
                break
            best = min(cover, key=lambda g: (-cover[g], g))
            queries.append(best)
            uncovered = {i for i in uncovered if best not in grams[i]}
    return queries + [names[i] for i in sorted(uncovered)]


def capped_picker(tenant: JiraTenant, stats, limit: int, names: list[str]) -> list[dict]:
    """Every group's picker entry (its labels) when the picker's cap is lower than the number of groups:
    one query per substring of `picker_queries` over the groups the site lists (`names`), then each
    group still unseen by its exact name (a server matching case-sensitively despite `caseInsensitive`).
    Fails when an answer is cut short or a listed group is still missing: never loads half."""
    found: dict[str, dict] = {}
    for query in picker_queries(names, limit):
        groups, total = picker_page(tenant, stats, limit, query)
        if total > len(groups):
            raise AtlassianError(f"groups/picker on {tenant.scope.label} (query {query!r}) returned {len(groups)} "
                                 f"of {total} groups: more than the {len(names)} groups the site lists match")
        found.update((g["name"], g) for g in groups)
    missing = [n for n in names if n not in found]
    if len(missing) > PICKER_EXACT_MAX:
        raise AtlassianError(f"groups/picker on {tenant.scope.label} did not answer {len(missing)} of the "
                             f"{len(names)} groups the site lists: its query matching is not the documented "
                             f"case-insensitive substring match")
    for name in missing:
        groups, _ = picker_page(tenant, stats, limit, name)
        match = next((g for g in groups if g.get("name") == name), None)
        if match is None:
            raise AtlassianError(f"groups/picker on {tenant.scope.label} does not find the group {name!r} "
                                 f"that group/bulk lists")
        found[name] = match
    return list(found.values())


def build(connections: Connections, coverage: Coverage, listings: Listings, handover: Handover) -> list:
    def cloud_groups(tenant, stats):
        yield from paginate(tenant.client, f"{tenant.api}/group/bulk", PageBean(PAGE["jira_group_bulk"]), stats=stats)

    @snapshot("jira_users")
    def users():
        """One row per user of a Jira Cloud site (users/search): people, JSM customers and app bots
        (`accountType = app`), active or not. Key: `accountId`."""
        for tenant in jira_tenants(connections, dc=False):
            with coverage.track("jira_users", tenant.scope) as stats:
                # a change-driven run: the named accounts only (the listing when an app came: its bot account)
                named = changes.accounts(tenant.scope, stats, apps=True)
                if named is not None:
                    for start in range(0, len(named), JIRA_USER_BULK_IDS):
                        chunk = named[start:start + JIRA_USER_BULK_IDS]
                        for page in paginate(tenant.client, f"{tenant.api}/user/bulk",
                                             PageBean(PAGE["jira_user_bulk"]), params={"accountId": chunk},
                                             stats=stats):
                            only_asked(page, "accountId", chunk, f"user/bulk on {tenant.scope.label}")
                            yield [row(tenant.scope, user) for user in page]
                    coverage.read_items(stats, [{"account_id": a} for a in named], None)
                    continue
                for page in paginate(tenant.client, f"{tenant.api}/users/search", BareArray(PAGE["jira_users"]),
                                     stats=stats):
                    yield [row(tenant.scope, user) for user in page]

    @snapshot("jira_dc_users")
    def dc_users():
        """One row per user of a Jira Data Center instance (user/list, Jira 10+; older instances:
        user/search, first 1000 users only), with `lastLoginTime`. Key: `name` (the username every
        other DC table refers to); `key` is the immutable user key."""
        for tenant in jira_tenants(connections, cloud=False):
            with coverage.track("jira_dc_users", tenant.scope) as stats:
                try:
                    pages = paginate(tenant.client, f"{tenant.api}/user/list", DcStream(PAGE["dc_users"]),
                                     stats=stats)
                    first = next(pages, [])
                except NotAvailable:  # before Jira 10
                    pages = paginate(tenant.client, f"{tenant.api}/user/search", BareArray(PAGE["dc_users"]),
                                     params={"username": JIRA_DC_USER_SEARCH_QUERY, "includeActive": "true",
                                             "includeInactive": "true"}, stats=stats)
                    first = next(pages, [])
                yield [row(tenant.scope, user) for user in first]
                for page in pages:
                    yield [row(tenant.scope, user) for user in page]

    @snapshot("jira_groups")
    def groups():
        """One row per group. Cloud: group/bulk (`groupId`, `name`; key `groupId`). DC: groups/picker
        (`name`, key; its `labels` say which groups grant admin or product access). The listing is shared
        with `jira_group_members`: read once per tenant and run."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_groups", tenant.scope) as stats:
                found = group_list(tenant, stats)
                stats.add(rows=len(found))
                yield [row(tenant.scope, dict(g)) for g in found]
                if isinstance(found, NamedGroups):  # only these retire: the named ones found, or gone
                    changes.read_items(stats, [{"group_id": g} for g in found.ids], tenant.scope)

    def group_list(tenant, stats) -> list[dict]:
        """Every group of the tenant, as listed (the shared listing: copy before cleaning a row); in a
        change-driven run on Cloud, the groups the logs name only (`NamedGroups`, `changes.named_groups`)."""
        def load(own):
            named = changes.named_groups(tenant.scope, (GROUPS, JIRA)) if tenant.cloud else None
            if named is not None:
                return named_cloud_groups(tenant, own, named)
            groups = ([g for page in cloud_groups(tenant, own) for g in page] if tenant.cloud
                      else group_picker(tenant, own, JIRA_DC_GROUP_PICKER_MAX))
            for group in groups:
                _ = group["groupId"] if tenant.cloud else group["name"]  # a group without its key fails the listing
            return groups

        return listings.get("groups", tenant.scope, load, stats)

    def named_cloud_groups(tenant, stats, named: list[str]) -> NamedGroups:
        """group/bulk for the named groups: by id (a UUID) or by name; a group asked by id and not found is gone."""
        ids = [n for n in named if GROUP_ID.match(n)]
        names = [n for n in named if not GROUP_ID.match(n)]
        found: dict[str, dict] = {}
        for field, asked, param in (("groupId", ids, "groupId"), ("name", names, "groupName")):
            for start in range(0, len(asked), JIRA_USER_BULK_IDS):
                chunk = asked[start:start + JIRA_USER_BULK_IDS]
                for page in paginate(tenant.client, f"{tenant.api}/group/bulk", PageBean(PAGE["jira_group_bulk"]),
                                     params={param: chunk}, stats=stats):
                    only_asked(page, field, chunk, f"group/bulk on {tenant.scope.label}")
                    found.update({g["groupId"]: g for g in page})
        out = NamedGroups(found.values())
        out.ids = sorted(set(found) | set(ids))
        return out

    def group_refs(tenant, stats):
        return [(g["groupId"] if tenant.cloud else None, g["name"]) for g in group_list(tenant, stats)]

    @snapshot("jira_group_members")
    def group_members():
        """One row per (group, member), inactive members included (group/member per group).
        Cloud: the member's `UserDetails` plus `group_id`; DC: the member's user (`name` = username)
        plus `group_name`. A Cloud site with Confluence too hands its pages to `confluence_group_members`
        (`site_members`)."""
        for tenant in jira_tenants(connections):
            shared = tenant.cloud and site_members.shared(handover, tenant.org.key, tenant.target)
            with handover.reading(JIRA, CONFLUENCE, (tenant.org.key, tenant.target.name), shared) as reading, \
                    coverage.track("jira_group_members", tenant.scope) as stats:
                reading.stats = stats

                def open_members(ref, tenant=tenant, stats=stats):
                    group_id, name = ref
                    key = {"groupId": group_id} if tenant.cloud else {"groupname": name}
                    return paginate(tenant.client, f"{tenant.api}/group/member", PageBean(PAGE["jira_group_member"]),
                                    params={**key, "includeInactiveUsers": "true"}, stats=stats)

                hold = (lambda ref: {"group_id": ref[0]}) if tenant.cloud else (lambda ref: {"group_name": ref[1]})
                refs = group_refs(tenant, stats)
                per_member = changes.members(tenant.scope, refs, stats, ids=lambda ref: ref, hold=hold,
                                             dc=not tenant.cloud)
                if per_member is None and isinstance(group_list(tenant, stats), NamedGroups):
                    raise AtlassianError("the group listing holds the named groups only, but their members "
                                         "cannot be read per account: rerun with --full")
                if per_member is None:
                    refs = only("groups", tenant.scope, refs, stats, ids=lambda ref: ref, hold=hold)
                pages = fan_out_pages(per_member.groups if per_member else refs, open_members, missing=is_missing,
                                      stats=stats, kind="groups", name=lambda ref: ref[1], hold=hold)
                if per_member is not None:
                    pages = chain(pages, member_groups(tenant, per_member, stats))
                for (group_id, name), page in reading.pages(
                        pages, lambda item: (item[0][0], site_members.as_confluence(item[1]))):
                    parent = {"group_id": group_id} if tenant.cloud else {"group_name": name}
                    yield [row(tenant.scope, member, **parent) for member in page]

    def member_groups(tenant, per_member: changes.Members, stats):
        """((group id, name), [member]) for each group of each account a change-driven run reads by itself
        (`changes.Plan.members`): `user?expand=groups` gives the account's details and groups in one request
        (Cloud by account id, `user/groups` when the list is cut short; DC by username, whose group refs are
        names). Groups read whole are not repeated."""
        whole = {ref[0] if tenant.cloud else ref[1] for ref in per_member.groups}
        by = "accountId" if tenant.cloud else "username"

        def fetch(account):
            body = tenant.client.json(tenant.client.get(f"{tenant.api}/user", params={
                by: account, "expand": "groups"}, stats=stats))
            groups = body.get("groups") or {}
            items = groups.get("items") or []
            if (groups.get("size") or 0) > len(items):
                if not tenant.cloud:
                    raise AtlassianError(f"user?expand=groups on {tenant.scope.label} listed {len(items)} of "
                                         f"{groups.get('size')} groups of {account}")
                items = tenant.client.json(tenant.client.get(f"{tenant.api}/user/groups",
                                                             params={"accountId": account}, stats=stats))
            details = {k: v for k, v in body.items() if k in USER_DETAILS}
            return details, items

        column, field = ("account_id", "accountId") if tenant.cloud else ("name", "name")
        read = []
        for account, result in zip(per_member.accounts, fan_out(per_member.accounts, per_item(
                fetch, stats, "accounts", missing=is_missing, hold=lambda a: {column: a})), strict=True):
            if result is None:  # not found or refused: its rows stay until the sweep (a 404 may be a server
                continue        # without this endpoint: never retire on an answer that proves nothing)
            details, groups = result
            read.append(details.get(field) or account)  # as the server spells it (a log may not)
            stats.add(pages=1)
            for group in groups:
                ref = (group.get("groupId"), group.get("name")) if tenant.cloud else (None, group.get("name"))
                if ref[0 if tenant.cloud else 1] not in whole:
                    yield ref, [dict(details)]
        refused = stats.refused_names("accounts")
        coverage.read_items(stats, [{column: a} for a in read if a not in refused], None)

    @snapshot("jira_application_roles")
    def application_roles():
        """One row per application role (product access: `jira-software`, ...): the groups that grant it,
        default groups, seats and user count. Key: `key`."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_application_roles", tenant.scope) as stats:
                for page in paginate(tenant.client, f"{tenant.api}/applicationrole", SinglePage(), stats=stats):
                    yield [row(tenant.scope, role) for role in page]

    @snapshot("jira_global_permission_probe")
    def global_permission_probe():
        """One row per (group, label) of groups/picker, read with the admin credential. Jira labels a group
        `ADMIN` when it holds Administer Jira (or System admin) and `SINGLE`/`MULTIPLE` when it grants product
        access: the only read API that tells which groups hold the global admin permission (Cloud has no
        global-permission listing; mypermissions only speaks for the caller). Key: (`group_id` on Cloud,
        `group_name` on DC; `type`, `text`)."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_global_permission_probe", tenant.scope) as stats:
                limit = JIRA_CLOUD_GROUP_PICKER_MAX if tenant.cloud else JIRA_DC_GROUP_PICKER_MAX
                rows = []
                groups, total = picker_page(tenant, stats, limit)
                if total > len(groups) and not tenant.cloud:
                    raise cut_short(tenant, groups, total)
                if total > len(groups):  # Cloud: more groups than the picker answers at once
                    listed = group_list(tenant, stats)
                    if isinstance(listed, NamedGroups):  # a change-driven run lists the named groups only
                        listed = listings.get("all groups", tenant.scope, lambda own, t=tenant: [
                            g for page in cloud_groups(t, own) for g in page], stats)
                    groups = capped_picker(tenant, stats, limit, [g["name"] for g in listed])
                for group in groups:
                    for label in group.get("labels") or []:
                        rows.append(row(tenant.scope, label, group_name=group["name"],
                                        group_id=group.get("groupId")))
                yield rows

    return [users, dc_users, groups, group_members, application_roles, global_permission_probe]
