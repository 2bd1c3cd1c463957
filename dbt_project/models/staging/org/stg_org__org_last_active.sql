with source as (
    {{ raw_table('org_last_active', {
        '_site': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'account_id': 'text',
        'added_to_org': 'text', 'added_to_org_timestamp': 'ts', '_org_key': 'text', '_org_id': 'text',
        '_product': 'text', '_deployment': 'text', '_tenant': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."account_id" as account_id,
        source."added_to_org" as added_to_org_date_text,
        source."added_to_org_timestamp" as added_to_org_at,
        source."_dlt_id" as last_active_row_id,
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
