"""Endpoints, page sizes and defaults of the Atlassian source: one place for every constant."""

REQUEST_TIMEOUT_S = 30.0
MAX_RETRIES = 6
# 429s that are lost races for the quota (another request to the host got through meanwhile) are not
# counted as attempts, up to this many per request: the host is serving, this request just lost its turn
MAX_LOST_RACES = 60
RETRY_CAP_S = 60.0
HOST_CONCURRENCY = 4  # Atlassian asks API-token clients to keep concurrency low (2-4 per site)
# ... which the host limiter (AIMD) raises up to this while the host answers without 429s; a fan-out
# has as many workers, so one fan-out alone can use what the host allows
HOST_MAX_CONCURRENCY = 2 * HOST_CONCURRENCY
# Documented rate limits (DIGEST §3), fnmatch on the URL path -> (requests, per seconds); each is a
# client-side budget per credential, base URL and pattern (connector/budget.py). The Admin API's audit
# endpoints allow 10/min per user and per path; the events stream 60/min per user and 50 per path (the
# lower binds); last-active dates 200/min per org. Jira/Confluence Cloud burst limits are per endpoint
# and method and unpublished: learned from RateLimit-Reason + X-RateLimit-Limit or from 429s.
RATE_LIMITS: dict[str, tuple[int, float]] = {
    "*/admin/v1/orgs/*/events": (10, 60.0),
    "*/admin/v1/orgs/*/events/*": (10, 60.0),
    "*/admin/v1/orgs/*/event-actions": (10, 60.0),
    "*/admin/v1/orgs/*/events-stream": (50, 60.0),
    "*/admin/v1/orgs/*/directory/users/*/last-active-dates": (200, 60.0),
}
# Budgets spend this share of a limit: requests arrive with jitter, so pacing at exactly the limit
# would meet an empty server bucket now and then
RATE_MARGIN = 0.95
# Fan-out reads each item's follow-up pages in its worker, at most this many pages ahead of the
# consumer per item (with FAN_OUT_WINDOW items: the memory bound)
FAN_OUT_PAGES_AHEAD = 2
# Resources extracted at once (dlt extract workers): enough for every resource of a tenant or two
EXTRACT_WORKERS = 48
# Fan-out (members per group, actors per project, permissions per space, calls per account...) keeps
# at most this many parents in flight or waiting to be streamed, so fetched rows stay bounded
# however many groups, projects, spaces or accounts a tenant has
FAN_OUT_WINDOW = 50

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
    "jira_user_bulk": 200,  # user/bulk (a change-driven run's named accounts); default 10, cap not documented
    "jira_group_member": 50,
    "jira_projects": 100,
    "jira_filters": 100,
    "jira_dashboards": 100,
    "jira_security_members": 50,  # issuesecurityschemes/level/member: PageBean, default 50
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
# Change-driven runs (changes.py): a full sweep at least this often (days, by the server's clock)
CHANGE_SWEEP_DAYS = 7.0
# A change-driven run's logs start no earlier than the last full sweep minus this margin (clock skew between a
# Data Center instance and the organization's clock): a change logged before the sweep started was read by it
SWEEP_SKEW_MINUTES = 15
# A change-driven run reads the group members of at most this many named accounts one by one (one request each);
# more, and it reads the groups the logs name whole instead
MEMBER_READS_MAX = 200
# First load of an audit log goes back this far (the org log keeps 180 days).
AUDIT_INITIAL_DAYS = 180

# --- Atlassian Administration (organization) resources: resources/org.py -----------------------
# `-` as directory id widens the v2 user/group endpoints to every directory of the org.
ADMIN_ALL_DIRECTORIES = "-"
# Users search expansions: roles, per-product last activity, and the groups (memberships come from here).
ADMIN_USER_EXPAND = ("platformRoles", "productAccess", "groups")
# Enough to decide, per user, whether its role assignments can hold anything (see org_user_role_assignments).
ADMIN_USER_ROLES_EXPAND = ("platformRoles", "counts.resources")
ADMIN_GROUP_EXPAND = ("counts.users", "counts.resources")
ADMIN_DIRECTORIES_PAGE = 100  # v2 directories: default 20, max 100
ADMIN_ROLE_ASSIGNMENTS_PAGE = 100  # v2 role assignments: default 20, max 100
# Control API bulk fetch of authentication-policy members takes at most 100 account ids.
AUTH_POLICY_BULK_FETCH_MAX = 100
# the users search's `accountIds` filter takes at most this many ids (spec: maxItems 10)
ADMIN_USER_SEARCH_IDS_MAX = 10
# account ids per Jira Cloud user/bulk request (repeated `accountId` parameters: keeps the URL short)
JIRA_USER_BULK_IDS = 50
# The org events stream needs no overlap (its saved cursor polls by processing time); only when the
# server refuses that cursor is it re-read from the newest processedAt minus AUDIT_OVERLAP_HOURS.

# --- Confluence and apps (resources/confluence.py, resources/apps.py) -----------------------------
PAGE.update({
    "confluence_user_search": 200,  # C1 default 25; "up to 10k users" in all (CONFLUENCE_USER_SEARCH_CAP)
    "confluence_space_roles": 250,  # C2: max 250
    "confluence_role_assignments": 250,  # C2: max 250
    "confluence_legacy_spaces": 100,  # v1 space list with expand=permissions: large bodies, small pages
    "dc_confluence_groups": 200,
    "dc_confluence_members": 200,
    "dc_confluence_spaces": 100,  # CDC default 25; cap not published
})
# `GET /wiki/rest/api/search/user?cql=type=user` stops at 10,000 users (C1): Confluence Cloud has no
# complete user listing; the Jira `users/search` and Admin API user lists are the complete sources.
CONFLUENCE_USER_SEARCH_CAP = 10_000
# UPM on Cloud, per product (relative to the site URL; never reachable through the scoped gateway)
UPM_CLOUD_PATHS = {"jira": "/rest/plugins/1.0/", "confluence": "/wiki/rest/plugins/1.0/"}
# UPM on Data Center, relative to the instance base (which already holds Confluence's /confluence)
UPM_DC_PATH = "/rest/plugins/1.0/"

# --- Jira Cloud and Jira Data Center (resources/jira*.py) -----------------------------------------
JIRA_API = {"cloud": "/rest/api/3", "dc": "/rest/api/2"}
PAGE.update({
    "jira_dc_dashboards": 100,  # DC /dashboard: default 20; cap not published
})
# Jira DC has no paged group list: groups/picker with a large maxResults is the only listing
# (capped by jira.ajax.autocomplete.limit). A listing cut short fails the resource, never loads half.
JIRA_DC_GROUP_PICKER_MAX = 10_000
# Cloud groups/picker, read only for its labels (ADMIN = the group holds Administer Jira)
JIRA_CLOUD_GROUP_PICKER_MAX = 1000
# more groups than that: picker queries by name substring cover them (jira_identity.picker_queries); groups
# those answers miss are asked by exact name, up to this many (more: the server does not match as documented)
PICKER_EXACT_MAX = 200
# Before Jira 10, DC has no /user/list: /user/search?username=. reaches the first 1000 users only
JIRA_DC_USER_SEARCH_QUERY = "."
# Jira DC cannot list filters. Besides the caller's favourites, filter ids are probed upwards from
# 10000 (Jira numbers them sequentially from there) until this many ids in a row are missing or
# hidden; a filter is found only if the credential may see it (no admin override on DC).
JIRA_DC_FILTER_ID_START = 10_000
JIRA_DC_FILTER_SCAN_MISSES = 50
JIRA_DC_FILTER_SCAN_BATCH = 10
# A change-driven run probes only past the highest filter id it holds, and stops after this many misses in a row:
# new filters since yesterday (more private ones than this in a row hide a shared one until the next sweep)
JIRA_DC_FILTER_NEW_MISSES = 5
# Jira DC's application-properties list (JDC marks `key` as required); fallback: these keys one by one
JIRA_DC_PROPERTY_KEYS = ("jira.mode", "jira.option.user.externalmanagement", "jira.option.emailvisible",
                         "jira.title", "jira.baseurl")
# Asked anonymously through mypermissions: Browse projects plus every global permission key
JIRA_ANONYMOUS_PERMISSIONS = ("BROWSE_PROJECTS", "USER_PICKER", "ADMINISTER", "SYSTEM_ADMIN",
                              "CREATE_SHARED_OBJECTS", "MANAGE_GROUP_FILTER_SUBSCRIPTIONS", "BULK_CHANGE")
# The anonymous probe keeps at most this many project keys / filter ids per site (counts stay exact)
JIRA_PROBE_MAX_ITEMS = 50
# Fields that change without any security meaning (a new history version every run otherwise)
JIRA_VOLATILE_FIELDS = ("self", "serverTime", "popularity")
