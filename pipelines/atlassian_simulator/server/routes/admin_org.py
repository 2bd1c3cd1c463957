"""Organization API v1: orgs, domains, managed accounts, last-active dates and policies.

Shapes follow `admin-organization.openapi.reserialized.json` (JSON:API-like objects with
`id`, `type`, `attributes`, `links.self`); paging is the Admin v1 style (`cursor`,
absolute `links.next`; policies also `meta.next`). None of these list endpoints documents a
`limit`, so the page size is fixed (an undocumented `limit` can only lower it).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlassian_simulator.model import Account, Domain, Organization, Policy
from atlassian_simulator.server.context import require_admin, require_guard
from atlassian_simulator.server.paging import admin_v1
from atlassian_simulator.server.routes.admin_common import (
    PRODUCT_NAMES,
    V1_PRODUCT_KEYS,
    admin_error,
    avatar,
    day,
    directory_user,
    endpoint,
    gateway_url,
    iso,
    iso_seconds,
    org_for,
    require_guard_code,
    sites_by_name,
)

ORGS_PAGE = 20
DOMAINS_PAGE = 20
USERS_PAGE = 100
POLICIES_PAGE = 20
POLICY_TYPES = ("ip-allowlist", "data-residency", "data-security")


def org_url(request: Request, org: Organization) -> str:
    return f"{gateway_url(request)}/admin/v1/orgs/{org.org_id}"


# --- renderers -----------------------------------------------------------------------------------


def render_org(request: Request, org: Organization) -> dict:
    url = org_url(request, org)
    return {
        "id": org.org_id,
        "type": "orgs",
        "attributes": {"name": org.name},
        "relationships": {
            "domains": {"links": {"related": f"{url}/domains"}},
            "users": {"links": {"related": f"{url}/users"}},
        },
        "links": {"self": url},
    }


def render_domain(request: Request, org: Organization, domain: Domain) -> dict:
    return {
        "id": domain.domain_id,
        "type": "domains",
        "attributes": {"name": domain.name, "claim": {"type": domain.claim_type, "status": domain.status}},
        "links": {"self": f"{org_url(request, org)}/domains/{domain.domain_id}"},
    }


def render_managed_user(request: Request, org: Organization, account: Account) -> dict:
    """A managed account as `GET /v1/orgs/{orgId}/users` shows it (snake_case `User`)."""
    sites = sites_by_name(org)
    products = []
    for access in account.product_access:
        if access.site_name not in sites:
            continue
        host = f"https://{access.site_name}.atlassian.net"
        product = {
            "key": V1_PRODUCT_KEYS.get(access.product_key, access.product_key),
            "name": PRODUCT_NAMES.get(access.product_key, access.product_key),
            "url": f"{host}/wiki" if access.product_key == "confluence" else host,
        }
        if access.last_active is not None:
            product["last_active"] = iso(access.last_active)
        products.append(product)
    billable = bool(products) and account.account_status == "active" and account.membership_status == "active"
    user = {
        "account_id": account.account_id,
        "account_type": account.account_type,
        "account_status": account.account_status,
        "name": account.name,
        "picture": avatar(account),
    }
    if account.email:
        user["email"] = account.email
    user["access_billable"] = billable
    if account.last_active is not None:
        user["last_active"] = iso(account.last_active)
    user["product_access"] = products
    user["links"] = {"self": f"{org_url(request, org)}/users/{account.account_id}"}
    return user


def _resource_status(policy: Policy, ari: str) -> str:
    # A generator may plant a failed application with rule["applicationStatus"] = {ari: status}.
    return (policy.rule.get("applicationStatus") or {}).get(ari, "applied")


def render_policy_v1(policy: Policy) -> dict:
    """A policy as `/v1/orgs/{orgId}/policies` shows it.

    v1 only knows `enabled`/`disabled` and the `AllowIfContainedRule` (`{"in": [...]}`,
    "applicable when policy type is ip-allowlist or data-residency"): a data security policy
    shows `active` as `enabled`, `draft` as `disabled` and no rule (its rules are only
    readable through the Control API).
    """
    status = {"active": "enabled", "draft": "disabled"}.get(policy.status, policy.status)
    attributes: dict = {"type": policy.policy_type, "name": policy.name, "status": status}
    values = policy.rule.get("in", policy.rule.get("ipRanges"))
    if policy.policy_type != "data-security" and values is not None:
        attributes["rule"] = {"in": list(values)}
    attributes["resources"] = [{"id": ari, "applicationStatus": _resource_status(policy, ari)}
                               for ari in policy.resources]
    return {"id": policy.policy_id, "type": "policy", "attributes": attributes}


def render_last_active(org: Organization, account: Account) -> dict:
    sites = sites_by_name(org)
    products = []
    for access in account.product_access:
        site = sites.get(access.site_name)
        if site is None or access.last_active is None:  # never used: not listed (see the spec)
            continue
        products.append({
            "id": site.cloud_id,
            "key": V1_PRODUCT_KEYS.get(access.product_key, access.product_key),
            "last_active": day(access.last_active),
            "last_active_timestamp": iso_seconds(access.last_active),
        })
    return {
        "product_access": products,
        "added_to_org": day(account.added_to_org),
        "added_to_org_timestamp": iso_seconds(account.added_to_org),
    }


# --- handlers ------------------------------------------------------------------------------------


@endpoint
async def list_orgs(request: Request):
    """Only the organization whose key is calling (an org API key belongs to one org)."""
    context = require_admin(request, "organizations")
    return admin_v1(request, [context.org], lambda o: render_org(request, o), ORGS_PAGE, ORGS_PAGE)


@endpoint
async def get_org(request: Request):
    context = org_for(request)
    return JSONResponse({"data": render_org(request, context.org)})


@endpoint
async def list_domains(request: Request):
    org = org_for(request, missing=403).org
    return admin_v1(request, org.domains, lambda d: render_domain(request, org, d), DOMAINS_PAGE, DOMAINS_PAGE)


@endpoint
async def get_domain(request: Request):
    org = org_for(request, missing=403).org
    domain = next((d for d in org.domains if d.domain_id == request.path_params["domain_id"]), None)
    if domain is None:
        raise admin_error(404, "Domain not found", "ADMIN-404-3")
    return JSONResponse({"data": render_domain(request, org, domain)})


@endpoint
async def list_managed_users(request: Request):
    """Managed accounts only (claimed through a verified domain), with `meta.total`."""
    org = org_for(request).org
    managed = [a for a in org.accounts if a.claim_status == "managed" and directory_user(a)]
    return admin_v1(request, managed, lambda a: render_managed_user(request, org, a), USERS_PAGE, USERS_PAGE,
                    meta={"total": len(managed)})


@endpoint
async def last_active_dates(request: Request):
    """One user's last active date per product; every product fits one page (no `links.next`)."""
    org = org_for(request, missing=403).org  # documents 403 ADMIN-403-3, not an org 404
    account_id = request.path_params["account_id"]
    account = next((a for a in org.accounts if a.account_id == account_id and directory_user(a)), None)
    if account is None:
        raise admin_error(404, "User not found", "ADMIN-404-8")
    return JSONResponse({"data": render_last_active(org, account), "links": {}})


@endpoint
async def list_policies(request: Request):
    org = org_for(request).org
    require_guard(request, 404)
    wanted = request.query_params.get("type")
    if wanted and wanted not in POLICY_TYPES:
        raise admin_error(400, "Bad request", "ADMIN-400-19", f"Unknown policy type '{wanted}'.")
    policies = [p for p in org.policies if not wanted or p.policy_type == wanted]
    return admin_v1(request, policies, render_policy_v1, POLICIES_PAGE, POLICIES_PAGE, meta_next=True)


@endpoint
async def get_policy(request: Request):
    context = org_for(request)
    org = context.org
    require_guard_code(context, 404, "ADMIN-404-5")
    policy = next((p for p in org.policies if p.policy_id == request.path_params["policy_id"]), None)
    if policy is None:
        raise admin_error(404, "Policy not found", "ADMIN-404-5")
    return JSONResponse({"data": render_policy_v1(policy)})


_V1 = "/admin/v1/orgs/{org_id}"
ROUTES = [
    Route("/admin/v1/orgs", list_orgs, methods=["GET"]),
    Route(_V1, get_org, methods=["GET"]),
    Route(f"{_V1}/domains", list_domains, methods=["GET"]),
    Route(f"{_V1}/domains/{{domain_id}}", get_domain, methods=["GET"]),
    Route(f"{_V1}/users", list_managed_users, methods=["GET"]),
    Route(f"{_V1}/directory/users/{{account_id}}/last-active-dates", last_active_dates, methods=["GET"]),
    Route(f"{_V1}/policies", list_policies, methods=["GET"]),
    Route(f"{_V1}/policies/{{policy_id}}", get_policy, methods=["GET"]),
]
