-- What an unauthenticated caller sees on each Confluence Cloud site (scd2).
with source as (
    {{ raw_table('confluence_anonymous_probe', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts',
        'anonymous_access': 'bool', 'status_code': 'int', 'space_count': 'int', 'space_keys':
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
        anonymous_access as is_anonymous_access,
        status_code as status_code,
        space_count as space_count,
        space_keys as space_keys,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
