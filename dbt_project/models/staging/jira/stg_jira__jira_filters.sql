-- Jira saved filters (scd2).
with source as (
    {{ raw_table('jira_filters', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'text',
        'name': 'text', 'description': 'text', 'jql': 'text', 'owner__account_id': 'text',
        'owner__name': 'text', 'owner__display_name': 'text', '_dlt_id': 'text'
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
        id as filter_id,
        {{ adapter.quote('name') }} as filter_name,
        description as filter_description,
        jql as jql,
        owner__account_id as owner_account_id,
        owner__name as owner_username,
        owner__display_name as owner_display_name,
        _dlt_id as filter_row_id,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
