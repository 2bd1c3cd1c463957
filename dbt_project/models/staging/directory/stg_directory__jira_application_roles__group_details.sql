with source as (
    {{ raw_table('jira_application_roles__group_details', {
        'name': 'text', 'group_id': 'text', '_dlt_parent_id': 'text', '_dlt_list_idx': 'int',
        '_dlt_id': 'text'
    }) }}
),

parent as (
    {{ raw_table('jira_application_roles', {
        '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', '_org_key': 'text', '_org_id': 'text',
        '_site': 'text', '_product': 'text', '_deployment': 'text', '_tenant': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."name" as group_name,
        source."group_id" as group_id,
        source."_dlt_parent_id" as parent_row_id,
        source."_dlt_list_idx" as list_index,
        source."_dlt_id" as group_detail_row_id,
        parent."_org_key" as org_key,
        parent."_org_id" as org_id,
        parent."_site" as site_name,
        parent."_product" as product,
        parent."_deployment" as deployment,
        parent."_tenant" as tenant,
        case when parent."_deployment" = 'dc' then 'dc:' || parent."_site" else parent."_site" end as site_ref,
        parent."_dlt_valid_from" as valid_from,
        parent."_dlt_valid_to" as valid_to,
        parent."_dlt_valid_to" is null as is_current
    from source
    inner join parent on source."_dlt_parent_id" = parent."_dlt_id"
)

select * from renamed
