-- POSTURE-014 (org audit log freshness), one row per org in the results contract: without Guard the org log
-- answers 403, which the catalog counts as a failure; with it, the newest visible org event must be younger
-- than org_log_fresh_hours. A log that failed to load for another reason is not_evaluable.
with orgs as (
    select org_id, org_resource_key, as_of from {{ ref('int_orgs') }}
),

logs as (
    select
        orgs.org_id,
        max(case when coverage.resource_name = 'org_events' and coverage.is_collected then 1 else 0 end)
            as has_org_log,
        max(case when coverage.resource_name = 'org_events'
                  and coverage.status in ('forbidden', 'not_available') then 1 else 0 end) as is_org_log_forbidden
    from orgs
    left join {{ ref('int_coverage_latest') }} as coverage on orgs.org_id = coverage.org_id
    group by orgs.org_id
),

newest_org_event as (
    select events.org_id, max(events.occurred_at) as newest_at
    from {{ ref('int_audit__events') }} as events
    inner join orgs on events.org_id = orgs.org_id
    where events.source = 'org' and coalesce(events.processed_at, events.occurred_at) <= orgs.as_of
    group by events.org_id
),

posture_014 as (
    select
        orgs.org_id,
        'POSTURE-014' as check_id,
        case when logs.has_org_log = 1 or logs.is_org_log_forbidden = 1 then 'evaluated' else 'not_evaluable' end
            as status,
        case
            when logs.has_org_log = 1 then null
            when logs.is_org_log_forbidden = 1 then 'no Guard: the org audit log answers 403'
            else 'the org audit log was not collected'
        end as reason,
        orgs.org_resource_key as resource_key,
        'org' as resource_type,
        orgs.org_id as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        case
            when logs.has_org_log = 1
                then newest_org_event.newest_at is null
                     or newest_org_event.newest_at < {{ dbt.dateadd('hour', -1 * var('org_log_fresh_hours'), 'orgs.as_of') }}
            when logs.is_org_log_forbidden = 1 then true
        end as is_failing,
        case
            when logs.has_org_log = 1 and newest_org_event.newest_at is null then 'the org audit log holds no event'
            when logs.has_org_log = 1 then 'newest org audit event at ' || cast(newest_org_event.newest_at as {{ dbt.type_string() }})
            when logs.is_org_log_forbidden = 1 then 'the org audit log answers 403 (no Atlassian Guard)'
        end as evidence
    from orgs
    inner join logs on orgs.org_id = logs.org_id
    left join newest_org_event on orgs.org_id = newest_org_event.org_id
)

select
    org_id, check_id, status, reason, resource_key, resource_type, resource_name, site_ref, product,
    is_failing,
    case when is_failing then evidence end as evidence
from posture_014
