with source as (
    {{ raw_table('jira_users', {
        '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'account_id': 'text', 'account_type': 'text',
        'email_address': 'text', 'display_name': 'text', 'active': 'bool', 'time_zone': 'text',
        'locale': 'text', '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text',
        '_deployment': 'text', '_tenant': 'text', 'avatar_urls___48x48': 'text',
        'avatar_urls___24x24': 'text', 'avatar_urls___16x16': 'text', 'avatar_urls___32x32': 'text',
        '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."account_id" as account_id,
        source."account_type" as account_type,
        source."email_address" as email,
        source."display_name" as display_name,
        source."active" as is_active,
        source."time_zone" as time_zone,
        source."locale" as locale,
        source."avatar_urls___48x48" as avatar_urls_48x48,
        source."avatar_urls___24x24" as avatar_urls_24x24,
        source."avatar_urls___16x16" as avatar_urls_16x16,
        source."avatar_urls___32x32" as avatar_urls_32x32,
        source."_dlt_id" as jira_user_row_id,
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
