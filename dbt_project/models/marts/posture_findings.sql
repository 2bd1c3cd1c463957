-- One row per posture check and evaluated resource (or per check and organization where the check
-- has no resource, or was not evaluated), with remediation and how long it has been failing.
with results as (
    select * from {{ ref('int_check_results') }}
    where check_id like 'POSTURE-%'
),

history as (
    select
        org_id,
        check_id,
        resource_key,
        min(case when is_failing then evaluated_at end) as first_seen_at,
        max(case when is_failing then evaluated_at end) as last_seen_at,
        min(evaluated_at) as first_evaluated_at
    from {{ ref('int_check_history') }}
    where check_id like 'POSTURE-%'
    group by org_id, check_id, resource_key
),

catalog as (
    select * from {{ ref('check_catalog') }}
),

orgs as (
    select * from {{ ref('int_orgs') }}
),

findings as (
    select
        results.*,
        case
            when results.status <> 'evaluated' then results.status
            when results.is_failing then 'fail'
            else 'pass'
        end as finding_status,
        coalesce(results.resource_key, orgs.org_resource_key) as finding_resource_key
    from results
    inner join orgs on results.org_id = orgs.org_id
)

select
    {{ dbt.concat(['findings.org_id', "'|'", 'findings.check_id', "'|'", 'findings.finding_resource_key']) }}
        as finding_id,
    findings.org_id,
    orgs.org_key,
    findings.check_id,
    catalog.title,
    findings.finding_status as status,
    catalog.severity,
    catalog.product as catalog_product,
    findings.product,
    findings.site_ref,
    findings.finding_resource_key as resource_key,
    coalesce(findings.resource_type, 'org') as resource_type,
    findings.resource_name,
    findings.evidence,
    findings.reason,
    catalog.remediation,
    catalog.rationale,
    catalog.evaluation,
    catalog.source_url,
    history.first_seen_at,
    history.last_seen_at,
    history.first_evaluated_at,
    orgs.as_of as evaluated_at
from findings
inner join orgs on findings.org_id = orgs.org_id
left join catalog on findings.check_id = catalog.check_id
left join history
    on findings.org_id = history.org_id
    and findings.check_id = history.check_id
    and findings.finding_resource_key = history.resource_key
