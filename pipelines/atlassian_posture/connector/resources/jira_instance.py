"""Jira instance resources: server info, configuration, application properties, the anonymous probe."""

from __future__ import annotations

from atlassian_posture.connector.helpers import Connections, Coverage, snapshot
from atlassian_posture.connector.http import AtlassianError, AuthenticationFailed, Forbidden, NotAvailable
from atlassian_posture.connector.paging import SinglePage, paginate
from atlassian_posture.connector.resources.jira_common import JiraTenant, anonymous_client, jira_tenants, row
from atlassian_posture.connector.settings import JIRA_ANONYMOUS_PERMISSIONS, JIRA_DC_PROPERTY_KEYS, JIRA_PROBE_MAX_ITEMS

# Project permissions that let an anonymous caller change content (POSTURE-017), asked per project reached
ANONYMOUS_WRITE_PERMISSIONS = ("CREATE_ISSUES", "EDIT_ISSUES", "ADD_COMMENTS", "CREATE_ATTACHMENTS", "DELETE_ISSUES",
                               "TRANSITION_ISSUES", "ADMINISTER_PROJECTS")


def _outcome(exc: AtlassianError) -> str:
    """How an anonymous call was turned away."""
    if isinstance(exc, AuthenticationFailed):
        return "refused"  # 401: the site wants a login, which is what a closed site should say
    if isinstance(exc, Forbidden):
        return "forbidden"
    if isinstance(exc, NotAvailable):
        return "not_available"
    return "failed"


def probe(connections: Connections, tenant: JiraTenant, stats) -> dict:
    """What an anonymous caller gets from this Jira (POSTURE-016..021): the projects, filters and dashboards
    it can list, the projects it may write to (mypermissions per project reached), and the global
    permissions (plus Browse projects) it holds. Counts, sorted keys and flags only: no time, no page
    numbers, so an unchanged site gives an identical row. The keys are the corroborating evidence: a
    resource listed here is exposed whatever the permission tables say."""
    client = anonymous_client(connections, tenant)
    api = tenant.api
    result: dict = {}

    def attempt(prefix: str, call) -> None:
        try:
            call()
            result[f"{prefix}_status"] = "ok"
        except AtlassianError as exc:  # 401 included: an anonymous 401 is an answer, not a broken credential
            result[f"{prefix}_status"] = _outcome(exc)

    def projects():
        if tenant.cloud:
            body = client.json(client.get(f"{api}/project/search", params={"maxResults": JIRA_PROBE_MAX_ITEMS},
                                          stats=stats))
            items, total = body.get("values") or [], body.get("total")
        else:
            items = client.json(client.get(f"{api}/project", stats=stats))
            total = len(items)
        result["projects_visible"] = total if total is not None else len(items)
        keys = sorted(p["key"] for p in items[:JIRA_PROBE_MAX_ITEMS])
        result["project_keys"] = ",".join(keys)
        if tenant.cloud and keys and not writes_anywhere():
            result["write_project_keys"] = ""
            return
        writable = []
        for key in keys:  # a refusal here leaves the project out: only a yes is evidence
            try:
                held = client.json(client.get(f"{api}/mypermissions", params={
                    "projectKey": key, "permissions": ",".join(ANONYMOUS_WRITE_PERMISSIONS)}, stats=stats))
            except AtlassianError:
                continue
            if any(isinstance(e, dict) and e.get("havePermission") for e in (held.get("permissions") or {}).values()):
                writable.append(key)
        result["write_project_keys"] = ",".join(writable)

    asked = JIRA_ANONYMOUS_PERMISSIONS + (ANONYMOUS_WRITE_PERMISSIONS if tenant.cloud else ())
    answers: list = []  # mypermissions in the global context, asked once for both uses

    def global_permissions() -> dict:
        if not answers:
            answers.append(client.json(client.get(f"{api}/mypermissions",
                                                  params={"permissions": ",".join(asked)}, stats=stats)))
        return answers[0].get("permissions") or {}

    def writes_anywhere() -> bool:
        """Cloud: whether the anonymous caller holds a write permission in any project (mypermissions in the
        global context answers a project permission held in any project, as the spec says). When it holds
        none, no project needs asking; any doubt (an error, a yes, no answer) asks project by project."""
        try:
            held = global_permissions()
        except AtlassianError:
            return True
        entries = [held.get(key) for key in ANONYMOUS_WRITE_PERMISSIONS]
        return any(not isinstance(e, dict) or e.get("havePermission") is not False for e in entries)

    def filters():
        body = client.json(client.get(f"{api}/filter/search", params={"maxResults": JIRA_PROBE_MAX_ITEMS},
                                      stats=stats))
        items, total = body.get("values") or [], body.get("total")
        result["filters_visible"] = total if total is not None else len(items)
        result["filter_ids"] = ",".join(sorted(str(f["id"]) for f in items[:JIRA_PROBE_MAX_ITEMS]))

    def dashboards():
        if tenant.cloud:
            body = client.json(client.get(f"{api}/dashboard/search", params={"maxResults": JIRA_PROBE_MAX_ITEMS},
                                          stats=stats))
            items, total = body.get("values") or [], body.get("total")
        else:  # DC: the classic list
            body = client.json(client.get(f"{api}/dashboard", params={"maxResults": JIRA_PROBE_MAX_ITEMS},
                                          stats=stats))
            items, total = body.get("dashboards") or [], body.get("total")
        result["dashboards_visible"] = total if total is not None else len(items)
        result["dashboard_ids"] = ",".join(sorted(str(d["id"]) for d in items[:JIRA_PROBE_MAX_ITEMS]))

    def permissions():
        held = global_permissions()
        for key in JIRA_ANONYMOUS_PERMISSIONS:
            entry = held.get(key)
            result[key.lower()] = entry.get("havePermission") if isinstance(entry, dict) else None

    attempt("projects", projects)
    if tenant.cloud:
        attempt("filters", filters)
    else:
        result["filters_status"] = "not_available"  # Jira DC has no filter search
    attempt("dashboards", dashboards)
    attempt("permissions", permissions)
    stats.add(rows=1)
    return result


def build(connections: Connections, coverage: Coverage) -> list:
    @snapshot("jira_server_info")
    def server_info():
        """One row per Jira: `version`, `versionNumbers`, `deploymentType`, `buildNumber`, `baseUrl`
        (serverInfo; `serverTime` dropped). DC versions feed POSTURE-039."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_server_info", tenant.scope) as stats:
                body = tenant.client.json(tenant.client.get_once(f"{tenant.api}/serverInfo", stats=stats))
                stats.add(pages=1, rows=1)
                yield row(tenant.scope, body)

    @snapshot("jira_configuration")
    def configuration():
        """One row per Jira: the global feature switches (configuration: voting, watching, unassigned issues,
        sub-tasks, issue links, time tracking, attachments)."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_configuration", tenant.scope) as stats:
                body = tenant.client.json(tenant.client.get(f"{tenant.api}/configuration", stats=stats))
                stats.add(pages=1, rows=1)
                yield row(tenant.scope, body)

    @snapshot("jira_application_properties")
    def application_properties():
        """One row per application property (`key`, `value`, `defaultValue`, `type`), e.g. `jira.mode`
        (`public` = anyone can sign up: POSTURE-029). Needs Administer Jira. Key: `key`."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_application_properties", tenant.scope) as stats:
                path = f"{tenant.api}/application-properties"
                try:
                    pages = list(paginate(tenant.client, path, SinglePage(), stats=stats))
                except AtlassianError as exc:
                    # The DC document marks `key` as required: ask for the keys the checks need one by one
                    if tenant.cloud or exc.status != 400:
                        raise
                    pages = [[tenant.client.json(tenant.client.get(path, params={"key": key}, stats=stats))
                              for key in JIRA_DC_PROPERTY_KEYS]]
                for page in pages:
                    yield [row(tenant.scope, prop) for prop in page]

    @snapshot("jira_anonymous_probe")
    def anonymous_probe():
        """One row per Jira per change: what a caller WITHOUT credentials gets (on the site URL, never the
        gateway). `projects_visible`/`project_keys` (project/search; DC: project), `filters_visible`/
        `filter_ids` (filter/search; DC has none), `dashboards_visible`/`dashboard_ids` (dashboard/search; DC:
        dashboard), `write_project_keys` (projects reached where mypermissions?projectKey= grants a write), and
        from mypermissions one boolean per permission
        (`browse_projects`, `user_picker`, `administer`, ...); each `*_status` is `ok`, `refused` (401),
        `forbidden`, `not_available` or `failed`. scd2 on the result: a new version only when it changes."""
        for tenant in jira_tenants(connections):
            with coverage.track("jira_anonymous_probe", tenant.scope) as stats:
                yield row(tenant.scope, probe(connections, tenant, stats))

    return [server_info, configuration, application_properties, anonymous_probe]
