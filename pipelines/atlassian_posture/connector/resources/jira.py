"""Resources of Jira Cloud (sites, classic or scoped tokens) and Jira Data Center.

The resources live by area in `jira_identity.py` (users, groups, members, application
roles, the admin-group probe), `jira_projects.py` (projects, roles, actors, permission
schemes and grants), `jira_sharing.py` (filters, dashboards), `jira_security.py` (issue security
schemes), `jira_audit.py` (audit logs) and `jira_instance.py` (server info, configuration,
properties, the anonymous probe); `jira_common.py` holds what they share.
`pipelines/atlassian_posture/connector/README.md` tables them.

Confluence Data Center writes its Atlassian Audit events into the same `dc_audit_events`
table: it builds its resource with `build_dc_audit_resource(connections, coverage, "confluence")`.
"""

from __future__ import annotations

from atlassian_posture.connector.handover import Handover
from atlassian_posture.connector.helpers import Connections, Coverage, Listings
from atlassian_posture.connector.resources import (
    jira_audit,
    jira_identity,
    jira_instance,
    jira_projects,
    jira_security,
    jira_sharing,
)
from atlassian_posture.connector.resources.jira_audit import build_dc_audit_resource

__all__ = ["build", "build_dc_audit_resource"]


def build(connections: Connections, coverage: Coverage, handover: Handover | None = None) -> list:
    """`handover`: this run's listings handed between resources (`site_members`); without it, none."""
    listings = Listings()  # project and group ids, listed once per run and shared by the fan-out resources
    return [
        *jira_identity.build(connections, coverage, listings, handover or Handover()),
        *jira_projects.build(connections, coverage, listings),
        *jira_sharing.build(connections, coverage),
        *jira_audit.build(connections, coverage),
        *jira_instance.build(connections, coverage),
        *jira_security.build(connections, coverage),
    ]
