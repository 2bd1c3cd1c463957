"""Accounts, groups, memberships, API tokens, domains, directories, policies and workspaces.

Planted personas come first (each one a known positive or a look-alike negative of an
identity signal, recorded in `org.planted`), then a bulk population drawn at random.
The ground-truth oracle does not trust the planting: it evaluates every account, so
a bulk account that happens to be dormant is a positive too.
"""

from __future__ import annotations

from datetime import datetime

from atlassian_simulator.generator.common import FIRST_NAMES, LAST_NAMES, WORDS, Rng, days
from atlassian_simulator.model import (
    Account,
    ApiToken,
    AuthPolicy,
    Directory,
    Domain,
    Group,
    Organization,
    Policy,
    ProductAccess,
    Site,
    Workspace,
)

ADMIN_ROLES = ("org-admin", "site-admin", "user-access-admin")


def site_group_names(site: Site, first: bool) -> dict[str, str]:
    """The product groups Atlassian creates for a site (first site keeps the short names)."""
    suffix = "" if first else f"-{site.name}"
    return {
        "site_admins": f"site-admins{suffix}",
        "jira_admins": f"jira-admins-{site.name}",
        "jira_users": f"jira-software-users-{site.name}",
        "confluence_admins": f"confluence-admins-{site.name}",
        "confluence_users": f"confluence-users-{site.name}",
        "jsm_customers": f"jira-servicemanagement-customers-{site.name}",
    }


def plant(org: Organization, check_id: str, kind: str, resource: str, why: str) -> None:
    """Record a planted positive or look-alike negative for a check."""
    entry = org.planted.setdefault(check_id, {"positives": [], "negatives": []})
    entry[kind].append({"resource": resource, "why": why})


class IdentityBuilder:
    def __init__(self, org: Organization, rng: Rng, domain: str, profile: str):
        self.org = org
        self.rng = rng
        self.domain = domain
        self.profile = profile
        self.now = org.clock
        self.by_name: dict[str, Group] = {}
        self.serial = 0
        self.joined: set[tuple[str, str]] = set()
        self.local_dir = ""
        self.idp_dir = ""
        self.legacy_domain: str | None = None

    # --- reference data ------------------------------------------------------------------------

    def domains_and_directories(self) -> None:
        org, rng = self.org, self.rng
        org.domains = [
            Domain(rng.uuid(), self.domain, "dns", "verified"),
            Domain(rng.uuid(), f"{self.domain.split('.')[0]}-labs.io", "http", "verified"),
        ]
        if self.profile != "hardened":
            legacy = Domain(rng.uuid(), f"{self.domain.split('.')[0]}-legacy.com", "dns", "unverified")
            retired = Domain(rng.uuid(), f"old{self.domain.split('.')[0]}.net", "dns", "deleted")
            org.domains += [legacy, retired]
            plant(org, "POSTURE-002", "positives", f"domain:{legacy.name}", "unverified while active users use it")
            self.legacy_domain = legacy.name
            plant(org, "POSTURE-002", "negatives", f"domain:{retired.name}", "deleted but no user carries it")
        self.local_dir = rng.uuid()
        org.directories = [Directory(self.local_dir, "Local directory", "local")]
        if self.profile != "unguarded":
            self.idp_dir = rng.uuid()
            org.directories.append(Directory(self.idp_dir, "Okta", "scim"))

    def groups(self, target: int) -> None:
        org, rng = self.org, self.rng
        names: list[tuple[str, str, bool]] = [
            ("org-admins", "Organization administrators", False),
            ("atlassian-addons-admin", "App bot accounts that administer Jira", False),
            ("administrators", "Legacy Jira administrators group", False),
        ]
        for i, site in enumerate(org.sites):
            for key, name in site_group_names(site, i == 0).items():
                names.append((name, f"{key.replace('_', ' ')} of {site.name}", False))
        synced = bool(self.idp_dir)
        n = 0
        while len(names) < target or n < 3:  # a few team groups even when product groups fill the target
            word = WORDS[n % len(WORDS)]
            lap = n // len(WORDS)
            base = f"team-{word}" + (f"-{lap}" if lap else "")
            if synced and n % 3 == 0:
                names.append((f"okta-{base[5:]}", f"Synced from Okta: {base[5:]}", True))
            else:
                names.append((base, f"Team {word}", False))
            n += 1
        for name, description, external in names:
            directory = self.idp_dir if external else self.local_dir
            group = Group(rng.uuid(), name, description, directory, external_synced=external)
            org.groups.append(group)
            self.by_name[name] = group
            org.memberships[group.group_id] = []
        for i, site in enumerate(org.sites):
            names_ = site_group_names(site, i == 0)
            jira_ari = f"ari:cloud:jira::site/{site.cloud_id}"
            conf_ari = f"ari:cloud:confluence::site/{site.cloud_id}"
            self.by_name[names_["jira_admins"]].role_assignments = [("atlassian/admin", jira_ari)]
            self.by_name[names_["confluence_admins"]].role_assignments = [("atlassian/admin", conf_ari)]
            self.by_name[names_["jira_users"]].role_assignments = [("atlassian/user", jira_ari)]
            self.by_name[names_["confluence_users"]].role_assignments = [("atlassian/user", conf_ari)]
            self.by_name[names_["site_admins"]].role_assignments = [
                ("atlassian/admin", jira_ari),
                ("atlassian/admin", conf_ari),
            ]

    # --- accounts ------------------------------------------------------------------------------

    def new_account(
        self,
        *,
        managed: bool = True,
        status: str = "active",
        mfa: bool | None = None,
        added_days_ago: float | None = None,
        name: str | None = None,
        email: str | None = None,
        account_type: str = "atlassian",
        source: str | None = None,
    ) -> Account:
        rng = self.rng
        self.serial += 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        display = name or f"{first} {last}"
        if email is None and account_type == "atlassian":
            local = display.lower().replace(" ", ".")
            domain = self.domain if managed else rng.choice(("gmail.com", "outlook.com", "partner-corp.com"))
            email = f"{local}{self.serial}@{domain}"
        if source is None:
            source = "synced" if self.idp_dir and managed and rng.chance(0.8) else "invited"
        added = self.now - days(added_days_ago if added_days_ago is not None else rng.uniform(31, 1400))
        account = Account(
            account_id=rng.account_id(),
            account_type=account_type,
            name=display,
            email=email,
            account_status="active" if status in ("active", "suspended") else status,
            membership_status="suspended" if status in ("suspended", "inactive") else "active",
            claim_status="managed" if managed and account_type == "atlassian" else "unmanaged",
            mfa_enabled=mfa if mfa is not None else (managed and rng.chance(0.72)),
            email_verified=True,
            management_source=source if managed else "invited",
            directory_id=self.idp_dir if source == "synced" and self.idp_dir else self.local_dir,
            added_to_org=added.replace(microsecond=0),
            nickname=display.split()[0],
            timezone=rng.choice(("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London", "Etc/UTC")),
        )
        self.org.accounts.append(account)
        return account

    def join(self, account: Account, *group_names: str) -> None:
        for name in group_names:
            group_id = self.by_name[name].group_id
            key = (group_id, account.account_id)
            if key not in self.joined:  # a set: membership lists reach 100,000 on large orgs
                self.joined.add(key)
                self.org.memberships[group_id].append(account.account_id)

    def site_groups(self, index: int = 0) -> dict[str, str]:
        return site_group_names(self.org.sites[index], index == 0)

    def give_access(self, account: Account, jira: bool = True, confluence: bool = True, sites=None) -> None:
        for i in sites if sites is not None else range(len(self.org.sites)):
            g = self.site_groups(i)
            if jira:
                self.join(account, g["jira_users"])
            if confluence:
                self.join(account, g["confluence_users"])

    def activity(self, account: Account, days_ago: float | None) -> None:
        """Set last-active for every product the account can use (None: never active)."""
        self.org.config.setdefault("activity", {})[account.account_id] = days_ago

    def personas(self) -> dict[str, Account]:
        """Planted accounts: each a positive or a look-alike negative for an identity signal."""
        org, p = self.org, {}
        exposed = self.profile != "hardened"
        g0 = self.site_groups(0)

        reader = self.new_account(name="Posture Reader", email=f"posture-reader@{self.domain}", mfa=True, source="invited")
        reader.platform_roles = ["site-admin"]
        self.join(reader, g0["site_admins"], g0["jira_admins"], g0["confluence_admins"])
        for i in range(1, len(org.sites)):
            g = self.site_groups(i)
            self.join(reader, g["site_admins"], g["jira_admins"], g["confluence_admins"])
        self.give_access(reader)
        self.activity(reader, 0.2)
        p["reader"] = reader

        admins = 5 if exposed else 2
        for i in range(admins):
            # the admin without 2SV is invited, so no SSO-enforcing policy covers it (IDENT-003)
            a = self.new_account(mfa=not (exposed and i == 1), source="invited" if i == 1 else None)
            a.platform_roles = ["org-admin"]
            self.join(a, "org-admins", g0["site_admins"])
            self.give_access(a)
            self.activity(a, self.rng.uniform(0.1, 5))
            p[f"org_admin_{i}"] = a
        if exposed:
            ext = self.new_account(managed=False, mfa=False)
            ext.platform_roles = ["org-admin"]
            self.join(ext, "org-admins")
            self.give_access(ext)
            self.activity(ext, 3)
            p["external_org_admin"] = ext
            plant(org, "IDENT-008", "positives", f"account:{ext.account_id}", "unmanaged org admin")
            plant(org, "IDENT-003", "positives", f"account:{p['org_admin_1'].account_id}", "org admin without 2SV")
            plant(org, "POSTURE-011", "positives", f"org:{org.org_id}", "six org admins, one unmanaged")
        else:
            plant(org, "POSTURE-011", "negatives", f"org:{org.org_id}", "two managed org admins")

        uaa = self.new_account(mfa=False, source="invited")
        uaa.platform_roles = ["user-access-admin"]
        self.give_access(uaa, confluence=False)
        self.activity(uaa, 2)
        p["uaa_no_mfa"] = uaa
        sso = self.new_account(mfa=False)
        sso.platform_roles = ["site-admin"]
        self.join(sso, g0["site_admins"])
        self.give_access(sso)
        self.activity(sso, 1)
        p["admin_sso"] = sso  # its auth policy enforces SSO (set in auth_policies)
        plant(org, "IDENT-003", "positives", f"account:{uaa.account_id}", "user-access admin without 2SV, no SSO")

        dormant_admin = self.new_account(mfa=True)
        dormant_admin.platform_roles = ["site-admin"]
        self.join(dormant_admin, g0["site_admins"])
        self.give_access(dormant_admin)
        self.activity(dormant_admin, 45)
        busy_admin = self.new_account(mfa=True)
        self.join(busy_admin, g0["jira_admins"])
        self.give_access(busy_admin)
        self.activity(busy_admin, 20)
        p["dormant_admin"], p["busy_admin"] = dormant_admin, busy_admin
        plant(org, "IDENT-006", "positives", f"account:{dormant_admin.account_id}", "site admin idle 45 days")
        plant(org, "IDENT-006", "negatives", f"account:{busy_admin.account_id}", "Jira admin active 20 days ago")

        for key, ago, access, check, kind, why in (
            ("dormant", 120, True, "IDENT-001", "positives", "licensed, idle 120 days"),
            ("almost_dormant", 85, True, "IDENT-001", "negatives", "idle 85 days, under the 90-day line"),
            ("dormant_unlicensed", 200, False, "IDENT-001", "negatives", "idle 200 days but no product access"),
        ):
            a = self.new_account(mfa=True, added_days_ago=400)
            if access:
                self.give_access(a)
            self.activity(a, ago)
            p[key] = a
            plant(org, check, kind, f"account:{a.account_id}", why)

        never = self.new_account(mfa=True, added_days_ago=60)
        self.give_access(never)
        self.activity(never, None)
        fresh = self.new_account(mfa=True, added_days_ago=10)
        self.give_access(fresh)
        self.activity(fresh, None)
        p["never_active"], p["new_joiner"] = never, fresh
        plant(org, "IDENT-002", "positives", f"account:{never.account_id}", "added 60 days ago, never active")
        plant(org, "IDENT-002", "negatives", f"account:{fresh.account_id}", "added 10 days ago, never active")

        ext_user = self.new_account(managed=False)
        self.give_access(ext_user, confluence=True, jira=False)
        self.activity(ext_user, 4)
        ext_idle = self.new_account(managed=False)
        self.activity(ext_idle, None)
        ext_admin = self.new_account(managed=False)
        self.join(ext_admin, g0["jira_admins"])
        self.give_access(ext_admin)
        self.activity(ext_admin, 6)
        p["external_user"], p["external_no_access"], p["external_jira_admin"] = ext_user, ext_idle, ext_admin
        plant(org, "IDENT-007", "positives", f"account:{ext_user.account_id}", "unmanaged with Confluence access")
        plant(org, "IDENT-007", "negatives", f"account:{ext_idle.account_id}", "unmanaged without product access")
        plant(org, "IDENT-008", "positives", f"account:{ext_admin.account_id}", "unmanaged Jira admin")

        if self.idp_dir:
            invited = self.new_account(mfa=True, source="invited")
            self.give_access(invited)
            self.activity(invited, 3)
            synced = self.new_account(mfa=True, source="synced")
            self.give_access(synced)
            self.activity(synced, 3)
            p["invited_employee"], p["synced_employee"] = invited, synced
            plant(org, "IDENT-009", "positives", f"account:{invited.account_id}", "invited while Okta syncs")
            plant(org, "IDENT-009", "negatives", f"account:{synced.account_id}", "synced from Okta")

        susp_admin = self.new_account(status="suspended", mfa=True)
        self.join(susp_admin, g0["jira_admins"])
        self.activity(susp_admin, 70)
        susp = self.new_account(status="suspended", mfa=True)
        self.join(susp, g0["jira_users"])
        self.activity(susp, 70)
        p["suspended_admin"], p["suspended_user"] = susp_admin, susp
        plant(org, "IDENT-014", "positives", f"account:{susp_admin.account_id}", "suspended, still in jira-admins")
        plant(org, "IDENT-014", "negatives", f"account:{susp.account_id}", "suspended plain user")

        unverified = self.new_account(mfa=True)
        unverified.email_verified = False
        self.give_access(unverified)
        self.activity(unverified, 2)
        unverified_idle = self.new_account(mfa=True)
        unverified_idle.email_verified = False
        self.activity(unverified_idle, None)
        p["unverified"], p["unverified_no_access"] = unverified, unverified_idle
        plant(org, "IDENT-015", "positives", f"account:{unverified.account_id}", "unverified e-mail with access")
        plant(org, "IDENT-015", "negatives", f"account:{unverified_idle.account_id}", "unverified, no access")

        guest = self.new_account(managed=False, mfa=False)
        guest.is_guest = True
        self.give_access(guest, jira=False)
        self.activity(guest, 5)
        guest_ro = self.new_account(managed=False, mfa=False)
        guest_ro.is_guest = True
        self.give_access(guest_ro, jira=False)
        self.activity(guest_ro, 5)
        p["guest_writer"], p["guest_reader"] = guest, guest_ro

        if self.legacy_domain:  # an active user still signs in with the unverified domain (POSTURE-002)
            legacy_user = self.new_account(managed=False, email=f"legacy.user@{self.legacy_domain}")
            self.give_access(legacy_user, confluence=False)
            self.activity(legacy_user, 3)
            p["legacy_domain_user"] = legacy_user

        robot = self.new_account(name="svc-jira-sync", email=f"svc-jira-sync@{self.domain}", mfa=False)
        self.give_access(robot, confluence=False)
        self.activity(robot, 150)
        p["robot"] = robot
        plant(org, "IDENT-023", "positives", f"account:{robot.account_id}", "svc- account driven by API token")

        for key in ("impersonated", "new_admin", "email_changed_admin", "traveller", "direct_grantee",
                    "project_admin_many", "token_legacy", "token_stale", "token_sprawl", "token_fresh"):
            a = self.new_account(mfa=True)
            self.give_access(a)
            self.activity(a, self.rng.uniform(0.5, 10))
            p[key] = a
        self.join(p["new_admin"], g0["jira_admins"])
        self.join(p["email_changed_admin"], g0["site_admins"])
        p["email_changed_admin"].platform_roles = ["site-admin"]
        self.join(p["project_admin_many"], "administrators")
        return p

    def bulk(self, count: int) -> None:
        rng, org = self.rng, self.org
        teams = [g for g in org.groups if g.name.startswith(("team-", "okta-"))]
        n_sites = len(org.sites)
        for _ in range(count):
            roll = rng.random()
            if roll < 0.06:
                a = self.new_account(managed=False)
            elif roll < 0.09:
                a = self.new_account(managed=False, account_type="customer", email=f"customer{self.serial + 1}@example.org")
                self.join(a, self.site_groups(rng.randrange(n_sites))["jsm_customers"])
                self.activity(a, rng.uniform(1, 300))
                continue
            elif roll < 0.12:
                a = self.new_account(status="suspended")
            elif roll < 0.13:
                a = self.new_account(status="closed")
                continue
            else:
                a = self.new_account()
            if rng.chance(0.02):
                a.email_verified = False
            site_choice = [rng.randrange(n_sites)] if n_sites > 1 and rng.chance(0.6) else range(n_sites)
            self.give_access(a, jira=rng.chance(0.85), confluence=rng.chance(0.8), sites=site_choice)
            for group in rng.sample(teams, k=min(len(teams), rng.choice((0, 1, 1, 2, 3)))):
                self.join(a, group.name)
            # mostly active, a tail of idle accounts
            ago = rng.choice((rng.uniform(0, 14), rng.uniform(0, 14), rng.uniform(0, 60), rng.uniform(60, 400)))
            self.activity(a, None if rng.chance(0.03) else ago)

    def derive_product_access(self) -> None:
        """Product access follows the product-access groups, as Atlassian's application roles do."""
        org = self.org
        by_id = {a.account_id: a for a in org.accounts}
        activity = org.config.get("activity", {})
        for i, site in enumerate(org.sites):
            g = site_group_names(site, i == 0)
            for product, groups in (
                ("jira-software", (g["jira_users"], g["jira_admins"], g["site_admins"])),
                ("confluence", (g["confluence_users"], g["confluence_admins"], g["site_admins"])),
            ):
                holders: set[str] = set()
                for name in groups:
                    holders.update(org.memberships[self.by_name[name].group_id])
                for account_id in sorted(holders, key=lambda x: x):
                    account = by_id[account_id]
                    ago = activity.get(account_id)
                    last = None if ago is None else (self.now - days(ago)).replace(microsecond=0)
                    if last is not None and last < account.added_to_org:
                        last = account.added_to_org
                    account.product_access.append(ProductAccess(product, site.name, last))
        # the order accounts got access in must not depend on set iteration
        for account in org.accounts:
            account.product_access.sort(key=lambda p: (p.site_name, p.product_key))

    # --- tokens, policies, workspaces ----------------------------------------------------------

    def api_tokens(self, personas: dict[str, Account]) -> None:
        org, rng, now = self.org, self.rng, self.now

        def token(account: Account, created_ago: float, lifetime: float | None, used_ago: float | None, label=None):
            created = (now - days(created_ago)).replace(microsecond=0)
            org.api_tokens.append(
                ApiToken(
                    token_id=rng.uuid(),
                    account_id=account.account_id,
                    label=label or rng.choice(("ci", "jira-cli", "backup", "reporting", "zapier", "laptop", "sync")),
                    created_at=created,
                    expires_at=None if lifetime is None else created + days(lifetime),
                    last_active_at=None if used_ago is None else (now - days(used_ago)).replace(microsecond=0),
                )
            )

        token(personas["reader"], 20, 90, 0.2, label="posture-warehouse")
        token(personas["token_legacy"], 800, None, 3, label="legacy-sync")
        token(personas["token_fresh"], 40, 90, 1, label="cli")
        token(personas["token_stale"], 200, 365, 120, label="old-report")
        for i in range(6):
            token(personas["token_sprawl"], 50 + i, 180, 2)
        token(personas["robot"], 60, 365, 0.1, label="jira-sync")
        plant(org, "IDENT-010", "positives", f"account:{personas['token_legacy'].account_id}", "token with no expiry")
        plant(org, "IDENT-010", "negatives", f"account:{personas['token_fresh'].account_id}", "90-day token")
        plant(org, "IDENT-011", "positives", f"account:{personas['token_stale'].account_id}", "unused for 120 days")
        plant(org, "IDENT-011", "negatives", f"account:{personas['token_fresh'].account_id}", "used yesterday")
        plant(org, "IDENT-013", "positives", f"account:{personas['token_sprawl'].account_id}", "six tokens")
        plant(org, "IDENT-012", "positives", f"account:{personas['reader'].account_id}", "site admin with a token")
        eligible = [a for a in org.accounts if a.account_type == "atlassian" and a.account_status == "active"]
        for account in eligible:
            if rng.chance(0.2):
                created = rng.uniform(5, 330)
                lifetime = rng.choice((30, 90, 180, 365))
                used = None if rng.chance(0.1) else rng.uniform(0, min(created, 60))
                token(account, created, lifetime if created < lifetime else created + 30, used)

    def policies(self) -> None:
        org, rng, now = self.org, self.rng, self.now
        resources = [f"ari:cloud:{product}::site/{s.cloud_id}" for s in org.sites for product in ("jira", "confluence")]
        created = (now - days(300)).replace(microsecond=0)
        hardened = self.profile == "hardened"
        org.policies = [
            Policy(rng.uuid(), "ip-allowlist", "Office and VPN", "enabled" if hardened else "disabled",
                   resources, {"ipRanges": ["203.0.113.0/24", "198.51.100.0/24"]}, created, created + days(10)),
            Policy(rng.uuid(), "data-residency", "EU residency", "enabled", resources, {"in": ["EU"]}, created, created),
            Policy(rng.uuid(), "data-security", "Restricted content", "active" if hardened else "draft",
                   resources[:1], {"export": {"effect": "BLOCK"}, "policyCoverageLevel": "CLASSIFICATION"},
                   created, created + days(3)),
        ]
        check = "positives" if not hardened else "negatives"
        plant(org, "POSTURE-008", check, f"org:{org.org_id}", "allowlist disabled" if not hardened else "enabled")
        plant(org, "POSTURE-009", check, f"org:{org.org_id}", "DSP in draft" if not hardened else "active DSP")

    def auth_policies(self, personas: dict[str, Account]) -> None:
        org, rng = self.org, self.rng
        default = AuthPolicy(rng.uuid(), "Default policy", sso_enforced=False, two_step_enforced=False, is_default=True)
        sso = AuthPolicy(rng.uuid(), "SSO enforced", sso_enforced=True, two_step_enforced=False)
        breakglass = AuthPolicy(rng.uuid(), "Break glass", sso_enforced=False, two_step_enforced=True)
        org.auth_policies = [default, sso, breakglass]
        for account in org.accounts:
            if account.claim_status != "managed":
                continue
            account.auth_policy_id = sso.policy_id if account.management_source == "synced" else default.policy_id
        personas["admin_sso"].auth_policy_id = sso.policy_id
        plant(org, "IDENT-003", "negatives", f"account:{personas['admin_sso'].account_id}",
              "no 2SV but in an SSO-enforced policy")
        personas["org_admin_0"].auth_policy_id = breakglass.policy_id
        org.config["break_glass_policy_ids"] = [breakglass.policy_id]

    def workspaces(self) -> None:
        org, rng = self.org, self.rng
        for site in org.sites:
            for type_key in ("jira-software", "confluence"):
                org.workspaces.append(
                    Workspace(rng.uuid(), type_key, f"{site.name} {type_key}", f"https://{site.name}.atlassian.net",
                              site.name, site.created_at)
                )


def tenant_domain(company: str) -> str:
    return f"{company}.com"


def clamp(moment: datetime, floor: datetime) -> datetime:
    return moment if moment >= floor else floor
