-- Actors (users and groups) of each project role in each Jira project (scd2).
with source as (
    {{ raw_table('jira_role_actors', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'project_id':
        'text', 'project_key': 'text', 'role_id': 'text', 'role_name': 'text', 'id': 'text', 'type':
        'text', 'display_name': 'text', 'name': 'text', 'actor_user__account_id': 'text',
        'actor_group__name': 'text', 'actor_group__group_id': 'text', '_dlt_id': 'text'
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
        project_id as project_id,
        project_key as project_key,
        role_id as role_id,
        role_name as role_name,
        id as actor_id,
        {{ adapter.quote('type') }} as actor_type_raw,
        display_name as actor_display_name,
        {{ adapter.quote('name') }} as actor_name,
        actor_user__account_id as actor_account_id,
        actor_group__name as actor_group_name_raw,
        actor_group__group_id as actor_group_id,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
