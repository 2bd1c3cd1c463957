-- What the latest run of each resource collected for each tenant: a check whose input is not
-- 'ok' here reports not_evaluable, never pass.
with coverage as (
    select * from {{ ref('stg_connector__coverage') }}
),

orgs as (
    select * from {{ ref('int_orgs') }}
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
    ranked.status = 'ok' as is_collected
from ranked
inner join orgs on ranked.org_key = orgs.org_key
where ranked.recency = 1
