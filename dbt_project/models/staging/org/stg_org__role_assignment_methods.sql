with source as (
    {{ raw_table('org_user_role_assignments__role_assignments__role_assignment_methods', {
        'value': 'text', '_dlt_parent_id': 'text', '_dlt_list_idx': 'int', '_dlt_id': 'text'
    }) }}
),

parent as (
    {{ raw_table('org_user_role_assignments__role_assignments', {
        '_dlt_parent_id': 'text', '_dlt_id': 'text'
    }) }}
),

parent_1 as (
    {{ raw_table('org_user_role_assignments', {
        '_site': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', '_org_key': 'text',
        '_org_id': 'text', '_product': 'text', '_deployment': 'text', '_tenant': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."value" as assignment_method,
        source."_dlt_parent_id" as parent_row_id,
        source."_dlt_list_idx" as list_index,
        source."_dlt_id" as role_assignment_method_row_id,
        parent_1."_org_key" as org_key,
        parent_1."_org_id" as org_id,
        parent_1."_site" as site_name,
        parent_1."_product" as product,
        parent_1."_deployment" as deployment,
        parent_1."_tenant" as tenant,
        case when parent_1."_deployment" = 'dc' then 'dc:' || parent_1."_site" else parent_1."_site" end as site_ref,
        parent_1."_dlt_valid_from" as valid_from,
        parent_1."_dlt_valid_to" as valid_to,
        parent_1."_dlt_valid_to" is null as is_current
    from source
    inner join parent on source."_dlt_parent_id" = parent."_dlt_id"
    inner join parent_1 on parent."_dlt_parent_id" = parent_1."_dlt_id"
)

select * from renamed
