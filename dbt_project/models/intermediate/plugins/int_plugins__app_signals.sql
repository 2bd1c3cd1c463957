-- One row per user-installed app and plugin signal (PLUGIN-001..019) that fires on it, with a
-- short evidence sentence (rule book, plugin signals). Whether a signal is evaluated for the org at
-- all (Guard, coverage) is decided in int_results__plugins.
with apps as (
    select apps.*, orgs.as_of
    from {{ ref('int_apps') }} as apps
    inner join {{ ref('int_orgs') }} as orgs on apps.org_id = orgs.org_id
),

scope_rows as (
    select * from {{ ref('stg_apps__marketplace_scopes') }}
    where is_current
),

scope_risk as (
    select * from {{ ref('scope_risk') }}
),

app_events as (
    select * from {{ ref('int_audit__app_events') }}
),

accounts as (
    select * from {{ ref('int_accounts') }}
),

-- 001-005: each listed scope fires its own signal (no hierarchy expansion)
scope_signals as (
    select distinct
        apps.org_id,
        apps.app_key,
        scope_risk.signal_id,
        'scope ' || scope_rows.scope || ' granted' as evidence
    from apps
    inner join scope_rows on apps.org_id = scope_rows.org_id and apps.plugin_key = scope_rows.plugin_key
    inner join scope_risk
        on (scope_risk.match_type = 'exact' and scope_rows.scope = scope_risk.scope)
        or (scope_risk.match_type = 'prefix' and scope_rows.scope like scope_risk.scope || '%')
    where apps.deployment = 'cloud'
),

attribute_signals as (
    select org_id, app_key, 'PLUGIN-006' as signal_id,
        case when framework = 'connect' then 'Connect app: runs on the vendor''s infrastructure'
             else 'Forge app without the Runs-on-Atlassian badge' end as evidence
    from apps
    where framework = 'connect'
       or (framework = 'forge' and deployment = 'cloud' and not coalesce(runs_on_atlassian, false))

    union all
    select org_id, app_key, 'PLUGIN-007', 'no public Marketplace listing (private or custom app)'
    from apps where deployment = 'cloud' and has_marketplace_answer and not is_listed

    union all
    select org_id, app_key, 'PLUGIN-008', 'Marketplace listing is not Cloud Fortified'
    from apps where is_listed and not is_cloud_fortified

    union all
    select org_id, app_key, 'PLUGIN-009', 'vendor is not in the Marketplace bug bounty programme'
    from apps where is_listed and not has_bug_bounty

    union all
    select org_id, app_key, 'PLUGIN-010', 'last Marketplace release more than {{ var("app_unmaintained_days") }} days ago'
    from apps
    where is_listed and last_release_at < {{ dbt.dateadd('day', -1 * var('app_unmaintained_days'), 'as_of') }}

    union all
    select org_id, app_key, 'PLUGIN-011', 'Connect app without a Forge version on the Marketplace'
    from apps where framework = 'connect' and not coalesce(is_listed and has_forge_version, false)

    union all
    select org_id, app_key, 'PLUGIN-014', 'Marketplace listing says the app stores personal data'
    from apps where is_listed and stores_personal_data

    union all
    select org_id, app_key, 'PLUGIN-016', 'an update is available (UPM updateAvailable)'
    from apps where deployment = 'dc' and has_update_available

    union all
    select org_id, app_key, 'PLUGIN-019', 'vendor is not a Marketplace Top Vendor'
    from apps where is_listed and not is_top_vendor
),

-- 012: the app's bot account (an `app` account named like the app) sits in an admin group.
-- The bot carries no app key: the site is the one whose user listing holds the bot (each install
-- has its own bot, so a same-named app on another site is not implicated); a Jira-only admin group
-- (jira-admins-*, atlassian-addons-admin, jira-administrators) points at the Jira app of that name,
-- a Confluence one at the Confluence app.
bot_sites as (
    select org_id, account_id, site_ref
    from {{ ref('stg_directory__jira_users') }}
    where is_current and account_type = 'app' and deployment = 'cloud'
    union
    select org_id, account_id, site_ref
    from {{ ref('stg_directory__confluence_users') }}
    where is_current and account_type = 'app' and deployment = 'cloud'
),

bot_groups as (
    select distinct
        memberships.org_id,
        coalesce(memberships.site_ref, bot_sites.site_ref) as site_ref,
        bots.display_name as bot_name,
        admin_groups.group_name,
        case
            when admin_groups.group_name like 'jira-admins-%'
                or admin_groups.group_name in ('atlassian-addons-admin', 'jira-administrators') then 'jira'
            when admin_groups.group_name like 'confluence-admins-%'
                or admin_groups.group_name = 'confluence-administrators' then 'confluence'
        end as group_product
    from {{ ref('int_group_memberships') }} as memberships
    inner join accounts as bots
        on memberships.org_id = bots.org_id and memberships.account_id = bots.account_id
    inner join {{ ref('int_admin_groups') }} as admin_groups
        on memberships.org_id = admin_groups.org_id and memberships.group_id = admin_groups.group_id
    left join bot_sites
        on memberships.org_id = bot_sites.org_id and memberships.account_id = bot_sites.account_id
    where bots.account_type = 'app' and memberships.deployment = 'cloud'
),

bot_signals as (
    select distinct
        apps.org_id,
        apps.app_key,
        'PLUGIN-012' as signal_id,
        'app bot account is a member of admin group ''' || min(bot_groups.group_name) || '''' as evidence
    from apps
    inner join bot_groups
        on apps.org_id = bot_groups.org_id
        and apps.app_name = bot_groups.bot_name
        and (bot_groups.site_ref is null or bot_groups.site_ref = apps.site_ref)
        and (bot_groups.group_product is null or bot_groups.group_product = apps.product)
    where apps.deployment = 'cloud'
    group by apps.org_id, apps.app_key
),

addons_signals as (
    select
        apps.org_id,
        apps.app_key,
        'PLUGIN-013' as signal_id,
        'Connect app user can browse a sensitive project through atlassian-addons-project-access' as evidence
    from apps
    inner join {{ ref('int_jira__addons_exposed_sites') }} as exposed
        on apps.org_id = exposed.org_id and apps.site_ref = exposed.site_ref
    where apps.deployment = 'cloud' and apps.product = 'jira' and apps.framework = 'connect'
),

last_requests as (
    select org_id, site_name, product, app_key as plugin_key, max(occurred_at) as last_request_at
    from app_events
    where event_kind = 'request'
    group by org_id, site_name, product, app_key
),

guarded_orgs as (
    select org_id
    from {{ ref('int_coverage_latest') }}
    where resource_name = 'org_events' and is_collected
),

-- 015: disabled more than app_disabled_days ago (an unknown disable time, e.g. without Guard's audit
-- log, counts as long ago: a standing grant nobody can date is reported, with that said), or
-- (Cloud, Guard, installed more than app_idle_days ago or at an unknown time) no API request since
idle_signals as (
    select
        apps.org_id,
        apps.app_key,
        'PLUGIN-015' as signal_id,
        case
            when not apps.is_enabled and apps.disabled_at is null
                then 'disabled since an unknown time (no audit log dates it): still installed with its grants'
            when not apps.is_enabled
                and apps.disabled_at < {{ dbt.dateadd('day', -1 * var('app_disabled_days'), 'apps.as_of') }}
                then 'disabled for more than {{ var("app_disabled_days") }} days'
            else 'no API request in the last {{ var("app_idle_days") }} days'
        end as evidence
    from apps
    left join last_requests
        on apps.org_id = last_requests.org_id
        and apps.site_name = last_requests.site_name
        and apps.product = last_requests.product
        and apps.plugin_key = last_requests.plugin_key
    where (not apps.is_enabled
           and coalesce(apps.disabled_at < {{ dbt.dateadd('day', -1 * var('app_disabled_days'), 'apps.as_of') }}, true))
       or (apps.deployment = 'cloud'
           and apps.org_id in (select org_id from guarded_orgs)
           and coalesce(apps.installed_at < {{ dbt.dateadd('day', -1 * var('app_idle_days'), 'apps.as_of') }}, true)
           and coalesce(last_requests.last_request_at >= {{ dbt.dateadd('day', -1 * var('app_idle_days'), 'apps.as_of') }}, false) = false)
),

app_lifecycle_events as (
    select
        apps.org_id,
        apps.app_key,
        apps.as_of,
        app_events.event_kind,
        app_events.occurred_at,
        app_events.actor_account_id
    from apps
    inner join app_events
        on apps.org_id = app_events.org_id
        and apps.plugin_key = app_events.app_key
        and (app_events.site_name is null or app_events.site_name = apps.site_name)
        and (app_events.product is null or app_events.product = apps.product)
    where apps.deployment = 'cloud' and app_events.event_kind in ('install', 'update')
),

event_signals as (
    select distinct org_id, app_key, 'PLUGIN-017' as signal_id,
        'installed or updated in the last {{ var("recent_days") }} days' as evidence
    from app_lifecycle_events
    where occurred_at >= {{ dbt.dateadd('day', -1 * var('recent_days'), 'as_of') }}

    union all
    select distinct events.org_id, events.app_key, 'PLUGIN-018',
        'installed by an account that is now not live, not privileged or external'
    from app_lifecycle_events as events
    left join accounts
        on events.org_id = accounts.org_id
        and events.actor_account_id = accounts.account_id
    where events.event_kind = 'install'
      and (accounts.account_id is null
           or not coalesce(accounts.is_live, false)
           or not coalesce(accounts.is_privileged, false)
           or coalesce(accounts.is_external, false))
),

unioned as (
    select org_id, app_key, signal_id, evidence from scope_signals
    union all select org_id, app_key, signal_id, evidence from attribute_signals
    union all select org_id, app_key, signal_id, evidence from bot_signals
    union all select org_id, app_key, signal_id, evidence from addons_signals
    union all select org_id, app_key, signal_id, evidence from idle_signals
    union all select org_id, app_key, signal_id, evidence from event_signals
)

select
    org_id,
    app_key,
    signal_id,
    min(evidence) as evidence
from unioned
group by org_id, app_key, signal_id
