"""Time travel: advance an organization's clock and apply the changes a real org would see.

Each step (deterministic from the org's seed and the clock) adds audit events in the new
interval, some *late* ones (their time is before the previous clock but they become
visible only now, as Atlassian's logs do), creates and deactivates accounts, changes
memberships, permission grants and a space permission, installs and removes apps, and adds a
member to a Data Center group. Every applied change writes the record Atlassian writes for it
(org events for directory and app changes, Jira audit records for group and scheme changes,
Confluence audit records for space permissions, Atlassian Audit events on Data Center), naming
the object it changed: change-driven runs (connector/changes.py) re-read what they name. The
ground truth is recomputed from the state, so it follows automatically.
"""

from __future__ import annotations

from datetime import timedelta

from atlassian_simulator.generator.audit import AuditBuilder, app_ref, group_ref, user_ref
from atlassian_simulator.generator.common import Rng
from atlassian_simulator.generator.identity import site_group_names
from atlassian_simulator.lazy import AuditEvent
from atlassian_simulator.model import Account, Grant, InstalledApp, Organization, ProductAccess, SpacePermission


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
    removed_account = next(a for a in org.accounts if a.account_id == removed)

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
    changed_schemes = [internal] if changes["grants_added"] else []
    if public:
        before = len(public.grants)
        public.grants = [g for g in public.grants if not (g.permission == "ADD_COMMENTS" and g.holder_type == "anyone")]
        if len(public.grants) < before:
            changes["grants_removed"].append({"scheme": public.scheme_id, "permission": "ADD_COMMENTS", "holder": "anyone"})
            changed_schemes.append(public)

    # --- a space permission (Confluence Cloud) ---------------------------------------------------
    space_change = None
    if "confluence" in site.products and site.confluence.spaces and teams:
        space = rng.choice([sp for sp in site.confluence.spaces if sp.status == "current"] or site.confluence.spaces)
        grantee = rng.choice(teams)
        if not any(p.principal_type == "group" and p.principal_id == grantee.group_id and p.operation == "read"
                   for p in space.permissions):
            space.permissions.append(SpacePermission(f"tt{org.clock:%Y%m%d%H}", "group", grantee.group_id, "read",
                                                     "space"))
            space_change = (space, grantee)
            changes["space_permissions_added"] = [{"space": space.key, "group": grantee.name, "operation": "read"}]

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
            audit.org_event(f"tt-{serial}-c", moment(1), "user_created", installer, context=[user_ref(newcomer)]),
            *(audit.org_event(f"tt-{serial}-c{i}", moment(1), "user_added_to_group", installer,
                              context=[group_ref(by_name[name].group_id, name), user_ref(newcomer)])
              for i, name in enumerate((g0["jira_users"], g0["confluence_users"]))),
            audit.org_event(f"tt-{serial}-r", moment(2), "user_removed_from_group", installer,
                            context=[group_ref(team.group_id, team.name), user_ref(removed_account)]),
            *(audit.org_event(f"tt-{serial}-u{i}", moment(3), "app_uninstalled", installer,
                              context=[app_ref(gone_key.rpartition(":")[2], "jira")], product="jira", site=site)
              for i, gone_key in enumerate(changes["apps_removed"])),
        ] + ([
            audit.org_event(f"tt-{serial}-1", moment(1), "user_added_to_group", installer,
                            context=[group_ref(admins.group_id, admins.name), user_ref(promoted)]),
        ] if changes["memberships_added"] else []) + [
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
        def member_record(summary, group, account, when):
            return (summary, "group management", {"id": group.group_id, "name": group.name, "typeName": "GROUP"},
                    [{"id": account.account_id, "name": account.name, "typeName": "USER"}], when)

        records = [
            ("User created", "user management",
             {"id": newcomer.account_id, "name": newcomer.name, "typeName": "USER"}, [], moment(1)),
            *(member_record("User added to group", by_name[name], newcomer, moment(1))
              for name in (g0["jira_users"], g0["confluence_users"])),
            member_record("User removed from group", team, removed_account, moment(2)),
            *([member_record("User added to group", admins, promoted, moment(1))]
              if changes["memberships_added"] else []),
            *(("Permission scheme updated", "permissions",
               {"id": str(scheme.scheme_id), "name": scheme.name, "typeName": "SCHEME"}, [], moment(3))
              for scheme in changed_schemes),
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
        changes["late_events"][f"jira:{s.name}"] = [str(base_id + len(records) - 1)]
    for s in org.sites:
        clog = s.confluence.audit
        if clog is None:  # a site without Confluence
            continue
        crecords = [("Space created", "Spaces", f"Space {serial}", [], moment(2)),
                    ("Space logo updated", "Spaces", f"Space {serial}", [], previous - timedelta(hours=1))]
        if space_change is not None and s is site:
            space, grantee = space_change
            crecords.append(("Space permission added", "Permissions", space.name,
                             [{"name": grantee.name, "objectType": "Group"}], moment(3)))
        for n, (summary, category, name, associated, when) in enumerate(crecords):
            clog.add(AuditEvent(f"tt{serial}{n}", when, max(when, moment(7)), summary, installer.account_id,
                                {"category": category, "affectedObject": {"name": name, "objectType": "Space"},
                                 "changedValues": [], "associatedObjects": associated, "remoteAddress": "10.7.7.8",
                                 "description": "", "sysAdmin": False, "superAdmin": False}))
        changes["events"][f"confluence:{s.name}"] = len(crecords)
    dc_events(org, changes, moment)
    return changes


def dc_events(org: Organization, changes: dict, moment) -> None:
    """A sign-in on every Data Center instance, and a user added to one of its groups (with its record)."""
    for instance in org.dc:
        log = instance.audit
        event_id = str(log.count + 1_000 + len(log.extras))
        log.add(AuditEvent(event_id, moment(4), moment(4), "User logged in", "admin",
                           {"category": "Security", "affectedObjects": [{"name": "admin", "type": "USER"}],
                            "changedValues": [], "source": "10.9.9.9"}))
        changes["events"][f"dc:{instance.name}"] = 1
        active = [u.username for u in instance.users if u.active and not u.deleted]
        for group in sorted(instance.groups):
            outside = [name for name in active if name not in instance.memberships.get(group, [])]
            if not outside or "admin" in group:
                continue
            username = outside[len(log.extras) % len(outside)]
            instance.memberships.setdefault(group, []).append(username)
            log.add(AuditEvent(str(int(event_id) + 1), moment(5), moment(5), "User added to group", "admin",
                               {"category": "User management",
                                "affectedObjects": [{"name": group, "type": "GROUP"}, {"name": username, "type": "USER"}],
                                "changedValues": [], "source": "10.9.9.9"}))
            changes["events"][f"dc:{instance.name}"] = 2
            changes.setdefault("dc_memberships_added", []).append({"instance": instance.name, "group": group,
                                                                   "user": username})
            break


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
