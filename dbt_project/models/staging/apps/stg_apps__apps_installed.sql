with source as (
    {{ raw_table('apps_installed', {
        'key': 'text', 'name': 'text', 'version': 'text', 'description': 'text',
        'vendor__name': 'text', 'vendor__marketplace_link': 'text',
        'enabled': 'bool', 'user_installed': 'bool', 'optional': 'bool', 'static': 'bool',
        'unloadable': 'bool', 'uses_licensing': 'bool', 'remotable': 'bool', 'update_available': 'bool',
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment': 'text',
        '_tenant': 'text', '_dlt_id': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts'
    }) }}
),

renamed as (
    select
        -- ids
        _dlt_id as app_row_id,
        "key" as plugin_key,
        _org_id as org_id,
        _org_key as org_key,
        -- strings
        name as app_name,
        version as app_version,
        description,
        vendor__name as vendor_name,
        vendor__marketplace_link as vendor_marketplace_link,
        _site as site_name,
        case when _deployment = 'dc' then 'dc:' || _site else _site end as site_ref,
        _product as product,
        _deployment as deployment,
        _tenant as tenant,
        -- booleans
        enabled as is_enabled,
        user_installed as is_user_installed,
        optional as is_optional,
        static as is_static,
        unloadable as is_unloadable,
        uses_licensing as uses_licensing,
        remotable as is_remotable,
        update_available as has_update_available,
        -- scd2 validity
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
