-- Posture score and failing counts by severity, per organization and day, from the history of
-- evaluations (the last evaluation of each day counts). Score = 100 x (1 - failing weight /
-- evaluated weight) over posture checks, weighting a check by its severity (DECISIONS.md).
with history as (
    select * from {{ ref('int_check_history') }}
    where check_id like 'POSTURE-%'
),

catalog as (
    select * from {{ ref('check_catalog') }}
),

daily_last as (
    select
        org_id,
        cast(evaluated_at as date) as score_date,
        max(evaluated_at) as evaluated_at
    from history
    group by org_id, cast(evaluated_at as date)
),

checks as (
    select
        history.org_id,
        daily_last.score_date,
        history.evaluated_at,
        history.check_id,
        max(history.status) as status,
        max(case when history.is_failing then 1 else 0 end) as is_failing,
        sum(case when history.is_failing then 1 else 0 end) as failing_resources
    from history
    inner join daily_last
        on history.org_id = daily_last.org_id
        and history.evaluated_at = daily_last.evaluated_at
    group by history.org_id, daily_last.score_date, history.evaluated_at, history.check_id
),

weighted as (
    select
        checks.*,
        catalog.severity,
        {{ severity_weight('catalog.severity') }} as severity_weight
    from checks
    left join catalog on checks.check_id = catalog.check_id
),

with_org_key as (
    select
        {{ dbt.concat(['org_id', "'|'", 'cast(score_date as ' ~ dbt.type_string() ~ ')']) }} as score_id,
        org_id,
        score_date,
        max(evaluated_at) as evaluated_at,
        cast(round(100.0 * (1 - 1.0 * sum(case when status = 'evaluated' and is_failing = 1 then severity_weight else 0 end)
            / nullif(sum(case when status = 'evaluated' then severity_weight else 0 end), 0)), 1) as {{ dbt.type_float() }})
            as posture_score,
        sum(case when status = 'evaluated' then 1 else 0 end) as checks_evaluated,
        sum(case when status = 'evaluated' and is_failing = 0 then 1 else 0 end) as checks_passing,
        sum(case when status = 'evaluated' and is_failing = 1 then 1 else 0 end) as checks_failing,
        sum(case when status = 'manual' then 1 else 0 end) as checks_manual,
        sum(case when status in ('not_evaluable', 'not_computable') then 1 else 0 end) as checks_not_evaluable,
        sum(case when is_failing = 1 and severity = 'critical' then 1 else 0 end) as failing_critical,
        sum(case when is_failing = 1 and severity = 'high' then 1 else 0 end) as failing_high,
        sum(case when is_failing = 1 and severity = 'medium' then 1 else 0 end) as failing_medium,
        sum(case when is_failing = 1 and severity = 'low' then 1 else 0 end) as failing_low,
        sum(failing_resources) as failing_findings
    from weighted
    group by org_id, score_date
)

-- the tenant's configured key beside its org id, as in every mart
select with_org_key.*, orgs.org_key
from with_org_key
left join {{ ref('int_orgs') }} as orgs on with_org_key.org_id = orgs.org_id
