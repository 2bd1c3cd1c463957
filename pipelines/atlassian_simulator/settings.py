"""Simulator defaults that mirror Atlassian's documented behaviour (DIGEST §3)."""

# fnmatch pattern on the served path -> (requests, per seconds[, per, burst]) (server/faults.py `Limit`):
# applied with --rate-limits atlassian. Buckets are per caller (credential) and host unless `per` says
# "endpoint" (per host, method and path template, whoever calls).
DOCUMENTED_RATE_LIMITS: dict[str, tuple] = {
    # Admin API: 10/min per user and per path (since May 2025), each audit path its own bucket
    "/gateway/admin/v1/orgs/*/events": (10, 60.0),
    "/gateway/admin/v1/orgs/*/events/*": (10, 60.0),
    "/gateway/admin/v1/orgs/*/event-actions": (10, 60.0),
    # the events stream: 60/min per user, 50/min per path (the lower binds one caller)
    "/gateway/admin/v1/orgs/*/events-stream": (50, 60.0),
    # 200/min per org (one org key per org)
    "/gateway/admin/v1/orgs/*/directory/users/*/last-active-dates": (200, 60.0),
    # Jira/Confluence Cloud burst limits for API-token traffic: per tenant, endpoint and method, per
    # second (the numbers are not published; 100/s is of the order seen). Scoped tokens go through the gateway.
    "/site/*/rest/api/*": (100, 1.0, "endpoint"),
    "/site/*/wiki/*": (100, 1.0, "endpoint"),
    "/gateway/ex/*": (100, 1.0, "endpoint"),
    # Data Center: rate limiting is admin-configured (a token bucket per user); this is the shape the
    # admin screen suggests: 20 requests a second refilled into a bucket of 100
    "/dc/*": (20, 1.0, "caller", 100),
}
