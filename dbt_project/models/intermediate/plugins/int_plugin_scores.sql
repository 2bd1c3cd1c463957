-- One row per user-installed app: its plugin score (sum of the weights of the signals that fired
-- and are evaluated for the org) and tier (macro risk_level: critical >= 12, high 8-11, medium
-- 4-7, low 1-3, none 0; a critical-severity signal lifts the tier to at least high).
with apps as (
    select * from {{ ref('int_apps') }}
),

fired as (
    select
        signals.org_id,
        signals.app_key,
        signals.signal_id,
        weights.weight,
        weights.severity
    from {{ ref('int_plugins__app_signals') }} as signals
    inner join {{ ref('int_plugins__check_status') }} as check_status
        on signals.org_id = check_status.org_id and signals.signal_id = check_status.check_id
    inner join {{ ref('plugin_signal_weights') }} as weights on signals.signal_id = weights.signal_id
    where check_status.status = 'evaluated'
),

scored as (
    select
        org_id,
        app_key,
        sum(weight) as score,
        max(case when severity = 'critical' then 1 else 0 end) as has_critical_signal,
        {{ dbt.listagg('signal_id', "','", 'order by signal_id') }} as signals
    from fired
    group by org_id, app_key
)

select
    apps.org_id,
    apps.app_key,
    apps.site_ref,
    apps.product,
    apps.deployment,
    coalesce(scored.score, 0) as score,
    {{ risk_level('coalesce(scored.score, 0)', 'coalesce(scored.has_critical_signal, 0)') }} as level,
    coalesce(scored.has_critical_signal, 0) = 1 as has_critical_signal,
    scored.signals
from apps
left join scored on apps.org_id = scored.org_id and apps.app_key = scored.app_key
