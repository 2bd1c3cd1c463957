-- App lifecycle and API-request events of the org audit log, attributed to an app (PLUGIN-015/017/018):
-- the app key comes from the event's `apps` (or `app`) context entry, or for API requests from the
-- actor's app; the site from the event's `sites` container and the product from the app entry (API
-- requests: the product their display name names). A null site or product applies to any.
with events as (
    select * from {{ ref('int_audit__events') }}
    where source = 'org'
),

orgs as (
    select org_id, as_of from {{ ref('int_orgs') }}
),

app_context as (
    select
        org_id,
        event_id,
        context_item_id as app_key,
        context_product as product,
        row_number() over (partition by org_id, event_id order by list_index) as app_rank
    from {{ ref('stg_audit__org_events__context') }}
    where context_type in ('apps', 'app')
),

classified as (
    select
        events.org_id,
        events.event_key,
        events.event_id,
        events.occurred_at,
        events.site_name,
        events.actor_account_id,
        events.action_name,
        case events.action_name
            when 'App successful installation' then 'install'
            when 'App update success' then 'update'
            when 'App successful uninstallation' then 'uninstall'
            when 'App enable success' then 'enable'
            when 'App disable success' then 'disable'
            when 'App failed installation (unsupported protocol)' then 'failed_install'
            when 'Third-party app Jira API request' then 'request'
            when 'Third-party app Confluence API request' then 'request'
        end as event_kind,
        case events.action_name
            when 'Third-party app Jira API request' then 'jira'
            when 'Third-party app Confluence API request' then 'confluence'
        end as request_product
    from events
    inner join orgs on events.org_id = orgs.org_id
    where coalesce(events.processed_at, events.occurred_at) <= orgs.as_of
)

select
    classified.org_id,
    classified.event_key,
    classified.occurred_at,
    classified.event_kind,
    case when classified.event_kind = 'request' then events.actor_app_key else app_context.app_key end as app_key,
    classified.site_name,
    case when classified.event_kind = 'request' then classified.request_product else app_context.product end
        as product,
    classified.actor_account_id,
    classified.action_name
from classified
inner join events on classified.org_id = events.org_id and classified.event_key = events.event_key
left join app_context
    on classified.org_id = app_context.org_id and classified.event_id = app_context.event_id
    and app_context.app_rank = 1
where classified.event_kind is not null
    and (case when classified.event_kind = 'request' then events.actor_app_key else app_context.app_key end)
        is not null
