{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['org_id', 'evaluated_at'],
    on_schema_change='append_new_columns',
    full_refresh=false,
) }}
-- `full_refresh=false`: `dbt build --full-refresh` rebuilds everything else but never erases this memory
-- (drop the table by hand to start history over).
-- What every build found, kept per evaluation (the org's server clock at extraction): the memory
-- behind first_seen_at / last_seen_at and the daily score. A rebuild of the same extraction
-- replaces its rows; a new extraction adds a new evaluation. Read through int_check_history, which
-- follows each tenant by its configured key (org_key) across a change of its org id.
select
    orgs.as_of as evaluated_at,
    results.org_id,
    orgs.org_key,
    results.check_id,
    results.status,
    coalesce(results.resource_key, orgs.org_resource_key) as resource_key,
    results.is_failing
from {{ ref('int_check_results') }} as results
inner join {{ ref('int_orgs') }} as orgs on results.org_id = orgs.org_id
