"""What Jira Cloud and Jira Data Center share: the permission catalogue and engine, formats, URLs.

Both deployments run the same Jira code, so permission evaluation (who may browse a project,
who holds a global permission, who sees a filter) is written once over a `JiraSite`. The
only difference is how principals are named: Cloud uses account ids and group ids, Data
Center usernames and group names. A `Caller` carries the caller's id and group set in the
deployment's own naming, and every id stored in the `JiraSite` uses that same naming
(see `generator/jira.py`), so the engine never needs to know which deployment it serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from atlassian_simulator.model import Dashboard, Filter, Grant, JiraSite, Project, SharePermission
from atlassian_simulator.server.context import Denied

# --- Formats -------------------------------------------------------------------------------------


def jira_time(moment: datetime | None) -> str | None:
    """Jira's own date-time form: `2026-10-30T09:00:00.000+0000` (UTC, basic offset)."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def iso_z(moment: datetime) -> str:
    """ISO 8601 with milliseconds and `Z` (Atlassian Audit on Data Center)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_MOMENT = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
    r"(?P<zone>[Zz]|[+-]\d{2}:?\d{2})?)?"
)


def parse_moment(value: str | None, name: str) -> datetime | None:
    """A date-time query parameter: ISO 8601 (`2026-10-30`, `...T09:00`, `...T09:00:00.000+0000`,
    `...Z`, `...+02:00`) or epoch milliseconds. Naive values are UTC. Raises Denied(400)."""
    if value is None or value == "":
        return None
    value = value.strip()
    if value.isdigit():
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(value))
    match = _MOMENT.fullmatch(value)
    if not match:
        raise Denied(400, f"Invalid date-time '{value}' for parameter '{name}'.")
    zone = match["zone"] or "+00:00"
    if zone in ("Z", "z"):
        zone = "+00:00"
    elif ":" not in zone:
        zone = zone[:3] + ":" + zone[3:]
    text = f"{match['date']}T{match['time'] or '00:00:00'}"
    if text.count(":") == 1:
        text += ":00"
    try:
        return datetime.fromisoformat(text + zone).astimezone(UTC)
    except ValueError as exc:
        raise Denied(400, f"Invalid date-time '{value}' for parameter '{name}'.") from exc


# --- Request helpers -----------------------------------------------------------------------------


def base_url(request: Request) -> str:
    """scheme://host plus the mount prefix (everything before `/rest/`): the base of `self` links."""
    path = request.url.path
    i = path.find("/rest/")
    return f"{request.url.scheme}://{request.url.netloc}{path[:i] if i >= 0 else ''}"


def mount_prefix(request: Request) -> str:
    """The path before `/rest/` (relative links such as UPM's start with it)."""
    path = request.url.path
    i = path.find("/rest/")
    return path[:i] if i >= 0 else ""


def api_version(request: Request) -> str:
    return "3" if "/rest/api/3/" in request.url.path else "2"


def expands(request: Request) -> set[str]:
    """The `expand` parameter as a set (comma separated, repeatable)."""
    out: set[str] = set()
    for value in request.query_params.getlist("expand"):
        out.update(part.strip() for part in value.split(",") if part.strip())
    return out


def multi(request: Request, name: str) -> list[str]:
    """A repeatable, comma-separable query parameter (`status=live&status=archived`, `keys=A,B`)."""
    out: list[str] = []
    for value in request.query_params.getlist(name):
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def flag(request: Request, name: str, default: bool = False) -> bool:
    """A boolean query parameter; anything but `true`/`false` (any case) is a 400."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Denied(400, f"Invalid value '{value}' for parameter '{name}': expected true or false.")


# --- The permission catalogue ---------------------------------------------------------------------

# key -> (id, name, type, description): Jira's built-in permissions with their historic numeric ids.
PERMISSIONS: dict[str, tuple[str, str, str, str]] = {
    "ADMINISTER": ("0", "Administer Jira", "GLOBAL",
                   "Create and administer projects, issue types, fields, workflows, and schemes for all projects."),
    "SYSTEM_ADMIN": ("44", "Jira System Administrators", "GLOBAL",
                     "Ability to perform all administration functions."),
    "USER_PICKER": ("27", "Browse users and groups", "GLOBAL",
                    "View and select users or groups from the user picker, and share issues."),
    "CREATE_SHARED_OBJECTS": ("22", "Share dashboards and filters", "GLOBAL",
                              "Share dashboards and filters with other users."),
    "MANAGE_GROUP_FILTER_SUBSCRIPTIONS": ("24", "Manage group filter subscriptions", "GLOBAL",
                                          "Create and delete group filter subscriptions."),
    "BULK_CHANGE": ("33", "Make bulk changes", "GLOBAL",
                    "Modify collections of issues at once. For example, resolve multiple issues in one step."),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects", "PROJECT",
                            "Ability to administer a project in Jira."),
    "BROWSE_PROJECTS": ("10", "Browse Projects", "PROJECT",
                        "Ability to browse projects and the issues within them."),
    "VIEW_DEV_TOOLS": ("29", "View Development Tools", "PROJECT",
                       "Allows users in a software project to view development-related information on the issue."),
    "VIEW_READONLY_WORKFLOW": ("45", "View Read-Only Workflow", "PROJECT",
                               "Users with this permission may view a read-only version of a workflow."),
    "CREATE_ISSUES": ("11", "Create Issues", "PROJECT", "Ability to create issues."),
    "EDIT_ISSUES": ("12", "Edit Issues", "PROJECT", "Ability to edit issues."),
    "TRANSITION_ISSUES": ("46", "Transition Issues", "PROJECT", "Ability to transition issues."),
    "SCHEDULE_ISSUES": ("28", "Schedule Issues", "PROJECT", "Ability to view or edit an issue's due date."),
    "MOVE_ISSUES": ("25", "Move Issues", "PROJECT",
                    "Ability to move issues between projects or between workflows of the same project."),
    "ASSIGN_ISSUES": ("13", "Assign Issues", "PROJECT", "Ability to assign issues to other people."),
    "ASSIGNABLE_USER": ("17", "Assignable User", "PROJECT", "Users with this permission may be assigned to issues."),
    "RESOLVE_ISSUES": ("14", "Resolve Issues", "PROJECT",
                       "Ability to resolve and reopen issues. This includes the ability to set a fix version."),
    "CLOSE_ISSUES": ("18", "Close Issues", "PROJECT", "Ability to close issues."),
    "MODIFY_REPORTER": ("30", "Modify Reporter", "PROJECT",
                        "Ability to modify the reporter when creating or editing an issue."),
    "DELETE_ISSUES": ("16", "Delete Issues", "PROJECT", "Ability to delete issues."),
    "LINK_ISSUES": ("21", "Link Issues", "PROJECT", "Ability to link issues together and create linked issues."),
    "SET_ISSUE_SECURITY": ("26", "Set Issue Security", "PROJECT",
                           "Ability to set the level of security on an issue."),
    "VIEW_VOTERS_AND_WATCHERS": ("31", "View Voters and Watchers", "PROJECT",
                                 "Ability to view the voters and watchers of an issue."),
    "MANAGE_WATCHERS": ("32", "Manage Watchers", "PROJECT", "Ability to manage the watchers of an issue."),
    "ADD_COMMENTS": ("15", "Add Comments", "PROJECT", "Ability to comment on issues."),
    "EDIT_ALL_COMMENTS": ("34", "Edit All Comments", "PROJECT", "Ability to edit all comments made on issues."),
    "EDIT_OWN_COMMENTS": ("35", "Edit Own Comments", "PROJECT", "Ability to edit own comments made on issues."),
    "DELETE_ALL_COMMENTS": ("36", "Delete All Comments", "PROJECT",
                            "Ability to delete all comments made on issues."),
    "DELETE_OWN_COMMENTS": ("37", "Delete Own Comments", "PROJECT",
                            "Ability to delete own comments made on issues."),
    "CREATE_ATTACHMENTS": ("19", "Create Attachments", "PROJECT", "Users with this permission may create attachments."),
    "DELETE_ALL_ATTACHMENTS": ("38", "Delete All Attachments", "PROJECT",
                               "Users with this permission may delete all attachments."),
    "DELETE_OWN_ATTACHMENTS": ("39", "Delete Own Attachments", "PROJECT",
                               "Users with this permission may delete own attachments."),
    "WORK_ON_ISSUES": ("20", "Work On Issues", "PROJECT", "Ability to log work done against an issue."),
    "EDIT_OWN_WORKLOGS": ("40", "Edit Own Worklogs", "PROJECT", "Ability to edit own worklogs made on issues."),
    "EDIT_ALL_WORKLOGS": ("41", "Edit All Worklogs", "PROJECT", "Ability to edit all worklogs made on issues."),
    "DELETE_OWN_WORKLOGS": ("42", "Delete Own Worklogs", "PROJECT", "Ability to delete own worklogs made on issues."),
    "DELETE_ALL_WORKLOGS": ("43", "Delete All Worklogs", "PROJECT", "Ability to delete all worklogs made on issues."),
}
GLOBAL_ADMIN_KEYS = ("ADMINISTER", "SYSTEM_ADMIN")


def render_permission(key: str, have: bool | None = None) -> dict:
    """One entry of `/permissions` (have=None) or `/mypermissions`."""
    ident, name, kind, description = PERMISSIONS[key]
    body: dict = {"id": ident, "key": key, "name": name, "type": kind, "description": description}
    if have is not None:
        body["havePermission"] = have
    return body


def requested_permissions(request: Request, required: bool) -> list[str]:
    """The `permissions` parameter of mypermissions (comma separated); 400 for an unknown key."""
    keys = list(dict.fromkeys(multi(request, "permissions")))
    if not keys:
        if required:
            raise Denied(400, "The 'permissions' query parameter is required.")
        return list(PERMISSIONS)
    unknown = [k for k in keys if k not in PERMISSIONS]
    if unknown:
        raise Denied(400, f"Invalid permission key(s): {', '.join(unknown)}")
    return keys


# --- The permission engine -----------------------------------------------------------------------


@dataclass(slots=True)
class Caller:
    """Who is asking, in the deployment's naming (account id / username; group ids / names)."""

    user_id: str | None
    groups: frozenset[str] = field(default_factory=frozenset)
    admin: bool = False  # the credential is an administrator's (site admin / Jira admin)

    @property
    def anonymous(self) -> bool:
        return self.user_id is None


class Permissions:
    """Evaluates global and project permissions of one caller over one `JiraSite`.

    `anonymous_access` is False where the plan cannot make anything public (Jira Free):
    grants to Anyone then do not reach anonymous callers.
    """

    def __init__(self, jira: JiraSite, caller: Caller, anonymous_access: bool = True):
        self.jira = jira
        self.caller = caller
        self.anonymous_access = anonymous_access
        self.schemes = {s.scheme_id: s for s in jira.schemes}
        self.role_groups = {r.key: set(r.group_ids) for r in jira.application_roles}
        self._cache: dict[tuple[str, str], bool] = {}

    # global ------------------------------------------------------------------------------------

    def in_application_role(self, key: str | None) -> bool:
        if self.caller.anonymous:
            return False
        if not key:  # "Any logged in user"
            return True
        return bool(self.role_groups.get(key, set()) & self.caller.groups)

    def _holder(self, holder: str) -> bool:
        kind, _, value = holder.partition(":")
        if kind == "anyone":
            return self.anonymous_access or not self.caller.anonymous
        if kind == "group":
            return value in self.caller.groups
        if kind == "applicationRole":
            return self.in_application_role(value)
        if kind == "user":
            return value == self.caller.user_id
        return False

    def has_global(self, key: str) -> bool:
        if key in GLOBAL_ADMIN_KEYS and self.caller.admin:
            return True
        holders = self.jira.global_permissions.get(key)
        if holders is None and key == "SYSTEM_ADMIN":
            holders = self.jira.global_permissions.get("ADMINISTER", [])
        return any(self._holder(h) for h in holders or [])

    @property
    def jira_admin(self) -> bool:
        return self.has_global("ADMINISTER")

    # project -----------------------------------------------------------------------------------

    def _grant(self, grant: Grant, project: Project) -> bool:
        caller = self.caller
        kind = grant.holder_type
        if kind == "anyone":
            return self.anonymous_access or not caller.anonymous
        if caller.anonymous:
            return False
        if kind == "applicationRole":
            return self.in_application_role(grant.parameter)
        if kind == "group":
            return (grant.value or grant.parameter) in caller.groups
        if kind == "user":
            return (grant.value or grant.parameter) == caller.user_id
        if kind == "projectLead":
            return project.lead_account_id == caller.user_id
        if kind == "projectRole":
            role_id = int(grant.value or grant.parameter or 0)
            return any(
                (a.actor_type == "user" and a.actor_id == caller.user_id)
                or (a.actor_type == "group" and a.actor_id in caller.groups)
                for a in project.actors.get(role_id, [])
            )
        return False  # reporter, assignee, custom fields: need an issue to decide

    def has_project(self, project: Project, key: str) -> bool:
        cache_key = (project.project_id, key)
        if cache_key not in self._cache:
            scheme = self.schemes.get(project.scheme_id)
            grants = scheme.grants if scheme else []
            self._cache[cache_key] = any(g.permission == key and self._grant(g, project) for g in grants)
        return self._cache[cache_key]

    def can_view(self, project: Project) -> bool:
        """Browse Projects, Administer Projects or Administer Jira (project/search `action=view`)."""
        return (self.has_project(project, "BROWSE_PROJECTS") or self.has_project(project, "ADMINISTER_PROJECTS")
                or self.jira_admin)

    def can_administer(self, project: Project) -> bool:
        return self.has_project(project, "ADMINISTER_PROJECTS") or self.jira_admin

    def allows(self, project: Project, action: str) -> bool:
        """project/search `action`: view (default), browse, edit, create."""
        if action == "browse":
            return self.has_project(project, "BROWSE_PROJECTS")
        if action == "edit":
            return self.can_administer(project)
        if action == "create":
            return self.has_project(project, "CREATE_ISSUES")
        return self.can_view(project)

    def has_in_any_project(self, key: str) -> bool:
        return any(self.has_project(p, key) for p in self.jira.projects if not p.archived)

    def mine(self, keys: list[str], project: Project | None) -> dict[str, bool]:
        """mypermissions: global keys as held; project keys in `project`, else in any project."""
        out = {}
        for key in keys:
            if PERMISSIONS[key][2] == "GLOBAL":
                out[key] = self.has_global(key)
            elif project is not None:
                out[key] = self.has_project(project, key)
            else:
                out[key] = self.has_in_any_project(key)
        return out

    # shared objects ----------------------------------------------------------------------------

    def project_by_id(self, project_id: str | None) -> Project | None:
        return next((p for p in self.jira.projects if p.project_id == project_id), None)

    def sees_share(self, share: SharePermission) -> bool:
        caller = self.caller
        kind = share.share_type
        if kind == "global":
            return self.anonymous_access or not caller.anonymous
        if kind in ("project", "projectRole"):
            project = self.project_by_id(share.target)
            return project is not None and self.has_project(project, "BROWSE_PROJECTS")
        if caller.anonymous:
            return False
        if kind in ("loggedin", "authenticated"):
            return True
        if kind == "group":
            return share.target in caller.groups
        if kind == "user":
            return share.target == caller.user_id
        return False

    def sees_filter(self, item: Filter, override: bool = False) -> bool:
        if override and self.jira_admin:
            return True
        if not self.caller.anonymous and item.owner_account_id == self.caller.user_id:
            return True
        return any(self.sees_share(s) for s in item.share_permissions)

    def sees_dashboard(self, item: Dashboard) -> bool:
        if item.system:
            return True
        if not self.caller.anonymous and item.owner_account_id == self.caller.user_id:
            return True
        return any(self.sees_share(s) for s in item.share_permissions)


# --- Projects ------------------------------------------------------------------------------------


def find_project(jira: JiraSite, id_or_key: str) -> Project | None:
    for project in jira.projects:
        if project.project_id == id_or_key or project.key == id_or_key.upper():
            return project
    return None


def visible_project(perms: Permissions, id_or_key: str) -> Project:
    """The project if the caller may view it, else Jira's 404 (it never says "exists but hidden")."""
    project = find_project(perms.jira, id_or_key)
    if project is None or not perms.can_view(project):
        raise Denied(404, f"No project could be found with key '{id_or_key}'.")
    return project


def project_category_id(name: str) -> str:
    return str(10_000 + sum(ord(c) for c in name) % 900)


def archived_date(project: Project) -> datetime:
    """Archive time: a stable moment after creation (the model keeps only the flag)."""
    return project.created_at + timedelta(days=1 + int(project.project_id) % 27)


def issue_insight(project: Project, clock: datetime) -> tuple[int, datetime]:
    seed = int(project.project_id)
    return (seed * 37) % 4000 + 12, (clock - timedelta(hours=(seed * 13) % 900 + 1)).replace(microsecond=0)


# --- Application properties and configuration ----------------------------------------------------

# key -> (name, description, type, default)
APPLICATION_PROPERTIES: dict[str, tuple[str, str, str, str]] = {
    "jira.mode": ("Mode", "Public: anyone can sign up; private: only administrators create users", "select",
                  "private"),
    "jira.option.allowunassigned": ("Allow unassigned issues", "Issues may be left unassigned", "boolean", "true"),
    "jira.option.user.externalmanagement": ("External user management",
                                            "Users are managed outside Jira (hides sign-up and profile edits)",
                                            "boolean", "false"),
    "jira.title": ("Title", "The name of this Jira instance", "string", "Jira"),
    "jira.baseurl": ("Base URL", "The URL users reach Jira at", "string", ""),
    "jira.option.emailvisible": ("User email visibility", "Who can see users' email addresses", "select", "show"),
}
ALLOWED_VALUES = {
    "jira.mode": ["public", "private"],
    "jira.option.emailvisible": ["show", "hide", "mask", "user", "MASKED"],
}
ADVANCED_SETTINGS: tuple[tuple[str, str, str, str], ...] = (
    ("jira.clone.prefix", "The prefix added to the Summary field of cloned issues", "string", "CLONE -"),
    ("jira.date.picker.java.format", "The Java date format for the date picker", "string", "d/MMM/yy"),
    ("jira.date.time.picker.java.format", "The Java date and time format for the date picker", "string",
     "dd/MMM/yy h:mm a"),
    ("jira.issue.actions.order", "The default order of actions on the issue page", "string", "asc"),
    ("jira.projectkey.pattern", "The pattern project keys must follow", "string", "([A-Z][A-Z]+)"),
    ("jira.table.cols.subtasks", "The columns shown in the sub-task list", "string",
     "issuetype, status, assignee, progress"),
)


def render_property(key: str, value: str, meta: tuple[str, str, str, str] | None = None) -> dict:
    name, description, kind, default = meta or APPLICATION_PROPERTIES.get(key, (key, "", "string", ""))
    body = {"id": key, "key": key, "value": value, "name": name, "desc": description, "type": kind,
            "defaultValue": default}
    if key in ALLOWED_VALUES:
        body["allowedValues"] = list(ALLOWED_VALUES[key])
    return body


def application_properties(jira: JiraSite, site_url: str) -> list[dict]:
    out = []
    for key, value in jira.application_properties.items():
        if key == "jira.baseurl" and not value:
            value = site_url
        out.append(render_property(key, value))
    return out


def filter_properties(request: Request, properties: list[dict]) -> list[dict]:
    """`key` (exact; 404 if missing) and `keyFilter` (a regex on the key) of application-properties."""
    key = request.query_params.get("key")
    if key:
        found = [p for p in properties if p["key"] == key]
        if not found:
            raise Denied(404, f"Property with key '{key}' does not exist.")
        return found
    pattern = request.query_params.get("keyFilter")
    if pattern:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise Denied(400, f"Invalid keyFilter '{pattern}': {exc}") from exc
        return [p for p in properties if compiled.fullmatch(p["key"])]
    return properties


def advanced_settings() -> list[dict]:
    return [render_property(key, default, (key, description, kind, default))
            for key, description, kind, default in ADVANCED_SETTINGS]


def configuration(jira: JiraSite) -> dict:
    return {
        "votingEnabled": True,
        "watchingEnabled": True,
        "unassignedIssuesAllowed": jira.application_properties.get("jira.option.allowunassigned", "true") == "true",
        "subTasksEnabled": True,
        "issueLinkingEnabled": True,
        "timeTrackingEnabled": True,
        "attachmentsEnabled": True,
        "timeTrackingConfiguration": {"workingHoursPerDay": 8.0, "workingDaysPerWeek": 5.0, "timeFormat": "pretty",
                                      "defaultUnit": "minute"},
    }


def actor_id(project: Project, role_id: int, position: int) -> int:
    """A stable numeric id for a role actor (Jira numbers them; the model does not)."""
    return int(project.project_id) * 100 + (role_id % 100) * 10 + position + 10_000_000


def initials(name: str) -> str:
    parts = [p for p in re.split(r"[\s._-]+", name) if p]
    return "".join(p[0].upper() for p in parts[:2]) or "U"
