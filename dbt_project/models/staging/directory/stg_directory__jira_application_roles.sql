with source as (
    {{ raw_table('jira_application_roles', {
        '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'key': 'text', 'name': 'text',
        'selected_by_default': 'bool', 'defined': 'bool', 'number_of_seats': 'int', 'remaining_seats': 'int',
        'user_count': 'int', 'user_count_description': 'text', 'has_unlimited_seats': 'bool',
        'platform': 'bool', '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text',
        '_deployment': 'text', '_tenant': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        source."_dlt_valid_from" as valid_from,
        source."_dlt_valid_to" as valid_to,
        source."key" as application_role_key,
        source."name" as application_role_name,
        source."selected_by_default" as is_selected_by_default,
        source."defined" as is_defined,
        source."number_of_seats" as number_of_seats,
        source."remaining_seats" as remaining_seats,
        source."user_count" as user_count,
        source."user_count_description" as user_count_description,
        source."has_unlimited_seats" as has_unlimited_seats,
        source."platform" as is_platform,
        source."_dlt_id" as application_role_row_id,
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
