-- What the latest run of each resource collected for each tenant: a check whose input is not
-- 'ok' here reports not_evaluable, never pass.
with coverage as (
    select * from {{ ref('stg_connector__coverage') }}
),

orgs as (
    select * from {{ ref('int_orgs') }}
),

runs as (
    select * from {{ ref('stg_connector__runs') }}
),

ranked as (
    select
        coverage.*,
        row_number() over (partition by tenant, resource_name order by started_at desc) as recency
    from coverage
)

select
    orgs.org_id,
    ranked.org_key,
    ranked.tenant,
    ranked.site_name,
    ranked.product,
    ranked.deployment,
    case when ranked.deployment = 'dc' then 'dc:' || ranked.site_name else ranked.site_name end as site_ref,
    ranked.resource_name,
    ranked.status,
    ranked.reason,
    ranked.row_count,
    ranked.run_id,
    ranked.started_at,
    ranked.status = 'ok' as is_collected,
    -- how old the snapshot is: the last full sweep's server time where a change-driven run kept rows
    -- (connector/changes.py), else this run's server clock
    coalesce(ranked.snapshot_as_of, runs.server_clock_at, ranked.started_at) as snapshot_as_of
from ranked
inner join orgs on ranked.org_key = orgs.org_key
left join runs on ranked.run_id = runs.run_id and ranked.org_key = runs.org_key
where ranked.recency = 1
