-- One row per account and identity-risk signal that fired, with its evidence and weight.
with results as (
    select * from {{ ref('int_check_results') }}
    where check_id like 'IDENT-%' and status = 'evaluated' and is_failing
),

catalog as (
    select * from {{ ref('check_catalog') }}
),

history as (
    select org_id, check_id, resource_key, min(evaluated_at) as first_seen_at
    from {{ ref('int_check_results_history') }}
    where check_id like 'IDENT-%' and is_failing
    group by org_id, check_id, resource_key
)

select
    {{ dbt.concat(['results.org_id', "'|'", 'results.resource_key', "'|'", 'results.check_id']) }} as identity_signal_id,
    results.org_id,
    results.resource_key as account_key,
    results.check_id as signal_id,
    catalog.title,
    catalog.severity,
    catalog.weight,
    results.evidence,
    catalog.remediation,
    history.first_seen_at
from results
left join catalog on results.check_id = catalog.check_id
left join history
    on results.org_id = history.org_id
    and results.check_id = history.check_id
    and results.resource_key = history.resource_key
