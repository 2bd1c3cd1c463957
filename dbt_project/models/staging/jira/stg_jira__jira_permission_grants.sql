-- Grants of every Jira permission scheme (scd2).
with source as (
    {{ raw_table('jira_permission_grants', {
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment':
        'text', '_tenant': 'text', '_dlt_valid_from': 'ts', '_dlt_valid_to': 'ts', 'id': 'int',
        'scheme_id': 'int', 'permission': 'text', 'holder__type': 'text', 'holder__parameter':
        'text', 'holder__value': 'text', 'holder__group__name': 'text', 'holder__group__group_id':
        'text', 'holder__project_role__id': 'text', 'holder__project_role__name': 'text',
        'holder__user__account_id': 'text', 'holder__user__name': 'text', 'holder__user__key':
        'text', 'holder__user__display_name': 'text', '_dlt_id': 'text'
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
        id as grant_id,
        scheme_id as scheme_id,
        permission as permission_key,
        holder__type as holder_type,
        holder__parameter as holder_parameter,
        holder__value as holder_value,
        holder__group__name as holder_group_name,
        holder__group__group_id as holder_group_id,
        holder__project_role__id as holder_role_id,
        holder__project_role__name as holder_role_name,
        holder__user__account_id as holder_account_id,
        holder__user__name as holder_username,
        holder__user__key as holder_user_key,
        holder__user__display_name as holder_user_display_name,
        _dlt_valid_from as valid_from,
        _dlt_valid_to as valid_to,
        _dlt_valid_to is null as is_current
    from source
)

select * from renamed
