-- Confluence space permissions of Cloud sites and DC instances in one shape (truth.py SpacePermission), from
-- EVERY representation Confluence gives of the same grant (a check fails if any of them shows an exposure):
--   'v2 space permission'      Cloud /wiki/api/v2/spaces/{id}/permissions (principal user / group / role) and DC
--                              /rest/api/space/{key}/permissions (subject user / group / anonymous);
--   'space role assignment'    Cloud /wiki/api/v2/spaces/{id}/role-assignments (USER / GROUP / ACCESS_CLASS),
--                              one row per permission of the assigned role (from /space-roles; a role the catalogue
--                              does not list is read from its id/name: see role_grants below);
--   'legacy space permission'  Cloud /wiki/rest/api/space?expand=permissions (anonymousAccess, unlicensedAccess,
--                              user / group subjects).
-- principal_type user / group / role / access_class / anonymous; access_class names the class in one spelling
-- (anonymous-users, authenticated-users, all-licensed-users, unlicensed-users, all-product-admins,
-- jsm-project-admins) whatever spelling the source used. evidence_source says which representation a row came from.
with spaces as (
    select * from {{ ref('stg_confluence__confluence_spaces') }} where is_current
),

permissions as (
    select * from {{ ref('stg_confluence__confluence_space_permissions') }} where is_current
),

assignments as (
    select * from {{ ref('stg_confluence__confluence_space_role_assignments') }} where is_current
),

legacy as (
    select * from {{ ref('stg_confluence__confluence_legacy_space_permissions') }} where is_current
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

-- a role permission id as (operation, target): 'create/page' as the C2 catalogue spells it in our reading;
-- other spellings ('create_page', 'Add page', ...) by keyword, so no spelling hides a write
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

-- what each assigned role grants: its catalogue permissions, or, for a role the catalogue does not list (the
-- site answered no /space-roles), what its id/name says: every role views the space; editor/contributor/
-- collaborator-like roles add pages; admin-like roles administer. 'No access'-like roles grant nothing.
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
),

unified as (
    select
        permissions.org_id,
        permissions.site_ref,
        permissions.deployment,
        coalesce(spaces_by_id.space_key, permissions.space_key_raw) as space_key,
        case when permissions.deployment = 'dc' then permissions.dc_subject_type else permissions.cloud_principal_type end
            as principal_type,
        case
            when permissions.deployment = 'dc' and permissions.dc_subject_type = 'group' then permissions.dc_group_name
            when permissions.deployment = 'dc' and permissions.dc_subject_type = 'user' then permissions.dc_username
            when permissions.deployment = 'dc' then null
            else permissions.cloud_principal_id
        end as principal_id,
        permissions.dc_subject_display_name,
        coalesce(permissions.cloud_operation, permissions.dc_operation) as operation,
        permissions.target_type,
        'v2 space permission' as evidence_source,
        cast(null as {{ dbt.type_string() }}) as role_id
    from permissions
    left join spaces as spaces_by_id
        on permissions.deployment = 'cloud'
        and permissions.org_id = spaces_by_id.org_id
        and permissions.site_ref = spaces_by_id.site_ref
        and permissions.space_id = spaces_by_id.space_id

    union all

    select
        assignments.org_id,
        assignments.site_ref,
        assignments.deployment,
        spaces_by_id.space_key,
        lower(assignments.principal_type) as principal_type,
        assignments.principal_id,
        cast(null as {{ dbt.type_string() }}) as dc_subject_display_name,
        role_grants.operation,
        role_grants.target_type,
        'space role assignment' as evidence_source,
        assignments.role_id
    from assignments
    inner join spaces as spaces_by_id
        on assignments.org_id = spaces_by_id.org_id
        and assignments.site_ref = spaces_by_id.site_ref
        and assignments.space_id = spaces_by_id.space_id
    inner join role_grants
        on assignments.org_id = role_grants.org_id
        and assignments.site_ref = role_grants.site_ref
        and assignments.role_id = role_grants.role_id

    union all

    -- a legacy entry can name anonymous, unlicensed and subjects at once: one row for each holder it names
    select org_id, site_ref, deployment, space_key, 'anonymous', cast(null as {{ dbt.type_string() }}),
           cast(null as {{ dbt.type_string() }}), operation, target_type, 'legacy space permission',
           cast(null as {{ dbt.type_string() }})
    from legacy where is_anonymous_access
    union all
    select org_id, site_ref, deployment, space_key, 'access_class', 'unlicensed-users',
           cast(null as {{ dbt.type_string() }}), operation, target_type, 'legacy space permission',
           cast(null as {{ dbt.type_string() }})
    from legacy where is_unlicensed_access
    union all
    select org_id, site_ref, deployment, space_key, subject_type, subject_id, subject_name, operation, target_type,
           'legacy space permission', cast(null as {{ dbt.type_string() }})
    from legacy where subject_type is not null
),

classified as (
    select
        unified.*,
        case
            when unified.principal_type = 'anonymous' then 'anonymous-users'
            when unified.principal_type in ('role', 'access_class') then
                case
                    when lower(unified.principal_id) in ('anonymous-users', 'anonymous', 'anonymous_users')
                        then 'anonymous-users'
                    when lower(unified.principal_id) in ('unlicensed-users', 'unlicensed', 'unlicensed_users')
                        then 'unlicensed-users'
                    when lower(unified.principal_id) in ('all-licensed-users', 'all_licensed_users_user_class',
                                                         'licensed-users')
                        then 'all-licensed-users'
                    when lower(unified.principal_id) in ('authenticated-users', 'all-product-admins',
                                                         'jsm-project-admins')
                        then lower(unified.principal_id)
                    when lower(unified.principal_id) = 'all_product_admins_user_class' then 'all-product-admins'
                end
        end as access_class
    from unified
)

select distinct
    classified.org_id,
    classified.site_ref,
    classified.deployment,
    classified.space_key,
    spaces.space_name,
    spaces.space_type,
    spaces.space_status,
    classified.principal_type,
    classified.principal_id,
    classified.access_class,
    classified.operation,
    classified.target_type,
    classified.evidence_source,
    classified.role_id
from classified
left join spaces
    on classified.org_id = spaces.org_id
    and classified.site_ref = spaces.site_ref
    and classified.space_key = spaces.space_key
where classified.space_key is not null
