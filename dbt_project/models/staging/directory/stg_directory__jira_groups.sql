with source as (
    {{ raw_table('jira_groups', {
        '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'name': 'text', 'group_id': 'text',
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment': 'text',
        '_tenant': 'text', '_dlt_id': 'text', 'html': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."name" as group_name,
        source."group_id" as group_id,
        source."_dlt_id" as group_row_id,
        source."html" as html,
        source."_dlt_valid_to" is null as is_current,
        source."_org_key" as org_key,
        source."_org_id" as org_id,
        source."_site" as site_name,
        source."_product" as product,
        source."_deployment" as deployment,
        source."_tenant" as tenant,
        case when source."_deployment" = 'dc' then 'dc:' || source."_site" else source."_site" end as site_ref
    from source
)

select * from renamed
