-- Results of PLUGIN-001..019 (failing apps) and POSTURE-040 (org level) in the results contract.
with check_status as (
    select * from {{ ref('int_plugins__check_status') }}
),

apps as (
    select * from {{ ref('int_apps') }}
),

signals as (
    select * from {{ ref('int_plugins__app_signals') }}
),

scores as (
    select * from {{ ref('int_plugin_scores') }}
),

failing as (
    select
        signals.org_id,
        signals.signal_id as check_id,
        signals.app_key as resource_key,
        apps.app_name as resource_name,
        apps.site_ref,
        apps.product,
        signals.evidence
    from signals
    inner join apps on signals.org_id = apps.org_id and signals.app_key = apps.app_key
    inner join check_status
        on signals.org_id = check_status.org_id and signals.signal_id = check_status.check_id
    where check_status.status = 'evaluated'
),

plugin_rows as (
    select
        failing.org_id,
        failing.check_id,
        'evaluated' as status,
        check_status.reason,
        failing.resource_key,
        'app' as resource_type,
        failing.resource_name,
        failing.site_ref,
        failing.product,
        true as is_failing,
        failing.evidence
    from failing
    inner join check_status on failing.org_id = check_status.org_id and failing.check_id = check_status.check_id

    union all
    select
        check_status.org_id,
        check_status.check_id,
        check_status.status,
        check_status.reason,
        case when check_status.status <> 'evaluated' then check_status.org_resource_key end,
        case when check_status.status <> 'evaluated' then 'org' end,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        case when check_status.status <> 'evaluated' then 'org' end,
        case when check_status.status = 'evaluated' then false end,
        cast(null as {{ dbt.type_string() }})
    from check_status
    where check_status.check_id like 'PLUGIN-%'
      and (check_status.status <> 'evaluated' or not exists (
          select 1 from failing
          where failing.org_id = check_status.org_id and failing.check_id = check_status.check_id))
),

-- POSTURE-040: a Cloud app of high or critical plugin tier while no active data-security policy
-- exists (an active DSP counts as restricting apps: its app-access rule is not served)
risky as (
    select org_id, count(*) as risky_apps
    from scores
    where deployment = 'cloud' and level in ('high', 'critical')
    group by org_id
),

active_dsp as (
    select distinct org_id
    from {{ ref('stg_org__org_data_security_policies') }}
    where is_current and policy_status = 'active'
),

posture_rows as (
    select
        check_status.org_id,
        check_status.check_id,
        check_status.status,
        check_status.reason,
        check_status.org_resource_key as resource_key,
        'org' as resource_type,
        cast(null as {{ dbt.type_string() }}) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        case
            when check_status.status = 'evaluated'
                then coalesce(risky.risky_apps, 0) > 0 and active_dsp.org_id is null
        end as is_failing,
        case
            when check_status.status = 'evaluated' and coalesce(risky.risky_apps, 0) > 0 and active_dsp.org_id is null
                then {{ dbt.concat(["cast(risky.risky_apps as " ~ dbt.type_string() ~ ")",
                                    "' Cloud apps of high or critical plugin tier and no active data security policy'"]) }}
        end as evidence
    from check_status
    left join risky on check_status.org_id = risky.org_id
    left join active_dsp on check_status.org_id = active_dsp.org_id
    where check_status.check_id = 'POSTURE-040'
)

select * from plugin_rows
union all
select * from posture_rows
