with source as (
    {{ raw_table('posture_settings', {
        'org_key': 'text', 'org_id': 'text', 'source': 'text', 'setting': 'text',
        'scope': 'text', 'field': 'text', 'value': 'text'
    }) }}
),

renamed as (
    select
        org_key,
        org_id,
        source as setting_source,
        setting as setting_name,
        scope as setting_scope,
        field as setting_field,
        value as setting_value
    from source
)

select * from renamed
