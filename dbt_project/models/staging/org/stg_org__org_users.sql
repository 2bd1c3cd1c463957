with source as (
    {{ raw_table('org_users', {
        '_site': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'account_id': 'text',
        'account_type': 'text', 'account_status': 'text', 'membership_status': 'text', 'status': 'text',
        'claim_status': 'text', 'name': 'text', 'nickname': 'text', 'email': 'text',
        'email_verified': 'bool', 'mfa_enabled': 'bool', 'picture': 'text', 'avatar': 'text',
        'time_zone': 'text', 'added_to_org': 'ts', 'management_source': 'text', '_org_key': 'text',
        '_org_id': 'text', '_product': 'text', '_deployment': 'text', '_tenant': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."account_id" as account_id,
        source."account_type" as account_type,
        source."account_status" as account_status,
        source."membership_status" as membership_status,
        source."status" as user_status,
        source."claim_status" as claim_status,
        source."name" as display_name,
        source."nickname" as nickname,
        source."email" as email,
        source."email_verified" as is_email_verified,
        source."mfa_enabled" as is_mfa_enabled,
        source."picture" as picture,
        source."avatar" as avatar,
        source."time_zone" as time_zone,
        source."added_to_org" as added_to_org_at,
        source."management_source" as management_source,
        source."_dlt_id" as user_row_id,
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
