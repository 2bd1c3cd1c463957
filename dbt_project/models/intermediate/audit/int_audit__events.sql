{{ config(materialized='view') }}
-- Every audit event of every log, one shape: org events (Guard), Jira Cloud, Confluence Cloud and
-- Jira/Confluence Data Center. Keys follow the rule book; the Confluence Cloud key is built from the
-- record's creation time and summary (it has no id), so two records sharing both are one event.
{#- dlt's load id is the load's start in epoch seconds (with a fraction): the ingest time. #}
{%- set loaded_at = audit_epoch_ms_to_timestamp('cast(cast(load_id as ' ~ dbt.type_float() ~ ') * 1000 as ' ~ dbt.type_bigint() ~ ')') %}

with org_events as (
    select * from {{ ref('stg_audit__org_events') }}
),

actions as (
    select org_id, action_id, max(action_name) as action_name, max(action_group) as action_group
    from {{ ref('stg_audit__org_event_actions') }}
    where is_current
    group by org_id, action_id
),

context as (
    select
        context.*,
        row_number() over (partition by org_id, event_id, context_type order by list_index) as type_rank,
        row_number() over (
            partition by org_id, event_id, case when context_type = 'users' then 0 else 1 end order by list_index
        ) as kind_rank
    from {{ ref('stg_audit__org_events__context') }} as context
),

sites as (
    select
        org_id,
        event_id,
        container_item_id as site_cloud_id,
        container_name as site_name,
        row_number() over (partition by org_id, event_id order by list_index) as site_rank
    from {{ ref('stg_audit__org_events__container') }}
    where container_type = 'sites'
),

org_unified as (
    select
        org_events.org_id,
        org_events.org_key,
        org_events.tenant,
        'event:org:' || org_events.event_id as event_key,
        org_events.event_id,
        'org' as source,
        sites.site_name,
        sites.site_name as site_ref,
        coalesce(apps.context_product, 'org') as product,
        'cloud' as deployment,
        org_events.occurred_at,
        org_events.processed_at,
        org_events.action_id as action,
        actions.action_name,
        actions.action_group,
        cast(null as {{ dbt.type_string() }}) as category,
        objects.context_item_id as object_id,
        objects.context_name as object_name,
        objects.context_type as object_type,
        org_events.actor_account_id,
        org_events.actor_name,
        org_events.actor_email,
        org_events.auth_type,
        subjects.context_item_id as subject_account_id,
        org_events.ip_address,
        org_events.country_name as country,
        org_events.city,
        coalesce(org_events.actor_app_key, apps.context_item_id) as app_key,
        org_events.actor_app_key,
        apps.context_item_id as context_app_key,
        org_events.message,
        org_events.load_id
    from org_events
    left join actions
        on org_events.org_id = actions.org_id and org_events.action_id = actions.action_id
    left join context as subjects
        on org_events.org_id = subjects.org_id and org_events.event_id = subjects.event_id
        and subjects.context_type = 'users' and subjects.type_rank = 1
    left join context as objects
        on org_events.org_id = objects.org_id and org_events.event_id = objects.event_id
        and objects.context_type <> 'users' and objects.kind_rank = 1
    left join context as apps
        on org_events.org_id = apps.org_id and org_events.event_id = apps.event_id
        and apps.context_type = 'apps' and apps.type_rank = 1
    left join sites
        on org_events.org_id = sites.org_id and org_events.event_id = sites.event_id and sites.site_rank = 1
),

jira_users as (
    select
        org_id,
        tenant,
        audit_record_id,
        item_id,
        row_number() over (partition by tenant, audit_record_id order by list_index) as user_rank
    from {{ ref('stg_audit__jira_audit_records__associated_items') }}
    where item_type = 'USER' and item_id is not null
),

jira_unified as (
    select
        records.org_id,
        records.org_key,
        records.tenant,
        'event:jira:' || records.site_name || ':' || records.audit_record_id as event_key,
        records.audit_record_id as event_id,
        'jira' as source,
        records.site_name,
        records.site_ref,
        records.product,
        records.deployment,
        records.created_at as occurred_at,
        cast(null as {{ dbt.type_timestamp() }}) as processed_at,
        records.summary as action,
        records.summary as action_name,
        cast(null as {{ dbt.type_string() }}) as action_group,
        records.category,
        records.object_id,
        records.object_name,
        records.object_type,
        records.author_account_id as actor_account_id,
        cast(null as {{ dbt.type_string() }}) as actor_name,
        cast(null as {{ dbt.type_string() }}) as actor_email,
        cast(null as {{ dbt.type_string() }}) as auth_type,
        jira_users.item_id as subject_account_id,
        records.remote_address as ip_address,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as app_key,
        cast(null as {{ dbt.type_string() }}) as actor_app_key,
        cast(null as {{ dbt.type_string() }}) as context_app_key,
        cast(null as {{ dbt.type_string() }}) as message,
        records.load_id
    from {{ ref('stg_audit__jira_audit_records') }} as records
    left join jira_users
        on records.tenant = jira_users.tenant and records.audit_record_id = jira_users.audit_record_id
        and jira_users.user_rank = 1
),

confluence_unified as (
    select
        org_id,
        org_key,
        tenant,
        'event:confluence:' || site_name || ':' || cast(creation_date_ms as {{ dbt.type_string() }})
            || ':' || summary as event_key,
        audit_record_id as event_id,
        'confluence' as source,
        site_name,
        site_ref,
        product,
        deployment,
        created_at as occurred_at,
        cast(null as {{ dbt.type_timestamp() }}) as processed_at,
        summary as action,
        summary as action_name,
        cast(null as {{ dbt.type_string() }}) as action_group,
        category,
        cast(null as {{ dbt.type_string() }}) as object_id,
        object_name,
        object_type,
        author_account_id as actor_account_id,
        author_display_name as actor_name,
        cast(null as {{ dbt.type_string() }}) as actor_email,
        cast(null as {{ dbt.type_string() }}) as auth_type,
        cast(null as {{ dbt.type_string() }}) as subject_account_id,
        remote_address as ip_address,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as app_key,
        cast(null as {{ dbt.type_string() }}) as actor_app_key,
        cast(null as {{ dbt.type_string() }}) as context_app_key,
        description as message,
        load_id
    from {{ ref('stg_audit__confluence_audit_records') }}
),

dc_objects as (
    select * from {{ ref('stg_audit__dc_audit_events__affected_objects') }}
    where list_index = 0
),

dc_unified as (
    select
        events.org_id,
        events.org_key,
        events.tenant,
        'event:dc:' || events.site_name || ':' || events.audit_event_id as event_key,
        events.audit_event_id as event_id,
        'dc' as source,
        events.site_name,
        events.site_ref,
        events.product,
        events.deployment,
        events.occurred_at,
        cast(null as {{ dbt.type_timestamp() }}) as processed_at,
        events.action,
        events.action as action_name,
        cast(null as {{ dbt.type_string() }}) as action_group,
        events.category,
        cast(null as {{ dbt.type_string() }}) as object_id,
        dc_objects.object_name,
        dc_objects.object_type,
        events.author_id as actor_account_id,
        events.author_name as actor_name,
        cast(null as {{ dbt.type_string() }}) as actor_email,
        cast(null as {{ dbt.type_string() }}) as auth_type,
        cast(null as {{ dbt.type_string() }}) as subject_account_id,
        events.source_address as ip_address,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as app_key,
        cast(null as {{ dbt.type_string() }}) as actor_app_key,
        cast(null as {{ dbt.type_string() }}) as context_app_key,
        cast(null as {{ dbt.type_string() }}) as message,
        events.load_id
    from {{ ref('stg_audit__dc_audit_events') }} as events
    left join dc_objects
        on events.tenant = dc_objects.tenant and events.audit_event_id = dc_objects.audit_event_id
),

unioned as (
    select * from org_unified
    union all
    select * from jira_unified
    union all
    select * from confluence_unified
    union all
    select * from dc_unified
),

ranked as (
    select
        unioned.*,
        {{ loaded_at }} as loaded_at,
        row_number() over (partition by org_id, event_key order by load_id desc, event_id) as duplicate_rank
    from unioned
)

select
    org_id, org_key, tenant, event_key, event_id, source, site_name, site_ref, product, deployment,
    occurred_at, processed_at, action, action_name, action_group, category, object_id, object_name, object_type,
    actor_account_id, actor_name, actor_email, auth_type, subject_account_id, ip_address, country, city,
    app_key, actor_app_key, context_app_key, message, load_id, loaded_at
from ranked
where duplicate_rank = 1
