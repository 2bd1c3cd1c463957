"""Ground truth: the check catalog evaluated over a simulated organization.

    truth = ground_truth(org)                          # manual checks stay "manual"
    truth = ground_truth(org, attestation_for(org))    # what a truthful admin attests is evaluated too
    scores = identity_scores(org), plugin_scores(org)  # identity_risks / plugin_risks rows
    write_manifest(sim, "truth.json")                  # every org, attested, sorted keys

The oracle reads the simulator's in-memory state, never HTTP, and it does not trust the
planting: it evaluates every resource, so a bulk account that happens to be dormant is a
positive too. The dbt marts (posture_findings, identity_risks, plugin_risks and the tagged
audit events) must reproduce its `fails` exactly. Both implement the marts' rule book,
dbt_project/models/rule_book.md (dbt docs: `rule_book`): resource keys, topologies, visibility,
scope rules and the interpretation of each check where the catalog leaves room. The ids, titles,
weights and thresholds come from the product's check catalog (atlassian_posture.catalog).

Manifest of one org: `{"org_id", "clock", "attestation", "checks": {id: {"status", "fails",
"reason"[, "evidence"]}}, "identity_risks", "plugin_risks"}`. `status` is one of
  evaluated       the rule ran; `fails` lists the failing resources (sorted), `[]` means pass;
  manual          needs an admin-attested value no API returns, and none was given;
  not_evaluable   this org's plan does not provide the data (no Atlassian Guard: the policy,
                  auth-policy and org-events endpoints answer 403/404), or its topology's credentials
                  do not reach the check's inputs (topology.py; `_NEEDS` below: no org key, no Jira,
                  no Confluence, no Data Center, no audit log on Free, no app inventory with a scoped token);
  not_computable  needs data the simulator does not model or serve (org API keys: POSTURE-015;
                  DC audit coverage settings: AUDIT-DC; Marketplace signals only if the model
                  had no `InstalledApp.listing`).
`evidence` (org-level checks only) lists the accounts behind an org-level failure; it is a
debugging aid, not part of the comparison.

Oracle note: The lazy base of every audit log is benign by construction (generator/audit.py): no base
event is an input of any rule, which the tests check on samples. The oracle therefore only
reads each log's `extras`. The one exception is POSTURE-014, which only needs the newest
event's time (read from the lazy window, nothing scanned).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from atlassian_posture.catalog import load as load_catalog

from atlassian_simulator.generator.audit import ORG_ACTIONS
from atlassian_simulator.lazy import AuditEvent, EventLog, to_ms
from atlassian_simulator.model import (
    Account,
    ConfluenceSite,
    InstalledApp,
    JiraSite,
    Organization,
    PermissionScheme,
    Project,
    SpacePermission,
)
from atlassian_simulator.topology import Topology

# --- the catalog's numbers: read from the product's check catalog, the one source --------------

CATALOG = load_catalog()
THRESHOLDS: dict[str, float] = {k: v for k, v in CATALOG.threshold_values().items() if k != "audit_lookback_days"}
POSTURE_IDS = [c["id"] for c in CATALOG.family("posture")]
IDENT_IDS = [c["id"] for c in CATALOG.family("identity")]
PLUGIN_IDS = [c["id"] for c in CATALOG.family("plugin")]
AUDIT_IDS = [c["id"] for c in CATALOG.family("audit")]
CHECK_IDS = CATALOG.ids
# (weight, severity of the signal)
IDENT_WEIGHTS = CATALOG.weights("identity")
PLUGIN_WEIGHTS = CATALOG.weights("plugin")
MARKETPLACE_SIGNALS = ("PLUGIN-007", "PLUGIN-008", "PLUGIN-009", "PLUGIN-010", "PLUGIN-014", "PLUGIN-019")
# The simulator models the Marketplace listing of an app (`InstalledApp.listing`) once the model has the field.
MARKETPLACE_MODELLED = "listing" in getattr(InstalledApp, "__dataclass_fields__", {})

ORG_ADMIN_ROLES = ("org-admin", "site-admin", "user-access-admin")
PUBLIC_MAIL_DOMAINS = frozenset((
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "icloud.com",
    "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "mail.com", "yandex.com", "zoho.com",
))
ACCESS_CLASSES = ("anonymous-users", "authenticated-users", "all-licensed-users", "all-product-admins",
                  "jsm-project-admins")
EVERYONE_CLASSES = ("anonymous-users", "authenticated-users", "all-licensed-users")
CONTENT_TARGETS = ("page", "blogpost", "comment", "attachment")
BROWSE = "BROWSE_PROJECTS"
ADDONS_ROLE = "atlassian-addons-project-access"

# POSTURE-039 seed. Affected ranges [from, to) of critical advisories (S79), and end of support of
# feature versions (Atlassian supports a feature release for two years; month precision).
DC_ADVISORIES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("confluence", "CVE-2023-22515", [("8.0.0", "8.3.3"), ("8.4.0", "8.4.3"), ("8.5.0", "8.5.2")]),
    ("confluence", "CVE-2023-22518", [("0", "7.19.16"), ("8.0.0", "8.3.4"), ("8.4.0", "8.4.5"), ("8.5.0", "8.5.3"),
                                      ("8.6.0", "8.6.1")]),
    ("confluence", "CVE-2022-26134", [("1.3.0", "7.4.17"), ("7.5.0", "7.13.7"), ("7.14.0", "7.14.3"),
                                      ("7.15.0", "7.15.2"), ("7.16.0", "7.16.4"), ("7.17.0", "7.17.4"),
                                      ("7.18.0", "7.18.1")]),
    ("confluence", "CVE-2021-26084", [("0", "6.13.23"), ("6.14.0", "7.4.11"), ("7.5.0", "7.11.6"),
                                      ("7.12.0", "7.12.5")]),
]
DC_END_OF_SUPPORT: dict[tuple[str, str], str] = {
    ("jira", "9.4"): "2024-11-01", ("jira", "9.12"): "2025-11-01", ("jira", "10.3"): "2026-12-01",
    ("confluence", "7.19"): "2024-07-01", ("confluence", "8.5"): "2025-12-01", ("confluence", "9.2"): "2026-12-01",
}

_ROBOT_NAME = re.compile(r"^svc[-_.]|(^|[-_.\s])bot($|[-_.\s\d])")


# --- small helpers -----------------------------------------------------------------------------


def _role(name: str) -> str:
    return name.removeprefix("atlassian/")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3]) or (0,)


def _domain(email: str | None) -> str | None:
    return email.rsplit("@", 1)[1].lower() if email and "@" in email else None


def _local(email: str | None) -> str:
    return email.rsplit("@", 1)[0].lower() if email and "@" in email else ""


def _is_admin_group_name(name: str) -> bool:
    return name in ("administrators", "site-admins") or name.startswith(("site-admins-", "jira-admins-",
                                                                          "confluence-admins-"))


def _is_jira_admin_group_name(name: str) -> bool:
    return (name in ("administrators", "site-admins", "atlassian-addons-admin", "jira-administrators")
            or name.startswith(("site-admins-", "jira-admins-")))


def _is_confluence_admin_group_name(name: str) -> bool:
    return (name in ("administrators", "site-admins", "confluence-administrators")
            or name.startswith(("site-admins-", "confluence-admins-")))


def risk_level(score: int, critical_signal: bool) -> str:
    level = ("critical" if score >= 12 else "high" if score >= 8 else "medium" if score >= 4
             else "low" if score >= 1 else "none")
    if critical_signal and level in ("none", "low", "medium"):
        level = "high"
    return level


def _context(event: AuditEvent, kind: str) -> list[dict]:
    return [c for c in event.fields.get("context") or [] if c.get("type") == kind]


def _display(event: AuditEvent) -> tuple[str, str]:
    return ORG_ACTIONS.get(event.action, (event.action, ""))


def _auth_type(event: AuditEvent) -> str | None:
    return ((event.fields.get("actor") or {}).get("auth") or {}).get("authType")


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


# --- deployments: one shape for Cloud sites and DC instances -------------------------------------


@dataclass
class _Jira:
    ref: str  # site_ref
    kind: str  # cloud | dc
    jira: JiraSite
    members: Callable[[str], set[str]]  # group value (Cloud: id, DC: name) -> principal ids
    group_name: Callable[[str], str]
    cloud_id: str | None = None
    schemes: dict[int, PermissionScheme] = field(default_factory=dict)
    projects: list[Project] = field(default_factory=list)  # live only
    role_names: dict[str, str] = field(default_factory=dict)  # role id -> name
    anonymous_reach: bool = True  # grants to Anyone reach anonymous callers (not on Jira Cloud Free)

    def __post_init__(self):
        self.schemes = {s.scheme_id: s for s in self.jira.schemes}
        self.projects = [p for p in self.jira.projects if not p.archived]
        self.role_names = {str(r.role_id): r.name for r in self.jira.roles}

    def grants(self, project: Project):
        scheme = self.schemes.get(project.scheme_id)
        return scheme.grants if scheme else []

    def role_of(self, grant) -> str | None:
        return self.role_names.get(str(grant.value if grant.value is not None else grant.parameter))

    def anonymous_reached(self) -> tuple[set[str], set[str], set[str]]:
        """What an anonymous caller can list (project keys, filter ids, dashboard ids): the connector's probe
        sees exactly this, and whatever it reaches is exposed (POSTURE-016/020/021 corroboration)."""
        if not self.anonymous_reach:
            return set(), set(), set()

        def anyone(project: Project, permission: str) -> bool:
            return any(g.permission == permission and g.holder_type == "anyone" for g in self.grants(project))

        admin = "anyone" in self.jira.global_permissions.get("ADMINISTER", [])
        projects = {p.key for p in self.projects
                    if admin or anyone(p, "BROWSE_PROJECTS") or anyone(p, "ADMINISTER_PROJECTS")}
        browsable = {p.project_id for p in self.jira.projects if admin or anyone(p, "BROWSE_PROJECTS")}

        def shared(item) -> bool:
            return any(s.share_type == "global"
                       or (s.share_type in ("project", "projectRole") and s.target in browsable)
                       for s in item.share_permissions)

        # Jira DC has no filter search: an anonymous caller cannot list filters there (the probe does not try)
        filters = {f.filter_id for f in self.jira.filters if shared(f)} if self.kind == "cloud" else set()
        dashboards = {d.dashboard_id for d in self.jira.dashboards if getattr(d, "system", False) or shared(d)}
        return projects, filters, dashboards

    def admin_holder_groups(self) -> set[str]:
        """Group values holding global ADMINISTER (directly or through an application role)."""
        out: set[str] = set()
        for holder in self.jira.global_permissions.get("ADMINISTER", []):
            kind, _, value = holder.partition(":")
            if kind == "group":
                out.add(value)
            elif kind == "applicationRole":
                for role in self.jira.application_roles:
                    if role.key == value:
                        out.update(role.group_ids)
        return out


@dataclass
class _Confluence:
    ref: str
    kind: str
    confluence: ConfluenceSite
    members: Callable[[str], set[str]]
    group_name: Callable[[str], str]
    licensed: set[str]
    cloud_id: str | None = None


def _access_class(permission: SpacePermission) -> str | None:
    if permission.principal_type == "anonymous":
        return "anonymous-users"
    if permission.principal_type in ("role", "access_class", "ACCESS_CLASS") and permission.principal_id in ACCESS_CLASSES:
        return permission.principal_id
    return None


@dataclass
class _App:
    key: str  # resource key
    ref: str
    product: str
    app: InstalledApp
    cloud: bool


# --- topologies: what the connector's credentials can read ----------------------------------------


@dataclass(frozen=True)
class _Reach:
    """What the organization's topology (topology.py) gives the connector. Without one: everything."""

    org_api: bool = True  # an org API key: Admin API users, domains, tokens, policies, org audit log
    jira_sites: frozenset[str] = frozenset()  # Cloud sites whose Jira is read (a site token and the product)
    confluence_sites: frozenset[str] = frozenset()
    upm_sites: frozenset[str] = frozenset()  # sites read with a classic token: UPM lists their apps
    scoped_sites: frozenset[str] = frozenset()  # sites read with a scoped token: UPM unreachable
    no_audit_sites: frozenset[str] = frozenset()  # Free plan: the product audit logs answer 403

    @classmethod
    def of(cls, org: Organization) -> _Reach:
        value = org.config.get("topology")
        topology = Topology.from_dict(value) if value else Topology()
        sites = org.sites if topology.site_auth else []
        names = lambda product: frozenset(s.name for s in sites if product in s.products)  # noqa: E731
        return cls(
            org_api=topology.org_key,
            jira_sites=names("jira"),
            confluence_sites=names("confluence"),
            upm_sites=frozenset(s.name for s in sites if topology.site_auth == "classic"),
            scoped_sites=frozenset(s.name for s in sites if topology.site_auth == "scoped"),
            no_audit_sites=frozenset(s.name for s in org.sites if s.plan == "free"),
        )


# Which inputs each check needs; a tuple inside is "any of". A check whose inputs the topology does
# not reach is not_evaluable with the first missing input's reason, whatever it would have said.
_NEEDS: dict[str, tuple] = {
    **{f"POSTURE-{n:03d}": ("org_api",) for n in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 14)},
    # attested settings of a Cloud organization: the admin's word is the evidence, no API needed
    "POSTURE-007": ("cloud",), "POSTURE-012": ("cloud",), "POSTURE-013": ("cloud",),
    **{f"POSTURE-{n:03d}": ("jira",) for n in range(16, 28)},
    "POSTURE-028": ("jira_cloud",), "POSTURE-029": ("dc_jira",), "POSTURE-030": ("dc_jira",),
    **{f"POSTURE-{n:03d}": ("confluence",) for n in (31, 32, 33, 34, 36)},
    # 035 attested (without an org key no data-security policy is seen to guard the site); 037: guest /
    # unmanaged is org data
    "POSTURE-035": ("confluence_cloud",), "POSTURE-037": ("confluence_cloud", "org_api"),
    "POSTURE-038": ("dc_confluence",), "POSTURE-039": ("dc",), "POSTURE-040": ("org_api", "apps"),
    **{cid: ("org_api",) for cid in IDENT_IDS},
    # the name/e-mail heuristic needs only the accounts a Cloud product lists (the token clause needs the org log)
    "IDENT-023": (("org_api", "jira_cloud", "confluence_cloud"),),
    "IDENT-017": (("org_log", "jira_cloud_audit"),),
    "IDENT-020": (("jira", "confluence"),), "IDENT-021": ("jira",),
    "IDENT-022": ("org_api", ("jira_cloud", "confluence_cloud")),
    **{cid: ("apps",) for cid in PLUGIN_IDS},
    **{cid: ("apps", "cloud_apps") for cid in MARKETPLACE_SIGNALS},
    "PLUGIN-016": ("apps", "dc"), "PLUGIN-017": ("apps", "org_api"), "PLUGIN-018": ("apps", "org_api"),
    **{f"AUDIT-{n:03d}": ("org_api",) for n in range(1, 16)},
    "AUDIT-016": (("org_log", "confluence_audit"),),
    **{f"AUDIT-J{n:02d}": ("jira_audit",) for n in range(1, 10)},
    **{f"AUDIT-C{n:02d}": ("confluence_audit",) for n in range(1, 7)},
}
_MISSING = {
    "org_api": "no organization API key: the Admin API (accounts, domains, tokens, policies, org audit log) is not read",
    "cloud": "no Cloud organization or site: Data Center only",
    "jira": "no Jira site or Jira Data Center instance is read",
    "jira_cloud": "no Jira Cloud site is read",
    "confluence": "no Confluence site or Confluence Data Center instance is read",
    "confluence_cloud": "no Confluence Cloud site is read",
    "dc": "no Data Center instance is read",
    "dc_jira": "no Jira Data Center instance is read",
    "dc_confluence": "no Confluence Data Center instance is read",
    "org_log": "no org audit log (needs an org API key and Atlassian Guard)",
    "jira_audit": "no Jira audit log is read (none configured, or the Free plan answers 403)",
    "jira_cloud_audit": "no Jira Cloud audit log is read",
    "confluence_audit": "no Confluence audit log is read (none configured, or the Free plan answers 403)",
    "apps": "no complete app inventory: UPM needs a classic API token on every site (a scoped token cannot reach it), "
            "or no site or instance is read",
    "cloud_apps": "no Cloud app inventory is read (Marketplace signals are Cloud only)",
}


# --- the oracle --------------------------------------------------------------------------------


class _Oracle:
    def __init__(self, org: Organization, attestation: dict | None, thresholds: dict):
        unknown = set(thresholds) - set(THRESHOLDS) - {"allowed_countries", "sensitive_projects",
                                                       "sensitive_spaces", "data_residency_realm"}
        if unknown:
            raise TypeError(f"unknown thresholds: {sorted(unknown)}")
        self.reach = _Reach.of(org)
        if not self.reach.org_api:  # the org audit log is read through the org API key only
            org = replace(org, events=None)
        self.org = org
        self.now = org.clock
        self.att = attestation
        self.t = {**THRESHOLDS, **{k: v for k, v in thresholds.items() if k in THRESHOLDS}}
        config = org.config
        self.allowed_countries = set(thresholds.get("allowed_countries") or config.get("allowed_countries") or [])
        self.sensitive_projects = set(thresholds.get("sensitive_projects") or config.get("sensitive_projects") or [])
        self.residency_realm = thresholds.get("data_residency_realm", config.get("data_residency_realm"))
        self.org_key = f"org:{org.org_id}"
        self.checks: dict[str, dict] = {}
        self.signals: dict[str, set[str]] = defaultdict(set)  # IDENT id -> account ids (Cloud ids / DC usernames)
        self.app_signals: dict[str, set[str]] = defaultdict(set)  # PLUGIN id -> app resource keys

        self.accounts = {a.account_id: a for a in org.accounts}
        self.group_by_id = {g.group_id: g for g in org.groups}
        self.groups_of: dict[str, set[str]] = defaultdict(set)
        for group_id, members in org.memberships.items():
            for account_id in members:
                self.groups_of[account_id].add(group_id)
        self.verified = {d.name.lower() for d in org.domains if d.status == "verified"}
        self.tokens_of: dict[str, list] = defaultdict(list)
        for token in org.api_tokens:
            if token.status == "ALLOWED" and (token.expires_at is None or token.expires_at > self.now):
                self.tokens_of[token.account_id].append(token)

        self.jira: list[_Jira] = []
        self.confluence: list[_Confluence] = []
        org_members = lambda gid: set(org.memberships.get(gid, ()))  # noqa: E731
        org_group_name = lambda gid: self.group_by_id[gid].name if gid in self.group_by_id else gid  # noqa: E731
        for site in org.sites:  # only what the topology's credentials read (`_Reach`)
            if site.name in self.reach.jira_sites:
                self.jira.append(_Jira(site.name, "cloud", site.jira, org_members, org_group_name, site.cloud_id,
                                       anonymous_reach=site.plan != "free"))
            if site.name not in self.reach.confluence_sites:
                continue
            licensed = {a.account_id for a in org.accounts if self.has_access(a)
                        and any(p.product_key == "confluence" and p.site_name == site.name for p in a.product_access)}
            self.confluence.append(_Confluence(site.name, "cloud", site.confluence, org_members, org_group_name,
                                               licensed, site.cloud_id))
        for instance in org.dc:
            dc_members = (lambda inst: lambda name: set(inst.memberships.get(name, ())))(instance)
            if instance.jira is not None:
                self.jira.append(_Jira(f"dc:{instance.name}", "dc", instance.jira, dc_members, lambda n: n))
            if instance.confluence is not None:
                licensed = {u.username for u in instance.users if u.active and not u.deleted}
                self.confluence.append(_Confluence(f"dc:{instance.name}", "dc", instance.confluence, dc_members,
                                                   lambda n: n, licensed))

        self.admin_groups = self._admin_groups()
        self.org_admins_group = {g.group_id for g in org.groups if g.name == "org-admins"}
        self.apps = self._apps()
        self.privileged_ids = {a.account_id for a in org.accounts if self.privileged(a)}

    # --- account predicates ------------------------------------------------------------------

    @staticmethod
    def live(a: Account) -> bool:
        return a.account_status == "active" and a.membership_status == "active"

    def has_access(self, a: Account) -> bool:
        return self.live(a) and bool(a.product_access)

    def external(self, a: Account) -> bool:
        domain = _domain(a.email)
        return a.claim_status == "unmanaged" or (domain is not None and domain not in self.verified)

    @staticmethod
    def org_level_admin(a: Account) -> bool:
        return any(_role(r) in ORG_ADMIN_ROLES for r in a.platform_roles)

    def product_admin(self, a: Account) -> bool:
        return any(_role(r) == "admin" for r in a.platform_roles) or bool(self.groups_of[a.account_id] & self.admin_groups)

    def privileged(self, a: Account | None) -> bool:
        return a is not None and (self.org_level_admin(a) or self.product_admin(a))

    def idle_for(self, a: Account, days: float) -> bool:
        last = a.last_active
        return last is None or last < self.now - timedelta(days=days)

    def _admin_groups(self) -> set[str]:
        out = {g.group_id for g in self.org.groups if _is_admin_group_name(g.name)
               or any(_role(role) == "admin" for role, _ in g.role_assignments)}
        for dep in self.jira:
            if dep.kind == "cloud":
                out |= dep.admin_holder_groups()
        return out

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    # --- results -------------------------------------------------------------------------------

    def put(self, check_id: str, status: str, fails: Iterable[str] = (), reason: str = "",
            evidence: Iterable[str] | None = None) -> None:
        entry = {"status": status, "fails": sorted(set(fails)) if status == "evaluated" else [], "reason": reason}
        if evidence is not None and status == "evaluated":
            entry["evidence"] = sorted(set(evidence))
        self.checks[check_id] = entry

    def org_level(self, check_id: str, failing: bool, reason: str = "", evidence: Iterable[str] | None = None):
        self.put(check_id, "evaluated", [self.org_key] if failing else [], reason, evidence)

    def attested(self, key: str):
        return None if self.att is None else self.att.get(key)

    # --- run -----------------------------------------------------------------------------------

    def run(self) -> dict:
        self.sso = self._sso_members()
        self.org_checks()
        self.jira_checks()
        self.confluence_checks()
        self.dc_checks()
        self.events_pass()
        self.identity_checks()
        self.plugin_checks()
        self.posture_040()
        self.audit_dc()
        self.gate()
        missing = set(CHECK_IDS) - set(self.checks)
        assert not missing, f"checks not evaluated: {sorted(missing)}"
        return {
            "org_id": self.org.org_id,
            "clock": self.now.isoformat(),
            "checks": {cid: self.checks[cid] for cid in CHECK_IDS},
        }

    def capabilities(self) -> dict[str, bool]:
        r, jira, confluence = self.reach, self.jira, self.confluence
        logs = {label.split(":", 1)[0] + (":cloud" if ":dc:" not in label else ":dc") for label, *_ in self.logs()}
        return {
            "org_api": r.org_api, "cloud": bool(self.org.sites),
            "jira": bool(jira), "jira_cloud": any(d.kind == "cloud" for d in jira),
            "confluence": bool(confluence), "confluence_cloud": any(d.kind == "cloud" for d in confluence),
            "dc": bool(self.org.dc), "dc_jira": any(d.kind == "dc" for d in jira),
            "dc_confluence": any(d.kind == "dc" for d in confluence),
            "org_log": "org:cloud" in logs, "jira_audit": bool(logs & {"jira:cloud", "jira:dc"}),
            "jira_cloud_audit": "jira:cloud" in logs, "confluence_audit": bool(logs & {"confluence:cloud", "confluence:dc"}),
            "apps": not r.scoped_sites and bool(r.upm_sites or self.org.dc), "cloud_apps": bool(r.upm_sites),
        }

    def gate(self) -> None:
        """Checks whose inputs this topology cannot reach are not_evaluable, never pass or fail (see `_NEEDS`)."""
        have = self.capabilities()
        for cid, needs in _NEEDS.items():
            if self.checks[cid]["status"] == "not_computable":
                continue
            for need in needs:
                options = need if isinstance(need, tuple) else (need,)
                if not any(have[o] for o in options):
                    self.put(cid, "not_evaluable", reason=" and ".join(_MISSING[o] for o in options))
                    break

    # --- org administration ------------------------------------------------------------------

    def _sso_members(self) -> set[str] | None:
        """Account ids in an attested SSO-enforced policy; None when unknown (Guard, no attestation)."""
        if not self.org.guard:
            return set()
        policies = self.attested("auth_policies")
        if policies is None:
            return None
        sso = {pid for pid, p in policies.items() if p.get("sso_enforced")}
        return {a.account_id for a in self.org.accounts if a.auth_policy_id in sso}

    def org_checks(self) -> None:
        org, t = self.org, self.t
        guard_reason = "no Atlassian Guard: the endpoint answers 403/404"
        self.org_level("POSTURE-001", not any(d.status == "verified" for d in org.domains))

        live_domains = defaultdict(set)
        for a in org.accounts:
            if self.live(a) and _domain(a.email):
                live_domains[_domain(a.email)].add(a.account_id)
        self.put("POSTURE-002", "evaluated", [
            f"domain:{d.name}" for d in org.domains
            if d.status in ("unverified", "missing_token", "superseded", "deleted") and live_domains.get(d.name.lower())
        ])

        # POSTURE-003 and IDENT-003
        no_mfa = [a for a in org.accounts if a.claim_status == "managed" and self.live(a) and not a.mfa_enabled]
        admins_no_mfa = [a for a in org.accounts if self.org_level_admin(a) and not a.mfa_enabled]
        if self.sso is None:
            self.put("POSTURE-003", "manual", reason="policy SSO flags need an attestation (auth_policies)")
            self.put("POSTURE-004", "manual", reason="policy SSO flags need an attestation (auth_policies)")
            self.put("IDENT-003", "manual", reason="policy SSO flags need an attestation (auth_policies)")
        else:
            failing = [a for a in no_mfa if a.account_id not in self.sso]
            notes = (["escalated to critical: an org-level admin lacks 2SV"] if any(map(self.org_level_admin, failing))
                     else []) + ([] if org.guard else ["no Guard: no policy can enforce SSO"])
            self.org_level("POSTURE-003", bool(failing), "; ".join(notes),
                           evidence=[f"account:{a.account_id}" for a in failing])
            self.signals["IDENT-003"] = {a.account_id for a in admins_no_mfa if a.account_id not in self.sso}
            if org.guard:
                break_glass = set(self.attested("break_glass_policy_ids") or [])
                sizes = defaultdict(int)
                for a in org.accounts:
                    if a.auth_policy_id:
                        sizes[a.auth_policy_id] += 1
                exempt = {p for p in break_glass if sizes[p] <= t["break_glass_max_members"]}
                failing4 = [a for a in org.accounts if a.claim_status == "managed" and self.has_access(a)
                            and a.account_id not in self.sso and a.auth_policy_id not in exempt]
                self.org_level("POSTURE-004", bool(failing4), evidence=[f"account:{a.account_id}" for a in failing4])
            else:
                self.put("POSTURE-004", "not_evaluable", reason=guard_reason)

        # POSTURE-005 / 006 and the token signals
        lifetime = timedelta(days=t["token_max_lifetime_days"])
        long_lived, stale = set(), set()
        for account_id, tokens in self.tokens_of.items():
            for token in tokens:
                if token.expires_at is None or token.expires_at - token.created_at > lifetime:
                    long_lived.add(account_id)
                if ((token.last_active_at is None and token.created_at < self.ago(t["token_never_used_days"]))
                        or (token.last_active_at is not None and token.last_active_at < self.ago(t["token_unused_days"]))):
                    stale.add(account_id)
        self.org_level("POSTURE-005", bool(long_lived), evidence=[f"account:{i}" for i in long_lived])
        self.org_level("POSTURE-006", bool(stale), evidence=[f"account:{i}" for i in stale])
        self.signals["IDENT-010"] = long_lived
        self.signals["IDENT-011"] = stale
        self.signals["IDENT-013"] = {i for i, ts in self.tokens_of.items() if len(ts) >= t["token_sprawl"]}

        # POSTURE-007
        if not org.guard:
            self.put("POSTURE-007", "not_evaluable", reason=guard_reason)
        elif self.attested("external_user_api_token_access") is None:
            self.put("POSTURE-007", "manual", reason="external-user policy has no read API")
        else:
            self.org_level("POSTURE-007", self.attested("external_user_api_token_access") == "allow")

        # POSTURE-008 / 009 / 010
        if not org.guard:
            for cid in ("POSTURE-008", "POSTURE-009", "POSTURE-010"):
                self.put(cid, "not_evaluable", reason=guard_reason)
        else:
            product_aris = {f"ari:cloud:{p}::site/{s.cloud_id}" for s in org.sites for p in ("jira", "confluence")}
            allowlists = [p for p in org.policies if p.policy_type == "ip-allowlist" and p.status == "enabled"]
            self.org_level("POSTURE-008", not any(set(p.resources) & product_aris for p in allowlists))
            dsps = [p for p in org.policies if p.policy_type == "data-security" and p.status == "active"]
            unassigned = any(self._coverage(p) == "UNASSIGNED" for p in dsps)
            self.org_level("POSTURE-009", not dsps or unassigned)
            if not self.residency_realm:
                self.org_level("POSTURE-010", False, "no residency requirement configured")
            else:
                pinned = any(p.policy_type == "data-residency" and p.status == "enabled"
                             and self.residency_realm in (p.rule.get("in") or []) for p in org.policies)
                self.org_level("POSTURE-010", not pinned)

        # POSTURE-011
        org_admins = [a for a in org.accounts if any(_role(r) == "org-admin" for r in a.platform_roles)]
        live_admins = [a for a in org_admins if self.live(a)]
        unmanaged = [a for a in org_admins if a.claim_status != "managed"]
        self.org_level("POSTURE-011", len(live_admins) > t["org_admins_max"] or bool(unmanaged),
                       evidence=[f"account:{a.account_id}" for a in org_admins])

        # POSTURE-012 / 013
        approved = self.attested("approved_domains")
        if approved is None:
            self.put("POSTURE-012", "manual", reason="user access settings have no read API")
        else:
            self.org_level("POSTURE-012", any(not d.get("admin_approval_required")
                                              or d.get("domain", "").lower() in PUBLIC_MAIL_DOMAINS for d in approved))
        invites, links = self.attested("user_invites_open"), self.attested("invite_links_active")
        if invites is None or links is None:
            self.put("POSTURE-013", "manual", reason="site access settings have no read API")
        else:
            self.org_level("POSTURE-013", bool(invites) or bool(links))

        # POSTURE-014
        if not org.guard or org.events is None:
            self.org_level("POSTURE-014", True, "no Guard: the org audit log answers 403")
        else:
            window = org.events.window(self.now)
            newest = window[len(window) - 1].time if len(window) else None
            stale_log = newest is None or newest < self.now - timedelta(hours=t["org_log_fresh_hours"])
            self.org_level("POSTURE-014", stale_log)

        self.put("POSTURE-015", "not_computable", reason="the simulator models no org API keys")

        # POSTURE-028 / 035 (Cloud sites)
        jsm = self.attested("jsm_customer_access")
        if jsm is None:
            self.put("POSTURE-028", "manual", reason="JSM customer access has no read API")
        else:
            self.put("POSTURE-028", "evaluated", [
                f"site:{name}" for name, v in jsm.items() if any(s.name == name for s in org.sites)
                and ((v.get("open") and not v.get("business_reason")) or not v.get("help_center_login_required", True))
            ])
        public_links = self.attested("public_links_enabled")
        if public_links is None:
            self.put("POSTURE-035", "manual", reason="the public-links toggle has no read API")
        else:
            covered = set()
            if org.guard and self.reach.org_api:
                for p in org.policies:
                    if p.policy_type == "data-security" and p.status == "active":
                        covered.update(p.resources)
            self.put("POSTURE-035", "evaluated", [
                f"site:{s.name}" for s in org.sites if public_links.get(s.name)
                and f"ari:cloud:confluence::site/{s.cloud_id}" not in covered
            ])

    @staticmethod
    def _coverage(policy) -> str | None:
        return policy.rule.get("policyCoverageLevel") or (policy.rule.get("metadata") or {}).get("policyCoverageLevel")

    # --- Jira ----------------------------------------------------------------------------------

    def jira_checks(self) -> None:
        t = self.t
        fails: dict[str, set[str]] = defaultdict(set)
        sensitive = self.sensitive_projects
        addons_sites: set[str] = set()
        for dep in self.jira:
            anonymous_project = False
            for project in dep.projects:
                key = f"project:{dep.ref}:{project.key}"
                for g in dep.grants(project):
                    if g.holder_type == "anyone":
                        fails["POSTURE-016" if g.permission == BROWSE else "POSTURE-017"].add(key)
                        anonymous_project |= g.permission == BROWSE
                    if g.permission == BROWSE and g.holder_type == "applicationRole" and project.key in sensitive:
                        fails["POSTURE-022"].add(key)
                    if g.permission == "ADMINISTER_PROJECTS" and (
                            g.holder_type in ("anyone", "applicationRole")
                            or (g.holder_type == "group" and len(dep.members(g.value or g.parameter)) > t["broad_group_size"])):
                        fails["POSTURE-023"].add(key)
                    if g.holder_type == "user" and g.permission in (BROWSE, "ADMINISTER_PROJECTS", "DELETE_ISSUES"):
                        fails["POSTURE-024"].add(key)
                    if g.permission == BROWSE and g.holder_type in ("userCustomField", "groupCustomField", "reporter",
                                                                    "assignee"):
                        fails["POSTURE-025"].add(key)
                    if (g.permission == BROWSE and g.holder_type == "projectRole" and project.key in sensitive
                            and dep.role_of(g) == ADDONS_ROLE):
                        fails["POSTURE-026"].add(key)
                        if dep.kind == "cloud":
                            addons_sites.add(dep.ref)
            user_picker = "anyone" in dep.jira.global_permissions.get("USER_PICKER", [])
            public_filters = [f for f in dep.jira.filters if any(s.share_type == "global" for s in f.share_permissions)]
            fails["POSTURE-020"].update(f"filter:{dep.ref}:{f.filter_id}" for f in public_filters)
            fails["POSTURE-021"].update(f"dashboard:{dep.ref}:{d.dashboard_id}" for d in dep.jira.dashboards
                                        if any(s.share_type == "global" for s in d.share_permissions))
            reached_projects, reached_filters, reached_dashboards = dep.anonymous_reached()
            fails["POSTURE-016"].update(f"project:{dep.ref}:{k}" for k in reached_projects)
            fails["POSTURE-020"].update(f"filter:{dep.ref}:{i}" for i in reached_filters)
            fails["POSTURE-021"].update(f"dashboard:{dep.ref}:{i}" for i in reached_dashboards)
            if user_picker:
                fails["POSTURE-019"].add(f"site:{dep.ref}")
            if anonymous_project or public_filters or user_picker:
                fails["POSTURE-018"].add(f"site:{dep.ref}")
            if self._too_many_jira_admins(dep):
                fails["POSTURE-027"].add(f"site:{dep.ref}")
            self._jira_identity(dep)
        for cid in ("POSTURE-016", "POSTURE-017", "POSTURE-018", "POSTURE-019", "POSTURE-020", "POSTURE-021",
                    "POSTURE-022", "POSTURE-023", "POSTURE-024", "POSTURE-025", "POSTURE-026", "POSTURE-027"):
            self.put(cid, "evaluated", fails[cid])
        self.addons_sites = addons_sites

    def _too_many_jira_admins(self, dep: _Jira) -> bool:
        holders = dep.jira.global_permissions.get("ADMINISTER", [])
        if any(h == "anyone" for h in holders):
            return True
        groups = set(dep.admin_holder_groups())
        if dep.kind == "cloud":
            ari = f"ari:cloud:jira::site/{dep.cloud_id}"
            groups |= {g.group_id for g in self.org.groups
                       if any(_role(role) == "admin" and resource == ari for role, resource in g.role_assignments)}
        people: set[str] = set()
        for group in groups:
            people |= dep.members(group)
        if len(people) > self.t["jira_admins_max"]:
            return True
        if dep.kind == "cloud":
            for account_id in people:
                a = self.accounts.get(account_id)
                unmanaged = self.reach.org_api and a is not None and a.claim_status != "managed"
                if a is None or unmanaged or a.account_type != "atlassian" or not self.live(a):
                    return True
            return False
        instance = next(d for d in self.org.dc if f"dc:{d.name}" == dep.ref)
        users = {u.username: u for u in instance.users}
        return any(u not in users or not users[u].active or users[u].deleted for u in people)

    def _jira_identity(self, dep: _Jira) -> None:
        """IDENT-020/021/022 contributions of one Jira deployment."""
        admin_projects: dict[str, set[str]] = defaultdict(set)
        for project in dep.projects:
            grants = dep.grants(project)
            writer_roles = {str(g.value if g.value is not None else g.parameter) for g in grants
                            if g.holder_type == "projectRole" and g.permission in ("CREATE_ISSUES", "EDIT_ISSUES")}
            for g in grants:
                if g.holder_type == "user":
                    principal = g.value or g.parameter
                    self.signals["IDENT-020"].add(principal)
                    if g.permission in ("CREATE_ISSUES", "EDIT_ISSUES") and dep.kind == "cloud":
                        self._ident_022(principal)
            for role_id, actors in project.actors.items():
                for actor in actors:
                    if actor.actor_type != "user":
                        continue
                    self.signals["IDENT-020"].add(actor.actor_id)
                    if dep.role_names.get(str(role_id)) == "Administrators":
                        admin_projects[actor.actor_id].add(project.key)
                    if str(role_id) in writer_roles and dep.kind == "cloud":
                        self._ident_022(actor.actor_id)
        self.signals["IDENT-021"] |= {p for p, keys in admin_projects.items()
                                      if len(keys) > self.t["project_admin_projects"]}

    def _ident_022(self, account_id: str) -> None:
        a = self.accounts.get(account_id)
        if a is not None and (a.is_guest or a.claim_status == "unmanaged"):
            self.signals["IDENT-022"].add(account_id)

    # --- Confluence ----------------------------------------------------------------------------

    def confluence_checks(self) -> None:
        fails: dict[str, set[str]] = defaultdict(set)
        for dep in self.confluence:
            any_anonymous = False
            member_cache: dict[str, bool] = {}
            for space in dep.confluence.spaces:
                key = f"space:{dep.ref}:{space.key}"
                for p in space.permissions:
                    access_class = _access_class(p)
                    if access_class == "anonymous-users":
                        fails["POSTURE-031"].add(key)
                        any_anonymous = True
                        if p.operation in ("create", "update", "delete") and p.target_type in CONTENT_TARGETS:
                            fails["POSTURE-032"].add(key)
                    if (access_class == "authenticated-users" and dep.kind == "cloud"
                            and space.space_type != "knowledge_base"):
                        fails["POSTURE-034"].add(key)
                    if p.operation == "administer" and (access_class in EVERYONE_CLASSES or (
                            p.principal_type == "group" and self._everyone_group(dep, p.principal_id, member_cache))):
                        fails["POSTURE-036"].add(key)
                    if p.principal_type == "user":
                        self.signals["IDENT-020"].add(p.principal_id)
                        a = self.accounts.get(p.principal_id) if dep.kind == "cloud" else None
                        if a is not None and (a.is_guest or a.claim_status == "unmanaged"):
                            if p.operation in ("create", "update", "delete"):
                                fails["POSTURE-037"].add(key)
                            if p.operation in ("create", "update"):
                                self.signals["IDENT-022"].add(a.account_id)
            if dep.kind == "cloud" and dep.confluence.anonymous_access and any_anonymous:
                fails["POSTURE-033"].add(f"site:{dep.ref}")
            if dep.kind == "dc":
                instance = next(d for d in self.org.dc if f"dc:{d.name}" == dep.ref)
                if "USECONFLUENCE" in instance.anonymous_permissions:
                    fails["POSTURE-033"].add(f"site:{dep.ref}")
                if instance.unlicensed_permissions:
                    fails["POSTURE-034"].add(f"site:{dep.ref}")
                if instance.anonymous_permissions or any_anonymous:
                    fails["POSTURE-038"].add(f"site:{dep.ref}")
        for cid in ("POSTURE-031", "POSTURE-032", "POSTURE-033", "POSTURE-034", "POSTURE-036", "POSTURE-037",
                    "POSTURE-038"):
            self.put(cid, "evaluated", fails[cid])

    @staticmethod
    def _everyone_group(dep: _Confluence, group: str, cache: dict[str, bool]) -> bool:
        if group not in cache:
            cache[group] = bool(dep.licensed) and dep.licensed <= dep.members(group)
        return cache[group]

    # --- Data Center settings ------------------------------------------------------------------

    def dc_checks(self) -> None:
        mode, websudo, version = set(), set(), set()
        websudo_att = self.attested("dc_websudo_disabled")
        signup_att = self.attested("dc_jsm_public_signup") or {}
        for instance in self.org.dc:
            key = f"site:dc:{instance.name}"
            if instance.product == "jira" and instance.jira is not None:
                if instance.jira.application_properties.get("jira.mode") == "public" or signup_att.get(instance.name):
                    mode.add(key)
                if websudo_att is not None and websudo_att.get(instance.name):
                    websudo.add(key)
            if self._vulnerable(instance.product, instance.version):
                version.add(key)
        self.put("POSTURE-029", "evaluated", mode,
                 "" if self.attested("dc_jsm_public_signup") is not None else "JSM public signup not attested: jira.mode only")
        has_dc_jira = any(d.product == "jira" for d in self.org.dc)
        if websudo_att is None and has_dc_jira:
            self.put("POSTURE-030", "manual", reason="jira-config.properties is a host file")
        else:
            self.put("POSTURE-030", "evaluated", websudo)
        self.put("POSTURE-039", "evaluated", version)

    def _vulnerable(self, product: str, version: str) -> bool:
        v = _version(version)
        for prod, _cve, ranges in DC_ADVISORIES:
            if prod == product and any(_version(lo) <= v < _version(hi) for lo, hi in ranges):
                return True
        eos = DC_END_OF_SUPPORT.get((product, ".".join(str(x) for x in v[:2])))
        return eos is not None and datetime.fromisoformat(eos).replace(tzinfo=self.now.tzinfo) <= self.now

    # --- audit events --------------------------------------------------------------------------

    def visible(self, log: EventLog | None) -> list[AuditEvent]:
        if log is None:
            return []
        return [e for e in log.extras if e.processed_at <= self.now]

    def subject(self, event: AuditEvent) -> Account | None:
        users = _context(event, "users")
        return self.accounts.get(users[0]["id"] if users else event.actor_id)

    def org_event_checks(self, event: AuditEvent) -> set[str]:
        """Every check this org event is an input of (time windows aside)."""
        name, group = _display(event)
        out: set[str] = set()
        groups = {c.get("attributes", {}).get("name") for c in _context(event, "groups")}
        actor = self.accounts.get(event.actor_id)
        if event.action == "user_logged_in_as_user":
            out |= {"AUDIT-001", "IDENT-016"}
        if name in ("Granted organization admin role", "Revoked organization admin role") or (
                name in ("Added user to group", "Removed user from group") and "org-admins" in groups):
            out.add("AUDIT-002")
        if name == "Granted organization admin role" or (
                name == "Added user to group" and any(
                    c["id"] in self.admin_groups | self.org_admins_group for c in _context(event, "groups"))):
            out.add("IDENT-017")
        if name == "Created admin API key":
            out.add("AUDIT-003")
        if name == "Created API token":
            out.add("AUDIT-004")
        if _auth_type(event) == "api-token":
            if self.privileged(actor):
                out.add("AUDIT-005")
            if actor is not None and actor.account_type == "atlassian":
                out.add("IDENT-023")
        for cid, group_name in (("AUDIT-006", "Authentication policies"), ("AUDIT-007", "IP allowlists"),
                                ("AUDIT-008", "Domains"), ("AUDIT-009", "Identity providers"),
                                ("AUDIT-015", "Product access")):
            if group == group_name:
                out.add(cid)
        if name in ("App successful installation", "App successful uninstallation", "App enable success",
                    "App disable success", "App update success", "App failed installation (unsupported protocol)"):
            out.add("AUDIT-010")
            if name in ("App successful installation", "App update success"):
                out.add("PLUGIN-017")
            if name == "App successful installation":
                out.add("PLUGIN-018")
        if name in ("Third-party app Jira API request", "Third-party app Confluence API request") and (
                (event.fields.get("actor") or {}).get("app")):
            out |= {"AUDIT-011", "PLUGIN-015"}
        if name in ("Requested password recovery link", "Reset password with recovery link", "Changed email address"):
            subject = self.subject(event)
            if self.privileged(subject):
                out.add("AUDIT-012")
                if name != "Requested password recovery link":
                    out.add("IDENT-018")
        if name == "Reactivated account":
            subject = self.subject(event)
            if subject is not None and (self.privileged(subject) or self.idle_for(subject, self.t["dormant_days"])):
                out.add("AUDIT-013")
        if name == "Logged in to account":
            country = (event.fields.get("location") or {}).get("countryName")
            if country not in self.allowed_countries:
                out |= {"AUDIT-014", "IDENT-019"}
        if event.fields.get("product") == "guard_detect" and "exfiltration" in name.lower():
            out.add("AUDIT-016")
        return out

    def jira_event_checks(self, dep: _Jira, event: AuditEvent) -> set[str]:
        f = event.fields
        summary = event.action
        obj = f.get("objectItem") or (f.get("affectedObjects") or [{}])[0]
        out: set[str] = set()
        if summary == "User added to group":
            name = obj.get("name") or ""
            admin_values = dep.admin_holder_groups()
            if _is_jira_admin_group_name(name) or name in admin_values or obj.get("id") in admin_values or (
                    name in {dep.group_name(v) for v in admin_values}):
                out.add("AUDIT-J01")
                if dep.kind == "cloud":
                    out.add("IDENT-017")
        if summary == "Global permission added":
            out.add("AUDIT-J02")
        if summary in ("Permission scheme updated", "Permission scheme deleted") and \
                (f.get("category") or "").lower() == "permissions":
            out.add("AUDIT-J03")
        if summary == "Project roles changed":
            out.add("AUDIT-J04")
        if summary == "User created" and (obj.get("typeName") or obj.get("type")) == "USER":
            out.add("AUDIT-J05")
        if summary == "User's password changed":
            out.add("AUDIT-J06")
        if summary == "Customer permissions changed" and any(
                c.get("fieldName") == "Customer access" and str(c.get("changedTo") or "").startswith("Anyone")
                for c in f.get("changedValues") or []):
            out.add("AUDIT-J07")
        if summary == "Issue Security scheme deleted":
            out.add("AUDIT-J08")
        if summary == "Project deleted":
            out.add("AUDIT-J09")
        return out

    def confluence_event_checks(self, dep: _Confluence, event: AuditEvent) -> set[str]:
        f = event.fields
        summary = event.action
        lowered = summary.lower()
        obj = f.get("affectedObject") or (f.get("affectedObjects") or [{}])[0]
        out: set[str] = set()
        if summary == "Space permission added":
            product_groups = self._product_access_group_names(dep)
            if any(str(c.get("name") or "").lower() == "anonymous" or c.get("name") in product_groups
                   for c in f.get("changedValues") or []):
                out.add("AUDIT-C01")
        if summary in ("Global permission added", "Global permission removed"):
            out.add("AUDIT-C02")
        if "public link" in lowered and "enable" in lowered:
            out.add("AUDIT-C03")
        if summary == "User added to group" and _is_confluence_admin_group_name(obj.get("name") or ""):
            out.add("AUDIT-C04")
        if lowered.startswith("space export"):
            out |= {"AUDIT-C05", "AUDIT-016"}
        if "viewed with admin key" in lowered:
            out.add("AUDIT-C06")
        return out

    def _product_access_group_names(self, dep: _Confluence) -> set[str]:
        if dep.kind == "dc":
            instance = next(d for d in self.org.dc if f"dc:{d.name}" == dep.ref)
            return {name for name, members in instance.memberships.items()
                    if dep.licensed and dep.licensed <= set(members)}
        return {g.name for g in self.org.groups if any(_role(r) == "user" for r, _ in g.role_assignments)}

    def logs(self) -> list[tuple[str, EventLog, Callable[[AuditEvent], set[str]], Callable[[AuditEvent], str]]]:
        """(label, log, checks-of-event, resource key) for every audit log of the org."""
        out = []
        if self.org.events is not None:
            out.append(("org", self.org.events, self.org_event_checks, lambda e: f"event:org:{e.event_id}"))
        for dep in self.jira:
            if dep.kind == "cloud":
                log = dep.jira.audit if dep.ref not in self.reach.no_audit_sites else None
                key = (lambda ref: lambda e: f"event:jira:{ref}:{e.event_id}")(dep.ref)
            else:
                instance = next(d for d in self.org.dc if f"dc:{d.name}" == dep.ref)
                log = instance.audit
                key = (lambda name: lambda e: f"event:dc:{name}:{e.event_id}")(instance.name)
            if log is not None:
                out.append((f"jira:{dep.ref}", log, (lambda d: lambda e: self.jira_event_checks(d, e))(dep), key))
        for dep in self.confluence:
            if dep.kind == "cloud":
                log = dep.confluence.audit if dep.ref not in self.reach.no_audit_sites else None
                key = (lambda ref: lambda e: f"event:confluence:{ref}:{to_ms(e.time)}:{e.action}")(dep.ref)
            else:
                instance = next(d for d in self.org.dc if f"dc:{d.name}" == dep.ref)
                log = instance.audit
                key = (lambda name: lambda e: f"event:dc:{name}:{e.event_id}")(instance.name)
            if log is not None:
                out.append((f"confluence:{dep.ref}", log,
                            (lambda d: lambda e: self.confluence_event_checks(d, e))(dep), key))
        return out

    def events_pass(self) -> None:
        t = self.t
        tags: dict[str, set[str]] = defaultdict(set)
        self.app_requests: dict[tuple[str, str, str], list[AuditEvent]] = defaultdict(list)
        self.app_installs: list[tuple[AuditEvent, set[str]]] = []
        token_days: dict[str, set] = defaultdict(set)
        for label, log, checks_of, key_of in self.logs():
            for event in self.visible(log):
                checks = checks_of(event)
                for cid in checks:
                    if cid.startswith("AUDIT-") and cid != "AUDIT-011":
                        tags[cid].add(key_of(event))
                recent = event.time >= self.ago(t["recent_days"])
                if "IDENT-016" in checks and event.time >= self.ago(t["impersonation_days"]):
                    self.signals["IDENT-016"].update(c["id"] for c in _context(event, "users"))
                if "IDENT-017" in checks and recent:
                    if label == "org":
                        self.signals["IDENT-017"].update(c["id"] for c in _context(event, "users"))
                    else:
                        self.signals["IDENT-017"].update(i["id"] for i in event.fields.get("associatedItems") or []
                                                         if i.get("typeName") == "USER" and i.get("id"))
                if "IDENT-018" in checks and recent:
                    self.signals["IDENT-018"].add(self.subject(event).account_id)
                if "IDENT-019" in checks and event.time >= self.ago(t["login_window_days"]) and event.actor_id:
                    self.signals["IDENT-019"].add(event.actor_id)
                if "IDENT-023" in checks and event.time >= self.ago(t["robot_window_days"]):
                    token_days[event.actor_id].add(event.time.date())
                if "AUDIT-011" in checks:
                    self.app_requests[self._app_of(event, (event.fields["actor"] or {})["app"]["key"])].append(event)
                if "PLUGIN-017" in checks or "PLUGIN-018" in checks:
                    self.app_installs.append((event, checks))
        # AUDIT-011: bursts per app and clock hour
        for events in self.app_requests.values():
            events.sort(key=lambda e: (e.time, e.event_id))
            by_hour: dict[datetime, list[AuditEvent]] = defaultdict(list)
            for e in events:
                by_hour[_hour(e.time)].append(e)
            times = [e.time for e in events]
            for hour, bucket in by_hour.items():
                if len(bucket) < t["burst_min"]:
                    continue
                lo = hour - timedelta(days=t["burst_baseline_days"])
                before = sum(1 for x in times if lo <= x < hour)
                if len(bucket) > t["burst_factor"] * before / (t["burst_baseline_days"] * 24):
                    tags["AUDIT-011"].update(f"event:org:{e.event_id}" for e in bucket)
        self.token_days = token_days
        guarded = self.org.events is not None
        for cid in AUDIT_IDS:
            if cid == "AUDIT-DC":
                continue
            if cid[6:].isdigit() and cid != "AUDIT-016" and not guarded:
                self.put(cid, "not_evaluable", reason="no Atlassian Guard: no org audit log")
            else:
                self.put(cid, "evaluated", tags[cid],
                         "" if guarded or cid != "AUDIT-016" else "no org audit log: Confluence exports only")

    def _app_of(self, event: AuditEvent, app_key: str) -> tuple[str, str, str]:
        site = next((c.get("attributes", {}).get("name") for c in event.fields.get("container") or []
                     if c.get("type") == "sites"), None)
        return site or "", event.fields.get("product") or "", app_key

    def audit_dc(self) -> None:
        self.put("AUDIT-DC", "not_computable", reason="DC audit coverage settings are not modelled")

    # --- identity ------------------------------------------------------------------------------

    def identity_checks(self) -> None:
        t, org, s = self.t, self.org, self.signals
        scim = any(d.kind == "scim" for d in org.directories)
        for a in org.accounts:
            i = a.account_id
            access = self.has_access(a)
            last = a.last_active
            org_admin, product_admin = self.org_level_admin(a), self.product_admin(a)
            privileged = org_admin or product_admin
            if access and last is not None and last < self.ago(t["dormant_days"]):
                s["IDENT-001"].add(i)
            if access and last is None and a.added_to_org < self.ago(t["never_used_days"]):
                s["IDENT-002"].add(i)
            if org_admin:
                s["IDENT-004"].add(i)
            if product_admin:
                s["IDENT-005"].add(i)
            if privileged and self.idle_for(a, t["dormant_privileged_days"]):
                s["IDENT-006"].add(i)
            if access and self.external(a):
                s["IDENT-007"].add(i)
                if privileged:
                    s["IDENT-008"].add(i)
            if (scim and a.account_type == "atlassian" and a.claim_status == "managed"
                    and a.management_source == "invited"):
                s["IDENT-009"].add(i)
            if privileged and self.tokens_of.get(i):
                s["IDENT-012"].add(i)
            if (a.membership_status == "suspended" or a.account_status == "inactive") and (
                    org_admin or self.groups_of[i] & (self.admin_groups | self.org_admins_group)):
                s["IDENT-014"].add(i)
            if not a.email_verified and access:
                s["IDENT-015"].add(i)
            if a.account_type == "atlassian":
                local, display = _local(a.email), a.name.lower()
                named = bool(_ROBOT_NAME.search(local) or _ROBOT_NAME.search(display) or local == "admin")
                token_driven = (len(self.token_days.get(i, ())) >= t["robot_min_days"]
                                and self.idle_for(a, t["robot_window_days"]))
                if named or token_driven:
                    s["IDENT-023"].add(i)
        guarded = org.events is not None
        partial = {"IDENT-003": "" if org.guard else "no Guard: no policy can enforce SSO",
                   "IDENT-017": "" if guarded else "no org audit log: Jira audit only",
                   "IDENT-023": "" if guarded else "no org audit log: name heuristic only"}
        for cid in IDENT_IDS:
            if cid in self.checks:  # IDENT-003 left manual by org_checks
                s.pop(cid, None)
            elif cid in ("IDENT-016", "IDENT-018", "IDENT-019") and not guarded:
                self.put(cid, "not_evaluable", reason="no Atlassian Guard: no org audit log")
                s.pop(cid, None)
            else:
                self.put(cid, "evaluated", (f"account:{i}" for i in s.get(cid, ())), partial.get(cid, ""))

    def identity_rows(self) -> dict[str, dict]:
        principals: list[str] = [a.account_id for a in self.org.accounts]
        seen = set(principals)
        for instance in self.org.dc:
            for u in instance.users:
                if u.username not in seen:
                    seen.add(u.username)
                    principals.append(u.username)
        fired: dict[str, list[str]] = defaultdict(list)
        for cid in IDENT_IDS:
            if self.checks.get(cid, {}).get("status") != "evaluated":
                continue
            for i in self.signals.get(cid, ()):
                fired[i].append(cid)
        rows = {}
        for i in principals:
            signals = sorted(fired.get(i, []))
            score = sum(IDENT_WEIGHTS[c][0] for c in signals)
            critical = any(IDENT_WEIGHTS[c][1] == "critical" for c in signals)
            rows[i] = {"score": score, "level": risk_level(score, critical), "signals": signals}
        return rows

    # --- plugins -------------------------------------------------------------------------------

    def _apps(self) -> list[_App]:
        out = []
        for site in self.org.sites:
            if site.name not in self.reach.upm_sites:
                continue
            for product in ("jira", "confluence"):
                for app in getattr(site, f"{product}_apps"):
                    if app.user_installed:
                        out.append(_App(f"app:{site.name}:{product}:{app.key}", site.name, product, app, True))
        for instance in self.org.dc:
            for app in instance.apps:
                if app.user_installed:
                    out.append(_App(f"app:dc:{instance.name}:{instance.product}:{app.key}", f"dc:{instance.name}",
                                    instance.product, app, False))
        return out

    def plugin_checks(self) -> None:
        t, s = self.t, self.app_signals
        guarded = self.org.events is not None
        bot_groups = self.admin_groups | self.org_admins_group | {
            g.group_id for g in self.org.groups if g.name == "atlassian-addons-admin"}
        last_request: dict[tuple[str, str, str], datetime] = {
            k: max(e.time for e in v) for k, v in self.app_requests.items() if v}
        installs: dict[tuple[str, str, str], list[tuple[AuditEvent, set[str]]]] = defaultdict(list)
        for event, checks in self.app_installs:
            for c in _context(event, "apps") + _context(event, "app"):
                installs[self._app_of(event, c["id"])].append((event, checks))
        for (site, product, app_key), found in list(installs.items()):
            if site and product:
                continue  # events without a site container or product name the app on every site / product
            for entry in self.apps:
                if entry.cloud and entry.app.key == app_key and site in ("", entry.ref) and product in ("", entry.product):
                    installs[(entry.ref, entry.product, app_key)].extend(found)
        for entry in self.apps:
            app, key = entry.app, entry.key
            scopes = set(app.scopes or [])
            if "ADMIN" in scopes:
                s["PLUGIN-001"].add(key)
            if "ACT_AS_USER" in scopes:
                s["PLUGIN-002"].add(key)
            if scopes & {"PROJECT_ADMIN", "SPACE_ADMIN"}:
                s["PLUGIN-003"].add(key)
            if "DELETE" in scopes:
                s["PLUGIN-004"].add(key)
            if "ACCESS_EMAIL_ADDRESSES" in scopes or any(x.startswith("read:email-address") for x in scopes):
                s["PLUGIN-005"].add(key)
            listing = getattr(app, "listing", None)
            marketplace = MARKETPLACE_MODELLED and entry.cloud
            if app.framework == "connect" or (
                    app.framework == "forge" and marketplace and not (listing and listing.runs_on_atlassian)):
                s["PLUGIN-006"].add(key)
            if app.framework == "connect" and not (marketplace and listing and listing.has_forge_version):
                s["PLUGIN-011"].add(key)
            if marketplace:
                if listing is None:
                    s["PLUGIN-007"].add(key)
                else:
                    for cid, fires in (("PLUGIN-008", not listing.cloud_fortified),
                                       ("PLUGIN-009", not listing.bug_bounty),
                                       ("PLUGIN-010", listing.last_release < self.ago(t["app_unmaintained_days"])),
                                       ("PLUGIN-014", listing.stores_personal_data),
                                       ("PLUGIN-019", not listing.top_vendor)):
                        if fires:
                            s[cid].add(key)
            if app.bot_account_id and self.groups_of[app.bot_account_id] & bot_groups:
                s["PLUGIN-012"].add(key)
            if entry.cloud and entry.product == "jira" and app.framework == "connect" and entry.ref in self.addons_sites:
                s["PLUGIN-013"].add(key)
            disabled_long = (not app.enabled and app.disabled_at is not None
                             and app.disabled_at < self.ago(t["app_disabled_days"]))
            idle = False
            if entry.cloud and guarded and app.installed_at < self.ago(t["app_idle_days"]):
                # an app installed less than the idle window ago has not had the chance to be idle
                last = last_request.get((entry.ref, entry.product, app.key))
                idle = last is None or last < self.ago(t["app_idle_days"])
            if disabled_long or idle:
                s["PLUGIN-015"].add(key)
            if not entry.cloud and app.update_available:
                s["PLUGIN-016"].add(key)
            if entry.cloud:
                for event, checks in installs.get((entry.ref, entry.product, app.key), []):
                    if "PLUGIN-017" in checks and event.time >= self.ago(t["recent_days"]):
                        s["PLUGIN-017"].add(key)
                    if "PLUGIN-018" in checks:
                        actor = self.accounts.get(event.actor_id)
                        if actor is None or not self.live(actor) or not self.privileged(actor) or self.external(actor):
                            s["PLUGIN-018"].add(key)
        for cid in PLUGIN_IDS:
            if cid in MARKETPLACE_SIGNALS and not MARKETPLACE_MODELLED:
                self.put(cid, "not_computable", reason="needs Marketplace data")
            elif cid in ("PLUGIN-017", "PLUGIN-018") and not guarded:
                self.put(cid, "not_evaluable", reason="no Atlassian Guard: no org audit log")
                s.pop(cid, None)
            else:
                reason = "no org audit log: the enabled clause only" if cid == "PLUGIN-015" and not guarded else ""
                self.put(cid, "evaluated", s.get(cid, ()), reason)

    def plugin_rows(self) -> dict[str, dict]:
        fired: dict[str, list[str]] = defaultdict(list)
        for cid in PLUGIN_IDS:
            if self.checks.get(cid, {}).get("status") == "evaluated":
                for key in self.app_signals.get(cid, ()):
                    fired[key].append(cid)
        rows = {}
        for entry in self.apps:
            signals = sorted(fired.get(entry.key, []))
            score = sum(PLUGIN_WEIGHTS[c][0] for c in signals)
            critical = any(PLUGIN_WEIGHTS[c][1] == "critical" for c in signals)
            rows[entry.key] = {"score": score, "level": risk_level(score, critical), "signals": signals}
        return rows

    def posture_040(self) -> None:
        if not self.org.guard:
            self.put("POSTURE-040", "not_evaluable", reason="no Atlassian Guard: no data security policies")
            return
        rows = self.plugin_rows()
        risky = [e.key for e in self.apps if e.cloud and rows[e.key]["level"] in ("high", "critical")]
        active_dsp = any(p.policy_type == "data-security" and p.status == "active" for p in self.org.policies)
        self.org_level("POSTURE-040", bool(risky) and not active_dsp, evidence=risky if not active_dsp else [])


# --- public API --------------------------------------------------------------------------------


def _oracle(org: Organization, attestation: dict | None, thresholds: dict) -> _Oracle:
    oracle = _Oracle(org, attestation, thresholds)
    oracle.manifest = oracle.run()
    return oracle


def ground_truth(org: Organization, attestation: dict | None = None, **thresholds) -> dict:
    """The catalog evaluated over one organization (see the module docstring for the rules)."""
    return _oracle(org, attestation, thresholds).manifest


def identity_scores(org: Organization, attestation: dict | None = None, **thresholds) -> dict[str, dict]:
    """`{account id (DC: username): {"score", "level", "signals"}}` for every account, zero scores included."""
    return _oracle(org, attestation, thresholds).identity_rows()


def plugin_scores(org: Organization, attestation: dict | None = None, **thresholds) -> dict[str, dict]:
    """`{app resource key: {"score", "level", "signals"}}` for every user-installed app (computable signals)."""
    return _oracle(org, attestation, thresholds).plugin_rows()


def attestation_for(org: Organization) -> dict:
    """The attestation a truthful admin of this org would write (JSON-able).

    Keys: `auth_policies` {policy id: {"sso_enforced", "two_step_enforced"}} (POSTURE-003/004,
    IDENT-003), `break_glass_policy_ids` (POSTURE-004), `external_user_api_token_access`
    allow|block (POSTURE-007), `approved_domains` [{"domain", "admin_approval_required"}]
    (POSTURE-012), `user_invites_open`, `invite_links_active` (POSTURE-013),
    `jsm_customer_access` {site: {"open", "business_reason", "help_center_login_required"}}
    (POSTURE-028), `public_links_enabled` {site: bool} (POSTURE-035), `dc_websudo_disabled`
    {instance: bool} (POSTURE-030), `dc_jsm_public_signup` {instance: bool} (POSTURE-029).
    A missing key leaves its check `manual`.
    """
    settings = json.loads(json.dumps(org.config.get("admin_settings") or {}))
    return {
        "auth_policies": {p.policy_id: {"sso_enforced": p.sso_enforced, "two_step_enforced": p.two_step_enforced}
                          for p in org.auth_policies},
        "break_glass_policy_ids": sorted(org.config.get("break_glass_policy_ids") or []),
        **settings,
    }


def org_manifest(org: Organization, attest: bool = True, **thresholds) -> dict:
    """One org's manifest: checks, attestation used, identity rows with a score > 0, plugin rows."""
    attestation = attestation_for(org) if attest else None
    oracle = _oracle(org, attestation, thresholds)
    manifest = dict(oracle.manifest)
    manifest["attestation"] = attestation
    manifest["identity_risks"] = {i: row for i, row in oracle.identity_rows().items() if row["score"] > 0}
    manifest["plugin_risks"] = oracle.plugin_rows()
    return manifest


def manifest(sim, attest: bool = True, **thresholds) -> dict:
    """The ground truth of every organization of a `Simulator`."""
    return {"orgs": [org_manifest(org, attest, **thresholds) for org in sim.orgs]}


def write_manifest(sim, path, attest: bool = True, **thresholds) -> Path:
    path = Path(path)
    path.write_text(json.dumps(manifest(sim, attest, **thresholds), sort_keys=True, indent=2) + "\n")
    return path


def event_matchers(org: Organization, **thresholds) -> list[tuple[str, EventLog, Callable[[AuditEvent], set[str]]]]:
    """(label, log, event -> ids of the checks the event is an input of) for every audit log of the org.

    The tests run these over samples of the lazy base events, which must match nothing."""
    oracle = _Oracle(org, None, thresholds)
    return [(label, log, checks_of) for label, log, checks_of, _ in oracle.logs()]


__all__: Sequence[str] = (
    "CHECK_IDS", "THRESHOLDS", "attestation_for", "event_matchers", "ground_truth", "identity_scores",
    "manifest", "org_manifest", "plugin_scores", "risk_level", "write_manifest",
)
