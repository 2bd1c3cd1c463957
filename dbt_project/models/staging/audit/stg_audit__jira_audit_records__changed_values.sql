-- One row per `changedValues` entry of a Jira Cloud audit record, with the record's lineage.
with source as (
    {{ raw_table('jira_audit_records__changed_values', {
        'field_name': 'text', 'changed_from': 'text', 'changed_to': 'text',
        '_dlt_parent_id': 'text', '_dlt_list_idx': 'int', '_dlt_id': 'text'
    }) }}
),

records as (
    select * from {{ ref('stg_audit__jira_audit_records') }}
),

renamed as (
    select
        -- ids
        changes._dlt_id as changed_value_row_id,
        changes._dlt_parent_id as parent_row_id,
        records.audit_record_id,
        -- strings
        changes.field_name,
        changes.changed_from,
        changes.changed_to,
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
