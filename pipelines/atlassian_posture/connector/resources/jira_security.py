"""Jira issue security schemes: the schemes, their levels and each level's members (Cloud and Data Center).

Who may see an issue that carries a security level is decided by the level's members (`holder.type` group,
user, projectRole, reporter, assignee, applicationRole, anyone...), not by the project's Browse grant alone:
`effective_permissions` and the exposure checks can narrow or widen project exposure with them.
"""

from __future__ import annotations

import dlt

from atlassian_posture.connector.helpers import Connections, Coverage, snapshot
from atlassian_posture.connector.http import NotAvailable
from atlassian_posture.connector.paging import PageBean, SinglePage, paginate
from atlassian_posture.connector.resources.jira_common import jira_tenants, row
from atlassian_posture.connector.settings import PAGE


def build(connections: Connections, coverage: Coverage) -> list:
    @snapshot("jira_issue_security_schemes")
    def issue_security_schemes():
        """One row per issue security scheme (`id`, `name`, `description`, `defaultSecurityLevelId`) from
        `GET issuesecurityschemes`; its levels go to `jira_issue_security_levels` (`id`, `name`, `description`,
        `scheme_id`) and the levels' members to `jira_issue_security_level_members` (`GET
        issuesecurityschemes/level/member?schemeId=`: `id`, `issueSecurityLevelId`, `holder.type`/`parameter`/
        `value`, `scheme_id`), and the projects using it to `jira_issue_security_scheme_projects` (`GET
        issuesecurityschemes/project?issueSecuritySchemeId=`: `projectId`, `scheme_id`). Needs Administer Jira; 404 on a Jira without the endpoint, 403 without the right."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_issue_security_schemes", tenant.scope) as stats:
                for page in paginate(tenant.client, f"{tenant.api}/issuesecurityschemes",
                                     SinglePage("issueSecuritySchemes"), stats=stats):
                    for scheme in page:
                        levels = scheme.pop("levels", None) or []
                        yield row(tenant.scope, scheme)
                        if levels:
                            yield dlt.mark.with_table_name(
                                [row(tenant.scope, level, scheme_id=scheme["id"]) for level in levels],
                                "jira_issue_security_levels")
                        members = [row(tenant.scope, member, scheme_id=scheme["id"])
                                   for member_page in paginate(
                                       tenant.client, f"{tenant.api}/issuesecurityschemes/level/member",
                                       PageBean(PAGE["jira_security_members"]),
                                       params={"schemeId": scheme["id"], "expand": "all"}, stats=stats)
                                   for member in member_page]
                        if members:
                            yield dlt.mark.with_table_name(members, "jira_issue_security_level_members")
                        projects = _scheme_projects(tenant, scheme["id"], stats)
                        if projects:
                            yield dlt.mark.with_table_name(projects, "jira_issue_security_scheme_projects")

    def _scheme_projects(tenant, scheme_id, stats) -> list[dict]:
        """The projects using the scheme (`GET issuesecurityschemes/project?issueSecuritySchemeId=`: `projectId`),
        so `effective_permissions` can say who sees a project's secured issues. A Jira without the endpoint
        (Data Center, older Cloud) answers 404: the schemes are kept, only the link is missing."""
        try:
            return [row(tenant.scope, mapping, scheme_id=scheme_id)
                    for page in paginate(tenant.client, f"{tenant.api}/issuesecurityschemes/project",
                                         PageBean(PAGE["jira_security_members"]),
                                         params={"issueSecuritySchemeId": scheme_id}, stats=stats)
                    for mapping in page]
        except NotAvailable:
            return []

    return [issue_security_schemes]
