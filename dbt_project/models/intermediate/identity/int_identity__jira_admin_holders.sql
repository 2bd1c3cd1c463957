-- Holders of Administer Jira per Jira deployment (POSTURE-027, the rule book):
-- members of groups holding global ADMINISTER, plus on Cloud members of groups with
-- `atlassian/admin` on that site's Jira. A holder is a problem when it is unmanaged, an app or
-- not live (Cloud), or unknown, inactive or deleted (DC).
with orgs as (
    select org_id, org_key from {{ ref('int_orgs') }}
),

-- Cloud site name of each Jira site ARI (the workspace's host is <site>.atlassian.net)
jira_sites as (
    select distinct
        orgs.org_id,
        workspaces.workspace_id as resource_id,
        {{ split_part(dbt.replace('workspaces.host_url', "'https://'", "''"), "'.'", 1) }} as site_ref
    from {{ ref('stg_org__org_workspaces') }} as workspaces
    inner join orgs on workspaces.org_key = orgs.org_key
    where workspaces.is_current and workspaces.workspace_id like 'ari:cloud:jira::site/%'
),

admin_role_groups as (
    select distinct jira_sites.org_id, jira_sites.site_ref, assignments.group_id
    from {{ ref('stg_org__org_group_role_assignments__roles') }} as roles
    inner join {{ ref('stg_org__org_group_role_assignments') }} as assignments
        on roles.parent_row_id = assignments.group_role_assignment_row_id
    inner join orgs on assignments.org_key = orgs.org_key
    inner join jira_sites on orgs.org_id = jira_sites.org_id and assignments.resource_id = jira_sites.resource_id
    where roles.is_current and roles.role in ('admin', 'atlassian/admin')
),

holder_groups as (
    select org_id, site_ref, deployment, group_id
    from {{ ref('int_jira_admin_holder_groups') }}
    union
    select org_id, site_ref, 'cloud' as deployment, group_id
    from admin_role_groups
),

memberships as (
    select * from {{ ref('int_group_memberships') }}
),

cloud_holders as (
    select distinct holder_groups.org_id, holder_groups.site_ref, holder_groups.deployment, memberships.account_id
    from holder_groups
    inner join memberships
        on holder_groups.org_id = memberships.org_id
        and memberships.deployment = 'cloud'
        and holder_groups.group_id = memberships.group_id
    where holder_groups.deployment = 'cloud'
),

dc_holders as (
    select distinct holder_groups.org_id, holder_groups.site_ref, holder_groups.deployment, memberships.account_id
    from holder_groups
    inner join memberships
        on holder_groups.org_id = memberships.org_id
        and memberships.deployment = 'dc'
        and holder_groups.site_ref = memberships.site_ref
        and holder_groups.group_id = memberships.group_id
    where holder_groups.deployment = 'dc'
),

dc_users as (
    select orgs.org_id, users.site_ref, users.username, users.is_active, users.is_deleted
    from {{ ref('stg_directory__jira_dc_users') }} as users
    inner join orgs on users.org_key = orgs.org_key
    where users.is_current
),

cloud_accounts as (
    select * from {{ ref('int_accounts') }} where deployment = 'cloud'
)

select
    cloud_holders.org_id,
    cloud_holders.site_ref,
    cloud_holders.deployment,
    cloud_holders.account_id,
    coalesce(accounts.email, accounts.display_name, cloud_holders.account_id) as holder_name,
    case
        when accounts.account_id is null then 'unknown account'
        when accounts.account_type <> 'atlassian' then 'app or non-Atlassian account'
        when accounts.claim_status <> 'managed' then 'unmanaged'
        when not accounts.is_live then 'not live'
    end as problem
from cloud_holders
left join cloud_accounts as accounts
    on cloud_holders.org_id = accounts.org_id and cloud_holders.account_id = accounts.account_id
union all
select
    dc_holders.org_id,
    dc_holders.site_ref,
    dc_holders.deployment,
    dc_holders.account_id,
    dc_holders.account_id as holder_name,
    case
        when dc_users.username is null then 'unknown user'
        when dc_users.is_deleted then 'deleted'
        when not coalesce(dc_users.is_active, false) then 'inactive'
    end as problem
from dc_holders
left join dc_users
    on dc_holders.org_id = dc_users.org_id and dc_holders.site_ref = dc_users.site_ref
    and dc_holders.account_id = dc_users.username
