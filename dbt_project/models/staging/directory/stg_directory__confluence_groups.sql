with source as (
    {{ raw_table('confluence_groups', {
        '_org_id': 'text', '_site': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'type': 'text',
        'name': 'text', 'id': 'text', 'usage_type': 'text', 'managed_by': 'text', '_org_key': 'text',
        '_product': 'text', '_deployment': 'text', '_tenant': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."type" as group_type,
        source."name" as group_name,
        source."id" as group_id,
        source."usage_type" as usage_type,
        source."managed_by" as managed_by,
        source."_dlt_id" as confluence_group_row_id,
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
