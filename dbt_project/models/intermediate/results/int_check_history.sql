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
)

select
    history.evaluated_at,
    orgs.org_id,
    orgs.org_key,
    history.check_id,
    history.status,
    case when history.resource_key = 'org:' || history.org_id then orgs.org_resource_key
         else history.resource_key end as resource_key,
    history.is_failing
from history
left join keys on history.org_key is null and history.org_id = keys.org_id
inner join orgs on orgs.org_key = coalesce(history.org_key, keys.org_key)
