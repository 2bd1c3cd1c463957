"""Group members of a Cloud site, read once for Jira and Confluence (`handover`).

Jira and Confluence on one Cloud site share the site's users and groups (same group ids), so
Jira's `group/member` and Confluence's `membersByGroupId` answer the same pairs: one request per
group each. When a run reads both tables for a site with both products, `jira_group_members`
reads the members and hands each page to `confluence_group_members`, which writes them as its
rows (its own table, hints, validation and coverage row) instead of reading them again. The
Confluence rows then carry the fields a Jira user has (`accountId`, `accountType`, `displayName`,
`email`, `timeZone`); the marts read the (group, account) pairs. Confluence visits its shared
sites first, in Jira's order.
"""

from __future__ import annotations

from atlassian_posture.connector.config import SiteConfig
from atlassian_posture.connector.handover import Handover

JIRA, CONFLUENCE = "jira_group_members", "confluence_group_members"
# Confluence member fields a Jira `UserDetails` carries (Confluence's `email` is Jira's `emailAddress`)
FIELDS = {"accountId": "accountId", "accountType": "accountType", "displayName": "displayName",
          "emailAddress": "email", "timeZone": "timeZone"}


def shared(handover: Handover, org_key: str, site: SiteConfig) -> bool:
    """Whether Jira reads this site's members for both tables in this run. In a change-driven run
    (changes.py) Jira reads the groups the logs name, and Confluence holds the same others (`Coverage.mirror`)."""
    return {"jira", "confluence"} <= set(site.products) and handover.shared(JIRA, CONFLUENCE, (org_key, site.name))


def as_confluence(members: list[dict]) -> list[dict]:
    """Jira members (raw: before Jira's row cleaning changes them in place) as Confluence members."""
    return [{to: member[src] for src, to in FIELDS.items() if member.get(src) is not None} for member in members]
