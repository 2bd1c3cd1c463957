"""Resources of Confluence Cloud (every site with Confluence) and Confluence Data Center.

One dlt resource per table; Cloud and DC rows of the same entity share a table and are told
apart by `_deployment` (groups, group members, spaces, space permissions, settings). The
reads themselves live in `confluence_cloud.py` and `confluence_dc.py`. Parent lists
(spaces, groups) are read once per tenant and run and shared by the resources that fan out
over them (`helpers.Listings`). Top-level `_links`/`_expandable` are dropped from rows: they name
the host a row was read through, not the state of the object (see `confluence_support.py`).

Shapes that differ between Cloud and DC, kept raw (the staging models map them):
- groups: Cloud `id`, `name`, `type`, `usageType`, `managedBy`; DC `name`, `type` (no id: a DC
  group is its name);
- group members: Cloud user objects (`accountId`, ...) with `group_id`; DC user objects
  (`username`, `userKey`, ...) with `group_name`;
- spaces: Cloud v2 (`id` string, `key`, `type`, `status`, `authorId`, `createdAt`, ...); DC v1
  (`id` number, loaded as text, `key`, `type`, `status`);
- space permissions: Cloud v2 `principal.type` (`user`|`group`|`role`) / `principal.id` (account
  id, group id, or an access class such as `anonymous-users`), `operation.key` /
  `operation.targetType`, plus `space_id`; DC `subject.type` (`user`|`group`|`anonymous`) /
  `subject.name` (group) or `subject.username`/`subject.userKey`, `operation.operationKey` /
  `operation.targetType`, and DC's own `spaceKey`/`spaceId` (normalised to `space_key`/`space_id`).

Confluence DC's audit log (Atlassian Audit) goes to `dc_audit_events`, next to Jira DC's, through
the builder the Jira resources share (`jira.build_dc_audit_resource`).
"""

from __future__ import annotations

import logging

import dlt

from atlassian_posture.connector.handover import Handover
from atlassian_posture.connector.helpers import Connections, Coverage, Listings, listed_rows
from atlassian_posture.connector.incremental import tenant_state
from atlassian_posture.connector.resources import confluence_cloud as cloud
from atlassian_posture.connector.resources import confluence_dc as dc
from atlassian_posture.connector.resources import site_members
from atlassian_posture.connector.resources.confluence_support import LINEAGE_COLUMNS, row, snapshot
from atlassian_posture.connector.resources.jira import build_dc_audit_resource
from atlassian_posture.connector.resources.site_members import CONFLUENCE, JIRA

log = logging.getLogger(__name__)


def build(connections: Connections, coverage: Coverage, handover: Handover | None = None) -> list:
    """`handover`: Cloud group members Jira reads for both products (`site_members`); without it, read here."""
    listings = Listings()
    handover = handover or Handover()

    def cloud_scopes():
        return connections.site_scopes("confluence")

    def dc_scopes():
        return connections.dc_scopes("confluence")

    @snapshot("confluence_groups")
    def groups():
        """A group of the site (Cloud: by id) or instance (DC: by name)."""
        for _, _, client, scope in cloud_scopes():
            with coverage.track("confluence_groups", scope) as stats:
                yield from listed_rows(cloud.group_list(listings, client, scope, stats), scope, stats)
        for _, _, client, scope in dc_scopes():
            with coverage.track("confluence_groups", scope) as stats:
                yield from listed_rows(dc.group_list(listings, client, scope, stats), scope, stats)

    @snapshot("confluence_group_members")
    def group_members():
        """One membership: a user object and its group (`group_id` on Cloud, `group_name` on DC).

        A Cloud site with Jira too: the members `jira_group_members` read (`site_members`), with the
        fields Jira's user carries; those sites first, in Jira's order."""
        sites = list(cloud_scopes())
        shared = {scope.label for org, site, _, scope in sites if site_members.shared(handover, org.key, site)}
        for org, site, client, scope in sorted(sites, key=lambda s: s[3].label not in shared):
            with coverage.track("confluence_group_members", scope) as stats:
                if scope.label in shared:
                    yield from shared_members((org.key, site.name), client, scope, stats)
                else:
                    yield from cloud.group_members(listings, client, scope, stats)
        for _, _, client, scope in dc_scopes():
            with coverage.track("confluence_group_members", scope) as stats:
                yield from dc.group_members(listings, client, scope, stats)

    @snapshot("confluence_users")
    def users():
        """A Confluence Cloud user (licensed or guest) from the user search.

        The search only finds people with Confluence access (no app accounts) and stops at 10,000
        users: `jira_users` and the Admin API user lists are the complete sources; this table adds
        Confluence's own view (`isGuest`, `publicName`).
        """
        for _, _, client, scope in cloud_scopes():
            with coverage.track("confluence_users", scope) as stats:
                yield from cloud.users(client, scope, stats, log.warning)

    @snapshot("confluence_dc_users")
    def dc_users():
        """A Confluence DC user (disabled ones too: `status`), with `details.personal.email`."""
        for _, _, client, scope in dc_scopes():
            with coverage.track("confluence_dc_users", scope) as stats:
                yield from dc.users(client, scope, stats)

    @snapshot("confluence_spaces", id="text")
    def spaces():
        """A space the credential can view, current or archived (Cloud v2 or DC)."""
        for _, _, client, scope in cloud_scopes():
            with coverage.track("confluence_spaces", scope) as stats:
                yield from listed_rows(cloud.space_list(listings, client, scope, stats), scope, stats)
        for _, _, client, scope in dc_scopes():
            with coverage.track("confluence_spaces", scope) as stats:
                yield from listed_rows(dc.space_list(listings, client, scope, stats), scope, stats)

    @snapshot("confluence_space_permissions", space_id="text")
    def space_permissions():
        """One permission of one space (a principal/subject holding an operation on a target type)."""
        for _, _, client, scope in cloud_scopes():
            with coverage.track("confluence_space_permissions", scope) as stats:
                yield from cloud.space_permissions(listings, client, scope, stats)
        for _, _, client, scope in dc_scopes():
            with coverage.track("confluence_space_permissions", scope) as stats:
                yield from dc.space_permissions(listings, client, scope, stats)

    @snapshot("confluence_space_role_assignments")
    def role_assignments():
        """One role assignment in one space: a principal (USER, GROUP or ACCESS_CLASS such as
        `anonymous-users`) holding a space role (`roleId`), with `space_id`. Cloud sites in space-roles mode."""
        for _, _, client, scope in cloud_scopes():
            mode = cloud.role_mode(client)
            # ROLES_TRANSITION sites hold assignments next to legacy permissions: both are evidence
            if mode == "PRE_ROLES":
                coverage.skip("confluence_space_role_assignments", scope,
                              f"the site uses space permissions mode {mode!r}, not space roles")
                continue
            with coverage.track("confluence_space_role_assignments", scope) as stats:
                yield from cloud.role_assignments(listings, client, scope, stats)

    @snapshot("confluence_legacy_space_permissions", space_id="text")
    def legacy_space_permissions():
        """One v1 space permission of one Cloud space per subject (`GET /wiki/rest/api/space?expand=permissions`):
        `operation`/`target_type`, `anonymous_access`, `unlicensed_access`, `subject_type`/`subject_id`.
        The only read of the legacy anonymous/unlicensed flags; any mode (PRE_ROLES sites need it most)."""
        for _, _, client, scope in cloud_scopes():
            with coverage.track("confluence_legacy_space_permissions", scope) as stats:
                yield from cloud.legacy_space_permissions(client, scope, stats)

    @snapshot("confluence_space_roles")
    def space_roles():
        """A space role of the site's catalogue, with the space permissions it is made of."""
        for _, _, client, scope in cloud_scopes():
            with coverage.track("confluence_space_roles", scope) as stats:
                yield from cloud.space_roles(client, scope, stats)

    @snapshot("confluence_settings")
    def settings():
        """One row per site/instance: Cloud `systemInfo` plus `space_role_mode` (ROLES, ROLES_TRANSITION,
        PRE_ROLES; null when the site has no such endpoint); DC `server-information` plus `accessMode`."""
        for _, _, client, scope in cloud_scopes():
            with coverage.track("confluence_settings", scope) as stats:
                yield from cloud.settings(client, scope, stats, cloud.role_mode(client))
        for _, _, client, scope in dc_scopes():
            with coverage.track("confluence_settings", scope) as stats:
                yield from dc.settings(client, scope, stats)

    @snapshot("confluence_dc_global_permissions")
    def dc_global_permissions():
        """A global permission grant on DC; `holder` names the list it came from: `all`
        (`/permissions`), `anonymous` (`/permissions/anonymous`) or `unlicensed` (`/permissions/unlicensed`)."""
        for _, _, client, scope in dc_scopes():
            with coverage.track("confluence_dc_global_permissions", scope) as stats:
                yield from dc.global_permissions(client, scope, stats)

    @snapshot("confluence_anonymous_probe")
    def anonymous_probe():
        """One row per Cloud site: what an unauthenticated `GET /wiki/api/v2/spaces` answers
        (`anonymous_access`, `status_code`, `space_count`, sorted `space_keys`)."""
        for org, site, _, scope in cloud_scopes():
            anonymous = connections.anonymous(org.key, site.name, site.url)
            with coverage.track("confluence_anonymous_probe", scope) as stats:
                yield from cloud.anonymous_probe(anonymous, scope, stats)

    @dlt.resource(name="confluence_audit_records", write_disposition="merge", primary_key=("_tenant", "record_id"),
                  columns=LINEAGE_COLUMNS)
    def audit_records():
        """One Confluence Cloud audit record; `record_id` is derived (the API gives none).

        Incremental: from the newest record loaded minus the overlap window up to the server's
        now; records already loaded inside the overlap are skipped. 403 on the Free plan.
        """
        for _, _, client, scope in cloud_scopes():
            with coverage.track("confluence_audit_records", scope, snapshot=False) as stats:
                yield from cloud.audit_records(client, scope, stats, tenant_state(scope))

    def shared_members(site: tuple[str, str], client, scope, stats):
        """Jira's pages as this table's rows. What Jira could not read, Confluence's endpoint may: the whole
        site when Jira failed before any page, the groups Jira was refused (403) otherwise."""
        for item in handover.take(JIRA, CONFLUENCE, site):
            if item is None:
                yield None  # Jira has not read more yet: dlt runs the other resources meanwhile
                continue
            group_id, page = item
            stats.add(rows=len(page))
            if page:
                yield [row(scope, member, group_id=group_id) for member in page]
        read, failure = handover.result(JIRA, CONFLUENCE, site)
        coverage.mirror(read, stats)  # the groups Jira held in a change-driven run are held here too
        if failure is not None and not stats.rows:
            yield from cloud.group_members(listings, client, scope, stats)
        elif failure is not None:
            raise failure  # a partial read (Jira's snapshot fails the run too)
        elif read.refused.get("groups"):
            refused = {hold.get("group_id") for _, hold in read.refused["groups"]}
            yield from cloud.group_members(listings, client, scope, stats, refused)

    return [groups, group_members, users, dc_users, spaces, space_permissions, role_assignments,
            legacy_space_permissions, space_roles,
            settings, dc_global_permissions, anonymous_probe, audit_records,
            build_dc_audit_resource(connections, coverage, "confluence")]
