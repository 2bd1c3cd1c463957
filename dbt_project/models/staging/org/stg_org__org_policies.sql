with source as (
    {{ raw_table('org_policies', {
        '_site': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'text', 'type': 'text',
        '_org_key': 'text', '_org_id': 'text', '_product': 'text', '_deployment': 'text', '_tenant': 'text',
        'attributes__type': 'text', 'attributes__name': 'text', 'attributes__status': 'text',
        '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."id" as policy_id,
        source."type" as record_type,
        source."attributes__type" as policy_type,
        source."attributes__name" as policy_name,
        source."attributes__status" as policy_status,
        source."_dlt_id" as policy_row_id,
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
