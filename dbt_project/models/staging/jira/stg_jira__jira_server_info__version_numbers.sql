-- Numeric version components of jira_server_info (child).
with source as (
    {{ raw_table('jira_server_info__version_numbers', {
        'value': 'int', '_dlt_list_idx': 'int', '_dlt_id': 'text', '_dlt_parent_id': 'text'
    }) }}
),

parent as (
    {{ raw_table('jira_server_info', {
        '_dlt_id': 'text', '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text',
        '_deployment': 'text', '_tenant': 'text', '_dlt_valid_to': 'ts'
    }) }}
),

renamed as (
    select
        parent._org_key as org_key,
        parent._org_id as org_id,
        parent._site as site_name,
        parent._product as product,
        parent._deployment as deployment,
        parent._tenant as tenant,
        case when parent._deployment = 'dc' then 'dc:' || parent._site else parent._site end as site_ref,
        source.{{ adapter.quote('value') }} as version_number,
        source._dlt_list_idx as version_part_index,
        source._dlt_parent_id as parent_row_id,
        parent._dlt_valid_to is null as is_current
    from source
    inner join parent on source._dlt_parent_id = parent._dlt_id
)

select * from renamed
