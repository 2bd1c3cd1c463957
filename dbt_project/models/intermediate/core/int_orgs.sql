-- One row per organization: its configuration key, its identity and "now" for every window in the
-- marts, the server's clock at the organization's latest run (not this machine's clock). A tenant is
-- its configured key (org_key): its org id is the one of its latest run, so a tenant whose id
-- changed (an org key added to a site-only tenant) is still one organization (raw_table maps every
-- row of the key to this id).
with runs as (
    select * from {{ ref('stg_connector__runs') }}
    where org_id is not null
),

ranked as (
    select
        runs.*,
        row_number() over (partition by org_key order by server_clock_at desc, finished_at desc) as recency
    from runs
),

latest as (
    select
        ranked.*,
        -- one key per org id: a key renamed in the configuration leaves its older runs behind
        row_number() over (partition by org_id order by server_clock_at desc, finished_at desc) as key_recency
    from ranked
    where recency = 1
)

select
    org_id,
    org_key,
    org_id_source,
    'org:' || org_id as org_resource_key,
    run_id as latest_run_id,
    server_clock_at as as_of
from latest
where key_recency = 1
