-- Who can do what in which Jira project or Confluence space, and why. One row per (org, site, project or
-- space, permission, principal, access path): Jira scheme grants on live projects (with project roles
-- resolved to their actors), Confluence space permissions and space role assignments, Cloud and DC.
-- Groups are not expanded to members (member_count tells their size where the directory is known).
with grants as (
    select * from {{ ref('int_jira__project_grants') }}
),

actors as (
    select * from {{ ref('int_jira__project_role_actors') }}
),

group_sizes as (
    select * from {{ ref('int_jira__group_sizes') }}
),

jira_direct as (
    -- the grant itself, at holder level
    select
        grants.org_id,
        grants.site_ref,
        grants.deployment,
        'jira' as product,
        'project' as resource_type,
        'project:' || grants.site_ref || ':' || grants.project_key as resource_key,
        grants.project_key as container_key,
        grants.project_name as resource_name,
        grants.permission_key as permission,
        case grants.holder_type
            when 'anyone' then 'anyone'
            when 'group' then 'group'
            when 'user' then 'user'
            when 'projectRole' then 'project_role'
            when 'applicationRole' then 'application_role'
            else 'issue_field'
        end as principal_type,
        coalesce(grants.holder_value, grants.holder_type) as principal_id,
        coalesce(grants.holder_name, grants.holder_type) as principal_name,
        case
            when grants.holder_type = 'applicationRole' then 'application role'
            when grants.holder_type = 'projectRole' then 'scheme grant to project role'
            else 'scheme grant'
        end as access_path,
        grants.holder_type as grant_holder_type,
        grants.scheme_name,
        grants.role_name
    from grants
),

jira_via_roles as (
    -- project-role grants resolved to the role's actors in that project
    select
        grants.org_id,
        grants.site_ref,
        grants.deployment,
        'jira' as product,
        'project' as resource_type,
        'project:' || grants.site_ref || ':' || grants.project_key as resource_key,
        grants.project_key as container_key,
        grants.project_name as resource_name,
        grants.permission_key as permission,
        actors.actor_type as principal_type,
        actors.actor_value as principal_id,
        actors.actor_name as principal_name,
        'project role via ' || actors.actor_type as access_path,
        grants.holder_type as grant_holder_type,
        grants.scheme_name,
        grants.role_name
    from grants
    inner join actors
        on grants.org_id = actors.org_id
        and grants.site_ref = actors.site_ref
        and grants.project_id = actors.project_id
        and grants.holder_value = actors.role_id
    where grants.holder_type = 'projectRole'
),

space_permissions as (
    select * from {{ ref('int_confluence__space_permissions') }}
),

spaces as (
    select org_id, site_ref, space_id, max(space_key) as space_key, max(space_name) as space_name
    from {{ ref('stg_confluence__confluence_spaces') }}
    where is_current
    group by org_id, site_ref, space_id
),

confluence_direct as (
    select
        org_id,
        site_ref,
        deployment,
        'confluence' as product,
        'space' as resource_type,
        'space:' || site_ref || ':' || space_key as resource_key,
        space_key as container_key,
        space_name as resource_name,
        operation || '/' || target_type as permission,
        case
            when access_class = 'anonymous-users' then 'anonymous'
            when access_class is not null or principal_type in ('role', 'access_class') then 'access_class'
            else principal_type
        end as principal_type,
        coalesce(principal_id, access_class) as principal_id,
        coalesce(principal_id, access_class) as principal_name,
        case when evidence_source = 'legacy space permission' then 'legacy space permission'
             else 'space permission' end as access_path,
        cast(null as {{ dbt.type_string() }}) as grant_holder_type,
        cast(null as {{ dbt.type_string() }}) as scheme_name,
        cast(null as {{ dbt.type_string() }}) as role_name
    from space_permissions
    where evidence_source <> 'space role assignment'  -- confluence_roles below gives those with the role's name
),

role_permissions as (
    select roles.org_id, roles.site_ref, roles.role_id, roles.role_name, children.space_permission
    from {{ ref('stg_confluence__confluence_space_roles') }} as roles
    inner join {{ ref('stg_confluence__confluence_space_roles__space_permissions') }} as children
        on roles.space_role_row_id = children.parent_row_id
    where roles.is_current
),

confluence_roles as (
    select
        assignments.org_id,
        assignments.site_ref,
        assignments.deployment,
        'confluence' as product,
        'space' as resource_type,
        'space:' || assignments.site_ref || ':' || spaces.space_key as resource_key,
        spaces.space_key as container_key,
        spaces.space_name as resource_name,
        role_permissions.space_permission as permission,
        case
            when assignments.principal_type = 'ACCESS_CLASS' and assignments.principal_id = 'anonymous-users' then 'anonymous'
            when assignments.principal_type = 'ACCESS_CLASS' then 'access_class'
            else lower(assignments.principal_type)
        end as principal_type,
        assignments.principal_id,
        assignments.principal_id as principal_name,
        'space role assignment' as access_path,
        cast(null as {{ dbt.type_string() }}) as grant_holder_type,
        cast(null as {{ dbt.type_string() }}) as scheme_name,
        role_permissions.role_name
    from {{ ref('stg_confluence__confluence_space_role_assignments') }} as assignments
    inner join spaces
        on assignments.org_id = spaces.org_id
        and assignments.site_ref = spaces.site_ref
        and assignments.space_id = spaces.space_id
    inner join role_permissions
        on assignments.org_id = role_permissions.org_id
        and assignments.site_ref = role_permissions.site_ref
        and assignments.role_id = role_permissions.role_id
    where assignments.is_current
),

security_projects as (
    select org_id, site_ref, scheme_id, project_id
    from {{ ref('stg_jira__jira_issue_security_scheme_projects') }} where is_current
),

security_levels as (
    select org_id, site_ref, scheme_id, level_id, level_name
    from {{ ref('stg_jira__jira_issue_security_levels') }} where is_current
),

security_schemes as (
    select org_id, site_ref, scheme_id, max(scheme_name) as scheme_name
    from {{ ref('stg_jira__jira_issue_security_schemes') }} where is_current
    group by org_id, site_ref, scheme_id
),

live_projects as (
    select distinct org_id, site_ref, deployment, project_id, project_key, project_name from grants
),

jira_issue_security as (
    -- who sees the project's issues that carry a security level (Browse alone no longer suffices for those)
    select
        projects.org_id,
        projects.site_ref,
        projects.deployment,
        'jira' as product,
        'project' as resource_type,
        'project:' || projects.site_ref || ':' || projects.project_key as resource_key,
        projects.project_key as container_key,
        projects.project_name as resource_name,
        'VIEW_SECURED_ISSUES: ' || coalesce(levels.level_name, members.level_id) as permission,
        case members.holder_type
            when 'anyone' then 'anyone'
            when 'group' then 'group'
            when 'user' then 'user'
            when 'projectRole' then 'project_role'
            when 'applicationRole' then 'application_role'
            else 'issue_field'
        end as principal_type,
        coalesce(members.holder_value, members.holder_type) as principal_id,
        coalesce(members.holder_parameter, members.holder_value, members.holder_type) as principal_name,
        'issue security level' as access_path,
        members.holder_type as grant_holder_type,
        schemes.scheme_name,
        cast(null as {{ dbt.type_string() }}) as role_name
    from security_projects
    inner join live_projects as projects
        on security_projects.org_id = projects.org_id
        and security_projects.site_ref = projects.site_ref
        and security_projects.project_id = projects.project_id
    inner join {{ ref('stg_jira__jira_issue_security_level_members') }} as members
        on security_projects.org_id = members.org_id
        and security_projects.site_ref = members.site_ref
        and security_projects.scheme_id = members.scheme_id
        and members.is_current
    left join security_levels as levels
        on members.org_id = levels.org_id
        and members.site_ref = levels.site_ref
        and members.scheme_id = levels.scheme_id
        and members.level_id = levels.level_id
    left join security_schemes as schemes
        on security_projects.org_id = schemes.org_id
        and security_projects.site_ref = schemes.site_ref
        and security_projects.scheme_id = schemes.scheme_id
),

unioned as (
    select * from jira_direct
    union all select * from jira_via_roles
    union all select * from jira_issue_security
    union all select * from confluence_direct
    union all select * from confluence_roles
),

deduplicated as (
    select distinct * from unioned
),

-- readable names for users and groups where the directory knows them
account_names as (
    select org_id, deployment, account_id, max(coalesce(display_name, email, account_id)) as display_name
    from {{ ref('int_accounts') }}
    group by org_id, deployment, account_id
),

with_org_key as (
    select
        {{ dbt.concat(["deduplicated.resource_key", "'|'", "deduplicated.permission", "'|'", "deduplicated.principal_type",
                       "'|'", "coalesce(deduplicated.principal_id, '')", "'|'", "deduplicated.access_path", "'|'",
                       "coalesce(deduplicated.role_name, '')"]) }} as effective_permission_key,
        deduplicated.org_id,
        deduplicated.site_ref,
        deduplicated.deployment,
        deduplicated.product,
        deduplicated.resource_type,
        deduplicated.resource_key,
        deduplicated.container_key,
        deduplicated.resource_name,
        deduplicated.permission,
        deduplicated.principal_type,
        deduplicated.principal_id,
        case
            when deduplicated.principal_type = 'user' then coalesce(account_names.display_name, deduplicated.principal_name)
            when deduplicated.principal_type = 'group' then coalesce(group_sizes.group_name, deduplicated.principal_name)
            else deduplicated.principal_name
        end as principal_name,
        deduplicated.access_path,
        deduplicated.grant_holder_type,
        deduplicated.scheme_name,
        deduplicated.role_name,
        deduplicated.principal_type in ('anyone', 'anonymous') as is_public_exposure,
        case when deduplicated.principal_type = 'group' then coalesce(group_sizes.member_count, 0) end as member_count
    from deduplicated
    left join account_names
        on deduplicated.principal_type = 'user'
        and deduplicated.org_id = account_names.org_id
        and deduplicated.deployment = account_names.deployment
        and deduplicated.principal_id = account_names.account_id
    left join group_sizes
        on deduplicated.principal_type = 'group'
        and deduplicated.org_id = group_sizes.org_id
        and deduplicated.principal_id = group_sizes.group_id
        and ((deduplicated.deployment = 'cloud' and group_sizes.deployment = 'cloud' and group_sizes.site_ref is null)
             or (deduplicated.deployment = 'dc' and group_sizes.site_ref = deduplicated.site_ref))
)

-- the tenant's configured key beside its org id, as in every mart
select with_org_key.*, orgs.org_key
from with_org_key
left join {{ ref('int_orgs') }} as orgs on with_org_key.org_id = orgs.org_id
