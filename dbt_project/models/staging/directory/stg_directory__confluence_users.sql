with source as (
    {{ raw_table('confluence_users', {
        '_org_id': 'text', '_site': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'type': 'text',
        'account_id': 'text', 'account_type': 'text', 'email': 'text', 'public_name': 'text',
        'display_name': 'text', 'time_zone': 'text', 'external_collaborator': 'bool',
        'is_external_collaborator': 'bool', 'is_guest': 'bool', '_org_key': 'text', '_product': 'text',
        '_deployment': 'text', '_tenant': 'text', 'profile_picture__path': 'text',
        'profile_picture__width': 'int', 'profile_picture__height': 'int',
        'profile_picture__is_default': 'bool', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."type" as user_type,
        source."account_id" as account_id,
        source."account_type" as account_type,
        source."email" as email,
        source."public_name" as public_name,
        source."display_name" as display_name,
        source."time_zone" as time_zone,
        source."external_collaborator" as is_external_collaborator_legacy,
        source."is_external_collaborator" as is_external_collaborator,
        source."is_guest" as is_guest,
        source."profile_picture__path" as profile_picture_path,
        source."profile_picture__width" as profile_picture_width,
        source."profile_picture__height" as profile_picture_height,
        source."profile_picture__is_default" as profile_picture_is_default,
        source."_dlt_id" as confluence_user_row_id,
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
