"""Installed apps per site and product: Atlassian system apps and third-party Connect/Forge apps."""

from __future__ import annotations

from atlassian_simulator.generator.common import WORDS, Rng, days, stable_hash
from atlassian_simulator.generator.identity import plant
from atlassian_simulator.model import Account, InstalledApp, MarketplaceListing, Organization

SYSTEM_APPS = [
    ("com.atlassian.jira.plugin.system.issuetabpanels", "Issue Tab Panels Plugin"),
    ("com.atlassian.upm.atlassian-universal-plugin-manager-plugin", "Atlassian Universal Plugin Manager Plugin"),
    ("com.atlassian.analytics.client", "Atlassian Analytics"),
    ("com.atlassian.jira.jira-software-plugin", "Jira Software"),
]
# (key stem, name, vendor, framework, scopes, planted-as)
# Marketplace facts per planted app: (listed, fortified, bounty, top vendor, personal data, days since release)
PLANTED_LISTINGS = {
    "admin-sync": (True, False, False, False, True, 500),
    "impersonator": (True, True, True, True, False, 30),
    "project-tuner": (False, False, False, False, False, 0),
    "cleanup": (True, False, True, False, False, 200),
    "mailer": (True, True, False, True, True, 60),
    "charts": (True, True, True, True, False, 20),
    "dormant-widget": (True, False, False, False, False, 800),
}
PLANTED_APPS = [
    ("admin-sync", "Admin Sync Pro", "Syncly Ltd", "connect", ["READ", "WRITE", "ADMIN"], "PLUGIN-001"),
    ("impersonator", "Timesheet Autopilot", "Hours Inc", "connect", ["READ", "WRITE", "ACT_AS_USER"], "PLUGIN-002"),
    ("project-tuner", "Project Tuner", "Tuning GmbH", "connect", ["READ", "PROJECT_ADMIN"], "PLUGIN-003"),
    ("cleanup", "Bulk Cleanup", "Sweep Labs", "connect", ["READ", "WRITE", "DELETE"], "PLUGIN-004"),
    ("mailer", "Mail Digest", "Postbox", "connect", ["READ", "ACCESS_EMAIL_ADDRESSES"], "PLUGIN-005"),
    ("charts", "Forge Charts", "Chartly", "forge", ["read:jira-work"], "negative"),
    ("dormant-widget", "Retired Widget", "Widgetry", "connect", ["READ"], "PLUGIN-015"),
]
THIRD_PARTY_SCOPES = [["READ"], ["READ", "WRITE"], ["read:jira-work", "write:jira-work"], ["read:confluence-content.all"]]


def build_apps(org: Organization, rng: Rng, product: str, count: int, site_ref: str, site_name: str,
               installers: list[str], exposed: bool, new_bot) -> list[InstalledApp]:
    """`new_bot(name) -> Account` creates the app's bot account (Cloud) or returns None (DC)."""
    now = org.clock
    apps: list[InstalledApp] = []
    for key, name in SYSTEM_APPS:
        apps.append(InstalledApp(key if product == "jira" else key.replace("jira", "confluence"), name, "1.0.0",
                                 "Atlassian", True, "system", True, False, [],
                                 (now - days(900)).replace(microsecond=0), None))
    planted = PLANTED_APPS if exposed else [a for a in PLANTED_APPS if a[-1] in ("negative", "PLUGIN-005")]
    for stem, name, vendor, framework, scopes, as_check in planted:
        key = f"com.{vendor.split()[0].lower()}.{stem}.{product}"
        app = InstalledApp(key, name, f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}", vendor, False,
                           framework, enabled=as_check != "PLUGIN-015", user_installed=True, scopes=list(scopes),
                           installed_at=(now - days(rng.uniform(40, 700))).replace(microsecond=0),
                           installed_by=rng.choice(installers))
        if as_check == "PLUGIN-015":
            app.disabled_at = (now - days(45)).replace(microsecond=0)
        listed, fortified, bounty, top, personal, age = PLANTED_LISTINGS[stem]
        if listed:
            app.listing = MarketplaceListing(vendor_id(app.vendor), fortified, bounty, top, personal,
                                             (now - days(age)).replace(microsecond=0), framework == "forge",
                                             framework == "forge")
        apps.append(app)
        resource = f"app:{site_ref}:{product}:{key}"
        if as_check == "negative":
            for check in ("PLUGIN-001", "PLUGIN-002", "PLUGIN-006"):
                plant(org, check, "negatives", resource, "Forge app with read scope only")
        else:
            plant(org, as_check, "positives", resource, f"planted {as_check}")
    for n in range(count):
        word = WORDS[(n * 7) % len(WORDS)]
        forge = rng.chance(0.45)
        key = f"{'io.forge' if forge else 'com.vendor'}{n}.{word}-{product}"
        listed = Rng("app", key)  # what an app *is* depends on its key only, whichever org installed it
        app = InstalledApp(
            key=key,
            name=f"{word.title()} {listed.choice(('Reports', 'Sync', 'Charts', 'Automation', 'Tables', 'Exporter'))}",
            version=f"{listed.randint(1, 12)}.{listed.randint(0, 30)}.{listed.randint(0, 9)}",
            vendor=f"{listed.choice(WORDS).title()} {listed.choice(('Software', 'Labs', 'Apps', 'Solutions'))}",
            vendor_is_atlassian=False,
            framework="forge" if forge else "connect",
            enabled=rng.chance(0.93),
            user_installed=True,
            scopes=list(listed.choice(THIRD_PARTY_SCOPES)),
            installed_at=(now - days(rng.uniform(8, 1500))).replace(microsecond=0),
            installed_by=rng.choice(installers),
        )
        if not app.enabled:
            app.disabled_at = (now - days(rng.uniform(1, 200))).replace(microsecond=0)
        app.listing = random_listing(app, now)
        apps.append(app)
    for app in apps:
        if app.user_installed:
            bot: Account | None = new_bot(app)
            app.bot_account_id = bot.account_id if bot else None
    return apps


def vendor_id(vendor: str) -> int:
    return 1000 + stable_hash("vendor", vendor) % 99_000


def random_listing(app: InstalledApp, now) -> MarketplaceListing | None:
    """Marketplace facts belong to the app key, not to the org: the same key gets the same listing."""
    rng = Rng("marketplace", app.key)
    if not rng.chance(0.92):
        return None  # a private or custom app: no public listing
    forge = app.framework == "forge"
    return MarketplaceListing(
        vendor_id=vendor_id(app.vendor), cloud_fortified=rng.chance(0.5), bug_bounty=rng.chance(0.5),
        top_vendor=rng.chance(0.4), stores_personal_data=rng.chance(0.3),
        last_release=(now - days(rng.choice((rng.uniform(5, 300), rng.uniform(5, 900))))).replace(microsecond=0),
        has_forge_version=forge or rng.chance(0.3), runs_on_atlassian=forge and rng.chance(0.5))
