-- Share permissions of each Jira filter (child of jira_filters).
with source as (
    {{ raw_table('jira_filters__share_permissions', {
        'id': 'text', 'type': 'text', 'group__name': 'text', 'group__group_id': 'text',
        'project__id': 'text', 'project__key': 'text', 'view': 'bool', 'edit': 'bool', '_dlt_id':
        'text', '_dlt_parent_id': 'text'
    }) }}
),

parent as (
    {{ raw_table('jira_filters', {
        '_dlt_id': 'text', '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text',
        '_deployment': 'text', '_tenant': 'text', '_dlt_valid_to': 'ts', 'id': 'text'
    }) }}
),

renamed as (
    select
        parent._org_key as org_key,
        parent._org_id as org_id,
        parent._site as site_name,
        parent._product as product,
        parent._deployment as deployment,
        parent._tenant as tenant,
        case when parent._deployment = 'dc' then 'dc:' || parent._site else parent._site end as site_ref,
        parent.id as filter_id,
        source.id as share_id,
        source.{{ adapter.quote('type') }} as share_type,
        source.group__name as group_name,
        source.group__group_id as group_id,
        source.project__id as shared_project_id,
        source.project__key as shared_project_key,
        source.{{ adapter.quote('view') }} as can_view,
        source.{{ adapter.quote('edit') }} as can_edit,
        source._dlt_parent_id as parent_row_id,
        parent._dlt_valid_to is null as is_current
    from source
    inner join parent on source._dlt_parent_id = parent._dlt_id
)

select * from renamed
