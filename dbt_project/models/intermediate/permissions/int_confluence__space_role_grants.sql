-- What each Confluence Cloud space role grants, one row per (role, operation, target type), for every role the
-- catalogue lists (GET /wiki/api/v2/space-roles, `spacePermissions`) or a space assigns.
-- Permission ids: 'create/page' as our reading of the C2 catalogue spells them; other spellings ('create_page',
-- 'Add page', ...) by keyword, so no spelling hides a write. A role the catalogue does not list (the site answered
-- no /space-roles, as the reference tenant) is read from its id/name: every role views the space; editor /
-- contributor / collaborator / writer / admin-like roles add pages; admin-like roles administer; 'No access'-like
-- roles grant nothing.
with assignments as (
    select * from {{ ref('stg_confluence__confluence_space_role_assignments') }} where is_current
),

roles as (
    select org_id, site_ref, role_id, max(role_name) as role_name
    from {{ ref('stg_confluence__confluence_space_roles') }}
    where is_current
    group by org_id, site_ref, role_id
),

role_permission_ids as (
    select distinct org_id, site_ref, role_id, space_permission
    from {{ ref('stg_confluence__confluence_space_roles__space_permissions') }}
    where is_current
),

role_permissions as (
    select
        org_id, site_ref, role_id,
        case
            when space_permission like '%/%' then {{ split_part('lower(space_permission)', "'/'", 1) }}
            when lower(space_permission) like '%admin%' then 'administer'
            when lower(space_permission) like '%export%' then 'export'
            when lower(space_permission) like '%delete%' or lower(space_permission) like '%remove%' then 'delete'
            when lower(space_permission) like '%create%' or lower(space_permission) like '%add%' then 'create'
            when lower(space_permission) like '%update%' or lower(space_permission) like '%edit%' then 'update'
            when lower(space_permission) like '%read%' or lower(space_permission) like '%view%' then 'read'
            else lower(space_permission)
        end as operation,
        case
            when space_permission like '%/%' then {{ split_part('lower(space_permission)', "'/'", 2) }}
            when lower(space_permission) like '%blog%' then 'blogpost'
            when lower(space_permission) like '%comment%' then 'comment'
            when lower(space_permission) like '%attach%' then 'attachment'
            when lower(space_permission) like '%page%' then 'page'
            else 'space'
        end as target_type
    from role_permission_ids
),

assigned_roles as (
    select distinct
        assignments.org_id, assignments.site_ref, assignments.role_id,
        lower(coalesce(roles.role_name, '') || ' ' || assignments.role_id) as role_words,
        exists (select 1 from role_permissions as p where p.org_id = assignments.org_id
                and p.site_ref = assignments.site_ref and p.role_id = assignments.role_id) as is_listed
    from assignments
    left join roles
        on assignments.org_id = roles.org_id and assignments.site_ref = roles.site_ref
        and assignments.role_id = roles.role_id
),

role_grants as (
    select org_id, site_ref, role_id, operation, target_type from role_permissions
    union all
    select org_id, site_ref, role_id, 'read', 'space' from assigned_roles
    where not is_listed and role_words not like '%no access%' and role_words not like '%no-access%'
      and role_words not like '%none%'
    union all
    select org_id, site_ref, role_id, 'create', 'page' from assigned_roles
    where not is_listed and (role_words like '%edit%' or role_words like '%contribut%' or role_words like '%collab%'
                             or role_words like '%writ%' or role_words like '%admin%')
    union all
    select org_id, site_ref, role_id, 'administer', 'space' from assigned_roles
    where not is_listed and role_words like '%admin%'
)

select distinct org_id, site_ref, role_id, operation, target_type from role_grants
