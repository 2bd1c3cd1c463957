"""Audit logs: lazily generated benign history plus planted detections.

Each log's base events are benign by construction (they can never fire a detection),
so the detections' ground truth is exactly the planted events plus whatever time
travel adds. Planted look-alikes (a user added to a team group, a scheme created)
sit next to the positives.

Event `fields` are kept close to each product's response shape; the routes finish them.

Resource keys of planted events (what `org.planted` records and the ground truth reports):
`event:org:<id>`, `event:jira:<site>:<id>`, `event:dc:<instance>:<id>`, and for Confluence Cloud,
whose audit records carry no id, `event:confluence:<site>:<creationDate in epoch ms>:<summary>`.

Apart from the lazy base, the org log holds steady third-party app traffic (extras, one
"Third-party app ... API request" event every few days per enabled app, so apps are not idle:
PLUGIN-015) and, in the exposed profile, one burst of requests by one app (AUDIT-011).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from atlassian_simulator.generator.common import stable_hash
from atlassian_simulator.generator.identity import plant
from atlassian_simulator.lazy import PROCESSING_DELAY, AuditEvent, EventLog, to_ms
from atlassian_simulator.model import Account, InstalledApp, Organization, Site

# Org audit action ids -> (display name, group display name): what /event-actions serves.
ORG_ACTIONS = {
    "user_logged_in": ("Logged in to account", "Account activity"),
    "user_logged_in_as_user": ("Logged in as user", "Account activity"),
    "user_added_to_group": ("Added user to group", "Groups"),
    "user_removed_from_group": ("Removed user from group", "Groups"),
    "group_created": ("Created group", "Groups"),
    "org_admin_role_granted": ("Granted organization admin role", "Administration"),
    "org_admin_role_revoked": ("Revoked organization admin role", "Administration"),
    "admin_api_key_created": ("Created admin API key", "API keys"),
    "user_api_token_created": ("Created API token", "API tokens"),
    "auth_policy_updated": ("Updated authentication policy", "Authentication policies"),
    "two_step_verification_enforced": ("Enforced two-step verification", "Authentication policies"),
    "ip_allowlist_updated": ("Updated IP allowlist", "IP allowlists"),
    "domain_verified": ("Verified domain", "Domains"),
    "domain_removed": ("Removed domain", "Domains"),
    "saml_configuration_updated": ("Updated SAML configuration", "Identity providers"),
    "app_installed": ("App successful installation", "App actions"),
    "app_uninstalled": ("App successful uninstallation", "App actions"),
    "app_enabled": ("App enable success", "App actions"),
    "app_disabled": ("App disable success", "App actions"),
    "app_updated": ("App update success", "App actions"),
    "third_party_app_jira_api_request": ("Third-party app Jira API request", "App actions"),
    "third_party_app_confluence_api_request": ("Third-party app Confluence API request", "App actions"),
    "password_recovery_requested": ("Requested password recovery link", "Account activity"),
    "password_reset_with_recovery_link": ("Reset password with recovery link", "Account activity"),
    "email_changed": ("Changed email address", "Account activity"),
    "user_created": ("Created user", "Account lifecycle"),
    "account_deactivated": ("Deactivated account", "Account lifecycle"),
    "account_reactivated": ("Reactivated account", "Account lifecycle"),
    "group_product_access_granted": ("Granted product access to group", "Product access"),
    "guard_detect_data_exfiltration": ("Data exfiltration alert", "Guard Detect"),
}
ALLOWED_COUNTRIES = ("Germany", "United States", "United Kingdom", "Japan")
CITY = {"Germany": "Berlin", "United States": "New York", "United Kingdom": "London", "Japan": "Tokyo",
        "North Korea": "Pyongyang", "Russia": "Moscow"}

JIRA_BENIGN = [
    ("Workflow updated", "workflows", "WORKFLOW"),
    ("Custom field created", "fields", "CUSTOM_FIELD"),
    ("Issue type scheme updated", "issue types", "SCHEME"),
    ("User added to group", "group management", "GROUP"),
    ("Version released", "projects", "VERSION"),
    ("Notification scheme updated", "notifications", "SCHEME"),
]
CONFLUENCE_BENIGN = [
    ("Space created", "Spaces", "Space"),
    ("User added to group", "Users and groups", "Group"),
    ("Page template created", "Templates", "Template"),
    ("Space logo updated", "Spaces", "Space"),
]
DC_BENIGN = [
    ("User logged in", "Security", "USER"),
    ("Workflow updated", "Workflows", "WORKFLOW"),
    ("User added to group", "User management", "GROUP"),
]


def _ip(h: int) -> str:
    return f"10.{(h >> 8) & 255}.{(h >> 16) & 255}.{(h >> 24) & 255 or 1}"


class AuditBuilder:
    """Builds the org, Jira, Confluence and DC logs of one organization."""

    def __init__(self, org: Organization, seed_key: str):
        self.org = org
        self.seed_key = seed_key
        self.active = [a for a in org.accounts if a.account_type == "atlassian" and a.account_status == "active"]
        self.team_groups = [g for g in org.groups if g.name.startswith(("team-", "okta-"))]
        # a plain (non-admin, non-product) group for the look-alike negatives; small orgs may have none
        first = self.team_groups[0] if self.team_groups else None
        self.plain_group = (first.group_id, first.name) if first else ("g-team-none", "team-none")
        self.counters: dict[str, int] = {}

    def window(self, audit_days: int) -> tuple[datetime, datetime]:
        end = self.org.clock - timedelta(hours=2)
        return end - timedelta(days=audit_days), end

    # --- org events ----------------------------------------------------------------------------

    @staticmethod
    def actor(account: Account | None, auth: str | None = None, token_label: str | None = None) -> dict:
        if account is None:
            return {"id": "unknown"}
        actor = {"id": account.account_id, "name": account.name}
        if account.email:
            actor["email"] = account.email
        if auth:
            actor["auth"] = {"authType": auth, "tokenLabel": token_label or "token"}
        return actor

    def org_event(self, event_id: str, time: datetime, action: str, actor: Account | None, *,
                  context: list[dict] | None = None, country: str = "Germany", product: str | None = None,
                  auth: str | None = None, processed_at: datetime | None = None, app: dict | None = None,
                  site: Site | None = None) -> AuditEvent:
        h = stable_hash(self.seed_key, event_id)
        container = [{"id": self.org.org_id, "type": "orgs", "attributes": {"name": self.org.name}}]
        if site is not None:
            container.append({"id": site.cloud_id, "type": "sites", "attributes": {"name": site.name}})
        fields = {
            "actor": self.actor(actor, auth),
            "context": context or [],
            "container": container,
            "location": {"ip": _ip(h), "city": CITY.get(country, "Unknown"), "countryName": country},
            "product": product,
        }
        if app:
            fields["actor"]["app"] = app
        return AuditEvent(event_id, time, processed_at or time + PROCESSING_DELAY, action,
                          actor.account_id if actor else None, fields)

    def org_log(self, count: int, audit_days: int) -> EventLog:
        start, end = self.window(audit_days)
        active, teams = self.active, self.team_groups

        def factory(i: int, time: datetime) -> AuditEvent:
            h = stable_hash(self.seed_key, "org", i)
            who = active[h % len(active)]
            kind = (h >> 20) % 10
            event_id = f"{h:016x}-{i:07d}"
            if kind < 7:
                return self.org_event(event_id, time, "user_logged_in", who,
                                      country=ALLOWED_COUNTRIES[(h >> 8) % len(ALLOWED_COUNTRIES)])
            if kind < 9 and teams:
                group = teams[(h >> 12) % len(teams)]
                return self.org_event(event_id, time, "user_added_to_group", who,
                                      context=[group_ref(group.group_id, group.name),
                                               user_ref(active[(h >> 30) % len(active)])])
            return self.org_event(event_id, time, "group_created", who,
                                  context=[group_ref(f"g{h % 9999}", f"team-temp-{h % 9999}")])

        def index_of(event_id: str) -> int | None:
            tail = event_id.rpartition("-")[2]
            return int(tail) if tail.isdigit() and len(tail) == 7 else None

        return EventLog(start, end, count, factory, index_of)

    # --- Jira / Confluence / DC product logs ---------------------------------------------------

    def jira_log(self, site_ref: str, count: int, audit_days: int) -> EventLog:
        start, end = self.window(audit_days)
        active, teams = self.active, self.team_groups

        def factory(i: int, time: datetime) -> AuditEvent:
            h = stable_hash(self.seed_key, site_ref, "jira", i)
            summary, category, type_name = JIRA_BENIGN[h % len(JIRA_BENIGN)]
            who = active[(h >> 8) % len(active)]
            if type_name == "GROUP" and teams:
                group = teams[(h >> 16) % len(teams)]
                obj = {"id": group.group_id, "name": group.name, "typeName": "GROUP"}
                associated = [{"id": who.account_id, "name": who.name, "typeName": "USER"}]
            else:
                obj = {"id": str(10_000 + (h >> 16) % 500), "name": f"{type_name.lower()}-{(h >> 16) % 500}",
                       "typeName": type_name}
                associated = []
            return AuditEvent(str(10_000 + i), time, time, summary, who.account_id,
                              {"category": category, "objectItem": obj, "changedValues": [],
                               "associatedItems": associated, "remoteAddress": _ip(h), "eventSource": ""})

        return EventLog(start, end, count, factory, lambda eid: int(eid) - 10_000 if eid.isdigit() else None)

    def confluence_log(self, site_ref: str, count: int, audit_days: int) -> EventLog:
        start, end = self.window(audit_days)
        active, teams = self.active, self.team_groups

        def factory(i: int, time: datetime) -> AuditEvent:
            h = stable_hash(self.seed_key, site_ref, "confluence", i)
            summary, category, object_type = CONFLUENCE_BENIGN[h % len(CONFLUENCE_BENIGN)]
            who = active[(h >> 8) % len(active)]
            name = teams[(h >> 16) % len(teams)].name if object_type == "Group" and teams else f"{object_type} {h % 97}"
            return AuditEvent(f"c{i}", time, time, summary, who.account_id,
                              {"category": category, "affectedObject": {"name": name, "objectType": object_type},
                               "changedValues": [], "associatedObjects": [], "remoteAddress": _ip(h),
                               "description": "", "sysAdmin": False, "superAdmin": False})

        return EventLog(start, end, count, factory, lambda eid: int(eid[1:]) if eid[1:].isdigit() else None)

    def dc_log(self, instance: str, usernames: list[str], count: int, audit_days: int) -> EventLog:
        start, end = self.window(audit_days)

        def factory(i: int, time: datetime) -> AuditEvent:
            h = stable_hash(self.seed_key, instance, "dc", i)
            action, category, object_type = DC_BENIGN[h % len(DC_BENIGN)]
            who = usernames[(h >> 8) % len(usernames)]
            target = f"team-{(h >> 16) % 40}" if object_type == "GROUP" else f"{object_type.lower()}-{h % 50}"
            return AuditEvent(str(1 + i), time, time, action, who,
                              {"category": category, "affectedObjects": [{"name": target, "type": object_type}],
                               "changedValues": [], "source": _ip(h)})

        return EventLog(start, end, count, factory, lambda eid: int(eid) - 1 if eid.isdigit() else None)

    # --- planted detections --------------------------------------------------------------------

    def plant_org(self, personas: dict[str, Account], apps_by_check: dict[str, str]) -> None:
        org, log = self.org, self.org.events
        now = org.clock
        n = iter(range(1, 10_000))

        def add(check: str | None, kind: str, days_ago: float, action: str, actor: Account | None, **kw) -> None:
            event_id = f"planted-{next(n):04d}"
            log.add(self.org_event(event_id, now - timedelta(days=days_ago), action, actor, **kw))
            if check:
                plant(org, check, kind, f"event:org:{event_id}", ORG_ACTIONS[action][0])

        admin, reader = personas["org_admin_0"], personas["reader"]
        add("AUDIT-001", "positives", 3, "user_logged_in_as_user", admin, context=[user_ref(personas["impersonated"])])
        plant(org, "IDENT-016", "positives", f"account:{personas['impersonated'].account_id}", "impersonated 3 days ago")
        add("AUDIT-002", "positives", 2, "org_admin_role_granted", admin, context=[user_ref(personas["org_admin_1"])])
        org_admins = next(g for g in org.groups if g.name == "org-admins")
        add("AUDIT-002", "positives", 1.5, "user_removed_from_group", admin,
            context=[group_ref(org_admins.group_id, org_admins.name), user_ref(personas["busy_admin"])])
        add("AUDIT-002", "negatives", 1.4, "user_removed_from_group", admin,
            context=[group_ref(*self.plain_group), user_ref(personas["busy_admin"])])
        add("AUDIT-003", "positives", 4, "admin_api_key_created", admin, context=[{"id": "key-1", "type": "api-key"}])
        add("AUDIT-004", "positives", 5, "user_api_token_created", personas["token_fresh"])
        add("AUDIT-005", "positives", 1, "group_created", reader, auth="api-token",
            context=[group_ref("g-audit", "team-automation")])
        add("AUDIT-005", "negatives", 1, "group_created", personas["robot"], auth="api-token",
            context=[group_ref("g-audit2", "team-automation-2")])
        add("AUDIT-006", "positives", 6, "auth_policy_updated", admin, context=[{"id": "policy", "type": "auth-policy"}])
        add("AUDIT-007", "positives", 6.5, "ip_allowlist_updated", admin, context=[{"id": org.policies[0].policy_id, "type": "policy"}])
        add("AUDIT-008", "positives", 8, "domain_verified", admin, context=[{"id": org.domains[0].domain_id, "type": "domain"}])
        add("AUDIT-009", "positives", 9, "saml_configuration_updated", admin, context=[{"id": "saml", "type": "idp"}])
        for key in apps_by_check.values():
            _, site_name, product, app_key = key.split(":", 3)
            site = next(s for s in org.sites if s.name == site_name)
            add("AUDIT-010", "positives", 2.5, "app_installed", admin, product=product, site=site,
                context=[app_ref(app_key, product)])
            plant(org, "PLUGIN-017", "positives", key, "installed 2.5 days ago")
            plant(org, "PLUGIN-018", "negatives", key, "installed by an active managed org admin")
        add("AUDIT-012", "positives", 2, "password_reset_with_recovery_link", personas["email_changed_admin"])
        add("AUDIT-012", "positives", 2.1, "email_changed", personas["email_changed_admin"])
        plant(org, "IDENT-018", "positives", f"account:{personas['email_changed_admin'].account_id}", "admin e-mail changed")
        add("AUDIT-013", "positives", 3, "account_reactivated", admin, context=[user_ref(personas["dormant_admin"])])
        add("AUDIT-013", "negatives", 3, "account_deactivated", admin, context=[user_ref(personas["dormant"])])
        add("AUDIT-014", "positives", 1.2, "user_logged_in", personas["traveller"], country="North Korea")
        add("AUDIT-014", "negatives", 1.3, "user_logged_in", personas["traveller"], country="Japan")
        plant(org, "IDENT-019", "positives", f"account:{personas['traveller'].account_id}", "signed in from North Korea")
        add("AUDIT-015", "positives", 4, "group_product_access_granted", admin, context=[group_ref(*self.plain_group)])
        add("AUDIT-016", "positives", 0.5, "guard_detect_data_exfiltration", personas["traveller"], product="guard_detect")
        site_admins = next(g for g in org.groups if g.name == "site-admins")
        add(None, "positives", 2, "user_added_to_group", admin,
            context=[group_ref(site_admins.group_id, site_admins.name), user_ref(personas["new_admin"])])
        plant(org, "IDENT-017", "positives", f"account:{personas['new_admin'].account_id}", "added to site-admins 2 days ago")
        # a human account whose API token drives it daily (IDENT-023)
        for d in range(1, 20):
            add(None, "positives", d + 0.3, "third_party_app_jira_api_request", personas["robot"], auth="api-token")

    def plant_jira(self, log: EventLog, site_ref: str, personas: dict[str, Account], admin_group: str) -> None:
        org, now = self.org, self.org.clock
        base = 10_000 + log.count + 1_000

        def add(check: str | None, kind: str, days_ago: float, summary: str, category: str, obj: dict,
                changed: list | None = None, actor: Account | None = None, associated: list | None = None) -> None:
            event_id = str(base + len(log.extras))
            who = actor or personas["reader"]
            t = now - timedelta(days=days_ago)
            log.add(AuditEvent(event_id, t, t, summary, who.account_id,
                               {"category": category, "objectItem": obj, "changedValues": changed or [],
                                "associatedItems": associated or [], "remoteAddress": "10.1.2.3", "eventSource": ""}))
            if check:
                plant(org, check, kind, f"event:jira:{site_ref}:{event_id}", summary)

        new_admin = personas["new_admin"]
        add("AUDIT-J01", "positives", 2, "User added to group", "group management",
            {"name": admin_group, "typeName": "GROUP"},
            associated=[{"id": new_admin.account_id, "name": new_admin.name, "typeName": "USER"}])
        add("AUDIT-J01", "negatives", 2.2, "User added to group", "group management",
            {"name": self.plain_group[1], "typeName": "GROUP"})
        add("AUDIT-J02", "positives", 3, "Global permission added", "permissions",
            {"name": "Browse users and groups", "typeName": "GLOBAL_PERMISSION"},
            [{"fieldName": "Group", "changedFrom": None, "changedTo": "Anyone"}])
        add("AUDIT-J03", "positives", 4, "Permission scheme updated", "permissions",
            {"id": "10003", "name": "Open source projects", "typeName": "SCHEME"},
            [{"fieldName": "Browse Projects", "changedFrom": None, "changedTo": "Anyone"}])
        add("AUDIT-J03", "negatives", 4.1, "Permission scheme created", "permissions",
            {"id": "10099", "name": "New scheme", "typeName": "SCHEME"})
        add("AUDIT-J04", "positives", 5, "Project roles changed", "projects", {"name": "Administrators", "typeName": "PROJECT_ROLE"})
        add("AUDIT-J05", "positives", 6, "User created", "user management", {"name": "new.user", "typeName": "USER"})
        add("AUDIT-J06", "positives", 6.5, "User's password changed", "user management", {"name": "admin", "typeName": "USER"})
        add("AUDIT-J07", "positives", 7, "Customer permissions changed", "permissions",
            {"name": "Help Center", "typeName": "PROJECT"},
            [{"fieldName": "Customer access", "changedFrom": "Only customers added", "changedTo": "Anyone can send requests"}])
        add("AUDIT-J07", "negatives", 7.2, "Customer permissions changed", "permissions",
            {"name": "Help Center", "typeName": "PROJECT"},
            [{"fieldName": "Customer access", "changedFrom": "Anyone can send requests", "changedTo": "Only customers added"}])
        if org.config.get("profile") == "hardened":
            # the hardened site closed the portal again the next day: its admin attests "restricted" (POSTURE-028)
            add("AUDIT-J07", "negatives", 6, "Customer permissions changed", "permissions",
                {"name": "Help Center", "typeName": "PROJECT"},
                [{"fieldName": "Customer access", "changedFrom": "Anyone can send requests",
                  "changedTo": "Only customers added"}])
        add("AUDIT-J08", "positives", 8, "Issue Security scheme deleted", "permissions", {"name": "Secret", "typeName": "SCHEME"})
        add("AUDIT-J09", "positives", 9, "Project deleted", "projects", {"name": "Old Sandbox", "typeName": "PROJECT"})

    def plant_confluence(self, log: EventLog, site_ref: str, personas: dict[str, Account], admin_group: str) -> None:
        org, now = self.org, self.org.clock

        def add(check: str | None, kind: str, days_ago: float, summary: str, category: str, obj: dict,
                changed: list | None = None) -> None:
            event_id = f"p{len(log.extras)}"
            t = now - timedelta(days=days_ago)
            log.add(AuditEvent(event_id, t, t, summary, personas["reader"].account_id,
                               {"category": category, "affectedObject": obj, "changedValues": changed or [],
                                "associatedObjects": [], "remoteAddress": "10.1.2.4", "description": "",
                                "sysAdmin": True, "superAdmin": False}))
            if check:
                plant(org, check, kind, f"event:confluence:{site_ref}:{to_ms(t)}:{summary}", summary)

        add("AUDIT-C01", "positives", 2, "Space permission added", "Permissions", {"name": "Public Handbook", "objectType": "Space"},
            [{"name": "Anonymous", "oldValue": "", "newValue": "View"}])
        add("AUDIT-C01", "negatives", 2.1, "Space permission added", "Permissions", {"name": "Finance", "objectType": "Space"},
            [{"name": self.plain_group[1], "oldValue": "", "newValue": "View"}])
        add("AUDIT-C02", "positives", 3, "Global permission added", "Permissions", {"name": "Anonymous", "objectType": "Global"},
            [{"name": "Anonymous", "oldValue": "", "newValue": "Can use"}])
        add("AUDIT-C03", "positives", 4, "Public links enabled", "Global administration", {"name": "Public links", "objectType": "Setting"})
        add("AUDIT-C04", "positives", 5, "User added to group", "Users and groups", {"name": admin_group, "objectType": "Group"})
        add("AUDIT-C05", "positives", 6, "Space exported", "Spaces", {"name": "Finance", "objectType": "Space"})
        add("AUDIT-C06", "positives", 7, "Page viewed with admin key", "Pages", {"name": "Salaries 2026", "objectType": "Page"})

    def plant_dc(self, log: EventLog, instance: str, admin_user: str, admin_group: str, product: str = "jira") -> None:
        """The same three records on Jira and Confluence DC, tagged with that product's detection ids."""
        org, now = self.org, self.org.clock
        to_admins, global_permission = ("AUDIT-J01", "AUDIT-J02") if product == "jira" else ("AUDIT-C04", "AUDIT-C02")
        for n, (check, action, category, target, kind) in enumerate((
            (to_admins, "User added to group", "User management", admin_group, "positives"),
            (to_admins, "User added to group", "User management", "team-3", "negatives"),
            (global_permission, "Global permission added", "Permissions", "Browse users and groups", "positives"),
        )):
            event_id = str(log.count + 100 + n)
            t = now - timedelta(days=2 + n)
            log.add(AuditEvent(event_id, t, t, action, admin_user,
                               {"category": category, "affectedObjects": [{"name": target, "type": "GROUP"}],
                                "changedValues": [], "source": "10.9.9.9"}))
            plant(org, check, kind, f"event:dc:{instance}:{event_id}", action)

    def plant_app_traffic(self, burst: bool) -> None:
        """Steady API requests of every user-installed Cloud app while it is enabled, one every five days over the
        last 90 days (so only apps disabled long ago look idle), plus, when `burst`, 30 requests within one hour
        by one app (AUDIT-011). Actor: the app's bot account. A disabled app also gets its "App disable success"
        event, by the account that installed it."""
        org, log, now = self.org, self.org.events, self.org.clock
        bots = {a.account_id: a for a in org.accounts if a.account_type == "app"}
        installers = {a.account_id: a for a in org.accounts}
        serial = iter(range(1, 1_000_000))

        def request(site: Site, product: str, app: InstalledApp, t: datetime) -> AuditEvent:
            event_id = f"apptraffic-{next(serial):06d}"
            log.add(self.org_event(event_id, t, f"third_party_app_{product}_api_request", bots.get(app.bot_account_id),
                                   auth="connect-token" if app.framework == "connect" else "auth-token-for-2LO",
                                   product=product, site=site, app={"key": app.key, "name": app.name}))
            return event_id

        for site in org.sites:
            for product in ("jira", "confluence"):
                for app in getattr(site, f"{product}_apps"):
                    if not app.user_installed:
                        continue
                    stop = now if app.enabled or app.disabled_at is None else app.disabled_at
                    if (not app.enabled and app.disabled_at is not None
                            and to_ms(app.disabled_at) >= log.start_ms):
                        # the org log records who disabled the app and when (what dates PLUGIN-015);
                        # a disable before the log's retention window is not in it
                        log.add(self.org_event(f"appdisable-{next(serial):06d}", app.disabled_at, "app_disabled",
                                               installers.get(app.installed_by), product=product, site=site,
                                               context=[app_ref(app.key, product)]))
                    offset = (stable_hash(self.seed_key, site.name, product, app.key) % 86_400) / 86_400
                    for k in range(18):
                        t = (now - timedelta(days=1 + offset + 5 * k)).replace(microsecond=0)
                        if app.installed_at < t < stop:
                            request(site, product, app, t)
        if burst:
            site = org.sites[0]
            app = next(a for a in site.jira_apps if a.scopes and "ACT_AS_USER" in a.scopes)
            start = (now - timedelta(days=0.7)).replace(minute=0, second=0, microsecond=0)
            for i in range(30):
                event_id = request(site, "jira", app, start + timedelta(seconds=17 + 100 * i))
                plant(org, "AUDIT-011", "positives", f"event:org:{event_id}", "30 API requests by one app in an hour")


def app_ref(app_key: str, product: str) -> dict:
    return {"id": app_key, "type": "apps", "attributes": {"product": product}}


def user_ref(account: Account) -> dict:
    return {"id": account.account_id, "type": "users", "attributes": {"name": account.name}}


def group_ref(group_id: str, name: str) -> dict:
    return {"id": group_id, "type": "groups", "attributes": {"name": name}}
