with source as (
    {{ raw_table('org_workspaces', {
        '_site': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'text', 'type': 'text',
        '_org_key': 'text', '_org_id': 'text', '_product': 'text', '_deployment': 'text', '_tenant': 'text',
        'attributes__name': 'text', 'attributes__type_key': 'text', 'attributes__type': 'text',
        'attributes__owner': 'text', 'attributes__status': 'text', 'attributes__created_at': 'ts',
        'attributes__host_url': 'text', 'attributes__realm': 'text', 'attributes__sandbox__type': 'text',
        '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."id" as workspace_id,
        source."type" as record_type,
        source."attributes__name" as name,
        source."attributes__type_key" as type_key,
        source."attributes__type" as type,
        source."attributes__owner" as owner,
        source."attributes__status" as status,
        source."attributes__created_at" as created_at,
        source."attributes__host_url" as host_url,
        source."attributes__realm" as realm,
        source."attributes__sandbox__type" as sandbox_type,
        source."_dlt_id" as workspace_row_id,
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
