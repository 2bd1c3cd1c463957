-- Admin groups of the org directory (the rule book): a group named `administrators`,
-- `site-admins`, `site-admins-*`, `jira-admins-*` or `confluence-admins-*`; a group with an
-- `atlassian/admin` role assignment; a group holding Jira's global ADMINISTER on a Cloud site.
-- `org-admins` and `atlassian-addons-admin` are listed too, flagged, for the checks that add them.
with orgs as (
    select org_id, org_key from {{ ref('int_orgs') }}
),

groups as (
    select orgs.org_id, g.group_id, g.group_name
    from {{ ref('stg_org__org_groups') }} as g
    inner join orgs on g.org_key = orgs.org_key
    where g.is_current
),

admin_role_groups as (
    select distinct orgs.org_id, assignments.group_id
    from {{ ref('stg_org__org_group_role_assignments__roles') }} as roles
    inner join {{ ref('stg_org__org_group_role_assignments') }} as assignments
        on roles.parent_row_id = assignments.group_role_assignment_row_id
    inner join orgs on roles.org_key = orgs.org_key
    where roles.is_current and roles.role in ('admin', 'atlassian/admin')
),

jira_admin_groups as (
    select distinct org_id, group_id
    from {{ ref('int_jira_admin_holder_groups') }}
    where deployment = 'cloud'
),

flagged as (
    select
        groups.org_id,
        groups.group_id,
        groups.group_name,
        (groups.group_name in ('administrators', 'site-admins')
            or groups.group_name like 'site-admins-%'
            or groups.group_name like 'jira-admins-%'
            or groups.group_name like 'confluence-admins-%') as is_admin_by_name,
        exists (select 1 from admin_role_groups as r where r.org_id = groups.org_id and r.group_id = groups.group_id)
            as has_admin_role,
        exists (select 1 from jira_admin_groups as j where j.org_id = groups.org_id and j.group_id = groups.group_id)
            as holds_jira_administer,
        groups.group_name = 'org-admins' as is_org_admins_group,
        groups.group_name = 'atlassian-addons-admin' as is_addons_admin_group
    from groups
)

select
    org_id,
    cast(null as {{ dbt.type_string() }}) as site_ref,
    group_id,
    group_name,
    case
        when is_admin_by_name then 'admin group name'
        when has_admin_role then 'atlassian/admin role assignment'
        when holds_jira_administer then 'holds Jira global ADMINISTER'
        when is_org_admins_group then 'org-admins group'
        else 'atlassian-addons-admin group'
    end as admin_reason,
    (is_admin_by_name or has_admin_role or holds_jira_administer) as is_product_admin_group,
    is_org_admins_group,
    is_addons_admin_group
from flagged
where is_admin_by_name or has_admin_role or holds_jira_administer or is_org_admins_group or is_addons_admin_group
