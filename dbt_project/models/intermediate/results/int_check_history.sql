-- The evaluation history as of each tenant's current identity: rows are followed by the configured
-- key (org_key), not by the org id of their time, so a tenant whose id changed (a site-only tenant
-- given an org key later: `cloud:<cloudId>` -> the Admin API's id) keeps first_seen_at and its
-- daily score; its organization-level resource key is renamed with it.
with history as (
    select * from {{ ref('int_check_results_history') }}
),

-- rows written before history carried org_key
keys as (
    select org_id, max(org_key) as org_key
    from {{ ref('stg_connector__runs') }}
    where org_id is not null
    group by org_id
),

orgs as (
    select * from {{ ref('int_orgs') }}
),

followed as (
    select
        history.*,
        orgs.org_id as current_org_id,
        orgs.org_key as current_org_key,
        orgs.org_resource_key,
        -- one identity per evaluation: the same extraction rebuilt under a new id counts once
        dense_rank() over (
            partition by orgs.org_key, history.evaluated_at
            order by case when history.org_id = orgs.org_id then 0 else 1 end, history.org_id
        ) as identity_rank
    from history
    left join keys on history.org_key is null and history.org_id = keys.org_id
    inner join orgs on orgs.org_key = coalesce(history.org_key, keys.org_key)
)

select
    evaluated_at,
    current_org_id as org_id,
    current_org_key as org_key,
    check_id,
    status,
    case when followed.resource_key = 'org:' || followed.org_id then followed.org_resource_key
         else followed.resource_key end as resource_key,
    is_failing
from followed
where identity_rank = 1
