-- Confluence space permissions of Cloud sites and DC instances in one shape , from
-- EVERY representation Confluence gives of the same grant (a check fails if any of them shows an exposure):
--   'v2 space permission'      Cloud /wiki/api/v2/spaces/{id}/permissions (principal user / group / role) and DC
--                              /rest/api/space/{key}/permissions (subject user / group / anonymous);
--   'space role assignment'    Cloud /wiki/api/v2/spaces/{id}/role-assignments (USER / GROUP / ACCESS_CLASS),
--                              one row per permission of the assigned role (int_confluence__space_role_grants);
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

-- what each assigned role grants, one row per (role, operation, target): int_confluence__space_role_grants
role_grants as (
    select * from {{ ref('int_confluence__space_role_grants') }}
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
