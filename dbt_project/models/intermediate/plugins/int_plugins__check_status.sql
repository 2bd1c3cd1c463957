-- Whether each plugin check (PLUGIN-001..019) and POSTURE-040 can be evaluated for each org, and why not.
-- PLUGIN-017/018 read the org audit log (Atlassian Guard); PLUGIN-015 loses its idle clause without it.
-- A check whose input (UPM app list, Marketplace) was not collected for a tenant is not_evaluable.
with orgs as (
    select * from {{ ref('int_orgs') }}
),

coverage as (
    select * from {{ ref('int_coverage_latest') }}
),

signals as (
    select signal_id as check_id from {{ ref('plugin_signal_weights') }}
    union all
    select 'POSTURE-040'
),

org_inputs as (
    select
        orgs.org_id,
        max(case when coverage.resource_name = 'org_events' and coverage.is_collected then 1 else 0 end) as has_org_log,
        max(case when coverage.resource_name = 'org_data_security_policies' and coverage.is_collected
                 then 1 else 0 end) as has_dsp,
        max(case when coverage.resource_name = 'apps_installed' and not coverage.is_collected
                 then 1 else 0 end) as apps_missing,
        max(case when coverage.resource_name = 'apps_marketplace' and not coverage.is_collected
                 then 1 else 0 end) as marketplace_missing
    from orgs
    left join coverage on orgs.org_id = coverage.org_id
    group by orgs.org_id
)

select
    orgs.org_id,
    orgs.org_resource_key,
    signals.check_id,
    case
        when signals.check_id = 'POSTURE-040' and org_inputs.has_dsp = 0 then 'not_evaluable'
        when signals.check_id in ('PLUGIN-017', 'PLUGIN-018') and org_inputs.has_org_log = 0 then 'not_evaluable'
        when org_inputs.apps_missing = 1 then 'not_evaluable'
        when signals.check_id in ('PLUGIN-007', 'PLUGIN-008', 'PLUGIN-009', 'PLUGIN-010', 'PLUGIN-014', 'PLUGIN-019')
            and org_inputs.marketplace_missing = 1 then 'not_evaluable'
        else 'evaluated'
    end as status,
    case
        when signals.check_id = 'POSTURE-040' and org_inputs.has_dsp = 0
            then 'no Atlassian Guard: no data security policies'
        when signals.check_id in ('PLUGIN-017', 'PLUGIN-018') and org_inputs.has_org_log = 0
            then 'no Atlassian Guard: no org audit log'
        when org_inputs.apps_missing = 1 then 'installed apps (UPM) not collected for every site and product'
        when signals.check_id in ('PLUGIN-007', 'PLUGIN-008', 'PLUGIN-009', 'PLUGIN-010', 'PLUGIN-014', 'PLUGIN-019')
            and org_inputs.marketplace_missing = 1 then 'Marketplace listings not collected'
        when signals.check_id = 'PLUGIN-015' and org_inputs.has_org_log = 0
            then 'no org audit log: the enabled clause only'
    end as reason
from orgs
cross join signals
inner join org_inputs on orgs.org_id = org_inputs.org_id
