-- Space permissions granted by each Confluence space role (child).
with source as (
    {{ raw_table('confluence_space_roles__space_permissions', {
        'value': 'text', '_dlt_id': 'text', '_dlt_parent_id': 'text'
    }) }}
),

parent as (
    {{ raw_table('confluence_space_roles', {
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
        parent.id as role_id,
        source.{{ adapter.quote('value') }} as space_permission,
        source._dlt_parent_id as parent_row_id,
        parent._dlt_valid_to is null as is_current
    from source
    inner join parent on source._dlt_parent_id = parent._dlt_id
)

select * from renamed
