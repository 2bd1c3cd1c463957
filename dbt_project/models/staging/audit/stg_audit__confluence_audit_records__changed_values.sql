-- One row per `changedValues` entry of a Confluence Cloud audit record, with the record's lineage.
with source as (
    {{ raw_table('confluence_audit_records__changed_values', {
        'name': 'text', 'old_value': 'text', 'new_value': 'text',
        '_dlt_parent_id': 'text', '_dlt_list_idx': 'int', '_dlt_id': 'text'
    }) }}
),

records as (
    select * from {{ ref('stg_audit__confluence_audit_records') }}
),

renamed as (
    select
        -- ids
        changes._dlt_id as changed_value_row_id,
        changes._dlt_parent_id as parent_row_id,
        records.audit_record_id,
        -- strings
        changes.name as changed_name,
        changes.old_value,
        changes.new_value,
        -- numbers
        changes._dlt_list_idx as list_index,
        -- lineage
        records.org_key,
        records.org_id,
        records.site_name,
        records.site_ref,
        records.tenant
    from source as changes
    inner join records on changes._dlt_parent_id = records.record_row_id
)

select * from renamed
