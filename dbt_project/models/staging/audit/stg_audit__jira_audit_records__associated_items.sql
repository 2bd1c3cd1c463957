-- One row per `associatedItems` entry of a Jira Cloud audit record, with the record's lineage.
with source as (
    {{ raw_table('jira_audit_records__associated_items', {
        'id': 'text', 'name': 'text', 'type_name': 'text',
        '_dlt_parent_id': 'text', '_dlt_list_idx': 'int', '_dlt_id': 'text'
    }) }}
),

records as (
    select * from {{ ref('stg_audit__jira_audit_records') }}
),

renamed as (
    select
        -- ids
        items._dlt_id as associated_item_row_id,
        items._dlt_parent_id as parent_row_id,
        records.audit_record_id,
        items.id as item_id,
        -- strings
        items.name as item_name,
        items.type_name as item_type,
        -- numbers
        items._dlt_list_idx as list_index,
        -- lineage
        records.org_key,
        records.org_id,
        records.site_name,
        records.site_ref,
        records.tenant
    from source as items
    inner join records on items._dlt_parent_id = records.record_row_id
)

select * from renamed
