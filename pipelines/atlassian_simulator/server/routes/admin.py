"""Routes: Atlassian Administration, served under `/gateway` (standing for https://api.atlassian.com).

Authentication is the organization API key as Bearer (resolved by the tenant middleware:
the key picks its organization, anything else is 401). A key only sees its own org: any
other `{orgId}` answers 404 `ADMIN-404-2` (403 on the endpoints whose spec documents only a
permission error: domains, last-active-dates). Only reads are routed: a write method on a
routed path answers 405.

| Module            | Endpoints                                                                   |
| ----------------- | --------------------------------------------------------------------------- |
| `admin_org`       | v1 orgs, domains, managed users, last-active dates, policies (Guard, 404)   |
| `admin_events`    | v1 events, event detail, events-stream, event-actions (Guard, 403)          |
| `admin_directory` | v2 directories, users (GET list, POST search, detail, count, stats, roles)  |
| `admin_groups`    | v2 groups (GET list, POST search, detail, count, stats, roles), workspaces  |
| `admin_extra`     | API-access tokens, Control API (no spec), user management `/users/.../manage` |
"""

from starlette.routing import Route

from atlassian_simulator.server.routes import admin_directory, admin_events, admin_extra, admin_groups, admin_org

ROUTES: list[Route] = [
    *admin_org.ROUTES,
    *admin_events.ROUTES,
    *admin_directory.ROUTES,
    *admin_groups.ROUTES,
    *admin_extra.ROUTES,
]
