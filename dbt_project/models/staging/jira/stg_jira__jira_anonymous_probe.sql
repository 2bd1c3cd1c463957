-- What an unauthenticated caller sees on each Jira site / instance (scd2, one row per tenant).
with source as (
    {{ raw_table('jira_anonymous_probe', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts',
        'projects_visible': 'int', 'project_keys': 'text', 'projects_status': 'text',
        'filters_visible': 'int', 'filter_ids': 'text', 'filters_status': 'text', 'dashboards_visible': 'int', 'dashboard_ids': 'text',
        'dashboards_status': 'text', 'write_project_keys': 'text', 'browse_projects':
        'bool', 'user_picker': 'bool', 'administer': 'bool', 'system_admin': 'bool',
        'create_shared_objects': 'bool', 'manage_group_filter_subscriptions': 'bool', 'bulk_change':
        'bool', 'permissions_status': 'text', '_dlt_id': 'text'
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
        projects_visible as projects_visible,
        project_keys as project_keys,
        projects_status as projects_status,
        filters_visible as filters_visible,
        filter_ids as filter_ids,
        filters_status as filters_status,
        dashboards_visible as dashboards_visible,
        dashboard_ids as dashboard_ids,
        dashboards_status as dashboards_status,
        write_project_keys as write_project_keys,
        browse_projects as anonymous_browse_projects,
        user_picker as anonymous_user_picker,
        administer as anonymous_administer,
        system_admin as anonymous_system_admin,
        create_shared_objects as anonymous_create_shared_objects,
        manage_group_filter_subscriptions as anonymous_manage_group_filter_subscriptions,
        bulk_change as anonymous_bulk_change,
        permissions_status as permissions_status,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
