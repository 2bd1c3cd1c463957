"""Simulator defaults that mirror Atlassian's documented behaviour (DIGEST §3)."""

# fnmatch pattern on the served path -> (requests, per seconds); applied with --rate-limits atlassian
DOCUMENTED_RATE_LIMITS: dict[str, tuple[int, float]] = {
    "/gateway/admin/v1/orgs/*/events": (10, 60.0),
    "/gateway/admin/v1/orgs/*/events/*": (10, 60.0),
    "/gateway/admin/v1/orgs/*/event-actions": (10, 60.0),
    "/gateway/admin/v1/orgs/*/events-stream": (50, 60.0),
    "/gateway/admin/v1/orgs/*/directory/users/*/last-active-dates": (200, 60.0),
    # Jira/Confluence Cloud burst limits for API-token traffic: per endpoint, per second
    "/site/*/rest/api/*": (100, 1.0),
    "/site/*/wiki/*": (100, 1.0),
}
