"""What a configuration can judge: how many catalog checks its credentials give inputs for, and
which credential would unlock the rest ("add an organization API key: 58 checks need it").

The rule is the catalog's `product` column (`org/cloud`, `jira/cloud+dc`, `jira/dc, confluence/dc`):
a check applies where its products are deployed, and a configuration reads
- `org/cloud` with an organization API key (`admin_api_key`),
- `<product>/cloud` with a Cloud site configured for the product,
- `<product>/dc` with a Data Center instance of the product (service management through Jira),
so a check none of whose places is read cannot be judged. dbt's `int_check_input_gaps` applies the
same rule to what a run read, so `doctor` (before) and `run` (after) say the same thing.
not_computable checks are never judged (and not counted).
Guard: a check whose plan note starts with "Guard" needs Atlassian Guard, known absent when the
org's policies endpoint answers 403/404 (doctor's probe, or the run's coverage of org_policies).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from atlassian_posture.connector.config import OrgConfig

# the credential that reads a place, as advice (Cloud sites: see `advice`)
UNLOCK = {
    "org/cloud": "add an organization API key (admin_api_key)",
    "jira/dc": "add a Data Center instance",  # one advice for both: which product is the tenant's
    "confluence/dc": "add a Data Center instance",
}
GUARD = "Atlassian Guard on the organization"


@dataclass(frozen=True)
class Check:
    check_id: str
    places: frozenset[str]  # product/deployment pairs, jsm read through Jira
    evaluation: str
    needs_guard: bool


def places(product: str, evaluation: str = "api") -> frozenset[str]:
    """`jira+confluence/cloud+dc, org/cloud` -> {jira/cloud, jira/dc, confluence/cloud, ...}.

    Service management is read through Jira, and beside another product (`confluence+jsm`) it is
    that product's check; an attestation about the Cloud organization stands with any Cloud site."""
    out = set()
    for part in product.split(","):
        products, _, deployments = part.strip().partition("/")
        named = [name for name in products.split("+") if name != "jsm"] or ["jira"]
        for name in named:
            for deployment in deployments.split("+"):
                out.add(f"{name}/{deployment}")
    if evaluation == "attestation" and "org/cloud" in out:
        out |= {"jira/cloud", "confluence/cloud"}
    return frozenset(out)


@cache
def catalog() -> tuple[Check, ...]:
    """The catalog's checks (atlassian_posture/catalog/checks.toml) with the places they apply to."""
    from atlassian_posture.catalog import load

    return tuple(Check(c["id"], _places(c), c.get("evaluation", "api"), str(c.get("plan_note", "")).startswith("Guard"))
                 for c in load().checks)


def _places(check: dict) -> frozenset[str]:
    """An app signal is judged wherever apps are read (UPM on any site or instance), unless the catalog
    says it is about Cloud apps (the Marketplace) or Data Center only (as int_check_input_gaps)."""
    note = str(check.get("plan_note", ""))
    if check["id"].startswith("PLUGIN-") and "Cloud apps only" not in note and "DC only" not in note:
        return frozenset({"jira/cloud", "confluence/cloud", "jira/dc", "confluence/dc"})
    return places(check.get("product", ""), check.get("evaluation", "api"))


@cache
def also_needs() -> dict[str, frozenset[str]]:
    """Places a check needs besides its products (dbt var `also_needs`, any of them)."""
    import yaml

    from atlassian_posture.transform import PROJECT_DIR

    data = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    return {cid: frozenset(needed) for cid, needed in ((data.get("vars") or {}).get("also_needs") or {}).items()}


def configured_places(org: OrgConfig) -> set[str]:
    read = {"org/cloud"} if org.admin_api_key else set()
    read |= {f"{product}/cloud" for site in org.sites for product in site.products}
    read |= {f"{dc.product}/dc" for dc in org.data_center}
    return read


@dataclass
class Evaluability:
    tenant: str
    total: int
    evaluable: int
    unlock: Counter = field(default_factory=Counter)  # advice -> checks it would unlock

    def line(self) -> str:
        text = f"{self.tenant}: {self.evaluable} of {self.total} checks can be judged with this configuration"
        if self.unlock:
            text += "; " + "; ".join(f"{advice}: {n} check{'s' if n != 1 else ''} need{'' if n != 1 else 's'} it"
                                     for advice, n in self.unlock.most_common())
        return text


def evaluability(org: OrgConfig, guard: bool | None = None) -> Evaluability:
    """How many checks `org`'s configuration can judge; `guard` False when Guard is known absent."""
    read = configured_places(org)
    checks = [c for c in catalog() if c.evaluation != "not_computable"]
    result = Evaluability(org.key, len(checks), 0)
    extra = also_needs()
    for check in checks:
        if check.check_id in extra and check.places & read and not extra[check.check_id] & read:
            result.unlock[advice(extra[check.check_id])] += 1
            continue
        if check.places & read:
            if check.needs_guard and guard is False:
                result.unlock[GUARD] += 1
            else:
                result.evaluable += 1
            continue
        result.unlock[advice(check.places)] += 1
    return result


def advice(places_: frozenset[str]) -> str:
    """The cheapest credential that would read one of `places_`: the org key first (it reads most),
    then a Cloud site of either product, then a Data Center instance."""
    if "org/cloud" in places_:
        return UNLOCK["org/cloud"]
    cloud = sorted(p.split("/")[0].capitalize() for p in places_ if p.endswith("/cloud"))
    if cloud:
        return f"add a {' or '.join(cloud)} Cloud site"
    return UNLOCK["jira/dc"]


def _no_guard(statuses: list[str]) -> bool | None:
    if not statuses:
        return None
    return not any(s == "ok" for s in statuses) and any(s in ("forbidden", "not_available") for s in statuses)


def doctor_lines(tenants: list[OrgConfig], findings: list) -> list[str]:
    """Per tenant, for `doctor`: Guard known absent when the policies probe answered 403/404."""
    out = []
    for org in tenants:
        statuses = [f.status for f in findings if f.tenant == org.key and f.target == "organization"
                    and f.what == "policies"]
        absent = _no_guard(statuses)
        out.append(evaluability(org, None if absent is None else not absent).line())
    return out


def run_lines(result, warehouse=None) -> list[str]:
    """At the end of `run` (a `RunResult`): per tenant what it can judge (Guard known absent when
    org_policies was forbidden/not available), then every check a drifted column left unjudged."""
    out = []
    for org in result.tenants:
        statuses = [row["status"] for row in result.coverage
                    if row["resource"] == "org_policies" and row["tenant"].split("/")[0] == org.key]
        absent = _no_guard(statuses)
        out.append(evaluability(org, None if absent is None else not absent).line())
    return out + (judged_lines(warehouse) + drift_lines(warehouse) if warehouse is not None else [])


def _query(warehouse, *queries: str) -> list[list[tuple]] | None:
    """Each query's rows from a DuckDB warehouse, read-only; None for a server or a warehouse without the marts."""
    import duckdb

    from atlassian_posture.warehouse import Warehouse

    warehouse = Warehouse.of(warehouse)
    if warehouse.is_server:
        return None
    try:
        with duckdb.connect(str(warehouse.path), read_only=True) as con:
            return [con.execute(sql).fetchall() for sql in queries]
    except duckdb.Error:
        return None


def judged_lines(warehouse) -> list[str]:
    """What the run actually judged, per tenant, from `marts.check_status`: the configuration allows an
    upper bound; refused or absent endpoints (a scoped token and the plugin manager, a 403) take more away."""
    found = _query(
        warehouse,
        "select org_key, count(*) filter (where status = 'evaluated'), count(*) filter (where status = 'manual'), "
        "count(*) filter (where status = 'not_evaluable') from marts.check_status group by 1 order by 1",
        "select org_key, reason, count(*) as checks from marts.check_status where status = 'not_evaluable' "
        "group by all order by org_key, checks desc, reason")
    if found is None:
        return []
    counts, reasons = found
    out = []
    for key, evaluated, manual, not_evaluable in counts:
        top = [f"{n} {reason}" for k, reason, n in reasons if k == key][:3]
        out.append(f"{key}: this run judged {evaluated} checks ({manual} await an attestation); {not_evaluable} not "
                   f"evaluable" + (f", mostly: {'; '.join(top)}" if top else ""))
    return out


def drift_lines(warehouse) -> list[str]:
    """Checks a run could not judge because a required column was absent (DuckDB warehouses)."""
    found = _query(
        warehouse,
        "select orgs.org_key, gaps.check_id, gaps.reason from intermediate.int_check_input_gaps as gaps "
        "join intermediate.int_orgs as orgs using (org_id) where gaps.reason like '%has no column%' order by 1, 2")
    return [f"{key}: {check_id} not evaluable: {reason}" for key, check_id, reason in found[0]] if found else []
