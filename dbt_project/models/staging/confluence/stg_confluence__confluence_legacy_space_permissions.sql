-- Confluence Cloud legacy (v1) space permissions: anonymousAccess / unlicensedAccess flags and subjects (scd2).
with source as (
    {{ raw_table('confluence_legacy_space_permissions', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'space_id':
        'text', 'space_key': 'text', 'permission_id': 'text', 'operation': 'text', 'target_type':
        'text', 'anonymous_access': 'bool', 'unlicensed_access': 'bool', 'subject_type': 'text',
        'subject_id': 'text', 'subject_name': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        _org_key as org_key,
        _org_id as org_id,
        _site as site_name,
        _product as product,
        _deployment as deployment,
        _tenant as tenant,
        case when _deployment = 'dc' then 'dc:' || _site else _site end as site_ref,
        space_id as space_id,
        space_key as space_key,
        permission_id as permission_id,
        {{ adapter.quote('operation') }} as operation,
        target_type as target_type,
        coalesce(anonymous_access, false) as is_anonymous_access,
        coalesce(unlicensed_access, false) as is_unlicensed_access,
        subject_type as subject_type,
        subject_id as subject_id,
        subject_name as subject_name,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
