with source as (
    {{ raw_table('org_api_tokens', {
        '_site': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'text', 'label': 'text',
        'status': 'text', 'created_at': 'ts', 'expires_at': 'ts', 'last_active_at': 'ts',
        'account_id': 'text', '_org_key': 'text', '_org_id': 'text', '_product': 'text',
        '_deployment': 'text', '_tenant': 'text', 'user__id': 'text', 'user__org_id': 'text',
        'user__name': 'text', 'user__email': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."id" as token_id,
        source."label" as token_label,
        source."status" as token_status,
        source."created_at" as created_at,
        source."expires_at" as expires_at,
        source."last_active_at" as last_active_at,
        source."account_id" as account_id,
        source."user__id" as user_id,
        source."user__org_id" as user_org_id,
        source."user__name" as user_name,
        source."user__email" as user_email,
        source."_dlt_id" as api_token_row_id,
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
