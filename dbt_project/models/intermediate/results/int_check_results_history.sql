{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['org_id', 'evaluated_at'],
) }}
-- What every build found, kept per evaluation (the org's server clock at extraction): the memory
-- behind first_seen_at / last_seen_at and the daily score. A rebuild of the same extraction
-- replaces its rows; a new extraction adds a new evaluation.
select
    orgs.as_of as evaluated_at,
    results.org_id,
    results.check_id,
    results.status,
    coalesce(results.resource_key, orgs.org_resource_key) as resource_key,
    results.is_failing
from {{ ref('int_check_results') }} as results
inner join {{ ref('int_orgs') }} as orgs on results.org_id = orgs.org_id
