-- One row per principal of an organization: Cloud accounts (the org directory's Atlassian
-- accounts, plus app bots and customers that only the products list) and Data Center users
-- (one user directory per org: Jira and Confluence DC users merged by username).
-- Predicates follow the rule book: live, product access, external, org-level/product admin, privileged.
with orgs as (
    select org_id, org_key from {{ ref('int_orgs') }}
),

users as (
    select * from {{ ref('stg_org__org_users') }} where is_current
),

platform_roles as (
    select
        users.org_key,
        users.account_id,
        roles.platform_role,
        case when roles.platform_role like 'atlassian/%'
            then {{ dbt.replace('roles.platform_role', "'atlassian/'", "''") }}
            else roles.platform_role end as role_name
    from {{ ref('stg_org__org_users__platform_roles') }} as roles
    inner join users on roles.parent_row_id = users.user_row_id
),

product_access as (
    select users.org_key, users.account_id, access.product_key, access.last_active_at
    from {{ ref('stg_org__org_users__product_access') }} as access
    inner join users on access.parent_row_id = users.user_row_id
),

access_summary as (
    select
        org_key,
        account_id,
        max(last_active_at) as last_active_at,
        count(*) as access_count
    from product_access
    group by org_key, account_id
),

access_keys as (
    select
        org_key,
        account_id,
        {{ dbt.listagg('product_key', "','", 'order by product_key') }} as product_keys
    from (select distinct org_key, account_id, product_key from product_access) as distinct_access
    group by org_key, account_id
),

role_summary as (
    select
        org_key,
        account_id,
        max(case when role_name in ('org-admin', 'site-admin', 'user-access-admin') then 1 else 0 end) as is_org_level_admin,
        max(case when role_name = 'admin' then 1 else 0 end) as has_admin_role,
        {{ dbt.listagg('platform_role', "','", 'order by platform_role') }} as platform_roles
    from (select distinct org_key, account_id, platform_role, role_name from platform_roles) as distinct_roles
    group by org_key, account_id
),

verified_domains as (
    select distinct org_key, lower(domain_name) as domain_name
    from {{ ref('stg_org__org_domains') }}
    where is_current and claim_status = 'verified'
),

policy_members as (
    select org_key, account_id, max(policy_id) as auth_policy_id
    from {{ ref('stg_org__org_auth_policy_members') }}
    where is_current
    group by org_key, account_id
),

guests as (
    select org_key, account_id, max(case when is_guest then 1 else 0 end) as is_guest
    from {{ ref('stg_directory__confluence_users') }}
    where is_current and deployment = 'cloud'
    group by org_key, account_id
),

-- principals only the products list (app bots, JSM customers)
product_only as (
    select
        jira_users.org_key,
        jira_users.account_id,
        max(jira_users.account_type) as account_type,
        max(jira_users.display_name) as display_name,
        max(jira_users.email) as email,
        max(case when jira_users.is_active then 1 else 0 end) as is_active
    from {{ ref('stg_directory__jira_users') }} as jira_users
    where jira_users.is_current
      and jira_users.deployment = 'cloud'
      and not exists (
          select 1 from users where users.org_key = jira_users.org_key and users.account_id = jira_users.account_id
      )
    group by jira_users.org_key, jira_users.account_id
),

cloud_base as (
    select
        org_key, account_id, display_name, email, account_type, account_status, membership_status,
        claim_status, management_source, is_mfa_enabled as mfa_enabled, is_email_verified as email_verified,
        added_to_org_at
    from users
    union all
    select
        org_key, account_id, display_name, email, account_type,
        case when is_active = 1 then 'active' else 'inactive' end as account_status,
        'active' as membership_status,
        'unmanaged' as claim_status,
        cast(null as {{ dbt.type_string() }}) as management_source,
        cast(null as {{ dbt.type_boolean() }}) as mfa_enabled,
        cast(null as {{ dbt.type_boolean() }}) as email_verified,
        cast(null as {{ dbt.type_timestamp() }}) as added_to_org_at
    from product_only
),

memberships as (
    select org_id, account_id, group_id
    from {{ ref('int_group_memberships') }}
    where deployment = 'cloud'
),

admin_groups as (
    select * from {{ ref('int_admin_groups') }}
),

group_flags as (
    select
        memberships.org_id,
        memberships.account_id,
        max(case when admin_groups.is_product_admin_group then 1 else 0 end) as in_product_admin_group,
        max(case when admin_groups.is_product_admin_group or admin_groups.is_org_admins_group then 1 else 0 end)
            as in_admin_group
    from memberships
    inner join admin_groups
        on memberships.org_id = admin_groups.org_id and memberships.group_id = admin_groups.group_id
    group by memberships.org_id, memberships.account_id
),

cloud as (
    select
        orgs.org_id,
        'account:' || base.account_id as account_key,
        base.account_id,
        'cloud' as deployment,
        base.display_name,
        base.email,
        case when base.email like '%@%' then lower({{ split_part('base.email', "'@'", 2) }}) end as email_domain,
        base.account_type,
        base.account_status,
        base.membership_status,
        base.claim_status,
        base.management_source,
        base.account_status = 'active' and base.membership_status = 'active' as is_live,
        base.mfa_enabled,
        base.email_verified,
        base.added_to_org_at,
        access_summary.last_active_at,
        coalesce(access_summary.access_count, 0) as access_count,
        access_keys.product_keys,
        role_summary.platform_roles,
        coalesce(role_summary.is_org_level_admin, 0) = 1 as is_org_admin,
        coalesce(role_summary.has_admin_role, 0) = 1 or coalesce(group_flags.in_product_admin_group, 0) = 1
            as is_product_admin,
        coalesce(group_flags.in_admin_group, 0) = 1 as is_in_admin_group,
        policy_members.auth_policy_id,
        coalesce(guests.is_guest, 0) = 1 as is_guest
    from cloud_base as base
    inner join orgs on base.org_key = orgs.org_key
    left join access_summary on base.org_key = access_summary.org_key and base.account_id = access_summary.account_id
    left join access_keys on base.org_key = access_keys.org_key and base.account_id = access_keys.account_id
    left join role_summary on base.org_key = role_summary.org_key and base.account_id = role_summary.account_id
    left join policy_members on base.org_key = policy_members.org_key and base.account_id = policy_members.account_id
    left join guests on base.org_key = guests.org_key and base.account_id = guests.account_id
    left join group_flags on orgs.org_id = group_flags.org_id and base.account_id = group_flags.account_id
),

cloud_final as (
    select
        cloud.*,
        cloud.is_live and cloud.access_count > 0 as has_product_access,
        cloud.claim_status = 'managed' as is_managed,
        cloud.claim_status = 'unmanaged' or (
            cloud.email_domain is not null and not exists (
                select 1 from verified_domains as v
                inner join orgs as o on v.org_key = o.org_key
                where o.org_id = cloud.org_id and v.domain_name = cloud.email_domain
            )
        ) as is_external,
        cloud.is_org_admin or cloud.is_product_admin as is_privileged
    from cloud
),

dc_users as (
    select org_key, username, display_name, email, is_active, is_deleted, 1 as from_jira
    from {{ ref('stg_directory__jira_dc_users') }}
    where is_current and username is not null
    union all
    select org_key, username, display_name, email, user_status = 'active' as is_active, false as is_deleted, 0 as from_jira
    from {{ ref('stg_directory__confluence_dc_users') }}
    where is_current and username is not null
),

dc_ranked as (
    select
        dc_users.*,
        row_number() over (partition by org_key, username order by from_jira desc, is_active desc) as pick
    from dc_users
),

dc as (
    select
        orgs.org_id,
        'account:' || dc_ranked.username as account_key,
        dc_ranked.username as account_id,
        'dc' as deployment,
        dc_ranked.display_name,
        dc_ranked.email,
        case when dc_ranked.email like '%@%' then lower({{ split_part('dc_ranked.email', "'@'", 2) }}) end as email_domain,
        'dc_user' as account_type,
        case when dc_ranked.is_deleted then 'deleted' when dc_ranked.is_active then 'active' else 'inactive' end
            as account_status,
        cast(null as {{ dbt.type_string() }}) as membership_status,
        cast(null as {{ dbt.type_string() }}) as claim_status,
        cast(null as {{ dbt.type_string() }}) as management_source,
        coalesce(dc_ranked.is_active, false) and not coalesce(dc_ranked.is_deleted, false) as is_live,
        cast(null as {{ dbt.type_boolean() }}) as mfa_enabled,
        cast(null as {{ dbt.type_boolean() }}) as email_verified,
        cast(null as {{ dbt.type_timestamp() }}) as added_to_org_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_active_at,
        0 as access_count,
        cast(null as {{ dbt.type_string() }}) as product_keys,
        cast(null as {{ dbt.type_string() }}) as platform_roles,
        false as is_org_admin,
        false as is_product_admin,
        false as is_in_admin_group,
        cast(null as {{ dbt.type_string() }}) as auth_policy_id,
        false as is_guest,
        false as has_product_access,
        cast(null as {{ dbt.type_boolean() }}) as is_managed,
        cast(null as {{ dbt.type_boolean() }}) as is_external,
        false as is_privileged
    from dc_ranked
    inner join orgs on dc_ranked.org_key = orgs.org_key
    where dc_ranked.pick = 1
      -- a DC username that is also a Cloud account id of the org stays the Cloud account
      and not exists (select 1 from cloud_final where cloud_final.org_id = orgs.org_id
                      and cloud_final.account_id = dc_ranked.username)
)

select
    org_id, account_key, account_id, deployment, display_name, email, email_domain, account_type,
    account_status, membership_status, claim_status, management_source, is_live, has_product_access,
    is_managed, is_external, is_guest, mfa_enabled, email_verified, added_to_org_at, last_active_at,
    auth_policy_id, is_org_admin, is_product_admin, is_privileged, is_in_admin_group, product_keys, platform_roles
from cloud_final
union all
select
    org_id, account_key, account_id, deployment, display_name, email, email_domain, account_type,
    account_status, membership_status, claim_status, management_source, is_live, has_product_access,
    is_managed, is_external, is_guest, mfa_enabled, email_verified, added_to_org_at, last_active_at,
    auth_policy_id, is_org_admin, is_product_admin, is_privileged, is_in_admin_group, product_keys, platform_roles
from dc
