with source as (
    {{ raw_table('apps_marketplace', {
        'key': 'text', 'name': 'text', 'status': 'text', 'summary': 'text', 'listed': 'bool',
        'stores_personal_data': 'bool', 'last_modified': 'ts',
        'latest_version__name': 'text', 'latest_version__status': 'text',
        'latest_version__deployment__cloud': 'bool', 'latest_version__deployment__connect': 'bool',
        'latest_version__deployment__forge': 'bool', 'latest_version__deployment__runs_on_atlassian': 'bool',
        'latest_version__release__date': 'text',
        'hosting__cloud__visibility': 'text',
        'programs__bug_bounty_participant__cloud__status': 'text',
        'programs__cloud_fortified__status': 'text',
        '_embedded__vendor__name': 'text',
        '_embedded__vendor__programs__top_vendor__status': 'text',
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment': 'text',
        '_tenant': 'text', '_dlt_id': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts'
    }) }}
),

renamed as (
    select
        -- ids
        _dlt_id as listing_row_id,
        "key" as plugin_key,
        _org_id as org_id,
        _org_key as org_key,
        -- strings
        name as listing_name,
        status as listing_status,
        summary as listing_summary,
        latest_version__name as latest_version_name,
        latest_version__status as latest_version_status,
        latest_version__release__date as latest_release_date,
        hosting__cloud__visibility as cloud_visibility,
        programs__cloud_fortified__status as cloud_fortified_status,
        programs__bug_bounty_participant__cloud__status as bug_bounty_status,
        _embedded__vendor__name as vendor_name,
        _embedded__vendor__programs__top_vendor__status as top_vendor_status,
        _site as site_name,
        _product as product,
        _deployment as deployment,
        _tenant as tenant,
        -- booleans
        listed as is_listed,
        stores_personal_data as stores_personal_data,
        latest_version__deployment__cloud as is_cloud_version,
        latest_version__deployment__connect as is_connect_version,
        latest_version__deployment__forge as has_forge_version,
        latest_version__deployment__runs_on_atlassian as runs_on_atlassian,
        -- timestamps
        last_modified as last_release_at,
        -- scd2 validity
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
