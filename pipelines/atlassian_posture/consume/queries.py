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


# An organization-level finding names the organization (its key), not its UUID; rows about no site say so
RESOURCE_NAME = ("case when resource_type = 'org' then 'organization ' || org_key "
                 "else coalesce(resource_name, resource_key) end")
SITE = "coalesce(site_ref, case when resource_type = 'org' then 'organization' else '—' end)"
# The signals that fired on an account or app, worst first, each with its catalog title
IDENTITY_SIGNALS = """(select org_id, account_key, count(*) as signal_count,
        string_agg(signal_id || ' ' || title, '; ' order by weight desc, signal_id) as signal_titles,
        string_agg(signal_id || ' ' || title || coalesce(': ' || evidence, ''), '; ' order by weight desc, signal_id)
            as signal_evidence,
        list(signal_id || ' ' || title || coalesce(': ' || evidence, '') order by weight desc, signal_id)
            as evidence_items
    from marts.identity_signals group by org_id, account_key)"""
PLUGIN_SIGNALS = """(select org_id, app_key, count(*) as signal_count,
        string_agg(signal_id || ' ' || title, '; ' order by weight desc, signal_id) as signal_titles
    from marts.plugin_signals group by org_id, app_key)"""


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
        ,
        -- the same words as check_status (and every table): not_evaluable and not_computable apart
        unjudged as (
            select org_id,
                   count(*) filter (where status = 'not_evaluable') as checks_not_evaluable,
                   count(*) filter (where status = 'not_computable') as checks_not_computable
            from marts.check_status where family = 'posture' group by org_id
        )
        select orgs.org_key, orgs.org_id, latest.evaluated_at, latest.posture_score, latest.checks_evaluated,
               latest.checks_passing, latest.checks_failing, latest.checks_manual,
               coalesce(unjudged.checks_not_evaluable, 0) as checks_not_evaluable,
               coalesce(unjudged.checks_not_computable, 0) as checks_not_computable,
               latest.failing_critical, latest.failing_high, latest.failing_medium, latest.failing_low
        from orgs left join latest on orgs.org_id = latest.org_id and latest.recency = 1
        left join unjudged on orgs.org_id = unjudged.org_id
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
        select org_key, {SITE} as site_ref, product, resource_type, resource_key, {RESOURCE_NAME} as resource_name,
               status, evidence, first_seen_at, last_seen_at
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
    """Accounts by identity risk score, highest first, with the signals that fired (id and title, worst first).

    The integration's own account (the one this product reads as: an admin with a token, by necessity)
    is left out unless a signal its job does not explain fired on it (`identity_risks.is_ranked`)."""
    where, params = _org_filter(org, "risks.org_key")
    return read_sql(f"""
        select risks.org_key, risks.display_name, risks.email, risks.account_type, risks.deployment,
               risks.risk_level, risks.risk_score, risks.signals, fired.signal_titles, fired.signal_count,
               fired.evidence_items, risks.is_integration_account, risks.integration_concerns,
               risks.is_privileged, risks.mfa_enabled, risks.is_external, risks.last_active_at
        from marts.identity_risks as risks
        left join {IDENTITY_SIGNALS} as fired
            on risks.org_id = fired.org_id and risks.account_key = fired.account_key
        where risks.risk_score > 0 and risks.is_ranked{where}
        order by risks.risk_score desc, {LEVEL_RANK}, risks.display_name
        {f'limit {int(limit)}' if limit else ''}
    """, warehouse, params)


def identity_table(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """Every account with its access and risk (signals with their titles and evidence), for filtering;
    the integration's own account is labelled and listed after the ranked accounts."""
    where, params = _org_filter(org, "risks.org_key")
    return read_sql(f"""
        select risks.org_key, risks.display_name, risks.email, risks.risk_level, risks.risk_score,
               fired.signal_titles, risks.is_integration_account, risks.is_privileged, risks.mfa_enabled,
               risks.is_external, risks.last_active_at, risks.account_type, risks.deployment, risks.account_status,
               risks.is_live, risks.is_managed, risks.is_guest, risks.is_org_admin, risks.is_product_admin,
               risks.product_keys, risks.email_domain, fired.signal_evidence
        from marts.identity_risks as risks
        left join {IDENTITY_SIGNALS} as fired
            on risks.org_id = fired.org_id and risks.account_key = fired.account_key
        where true{where}
        order by risks.is_ranked desc, risks.risk_score desc, risks.display_name
    """, warehouse, params)


def integration_accounts(warehouse: Warehouse = None, org: str | None = None) -> pd.DataFrame:
    """The accounts this product reads as, whether rankings list them, the signals that fired on them
    and those its job does not explain (`concern_titles`), each with its title."""
    where, params = _org_filter(org, "risks.org_key")
    return read_sql(f"""
        select risks.org_key, risks.display_name, risks.email, risks.risk_score, risks.is_ranked,
               risks.integration_concerns, fired.signal_titles,
               (select string_agg(s.signal_id || ' ' || s.title, '; ' order by s.weight desc, s.signal_id)
                from marts.identity_signals as s
                where s.org_id = risks.org_id and s.account_key = risks.account_key
                  and list_contains(string_split(risks.integration_concerns, ', '), s.signal_id)) as concern_titles
        from marts.identity_risks as risks
        left join {IDENTITY_SIGNALS} as fired
            on risks.org_id = fired.org_id and risks.account_key = fired.account_key
        where risks.is_integration_account{where}
        order by risks.org_key, risks.display_name
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
    """Installed third-party apps by plugin risk score, highest first, with the signals' titles."""
    where, params = _org_filter(org, "apps.org_key")
    return read_sql(f"""
        select apps.org_key, apps.app_name, apps.vendor_name, apps.site_ref, apps.product, apps.framework,
               apps.is_enabled, apps.risk_level, apps.risk_score, apps.signals, fired.signal_titles,
               fired.signal_count, apps.scopes, apps.installed_at
        from marts.plugin_risks as apps
        left join {PLUGIN_SIGNALS} as fired on apps.org_id = fired.org_id and apps.app_key = fired.app_key
        where apps.is_user_installed{where}
        order by apps.risk_score desc, {LEVEL_RANK}, apps.app_name
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
               coalesce(max(scope_risk.signal_id), '') as signal_id,
               coalesce(max(scope_risk.signal_id || ' ' || catalog.title), '') as signal
        from granted
        left join reference.scope_risk as scope_risk
            on (scope_risk.match_type = 'exact' and granted.scope = scope_risk.scope)
            or (scope_risk.match_type = 'prefix' and granted.scope like scope_risk.scope || '%')
        left join reference.check_catalog as catalog on scope_risk.signal_id = catalog.check_id
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


# The actor of an audit event by name (the directory's when the log gives only an id), labelled when it is the
# integration's own account (this product reading)
ACTOR = ("coalesce(d.actor_name, actors.display_name, d.actor_account_id) "
         "|| case when actors.is_integration_account then ' (this integration)' else '' end")
ACTORS = """(select org_id, account_id, any_value(display_name) as display_name,
        bool_or(is_integration_account) as is_integration_account
    from (
        select org_id, account_id, display_name, is_integration_account from marts.identity_risks
        union all  -- Data Center audit logs name a user by its key; the directory (and the marts) by its username
        select risks.org_id, keys.user_key, risks.display_name, risks.is_integration_account
        from marts.identity_risks as risks
        inner join (
            select org_id, username, user_key from staging.stg_directory__jira_dc_users where is_current
            union
            select org_id, username, user_key from staging.stg_directory__confluence_dc_users where is_current
        ) as keys on keys.org_id = risks.org_id and keys.username = risks.account_id
        where keys.user_key is not null
    ) as named
    group by org_id, account_id)"""


def detections(warehouse: Warehouse = None, org: str | None = None, limit: int | None = 200) -> pd.DataFrame:
    """Security detections, newest first; actions of the integration's own account are labelled."""
    where, params = _org_filter(org, "orgs.org_key")
    return read_sql(f"""
        select orgs.org_key, d.occurred_at, d.detection_id, d.title, d.severity, d.source, d.site_ref,
               {ACTOR} as actor_name, d.action_name, d.country, d.evidence
        from marts.security_detections as d
        inner join {ORGS} as orgs on d.org_id = orgs.org_id
        left join {ACTORS} as actors on d.org_id = actors.org_id and d.actor_account_id = actors.account_id
        where true{where}
        order by d.occurred_at desc, d.detection_id
        {f'limit {int(limit)}' if limit else ''}
    """, warehouse, params)


def detections_grouped(warehouse: Warehouse = None, org: str | None = None,
                       limit: int | None = 50) -> pd.DataFrame:
    """Security detections newest first, a run of consecutive events of the same detection, actor, action
    and site as one row: how many (`events`), the first and the last, and the latest one's evidence."""
    where, params = _org_filter(org, "orgs.org_key")
    return read_sql(f"""
        with events as (
            select orgs.org_key, d.occurred_at, d.detection_id, d.title, d.severity, d.source,
                   coalesce(d.site_ref, '—') as site_ref, {ACTOR} as actor_name, d.action_name,
                   coalesce(d.country, '') as country, d.evidence,
                   row_number() over (order by orgs.org_key, d.occurred_at desc, d.detection_id) as position
            from marts.security_detections as d
            inner join {ORGS} as orgs on d.org_id = orgs.org_id
            left join {ACTORS} as actors on d.org_id = actors.org_id and d.actor_account_id = actors.account_id
            where true{where}
        ),
        runs as (  -- gaps and islands: equal keys in consecutive positions share position - rank
            select *, position - row_number() over (
                partition by org_key, detection_id, actor_name, action_name, site_ref, country
                order by position) as run
            from events
        )
        select org_key, max(occurred_at) as last_at, min(occurred_at) as first_at, count(*) as events,
               detection_id, any_value(title) as title, any_value(severity) as severity, site_ref, actor_name,
               action_name, country, arg_max(evidence, occurred_at) as evidence
        from runs
        group by org_key, detection_id, actor_name, action_name, site_ref, country, run
        order by org_key, last_at desc, detection_id
        {f'limit {int(limit)}' if limit else ''}
    """, warehouse, params)


def detection_count(warehouse: Warehouse = None, org: str | None = None) -> int:
    """How many detection events there are in all (for "first N of M")."""
    where, params = _org_filter(org, "orgs.org_key")
    return int(read_sql(f"""
        select count(*) as events from marts.security_detections as d
        inner join {ORGS} as orgs on d.org_id = orgs.org_id where true{where}
    """, warehouse, params).iloc[0, 0])


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
    """Projects and spaces open to anyone (anonymous or every logged-in user), from effective_permissions.

    One row per project or space and public principal: the permissions it holds and every path that gives
    them (a space permission and the role assignment of the same grant are one exposure, not two)."""
    where, params = _org_filter(org, "orgs.org_key")
    return read_sql(f"""
        select orgs.org_key, coalesce(p.site_ref, '—') as site_ref, p.product, p.resource_type,
               coalesce(p.resource_name, p.resource_key) as resource_name, p.principal_name,
               string_agg(distinct p.permission, ', ' order by p.permission) as permissions,
               string_agg(distinct p.access_path, ' + ' order by p.access_path) as access_paths
        from marts.effective_permissions as p
        inner join {ORGS} as orgs on p.org_id = orgs.org_id
    where p.is_public_exposure{where}
        group by orgs.org_key, p.site_ref, p.product, p.resource_type, p.resource_key, p.resource_name,
                 p.principal_name
        order by orgs.org_key, site_ref, resource_name, p.principal_name
    """, warehouse, params)
