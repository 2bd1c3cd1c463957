"""The questions the demo, the notebooks, the dashboard and the report ask of the marts.

One function per question, each a single read-only SQL query on the published copy
(`readcopy.read_sql`) returning a pandas DataFrame. `org` narrows to one organization
(its `org_key`); None means every organization in the warehouse.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from atlassian_posture.consume.readcopy import read_sql

Warehouse = Path | str | None

SEVERITY_ORDER = ["critical", "high", "medium", "low"]
SEVERITY_RANK = "case severity when 'critical' then 1 when 'high' then 2 when 'medium' then 3 else 4 end"
# organization id -> key, for marts that carry only the id
ORGS = "(select distinct org_id, org_key from marts.check_status)"
LEVEL_RANK = ("case risk_level when 'critical' then 1 when 'high' then 2 when 'medium' then 3 when 'low' then 4 "
              "else 5 end")


def _org_filter(org: str | None, column: str = "org_key") -> tuple[str, list]:
    return (f" and {column} = ?", [org]) if org else ("", [])


def organizations(warehouse: Warehouse = None) -> pd.DataFrame:
    """Each organization: key, id, when it was last evaluated, its latest posture score."""
    return read_sql(f"""
        with orgs as {ORGS},
        latest as (
            select *, row_number() over (partition by org_id order by score_date desc) as recency
            from marts.posture_score_daily
        )
        select orgs.org_key, orgs.org_id, latest.evaluated_at, latest.posture_score, latest.checks_evaluated,
               latest.checks_passing, latest.checks_failing, latest.checks_manual, latest.checks_not_evaluable,
               latest.failing_critical, latest.failing_high, latest.failing_medium, latest.failing_low
        from orgs left join latest on orgs.org_id = latest.org_id and latest.recency = 1
        order by orgs.org_key
    """, warehouse)


def score_history(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """Posture score per organization and day."""
    where, params = _org_filter(org, "orgs.org_key")
    return read_sql(f"""
        select orgs.org_key, daily.score_date, daily.posture_score, daily.checks_failing,
               daily.failing_critical, daily.failing_high, daily.failing_medium, daily.failing_low
        from marts.posture_score_daily as daily
        inner join {ORGS} as orgs on daily.org_id = orgs.org_id
        where true{where}
        order by orgs.org_key, daily.score_date
    """, warehouse, params)


def failing_checks(warehouse: Warehouse = None, org: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Failing posture checks, worst first: severity, how many resources fail, the fix."""
    where, params = _org_filter(org)
    return read_sql(f"""
        select org_key, check_id, title, severity, catalog_product,
               count(*) as failing_resources,
               min(first_seen_at) as first_seen_at,
               any_value(remediation) as remediation
        from marts.posture_findings
        where status = 'fail'{where}
        group by org_key, check_id, title, severity, catalog_product
        order by {SEVERITY_RANK}, failing_resources desc, check_id, org_key
        {f'limit {int(limit)}' if limit else ''}
    """, warehouse, params)


def check_findings(check_id: str, warehouse: Warehouse = None, org: str | None = None,
                   status: str = "fail") -> pd.DataFrame:
    """The resources one check evaluated (by default those that fail), with evidence."""
    where, params = _org_filter(org)
    return read_sql(f"""
        select org_key, site_ref, product, resource_type, resource_key, resource_name, status, evidence,
               first_seen_at, last_seen_at
        from marts.posture_findings
        where check_id = ? and status = ?{where}
        order by org_key, site_ref, resource_key
    """, warehouse, [check_id, status, *params])


def check_detail(check_id: str, warehouse: Warehouse = None) -> dict:
    """Title, severity, rationale, remediation and source of one catalog check."""
    frame = read_sql("""
        select check_id, title, severity, evaluation, rationale, remediation, source_url
        from marts.posture_findings where check_id = ? limit 1
    """, warehouse, [check_id])
    return frame.iloc[0].to_dict() if len(frame) else {}


def check_status_counts(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """How many catalog checks are pass / fail / manual / not evaluable, per organization and family."""
    where, params = _org_filter(org)
    return read_sql(f"""
        select org_key, family, status, count(*) as checks
        from marts.check_status where true{where}
        group by all order by org_key, family, status
    """, warehouse, params)


def findings_by_severity_product(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """Failing findings counted by severity and product."""
    where, params = _org_filter(org)
    return read_sql(f"""
        select coalesce(product, 'org') as product, severity, count(*) as findings
        from marts.posture_findings
        where status = 'fail'{where}
        group by coalesce(product, 'org'), severity order by product, {SEVERITY_RANK}
    """, warehouse, params)


def riskiest_accounts(warehouse: Warehouse = None, org: str | None = None, limit: int | None = 10) -> pd.DataFrame:
    """Accounts by identity risk score, highest first, with the signals that fired."""
    where, params = _org_filter(org)
    return read_sql(f"""
        select org_key, display_name, email, account_type, deployment, risk_level, risk_score, signals,
               is_privileged, mfa_enabled, is_external, last_active_at
        from marts.identity_risks
        where risk_score > 0{where}
        order by risk_score desc, {LEVEL_RANK}, display_name
        {f'limit {int(limit)}' if limit else ''}
    """, warehouse, params)


def identity_table(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """Every account with its access and risk, for filtering."""
    where, params = _org_filter(org)
    return read_sql(f"""
        select org_key, display_name, email, email_domain, account_type, deployment, account_status,
               is_live, is_managed, is_external, is_guest, mfa_enabled, is_org_admin, is_product_admin,
               is_privileged, product_keys, last_active_at, risk_level, risk_score, signals
        from marts.identity_risks where true{where}
        order by risk_score desc, display_name
    """, warehouse, params)


def identity_signal_counts(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """How many accounts each identity signal fired on."""
    where, params = _org_filter(org, "risks.org_key")
    return read_sql(f"""
        select signals.signal_id, signals.title, signals.severity, count(*) as accounts
        from marts.identity_signals as signals
        inner join marts.identity_risks as risks
            on signals.org_id = risks.org_id and signals.account_key = risks.account_key
        where true{where}
        group by all order by accounts desc, signals.signal_id
    """, warehouse, params)


def admin_sprawl(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """Live privileged accounts by kind of admin power, and how many of them lack 2SV or look dormant."""
    where, params = _org_filter(org)
    return read_sql(f"""
        with admins as (
            select *,
                case when is_org_admin then 'org admin'
                     when is_product_admin then 'product admin'
                     else 'admin group member' end as admin_kind
            from marts.identity_risks
            where is_live and (is_org_admin or is_product_admin or is_in_admin_group){where}
        )
        select org_key, admin_kind, count(*) as accounts,
               count(*) filter (where not coalesce(mfa_enabled, false)) as without_2sv,
               count(*) filter (where signals like '%IDENT-001%' or signals like '%IDENT-002%') as dormant,
               count(*) filter (where is_external) as external
        from admins group by all order by org_key, accounts desc
    """, warehouse, params)


def dormant_and_external(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """Live accounts with product access by activity bucket and whether they are external."""
    where, params = _org_filter(org, "risks.org_key")
    return read_sql(f"""
        with accounts as (
            select risks.*, orgs.as_of
            from marts.identity_risks as risks
            inner join (select org_id, max(evaluated_at) as as_of from marts.posture_score_daily group by 1) as orgs
                on risks.org_id = orgs.org_id
            where risks.is_live and risks.has_product_access and risks.account_type = 'atlassian'{where}
        )
        select org_key,
            case when last_active_at is null then 'never seen'
                 when last_active_at < as_of - interval 180 day then 'idle > 180 days'
                 when last_active_at < as_of - interval 90 day then 'idle 90-180 days'
                 when last_active_at < as_of - interval 30 day then 'idle 30-90 days'
                 else 'active in 30 days' end as activity,
            case when is_external then 'external' else 'internal' end as audience,
            count(*) as accounts
        from accounts group by all order by org_key, activity, audience
    """, warehouse, params)


def riskiest_apps(warehouse: Warehouse = None, org: str | None = None, limit: int | None = 10) -> pd.DataFrame:
    """Installed third-party apps by plugin risk score, highest first."""
    where, params = _org_filter(org)
    return read_sql(f"""
        select org_key, app_name, vendor_name, site_ref, product, framework, is_enabled, risk_level, risk_score,
               signals, scopes, installed_at
        from marts.plugin_risks
        where is_user_installed{where}
        order by risk_score desc, {LEVEL_RANK}, app_name
        {f'limit {int(limit)}' if limit else ''}
    """, warehouse, params)


def app_scopes(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """Each OAuth scope granted to installed Cloud apps: how many apps hold it, and its risk signal."""
    where, params = _org_filter(org, "apps.org_key")
    return read_sql(f"""
        with granted as (
            select apps.org_key, apps.app_key, trim(scope.unnest) as scope
            from marts.plugin_risks as apps, unnest(string_split(apps.scopes, ',')) as scope
            where apps.scopes is not null and apps.scopes <> ''{where}
        )
        select granted.scope, count(distinct granted.app_key) as apps,
               coalesce(max(scope_risk.signal_id), '') as signal_id
        from granted
        left join reference.scope_risk as scope_risk
            on (scope_risk.match_type = 'exact' and granted.scope = scope_risk.scope)
            or (scope_risk.match_type = 'prefix' and granted.scope like scope_risk.scope || '%')
        group by granted.scope order by apps desc, granted.scope
    """, warehouse, params)


def audit_daily(warehouse: Warehouse = None, org: str | None = None, days: int = 90) -> pd.DataFrame:
    """Audit events per day and source over the last `days` days of each organization's log."""
    where, params = _org_filter(org, "events.org_key")
    return read_sql(f"""
        with events as (
            select events.*, max(events.occurred_at) over (partition by events.org_id) as newest
            from marts.audit_events as events
            where true{where}
        )
        select org_key, cast(occurred_at as date) as day, source, count(*) as events
        from events
        where occurred_at >= newest - interval {int(days)} day
        group by all order by org_key, day, source
    """, warehouse, params)


def detections(warehouse: Warehouse = None, org: str | None = None, limit: int | None = 200) -> pd.DataFrame:
    """Security detections, newest first."""
    where, params = _org_filter(org, "orgs.org_key")
    return read_sql(f"""
        select orgs.org_key, d.occurred_at, d.detection_id, d.title, d.severity, d.source, d.site_ref,
               d.actor_name, d.action_name, d.country, d.evidence
        from marts.security_detections as d
        inner join {ORGS} as orgs on d.org_id = orgs.org_id
        where true{where}
        order by d.occurred_at desc, d.detection_id
        {f'limit {int(limit)}' if limit else ''}
    """, warehouse, params)


def detection_counts(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """Detections by id, with severity, how many events matched and the latest."""
    where, params = _org_filter(org, "orgs.org_key")
    return read_sql(f"""
        select d.detection_id, d.title, d.severity, count(*) as events, max(d.occurred_at) as latest
        from marts.security_detections as d
        inner join {ORGS} as orgs on d.org_id = orgs.org_id
        where true{where}
        group by d.detection_id, d.title, d.severity
        order by {SEVERITY_RANK.replace('severity', 'd.severity')}, events desc
    """, warehouse, params)


def public_exposure(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """Projects and spaces open to anyone (anonymous or every logged-in user), from effective_permissions."""
    where, params = _org_filter(org, "orgs.org_key")
    return read_sql(f"""
        select orgs.org_key, p.site_ref, p.product, p.resource_type, p.resource_name, p.permission,
               p.principal_name, p.access_path
        from marts.effective_permissions as p
        inner join {ORGS} as orgs on p.org_id = orgs.org_id
        where p.is_public_exposure{where}
        order by orgs.org_key, p.site_ref, p.resource_name, p.permission
    """, warehouse, params)
