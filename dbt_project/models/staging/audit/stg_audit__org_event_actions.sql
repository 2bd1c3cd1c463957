-- The org audit log's action catalogue (`/event-actions`): action id -> display name and group.
with source as (
    {{ raw_table('org_event_actions', {
        'id': 'text', 'type': 'text', 'attributes__display_name': 'text', 'attributes__group_display_name': 'text',
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment': 'text',
        '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts'
    }) }}
),

renamed as (
    select
        -- ids
        id as action_id,
        -- strings
        attributes__display_name as action_name,
        attributes__group_display_name as action_group,
        -- lineage
        _org_key as org_key,
        _org_id as org_id,
        _site as site_name,
        _product as product,
        _deployment as deployment,
        _tenant as tenant,
        case when _deployment = 'dc' then 'dc:' || _site else _site end as site_ref,
        -- scd2
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
