-- The Connect scopes of an app's latest Marketplace version, one row per scope; the child table
-- carries no lineage, so it takes the organization and app key from its parent listing row.
with source as (
    {{ raw_table('apps_marketplace__latest_version__deployment__scopes', {
        'value': 'text', '_dlt_parent_id': 'text', '_dlt_list_idx': 'int', '_dlt_id': 'text'
    }) }}
),

parents as (
    select * from {{ ref('stg_apps__apps_marketplace') }}
),

renamed as (
    select
        -- ids
        source._dlt_id as scope_row_id,
        source._dlt_parent_id as parent_row_id,
        parents.org_id,
        parents.org_key,
        parents.plugin_key,
        -- strings
        source.value as scope,
        parents.tenant,
        -- numbers
        source._dlt_list_idx as scope_position,
        -- scd2 validity of the parent listing row
        parents.valid_from,
        parents.valid_to,
        parents.is_current
    from source
    inner join parents on source._dlt_parent_id = parents.listing_row_id
)

select * from renamed
