{{ config(
    materialized='incremental',
    unique_key=['org_id', 'event_key'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ follow_org_identity() }}"
) }}
-- One row per audit event across the org log (Guard), Jira Cloud, Confluence Cloud and Jira/Confluence
-- Data Center, de-duplicated on (org_id, event_key). Incremental: each run re-reads the events loaded
-- within audit_lookback_days of the newest load already here, so late-processed events are picked up
-- and a re-loaded event replaces its earlier row. (org_id is part of the key: org event ids are only
-- unique within one organization.)
with events as (
    select * from {{ ref('int_audit__events') }}
    {% if is_incremental() %}
    where loaded_at >= (
        select {{ dbt.dateadd('day', -1 * var('audit_lookback_days'), 'max(loaded_at)') }} from {{ this }}
    )
    {% endif %}
),

with_org_key as (
    select
        org_id,
        event_key,
        event_id,
        source,
        site_ref,
        product,
        deployment,
        occurred_at,
        processed_at,
        action,
        action_name,
        action_group,
        category,
        object_id,
        object_name,
        object_type,
        actor_account_id,
        actor_name,
        actor_email,
        auth_type,
        subject_account_id,
        ip_address,
        country,
        city,
        app_key,
        message,
        loaded_at
    from events
)

-- the tenant's configured key beside its org id, as in every mart
select with_org_key.*, orgs.org_key
from with_org_key
left join {{ ref('int_orgs') }} as orgs on with_org_key.org_id = orgs.org_id
