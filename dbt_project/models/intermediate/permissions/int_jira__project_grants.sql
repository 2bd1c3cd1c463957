-- Every permission grant that reaches a live Jira project: a live (not archived) project x each grant of
-- the permission scheme it uses (rule book scope rule: grants count through live projects; a scheme used
-- by no live project never fires). Cloud sites and DC instances alike. The holder is normalised:
-- holder_value is the group id (Cloud) / group name (DC), the role id, the account id (Cloud) /
-- username (DC) or the application key.
with orgs as (
    select org_id from {{ ref('int_orgs') }}
),

projects as (
    select * from {{ ref('stg_jira__jira_projects') }}
    where is_current and not coalesce(is_archived_raw, false)
),

project_schemes as (
    select * from {{ ref('stg_jira__jira_project_permission_schemes') }} where is_current
),

schemes as (
    select * from {{ ref('stg_jira__jira_permission_schemes') }} where is_current
),

grants as (
    select * from {{ ref('stg_jira__jira_permission_grants') }} where is_current
),

roles as (
    select org_id, site_ref, role_id, max(role_name) as role_name
    from {{ ref('stg_jira__jira_project_roles') }}
    where is_current
    group by org_id, site_ref, role_id
),

joined as (
    select
        projects.org_id,
        projects.site_ref,
        projects.deployment,
        projects.project_id,
        projects.project_key,
        projects.project_name,
        project_schemes.scheme_id,
        coalesce(schemes.scheme_name, project_schemes.scheme_name) as scheme_name,
        grants.grant_id,
        grants.permission_key,
        grants.holder_type,
        case
            when grants.holder_type = 'group' then coalesce(grants.holder_group_id, grants.holder_value, grants.holder_parameter, grants.holder_group_name)
            when grants.holder_type = 'user' then coalesce(grants.holder_account_id, grants.holder_value, grants.holder_parameter, grants.holder_username)
            when grants.holder_type = 'projectRole' then coalesce(grants.holder_role_id, grants.holder_value, grants.holder_parameter)
            else coalesce(grants.holder_value, grants.holder_parameter)
        end as holder_value,
        grants.holder_group_name,
        grants.holder_role_name,
        grants.holder_user_display_name
    from projects
    inner join orgs on projects.org_id = orgs.org_id
    inner join project_schemes
        on projects.org_id = project_schemes.org_id
        and projects.site_ref = project_schemes.site_ref
        and projects.project_id = project_schemes.project_id
    left join schemes
        on project_schemes.org_id = schemes.org_id
        and project_schemes.site_ref = schemes.site_ref
        and project_schemes.scheme_id = schemes.scheme_id
    inner join grants
        on project_schemes.org_id = grants.org_id
        and project_schemes.site_ref = grants.site_ref
        and project_schemes.scheme_id = grants.scheme_id
)

select distinct  -- the grain is the whole row: a grant the API lists twice counts once
    joined.org_id,
    joined.site_ref,
    joined.deployment,
    joined.project_id,
    joined.project_key,
    joined.project_name,
    joined.scheme_id,
    joined.scheme_name,
    joined.grant_id,
    joined.permission_key,
    joined.holder_type,
    joined.holder_value,
    case
        when joined.holder_type = 'group' then coalesce(joined.holder_group_name, joined.holder_value)
        when joined.holder_type = 'projectRole' then coalesce(roles.role_name, joined.holder_role_name)
        when joined.holder_type = 'user' then coalesce(joined.holder_user_display_name, joined.holder_value)
        else joined.holder_value
    end as holder_name,
    case when joined.holder_type = 'projectRole' then coalesce(roles.role_name, joined.holder_role_name) end as role_name
from joined
left join roles
    on joined.org_id = roles.org_id
    and joined.site_ref = roles.site_ref
    and joined.holder_type = 'projectRole'
    and joined.holder_value = roles.role_id
