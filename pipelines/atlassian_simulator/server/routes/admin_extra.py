"""API-access tokens, the Control API (policies, authentication policies) and user management.

- `GET /admin/api-access/v1/orgs/{orgId}/api-tokens` and everything under
  `/admin/control/v1/...`: **no OpenAPI document** was obtained; shapes follow
  Atlassian's reference pages for the Admin API (organization, policies, API tokens) (bulk-fetch body `{"accountIds": [...]}` answered by an array;
  resources pages of 25 with `meta {next, page_size}`). Field names not shown there are
  this simulator's choice (documented on each renderer).
- `/users/{account_id}/manage[/profile|/api-tokens]`: `admin-user-management.openapi.json`,
  for managed accounts only; its error bodies are `{"key": ...}`, not the Admin API's.

Authentication-policy *settings* (SSO / 2SV enforcement) are deliberately not readable: no
documented read call exists, so checks that need them take an admin's attestation.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.model import Account, ApiToken, Organization, Policy
from atlassian_simulator.server.context import require_admin, require_guard
from atlassian_simulator.server.paging import ADMIN_INVALID_CURSOR, InvalidCursor, admin_v1, decode_cursor
from atlassian_simulator.server.routes.admin_common import (
    admin_error,
    avatar,
    bad_request,
    body_list,
    endpoint,
    iso,
    json_body,
    org_for,
    um_error,
)

TOKENS_PAGE, TOKENS_CAP = 50, 100
CONTROL_PAGE = 25
AUTH_POLICIES_PAGE = 20
BULK_FETCH_MAX = 100
PRIVILEGES = ("profile", "profile.write", "profile.read", "email.set", "lifecycle.enablement", "lifecycle.delete",
              "apiToken.read", "apiToken.delete")
PROFILE_FIELDS = ("name", "nickname", "zoneinfo", "locale", "extended_profile.job_title",
                  "extended_profile.organization", "extended_profile.department", "extended_profile.location")
SCIM_FIELDS = {"name", "nickname", "extended_profile.job_title", "extended_profile.organization",
               "extended_profile.department", "extended_profile.location"}


# --- API-access: org-wide API token inventory ----------------------------------------------------


def _moment(raw: str, name: str) -> datetime:
    """A filter bound: epoch milliseconds, an ISO 8601 date-time or a date."""
    try:
        if raw.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(raw) / 1000, UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise bad_request(f"Invalid value '{raw}' for parameter '{name}'.") from None


def render_token(org: Organization, token: ApiToken, owner: Account) -> dict:
    return {
        "id": token.token_id,
        "label": token.label,
        "status": token.status,
        "createdAt": iso(token.created_at),
        "expiresAt": iso(token.expires_at),
        "lastActiveAt": iso(token.last_active_at),
        "user": {"id": owner.account_id, "orgId": org.org_id, "name": owner.name, "email": owner.email},
    }


@endpoint
async def list_api_tokens(request: Request):
    """Tokens of the org's managed accounts; filters `status`, `q`, `createdAt*`, `lastActiveAt*`."""
    org = org_for(request).org
    token_param = request.query_params.get("cursor")
    try:
        carried = decode_cursor(token_param).get("q") if token_param else None
    except InvalidCursor as exc:
        raise bad_request(str(exc), ADMIN_INVALID_CURSOR) from None
    filters = carried if carried is not None else {
        k: v for k, v in request.query_params.items()
        if k in ("status", "q", "createdAtBefore", "createdAtAfter", "lastActiveAtBefore", "lastActiveAtAfter")
    }
    owners = {a.account_id: a for a in org.accounts if a.claim_status == "managed" and a.account_type == "atlassian"}
    bounds = {k: _moment(v, k) for k, v in filters.items() if k.endswith(("Before", "After"))}
    rows = []
    for token in org.api_tokens:
        owner = owners.get(token.account_id)
        if owner is None:
            continue
        if filters.get("status") and token.status.lower() != filters["status"].lower():
            continue
        if filters.get("q") and filters["q"].lower() not in " ".join(
                (token.label, owner.name, owner.email or "")).lower():
            continue
        if any(not _within(getattr(token, "created_at" if k.startswith("created") else "last_active_at"), k, b)
               for k, b in bounds.items()):
            continue
        rows.append((token, owner))
    return admin_v1(request, rows, lambda row: render_token(org, *row), TOKENS_PAGE, TOKENS_CAP,
                    cursor_state={"q": filters})


def _within(moment: datetime | None, name: str, bound: datetime) -> bool:
    if moment is None:
        return False
    return moment < bound if name.endswith("Before") else moment > bound


# --- Control API: policies, resources, authentication policies -----------------------------------


def _status(policy: Policy, ari: str) -> str:
    return (policy.rule.get("applicationStatus") or {}).get(ari, "applied")


def render_control_policy(policy: Policy) -> dict:
    """Data security policies: `status` active/draft, `metadata.policyCoverageLevel`, `rule.export`."""
    attributes: dict = {"type": policy.policy_type, "name": policy.name, "status": policy.status}
    if policy.policy_type == "data-security":
        attributes["metadata"] = {"policyCoverageLevel": policy.rule.get("policyCoverageLevel", "UNASSIGNED")}
        attributes["rule"] = {k: v for k, v in policy.rule.items()
                              if k not in ("policyCoverageLevel", "applicationStatus")}
    else:
        values = policy.rule.get("in", policy.rule.get("ipRanges"))
        attributes["rule"] = {"in": list(values or [])}
    attributes["resources"] = [{"id": ari, "applicationStatus": _status(policy, ari)} for ari in policy.resources]
    attributes["createdAt"] = iso(policy.created_at)
    attributes["updatedAt"] = iso(policy.updated_at)
    return {"id": policy.policy_id, "type": "policy", "attributes": attributes}


@endpoint
async def control_policies(request: Request):
    org = org_for(request).org
    require_guard(request, 404)
    wanted = request.query_params.get("type")
    policies = [p for p in org.policies if not wanted or p.policy_type == wanted]
    return admin_v1(request, policies, render_control_policy, CONTROL_PAGE, CONTROL_PAGE, meta_next=True)


@endpoint
async def control_policy_resources(request: Request):
    org = org_for(request).org
    require_guard(request, 404)
    policy = next((p for p in org.policies if p.policy_id == request.path_params["policy_id"]), None)
    if policy is None:
        raise admin_error(404, "Policy not found", "ADMIN-404-5")
    resources = [{"id": ari, "applicationStatus": _status(policy, ari)} for ari in policy.resources]
    return admin_v1(request, resources, lambda r: r, CONTROL_PAGE, CONTROL_PAGE, meta_next=True)


@endpoint
async def auth_policies(request: Request):
    """Ids and names only: a policy's settings have no documented read call."""
    org = org_for(request).org
    require_guard(request, 403)
    return admin_v1(request, org.auth_policies,
                    lambda p: {"id": p.policy_id, "type": "auth-policy", "attributes": {"name": p.name}},
                    AUTH_POLICIES_PAGE, AUTH_POLICIES_PAGE)


@endpoint
async def auth_policies_bulk_fetch(request: Request):
    """`{"accountIds": [...]}` -> `[{email, accountId, policyId, policyName}]` for the managed ones."""
    org = org_for(request).org
    require_guard(request, 403)
    body = await json_body(request)
    ids = body_list(body, "accountIds") if isinstance(body, dict) else body if isinstance(body, list) else None
    if not ids or not all(isinstance(i, str) for i in ids):
        raise bad_request("The body must be {\"accountIds\": [...]} with at least one account id.", "ADMIN-400-24")
    if len(ids) > BULK_FETCH_MAX:
        raise bad_request(f"At most {BULK_FETCH_MAX} account ids per request.", "ADMIN-400-24")
    policies = {p.policy_id: p for p in org.auth_policies}
    accounts = {a.account_id: a for a in org.accounts if a.claim_status == "managed"}
    out = []
    for account_id in dict.fromkeys(ids):
        account = accounts.get(account_id)
        policy = policies.get(account.auth_policy_id) if account else None
        if policy is None:
            continue
        out.append({"email": account.email, "accountId": account.account_id, "policyId": policy.policy_id,
                    "policyName": policy.name})
    return JSONResponse(out)


# --- User management API (managed accounts) ------------------------------------------------------


def managed_account(request: Request) -> Account:
    """The managed account in the caller's org; 404 `accountNotFound`, 403 `forbidden.targetUnverified`."""
    org = require_admin(request, "this account").org
    account = next((a for a in org.accounts if a.account_id == request.path_params["account_id"]), None)
    if account is None:
        raise um_error(404, "accountNotFound")
    if account.claim_status != "managed" or account.account_type != "atlassian":
        raise um_error(403, "forbidden.targetUnverified")
    return account


def _rule(allowed: bool, reason: str = "externalDirectory.scim") -> dict:
    return {"allowed": True} if allowed else {"allowed": False, "reason": {"key": reason}}


@endpoint
async def manageability(request: Request):
    """What the org may do to the account: SCIM-synced accounts are restricted where the IdP rules."""
    account = managed_account(request)
    requested = []
    for raw in request.query_params.getlist("privileges"):
        requested.extend(p for p in raw.split(",") if p)
    for name in requested:
        if name not in PRIVILEGES:
            raise um_error(400, "badRequest")
    synced = account.management_source == "synced"
    profile = {field: _rule(not (synced and field in SCIM_FIELDS)) for field in PROFILE_FIELDS}
    rules = {
        "profile": profile,
        "profile.write": profile,
        "profile.read": _rule(True),
        "email.set": _rule(not synced),
        "lifecycle.enablement": _rule(not synced),
        "lifecycle.delete": _rule(not synced),
        "apiToken.read": _rule(True),
        "apiToken.delete": _rule(True),
    }
    return JSONResponse({name: rules[name] for name in PRIVILEGES if not requested or name in requested})


@endpoint
async def profile(request: Request):
    account = managed_account(request)
    body = {
        "account_id": account.account_id,
        "account_type": account.account_type,
        "account_status": account.account_status,
        "name": account.name,
        "picture": avatar(account),
        "email": account.email,
        "characteristics": {"not_mentionable": False},
        "nickname": (account.nickname or account.name)[:30],
        "zoneinfo": account.timezone,
        "locale": account.locale.replace("_", "-"),
        "extended_profile": {},
    }
    return JSONResponse({"account": body})


@endpoint
async def user_api_tokens(request: Request):
    account = managed_account(request)
    org = require_admin(request).org
    tokens = sorted((t for t in org.api_tokens if t.account_id == account.account_id),
                    key=lambda t: (t.created_at, t.token_id))
    out = []
    for token in tokens:
        row = {"id": token.token_id, "label": token.label, "createdAt": iso(token.created_at)}
        if token.last_active_at is not None:
            row["lastAccess"] = iso(token.last_active_at)
        if token.expires_at is not None:
            row["expiry"] = iso(token.expires_at)
        out.append(row)
    return JSONResponse(out)


ROUTES = [
    Route("/admin/api-access/v1/orgs/{org_id}/api-tokens", list_api_tokens, methods=["GET"]),
    Route("/admin/control/v1/orgs/{org_id}/policies", control_policies, methods=["GET"]),
    Route("/admin/control/v1/orgs/{org_id}/policies/{policy_id}/resources", control_policy_resources,
          methods=["GET"]),
    Route("/admin/control/v1/orgs/{org_id}/auth-policies", auth_policies, methods=["GET"]),
    Route("/admin/control/v1/orgs/{org_id}/users/auth-policies/bulk-fetch", auth_policies_bulk_fetch,
          methods=["POST"]),
    Route("/users/{account_id}/manage", manageability, methods=["GET"]),
    Route("/users/{account_id}/manage/profile", profile, methods=["GET"]),
    Route("/users/{account_id}/manage/api-tokens", user_api_tokens, methods=["GET"]),
]
