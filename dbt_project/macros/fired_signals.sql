{#- The identity or plugin signals that fired (`prefix` IDENT- / PLUGIN-), one row per resource and
    signal, with the catalog's title, severity, weight, remediation and when it first fired. -#}
{% macro fired_signals(prefix, key_column, id_column) -%}
with results as (
    select * from {{ ref('int_check_results') }}
    where check_id like '{{ prefix }}%' and status = 'evaluated' and is_failing
),

catalog as (
    select * from {{ ref('check_catalog') }}
),

history as (
    select org_id, check_id, resource_key, min(evaluated_at) as first_seen_at
    from {{ ref('int_check_history') }}
    where check_id like '{{ prefix }}%' and is_failing
    group by org_id, check_id, resource_key
),

orgs as (
    select org_id, org_key from {{ ref('int_orgs') }}
)

select
    {{ dbt.concat(['results.org_id', "'|'", 'results.resource_key', "'|'", 'results.check_id']) }} as {{ id_column }},
    results.org_id,
    orgs.org_key,
    results.resource_key as {{ key_column }},
    results.check_id as signal_id,
    catalog.title,
    catalog.severity,
    catalog.weight,
    results.evidence,
    catalog.remediation,
    history.first_seen_at
from results
inner join orgs on results.org_id = orgs.org_id
left join catalog on results.check_id = catalog.check_id
left join history
    on results.org_id = history.org_id
    and results.check_id = history.check_id
    and results.resource_key = history.resource_key
{%- endmacro %}

{#- Per resource: the summed weight, whether a critical signal fired, and the sorted signal list. -#}
{% macro signal_scores(signals, key_column) -%}
with scored as (
    select
        org_id,
        {{ key_column }},
        sum(weight) as weight_sum,
        max(case when severity = 'critical' then 1 else 0 end) as has_critical_signal,
        count(*) as signal_count,
        {{ dbt.listagg('signal_id', "', '", "order by signal_id") }} as signals,
        {{ dbt.listagg("signal_id || ': ' || coalesce(evidence, title)", "'; '", "order by signal_id") }} as signal_evidence
    from {{ signals }}
    group by org_id, {{ key_column }}
)

select
    scored.*,
    {{ risk_level('weight_sum', 'has_critical_signal') }} as risk_level
from scored
{%- endmacro %}
