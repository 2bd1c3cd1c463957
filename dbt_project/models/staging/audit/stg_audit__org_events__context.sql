-- One row per `attributes.context` entry of an org audit event, with the event's lineage.
with source as (
    {{ raw_table('org_events__attributes__context', {
        'id': 'text', 'type': 'text', 'attributes__name': 'text', 'attributes__product': 'text', 
        '_dlt_parent_id': 'text', '_dlt_list_idx': 'int', '_dlt_id': 'text'
    }) }}
),

events as (
    select * from {{ ref('stg_audit__org_events') }}
),

renamed as (
    select
        -- ids
        items._dlt_id as context_row_id,
        items._dlt_parent_id as parent_row_id,
        events.event_id,
        items.id as context_item_id,
        -- strings
        items.type as context_type,
        items.attributes__name as context_name,
        items.attributes__product as context_product,
        -- numbers
        items._dlt_list_idx as list_index,
        -- lineage
        events.org_key,
        events.org_id,
        events.tenant
    from source as items
    inner join events on items._dlt_parent_id = events.event_row_id
)

select * from renamed
