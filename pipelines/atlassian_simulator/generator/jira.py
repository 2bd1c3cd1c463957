"""Jira content of one site (Cloud) or instance (DC): roles, schemes, projects, filters, dashboards.

Actor and holder ids are passed in through `Directory`-like callables so the same code
builds Cloud (account ids, group ids) and DC (usernames, group names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from atlassian_simulator.generator.common import WORDS, Rng, days
from atlassian_simulator.generator.identity import plant
from atlassian_simulator.model import (
    ApplicationRole,
    Dashboard,
    Filter,
    Grant,
    IssueSecurityScheme,
    JiraSite,
    Organization,
    PermissionScheme,
    Project,
    ProjectRole,
    RoleActor,
    SecurityLevel,
    SharePermission,
)

BROWSE = "BROWSE_PROJECTS"
STANDARD_PERMISSIONS = (
    "BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES", "ASSIGN_ISSUES", "RESOLVE_ISSUES", "CLOSE_ISSUES",
    "ADD_COMMENTS", "CREATE_ATTACHMENTS", "DELETE_ISSUES", "TRANSITION_ISSUES", "WORK_ON_ISSUES",
    "MANAGE_WATCHERS", "VIEW_VOTERS_AND_WATCHERS", "LINK_ISSUES", "SCHEDULE_ISSUES", "MOVE_ISSUES",
)
ROLE_ADMINS, ROLE_MEMBER, ROLE_VIEWER, ROLE_ADDONS = 10002, 10001, 10003, 10004
SENSITIVE_KEYS = ("FIN", "HR", "SEC")


@dataclass
class JiraPeople:
    """How this deployment names principals (Cloud: ids; DC: names)."""

    group_ref: Callable[[str], tuple[str, str]]  # group name -> (parameter, value) for grants
    user_ref: Callable[[str], str]  # persona account id -> actor id / holder value
    leads: list[str]  # user actor ids eligible to lead projects
    team_groups: list[str]  # group names for Member roles
    admin_group: str
    users_group: str
    application_key: str = "jira-software"


def build_jira(org: Organization, rng: Rng, size_projects: int, size_filters: int, size_dashboards: int,
               people: JiraPeople, personas: dict[str, str], site_ref: str, exposed: bool,
               plant_checks: bool = True) -> JiraSite:
    """`personas` maps persona names to this deployment's user ids; `site_ref` prefixes resource keys."""
    jira = JiraSite()
    now = org.clock
    jira.roles = [
        ProjectRole(ROLE_MEMBER, "Member", "Members of the project"),
        ProjectRole(ROLE_ADMINS, "Administrators", "Project administrators"),
        ProjectRole(ROLE_VIEWER, "Viewer", "Read-only access"),
        ProjectRole(ROLE_ADDONS, "atlassian-addons-project-access",
                    "A project role that represents Connect add-ons declaring access to projects"),
    ]
    grant_ids = iter(range(10_100, 10_000_000))

    def grants_of(holders: dict[str, list[tuple[str, str | None, str | None]]]) -> list[Grant]:
        out = []
        for permission, hs in holders.items():
            for holder_type, parameter, value in hs:
                out.append(Grant(next(grant_ids), permission, holder_type, parameter, value))
        return out

    admins_role = ("projectRole", str(ROLE_ADMINS), str(ROLE_ADMINS))
    member_role = ("projectRole", str(ROLE_MEMBER), str(ROLE_MEMBER))
    viewer_role = ("projectRole", str(ROLE_VIEWER), str(ROLE_VIEWER))
    addons_role = ("projectRole", str(ROLE_ADDONS), str(ROLE_ADDONS))

    def standard(extra: dict | None = None, browse=(member_role, viewer_role, admins_role, addons_role)):
        holders: dict[str, list] = {p: [member_role, admins_role] for p in STANDARD_PERMISSIONS}
        holders[BROWSE] = list(browse)
        holders["ADMINISTER_PROJECTS"] = [admins_role]
        for permission, extra_holders in (extra or {}).items():
            holders.setdefault(permission, []).extend(extra_holders)
        return grants_of(holders)

    app_role = ("applicationRole", people.application_key, people.application_key)
    admin_group = ("group", *people.group_ref(people.admin_group))
    schemes = {
        "default": PermissionScheme(0, "Default Permission Scheme", "Default scheme for new projects",
                                    standard(browse=(app_role, admins_role, addons_role))),
        "internal": PermissionScheme(10_000, "Internal projects", "Team access only", standard()),
        "restricted": PermissionScheme(10_001, "Restricted projects", "Sensitive work; roles only",
                                       standard(browse=(member_role, admins_role))),
        "public_unused": PermissionScheme(10_002, "Public (unused)", "Kept for a retired open project",
                                          standard({BROWSE: [("anyone", None, None)]})),
    }
    if exposed:
        direct = people.user_ref(personas["direct_grantee"])
        schemes["public"] = PermissionScheme(
            10_003, "Open source projects", "Public browse for community projects",
            standard({BROWSE: [("anyone", None, None)], "ADD_COMMENTS": [("anyone", None, None)]}))
        schemes["broad_admin"] = PermissionScheme(
            10_004, "Legacy software scheme", "Migrated from server",
            standard({"ADMINISTER_PROJECTS": [app_role, admin_group],
                      BROWSE: [("user", direct, direct), ("reporter", None, None)],
                      "DELETE_ISSUES": [("user", direct, direct)]}))
        # the addons role keeps Browse on the restricted scheme: apps can read sensitive projects
        schemes["restricted_addons"] = PermissionScheme(
            10_005, "Restricted projects (apps)", "Sensitive work; apps allowed",
            standard(browse=(member_role, admins_role, addons_role)))
    jira.schemes = list(schemes.values())

    # projects: planted ones first
    planned: list[tuple[str, str, str]] = []  # (key, name, scheme)
    sensitive = [("FIN", "Finance", "restricted"), ("HR", "People Operations", "restricted"),
                 ("SEC", "Security Engineering", "restricted_addons" if exposed else "restricted")]
    planned += sensitive
    if exposed:
        planned += [("OSS", "Open Source SDK", "public"), ("LEG", "Legacy Platform", "broad_admin"),
                    ("DOCS", "Public Docs", "public")]
    used_keys = {k for k, _, _ in planned}
    i = 0
    while len(planned) < size_projects:
        word = WORDS[i % len(WORDS)]
        key = (word[:4] + (str(i // len(WORDS)) if i >= len(WORDS) else "")).upper()
        i += 1
        if key in used_keys:
            continue
        used_keys.add(key)
        scheme = rng.choice(("default", "default", "internal", "internal", "restricted"))
        planned.append((key, f"{word.title()} {rng.choice(('Platform', 'App', 'Ops', 'Web', 'Data'))}", scheme))

    roles_admin_many = people.user_ref(personas["project_admin_many"])
    for n, (key, name, scheme_key) in enumerate(planned):
        lead = rng.choice(people.leads)
        project = Project(
            project_id=str(10_000 + n),
            key=key,
            name=name,
            project_type=rng.choice(("software", "software", "business", "service_desk")),
            lead_account_id=lead,
            scheme_id=schemes[scheme_key].scheme_id,
            created_at=(now - days(rng.uniform(30, 2000))).replace(microsecond=0),
            category="Restricted" if key in SENSITIVE_KEYS else None,
            archived=rng.chance(0.03) and key not in used_keys_planted(sensitive, exposed) and n >= 12,
        )
        team = rng.choice(people.team_groups) if people.team_groups else people.users_group
        project.actors = {
            ROLE_ADMINS: [RoleActor("user", lead), RoleActor("group", people.group_ref(people.admin_group)[1])],
            ROLE_MEMBER: [RoleActor("group", people.group_ref(team)[1])],
            ROLE_VIEWER: [RoleActor("group", people.group_ref(people.users_group)[1])],
            ROLE_ADDONS: [],
        }
        if n < 12:  # one person administers a dozen projects directly (IDENT-021 when > 10)
            project.actors[ROLE_ADMINS].append(RoleActor("user", roles_admin_many))
        jira.projects.append(project)

    if plant_checks:
        by_scheme = {s.scheme_id: s for s in jira.schemes}
        for project in jira.projects:
            grants = by_scheme[project.scheme_id].grants
            public = any(g.permission == BROWSE and g.holder_type == "anyone" for g in grants)
            if project.key in ("OSS", "DOCS"):
                plant(org, "POSTURE-016", "positives", f"project:{site_ref}:{project.key}", "scheme grants Browse to Anyone")
                plant(org, "POSTURE-017", "positives", f"project:{site_ref}:{project.key}", "anonymous comments")
            if project.key == "LEG":
                plant(org, "POSTURE-023", "positives", f"project:{site_ref}:{project.key}", "project admin to all users")
                plant(org, "POSTURE-024", "positives", f"project:{site_ref}:{project.key}", "user grants")
                plant(org, "POSTURE-025", "positives", f"project:{site_ref}:{project.key}", "reporter browse")
            if project.key == "SEC" and exposed:
                plant(org, "POSTURE-026", "positives", f"project:{site_ref}:{project.key}", "addons role browses SEC")
            if project.key == "FIN":
                plant(org, "POSTURE-016", "negatives", f"project:{site_ref}:{project.key}", "restricted scheme")
                plant(org, "POSTURE-026", "negatives", f"project:{site_ref}:{project.key}", "sensitive, addons role lacks browse")
            assert not public or project.key in ("OSS", "DOCS")
        plant(org, "POSTURE-016", "negatives", f"scheme:{site_ref}:10002", "public scheme used by no project")
        if exposed:
            plant(org, "IDENT-020", "positives", f"account:{personas['direct_grantee']}", "direct scheme grant")
        plant(org, "IDENT-021", "positives" if len(jira.projects) > 10 else "negatives",
              f"account:{personas['project_admin_many']}", "Administrators actor on 12 projects")

    jira.filters = _shares(rng, org, size_filters, people, personas, jira, site_ref, exposed, plant_checks, "filter")
    jira.dashboards = _shares(rng, org, size_dashboards, people, personas, jira, site_ref, exposed, plant_checks,
                              "dashboard")

    jira.application_roles = [
        ApplicationRole(people.application_key, "Jira", [people.group_ref(people.users_group)[1],
                                                         people.group_ref(people.admin_group)[1]],
                        [people.group_ref(people.users_group)[1]], 35_000),
    ]
    jira.global_permissions = {
        "ADMINISTER": [f"group:{people.group_ref(people.admin_group)[1]}"],
        "USER_PICKER": [f"applicationRole:{people.application_key}"] + (["anyone"] if exposed else []),
        "CREATE_SHARED_OBJECTS": [f"applicationRole:{people.application_key}"],
        "BULK_CHANGE": [f"applicationRole:{people.application_key}"],
    }
    if exposed and plant_checks:
        plant(org, "POSTURE-019", "positives", f"site:{site_ref}", "Browse users and groups granted to Anyone")
        plant(org, "POSTURE-018", "positives", f"site:{site_ref}", "anonymous caller sees public projects")
    jira.application_properties = {
        "jira.mode": "public" if exposed else "private",
        "jira.option.allowunassigned": "true",
        "jira.option.user.externalmanagement": "false",
        "jira.title": f"{site_ref} Jira",
        "jira.baseurl": "",
        "jira.option.emailvisible": "MASKED",
    }
    jira.issue_security_schemes = _issue_security(Rng(org.org_id, site_ref, "issue-security"), jira, people)
    return jira


def _issue_security(rng: Rng, jira: JiraSite, people: JiraPeople) -> list[IssueSecurityScheme]:
    """One scheme on a few projects: staff-only, management and reporter levels (own stream: the rest of the
    organization does not change with it). No check reads these yet; effective_permissions may narrow with them."""
    if not jira.projects:
        return []
    levels = [
        SecurityLevel("10100", "Staff only", "Employees", [("group", people.group_ref(people.users_group)[1])]),
        SecurityLevel("10101", "Management", "Leads and admins",
                      [("group", people.group_ref(people.admin_group)[1]), ("projectRole", "10002")]),
        SecurityLevel("10102", "Reporter and assignee", "Only the people on the issue",
                      [("reporter", None), ("assignee", None)]),
    ]
    projects = [p.project_id for p in jira.projects if rng.chance(0.3)]
    return [IssueSecurityScheme(10000, "Confidential issues", "Restricts who sees an issue", levels, "10100", projects)]


def used_keys_planted(sensitive, exposed) -> set[str]:
    keys = {k for k, _, _ in sensitive}
    return keys | ({"OSS", "LEG", "DOCS"} if exposed else set())


def _shares(rng: Rng, org: Organization, count: int, people: JiraPeople, personas: dict[str, str], jira: JiraSite,
            site_ref: str, exposed: bool, plant_checks: bool, kind: str) -> list:
    """Filters or dashboards, with planted public shares (global) and look-alikes (logged-in users)."""
    check = "POSTURE-020" if kind == "filter" else "POSTURE-021"
    share_ids = iter(range(10_000, 10_000_000))
    items = []
    projects = jira.projects
    for n in range(count):
        owner = rng.choice(people.leads)
        roll = rng.random()
        if n == 0 and exposed:
            shares = [SharePermission(next(share_ids), "global")]
        elif n == 1:
            shares = [SharePermission(next(share_ids), "loggedin")]
        elif roll < 0.3:
            shares = [SharePermission(next(share_ids), "group", people.group_ref(rng.choice(people.team_groups or [people.users_group]))[1])]
        elif roll < 0.5 and projects:
            shares = [SharePermission(next(share_ids), "project", rng.choice(projects).project_id)]
        else:
            shares = []
        ident = str(10_000 + n)
        name = f"{rng.choice(WORDS).title()} {'board' if kind == 'dashboard' else 'issues'} {n}"
        if kind == "filter":
            jql = f"project = {rng.choice(projects).key} AND statusCategory != Done" if projects else "order by created"
            items.append(Filter(ident, name, owner, jql, shares))
        else:
            items.append(Dashboard(ident, name, owner, shares))
        if plant_checks and n == 0 and exposed:
            plant(org, check, "positives", f"{kind}:{site_ref}:{ident}", "shared with the public")
        if plant_checks and n == 1:
            plant(org, check, "negatives", f"{kind}:{site_ref}:{ident}", "shared with logged-in users only")
    return items
