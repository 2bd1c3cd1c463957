-- POSTURE-039 input: each Data Center instance (Jira from serverInfo, Confluence from server-information),
-- its version, and whether it is vulnerable: inside a critical advisory's affected range (seed
-- dc_advisories) or past the end of support of its feature release (seed dc_end_of_support) at as_of.
-- An unknown feature release only fails on an advisory range (the rule book).
with instances as (
    select org_id, site_ref, site_name, 'jira' as product, max(version) as version
    from {{ ref('stg_jira__jira_server_info') }}
    where is_current and deployment = 'dc'
    group by org_id, site_ref, site_name
    union all
    select org_id, site_ref, site_name, 'confluence' as product, max(version) as version
    from {{ ref('stg_confluence__confluence_settings') }}
    where is_current and deployment = 'dc'
    group by org_id, site_ref, site_name
),

numbered as (
    select
        instances.*,
        {{ permissions_version_number('instances.version') }} as version_number,
        cast({{ permissions_version_part('instances.version', 1) }} as {{ dbt.type_string() }}) || '.'
            || cast({{ permissions_version_part('instances.version', 2) }} as {{ dbt.type_string() }}) as feature_version
    from instances
),

advisories as (
    select
        product,
        cve_id,
        {{ permissions_version_number('affected_from') }} as from_number,
        {{ permissions_version_number('affected_to') }} as to_number
    from {{ ref('dc_advisories') }}
),

hits as (
    select numbered.org_id, numbered.site_ref, numbered.product, min(advisories.cve_id) as cve_id
    from numbered
    inner join advisories
        on numbered.product = advisories.product
        and numbered.version_number >= advisories.from_number
        and numbered.version_number < advisories.to_number
    group by numbered.org_id, numbered.site_ref, numbered.product
)

select
    numbered.org_id,
    numbered.site_ref,
    numbered.site_name,
    numbered.product,
    numbered.version,
    numbered.feature_version,
    hits.cve_id,
    eos.end_of_support_date,
    coalesce(eos.end_of_support_date <= orgs.as_of, false) as is_end_of_support,
    (hits.cve_id is not null or coalesce(eos.end_of_support_date <= orgs.as_of, false)) as is_vulnerable,
    case
        when hits.cve_id is not null then numbered.product || ' ' || numbered.version || ' is affected by ' || hits.cve_id
        when eos.end_of_support_date <= orgs.as_of
            then numbered.product || ' ' || numbered.feature_version || ' reached end of support on '
                 || cast(eos.end_of_support_date as {{ dbt.type_string() }})
    end as evidence
from numbered
inner join {{ ref('int_orgs') }} as orgs on numbered.org_id = orgs.org_id
left join hits on numbered.org_id = hits.org_id and numbered.site_ref = hits.site_ref and numbered.product = hits.product
left join {{ ref('dc_end_of_support') }} as eos
    on numbered.product = eos.product and numbered.feature_version = eos.feature_version
