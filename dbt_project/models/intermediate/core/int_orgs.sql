-- One row per organization: its configuration key and "now" for every window in the marts,
-- the server's clock at the organization's latest run (not this machine's clock).
with runs as (
    select * from {{ ref('stg_connector__runs') }}
    where org_id is not null
),

ranked as (
    select
        runs.*,
        row_number() over (partition by org_id order by server_clock_at desc, finished_at desc) as recency
    from runs
)

select
    org_id,
    org_key,
    'org:' || org_id as org_resource_key,
    run_id as latest_run_id,
    server_clock_at as as_of
from ranked
where recency = 1
