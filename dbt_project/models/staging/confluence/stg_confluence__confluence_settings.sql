-- Confluence system info (Cloud) / server information (DC) (scd2, one row per tenant).
with source as (
    {{ raw_table('confluence_settings', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'cloud_id':
        'text', 'base_url': 'text', 'edition': 'text', 'site_title': 'text', 'version': 'text',
        'build_number': 'int', 'access_mode': 'text', 'space_role_mode': 'text', '_dlt_id': 'text'
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
        cloud_id as cloud_id,
        base_url as base_url,
        edition as edition,
        site_title as site_title,
        version as version,
        build_number as build_number,
        access_mode as access_mode,
        space_role_mode as space_role_mode,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
