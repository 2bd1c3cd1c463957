-- Jira serverInfo of each site / instance (scd2, one row per tenant).
with source as (
    {{ raw_table('jira_server_info', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'base_url':
        'text', 'version': 'text', 'deployment_type': 'text', 'build_number': 'int', 'build_date':
        'ts', 'server_title': 'text', '_dlt_id': 'text'
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
        base_url as base_url,
        version as version,
        deployment_type as deployment_type,
        build_number as build_number,
        build_date as build_at,
        server_title as server_title,
        _dlt_id as server_info_row_id,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
