"""Endpoints, page sizes and defaults of the Atlassian source: one place for every constant."""

REQUEST_TIMEOUT_S = 30.0
MAX_RETRIES = 6
RETRY_CAP_S = 60.0
HOST_CONCURRENCY = 4  # Atlassian asks API-token clients to keep concurrency low (2-4 per site)

# POST endpoints that only read; the client refuses every other non-GET request.
READ_ONLY_POSTS = (
    "*/admin/v2/orgs/*/directories/*/users/search",
    "*/admin/v2/orgs/*/directories/*/groups/search",
    "*/admin/v2/orgs/*/workspaces",
    "*/admin/control/v1/orgs/*/users/auth-policies/bulk-fetch",
    "*/wiki/api/v2/users-bulk",
)

# Page sizes we ask for; servers may lower them silently, the paginators cope.
PAGE = {
    "jira_users": 1000,
    "jira_group_bulk": 50,
    "jira_group_member": 50,
    "jira_projects": 100,
    "jira_filters": 100,
    "jira_dashboards": 100,
    "jira_audit": 1000,
    "confluence_groups": 200,
    "confluence_members": 200,
    "confluence_audit": 1000,
    "confluence_spaces": 250,
    "confluence_space_permissions": 250,
    "admin_users_search": 100,
    "admin_groups_search": 100,
    "admin_workspaces": 1000,
    "admin_events": 500,
    "admin_tokens": 100,
    "dc_users": 1000,
    "dc_audit": 1000,
    "dc_confluence_users": 200,
}

# Incremental audit loads re-read this much before the last loaded record, so events that
# arrive late (Atlassian's logs are eventually consistent) are not missed; merge dedupes them.
AUDIT_OVERLAP_HOURS = 24
# First load of an audit log goes back this far (the org log keeps 180 days).
AUDIT_INITIAL_DAYS = 180
