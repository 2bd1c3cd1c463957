-- Confluence spaces (scd2).
with source as (
    {{ raw_table('confluence_spaces', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'text',
        'key': 'text', 'name': 'text', 'type': 'text', 'status': 'text', 'author_id': 'text',
        'created_at': 'ts', '_dlt_id': 'text'
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
        id as space_id,
        {{ adapter.quote('key') }} as space_key,
        {{ adapter.quote('name') }} as space_name,
        {{ adapter.quote('type') }} as space_type,
        status as space_status,
        author_id as author_account_id,
        created_at as created_at,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
