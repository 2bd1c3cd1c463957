-- Confluence DC global permissions (scd2).
with source as (
    {{ raw_table('confluence_dc_global_permissions', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'holder': 'text',
        'subject__type': 'text', 'subject__name': 'text', 'subject__display_name': 'text',
        'operation__operation_key': 'text', 'operation__target_type': 'text', '_dlt_id': 'text'
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
        holder as holder,
        subject__type as subject_type,
        subject__name as subject_name,
        subject__display_name as subject_display_name,
        operation__operation_key as operation,
        operation__target_type as target_type,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
