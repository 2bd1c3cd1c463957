"""The simulated organization's state: plain dataclasses, no behaviour.

The generator builds these, time travel mutates them, the routes render them in
Atlassian's response shapes, and the ground-truth oracle evaluates the check
catalog over them. Nothing here knows about HTTP.

All times are timezone-aware UTC datetimes on the simulation clock
(`Organization.clock`), never the wall clock, so a seed reproduces byte-identical
responses whatever day it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from atlassian_simulator.lazy import EventLog

# --- Organization (Atlassian Administration) ---------------------------------------------------


@dataclass(slots=True)
class Domain:
    domain_id: str
    name: str
    claim_type: str  # dns | http
    status: str  # verified | unverified | deleted | superseded | missing_token


@dataclass(slots=True)
class Directory:
    directory_id: str
    name: str
    kind: str  # local | scim (an identity provider syncs it)


@dataclass(slots=True)
class ProductAccess:
    product_key: str  # jira-software | confluence | jira-servicedesk
    site_name: str
    last_active: datetime | None


@dataclass(slots=True)
class Account:
    """One Atlassian account, as the org and both products see it."""

    account_id: str
    account_type: str  # atlassian | app | customer
    name: str
    email: str | None
    account_status: str  # active | inactive | closed
    membership_status: str  # active | suspended | no_membership
    claim_status: str  # managed | unmanaged
    mfa_enabled: bool
    email_verified: bool
    management_source: str  # invited | synced
    directory_id: str
    added_to_org: datetime
    platform_roles: list[str] = field(default_factory=list)  # org-admin, site-admin, user-access-admin, ...
    product_access: list[ProductAccess] = field(default_factory=list)
    is_guest: bool = False
    app_key: str | None = None  # for account_type == "app": the installed app it belongs to
    auth_policy_id: str | None = None
    nickname: str | None = None
    timezone: str = "Etc/UTC"
    locale: str = "en_US"

    @property
    def last_active(self) -> datetime | None:
        times = [p.last_active for p in self.product_access if p.last_active]
        return max(times) if times else None


@dataclass(slots=True)
class Group:
    group_id: str
    name: str
    description: str
    directory_id: str
    external_synced: bool = False
    # Roles held by every member (org API role-assignments of the group), e.g. ("atlassian/admin", "<site>/jira")
    role_assignments: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class ApiToken:
    token_id: str
    account_id: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    last_active_at: datetime | None
    status: str = "ALLOWED"  # ALLOWED | BLOCKED


@dataclass(slots=True)
class Policy:
    policy_id: str
    policy_type: str  # ip-allowlist | data-residency | data-security
    name: str
    status: str  # enabled | disabled (v1); data-security: active | draft
    resources: list[str]  # resource ARIs the policy applies to
    rule: dict
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class AuthPolicy:
    """Authentication policy: only its id, name and members are readable over the API."""

    policy_id: str
    name: str
    sso_enforced: bool  # not readable over the API: attested by the admin
    two_step_enforced: bool  # idem
    is_default: bool = False


@dataclass(slots=True)
class Workspace:
    """A product instance on a site (admin v2 workspaces)."""

    workspace_id: str
    type_key: str  # jira-software | confluence
    name: str
    host_url: str
    site_name: str
    created_at: datetime
    status: str = "online"


# --- Jira --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Grant:
    grant_id: int
    permission: str  # BROWSE_PROJECTS, ADMINISTER_PROJECTS, ...
    holder_type: str  # anyone | applicationRole | group | projectRole | user | projectLead | reporter | ...
    parameter: str | None = None  # group name, role id, account id, application key, field id
    value: str | None = None  # group id, role id, account id


@dataclass(slots=True)
class PermissionScheme:
    scheme_id: int
    name: str
    description: str
    grants: list[Grant] = field(default_factory=list)


@dataclass(slots=True)
class ProjectRole:
    role_id: int
    name: str
    description: str


@dataclass(slots=True)
class RoleActor:
    actor_type: str  # user | group
    actor_id: str  # account id (cloud) / username (DC) or group id (cloud) / group name (DC)


@dataclass(slots=True)
class Project:
    project_id: str
    key: str
    name: str
    project_type: str  # software | business | service_desk
    lead_account_id: str
    scheme_id: int
    created_at: datetime
    archived: bool = False
    is_private: bool = False
    simplified: bool = False
    category: str | None = None
    # role id -> actors
    actors: dict[int, list[RoleActor]] = field(default_factory=dict)


@dataclass(slots=True)
class SharePermission:
    share_id: int
    share_type: str  # global | loggedin | group | project | projectRole | user
    target: str | None = None  # group id / project id / account id


@dataclass(slots=True)
class Filter:
    filter_id: str
    name: str
    owner_account_id: str
    jql: str
    share_permissions: list[SharePermission] = field(default_factory=list)
    edit_permissions: list[SharePermission] = field(default_factory=list)


@dataclass(slots=True)
class Dashboard:
    dashboard_id: str
    name: str
    owner_account_id: str | None
    share_permissions: list[SharePermission] = field(default_factory=list)
    system: bool = False


@dataclass(slots=True)
class ApplicationRole:
    key: str
    name: str
    group_ids: list[str]
    default_group_ids: list[str]
    number_of_seats: int


@dataclass(slots=True)
class SecurityLevel:
    level_id: str
    name: str
    description: str
    members: list[tuple[str, str | None]] = field(default_factory=list)  # (holder type, parameter)


@dataclass(slots=True)
class IssueSecurityScheme:
    scheme_id: int
    name: str
    description: str
    levels: list[SecurityLevel] = field(default_factory=list)
    default_level_id: str | None = None
    project_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class JiraSite:
    application_roles: list[ApplicationRole] = field(default_factory=list)
    roles: list[ProjectRole] = field(default_factory=list)
    schemes: list[PermissionScheme] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    dashboards: list[Dashboard] = field(default_factory=list)
    # Global permissions: permission key -> holders ("anyone", "group:<id>", "applicationRole:<key>")
    global_permissions: dict[str, list[str]] = field(default_factory=dict)
    application_properties: dict[str, str] = field(default_factory=dict)
    audit: EventLog | None = None
    issue_security_schemes: list[IssueSecurityScheme] = field(default_factory=list)


# --- Confluence --------------------------------------------------------------------------------


@dataclass(slots=True)
class SpacePermission:
    permission_id: str
    principal_type: str  # user | group | role | anonymous (DC subject)
    principal_id: str
    operation: str  # read | create | delete | administer | export | restrict_content | archive
    target_type: str  # space | page | blogpost | comment | attachment


@dataclass(slots=True)
class RoleAssignment:
    principal_type: str  # USER | GROUP | ACCESS_CLASS
    principal_id: str  # account id / group id / anonymous-users, authenticated-users, all-licensed-users ...
    role_id: str


@dataclass(slots=True)
class SpaceRole:
    role_id: str
    name: str
    description: str
    role_type: str  # SYSTEM | CUSTOM
    permissions: list[tuple[str, str]]  # (operation, target type)


@dataclass(slots=True)
class Space:
    space_id: str
    key: str
    name: str
    space_type: str  # global | personal | collaboration | knowledge_base
    status: str  # current | archived
    author_account_id: str
    created_at: datetime
    homepage_id: str
    permissions: list[SpacePermission] = field(default_factory=list)
    role_assignments: list[RoleAssignment] = field(default_factory=list)
    # Which read discloses this space's access-class grants (anonymous, unlicensed, all licensed users):
    # all | v2 (a v2 permission with a `role` principal) | rbac (an ACCESS_CLASS role assignment) |
    # legacy (v1 `anonymousAccess` / `unlicensedAccess`). The grants (state) are the same in every shape.
    shape: str = "all"


@dataclass(slots=True)
class ConfluenceSite:
    spaces: list[Space] = field(default_factory=list)
    space_roles: list[SpaceRole] = field(default_factory=list)
    anonymous_access: bool = False  # site-level "anonymous can use"
    audit: EventLog | None = None
    role_mode: str | None = "ROLES"  # /space-role-mode: ROLES | ROLES_TRANSITION | PRE_ROLES; None: 404 (older site)
    legacy_api: bool = True  # does the site still answer GET /wiki/rest/api/space?expand=permissions


# --- Apps --------------------------------------------------------------------------------------


@dataclass(slots=True)
class InstalledApp:
    key: str
    name: str
    version: str
    vendor: str
    vendor_is_atlassian: bool
    framework: str  # connect | forge | p2 (DC plugins) | system
    enabled: bool
    user_installed: bool
    scopes: list[str]
    installed_at: datetime
    installed_by: str | None  # account id
    bot_account_id: str | None = None
    update_available: bool = False
    disabled_at: datetime | None = None
    # The app's public Marketplace listing; None: not listed (private/custom app, 404 on Marketplace)
    listing: MarketplaceListing | None = None


@dataclass(slots=True)
class MarketplaceListing:
    """What https://marketplace.atlassian.com/rest/2/addons/{key} tells about an app."""

    vendor_id: int
    cloud_fortified: bool
    bug_bounty: bool
    top_vendor: bool
    stores_personal_data: bool
    last_release: datetime
    has_forge_version: bool
    runs_on_atlassian: bool


# --- Sites and instances -----------------------------------------------------------------------


@dataclass(slots=True)
class Site:
    """A Cloud site (`<name>.atlassian.net`) with Jira and Confluence."""

    name: str
    cloud_id: str
    created_at: datetime
    jira: JiraSite
    confluence: ConfluenceSite
    jira_apps: list[InstalledApp] = field(default_factory=list)
    confluence_apps: list[InstalledApp] = field(default_factory=list)
    # account ids of the site's users (everyone with any access to this site)
    plan: str = "premium"  # free | standard | premium | enterprise
    products: tuple[str, ...] = ("jira", "confluence")  # what the site runs (topology.py); others answer 404


@dataclass(slots=True)
class DcUser:
    key: str  # JIRAUSER10100
    username: str
    display_name: str
    email: str
    active: bool
    created_at: datetime
    last_login: datetime | None
    deleted: bool = False


@dataclass(slots=True)
class DcInstance:
    """A Jira or Confluence Data Center installation (own users, groups, PAT auth)."""

    name: str
    product: str  # jira | confluence
    version: str
    base_path: str
    users: list[DcUser] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    memberships: dict[str, list[str]] = field(default_factory=dict)  # group name -> usernames
    jira: JiraSite | None = None  # for product == jira (actor ids are usernames / group names)
    confluence: ConfluenceSite | None = None  # for product == confluence (principal ids are usernames / group names)
    apps: list[InstalledApp] = field(default_factory=list)
    audit: EventLog | None = None
    # Confluence DC global permissions held by anonymous / unlicensed users
    anonymous_permissions: list[str] = field(default_factory=list)
    unlicensed_permissions: list[str] = field(default_factory=list)


# --- The organization --------------------------------------------------------------------------


@dataclass(slots=True)
class Credential:
    """A credential the simulator accepts. `secret` is what the client sends; `label` is what logs show."""

    label: str
    kind: str  # org-key | basic | scoped | pat
    secret: str
    email: str | None = None
    account_id: str | None = None  # the user behind a Basic/scoped token
    username: str | None = None  # the DC user behind a PAT
    admin: bool = True  # False: a plain user with no admin permission (403s on admin endpoints)
    # fnmatch patterns on `path?query` this credential gets 403 on (`Simulator.restrict`): partial rights
    refused: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Organization:
    org_id: str
    name: str
    seed: int
    size: str
    clock: datetime
    guard: bool  # Atlassian Guard subscription: policies, events, auth policies
    domains: list[Domain] = field(default_factory=list)
    directories: list[Directory] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    memberships: dict[str, list[str]] = field(default_factory=dict)  # group id -> account ids
    api_tokens: list[ApiToken] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    auth_policies: list[AuthPolicy] = field(default_factory=list)
    workspaces: list[Workspace] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    dc: list[DcInstance] = field(default_factory=list)
    events: EventLog | None = None
    credentials: list[Credential] = field(default_factory=list)
    # Facts for the ground truth that the API cannot show (e.g. which projects are sensitive)
    config: dict = field(default_factory=dict)
    planted: dict = field(default_factory=dict)  # check id -> {"positives": [...], "negatives": [...]}
