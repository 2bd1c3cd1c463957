-- Confluence space permissions of Cloud sites (v2) and DC instances (scd2).
with source as (
    {{ raw_table('confluence_space_permissions', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'space_id':
        'text', 'space_key': 'text', 'id': 'text', 'principal__type': 'text', 'principal__id':
        'text', 'subject__type': 'text', 'subject__name': 'text', 'subject__username': 'text',
        'subject__display_name': 'text', 'operation__key': 'text', 'operation__operation_key':
        'text', 'operation__target_type': 'text', '_dlt_id': 'text'
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
        space_key as space_key_raw,
        id as permission_id,
        principal__type as cloud_principal_type,
        principal__id as cloud_principal_id,
        subject__type as dc_subject_type,
        subject__name as dc_group_name,
        subject__username as dc_username,
        subject__display_name as dc_subject_display_name,
        operation__key as cloud_operation,
        operation__operation_key as dc_operation,
        operation__target_type as target_type,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
