"""Time travel: advance an organization's clock and apply the changes a real org would see.

Each step (deterministic from the org's seed and the clock) adds audit events in the new
interval, some *late* ones (their time is before the previous clock but they become
visible only now, as Atlassian's logs do), creates and deactivates accounts, changes
memberships and permission grants, and installs and removes apps. The ground truth is
recomputed from the state, so it follows automatically.
"""

from __future__ import annotations

from datetime import timedelta

from atlassian_simulator.generator.audit import AuditBuilder, app_ref, group_ref, user_ref
from atlassian_simulator.generator.common import Rng
from atlassian_simulator.generator.identity import site_group_names
from atlassian_simulator.lazy import AuditEvent
from atlassian_simulator.model import Account, Grant, InstalledApp, Organization, ProductAccess


def advance(org: Organization, days: float = 1.0) -> dict:
    """Move the clock forward by `days` and apply one step of changes; returns what changed."""
    previous = org.clock
    org.clock = previous + timedelta(days=days)
    rng = Rng(org.seed, org.config.get("index", 0), "travel", org.clock.isoformat())
    audit = AuditBuilder(org, f"{org.seed}:{org.config.get('index', 0)}:travel:{org.clock.isoformat()}")
    changes: dict = {"from": previous.isoformat(), "to": org.clock.isoformat(), "events": {}, "late_events": {},
                     "accounts_created": [], "accounts_deactivated": [], "memberships_added": [],
                     "memberships_removed": [], "grants_added": [], "grants_removed": [], "apps_installed": [],
                     "apps_removed": []}
    active = [a for a in org.accounts if a.account_type == "atlassian" and a.account_status == "active"
              and a.membership_status == "active"]
    by_name = {g.name: g for g in org.groups}
    step = (org.clock - previous) / 10

    def moment(i: int):
        return previous + step * (i + 0.5)

    if not org.sites:  # Data Center only (topology.py): only the instances change
        dc_events(org, changes, moment)
        return changes
    site = org.sites[0]
    g0 = site_group_names(site, True)

    # --- accounts and memberships -----------------------------------------------------------
    newcomer = Account(account_id=rng.account_id(), account_type="atlassian", name=f"New Hire {org.clock:%m%d}",
                       email=f"new.hire.{org.clock:%Y%m%d}@{org.domains[0].name}", account_status="active",
                       membership_status="active", claim_status="managed", mfa_enabled=False, email_verified=True,
                       management_source="invited", directory_id=org.directories[0].directory_id,
                       added_to_org=moment(1).replace(microsecond=0))
    org.accounts.append(newcomer)
    for name in (g0["jira_users"], g0["confluence_users"]):
        org.memberships[by_name[name].group_id].append(newcomer.account_id)
    changes["accounts_created"].append(newcomer.account_id)

    leaver = rng.choice([a for a in active if not a.platform_roles and a.email and "reader" not in a.email])
    leaver.account_status = "inactive"
    leaver.membership_status = "suspended"
    changes["accounts_deactivated"].append(leaver.account_id)

    promoted = rng.choice([a for a in active if not a.platform_roles and a.account_id != leaver.account_id
                           and a.claim_status == "managed"])
    admins = by_name[g0["jira_admins"]]
    if promoted.account_id not in org.memberships[admins.group_id]:  # Atlassian never lists a member twice
        org.memberships[admins.group_id].append(promoted.account_id)
        changes["memberships_added"].append({"group": admins.name, "account": promoted.account_id})
    teams = [g for g in org.groups if g.name.startswith(("team-", "okta-")) and org.memberships[g.group_id]]
    team = rng.choice(teams) if teams else by_name[g0["confluence_users"]]
    removed = org.memberships[team.group_id].pop(rng.randrange(len(org.memberships[team.group_id])))
    changes["memberships_removed"].append({"group": team.name, "account": removed})

    refresh_product_access(org)

    # --- grants -------------------------------------------------------------------------------
    schemes = {s.name: s for s in site.jira.schemes}
    internal = schemes.get("Internal projects") if site.plan != "free" else None  # Free cannot grant Anyone
    if internal and not any(g.permission == "BROWSE_PROJECTS" and g.holder_type == "anyone" for g in internal.grants):
        grant = Grant(max((g.grant_id for s in site.jira.schemes for g in s.grants), default=10_000) + 1,
                      "BROWSE_PROJECTS", "anyone")
        internal.grants.append(grant)
        changes["grants_added"].append({"scheme": internal.scheme_id, "permission": grant.permission, "holder": "anyone"})
    public = schemes.get("Open source projects")
    if public:
        before = len(public.grants)
        public.grants = [g for g in public.grants if not (g.permission == "ADD_COMMENTS" and g.holder_type == "anyone")]
        if len(public.grants) < before:
            changes["grants_removed"].append({"scheme": public.scheme_id, "permission": "ADD_COMMENTS", "holder": "anyone"})

    # --- apps -----------------------------------------------------------------------------------
    installer = next((a for a in org.accounts if a.platform_roles), active[0])
    key = f"com.newvendor.app{org.clock:%Y%m%d%H}.jira"
    bot = Account(account_id=rng.account_id(), account_type="app", name=f"App {org.clock:%m%d}", email=None,
                  account_status="active", membership_status="active", claim_status="unmanaged", mfa_enabled=False,
                  email_verified=True, management_source="invited", directory_id=org.directories[0].directory_id,
                  added_to_org=moment(2).replace(microsecond=0), app_key=key)
    org.accounts.append(bot)
    app = InstalledApp(key, f"Fresh App {org.clock:%m%d}", "1.0.0", "New Vendor", False, "connect", True, True,
                       ["READ", "WRITE"], moment(2).replace(microsecond=0), installer.account_id,
                       bot_account_id=bot.account_id)
    if "jira" in site.products:
        site.jira_apps.append(app)
        changes["apps_installed"].append(f"app:{site.name}:jira:{key}")
    removable = [a for a in site.jira_apps if a.user_installed and a.key != key and not a.enabled] or \
                [a for a in site.jira_apps if a.user_installed and a.key != key]
    if removable:
        gone = removable[0]
        site.jira_apps.remove(gone)
        changes["apps_removed"].append(f"app:{site.name}:jira:{gone.key}")

    # --- audit events -----------------------------------------------------------------------------
    serial = f"{org.clock:%Y%m%d%H%M}"
    if org.events is not None:
        events = [
            audit.org_event(f"tt-{serial}-1", moment(1), "user_added_to_group", installer,
                            context=[group_ref(admins.group_id, admins.name), user_ref(promoted)]),
            audit.org_event(f"tt-{serial}-2", moment(2), "app_installed", installer,
                            context=[app_ref(key, "jira")], product="jira", site=site),
            audit.org_event(f"tt-{serial}-3", moment(3), "account_deactivated", installer, context=[user_ref(leaver)]),
        ] + [audit.org_event(f"tt-{serial}-l{i}", moment(4 + i), "user_logged_in", rng.choice(active))
             for i in range(5)]
        late = audit.org_event(f"tt-{serial}-late", previous - timedelta(hours=3), "user_logged_in", rng.choice(active),
                               processed_at=moment(6))
        for event in events + [late]:
            org.events.add(event)
        changes["events"]["org"] = len(events) + 1
        changes["late_events"]["org"] = [late.event_id]
    for s in org.sites:
        log = s.jira.audit
        if log is None:  # a site without Jira (topology.py)
            continue
        base_id = 10_000 + log.count + 5_000 + len(log.extras)
        records = [
            ("User added to group", "group management", {"id": admins.group_id, "name": admins.name, "typeName": "GROUP"},
             [{"id": promoted.account_id, "name": promoted.name, "typeName": "USER"}], moment(1)),
            ("Permission scheme updated", "permissions", {"id": "10000", "name": "Internal projects", "typeName": "SCHEME"},
             [], moment(3)),
            ("Workflow updated", "workflows", {"id": "10001", "name": "Software workflow", "typeName": "WORKFLOW"}, [], moment(5)),
            ("Version released", "projects", {"id": "10002", "name": "v2", "typeName": "VERSION"}, [],
             previous - timedelta(hours=2)),  # late: happened before the last load, visible only now
        ]
        for n, (summary, category, obj, associated, when) in enumerate(records):
            changed = [{"fieldName": "Browse Projects", "changedFrom": None, "changedTo": "Anyone"}] \
                if summary == "Permission scheme updated" else []
            log.add(AuditEvent(str(base_id + n), when, max(when, moment(6)), summary, installer.account_id,
                               {"category": category, "objectItem": obj, "changedValues": changed,
                                "associatedItems": associated, "remoteAddress": "10.7.7.7", "eventSource": ""}))
        changes["events"][f"jira:{s.name}"] = len(records)
        changes["late_events"][f"jira:{s.name}"] = [str(base_id + 3)]
    for s in org.sites:
        clog = s.confluence.audit
        if clog is None:  # a site without Confluence
            continue
        for n, (summary, when) in enumerate((("Space created", moment(2)), ("Space logo updated", previous - timedelta(hours=1)))):
            clog.add(AuditEvent(f"tt{serial}{n}", when, max(when, moment(7)), summary, installer.account_id,
                                {"category": "Spaces", "affectedObject": {"name": f"Space {serial}", "objectType": "Space"},
                                 "changedValues": [], "associatedObjects": [], "remoteAddress": "10.7.7.8",
                                 "description": "", "sysAdmin": False, "superAdmin": False}))
        changes["events"][f"confluence:{s.name}"] = 2
    dc_events(org, changes, moment)
    return changes


def dc_events(org: Organization, changes: dict, moment) -> None:
    for instance in org.dc:
        log = instance.audit
        event_id = str(log.count + 1_000 + len(log.extras))
        log.add(AuditEvent(event_id, moment(4), moment(4), "User logged in", "admin",
                           {"category": "Security", "affectedObjects": [{"name": "admin", "type": "USER"}],
                            "changedValues": [], "source": "10.9.9.9"}))
        changes["events"][f"dc:{instance.name}"] = 1


def refresh_product_access(org: Organization) -> None:
    """Product access follows the product-access groups; keep last-active dates of access that stays."""
    by_name = {g.name: g for g in org.groups}
    held: dict[str, set[tuple[str, str]]] = {}
    for i, site in enumerate(org.sites):
        g = site_group_names(site, i == 0)
        for product, groups in (("jira-software", ("jira_users", "jira_admins", "site_admins")),
                                ("confluence", ("confluence_users", "confluence_admins", "site_admins"))):
            if product.removesuffix("-software") not in site.products:
                continue
            for key in groups:
                for account_id in org.memberships[by_name[g[key]].group_id]:
                    held.setdefault(account_id, set()).add((product, site.name))
    for account in org.accounts:
        keys = held.get(account.account_id, set())
        kept = [p for p in account.product_access if (p.product_key, p.site_name) in keys]
        have = {(p.product_key, p.site_name) for p in kept}
        kept += [ProductAccess(product, site_name, None) for product, site_name in sorted(keys - have)]
        account.product_access = sorted(kept, key=lambda p: (p.site_name, p.product_key))
