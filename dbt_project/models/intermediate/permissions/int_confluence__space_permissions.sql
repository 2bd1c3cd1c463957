-- Confluence space permissions of Cloud sites and DC instances in one shape (truth.py SpacePermission):
-- principal_type user / group / role / anonymous; principal_id the account id (Cloud) / username (DC),
-- group id (Cloud) / group name (DC), or the access class; access_class per truth.py `_access_class`
-- (anonymous principals -> 'anonymous-users'; role / ACCESS_CLASS principals naming an access class).
with spaces as (
    select * from {{ ref('stg_confluence__confluence_spaces') }} where is_current
),

permissions as (
    select * from {{ ref('stg_confluence__confluence_space_permissions') }} where is_current
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
        permissions.target_type
    from permissions
    left join spaces as spaces_by_id
        on permissions.deployment = 'cloud'
        and permissions.org_id = spaces_by_id.org_id
        and permissions.site_ref = spaces_by_id.site_ref
        and permissions.space_id = spaces_by_id.space_id
)

select distinct
    unified.org_id,
    unified.site_ref,
    unified.deployment,
    unified.space_key,
    spaces.space_name,
    spaces.space_type,
    spaces.space_status,
    unified.principal_type,
    unified.principal_id,
    case
        when unified.principal_type = 'anonymous' then 'anonymous-users'
        when unified.principal_type in ('role', 'access_class', 'ACCESS_CLASS')
            and unified.principal_id in ('anonymous-users', 'authenticated-users', 'all-licensed-users',
                                         'all-product-admins', 'jsm-project-admins')
            then unified.principal_id
    end as access_class,
    unified.operation,
    unified.target_type
from unified
left join spaces
    on unified.org_id = spaces.org_id
    and unified.site_ref = spaces.site_ref
    and unified.space_key = spaces.space_key
