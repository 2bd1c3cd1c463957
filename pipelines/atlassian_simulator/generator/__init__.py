"""Build a whole simulated organization from (seed, size, profile).

Profiles give several organizations different postures so org-level checks have
positives and negatives: `exposed` (weak settings, most planted risks),
`hardened` (the same shapes configured well: the look-alike negatives) and
`unguarded` (no Atlassian Guard: policies and org audit events are not available).

Settings no read API returns (approved domains, invites, public links, JSM customer access,
the external-user token policy, DC websudo) live in `org.config["admin_settings"]`: the
simulator never serves them; `truth.attestation_for(org)` hands them over the way a
truthful admin would fill in the attestation file.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from atlassian_simulator.generator.apps import PLANTED_APPS, build_apps
from atlassian_simulator.generator.audit import AuditBuilder
from atlassian_simulator.generator.common import COMPANIES, WORDS, Rng, days
from atlassian_simulator.generator.confluence import build_confluence
from atlassian_simulator.generator.identity import IdentityBuilder, plant, site_group_names
from atlassian_simulator.generator.jira import JiraPeople, build_jira
from atlassian_simulator.model import (
    Account,
    ConfluenceSite,
    Credential,
    DcInstance,
    DcUser,
    InstalledApp,
    JiraSite,
    Organization,
    Site,
)
from atlassian_simulator.sizes import Size
from atlassian_simulator.topology import Topology

DEFAULT_CLOCK = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
PROFILES = ("exposed", "hardened", "unguarded")


def generate_org(seed: int, size: Size, index: int = 0, profile: str | None = None,
                 clock: datetime = DEFAULT_CLOCK, with_dc: bool = True,
                 topology: Topology | None = None) -> Organization:
    """One organization; with a `topology` (topology.py) its sites, products, Data Center
    instances, plan and Guard follow it, and its connector gets only that topology's credentials."""
    profile = profile or PROFILES[index % len(PROFILES)]
    rng = Rng(seed, index, "org")
    company = COMPANIES[(seed + index) % len(COMPANIES)] + (str(index) if index >= len(COMPANIES) else "")
    if topology is not None:
        size = replace(size, sites=max(1, len(topology.sites)))  # a DC-only tenant is pruned of its site below
        with_dc = with_dc and bool(topology.dc)
    org = Organization(
        org_id=rng.uuid(), name=f"{company.title()} Corp", seed=seed, size=size.name, clock=clock,
        guard=topology.guard if topology is not None else profile != "unguarded",
    )
    org.config = {"profile": profile, "allowed_countries": ["Germany", "United States", "United Kingdom", "Japan"],
                  "sensitive_projects": ["FIN", "HR", "SEC"], "sensitive_spaces": ["FIN"], "index": index,
                  "data_residency_realm": "EU", "tenant_key": company}
    exposed = profile != "hardened"
    for s in range(size.sites):
        name = company if s == 0 else f"{company}-{WORDS[s % len(WORDS)]}"
        org.sites.append(Site(name, rng.uuid(), (clock - days(2000 - s * 300)).replace(microsecond=0),
                              JiraSite(), ConfluenceSite()))

    ids = IdentityBuilder(org, Rng(seed, index, "identity"), f"{company}.com", profile)
    ids.domains_and_directories()
    ids.groups(size.groups)
    personas = ids.personas()
    bulk = max(0, size.accounts - len(org.accounts) - size.sites * 2 * (len(PLANTED_APPS) + size.third_party_apps))
    ids.bulk(bulk)

    group_id = {g.name: g.group_id for g in org.groups}
    team_groups = [g.name for g in org.groups if g.name.startswith(("team-", "okta-"))]
    active_ids = [a.account_id for a in org.accounts
                  if a.account_type == "atlassian" and a.account_status == "active" and a.membership_status == "active"]
    person_ids = {k: a.account_id for k, a in personas.items()}
    installers = [personas["reader"].account_id, personas["org_admin_0"].account_id]
    audit = AuditBuilder(org, f"{seed}:{index}")
    recent_app_installs: dict[str, str] = {}

    for s, site in enumerate(org.sites):
        g = site_group_names(site, s == 0)
        site_rng = Rng(seed, index, "site", s)
        people = JiraPeople(
            group_ref=lambda name: (name, group_id[name]),
            user_ref=lambda account_id: account_id,
            leads=active_ids[: max(10, len(active_ids) // 20)],
            team_groups=team_groups,
            admin_group=g["jira_admins"],
            users_group=g["jira_users"],
        )
        site.jira = build_jira(org, site_rng, size.projects, size.filters, size.dashboards, people, person_ids,
                               site.name, exposed)
        site.confluence = build_confluence(org, site_rng, size.spaces, lambda n: group_id[n], g["confluence_users"],
                                           g["confluence_admins"], team_groups, people.leads, person_ids, site.name,
                                           exposed)

        def new_bot(app: InstalledApp) -> Account:
            bot = ids.new_account(name=app.name, account_type="app", email=None, managed=False)
            bot.app_key = app.key
            bot.mfa_enabled = False
            return bot

        for product in ("jira", "confluence"):
            apps = build_apps(org, site_rng, product, size.third_party_apps, site.name, site.name, installers,
                              exposed, new_bot)
            setattr(site, f"{product}_apps", apps)
            if s == 0 and product == "jira" and exposed:
                planted = next(a for a in apps if a.scopes and "ADMIN" in a.scopes)
                recent_app_installs["PLUGIN-001"] = f"app:{site.name}:jira:{planted.key}"
                planted.installed_at = (clock - timedelta(days=2.5)).replace(microsecond=0)
                # the ADMIN-scoped app's bot sits in atlassian-addons-admin (PLUGIN-012)
                ids.join(next(a for a in org.accounts if a.account_id == planted.bot_account_id), "atlassian-addons-admin")
                plant(org, "PLUGIN-012", "positives", recent_app_installs["PLUGIN-001"], "bot in atlassian-addons-admin")
        site.jira.audit = audit.jira_log(site.name, size.jira_audit, size.audit_days)
        site.confluence.audit = audit.confluence_log(site.name, size.confluence_audit, size.audit_days)

    ids.derive_product_access()
    ids.api_tokens(personas)
    if org.guard:
        ids.policies()
        ids.auth_policies(personas)
    ids.workspaces()

    audit.active = [a for a in org.accounts if a.account_type == "atlassian" and a.account_status == "active"]
    if org.guard:
        org.events = audit.org_log(size.org_events, size.audit_days)
        audit.plant_org(personas, recent_app_installs if exposed else {})
        audit.plant_app_traffic(burst=exposed)
    plant(org, "POSTURE-014", "negatives" if org.guard else "positives", f"org:{org.org_id}",
          "org events flowing" if org.guard else "no Guard: the org audit log answers 403")
    if org.guard:
        plant(org, "POSTURE-010", "negatives", f"org:{org.org_id}", "enabled residency policy pins EU")
    for s, site in enumerate(org.sites):
        g = site_group_names(site, s == 0)
        audit.plant_jira(site.jira.audit, site.name, personas, g["jira_admins"])
        audit.plant_confluence(site.confluence.audit, site.name, personas, g["confluence_admins"])

    if with_dc:
        org.dc = build_dc(org, seed, index, size, exposed, audit)
    if topology is not None:
        apply_topology(org, topology)
    admin_settings(org, f"{company}.com", exposed)
    org.credentials = credentials(org, seed, index, personas)
    return org


def build_dc(org: Organization, seed: int, index: int, size: Size, exposed: bool, audit: AuditBuilder) -> list[DcInstance]:
    rng = Rng(seed, index, "dc")
    clock = org.clock
    users: list[DcUser] = []
    for n in range(size.dc_users):
        name = f"{rng.choice(WORDS)}.{n}"
        active = rng.chance(0.9)
        last = None if rng.chance(0.05) else (clock - days(rng.choice((rng.uniform(0, 30), rng.uniform(0, 400))))).replace(microsecond=0)
        users.append(DcUser(f"JIRAUSER{10_100 + n}", name, name.replace(".", " ").title(), f"{name}@corp.example",
                            active, (clock - days(rng.uniform(100, 3000))).replace(microsecond=0), last))
    users.insert(0, DcUser("JIRAUSER10000", "admin", "DC Administrator", "admin@corp.example", True,
                           (clock - days(3000)).replace(microsecond=0), (clock - days(0.5)).replace(microsecond=0)))
    usernames = [u.username for u in users]
    teams = [f"team-{n}" for n in range(max(3, size.groups // 10))]
    instances = []
    for product, version in (("jira", "9.12.4" if exposed else "10.3.1"), ("confluence", "7.19.2" if exposed else "9.2.1")):
        admin_group = f"{product}-administrators"
        users_group = f"{product}-software-users" if product == "jira" else "confluence-users"
        groups = [admin_group, users_group] + teams
        memberships = {g: [] for g in groups}
        memberships[admin_group] = ["admin"] + usernames[1:4]
        memberships[users_group] = [u.username for u in users if u.active]
        for u in users[1:]:
            if rng.chance(0.6):
                memberships[rng.choice(teams)].append(u.username)
        name = f"{org.sites[0].name}-{product}-dc"
        instance = DcInstance(name, product, version, "" if product == "jira" else "/confluence", users=users,
                              groups=groups, memberships=memberships)
        ref = f"dc:{name}"
        personas = {"direct_grantee": usernames[min(5, len(usernames) - 1)],
                    "project_admin_many": usernames[min(6, len(usernames) - 1)]}
        if product == "jira":
            people = JiraPeople(group_ref=lambda g: (g, g), user_ref=lambda u: u,
                                leads=usernames[: max(5, len(usernames) // 10)], team_groups=teams,
                                admin_group=admin_group, users_group=users_group)
            instance.jira = build_jira(org, Rng(seed, index, "dc", product), max(5, size.projects // 2),
                                       max(3, size.filters // 2), max(2, size.dashboards // 2), people, personas, ref,
                                       exposed)
            instance.jira.application_properties["jira.mode"] = "public" if exposed else "private"
            plant(org, "POSTURE-029", "positives" if exposed else "negatives", f"site:{ref}", "jira.mode")
        else:
            instance.confluence = build_confluence(org, Rng(seed, index, "dc", product), max(4, size.spaces // 2),
                                                   lambda g: g, users_group, admin_group, teams, usernames[:20],
                                                   {}, ref, exposed, dc=True)
            instance.anonymous_permissions = ["USECONFLUENCE", "VIEWUSERPROFILES"] if exposed else []
            instance.unlicensed_permissions = ["USECONFLUENCE"] if exposed else []
            plant(org, "POSTURE-038", "positives" if exposed else "negatives", f"site:{ref}", "anonymous use")
            plant(org, "POSTURE-034", "positives" if exposed else "negatives", f"site:{ref}", "unlicensed use")
        plant(org, "POSTURE-039", "positives" if exposed else "negatives", f"site:{ref}", f"version {version}")
        instance.apps = [
            InstalledApp(f"com.atlassian.{product}.core", "Core", version, "Atlassian", True, "system", True, False, [],
                         (clock - days(1000)).replace(microsecond=0), None),
            InstalledApp(f"com.example.reports.{product}", "Reports Pro", "3.1.0", "Example Apps", False, "p2", True, True,
                         [], (clock - days(400)).replace(microsecond=0), "admin", update_available=True),
            InstalledApp(f"com.example.sync.{product}", "Sync Tool", "5.0.2", "Sync Co", False, "p2", True, True,
                         [], (clock - days(90)).replace(microsecond=0), "admin", update_available=False),
        ]
        plant(org, "PLUGIN-016", "positives", f"app:{ref}:{product}:com.example.reports.{product}", "update available")
        plant(org, "PLUGIN-016", "negatives", f"app:{ref}:{product}:com.example.sync.{product}", "up to date")
        instance.audit = audit.dc_log(name, usernames, size.dc_audit, size.audit_days)
        audit.plant_dc(instance.audit, name, "admin", admin_group, product)
        instances.append(instance)
    return instances


def admin_settings(org: Organization, domain: str, exposed: bool) -> None:
    """Settings only the admin UI shows (see the module docstring), with their planted outcomes."""
    org_key = f"org:{org.org_id}"
    settings = {
        # POSTURE-007 (Guard's external-user policy): Atlassian's default is Allow
        "external_user_api_token_access": "allow" if exposed else "block",
        # POSTURE-012
        "approved_domains": [{"domain": domain, "admin_approval_required": not exposed}]
        + ([{"domain": "gmail.com", "admin_approval_required": True}] if exposed else []),
        # POSTURE-013
        "user_invites_open": exposed,
        "invite_links_active": exposed,
        # POSTURE-028, per Cloud site running Jira (Service Management)
        "jsm_customer_access": {s.name: {"open": exposed, "business_reason": None,
                                         "help_center_login_required": not exposed}
                                for s in org.sites if "jira" in s.products},
        # POSTURE-035, per Cloud site running Confluence (Atlassian's default is on; public links are a paid feature)
        "public_links_enabled": {s.name: exposed and s.plan != "free" for s in org.sites
                                 if "confluence" in s.products},
        # POSTURE-030 and the JSM half of POSTURE-029, per Jira DC instance
        "dc_websudo_disabled": {d.name: exposed for d in org.dc if d.product == "jira"},
        "dc_jsm_public_signup": {d.name: False for d in org.dc if d.product == "jira"},
    }
    if not org.sites:  # Data Center only: no Cloud organization, so none of its settings exist
        for name in ("external_user_api_token_access", "approved_domains", "user_invites_open", "invite_links_active"):
            settings.pop(name)
    org.config["admin_settings"] = settings
    kind = "positives" if exposed else "negatives"
    if not org.sites:
        return
    if org.guard:
        plant(org, "POSTURE-007", kind, org_key, "external users may use API tokens" if exposed else "blocked")
    plant(org, "POSTURE-012", kind, org_key, "gmail.com approved, no admin approval" if exposed else "approval required")
    plant(org, "POSTURE-013", kind, org_key, "invites and invite links open" if exposed else "closed")
    for s in org.sites:
        if "jira" in s.products:
            plant(org, "POSTURE-028", kind, f"site:{s.name}", "anyone can raise requests" if exposed else "customers only")
        if "confluence" in s.products:
            plant(org, "POSTURE-035", kind, f"site:{s.name}", "public links on, no active DSP" if exposed else "off")
    for d in org.dc:
        if d.product == "jira":
            plant(org, "POSTURE-030", kind, f"site:dc:{d.name}", "websudo disabled" if exposed else "websudo on")


def apply_topology(org: Organization, topology: Topology) -> None:
    """Prune the generated tenant to its topology: products per site, Data Center instances, plan.

    Pruning after generation keeps every random draw of the full tenant, so the same seed gives
    the same accounts and grants whichever products a topology keeps."""
    org.config["topology"] = topology.to_dict()
    org.dc = [d for d in org.dc if d.product in topology.dc]
    for site, products in zip(org.sites, topology.sites or [()] * len(org.sites), strict=True):
        site.products = tuple(products)
        site.plan = topology.plan
        product_keys = {"jira": "jira-software", "confluence": "confluence"}
        absent = {product_keys[p] for p in ("jira", "confluence") if p not in products}
        if "jira" not in products:
            site.jira, site.jira_apps = JiraSite(), []
        if "confluence" not in products:
            site.confluence, site.confluence_apps = ConfluenceSite(), []
        for account in org.accounts:
            account.product_access = [p for p in account.product_access
                                      if not (p.site_name == site.name and p.product_key in absent)]
        org.workspaces = [w for w in org.workspaces if not (w.site_name == site.name and w.type_key in absent)]
        if topology.plan == "free":
            free_plan(site)
    if topology.plan in ("free", "standard"):
        # IP allowlists and data residency are Premium/Enterprise features (checks.md POSTURE-008/010)
        org.policies = [p for p in org.policies if p.policy_type not in ("ip-allowlist", "data-residency")]
    if not topology.sites:  # Data Center only: no Cloud organization, site or account exists
        org.sites, org.workspaces, org.policies, org.auth_policies, org.events = [], [], [], [], None
        org.accounts, org.groups, org.memberships, org.api_tokens, org.domains, org.directories = [], [], {}, [], [], []
        org.guard = False


def free_plan(site: Site) -> None:
    """What a Free site cannot have: public Jira projects (checks.md POSTURE-016: "Free sites cannot make
    projects public"), an anonymous user picker, and Confluence anonymous access ("anonymous access isn't
    available on the Free plan", Confluence Cloud docs). A site downgraded to Free keeps its old space
    permissions but anonymous users lose access; the simulator models a site that was always Free."""
    for scheme in site.jira.schemes:
        scheme.grants = [g for g in scheme.grants if g.holder_type != "anyone"]
    for key, holders in site.jira.global_permissions.items():
        site.jira.global_permissions[key] = [h for h in holders if h != "anyone"]
    site.confluence.anonymous_access = False
    for space in site.confluence.spaces:
        space.permissions = [p for p in space.permissions
                             if not (p.principal_type in ("role", "anonymous") and p.principal_id == "anonymous-users")]
        space.role_assignments = [r for r in space.role_assignments if r.principal_id != "anonymous-users"]


def credentials(org: Organization, seed: int, index: int, personas: dict[str, Account]) -> list[Credential]:
    """Deterministic secrets: a reviewer can reproduce them, and they never leave the simulator's config output."""
    rng = Rng(seed, index, "credentials")

    def secret(prefix: str) -> str:
        return f"{prefix}{rng.getrandbits(160):040x}"

    reader = personas["reader"]
    plain = personas["token_fresh"]
    accepted = [
        Credential("org-admin-key", "org-key", secret("ATCTT3xFfGN0"), admin=True),
        Credential("site-admin-token", "basic", secret("ATATT3xFfGF0"), email=reader.email, account_id=reader.account_id),
        Credential("site-user-token", "basic", secret("ATATT3xFfGF0"), email=plain.email, account_id=plain.account_id,
                   admin=False),
        Credential("scoped-admin-token", "scoped", secret("ATATT3xFfGF0"), email=reader.email,
                   account_id=reader.account_id),
        Credential("dc-admin-pat", "pat", secret("NjE3"), username="admin"),
        Credential("dc-user-pat", "pat", secret("NjE3"), username=org.dc[0].users[-1].username if org.dc else "user",
                   admin=False),
    ]
    # a Data Center only tenant (topology.py) has no Cloud organization to hold an org key or API tokens
    return accepted if org.sites else [c for c in accepted if c.kind == "pat"]
