-- One row per user-installed app per site and product (Cloud and Data Center): who made it, how
-- it runs, what it may access, and a risk score from the plugin signals that fired.
with apps as (
    select * from {{ ref('int_apps') }}
),

signals as (
    select * from {{ ref('plugin_signals') }}
),

levels as (
    {{ signal_scores('signals', 'app_key') }}
)

select
    apps.*,
    coalesce(levels.weight_sum, 0) as risk_score,
    coalesce(levels.risk_level, 'none') as risk_level,
    coalesce(levels.signal_count, 0) as signal_count,
    levels.signals,
    levels.signal_evidence,
    orgs.as_of as evaluated_at
from apps
inner join {{ ref('int_orgs') }} as orgs on apps.org_id = orgs.org_id
left join levels on apps.org_id = levels.org_id and apps.app_key = levels.app_key
