with source as (
    {{ raw_table('org_organizations', {
        '_site': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'text', 'type': 'text',
        '_org_key': 'text', '_org_id': 'text', '_product': 'text', '_deployment': 'text', '_tenant': 'text',
        'relationships__users__links__related': 'text', 'relationships__domains__links__related': 'text',
        'attributes__name': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."id" as org_resource_id,
        source."type" as record_type,
        source."relationships__users__links__related" as relationships_users_links_related,
        source."relationships__domains__links__related" as relationships_domains_links_related,
        source."attributes__name" as org_name,
        source."_dlt_id" as organization_row_id,
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
