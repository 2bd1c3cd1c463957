-- Confluence Cloud space role assignments (scd2; only in space-roles mode).
with source as (
    {{ raw_table('confluence_space_role_assignments', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'space_id':
        'text', 'role_id': 'text', 'principal__principal_type': 'text', 'principal__principal_id':
        'text', '_dlt_id': 'text'
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
        role_id as role_id,
        principal__principal_type as principal_type,
        principal__principal_id as principal_id,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
