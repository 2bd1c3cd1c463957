-- Confluence Cloud audit records (`/wiki/rest/api/audit`); they carry no id of their own.
with source as (
    {{ raw_table('confluence_audit_records', {
        'record_id': 'text', 'creation_date': 'int', 'summary': 'text', 'description': 'text', 'category': 'text',
        'remote_address': 'text', 'sys_admin': 'bool', 'super_admin': 'bool',
        'affected_object__name': 'text', 'affected_object__object_type': 'text',
        'author__type': 'text', 'author__display_name': 'text', 'author__account_id': 'text',
        'author__account_type': 'text', 'author__is_guest': 'bool', 'author__is_external_collaborator': 'bool',
        '_org_key': 'text', '_org_id': 'text', '_site': 'text', '_product': 'text', '_deployment': 'text',
        '_tenant': 'text', '_dlt_load_id': 'text', '_dlt_id': 'text'
    }) }}
),

renamed as (
    select
        -- ids
        record_id as audit_record_id,
        _dlt_id as record_row_id,
        author__account_id as author_account_id,
        -- strings
        summary,
        description,
        category,
        remote_address,
        affected_object__name as object_name,
        affected_object__object_type as object_type,
        author__type as author_type,
        author__display_name as author_display_name,
        author__account_type as author_account_type,
        _dlt_load_id as load_id,
        -- lineage
        _org_key as org_key,
        _org_id as org_id,
        _site as site_name,
        _product as product,
        _deployment as deployment,
        _tenant as tenant,
        case when _deployment = 'dc' then 'dc:' || _site else _site end as site_ref,
        -- numbers
        creation_date as creation_date_ms,
        -- booleans
        sys_admin as is_sys_admin,
        super_admin as is_super_admin,
        author__is_guest as is_author_guest,
        author__is_external_collaborator as is_author_external_collaborator,
        -- timestamps
        {{ audit_epoch_ms_to_timestamp('creation_date') }} as created_at
    from source
)

select * from renamed
