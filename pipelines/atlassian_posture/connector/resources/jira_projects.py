"""Jira project resources: projects, project roles and their actors, permission schemes and grants."""

from __future__ import annotations

import dlt

from atlassian_posture.connector.changes import only
from atlassian_posture.connector.helpers import Connections, Coverage, Listings, fan_out, per_item, snapshot
from atlassian_posture.connector.http import AtlassianError, AuthenticationFailed
from atlassian_posture.connector.paging import SinglePage, paginate
from atlassian_posture.connector.resources.jira_common import (
    ProjectRef,
    is_missing,
    jira_tenants,
    project_list,
    project_refs,
    role_id_of,
    row,
)

# Cloud accepts `all`; the DC document lists the expansions one by one (DIGEST 4.1)
SCHEME_EXPAND = {"cloud": "all", "dc": "permissions,user,group,projectRole,field"}


# a per-project call: gone (404, or 400 on DC) or refused (403) skips the project (`helpers.per_item`)
PROJECT = {"missing": is_missing, "name": lambda p: f"{p.key} ({p.id})", "hold": lambda p: {"project_id": p.id}}


def build(connections: Connections, coverage: Coverage, listings: Listings) -> list:
    def changed_projects(tenant, stats) -> list[ProjectRef]:
        """The projects to read: all, or in a change-driven run those the audit logs name (changes.py)."""
        return only("projects", tenant.scope, project_refs(listings, tenant, stats), stats,
                    ids=lambda p: (p.id, p.key), hold=PROJECT["hold"])

    @snapshot("jira_project_roles")
    def project_roles():
        """One row per project role of the role catalogue (role): `id`, `name`, `description`.
        Key: `id`. Who holds a role in a project is `jira_role_actors`."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_project_roles", tenant.scope) as stats:
                found = role_list(tenant, stats)
                stats.add(rows=len(found))
                yield [row(tenant.scope, dict(role)) for role in found]

    def role_list(tenant, stats) -> list[dict]:
        """The role catalogue, read once per tenant and run (shared with `jira_role_actors`)."""
        def load(own):
            for page in paginate(tenant.client, f"{tenant.api}/role", SinglePage(), stats=own):
                yield from page

        return listings.get("roles", tenant.scope, load, stats)

    @snapshot("jira_projects")
    def projects():
        """One row per project, live and archived, with its lead and description (Cloud: project/search;
        DC: project?includeArchived=true). Key: `id`."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_projects", tenant.scope) as stats:
                found = project_list(listings, tenant, stats)
                stats.add(rows=len(found))
                yield [row(tenant.scope, dict(p)) for p in found]

    @snapshot("jira_role_actors")
    def role_actors():
        """One row per (project, role, actor): a user (Cloud `actorUser.accountId`, DC `name` = username) or
        a group (Cloud `actorGroup.groupId`, DC `name` = group name) holding a project role, with
        `project_id`, `project_key`, `role_id`, `role_name`. Key: (`project_id`, `role_id`, `id`).

        A company-managed project's roles are the global catalogue (`jira_project_roles`), so only
        team-managed projects (and every project when the catalogue is refused) need their
        `project/{id}/role` map: one call fewer per project."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_role_actors", tenant.scope) as stats:
                catalogue = role_catalogue(tenant, stats)

                def actors_of(project: ProjectRef, tenant=tenant, stats=stats, catalogue=catalogue) -> list[dict]:
                    base = f"{tenant.api}/project/{project.id}/role"
                    if project.shared_roles and catalogue is not None:
                        roles = {name: role_id for role_id, name in catalogue}
                    else:
                        roles = {name: role_id_of(url)
                                 for name, url in tenant.client.json(tenant.client.get(base, stats=stats)).items()}
                    out = []
                    for name, role_id in sorted(roles.items()):
                        body = tenant.client.json(tenant.client.get(f"{base}/{role_id}", stats=stats))
                        out += [row(tenant.scope, actor, project_id=project.id, project_key=project.key,
                                    role_id=int(role_id), role_name=name)
                                for actor in body.get("actors") or []]
                    stats.add(pages=1, rows=len(out))
                    return out

                # a project deleted since the listing has no actors; one the credential may not
                # administer (403) is skipped, its actors kept from the last run (coverage: partial)
                yield from fan_out(changed_projects(tenant, stats),
                                   per_item(actors_of, stats, "projects", empty=[], **PROJECT))

    def role_catalogue(tenant, stats) -> list[tuple[str, str]] | None:
        """(id, name) of every project role (`role`, shared with `jira_project_roles`); None when refused."""
        try:
            return [(str(role["id"]), role["name"]) for role in role_list(tenant, stats)]
        except AuthenticationFailed:
            raise
        except AtlassianError:
            return None

    @snapshot("jira_permission_schemes")
    def permission_schemes():
        """One row per permission scheme (`id`, `name`, `description`) in `jira_permission_schemes`, and one
        row per grant in `jira_permission_grants` (`permission`, `holder.type`/`parameter`/`value` and the
        expanded holder, plus `scheme_id`; key (`scheme_id`, `id`)), both from one permissionscheme call.
        Grants get their own table rather than a nested one so each grant has its own history: a removed
        grant is retired on its own row, and marts join grants to projects on `scheme_id` directly."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_permission_schemes", tenant.scope) as stats:
                for page in paginate(tenant.client, f"{tenant.api}/permissionscheme", SinglePage("permissionSchemes"),
                                     params={"expand": SCHEME_EXPAND[tenant.deployment]}, stats=stats):
                    for scheme in page:
                        grants = scheme.pop("permissions", None) or []
                        yield row(tenant.scope, scheme)
                        yield dlt.mark.with_table_name(
                            [row(tenant.scope, grant, scheme_id=scheme["id"]) for grant in grants],
                            "jira_permission_grants")

    @snapshot("jira_project_permission_schemes")
    def project_permission_schemes():
        """One row per project: the permission scheme it uses (project/{id}/permissionscheme: the scheme's
        `id`, `name`, `description`) with `project_id`, `project_key`. Key: `project_id`."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_project_permission_schemes", tenant.scope) as stats:
                def scheme_of(project: ProjectRef, tenant=tenant, stats=stats) -> dict:
                    response = tenant.client.get(f"{tenant.api}/project/{project.id}/permissionscheme", stats=stats)
                    stats.add(pages=1, rows=1)
                    return row(tenant.scope, tenant.client.json(response), project_id=project.id,
                               project_key=project.key)

                refs = changed_projects(tenant, stats)
                for found in fan_out(refs, per_item(scheme_of, stats, "projects", empty=None, **PROJECT)):
                    if found is not None:
                        yield found

    return [project_roles, projects, role_actors, permission_schemes, project_permission_schemes]
