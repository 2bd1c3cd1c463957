-- Levels of the Jira issue security schemes (scd2).
with source as (
    {{ raw_table('jira_issue_security_levels', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'text',
        'name': 'text', 'description': 'text', 'scheme_id': 'text', 'is_default': 'bool', '_dlt_id': 'text'
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
        scheme_id as scheme_id,
        id as level_id,
        {{ adapter.quote('name') }} as level_name,
        description as level_description,
        is_default as is_default,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
