with source as (
    {{ raw_table('org_events', {
        'id': 'text', 'type': 'text',
        'attributes__action': 'text', 'message__content': 'text', 'message__format': 'text',
        'attributes__location__ip': 'text', 'attributes__location__city': 'text',
        'attributes__location__country_name': 'text',
        'attributes__actor__id': 'text', 'attributes__actor__name': 'text', 'attributes__actor__email': 'text',
        'attributes__actor__app__id': 'text', 'attributes__actor__app__type': 'text',
        'attributes__actor__app__attributes__name': 'text',
        'attributes__actor__auth__auth_type': 'text', 'attributes__actor__auth__token_label': 'text',
        'attributes__time': 'ts', 'attributes__processed_at': 'ts',
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment': 'text',
        '_tenant': 'text', '_dlt_load_id': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        -- ids
        id as event_id,
        _dlt_id as event_row_id,
        attributes__action as action_id,
        attributes__actor__id as actor_account_id,
        attributes__actor__app__id as actor_app_key,
        -- strings
        attributes__actor__name as actor_name,
        attributes__actor__email as actor_email,
        attributes__actor__app__type as actor_app_type,
        attributes__actor__app__attributes__name as actor_app_name,
        attributes__actor__auth__auth_type as auth_type,
        attributes__actor__auth__token_label as token_label,
        message__content as message,
        message__format as message_format,
        attributes__location__ip as ip_address,
        attributes__location__city as city,
        attributes__location__country_name as country_name,
        _dlt_load_id as load_id,
        -- lineage
        _org_key as org_key,
        _org_id as org_id,
        _site as site_name,
        _product as product,
        _deployment as deployment,
        _tenant as tenant,
        case when _deployment = 'dc' then 'dc:' || _site else _site end as site_ref,
        -- timestamps
        attributes__time as occurred_at,
        attributes__processed_at as processed_at
    from source
)

select * from renamed
