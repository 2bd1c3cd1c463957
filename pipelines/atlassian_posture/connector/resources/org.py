"""Resources of the Atlassian Administration (organization) API.

One `@dlt.resource` per table, each looping over the org tenants (`connections.org_scopes()`)
and wrapping every (resource, tenant) in `coverage.track`. Entities are snapshotted with
history (scd2, partitioned by `_tenant`); the org audit log loads incrementally from the
events stream's saved cursor. `pipelines/atlassian_posture/connector/README.md` ("## org") tables them.

Two listings fill a second table each, so the data is read once: the users search's `groups`
expansion gives `org_group_memberships` (no per-group member calls), and the data security
policies listing gives `org_data_security_policy_resources`. Their coverage rows mirror the
outcome of the resource that reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import chain, islice

import dlt

from atlassian_posture.connector import changes
from atlassian_posture.connector.changes import full_run, only
from atlassian_posture.connector.handover import Handover
from atlassian_posture.connector.helpers import (
    Calls,
    Connections,
    Coverage,
    Listings,
    Scope,
    clean_row,
    fan_out,
    listed_rows,
    per_item,
    read_ahead,
    snapshot,
)
from atlassian_posture.connector.http import (
    AtlassianClient,
    AtlassianError,
    AuthenticationFailed,
    Forbidden,
    NotAvailable,
    RequestStats,
)
from atlassian_posture.connector.incremental import AuditCursor, parse_time, server_now, tenant_state, to_ms
from atlassian_posture.connector.paging import AdminV1, AdminV2, paginate
from atlassian_posture.connector.resources import org_roles
from atlassian_posture.connector.settings import (
    ADMIN_ALL_DIRECTORIES,
    ADMIN_DIRECTORIES_PAGE,
    ADMIN_GROUP_EXPAND,
    ADMIN_ROLE_ASSIGNMENTS_PAGE,
    ADMIN_USER_EXPAND,
    ADMIN_USER_ROLES_EXPAND,
    ADMIN_USER_SEARCH_IDS_MAX,
    AUDIT_INITIAL_DAYS,
    AUTH_POLICY_BULK_FETCH_MAX,
    PAGE,
)
from atlassian_posture.connector.validation import BATCH_ROWS

DATA_SECURITY = "data-security"
MANAGED, POLICY_MEMBERS = "org_managed_accounts", "org_auth_policy_members"
USERS, USER_ROLES = "org_users", "org_user_role_assignments"
# Org rows have no site: typed here so the column exists (and dlt does not warn) although always null.
LINEAGE = {"_site": {"data_type": "text", "nullable": True}}


def build(connections: Connections, coverage: Coverage, handover: Handover | None = None) -> list:
    """`handover`: listings one resource of this run reads for another (`handover.py`); without it, none."""
    listings = Listings()  # workspaces and group role assignments, read once and shared (user role assignments)
    handover = handover or Handover()

    def tenant(org, client, scope, stats) -> tuple[str, Scope]:
        """The org id (already resolved by the runner; resolved here when the resources run without it)."""
        org_id = connections.org_id(org, Calls(stats))
        return org_id, scope_with(scope, org_id)

    # --- organization, domains, directories, workspaces ----------------------------------------

    @snapshot("org_organizations", LINEAGE)
    def organizations():
        """The organization each Admin API key reads (id, name)."""
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_organizations", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                body = client.json(client.get(f"/admin/v1/orgs/{org_id}", stats=stats))
                stats.add(rows=1)
                yield snap(s, body["data"])

    @snapshot("org_domains", LINEAGE)
    def domains():
        """Claimed domains and their verification status."""
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_domains", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                for page in paginate(client, f"/admin/v1/orgs/{org_id}/domains", AdminV1(), stats=stats):
                    yield [snap(s, row) for row in page]

    @snapshot("org_directories", LINEAGE)
    def directories():
        """A user directory of the org: the local one, or one an identity provider syncs (SCIM)."""
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_directories", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                for page in paginate(client, f"/admin/v2/orgs/{org_id}/directories",
                                     AdminV2(ADMIN_DIRECTORIES_PAGE), stats=stats):
                    yield [snap(s, row) for row in page]

    @snapshot("org_workspaces", LINEAGE)
    def workspaces():
        """A product instance (workspace) of the org, e.g. Jira on a site: id is its ARI, with plan and policies."""
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_workspaces", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                ids = []
                for page in workspace_pages(client, org_id, stats):
                    ids += [row.get("id") for row in page]
                    yield [snap(s, row) for row in page]
                listings.remember("workspaces", s, ids)

    # --- accounts -----------------------------------------------------------------------------

    @snapshot("org_managed_accounts", LINEAGE)
    def managed_accounts():
        """A managed account (claimed through a verified domain): status, last active, product access (v1).

        The listing's account ids go on to `org_auth_policy_members` when the run reads both (`handover`)."""
        for org, client, scope in connections.org_scopes():
            with handover.reading(MANAGED, POLICY_MEMBERS, org.key) as reading, \
                    coverage.track("org_managed_accounts", scope) as stats:
                reading.stats = stats
                org_id, s = tenant(org, client, scope, stats)
                if changes.keep(s, stats, "this v1 listing has no per-account read; the accounts the audit logs "
                                          "name are read fresh in org_users (status, product access, last active)",
                                takers=(POLICY_MEMBERS,) if reading.shared else ()):
                    reading.failure = None  # nothing to hand over: org_auth_policy_members reads the named ones
                    continue
                for page in reading.pages(managed_pages(client, org_id, stats),
                                          lambda page: [a["account_id"] for a in page]):
                    yield [snap(s, row) for row in page]

    @snapshot("org_users", LINEAGE)
    def users():
        """A directory user (v2 search): MFA, status, claim, management source, platform roles, product access.

        The same listing fills `org_group_memberships` (one row per group id and account id)
        from the `groups` expansion, which is taken out of the user row: a membership change
        then adds a membership version, not a new version of the user. When the run reads
        `org_user_role_assignments` too, the listing also asks for `counts.resources` (not kept in
        the row) and hands what the role derivation needs over to it (`handover`, `org_roles.holder`).
        """
        for org, client, scope in connections.org_scopes():
            memberships = RequestStats()
            failure = None
            with handover.reading(USERS, USER_ROLES, org.key) as reading, \
                    coverage.track("org_users", scope) as stats:
                reading.stats = stats
                expand = (*ADMIN_USER_EXPAND, "counts.resources") if reading.shared else ADMIN_USER_EXPAND
                try:
                    org_id, s = tenant(org, client, scope, stats)
                    named = changes.accounts(s, stats)  # a change-driven run: the accounts the logs name only
                    pages = user_pages(client, org_id, expand, stats) if named is None else \
                        (asked_only(page, chunk) for chunk in chunks(named, ADMIN_USER_SEARCH_IDS_MAX)
                         for page in user_pages(client, org_id, expand, stats, accountIds=chunk))
                    for page in reading.pages(pages, lambda page: [org_roles.holder(user) for user in page]):
                        pairs = []
                        for user in page:
                            if reading.shared:
                                user.pop("counts", None)  # asked for the role derivation only
                            for group in user.pop("groups", None) or []:
                                pairs.append(s.stamp({"group_id": bare_id(group["id"]),
                                                      "account_id": user.get("accountId")}))
                        yield [snap(s, user) for user in page]
                        if pairs:
                            memberships.add(rows=len(pairs))
                            yield dlt.mark.with_table_name(pairs, "org_group_memberships")
                    if named is not None:
                        coverage.read_items(stats, [{"account_id": a} for a in named], None)
                except AtlassianError as exc:
                    failure = exc
                    raise
            mirror_coverage("org_group_memberships", scope, memberships, failure, stats)

    @snapshot("org_last_active", LINEAGE)
    def last_active():
        """A managed account's last active date per product and when it was added to the org.

        One call per managed account (the documented limit is 200 requests a minute per org):
        the slow part of an org extract on big orgs.
        """
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_last_active", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)

                def fetch(account_id: str, org_id=org_id, stats=stats, client=client) -> dict:
                    path = f"/admin/v1/orgs/{org_id}/directory/users/{account_id}/last-active-dates"
                    parts = [p for page in paginate(client, path, ObjectPages(), stats=Calls(stats)) for p in page]
                    row = {"account_id": account_id, **{k: v for k, v in parts[0].items() if k != "product_access"}}
                    row["product_access"] = [p for part in parts for p in part.get("product_access") or []]
                    return row

                for page in managed_pages(client, org_id, Calls(stats)):
                    # an account that left between the listing and its call gives no row
                    ids = only("accounts", s, [a["account_id"] for a in page], stats, hold=account)
                    rows = [s.stamp(r) for r in fan_out(ids, per_item(fetch, stats, "accounts", hold=account))
                            if r is not None]
                    stats.add(rows=len(rows))
                    yield rows

    # --- groups and role assignments --------------------------------------------------------------

    @snapshot("org_groups", LINEAGE)
    def groups():
        """A group of the org's directories, with its user and resource counts."""
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_groups", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                for page in group_pages(client, org_id, ADMIN_GROUP_EXPAND, stats):
                    yield [snap(s, row) for row in page]

    @snapshot("org_group_role_assignments", LINEAGE)
    def group_role_assignments():
        """The roles a group grants on one resource (a product on a site), with `group_id`.

        Groups whose `counts.resources` is 0 are not asked: the listing already says they grant nothing.
        The rows are a shared listing (`group_roles`): user role assignments read them too.
        """
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_group_role_assignments", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                if full_run(org.key):  # every group: a shared listing (`group_roles`)
                    found = group_roles(client, org_id, s, stats)
                    found.charge(stats)
                    yield from listed_rows(found.rows, s, stats)
                    continue
                # change-driven (changes.py): only the groups the audit logs name, the others held
                base = f"/admin/v2/orgs/{org_id}/directories/{ADMIN_ALL_DIRECTORIES}/groups"

                def fetch(group_id: str, base=base, stats=stats, client=client) -> list[dict]:
                    return role_rows(client, f"{base}/{group_id}/role-assignments", "group_id", group_id, Calls(stats))

                for page in group_pages(client, org_id, ("counts.resources",), Calls(stats)):
                    wanted = [g["id"] for g in page if (g.get("counts") or {}).get("resources", 1)]
                    wanted = only(changes.GROUP_GRANTS, s, wanted, stats, hold=lambda g: {"group_id": g})
                    # a group or user deleted since the listing holds nothing
                    rows = [s.stamp(r) for rows in fan_out(wanted, per_item(fetch, stats, "groups", empty=[],
                                                                               hold=lambda g: {"group_id": g}))
                            for r in rows]
                    stats.add(rows=len(rows))
                    yield rows

    @snapshot("org_user_role_assignments", LINEAGE)
    def user_role_assignments():
        """The roles a user holds on one resource, directly or through groups, with `account_id`.

        From one users search per (resource, role) plus the listings, with per-user calls only for
        the users those cannot explain (`org_roles`). Where the server's searches cannot be trusted,
        per user as before, and the coverage row says why: `platformRoles` in the users search
        names a role but not the sites it applies to, says nothing of product roles granted
        directly to a user, and never shows the guest role; the per-user call does. Users with no
        platform role and `counts.resources` 0 are not asked.
        """
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_user_role_assignments", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                base = f"/admin/v2/orgs/{org_id}/directories/{ADMIN_ALL_DIRECTORIES}/users"

                def fetch(account_id: str, base=base, stats=stats, client=client) -> list[dict]:
                    return role_rows(client, f"{base}/{account_id}/role-assignments", "account_id", account_id,
                                     Calls(stats))

                holders = None  # the users listing as `org_users` reads it, when the run reads both
                if handover.shared(USERS, USER_ROLES, org.key):
                    try:
                        holders = {}
                        for page in handover.take(USERS, USER_ROLES, org.key):
                            if page is None:
                                yield None  # org_users has not read more yet: dlt runs the others meanwhile
                                continue
                            holders.update(page)
                        handover.outcome(USERS, USER_ROLES, org.key, RequestStats())
                    except AtlassianError:  # the users listing failed there: read here
                        holders = None
                    finally:
                        handover.release(USERS, USER_ROLES, org.key)
                if not full_run(org.key):  # change-driven (changes.py): the accounts the logs name, per user
                    named = changes.accounts(s, stats, roles=True)
                    if named is not None:  # only their rows can retire
                        rows = [s.stamp(r) for rows in fan_out(named, per_item(fetch, stats, "accounts", empty=[],
                                                                                 hold=account)) for r in rows]
                        refused = stats.refused_names("accounts")
                        coverage.read_items(stats, [{"account_id": a} for a in named if a not in refused], None)
                        stats.add(rows=len(rows))
                        yield rows
                        continue
                    if holders is not None:
                        wanted = [a for a, h in holders.items() if h.platform or (h.resources is None or h.resources)]
                        wanted = only("accounts", s, wanted, stats, hold=account)
                        rows = [s.stamp(r) for rows in fan_out(wanted, per_item(fetch, stats, "accounts", empty=[],
                                                                                  hold=account)) for r in rows]
                        stats.add(rows=len(rows))
                        yield rows
                        continue
                else:
                    try:
                        derived = org_roles.derive(
                            client, org_id, holders, group_roles(client, org_id, s, stats).rows,
                            workspace_ids(client, org_id, s, stats),
                            per_item(fetch, stats, "accounts", empty=None, hold=account), fan_out, Calls(stats))
                    except AuthenticationFailed:
                        raise
                    except (org_roles.Untrusted, AtlassianError) as exc:
                        note_coverage("org_user_role_assignments", scope, f"per-user role assignments: {exc}")
                    else:
                        rows = chain(derived.rows, (r for rs in derived.per_user.values() for r in rs))
                        while batch := [s.stamp(r) for r in islice(rows, BATCH_ROWS)]:  # the run's own rows
                            stats.add(rows=len(batch))
                            yield batch
                        continue
                for page in user_pages(client, org_id, ADMIN_USER_ROLES_EXPAND, Calls(stats)):
                    wanted = [u["accountId"] for u in page
                              if u.get("platformRoles") or (u.get("counts") or {}).get("resources", 1)]
                    wanted = only("accounts", s, wanted, stats, hold=account)
                    # a group or user deleted since the listing holds nothing
                    rows = [s.stamp(r) for rows in fan_out(wanted, per_item(fetch, stats, "accounts", empty=[],
                                                                              hold=account)) for r in rows]
                    stats.add(rows=len(rows))
                    yield rows

    # --- policies ---------------------------------------------------------------------------------

    @snapshot("org_policies", LINEAGE)
    def policies():
        """An org policy (IP allowlist, data residency, data security) as the v1 API shows it. Needs Guard."""
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_policies", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                for page in paginate(client, f"/admin/v1/orgs/{org_id}/policies", AdminV1(), stats=stats):
                    yield [snap(s, row) for row in page]

    @snapshot("org_data_security_policies", LINEAGE)
    def data_security_policies():
        """A data security policy (Control API): status, coverage level and rule. Needs Guard.

        Its resources go to `org_data_security_policy_resources` (one row per policy and
        resource ARI, with `policy_id`), taken from the listing; `/policies/{id}/resources` is
        only called for a policy the listing shows without them.
        """
        for org, client, scope in connections.org_scopes():
            resources = RequestStats()
            failure = None
            with coverage.track("org_data_security_policies", scope) as stats:
                try:
                    org_id, s = tenant(org, client, scope, stats)
                    base = f"/admin/control/v1/orgs/{org_id}/policies"

                    def fetch(policy_id: str, base=base, stats=stats, client=client) -> list[dict]:
                        pages = paginate(client, f"{base}/{policy_id}/resources", AdminV1(), stats=Calls(stats))
                        return [r for page in pages for r in page]

                    for page in paginate(client, base, AdminV1(), params={"type": DATA_SECURITY}, stats=stats):
                        page = [p for p in page if p["attributes"].get("type", DATA_SECURITY) == DATA_SECURITY]
                        listed = {p["id"]: p["attributes"].pop("resources") for p in page
                                  if "resources" in p["attributes"]}
                        missing = [p["id"] for p in page if p["id"] not in listed]
                        listed.update(zip(missing, fan_out(missing, fetch), strict=True))
                        yield [snap(s, p) for p in page]
                        rows = [s.stamp({"policy_id": pid, **r}) for pid, rs in listed.items() for r in rs]
                        if rows:
                            resources.add(rows=len(rows))
                            yield dlt.mark.with_table_name(rows, "org_data_security_policy_resources")
                except AtlassianError as exc:
                    failure = exc
                    raise
            mirror_coverage("org_data_security_policy_resources", scope, resources, failure)

    @snapshot("org_auth_policies", LINEAGE)
    def auth_policies():
        """An authentication policy: id and name only (its settings have no documented read call). Needs Guard."""
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_auth_policies", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                for page in paginate(client, f"/admin/control/v1/orgs/{org_id}/auth-policies", AdminV1(),
                                     stats=stats):
                    yield [snap(s, row) for row in page]

    @snapshot("org_auth_policy_members", LINEAGE)
    def auth_policy_members():
        """Which authentication policy a managed account is in (bulk fetch of ≤ 100 ids a call). Needs Guard.

        The account ids come from `org_managed_accounts`' listing as it reads it, when the run reads
        both (`handover`); else from the listing read here."""
        for org, client, scope in connections.org_scopes():
            shared = handover.shared(MANAGED, POLICY_MEMBERS, org.key)
            try:
                with coverage.track("org_auth_policy_members", scope) as stats:
                    org_id, s = tenant(org, client, scope, stats)
                    path = f"/admin/control/v1/orgs/{org_id}/users/auth-policies/bulk-fetch"
                    named = changes.accounts(s, stats)  # a change-driven run: the accounts the logs name only
                    if named is not None and shared:
                        handover.release(MANAGED, POLICY_MEMBERS, org.key)
                        shared = False
                    pages = ([named] if named is not None else handover.take(MANAGED, POLICY_MEMBERS, org.key)
                             if shared else
                             ([a["account_id"] for a in page] for page in managed_pages(client, org_id, Calls(stats))))
                    for ids in pages:
                        if ids is None:
                            yield None  # the listing has not read more yet: dlt runs the other resources meanwhile
                            continue
                        for start in range(0, len(ids), AUTH_POLICY_BULK_FETCH_MAX):
                            chunk = ids[start:start + AUTH_POLICY_BULK_FETCH_MAX]
                            body = client.json(client.post_search(path, {"accountIds": chunk}, stats=stats))
                            rows = body if isinstance(body, list) else body.get("data") or []
                            stats.add(rows=len(rows))
                            yield [s.stamp(row) for row in rows]
                    if named is not None:
                        coverage.read_items(stats, [{"account_id": a} for a in named], None)
                    if shared:
                        handover.outcome(MANAGED, POLICY_MEMBERS, org.key, stats)
            finally:
                if shared:
                    handover.release(MANAGED, POLICY_MEMBERS, org.key)

    # --- API tokens -------------------------------------------------------------------------------

    @snapshot("org_api_tokens", LINEAGE)
    def api_tokens():
        """An API token of a managed account, with `account_id` (its owner).

        From the org-wide API-access inventory; where that answers 403/404 (key without the
        scope, endpoint not on this org), from each managed account's
        `/users/{id}/manage/api-tokens` instead (fields `lastAccess`/`expiry` there), and the
        coverage row says so.
        """
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_api_tokens", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                path = f"/admin/api-access/v1/orgs/{org_id}/api-tokens"
                try:
                    for page in paginate(client, path, AdminV1(PAGE["admin_tokens"]), stats=stats):
                        yield [s.stamp({**row, "account_id": (row.get("user") or {}).get("id")}) for row in page]
                except (Forbidden, NotAvailable) as exc:
                    if stats.rows:
                        raise
                    note_coverage("org_api_tokens", scope, f"per-user fallback: {exc}")

                    def fetch(account_id: str, stats=stats, client=client) -> list[dict]:
                        body = client.json(client.get(f"/users/{account_id}/manage/api-tokens", stats=stats))
                        return [{**row, "account_id": account_id} for row in body or []]

                    for page in managed_pages(client, org_id, Calls(stats)):
                        # an account that left between the listing and its call has no tokens
                        ids = [a["account_id"] for a in page]
                        rows = [s.stamp(r) for rows in fan_out(ids, per_item(fetch, stats, "accounts", empty=[],
                                                                             hold=account)) for r in rows]
                        stats.add(rows=len(rows))
                        yield rows

    # --- audit ------------------------------------------------------------------------------------

    @snapshot("org_event_actions", LINEAGE)
    def event_actions():
        """The org audit log's catalogue of action ids and their display names. Needs Guard."""
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_event_actions", scope) as stats:
                org_id, s = tenant(org, client, scope, stats)
                for page in paginate(client, f"/admin/v1/orgs/{org_id}/event-actions", AdminV1(), stats=stats):
                    yield [snap(s, row) for row in page]

    @dlt.resource(name="org_events", write_disposition="merge", primary_key=("_tenant", "id"),
                  columns=LINEAGE)
    def events():
        """An org audit event (who did what, from where), loaded incrementally from the events stream. Needs Guard.

        The first run reads from now − AUDIT_INITIAL_DAYS; every run saves the stream's last
        cursor per tenant and the next one polls with it, so only newly processed events come
        (late ones included: the stream is ordered by processing time). No `to` is pinned: it
        would travel in the saved cursor and hide every later event; the position cursor keeps
        paging stable instead.
        """
        for org, client, scope in connections.org_scopes():
            with coverage.track("org_events", scope, snapshot=False) as stats:
                org_id, s = tenant(org, client, scope, stats)
                yield from stream_events(client, org_id, s, tenant_state(s), stats)

    # --- helpers bound to this run ------------------------------------------------------------------

    def group_roles(client: AtlassianClient, org_id: str, scope: Scope, stats: RequestStats) -> GroupRoles:
        """Every group's role assignments, read once per tenant and run (see `GroupRoles`)."""

        def load(_):
            own = RequestStats()
            base = f"/admin/v2/orgs/{org_id}/directories/{ADMIN_ALL_DIRECTORIES}/groups"

            def fetch(group_id: str) -> list[dict]:
                return role_rows(client, f"{base}/{group_id}/role-assignments", "group_id", group_id, Calls(own))

            rows = []
            for page in group_pages(client, org_id, ("counts.resources",), Calls(own)):
                wanted = [g["id"] for g in page if (g.get("counts") or {}).get("resources", 1)]
                # a group or user deleted since the listing holds nothing
                rows += [r for rs in fan_out(wanted, per_item(fetch, own, "groups", empty=[],
                                                               hold=lambda g: {"group_id": g})) for r in rs]
            return [GroupRoles(rows, own)]

        return listings.get("group_roles", scope, load, stats)[0]

    def workspace_ids(client: AtlassianClient, org_id: str, scope: Scope, stats: RequestStats) -> list[str]:
        """The workspace ARIs `org_workspaces` listed, or listed here when it has not completed yet."""
        return listings.get("workspaces", scope, lambda own: (w.get("id") for page in workspace_pages(
            client, org_id, own) for w in page), stats)

    def mirror_coverage(resource: str, scope: Scope, rows: RequestStats, failure: Exception | None,
                        source: RequestStats | None = None) -> None:
        """A coverage row for a table another resource's listing fills: same outcome, its own row count, and
        what the listing kept in a change-driven run (`source`, its stats)."""
        with coverage.track(resource, scope) as stats:
            stats.add(rows=rows.rows)
            if source is not None:
                coverage.mirror(source, stats)
            if failure is not None:
                raise failure

    def note_coverage(resource: str, scope: Scope, reason: str) -> None:
        entry = next(e for e in reversed(coverage.entries) if e.resource == resource and e.tenant == scope.label)
        entry.reason = reason

    return [organizations, domains, directories, workspaces, managed_accounts, users, last_active, groups,
            group_role_assignments, user_role_assignments, policies, data_security_policies, auth_policies,
            auth_policy_members, api_tokens, event_actions, events]


# --- listings several resources share ---------------------------------------------------------------


def managed_pages(client: AtlassianClient, org_id: str, stats: RequestStats) -> Iterator[list[dict]]:
    """Pages of managed accounts (v1 `/users`, 100 a page)."""
    return paginate(client, f"/admin/v1/orgs/{org_id}/users", AdminV1(), stats=stats)


def workspace_pages(client: AtlassianClient, org_id: str, stats: RequestStats) -> Iterator[list[dict]]:
    return paginate(client, f"/admin/v2/orgs/{org_id}/workspaces", AdminV2(PAGE["admin_workspaces"], post=True),
                    json={}, stats=stats)


def user_pages(client: AtlassianClient, org_id: str, expand, stats: RequestStats, **filters) -> Iterator[list[dict]]:
    path = f"/admin/v2/orgs/{org_id}/directories/{ADMIN_ALL_DIRECTORIES}/users/search"
    return paginate(client, path, AdminV2(PAGE["admin_users_search"], post=True),
                    json={"expand": list(expand), **filters}, stats=stats)


def asked_only(page: list[dict], asked: list[str]) -> list[dict]:
    """A users search by `accountIds` answers those accounts only; one that answers others ignores the filter,
    and the named accounts missing from its first page would look gone (their rows retired)."""
    if {str(user.get("accountId")) for user in page} - set(asked):
        raise AtlassianError("the users search ignores its accountIds filter: rerun with --full")
    return page


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def group_pages(client: AtlassianClient, org_id: str, expand, stats: RequestStats) -> Iterator[list[dict]]:
    path = f"/admin/v2/orgs/{org_id}/directories/{ADMIN_ALL_DIRECTORIES}/groups/search"
    return paginate(client, path, AdminV2(PAGE["admin_groups_search"], post=True), json={"expand": list(expand)},
                    stats=stats)


def role_rows(client: AtlassianClient, path: str, key: str, value: str, stats: RequestStats) -> list[dict]:
    """Every role-assignment row of one user or group, with its parent key."""
    return [{key: value, **row}
            for page in paginate(client, path, AdminV2(ADMIN_ROLE_ASSIGNMENTS_PAGE), stats=stats) for row in page]


@dataclass
class GroupRoles:
    """The group role-assignment listing shared by group and user role assignments. Its requests and
    refused groups are kept with it and charged to `org_group_role_assignments` (`charge`), whichever
    resource read it first: the coverage row of the table it fills says what it cost and missed."""

    rows: list[dict]
    stats: RequestStats

    def charge(self, stats: RequestStats) -> None:
        stats.add(requests=self.stats.requests, pages=self.stats.pages, retries=self.stats.retries,
                  throttled=self.stats.throttled)
        stats.count_items_of(self.stats)


class ObjectPages(AdminV1):
    """Admin v1 responses whose `data` is one object (last-active dates): each page yields it as one item."""

    def items(self, body) -> list:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise ValueError("expected an object under 'data'")
        return [data]


# --- the events stream --------------------------------------------------------------------------------


def stream_events(client: AtlassianClient, org_id: str, scope: Scope, state: dict,
                  stats: RequestStats) -> Iterator[list[dict]]:
    """New events since the saved cursor (or the initial window), page by page; updates `state`.

    `state`: `cursor` (the stream's last cursor), plus an `incremental.AuditCursor` on processing
    time (`processed_ms`, the newest processedAt loaded, and `recent`, the ids loaded within
    AUDIT_OVERLAP_HOURS of it) for re-reading when the server no longer accepts the cursor.
    Both move after every page: the stream is read oldest first, so what was read is loaded
    and the saved position must stay with it. Ids already loaded are skipped in any mode.
    """
    path = f"/admin/v1/orgs/{org_id}/events-stream"
    seen = AuditCursor(state, stats, newest_key="processed_ms")
    if state.get("cursor"):
        attempts = [{"cursor": state["cursor"]}]
        if seen.resume_ms is not None:
            attempts.append({"from": seen.resume_ms, "sortOrder": "asc"})
    else:
        known = client.last_date is not None  # any answer of this host already told its clock
        now = server_now(client, None if known else client.get(f"/admin/v1/orgs/{org_id}", stats=stats))
        attempts = [{"from": to_ms(now - timedelta(days=AUDIT_INITIAL_DAYS)), "sortOrder": "asc"}]
    for n, params in enumerate(attempts):
        paginator = AdminV1(PAGE["admin_events"], stop_on_short_page=True)
        started = False
        try:
            # the next page is asked for while this one is processed (10-50 requests a minute: every second counts)
            for page, cursor in read_ahead(paginate(client, path, paginator, params=params, stats=stats),
                                           lambda p=paginator: p.last_cursor):
                started = True
                rows = [scope.stamp(e) for e in page if seen.is_new(e.get("id"), processed_ms(e))]
                seen.commit()
                if rows:
                    yield rows
                if cursor:  # the position after the page before this one, at least
                    state["cursor"] = cursor
            if paginator.last_cursor:
                state["cursor"] = paginator.last_cursor
            return
        except AtlassianError as exc:
            if started or exc.status != 400 or n + 1 == len(attempts):
                if paginator.last_cursor:
                    state["cursor"] = paginator.last_cursor
                raise
            # the saved cursor was refused: re-read the overlap window instead


def processed_ms(event: dict) -> int | None:
    attributes = event.get("attributes") or {}
    raw = attributes.get("processedAt") or attributes.get("time")
    return to_ms(parse_time(raw)) if raw else None


def account(account_id: str) -> dict:
    """The hold columns of a per-account call's rows (`helpers.per_item`)."""
    return {"account_id": account_id}


def bare_id(value: str) -> str:
    """`ari:cloud:identity::group/<id>` -> `<id>` (the users search names groups by ARI)."""
    return value.rpartition("/")[2] if value.startswith("ari:") else value


def snap(scope: Scope, row: dict) -> dict:
    """A snapshot row (`helpers.clean_row`): stamped, without its top-level `links` (a self URL on the
    host it was read through, no posture in it, and a history version for every row should that
    host's address change)."""
    return clean_row(scope, row, ("links",))


def scope_with(scope: Scope, org_id: str | None) -> Scope:
    return replace(scope, org_id=org_id)
