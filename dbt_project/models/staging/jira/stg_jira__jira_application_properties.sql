-- Jira application properties (scd2, key `key`).
with source as (
    {{ raw_table('jira_application_properties', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'key': 'text',
        'value': 'text', 'name': 'text', 'type': 'text', 'default_value': 'text', '_dlt_id': 'text'
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
        {{ adapter.quote('key') }} as property_key,
        {{ adapter.quote('value') }} as property_value,
        {{ adapter.quote('name') }} as property_name,
        {{ adapter.quote('type') }} as property_type,
        default_value as default_value,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
