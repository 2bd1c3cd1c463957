-- Jira and Confluence Data Center audit events (`/rest/auditing/1.0/events`).
with source as (
    {{ raw_table('dc_audit_events', {
        'id': 'text', 'timestamp': 'ts', 'source': 'text', 'system': 'text', 'method': 'text',
        'type__category': 'text', 'type__category_i18n_key': 'text', 'type__action': 'text',
        'type__action_i18n_key': 'text', 'type__area': 'text', 'type__level': 'text',
        'author__name': 'text', 'author__type': 'text', 'author__id': 'text',
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment': 'text',
        '_tenant': 'text', '_dlt_load_id': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        -- ids
        id as audit_event_id,
        _dlt_id as event_row_id,
        author__id as author_id,
        -- strings
        type__action as action,
        type__action_i18n_key as action_i18n_key,
        type__category as category,
        type__category_i18n_key as category_i18n_key,
        type__area as area,
        type__level as level,
        author__name as author_name,
        author__type as author_type,
        source as source_address,
        system as system_url,
        method,
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
        {{ adapter.quote('timestamp') }} as occurred_at
    from source
)

select * from renamed
