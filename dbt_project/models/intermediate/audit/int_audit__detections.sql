-- One row per (visible audit event, AUDIT-* detection it matches): the rule book
-- jira_event_checks, confluence_event_checks and the AUDIT-011 burst rule. Org events are matched on
-- the display names /event-actions serves (joined on the action id); only AUDIT-001 uses the id.
with orgs as (
    select org_id, as_of from {{ ref('int_orgs') }}
),

events as (
    select events.*, orgs.as_of
    from {{ ref('int_audit__events') }} as events
    inner join orgs on events.org_id = orgs.org_id
    -- visible: an event counts once processed (product logs: once it happened) by the org's clock
    where coalesce(events.processed_at, events.occurred_at) <= orgs.as_of
),

context as (
    select * from {{ ref('stg_audit__org_events__context') }}
),

accounts as (
    select account_id, org_id, is_privileged, last_active_at
    from {{ ref('int_accounts') }}
    where deployment = 'cloud'
),

allowed_countries as (
    select org_id, setting_scope as country
    from {{ ref('int_posture_settings') }}
    where setting_source = 'config' and setting_name = 'allowed_countries' and setting_scope is not null
),

org_events as (
    select
        events.*,
        actors.is_privileged as is_actor_privileged,
        subjects.account_id as subject_known_id,
        subjects.is_privileged as is_subject_privileged,
        subjects.last_active_at as subject_last_active_at
    from events
    left join accounts as actors
        on events.org_id = actors.org_id and events.actor_account_id = actors.account_id
    left join accounts as subjects
        on events.org_id = subjects.org_id
        and coalesce(events.subject_account_id, events.actor_account_id) = subjects.account_id
    where events.source = 'org'
),

org_tags as (
    select org_id, event_key, 'AUDIT-001' as check_id from org_events where action = 'user_logged_in_as_user'
    union all
    select org_id, event_key, 'AUDIT-002' from org_events
    where action_name in ('Granted organization admin role', 'Revoked organization admin role')
        or (action_name in ('Added user to group', 'Removed user from group') and exists (
            select 1 from context
            where context.org_id = org_events.org_id and context.event_id = org_events.event_id
                and context.context_type = 'groups' and context.context_name = 'org-admins'))
    union all
    select org_id, event_key, 'AUDIT-003' from org_events where action_name = 'Created admin API key'
    union all
    select org_id, event_key, 'AUDIT-004' from org_events where action_name = 'Created API token'
    union all
    select org_id, event_key, 'AUDIT-005' from org_events where auth_type = 'api-token' and is_actor_privileged
    union all
    select org_id, event_key, case action_group
            when 'Authentication policies' then 'AUDIT-006'
            when 'IP allowlists' then 'AUDIT-007'
            when 'Domains' then 'AUDIT-008'
            when 'Identity providers' then 'AUDIT-009'
            when 'Product access' then 'AUDIT-015'
        end
    from org_events
    where action_group in ('Authentication policies', 'IP allowlists', 'Domains', 'Identity providers', 'Product access')
    union all
    select org_id, event_key, 'AUDIT-010' from org_events
    where action_name in ('App successful installation', 'App successful uninstallation', 'App enable success',
                          'App disable success', 'App update success',
                          'App failed installation (unsupported protocol)')
    union all
    select org_id, event_key, 'AUDIT-012' from org_events
    where action_name in ('Requested password recovery link', 'Reset password with recovery link',
                          'Changed email address')
        and is_subject_privileged
    union all
    select org_id, event_key, 'AUDIT-013' from org_events
    where action_name = 'Reactivated account' and subject_known_id is not null
        and (is_subject_privileged or subject_last_active_at is null
             or subject_last_active_at < {{ dbt.dateadd('day', -1 * var('dormant_days'), 'as_of') }})
    union all
    select org_id, event_key, 'AUDIT-014' from org_events
    where action_name = 'Logged in to account' and not exists (
        select 1 from allowed_countries
        where allowed_countries.org_id = org_events.org_id and allowed_countries.country = org_events.country)
    union all
    -- the event's product (guard_detect) is not served; the Guard Detect action group stands for it
    select org_id, event_key, 'AUDIT-016' from org_events
    where action_group = 'Guard Detect' and lower(action_name) like '%exfiltration%'
),

-- AUDIT-011: an app's API requests in one clock hour >= burst_min and > burst_factor x its mean hourly
-- count over the previous burst_baseline_days (every request of that hour is tagged)
app_requests as (
    select
        org_id,
        event_key,
        coalesce(site_name, '') || '|' || action || '|' || actor_app_key as app_ref,
        occurred_at,
        {{ dbt.date_trunc('hour', 'occurred_at') }} as request_hour
    from org_events
    where action_name in ('Third-party app Jira API request', 'Third-party app Confluence API request')
        and actor_app_key is not null
),

hourly as (
    select org_id, app_ref, request_hour, count(*) as request_count
    from app_requests
    group by org_id, app_ref, request_hour
    having count(*) >= {{ var('burst_min') }}
),

bursts as (
    select hourly.org_id, hourly.app_ref, hourly.request_hour
    from hourly
    left join app_requests as earlier
        on hourly.org_id = earlier.org_id and hourly.app_ref = earlier.app_ref
        and earlier.occurred_at < hourly.request_hour
        and earlier.occurred_at >= {{ dbt.dateadd('day', -1 * var('burst_baseline_days'), 'hourly.request_hour') }}
    group by hourly.org_id, hourly.app_ref, hourly.request_hour, hourly.request_count
    having hourly.request_count * {{ var('burst_baseline_days') }} * 24 > {{ var('burst_factor') }} * count(earlier.event_key)
),

burst_tags as (
    select app_requests.org_id, app_requests.event_key, 'AUDIT-011' as check_id
    from app_requests
    inner join bursts
        on app_requests.org_id = bursts.org_id and app_requests.app_ref = bursts.app_ref
        and app_requests.request_hour = bursts.request_hour
),

jira_events as (
    select * from events where source = 'jira' or (source = 'dc' and product = 'jira')
),

admin_holders as (
    select org_id, site_ref, group_name, group_id from {{ ref('int_jira_admin_holder_groups') }}
),

jira_tags as (
    select org_id, event_key, 'AUDIT-J01' as check_id from jira_events
    where action = 'User added to group' and (
        coalesce(object_name, '') in ('administrators', 'site-admins', 'atlassian-addons-admin', 'jira-administrators')
        or object_name like 'site-admins-%' or object_name like 'jira-admins-%'
        or exists (
            select 1 from admin_holders
            where admin_holders.org_id = jira_events.org_id and admin_holders.site_ref = jira_events.site_ref
                and (jira_events.object_name in (admin_holders.group_name, admin_holders.group_id)
                     or jira_events.object_id = admin_holders.group_id)))
    union all
    select org_id, event_key, 'AUDIT-J02' from jira_events where action = 'Global permission added'
    union all
    select org_id, event_key, 'AUDIT-J03' from jira_events
    where action in ('Permission scheme updated', 'Permission scheme deleted') and lower(category) = 'permissions'
    union all
    select org_id, event_key, 'AUDIT-J04' from jira_events where action = 'Project roles changed'
    union all
    select org_id, event_key, 'AUDIT-J05' from jira_events where action = 'User created' and object_type = 'USER'
    union all
    select org_id, event_key, 'AUDIT-J06' from jira_events where action = 'User''s password changed'
    union all
    select org_id, event_key, 'AUDIT-J07' from jira_events
    where action = 'Customer permissions changed' and exists (
        select 1 from {{ ref('stg_audit__jira_audit_records__changed_values') }} as changes
        where changes.tenant = jira_events.tenant and changes.audit_record_id = jira_events.event_id
            and changes.field_name = 'Customer access' and changes.changed_to like 'Anyone%')
    union all
    select org_id, event_key, 'AUDIT-J08' from jira_events where action = 'Issue Security scheme deleted'
    union all
    select org_id, event_key, 'AUDIT-J09' from jira_events where action = 'Project deleted'
),

confluence_events as (
    select * from events where source = 'confluence' or (source = 'dc' and product = 'confluence')
),

-- product-access groups: Cloud groups with the atlassian/user role; DC groups holding every licensed user
cloud_product_groups as (
    select distinct groups.org_id, groups.group_name
    from {{ ref('stg_org__org_groups') }} as groups
    inner join {{ ref('stg_org__org_group_role_assignments') }} as assignments
        on groups.org_id = assignments.org_id and groups.group_id = assignments.group_id and assignments.is_current
    inner join {{ ref('stg_org__org_group_role_assignments__roles') }} as roles
        on assignments.group_role_assignment_row_id = roles.parent_row_id
    where groups.is_current and roles.role in ('atlassian/user', 'user')
),

dc_licensed as (
    select org_id, account_id from {{ ref('int_accounts') }} where deployment = 'dc' and is_live
),

dc_product_groups as (
    select memberships.org_id, memberships.site_ref, memberships.group_name
    from {{ ref('int_group_memberships') }} as memberships
    inner join dc_licensed
        on memberships.org_id = dc_licensed.org_id and memberships.account_id = dc_licensed.account_id
    where memberships.deployment = 'dc'
    group by memberships.org_id, memberships.site_ref, memberships.group_name
    having count(distinct memberships.account_id)
        = (select count(*) from dc_licensed where dc_licensed.org_id = memberships.org_id)
),

confluence_tags as (
    select org_id, event_key, 'AUDIT-C01' as check_id from confluence_events
    where action = 'Space permission added' and exists (
        select 1 from {{ ref('stg_audit__confluence_audit_records__changed_values') }} as changes
        where changes.tenant = confluence_events.tenant and changes.audit_record_id = confluence_events.event_id
            and (lower(changes.changed_name) = 'anonymous'
                 or exists (select 1 from cloud_product_groups
                            where confluence_events.source = 'confluence'
                                and cloud_product_groups.org_id = confluence_events.org_id
                                and cloud_product_groups.group_name = changes.changed_name)
                 or exists (select 1 from dc_product_groups
                            where confluence_events.source = 'dc'
                                and dc_product_groups.org_id = confluence_events.org_id
                                and dc_product_groups.site_ref = confluence_events.site_ref
                                and dc_product_groups.group_name = changes.changed_name)))
    union all
    select org_id, event_key, 'AUDIT-C02' from confluence_events
    where action in ('Global permission added', 'Global permission removed')
    union all
    select org_id, event_key, 'AUDIT-C03' from confluence_events
    where lower(action) like '%public link%' and lower(action) like '%enable%'
    union all
    select org_id, event_key, 'AUDIT-C04' from confluence_events
    where action = 'User added to group' and (
        coalesce(object_name, '') in ('administrators', 'site-admins', 'confluence-administrators')
        or object_name like 'site-admins-%' or object_name like 'confluence-admins-%')
    union all
    select org_id, event_key, 'AUDIT-C05' from confluence_events where lower(action) like 'space export%'
    union all
    select org_id, event_key, 'AUDIT-016' from confluence_events where lower(action) like 'space export%'
    union all
    select org_id, event_key, 'AUDIT-C06' from confluence_events where lower(action) like '%viewed with admin key%'
),

tags as (
    select * from org_tags
    union all
    select * from burst_tags
    union all
    select * from jira_tags
    union all
    select * from confluence_tags
)

select distinct
    tags.org_id,
    tags.check_id,
    tags.event_key,
    events.source,
    events.site_ref,
    events.product,
    events.occurred_at,
    events.action,
    events.action_name,
    events.actor_account_id,
    events.actor_name,
    events.subject_account_id,
    events.object_name
from tags
inner join events on tags.org_id = events.org_id and tags.event_key = events.event_key
