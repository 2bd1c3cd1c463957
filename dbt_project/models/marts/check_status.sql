-- One row per organization and catalog check: was it evaluated, and how many resources fail.
with results as (
    select * from {{ ref('int_check_results') }}
),

catalog as (
    select * from {{ ref('check_catalog') }}
),

orgs as (
    select * from {{ ref('int_orgs') }}
),

-- the oldest snapshot the organization's collected data rests on (change-driven runs keep rows between sweeps)
snapshots as (
    select org_id, min(snapshot_as_of) as snapshot_as_of
    from {{ ref('int_coverage_latest') }}
    where is_collected
    group by org_id
),

per_check as (
    select
        org_id,
        check_id,
        max(status) as status,
        max(reason) as reason,
        sum(case when is_failing then 1 else 0 end) as failing_count,
        sum(case when resource_key is not null and status = 'evaluated' then 1 else 0 end) as evaluated_count
    from results
    group by org_id, check_id
)

select
    {{ dbt.concat(['per_check.org_id', "'|'", 'per_check.check_id']) }} as check_status_id,
    per_check.org_id,
    orgs.org_key,
    per_check.check_id,
    catalog.family,
    catalog.title,
    catalog.severity,
    catalog.evaluation,
    per_check.status,
    per_check.reason,
    per_check.failing_count,
    per_check.evaluated_count,
    per_check.status = 'evaluated' and per_check.failing_count > 0 as is_failing,
    orgs.as_of as evaluated_at,
    snapshots.snapshot_as_of
from per_check
inner join orgs on per_check.org_id = orgs.org_id
left join snapshots on per_check.org_id = snapshots.org_id
left join catalog on per_check.check_id = catalog.check_id
