-- Identity signals read from the audit logs (the rule book), in the results
-- contract: IDENT-016 impersonated, IDENT-017 newly granted admin, IDENT-018 admin e-mail/recovery
-- change, IDENT-019 sign-in from a country outside the allowed list, IDENT-023 robot-like account.
with orgs as (
    select org_id, org_resource_key, as_of from {{ ref('int_orgs') }}
),

guard as (
    select
        orgs.org_id,
        max(case when coverage.resource_name = 'org_events' and coverage.is_collected then 1 else 0 end) as has_org_log,
        -- IDENT-017's other source: a Jira Cloud audit log (Free answers 403)
        max(case when coverage.resource_name = 'jira_audit_records' and coverage.deployment = 'cloud'
                  and coverage.is_collected then 1 else 0 end) as has_jira_cloud_log
    from orgs
    left join {{ ref('int_coverage_latest') }} as coverage on orgs.org_id = coverage.org_id
    group by orgs.org_id
),

events as (
    select events.*, orgs.as_of
    from {{ ref('int_audit__events') }} as events
    inner join orgs on events.org_id = orgs.org_id
    where coalesce(events.processed_at, events.occurred_at) <= orgs.as_of
),

org_events as (
    select * from events where source = 'org'
),

context_users as (
    select org_id, event_id, context_item_id as account_id
    from {{ ref('stg_audit__org_events__context') }}
    where context_type = 'users' and context_item_id is not null
),

accounts as (
    select * from {{ ref('int_accounts') }} where deployment = 'cloud'
),

-- groups that make an "Added user to group" an admin grant: admin groups of the org directory and org-admins
admin_group_ids as (
    select distinct org_id, group_id from {{ ref('int_admin_groups') }}
    where (site_ref is null or site_ref not like 'dc:%')
        -- atlassian-addons-admin only counts for PLUGIN-012
        and (is_product_admin_group or is_org_admins_group)
),

allowed_countries as (
    select org_id, setting_scope as country
    from {{ ref('int_posture_settings') }}
    where setting_source = 'config' and setting_name = 'allowed_countries' and setting_scope is not null
),

signals as (
    -- IDENT-016: target of a "log in as user" in the impersonation window
    select org_events.org_id, 'IDENT-016' as check_id, context_users.account_id,
        'impersonated by ' || coalesce(org_events.actor_name, org_events.actor_account_id, 'unknown') as evidence
    from org_events
    inner join context_users on org_events.org_id = context_users.org_id and org_events.event_id = context_users.event_id
    where org_events.action = 'user_logged_in_as_user'
        and org_events.occurred_at >= {{ dbt.dateadd('day', -1 * var('impersonation_days'), 'org_events.as_of') }}

    union all
    -- IDENT-017 (org log): granted org admin, or added to an admin group, recently
    select org_events.org_id, 'IDENT-017', context_users.account_id, org_events.action_name
    from org_events
    inner join context_users on org_events.org_id = context_users.org_id and org_events.event_id = context_users.event_id
    where org_events.occurred_at >= {{ dbt.dateadd('day', -1 * var('recent_days'), 'org_events.as_of') }}
        and (org_events.action_name = 'Granted organization admin role'
             or (org_events.action_name = 'Added user to group' and exists (
                 select 1
                 from {{ ref('stg_audit__org_events__context') }} as groups
                 inner join admin_group_ids
                     on groups.org_id = admin_group_ids.org_id and groups.context_item_id = admin_group_ids.group_id
                 where groups.org_id = org_events.org_id and groups.event_id = org_events.event_id
                     and groups.context_type = 'groups')))

    union all
    -- IDENT-017 (Jira Cloud): the user of a recent AUDIT-J01 record
    select detections.org_id, 'IDENT-017', items.item_id, 'added to Jira admin group ' || coalesce(detections.object_name, '?')
    from {{ ref('int_audit__detections') }} as detections
    inner join events on detections.org_id = events.org_id and detections.event_key = events.event_key
    inner join {{ ref('stg_audit__jira_audit_records__associated_items') }} as items
        on events.tenant = items.tenant and events.event_id = items.audit_record_id
    where detections.check_id = 'AUDIT-J01' and detections.source = 'jira'
        and items.item_type = 'USER' and items.item_id is not null
        and events.occurred_at >= {{ dbt.dateadd('day', -1 * var('recent_days'), 'events.as_of') }}

    union all
    -- IDENT-018: e-mail change or recovery-link reset of an account privileged now
    select org_events.org_id, 'IDENT-018', subjects.account_id, org_events.action_name
    from org_events
    inner join accounts as subjects
        on org_events.org_id = subjects.org_id
        and coalesce(org_events.subject_account_id, org_events.actor_account_id) = subjects.account_id
    where org_events.action_name in ('Changed email address', 'Reset password with recovery link')
        and subjects.is_privileged
        and org_events.occurred_at >= {{ dbt.dateadd('day', -1 * var('recent_days'), 'org_events.as_of') }}

    union all
    -- IDENT-019: signed in from a country outside the allowed list
    select org_events.org_id, 'IDENT-019', org_events.actor_account_id,
        'signed in from ' || coalesce(org_events.country, 'an unknown country')
    from org_events
    where org_events.action_name = 'Logged in to account'
        and org_events.actor_account_id is not null and org_events.actor_account_id <> 'unknown'
        and org_events.occurred_at >= {{ dbt.dateadd('day', -1 * var('login_window_days'), 'org_events.as_of') }}
        and not exists (
            select 1 from allowed_countries
            where allowed_countries.org_id = org_events.org_id and allowed_countries.country = org_events.country)

    union all
    -- IDENT-023 (org log): a normal account driven by an API token on most days while idle itself
    select token_days.org_id, 'IDENT-023', token_days.account_id,
        'API-token events on ' || cast(token_days.day_count as {{ dbt.type_string() }}) || ' days of the window'
    from (
        select org_events.org_id, org_events.actor_account_id as account_id, max(org_events.as_of) as as_of,
            count(distinct cast(org_events.occurred_at as date)) as day_count
        from org_events
        where org_events.auth_type = 'api-token'
            and org_events.occurred_at >= {{ dbt.dateadd('day', -1 * var('robot_window_days'), 'org_events.as_of') }}
        group by org_events.org_id, org_events.actor_account_id
    ) as token_days
    inner join accounts
        on token_days.org_id = accounts.org_id and token_days.account_id = accounts.account_id
    where accounts.account_type = 'atlassian'
        and token_days.day_count >= {{ var('robot_min_days') }}
        and (accounts.last_active_at is null
             or accounts.last_active_at < {{ dbt.dateadd('day', -1 * var('robot_window_days'), 'token_days.as_of') }})
),

-- IDENT-023 (no log needed): a service-like name: local part or display name starting svc-/svc_/svc.,
-- a `bot` word (bounded by start/end, - _ . or a space; a digit may follow), or local part `admin`
names as (
    select
        org_id,
        account_id,
        account_type,
        lower(case when email like '%@%' then {{ split_part('email', "'@'", 1) }} else '' end) as local_part,
        lower(coalesce(display_name, '')) as display_lower
    from accounts
),

robot_names as (
    select org_id, account_id, local_part, display_lower
    from names
    where account_type = 'atlassian' and (
        local_part = 'admin'
        {%- for value in ['local_part', 'display_lower'] %}
        {%- set b = "(' ' || replace(replace(replace(" ~ value ~ ", '-', ' '), '_', ' '), '.', ' ') || ' ')" %}
        or substring({{ value }}, 1, 4) in ('svc-', 'svc_', 'svc.')
        or {{ b }} like '% bot %'
        {%- for digit in range(10) %}
        or {{ b }} like '% bot{{ digit }}%'
        {%- endfor %}
        {%- endfor %}
    )
),

all_signals as (
    select org_id, check_id, account_id, evidence from signals
    union all
    select org_id, 'IDENT-023', account_id, 'service-like name' from robot_names
),

check_status as (
    select
        orgs.org_id,
        orgs.org_resource_key,
        checks.check_id,
        case when checks.check_id in ('IDENT-016', 'IDENT-018', 'IDENT-019') and guard.has_org_log = 0
                  then 'not_evaluable'
             when checks.check_id = 'IDENT-017' and guard.has_org_log = 0 and guard.has_jira_cloud_log = 0
                  then 'not_evaluable'
             else 'evaluated' end as status,
        case
            when guard.has_org_log = 1 then null
            when checks.check_id = 'IDENT-017' and guard.has_jira_cloud_log = 0
                then 'neither an org audit log nor a Jira Cloud audit log was read'
            when checks.check_id in ('IDENT-016', 'IDENT-018', 'IDENT-019') then 'no Atlassian Guard: no org audit log'
            when checks.check_id = 'IDENT-017' then 'no org audit log: Jira audit only'
            when checks.check_id = 'IDENT-023' then 'no org audit log: name heuristic only'
        end as reason
    from orgs
    inner join guard on orgs.org_id = guard.org_id
    cross join (
        select 'IDENT-016' as check_id union all select 'IDENT-017' union all select 'IDENT-018'
        union all select 'IDENT-019' union all select 'IDENT-023'
    ) as checks
),

failing as (
    select
        check_status.org_id,
        check_status.check_id,
        check_status.status,
        check_status.reason,
        'account:' || all_signals.account_id as resource_key,
        'account' as resource_type,
        max(coalesce(accounts.email, accounts.display_name, all_signals.account_id)) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        true as is_failing,
        min(all_signals.evidence) as evidence
    from check_status
    inner join all_signals
        on check_status.org_id = all_signals.org_id and check_status.check_id = all_signals.check_id
    left join accounts on all_signals.org_id = accounts.org_id and all_signals.account_id = accounts.account_id
    where check_status.status = 'evaluated'
    group by check_status.org_id, check_status.check_id, check_status.status, check_status.reason, all_signals.account_id
)

select * from failing
union all
select
    check_status.org_id,
    check_status.check_id,
    check_status.status,
    check_status.reason,
    case when check_status.status = 'evaluated' then null else check_status.org_resource_key end as resource_key,
    case when check_status.status = 'evaluated' then null else 'org' end as resource_type,
    cast(null as {{ dbt.type_string() }}) as resource_name,
    cast(null as {{ dbt.type_string() }}) as site_ref,
    'org' as product,
    case when check_status.status = 'evaluated' then false end as is_failing,
    cast(null as {{ dbt.type_string() }}) as evidence
from check_status
where not exists (
    select 1 from failing where failing.org_id = check_status.org_id and failing.check_id = check_status.check_id)
