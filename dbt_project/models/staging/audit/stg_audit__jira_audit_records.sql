-- Jira Cloud audit records (`/rest/api/3/auditing/record`).
with source as (
    {{ raw_table('jira_audit_records', {
        'id': 'text', 'summary': 'text', 'category': 'text', 'event_source': 'text', 'remote_address': 'text',
        'author_account_id': 'text', 'object_item__id': 'text', 'object_item__name': 'text',
        'object_item__type_name': 'text', 'created': 'ts',
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment': 'text',
        '_tenant': 'text', '_dlt_load_id': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        -- ids
        id as audit_record_id,
        _dlt_id as record_row_id,
        author_account_id,
        object_item__id as object_id,
        -- strings
        summary,
        category,
        event_source,
        remote_address,
        object_item__name as object_name,
        object_item__type_name as object_type,
        _dlt_load_id as load_id,
        -- lineage
        _org_key as org_key,
        _org_id as org_id,
        _site as site_name,
        _product as product,
        _deployment as deployment,
        _tenant as tenant,
        case when _deployment = 'dc' then 'dc:' || _site else _site end as site_ref,
        -- timestamps
        created as created_at
    from source
)

select * from renamed
