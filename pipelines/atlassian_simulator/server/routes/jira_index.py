"""Lookups over an organization that the Jira Cloud routes need on every request.

Building them walks every account and membership list (100,000 accounts on a large
org), so one index is kept per organization and rebuilt when a cheap fingerprint of the
state changes (the clock, which time travel always moves, and the sizes of the account
and membership collections). Account *attributes* (status, name) are read live from the
model objects, never copied, so in-place changes show up immediately.

Who is a user of a site (what Jira's `users/search` lists): every account with any tie to
the site: a member of one of the site's product groups (including suspended members and
JSM customers), an account with product access on it, or the bot account of an app
installed on it. Accounts tied to no site at all (closed accounts, people who never got
product access, bots of removed apps) were once users of the org's Jira and stay listed on
every site, inactive or not, as Atlassian keeps previously active accounts in the user base.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from atlassian_simulator.generator.identity import site_group_names
from atlassian_simulator.model import Account, Group, Organization, Site
from atlassian_simulator.server.memo import per_request


@dataclass
class OrgIndex:
    accounts: dict[str, Account]
    groups: dict[str, Group]
    groups_by_name: dict[str, Group]
    member_of: dict[str, frozenset[str]]  # account id -> group ids
    site_users: dict[str, list[Account]]  # site name -> accounts, in org order
    site_user_ids: dict[str, frozenset[str]]

    def groups_of(self, account_id: str | None) -> frozenset[str]:
        return self.member_of.get(account_id, frozenset()) if account_id else frozenset()


_CACHE: OrderedDict[int, tuple[Organization, tuple, OrgIndex]] = OrderedDict()
_CACHE_SIZE = 6


def state_fingerprint(org: Organization) -> tuple:
    return (
        org.org_id,
        org.clock,
        len(org.accounts),
        len(org.groups),
        sum(len(members) for members in org.memberships.values()),
        tuple((s.name, len(s.jira_apps), len(s.confluence_apps)) for s in org.sites),
    )


def org_index(org: Organization) -> OrgIndex:
    return per_request(("org_index", id(org)), lambda: _org_index(org))


def _org_index(org: Organization) -> OrgIndex:
    key = id(org)
    fingerprint = state_fingerprint(org)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is org and cached[1] == fingerprint:
        _CACHE.move_to_end(key)
        return cached[2]
    index = _build(org)
    _CACHE[key] = (org, fingerprint, index)
    _CACHE.move_to_end(key)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return index


def _build(org: Organization) -> OrgIndex:
    accounts = {a.account_id: a for a in org.accounts}
    groups = {g.group_id: g for g in org.groups}
    by_name = {g.name: g for g in org.groups}
    member_of: dict[str, set[str]] = {}
    for group_id, members in org.memberships.items():
        for account_id in members:
            member_of.setdefault(account_id, set()).add(group_id)

    tied: dict[str, set[str]] = {}
    for i, site in enumerate(org.sites):
        ids: set[str] = set()
        for name in site_group_names(site, i == 0).values():
            group = by_name.get(name)
            if group is not None:
                ids.update(org.memberships.get(group.group_id, ()))
        for app in list(site.jira_apps) + list(site.confluence_apps):
            if app.bot_account_id:
                ids.add(app.bot_account_id)
        tied[site.name] = ids
    for account in org.accounts:
        for access in account.product_access:
            if access.site_name in tied:
                tied[access.site_name].add(account.account_id)
    anywhere = set().union(*tied.values()) if tied else set()
    site_users = {
        site.name: [a for a in org.accounts if a.account_id in tied[site.name] or a.account_id not in anywhere]
        for site in org.sites
    }
    return OrgIndex(accounts, groups, by_name, {k: frozenset(v) for k, v in member_of.items()}, site_users,
                    {name: frozenset(a.account_id for a in users) for name, users in site_users.items()})


def site_index(org: Organization, site: Site) -> int:
    return next(i for i, s in enumerate(org.sites) if s is site)


def is_active(account: Account) -> bool:
    """Jira's `active`: false for suspended, deactivated and closed accounts."""
    return account.account_status == "active" and account.membership_status == "active"
