with source as (
    {{ raw_table('org_groups', {
        '_site': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'text', 'name': 'text',
        'description': 'text', 'directory_id': 'text', 'external_synced': 'bool', 'managed_by': 'text',
        '_org_key': 'text', '_org_id': 'text', '_product': 'text', '_deployment': 'text', '_tenant': 'text',
        'counts__resources': 'int', 'counts__users': 'int', 'management_access__readable': 'bool',
        'management_access__modifiable': 'bool', 'management_access__deletable': 'bool', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."id" as group_id,
        source."name" as group_name,
        source."description" as description,
        source."directory_id" as directory_id,
        source."external_synced" as is_external_synced,
        source."managed_by" as managed_by,
        source."counts__resources" as resource_count,
        source."counts__users" as user_count,
        source."management_access__readable" as is_readable,
        source."management_access__modifiable" as is_modifiable,
        source."management_access__deletable" as is_deletable,
        source."_dlt_id" as group_row_id,
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
