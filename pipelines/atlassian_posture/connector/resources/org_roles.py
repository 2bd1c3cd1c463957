"""Who holds which role on which org resource, from filtered user searches instead of one call per user.

`GET .../users/{accountId}/role-assignments` costs one request per user (4,595 on the medium
simulated org). The users search takes `resourceIds` and `roleIds` filters, so one search per
(resource, role) pair lists who holds that role there (a few hundred requests). What a search
does not say is filled from listings the run reads anyway:

- the resources: the workspaces listing and the resources group role assignments name;
- the user's membership status, platform roles, resource count and groups: the users search
  (`org_users` hands its pages over, `handover.py`; read here when the run does not read it);
- the user's directory: the only directory, or the users of every directory but the largest (the
  rest are the largest's when its user count says so);
- `roleAssignmentMethods`: `group_direct` when a group of the user grants that role on that
  resource (group role assignments + the users search `groups` expansion).

Per-user calls remain for the users the listings cannot explain: platform roles (their
resources are no workspace, so no search asks for them), a role none of their groups grants (a direct grant, a guest),
a resource count (`counts.resources`) the searches do not reproduce, an account in several
directories or in none. They double as the check that the server honoured the filters: so do
a few users sampled from the rest (`VERIFY_SAMPLE`). A server that ignores the filters (an
independent look-alike may: it would name every user an admin of everything), combines them
differently, or contradicts a per-user answer makes `derive` return None, and the resource
reads every user's role assignments as before (`org.user_role_assignments`). A user holding a
role both directly and through a group is written `group_direct` only (no listing tells the
two apart, and no check reads the methods).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from atlassian_posture.connector.http import AtlassianClient, RequestStats
from atlassian_posture.connector.paging import AdminV2, paginate
from atlassian_posture.connector.settings import ADMIN_DIRECTORIES_PAGE, PAGE

# The documented `roleIds` of the users search (MultiDirectoryUserSearchRequest), in its order.
ROLE_IDS = ("atlassian/user", "atlassian/admin", "atlassian/guest", "atlassian/customer",
            "atlassian/user-access-admin", "atlassian/contributor", "atlassian/basic", "atlassian/stakeholder",
            "atlassian/org-admin", "atlassian/site-admin", "atlassian/ai-access")
# Platform roles (org-wide admin roles): whoever holds one has `platformRoles` in the users search and is
# read per user anyway, so no search asks for them.
PLATFORM_ROLES = ("atlassian/org-admin", "atlassian/site-admin", "atlassian/user-access-admin")
SEARCHED_ROLES = tuple(r for r in ROLE_IDS if r not in PLATFORM_ROLES)
USER_EXPAND = ("platformRoles", "counts.resources", "groups")
VERIFY_SAMPLE = 3  # users the listings explain whose per-user answer is compared all the same
GROUP_DIRECT = "group_direct"


@dataclass(slots=True)
class Holder:
    """What the users search of the user's directory says of one account."""

    directory: str | None  # None: listed in several directories
    status: str | None  # membershipStatus
    platform: bool  # holds a platform role (org-admin, site-admin, ...)
    resources: int | None  # counts.resources
    groups: tuple[str, ...]  # ids, interned: a large org's 100,000 accounts name the same 5,000 groups


class Held:
    """Who the filtered searches list for each (resource, role) pair, as account numbers (positions in
    `accounts`): a large organization's 200,000 role holdings in a few MB, where dicts of sets per account
    took about 60 MB."""

    def __init__(self, accounts: list[str], pairs: list[tuple[str, str]]):
        self.accounts = accounts  # sorted; accounts the users search did not list are appended
        self.number = {a: i for i, a in enumerate(accounts)}
        self.pairs = pairs
        self.found: list[np.ndarray] = []  # per pair searched so far: account numbers
        self._grouped: tuple[np.ndarray, np.ndarray] | None = None  # (numbers, pairs) by account, once read

    def add(self, listed: Iterable[str]) -> None:
        """The accounts the next pair's search listed."""
        numbers = []
        for account in listed:
            if account not in self.number:
                self.number[account] = len(self.accounts)
                self.accounts.append(account)
            numbers.append(self.number[account])
        self.found.append(np.asarray(numbers, dtype=np.int32))
        self._grouped = None

    def by_account(self, only: set[str] | None = None) -> Iterator[tuple[str, dict[str, set[str]]]]:
        """(account, resource -> roles) for each account some search listed (or of `only`), in the order of
        `accounts` (sorted, then the unlisted)."""
        if not self.found:
            return
        if self._grouped is None:  # sorted once: derive reads the holdings three times
            numbers = np.concatenate(self.found)
            pair = np.repeat(np.arange(len(self.found), dtype=np.int32), [len(f) for f in self.found])
            order = np.lexsort((pair, numbers))
            self._grouped = numbers[order], pair[order]
        numbers, pair = self._grouped
        starts = np.flatnonzero(np.diff(numbers, prepend=-1))
        ends = np.append(starts[1:], len(numbers))
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            account = self.accounts[int(numbers[start])]
            if only is not None and account not in only:
                continue
            roles: dict[str, set[str]] = {}
            for p in pair[start:end].tolist():
                resource, role = self.pairs[p]
                roles.setdefault(resource, set()).add(role)
            yield account, roles


@dataclass
class Derived:
    """The outcome: rows derived from the searches (made as they are iterated, once), and the accounts whose
    rows come from per-user calls."""

    rows: Iterable[dict]
    per_user: dict[str, list[dict]] = field(default_factory=dict)


class Untrusted(Exception):
    """The searches cannot be trusted on this server: read every user instead (the reason says why)."""


def derive(client: AtlassianClient, org_id: str, holders: dict[str, Holder] | None, group_roles: list[dict],
           workspaces: list[str], fetch_user: Callable[[str], list[dict] | None],
           fan_out: Callable, stats: RequestStats) -> Derived:
    """Every account's role-assignment rows, as the per-user call would give them.

    `holders`: the users search by account (`holder`), or None to read it here;
    `group_roles`: org_group_role_assignments rows (with `group_id`); `workspaces`: resource ARIs;
    `fetch_user(account_id)`: the per-user call (None when the account vanished or was refused);
    `fan_out(items, fetch)`: concurrent map in order. Raises `Untrusted` when the server's
    answers contradict each other."""
    base = f"/admin/v2/orgs/{org_id}/directories"
    if holders is None:
        holders = dict(pair for page in user_pages(client, base, stats) for pair in page)
    place(client, base, holders, stats)
    if not holders:
        raise Untrusted("the users search of the directories listed nobody")
    if not any(h.platform for h in holders.values()):  # every org has an org admin
        raise Untrusted("the users search names no platform role (not even an org admin)")
    probe = sorted(holders)[0]
    found = search(client, base, {"accountIds": [probe]}, stats)
    if found != [probe]:
        raise Untrusted(f"the users search ignored the accountIds filter ({len(found)} accounts for one)")

    granted: dict[tuple[str, str], set[str]] = {}  # (resource, role) -> groups granting it
    owners: dict[str, str] = {}
    for assignment in group_roles:
        resource = assignment.get("resourceId")
        if assignment.get("resourceOwner"):
            owners[resource] = assignment["resourceOwner"]
        for role in assignment.get("roles") or []:
            granted.setdefault((resource, role), set()).add(assignment["group_id"])
    resources = sorted({*workspaces, *(r for r, _ in granted)} - {None})

    held = Held(sorted(holders), [(resource, role) for resource in resources for role in SEARCHED_ROLES])
    for resource, role in held.pairs:
        held.add(search(client, base, {"resourceIds": [resource], "roleIds": [role]}, stats))

    def explained(account: str, roles: dict[str, set[str]]) -> bool:
        holder = holders.get(account)
        if holder is None or holder.platform or holder.directory is None:
            return False
        if holder.resources is not None and holder.resources != len(roles):
            return False
        return all(not granted.get((r, role), set()).isdisjoint(holder.groups)
                   for r, rs in roles.items() for role in rs)

    unexplained: set[str] = set()
    counts: dict[str, int] = {}  # explained account -> resources held (the sample's order)
    for account, roles in held.by_account():
        if explained(account, roles):
            counts[account] = len(roles)
        else:
            unexplained.add(account)
    unexplained.update(a for a, h in holders.items() if (h.platform or h.resources) and a not in counts
                       and a not in unexplained and not explained(a, {}))  # listed by no search
    if len(unexplained) > max(50, len(holders) // 2):
        raise Untrusted(f"{len(unexplained)} of {len(holders)} accounts hold roles their groups do not grant")
    sample = sorted(counts, key=lambda a: (-counts[a], a))[:VERIFY_SAMPLE]
    asked = sorted(unexplained | set(sample))
    searched = {a: {(r, role) for r, rs in roles.items() for role in rs}
                for a, roles in held.by_account(set(asked))}
    per_user = {}
    for account, rows in zip(asked, fan_out(asked, fetch_user), strict=True):
        if rows is None:
            continue  # refused or gone: the resource's coverage says so; no evidence either way
        answered = {(r["resourceId"], role) for r in rows if r.get("resourceId") in resources
                    for role in r.get("roles") or [] if role in SEARCHED_ROLES}
        if answered != searched.get(account, set()):
            raise Untrusted(f"the per-user answer of {account} differs from the filtered searches")
        per_user[account] = rows

    def rows() -> Iterator[dict]:  # made as they are loaded: a large organization's are millions of dicts
        for account, roles in held.by_account():
            if account in unexplained or account in per_user:
                continue
            holder = holders[account]
            for resource, rs in sorted(roles.items()):
                yield {"account_id": account, "resourceId": resource,
                       "resourceOwner": owners.get(resource) or owner_of(resource),
                       "directoryId": holder.directory, "userDirectoryStatus": holder.status,
                       "roles": sorted(rs),
                       "roleAssignments": [{"role": role, "roleAssignmentMethods": [GROUP_DIRECT]}
                                           for role in sorted(rs)]}

    return Derived(rows(), per_user)


def holder(user: dict) -> tuple[str, Holder]:
    """(account id, what the derivation needs) of one users search row (expanded with `USER_EXPAND`)."""
    counts = user.get("counts") or {}
    return user["accountId"], Holder(None, user.get("membershipStatus"), bool(user.get("platformRoles")),
                                     counts.get("resources"),
                                     tuple(sys.intern(bare_id(g["id"])) for g in user.get("groups") or []))


def user_pages(client: AtlassianClient, base: str, stats: RequestStats) -> Iterator[list[tuple[str, Holder]]]:
    for page in paginate(client, f"{base}/-/users/search", AdminV2(PAGE["admin_users_search"], post=True),
                         json={"expand": list(USER_EXPAND)}, stats=stats):
        yield [holder(user) for user in page]


def place(client: AtlassianClient, base: str, holders: dict[str, Holder], stats: RequestStats) -> None:
    """Each holder's directory: the org's only one; else the directory whose users search lists the account,
    the largest directory not listed (its users are the accounts no other directory lists, if its count
    agrees). An account listed twice, or not placed for sure, keeps None (it is read per user)."""
    directories = [d.get("directoryId") or d.get("id")
                   for page in paginate(client, base, AdminV2(ADMIN_DIRECTORIES_PAGE), stats=stats) for d in page]
    if len(directories) == 1:
        for h in holders.values():
            h.directory = directories[0] if h.status != "no_membership" else None
        return
    counts = {d: client.json(client.get(f"{base}/{d}/users/count", stats=stats)).get("count") for d in directories}
    largest = max(directories, key=lambda d: counts[d] or 0)
    found: dict[str, str | None] = {}
    for directory in directories:
        if directory != largest:
            for account in search(client, base, {}, stats, directory):
                found[account] = directory if account not in found else None
    rest = [a for a in holders if a not in found]
    for account, h in holders.items():
        h.directory = found[account] if account in found else (largest if len(rest) == counts[largest] else None)


def search(client: AtlassianClient, base: str, filters: dict, stats: RequestStats,
           directory: str = "-") -> list[str]:
    """The account ids a users search of one directory (`-`: every directory) answers for these filters."""
    return [user["accountId"]
            for page in paginate(client, f"{base}/{directory}/users/search",
                                 AdminV2(PAGE["admin_users_search"], post=True), json=filters, stats=stats)
            for user in page]


def owner_of(resource: str) -> str:
    """`ari:cloud:jira::site/x` -> `jira`: the product an ARI names (when no group row gave resourceOwner)."""
    parts = resource.split(":")
    return parts[2] if len(parts) > 2 else resource


def bare_id(value: str) -> str:
    """`ari:cloud:identity::group/<id>` -> `<id>` (the users search names groups by ARI)."""
    return value.rpartition("/")[2] if value.startswith("ari:") else value
