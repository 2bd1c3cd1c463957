-- One row per user-installed app per site and product (Cloud: site + Jira/Confluence; Data Center:
-- instance), with what UPM, the Marketplace and the org audit log tell about it.
-- Cloud UPM lists Connect apps only (Forge apps are not listed, README of the connector), so a
-- Cloud app here is Connect when UPM calls it remotable; a Data Center app is a P2 plugin.
with installed as (
    select * from {{ ref('stg_apps__apps_installed') }}
    where is_current and is_user_installed
),

-- an app that was enabled in an earlier snapshot and is disabled now: disabled when the change was seen
history as (
    select tenant, plugin_key, max(valid_to) as last_enabled_until
    from {{ ref('stg_apps__apps_installed') }}
    where not is_current and is_enabled
    group by tenant, plugin_key
),

listings as (
    select * from {{ ref('stg_apps__apps_marketplace') }}
    where is_current
),

scopes as (
    select
        org_id,
        plugin_key,
        {{ dbt.listagg('scope', "','", 'order by scope') }} as scopes
    from {{ ref('stg_apps__marketplace_scopes') }}
    where is_current
    group by org_id, plugin_key
),

app_events as (
    select * from {{ ref('int_audit__app_events') }}
),

-- lifecycle events name an app by key; an event without a site or product applies to every site / product
lifecycle as (
    select
        installed.tenant,
        installed.plugin_key,
        app_events.event_kind,
        app_events.occurred_at,
        app_events.actor_account_id,
        row_number() over (
            partition by installed.tenant, installed.plugin_key, app_events.event_kind
            order by app_events.occurred_at desc, app_events.event_key desc
        ) as recency
    from installed
    inner join app_events
        on installed.org_id = app_events.org_id
        and installed.plugin_key = app_events.app_key
        and (app_events.site_name is null or app_events.site_name = installed.site_name)
        and (app_events.product is null or app_events.product = installed.product)
    where installed.deployment = 'cloud'
      and app_events.event_kind in ('install', 'disable')
),

installs as (
    select tenant, plugin_key, occurred_at as installed_at, actor_account_id as installed_by_account_id
    from lifecycle
    where event_kind = 'install' and recency = 1
),

disables as (
    select tenant, plugin_key, occurred_at as disabled_at
    from lifecycle
    where event_kind = 'disable' and recency = 1
)

select
    -- ids
    'app:' || installed.site_ref || ':' || installed.product || ':' || installed.plugin_key as app_key,
    installed.plugin_key,
    installed.org_id,
    installed.org_key,
    -- strings
    installed.app_name,
    installed.app_version,
    installed.vendor_name,
    installed.site_name,
    installed.site_ref,
    installed.product,
    installed.deployment,
    installed.tenant,
    case
        when installed.deployment = 'dc' then 'plugins2'
        when installed.is_remotable then 'connect'
        else 'forge'
    end as framework,
    scopes.scopes,
    -- booleans
    coalesce(installed.vendor_name = 'Atlassian', false) as is_atlassian_vendor,
    installed.is_enabled,
    installed.is_user_installed,
    installed.has_update_available,
    case when installed.deployment = 'cloud' then coalesce(listings.is_listed, false) end as is_listed,
    case when listings.is_listed then listings.cloud_fortified_status = 'approved' end as is_cloud_fortified,
    case when listings.is_listed then listings.bug_bounty_status = 'approved' end as has_bug_bounty,
    case when listings.is_listed then listings.top_vendor_status = 'approved' end as is_top_vendor,
    case when listings.is_listed then listings.runs_on_atlassian end as runs_on_atlassian,
    case when listings.is_listed then listings.has_forge_version end as has_forge_version,
    case when listings.is_listed then listings.stores_personal_data end as stores_personal_data,
    listings.plugin_key is not null as has_marketplace_answer,
    -- timestamps
    installs.installed_at,
    installs.installed_by_account_id,
    case
        when not installed.is_enabled then coalesce(disables.disabled_at, history.last_enabled_until)
    end as disabled_at,
    case when listings.is_listed then listings.last_release_at end as last_release_at
from installed
left join listings
    on installed.deployment = 'cloud'
    and installed.org_id = listings.org_id
    and installed.plugin_key = listings.plugin_key
left join scopes
    on installed.deployment = 'cloud'
    and installed.org_id = scopes.org_id
    and installed.plugin_key = scopes.plugin_key
left join history on installed.tenant = history.tenant and installed.plugin_key = history.plugin_key
left join installs on installed.tenant = installs.tenant and installed.plugin_key = installs.plugin_key
left join disables on installed.tenant = disables.tenant and installed.plugin_key = disables.plugin_key
