-- Jira issue security schemes (scd2).
with source as (
    {{ raw_table('jira_issue_security_schemes', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'text',
        'name': 'text', 'description': 'text', 'default_security_level_id': 'text', '_dlt_id': 'text'
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
        id as scheme_id,
        {{ adapter.quote('name') }} as scheme_name,
        description as scheme_description,
        default_security_level_id as default_level_id,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
