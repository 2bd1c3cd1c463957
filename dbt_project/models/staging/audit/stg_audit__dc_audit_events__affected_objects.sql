-- One row per `affectedObjects` entry of a Data Center audit event, with the event's lineage.
with source as (
    {{ raw_table('dc_audit_events__affected_objects', {
        'name': 'text', 'type': 'text',
        '_dlt_parent_id': 'text', '_dlt_list_idx': 'int', '_dlt_id': 'text'
    }) }}
),

events as (
    select * from {{ ref('stg_audit__dc_audit_events') }}
),

renamed as (
    select
        -- ids
        objects._dlt_id as affected_object_row_id,
        objects._dlt_parent_id as parent_row_id,
        events.audit_event_id,
        -- strings
        objects.name as object_name,
        objects.type as object_type,
        -- numbers
        objects._dlt_list_idx as list_index,
        -- lineage
        events.org_key,
        events.org_id,
        events.site_name,
        events.product,
        events.site_ref,
        events.tenant
    from source as objects
    inner join events on objects._dlt_parent_id = events.event_row_id
)

select * from renamed
