"""Build the dbt seed `check_catalog.csv` from the check catalog (shared/spec/checks.md).

    uv run python scripts/build_check_catalog.py [--spec PATH] [--out PATH]

The catalog's ids are the public contract. This script parses its markdown pipe tables
(sections 1-4 and the Sources key table) and merges what the catalog does not say in one line:
remediation/response actions for identity, plugin and audit ids, a rationale per id, a short
data_needed for posture checks, and how each check is evaluated (api / attestation /
api+attestation / config / not_computable), following the docstring of
pipelines/atlassian_simulator/truth.py. Identity and plugin weights and signal severities are taken from
truth.py (IDENT_WEIGHTS / PLUGIN_WEIGHTS) and cross-checked against the catalog's column.
The id list is checked against truth.CHECK_IDS; any mismatch aborts.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from atlassian_simulator.truth import CHECK_IDS, IDENT_WEIGHTS, PLUGIN_WEIGHTS  # noqa: E402

DEFAULT_SPEC = Path("/work/shared/spec/checks.md")
DEFAULT_OUT = ROOT / "dbt_project" / "seeds" / "check_catalog.csv"

COLUMNS = [
    "check_id", "family", "title", "product", "severity", "severity_note", "weight", "logic", "remediation",
    "rationale", "evaluation", "plan_note", "source_keys", "source_url", "data_needed",
]
SEVERITIES = ("critical", "high", "medium", "low")
ID_RE = re.compile(r"^(POSTURE-\d{3}|IDENT-\d{3}|PLUGIN-\d{3}|AUDIT-(?:\d{3}|J\d{2}|C\d{2}|DC))$")
SOURCE_RE = re.compile(r"^S\d{2,3}$")
FAMILY = {"POSTURE": "posture", "IDENT": "identity", "PLUGIN": "plugin", "AUDIT": "audit"}


# --- markdown parsing ---------------------------------------------------------------------------

def split_row(line: str) -> list[str]:
    """Cells of a markdown pipe-table row; `\\|` and pipes inside backtick spans do not split."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells, cur, in_code, i = [], [], False, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            cur.append("|")
            i += 2
            continue
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    cells.append("".join(cur))
    return [c.strip() for c in cells]


def clean(text: str) -> str:
    """Plain one-line text: no backticks, no bold markers, collapsed whitespace."""
    text = text.replace("**", "").replace("`", "")
    return re.sub(r"\s+", " ", text).strip()


def tables(md: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every pipe table of the document as (header cells, raw body rows)."""
    out, lines, i = [], md.splitlines(), 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|") and i + 1 < len(lines) and re.match(r"^\s*\|[\s:|-]+\|\s*$", lines[i + 1]):
            header = [clean(c) for c in split_row(lines[i])]
            rows, i = [], i + 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(split_row(lines[i]))
                i += 1
            out.append((header, rows))
        else:
            i += 1
    return out


def parse(md: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """(check id -> {header: clean cell}, source key -> raw cell)."""
    checks: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    for header, rows in tables(md):
        for cells in rows:
            if len(cells) != len(header):
                raise SystemExit(f"row has {len(cells)} cells, header {len(header)}: {cells[:1]}")
            key = clean(cells[0])
            if ID_RE.match(key):
                if key in checks:
                    raise SystemExit(f"duplicate id {key}")
                checks[key] = {h: clean(c) for h, c in zip(header, cells)}
            elif SOURCE_RE.match(key) and header[:2] == ["Key", "Source"]:
                sources[key] = cells[1]
    return checks, sources


def source_url(raw: str) -> str:
    """The first URL of a source cell; an `owner/repo: path` reference becomes its GitHub URL."""
    candidates = []
    m = re.search(r"https?://[^\s;)`]+", raw)
    if m:
        candidates.append((m.start(), m.group(0)))
    m = re.search(r"`([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+):", raw)
    if m:
        candidates.append((m.start(), f"https://github.com/{m.group(1)}"))
    if not candidates:
        raise SystemExit(f"no URL in source {raw!r}")
    return min(candidates)[1]


def split_severity(text: str) -> tuple[str, str]:
    m = re.match(r"^(critical|high|medium|low)\s*(?:\((.*)\))?$", text)
    if not m:
        raise SystemExit(f"unparsed severity {text!r}")
    return m.group(1), (m.group(2) or "").strip()


# --- hand-written lines -------------------------------------------------------------------------
# Posture: rationale and a short data_needed (the catalog gives remediation, logic and plan notes).

POSTURE = {
    "POSTURE-001": ("Without a verified domain no account is managed, so 2SV, SSO, last-active and token controls apply to nobody.",
                    "org domains: claim.status"),
    "POSTURE-002": ("Accounts on a domain that lost verification drop out of managed control, and the domain may be claimed by someone else.",
                    "org domains claim.status; org users e-mail domains"),
    "POSTURE-003": ("These managed accounts are protected by a password alone; an admin among them is a direct path to org takeover.",
                    "v2 directory users mfaEnabled/platformRoles; auth-policy membership; attested policy flags"),
    "POSTURE-004": ("Without SSO the IdP's MFA, conditional access and offboarding do not apply, so phished passwords and leavers keep working.",
                    "auth-policy membership; attested SSO flags and break-glass policy ids"),
    "POSTURE-005": ("API tokens bypass SSO and 2SV, so a token without a bounded life is a standing credential that outlives its purpose.",
                    "org api-tokens: createdAt, expiresAt, status"),
    "POSTURE-006": ("Unused tokens still authenticate without SSO or 2SV, and nobody would notice if one leaked.",
                    "org api-tokens: lastActiveAt, createdAt, status"),
    "POSTURE-007": ("External users sit outside your IdP, so tokens they create bypass every control you own; Atlassian allows it by default.",
                    "attested external-user API token setting"),
    "POSTURE-008": ("Without an IP allowlist a stolen session or token works from anywhere on the internet.",
                    "org policies type=ip-allowlist: status, resources"),
    "POSTURE-009": ("Without an active data security policy nothing blocks export, public links, anonymous access or unapproved apps on sensitive content.",
                    "org policies type=data-security: status, coverage level"),
    "POSTURE-010": ("Where regulation requires a region, an unpinned product or a failed move breaks the residency obligation.",
                    "org policies type=data-residency: status, rule.in; required realm (config)"),
    "POSTURE-011": ("Every org admin can take over the whole organization; more of them, or an unmanaged one, widens that path.",
                    "v2 users platformRoles (org-admin), claimStatus"),
    "POSTURE-012": ("Approved domains let anyone with a matching address join; approving a public mail domain opens the site to the internet.",
                    "attested approved domains and admin-approval flags"),
    "POSTURE-013": ("Open invitations and invite links let access spread outside the IdP-driven joiner process.",
                    "attested user-invite and invite-link settings"),
    "POSTURE-014": ("Without a continuously collected org audit log admin abuse goes unseen, and events age out after 180 days.",
                    "org events-stream: newest event time; Guard status"),
    "POSTURE-015": ("Admin API keys carry org-admin power without MFA; long-lived keys or keys of departed admins stay an open door.",
                    "org API keys: creation, expiry, creator"),
    "POSTURE-016": ("Anyone on the internet can read the project's issues without logging in.",
                    "permission schemes: BROWSE_PROJECTS holder anyone; project-scheme map"),
    "POSTURE-017": ("Anonymous create, comment or attach lets outsiders inject content, spam or malware into Jira.",
                    "permission schemes: non-browse grants to anyone"),
    "POSTURE-018": ("The outside-in view proves the exposure is reachable by an anonymous caller, not just configured.",
                    "anonymous project/filter search and mypermissions (or the grants behind them)"),
    "POSTURE-019": ("An anonymous user picker makes the people directory readable from the internet, fuel for phishing.",
                    "USER_PICKER holder anyone"),
    "POSTURE-020": ("A globally shared filter publishes its query and results to anonymous users.",
                    "filters: sharePermissions[].type"),
    "POSTURE-021": ("A globally shared dashboard shows issue data to anyone on the web.",
                    "dashboards: sharePermissions[].type"),
    "POSTURE-022": ("Sensitive projects should be need-to-know; product-wide Browse gives every licensed user read access.",
                    "BROWSE_PROJECTS applicationRole grants; sensitive project list (config)"),
    "POSTURE-023": ("Project admins change permissions and workflows; granting that broadly hands the control to large populations.",
                    "ADMINISTER_PROJECTS holders; group sizes"),
    "POSTURE-024": ("Grants to individuals escape joiner/mover/leaver processes and linger after people change roles.",
                    "grants with holder.type = user"),
    "POSTURE-025": ("Atlassian documents that these holders leak project names to every logged-in user and can reveal restricted JSM portals.",
                    "BROWSE_PROJECTS custom-field/reporter/assignee holders"),
    "POSTURE-026": ("Jira adds every Connect app user to this role, so every such app reaches the sensitive issues within its scopes.",
                    "addons project role Browse grants; sensitive project list (config)"),
    "POSTURE-027": ("Administer Jira controls every project and scheme; a large, unmanaged, app or stale holder set is a takeover risk.",
                    "global ADMINISTER group members; account status and claim"),
    "POSTURE-028": ("An open portal lets anyone create an account and reach the service desk and its linked knowledge base.",
                    "attested JSM customer access per site; Jira audit evidence"),
    "POSTURE-029": ("Public mode lets anyone who reaches a self-managed Jira create an account on it.",
                    "application property jira.mode; attested JSM public signup"),
    "POSTURE-030": ("Secure administrator sessions re-ask for the password before admin actions, limiting a hijacked admin session.",
                    "attested jira.websudo.is.disabled per instance"),
    "POSTURE-031": ("Anonymous space permissions publish content, and such spaces are visible to every logged-in user even with site anonymous access off.",
                    "space role assignments (ACCESS_CLASS anonymous-users)"),
    "POSTURE-032": ("Anonymous write lets anyone deface or delete content and plant malicious attachments.",
                    "anonymous create/update/delete space permissions"),
    "POSTURE-033": ("A site that answers anonymous callers exposes every anonymously readable space to the internet.",
                    "site anonymous access; anonymous space grants (DC: USECONFLUENCE)"),
    "POSTURE-034": ("Unlicensed portal customers are outsiders; internal spaces open to them leak internal knowledge.",
                    "authenticated-users / unlicensed grants per space"),
    "POSTURE-035": ("Public links publish pages to anyone holding the URL, outside every access control.",
                    "attested public-links toggle per site; active DSP coverage"),
    "POSTURE-036": ("Space admins change permissions and export content; giving that to everyone removes ownership.",
                    "space administer grants; group membership vs licensed users"),
    "POSTURE-037": ("Guests and unmanaged accounts are outside your IdP; edit rights let them change or remove content.",
                    "direct space grants to guest/unmanaged accounts"),
    "POSTURE-038": ("Anonymous global or space permissions expose a self-managed Confluence to unauthenticated users.",
                    "DC anonymous global and space permissions"),
    "POSTURE-039": ("Critical Data Center CVEs (e.g. CVE-2023-22515) are exploited for admin takeover, and unsupported versions get no fixes.",
                    "Jira serverInfo / Confluence server-information version; advisory seed"),
    "POSTURE-040": ("High-risk apps read sensitive content unless a data security policy restricts app access.",
                    "plugin_risks tiers; active data security policies"),
}

# Identity / plugin: (remediation, rationale, product, plan_note)

IDENT = {
    "IDENT-001": ("Confirm with the manager, then remove product access or deactivate the dormant account.",
                  "Unused licensed accounts are unwatched takeover targets and cost licences.", "org/cloud",
                  "All plans; last-active dates need a verified domain"),
    "IDENT-002": ("Remove product access from the never-used account, or confirm the owner still needs it.",
                  "An account nobody has used is provisioned attack surface that no owner watches.", "org/cloud",
                  "All plans"),
    "IDENT-003": ("Enrol the admin in two-step verification or move them into an SSO-enforced policy today.",
                  "An org-level admin protected by a password alone is a direct path to full org takeover.", "org/cloud",
                  "With Guard policy SSO flags are attested; without Guard mfaEnabled alone"),
    "IDENT-004": ("Confirm the org-level admin role is still needed; prefer product-admin roles and a dedicated admin identity.",
                  "Org-level admins control users, policies and access for the whole organization.", "org/cloud",
                  "All plans"),
    "IDENT-005": ("Review the account's product-admin grants and remove those its current role does not need.",
                  "Product admins change permissions, schemes and apps across Jira or Confluence.", "org/cloud, jira/cloud",
                  "Checking other users' ADMINISTER needs Administer Jira"),
    "IDENT-006": ("Remove the dormant account's admin roles and admin-group memberships, or deactivate it.",
                  "A privileged account nobody uses is the ideal takeover target: its misuse goes unnoticed.", "org/cloud",
                  "All plans"),
    "IDENT-007": ("Claim the account by verifying its domain, or confirm the external collaborator still needs access and restrict it.",
                  "External accounts are outside your IdP, so your MFA, SSO and offboarding do not apply to them.", "org/cloud",
                  "All plans"),
    "IDENT-008": ("Remove admin power from the external account today; do admin work from a managed account.",
                  "Admin power on an account you do not manage is full control held outside your lifecycle and policies.",
                  "org/cloud", "All plans"),
    "IDENT-009": ("Provision the user through the IdP/SCIM directory instead of a manual invite, or remove the account.",
                  "Invited accounts escape IdP-driven deprovisioning, so access survives the employee leaving.", "org/cloud",
                  "Needs an IdP/SCIM-synced directory (Guard)"),
    "IDENT-010": ("Revoke the long-lived token and issue one that expires within the org standard (at most one year).",
                  "Tokens bypass SSO and 2SV; a token that never expires is a standing credential.", "org/cloud",
                  "Token list: all plans (org admin)"),
    "IDENT-011": ("Revoke the stale token; the owner can create a new one when it is needed again.",
                  "An unused token still authenticates, and nobody would notice if it leaked.", "org/cloud",
                  "Token list: all plans (org admin)"),
    "IDENT-012": ("Revoke the privileged user's API tokens and run automation from a service account with scoped credentials.",
                  "A privileged user's token carries admin power without SSO or 2SV.", "org/cloud",
                  "Token list: all plans (org admin)"),
    "IDENT-013": ("Revoke every token not in active use and label the remaining ones with their purpose.",
                  "Many tokens on one account are hard to track, so one leaked token is easily missed.", "org/cloud",
                  "Token list: all plans (org admin)"),
    "IDENT-014": ("Remove the admin roles and admin-group memberships of the suspended or inactive account.",
                  "Restoring the account restores its admin rights: a quiet path back to privilege.", "org/cloud",
                  "All plans"),
    "IDENT-015": ("Have the user verify the e-mail address, or remove product access until they do.",
                  "An unverified address may not belong to the person using the account.", "org/cloud", "All plans"),
    "IDENT-016": ("Confirm with the impersonating admin that the session was authorised and ticketed; escalate if not.",
                  "Logging in as a user gives an admin that user's full access; unexpected use signals abuse.", "org/cloud",
                  "Guard Standard (org audit log)"),
    "IDENT-017": ("Check the new admin grant against an approved change request and revoke it if unapproved.",
                  "A freshly granted admin right is a classic persistence step after account takeover.",
                  "org/cloud, jira/cloud", "Org log needs Guard Standard; the Jira audit source needs Administer Jira"),
    "IDENT-018": ("Confirm the change with the account owner out of band; if unexpected, reset credentials and revoke sessions and tokens.",
                  "Password recovery or e-mail change on an admin is how an attacker takes the account over.", "org/cloud",
                  "Guard Standard (org audit log)"),
    "IDENT-019": ("Confirm the sign-in with the user; if unexpected, reset the password, revoke sessions and review recent activity.",
                  "Sign-ins from countries where you have no staff are a common marker of stolen credentials.", "org/cloud",
                  "Guard Standard (org audit log); allowed countries from config"),
    "IDENT-020": ("Replace the direct user grants with project roles or IdP-managed groups.",
                  "Direct grants bypass group-based joiner/mover/leaver processes and linger after role changes.",
                  "jira/cloud+dc, confluence/cloud+dc", "Jira and Confluence admin reads"),
    "IDENT-021": ("Cut the user's Administrators role memberships to the projects they own; use a group for shared admins.",
                  "One account administering many projects concentrates blast radius if it is compromised.",
                  "jira/cloud+dc", "Jira admin reads"),
    "IDENT-022": ("Make the guest or external account read-only, or remove its direct create/edit grant.",
                  "Write access for accounts outside your IdP lets outsiders alter or plant content.",
                  "jira/cloud, confluence/cloud", "Guest role on paid plans"),
    "IDENT-023": ("Move the automation to a service account with scoped credentials and revoke the person's tokens.",
                  "Automation on a personal account hides bot activity behind a human and breaks when that person leaves.",
                  "org/cloud", "Guard Standard (org audit log) for the usage half"),
}

_SCOPES = "Scopes are not in UPM: Marketplace version data or the Connect descriptor"
_MARKET = "Public Marketplace API (no auth); Cloud apps only"
PLUGIN = {
    "PLUGIN-001": ("Confirm the app truly needs ADMIN; ask the vendor for a narrower scope or uninstall it.",
                   "ADMIN gives the vendor's servers site-wide admin and every lower scope.", "jira+confluence/cloud+dc", _SCOPES),
    "PLUGIN-002": ("Uninstall the app or have the vendor drop impersonation; if kept, name an owner and review its activity.",
                   "Acting as any user lets the app read and write as anyone, admins included.", "jira+confluence/cloud+dc", _SCOPES),
    "PLUGIN-003": ("Find out why the app needs project/space admin and remove it if a lower scope will do.",
                   "Project or space admin lets the app change permissions on the content it manages.",
                   "jira+confluence/cloud+dc", _SCOPES),
    "PLUGIN-004": ("Confirm the app's delete use case with its owner; replace it with a read/write app if that suffices.",
                   "A compromised app with DELETE can destroy content at scale.", "jira+confluence/cloud+dc", _SCOPES),
    "PLUGIN-005": ("Confirm the app needs users' e-mail addresses and that the vendor's privacy terms cover them.",
                   "E-mail addresses are personal data and phishing fuel if the vendor leaks them.",
                   "jira+confluence/cloud+dc", _SCOPES),
    "PLUGIN-006": ("Review the vendor's hosting and data handling; prefer a Runs-on-Atlassian alternative.",
                   "Data leaves Atlassian's boundary for the vendor's infrastructure, outside your controls.",
                   "jira+confluence/cloud", "Framework from UPM/Marketplace; Runs-on-Atlassian badge from Marketplace"),
    "PLUGIN-007": ("Identify the private app's owner and vendor, review its code and security, or uninstall it.",
                   "A private or custom app gets none of the Marketplace security programme checks.",
                   "jira+confluence/cloud", _MARKET),
    "PLUGIN-008": ("Prefer a Cloud Fortified alternative, or record an accepted risk for the app.",
                   "Cloud Fortified apps meet extra security and reliability requirements this one has not shown.",
                   "jira+confluence/cloud", _MARKET),
    "PLUGIN-009": ("Ask the vendor to join the Marketplace bug bounty, or weigh an alternative that does.",
                   "Without a bug bounty no outside researchers are paid to find the app's flaws.",
                   "jira+confluence/cloud", _MARKET),
    "PLUGIN-010": ("Ask the vendor about maintenance, or replace the app with a maintained one.",
                   "An app with no release for a year likely carries unpatched vulnerabilities.",
                   "jira+confluence/cloud", _MARKET),
    "PLUGIN-011": ("Plan the move to the vendor's Forge version or a replacement before Connect support ends.",
                   "Connect is being retired; Connect-only apps will lose support and fixes.",
                   "jira+confluence/cloud", "Framework from UPM / Marketplace deployment info"),
    "PLUGIN-012": ("Remove the app's bot account from atlassian-addons-admin and admin groups unless the vendor documents the need.",
                   "An admin app user turns any flaw in the app into admin takeover.", "jira/cloud",
                   "Group membership and permission checks need Administer Jira"),
    "PLUGIN-013": ("Remove atlassian-addons-project-access from Browse in the sensitive projects' schemes and re-check after installs.",
                   "Every Connect app user is put in that role, so each app reaches the sensitive issues.", "jira/cloud",
                   "Sensitive project list from config"),
    "PLUGIN-014": ("Review the vendor's Privacy & Security tab (region, certifications) and record a data-processing decision.",
                   "Personal data stored by the vendor is outside your residency and retention controls.",
                   "jira+confluence/cloud", _MARKET),
    "PLUGIN-015": ("Uninstall the idle app, or confirm an owner still needs it.",
                   "An idle app keeps standing grants that nobody uses or watches.", "jira+confluence/cloud+dc",
                   "API-request events need Guard Standard; UPM enabled flag all plans"),
    "PLUGIN-016": ("Update the app to its latest version in UPM after reading the release notes.",
                   "An outdated Data Center app may carry known, already fixed vulnerabilities.", "jira+confluence/dc",
                   "DC only: UPM installed-marketplace?updates=true"),
    "PLUGIN-017": ("Confirm the install or update had an approved change and review the scopes it granted.",
                   "A new app or a scope-raising update changes which third party can reach your data.",
                   "jira+confluence/cloud", "Guard Standard (org audit log) or product audit"),
    "PLUGIN-018": ("Re-confirm ownership with a current admin; review the app and uninstall it if nobody owns it.",
                   "An app installed by someone no longer trusted may have no accountable owner.",
                   "jira+confluence/cloud", "Guard Standard (org audit log); identity mart"),
    "PLUGIN-019": ("Check the vendor's track record and prefer Top Vendor apps for sensitive data.",
                   "Top Vendors meet Marketplace standards for support and reliability that this vendor has not shown.",
                   "jira+confluence/cloud", _MARKET),
}

# Audit detections: (response action, rationale)

AUDIT = {
    "AUDIT-001": ("Confirm the impersonation was authorised (ticket, user consent); if not, remove the admin's role and review the session.",
                  "Logging in as another user grants that user's full access and blurs who did what."),
    "AUDIT-002": ("Check the org-admin change against an approved request; revoke unexpected grants at once and investigate the actor.",
                  "An org-admin change is the most direct persistence and takeover move in the organization."),
    "AUDIT-003": ("Confirm the key's owner and purpose; revoke it if unexpected and keep the expiry short.",
                  "Admin API keys act with org-admin power and no MFA."),
    "AUDIT-004": ("Confirm the owner created the token; revoke it if unexpected, first for admins.",
                  "A new token is persistent access that bypasses SSO and 2SV."),
    "AUDIT-005": ("Confirm the automation is expected; move it to a service account and revoke the admin's token.",
                  "Admin actions through a token skip SSO and MFA: automation on a human admin, or a stolen token."),
    "AUDIT-006": ("Review the policy change against a change request; restore the previous settings if unapproved.",
                  "Weakening an authentication policy disables 2SV or SSO for many users at once."),
    "AUDIT-007": ("Review the allowlist change and restore the approved ranges if unexpected.",
                  "Deleting or widening an allowlist exposes the products to the whole internet."),
    "AUDIT-008": ("Confirm the domain change was planned; re-verify removed domains and investigate unknown additions.",
                  "Verified domains decide which accounts the organization manages."),
    "AUDIT-009": ("Confirm the IdP/SCIM/SAML change with the identity team; revert it if unexpected and review recent sign-ins.",
                  "A changed identity-provider configuration can hand login control to an attacker."),
    "AUDIT-010": ("Check the app in plugin_risks and against the change calendar; uninstall or disable it if unapproved.",
                  "App changes alter which third parties can reach your data."),
    "AUDIT-011": ("Ask the app owner whether the burst is expected; disable the app if not and review what it read.",
                  "A sudden spike in an app's API calls can be bulk extraction through a compromised app."),
    "AUDIT-012": ("Confirm with the privileged user out of band; if unexpected, lock the account, reset credentials and revoke sessions.",
                  "Recovery-link resets and e-mail changes on privileged users are the account-takeover path."),
    "AUDIT-013": ("Confirm why the long-inactive or admin account was reactivated; deactivate it again if unapproved.",
                  "Reactivating a dormant or admin account is a quiet way back in."),
    "AUDIT-014": ("Confirm the sign-in with the user; if unexpected, reset the password, revoke sessions and review activity.",
                  "Sign-ins from unexpected places point to stolen credentials."),
    "AUDIT-015": ("Review the group's new product or admin access and revert it if not approved.",
                  "One group change can grant product or admin access to many users at once."),
    "AUDIT-016": ("Identify who exported what and why; if unapproved, revoke access and open an incident.",
                  "Bulk export is how data leaves the company."),
    "AUDIT-J01": ("Check the admin-group addition against a change request and remove the user if unapproved.",
                  "Jira admin groups hold Administer Jira over every project."),
    "AUDIT-J02": ("Review the granted global permission and revoke grants to Anyone or broad groups.",
                  "A global permission applies across the whole Jira site."),
    "AUDIT-J03": ("Diff the scheme change and revert grants to Anyone/Public or broad groups at once.",
                  "One scheme change can expose every project that uses the scheme."),
    "AUDIT-J04": ("Review the project-role change and revert unexpected admin-role additions.",
                  "Role changes alter who administers and who reads a project."),
    "AUDIT-J05": ("Confirm the new user came through the normal provisioning path; disable it if not.",
                  "A user created outside provisioning may be a backdoor account."),
    "AUDIT-J06": ("If the user is privileged, confirm the change with them and revoke sessions if unexpected.",
                  "A password change on a privileged account may be a takeover in progress."),
    "AUDIT-J07": ("Restore customer access to invited or approved-domain customers unless a business reason is recorded.",
                  "An open portal lets anyone sign up and reach service-desk content."),
    "AUDIT-J08": ("Confirm why the issue security scheme was removed; restore it if restricted issues are now visible.",
                  "Removing issue security exposes restricted issues to everyone who can browse the project."),
    "AUDIT-J09": ("Confirm the deletion was approved; restore the project from trash or backup if not.",
                  "Deleting a project destroys data and can cover tracks."),
    "AUDIT-C01": ("Remove the anonymous or all-users space permission unless the space is meant to be public.",
                  "An anonymous or all-users grant exposes the space's content widely."),
    "AUDIT-C02": ("Review the global permission change and revert anonymous or broad grants.",
                  "Global permissions, anonymous access included, apply to the whole Confluence site."),
    "AUDIT-C03": ("Confirm public links are meant to be on; switch them off or block them with a data security policy.",
                  "Public links publish pages to anyone holding the URL."),
    "AUDIT-C04": ("Check the admin-group addition against a change request and remove the user if unapproved.",
                  "Confluence admin groups control every space and global setting."),
    "AUDIT-C05": ("Confirm the space export was authorised and find out where the file went.",
                  "A space export is a bulk copy of the space's content."),
    "AUDIT-C06": ("Confirm the admin had a reason to view restricted content with the admin key.",
                  "The admin key bypasses page restrictions."),
    "AUDIT-DC": ("Enable the Security, Permissions, User management and Global configuration audit coverage areas (Advanced) on each DC instance.",
                 "Without that coverage the Data Center instance records none of the events the detections match."),
}
AUDIT_LOGIC = {
    "AUDIT-DC": "Security, Permissions, User management or Global configuration audit coverage area not enabled "
                "(Advanced on Data Center), so the detections above have no events",
}
AUDIT_LOGS = {  # Log column token -> (product, data needed, plan note)
    "org": ("org/cloud", "org events: action / displayName, actor, context, location",
            "Guard Standard (org audit log, 180-day retention)"),
    "guard_detect": ("org/cloud", "Guard Detect alerts (org events, product=guard_detect)",
                     "Guard Detect alerts arrive in the org events API"),
    "jira": ("jira/cloud+dc", "Jira audit records: summary, category, objectItem, changedValues",
             "Administer Jira; DC: /rest/auditing/1.0/events"),
    "jsm": ("jsm/cloud+dc", "Jira audit records: summary, changedValues (Customer access)",
            "Administer Jira"),
    "confluence": ("confluence/cloud+dc", "Confluence audit records: summary, category, affectedObject, changedValues",
                   "Confluence admin; Cloud audit not on Free"),
    "jira/dc": ("jira/dc", "DC audit coverage settings", "Data Center advanced auditing"),
    "confluence/dc": ("confluence/dc", "DC audit coverage settings", ""),
}

# How each check is evaluated (truth.py docstring); the rest are 'api'.
EVALUATION = {
    # attested settings with no read API
    "POSTURE-007": "attestation", "POSTURE-012": "attestation", "POSTURE-013": "attestation",
    "POSTURE-028": "attestation", "POSTURE-030": "attestation",
    # REST data joined with attested policy flags / settings
    "POSTURE-003": "api+attestation", "POSTURE-004": "api+attestation", "IDENT-003": "api+attestation",
    "POSTURE-029": "api+attestation", "POSTURE-035": "api+attestation",
    # a config input of the pipeline is required
    "POSTURE-010": "config", "POSTURE-022": "config", "POSTURE-026": "config", "PLUGIN-013": "config",
    "IDENT-019": "config", "AUDIT-014": "config",
    # data nobody serves
    "POSTURE-015": "not_computable", "AUDIT-DC": "not_computable",
}
EVALUATIONS = ("api", "attestation", "api+attestation", "config", "not_computable")

SEVERITY_NOTES = {  # conditions on severity the catalog states outside its severity column
    "IDENT-003": "critical signal: lifts the account to at least high",
    "IDENT-008": "critical signal: lifts the account to at least high",
    "PLUGIN-001": "critical signal: lifts the app to at least high",
    "IDENT-010": "warn above the configured standard (e.g. 90 days) is not a failure",
    # posture/audit escalations the catalog states in the logic column rather than in Sev
    "POSTURE-003": "critical if any of them holds an org-level admin role",
    "AUDIT-J03": "critical when changedValues show a grant to Anyone/Public",
}


# --- build --------------------------------------------------------------------------------------

def build(spec: Path) -> list[dict[str, str]]:
    checks, sources = parse(spec.read_text(encoding="utf-8"))
    if list(checks) != list(CHECK_IDS):
        missing, extra = set(CHECK_IDS) - set(checks), set(checks) - set(CHECK_IDS)
        order = "" if missing or extra else " (order differs)"
        raise SystemExit(f"catalog ids differ from truth.CHECK_IDS{order}: missing {sorted(missing)}, extra {sorted(extra)}")
    for table, family in ((POSTURE, "POSTURE"), (IDENT, "IDENT"), (PLUGIN, "PLUGIN"), (AUDIT, "AUDIT")):
        want = {c for c in CHECK_IDS if c.startswith(family + "-")}
        if set(table) != want:
            raise SystemExit(f"hand-written {family} lines differ: {sorted(set(table) ^ want)}")

    rows = []
    for cid, cell in checks.items():
        family = FAMILY[cid.split("-")[0]]
        keys = re.findall(r"S\d{2,3}", cell["Sources"])
        unknown = [k for k in keys if k not in sources]
        if not keys or unknown:
            raise SystemExit(f"{cid}: source keys {keys} (unknown {unknown})")
        row = {"check_id": cid, "family": family, "title": cell.get("Title") or cell.get("Detection"),
               "source_keys": " ".join(keys), "source_url": source_url(sources[keys[0]]),
               "evaluation": EVALUATION.get(cid, "api"), "weight": "", "severity_note": ""}
        if family == "posture":
            rationale, data = POSTURE[cid]
            severity, note = split_severity(cell["Sev"])
            row.update(product=cell["Product"], severity=severity, severity_note=note or SEVERITY_NOTES.get(cid, ""),
                       logic=cell["Fail logic"],
                       remediation=cell["Remediation (one line)"], rationale=rationale,
                       plan_note=cell["Plan / API notes"], data_needed=data)
        elif family in ("identity", "plugin"):
            weights, hand = (IDENT_WEIGHTS, IDENT) if family == "identity" else (PLUGIN_WEIGHTS, PLUGIN)
            weight, severity = weights[cid]
            if clean(cell["Weight / severity"]) != f"{weight} / {severity}":
                raise SystemExit(f"{cid}: catalog says {cell['Weight / severity']!r}, truth.py {weight} / {severity}")
            remediation, rationale, product, plan = hand[cid]
            row.update(product=product, severity=severity, severity_note=SEVERITY_NOTES.get(cid, ""),
                       weight=str(weight), logic=cell["Logic (fires when …)"], remediation=remediation,
                       rationale=rationale, plan_note=plan, data_needed=cell["Data needed"])
        else:
            severity, note = split_severity(cell["Sev"])
            logs = [t.strip() for t in cell["Log"].split(",")]
            parts = [AUDIT_LOGS[t] for t in logs]
            product = ", ".join(dict.fromkeys(p[0] for p in parts))
            data = "; ".join(dict.fromkeys(p[1] for p in parts))
            plan = "; ".join(dict.fromkeys(p[2] for p in parts if p[2]))
            remediation, rationale = AUDIT[cid]
            row.update(product=product, severity=severity, severity_note=note or SEVERITY_NOTES.get(cid, ""),
                       logic=AUDIT_LOGIC.get(cid, cell["Event as recorded (name / filter)"]),
                       remediation=remediation, rationale=rationale, plan_note=plan, data_needed=data)
        for col in COLUMNS:
            value = row.get(col)
            if value is None:
                raise SystemExit(f"{cid}: no {col}")
            if "\n" in value or "\r" in value:
                raise SystemExit(f"{cid}: {col} is not one line")
        if row["severity"] not in SEVERITIES or row["evaluation"] not in EVALUATIONS:
            raise SystemExit(f"{cid}: bad severity/evaluation {row['severity']!r} {row['evaluation']!r}")
        for col in ("title", "product", "logic", "remediation", "rationale", "source_url", "data_needed"):
            if not row[col]:
                raise SystemExit(f"{cid}: empty {col}")
        rows.append({col: row[col] for col in COLUMNS})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    rows = build(args.spec)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["family"]] = counts.get(row["family"], 0) + 1
    print(f"wrote {len(rows)} rows to {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
