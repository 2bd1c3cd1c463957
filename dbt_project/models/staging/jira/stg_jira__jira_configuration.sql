-- Jira global configuration (scd2, one row per tenant).
with source as (
    {{ raw_table('jira_configuration', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'voting_enabled':
        'bool', 'watching_enabled': 'bool', 'unassigned_issues_allowed': 'bool',
        'sub_tasks_enabled': 'bool', 'issue_linking_enabled': 'bool', 'time_tracking_enabled':
        'bool', 'attachments_enabled': 'bool', '_dlt_id': 'text'
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
        voting_enabled as is_voting_enabled,
        watching_enabled as is_watching_enabled,
        unassigned_issues_allowed as is_unassigned_issues_allowed,
        sub_tasks_enabled as is_sub_tasks_enabled,
        issue_linking_enabled as is_issue_linking_enabled,
        time_tracking_enabled as is_time_tracking_enabled,
        attachments_enabled as is_attachments_enabled,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
