-- Jira projects of every Cloud site and DC instance, live and archived (scd2).
with source as (
    {{ raw_table('jira_projects', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'text',
        'key': 'text', 'name': 'text', 'description': 'text', 'project_type_key': 'text', 'style':
        'text', 'simplified': 'bool', 'is_private': 'bool', 'archived': 'bool', 'lead__account_id':
        'text', 'lead__name': 'text', 'lead__display_name': 'text', 'project_category__name':
        'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        _org_key as org_key,
        _org_id as org_id,
        _site as site_name,
        _product as product,
        _deployment as deployment,
        _tenant as tenant,
        case when _deployment = 'dc' then 'dc:' || _site else _site end as site_ref,
        id as project_id,
        {{ adapter.quote('key') }} as project_key,
        {{ adapter.quote('name') }} as project_name,
        description as project_description,
        project_type_key as project_type_key,
        style as project_style,
        simplified as is_simplified,
        is_private as is_private,
        archived as is_archived_raw,
        lead__account_id as lead_account_id,
        lead__name as lead_username,
        lead__display_name as lead_display_name,
        project_category__name as project_category_name,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
