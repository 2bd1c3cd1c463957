-- Every check of the catalog, for every organization, from each area's results model
-- (contract: dbt_project/README.md "Check results"). The marts read this and nothing else.
-- Two rules hold here for every area, so no area has to get them right alone:
-- * a check the configuration cannot judge (int_check_input_gaps: no organization API key, no Data
--   Center, a required column gone) is one not_evaluable row, never pass, never failing resources;
-- * one row per resource: a check two areas evaluate (POSTURE-039 on Jira DC and Confluence DC)
--   gives one organization-level row, and an area that found nothing to evaluate adds no row
--   where another evaluated resources.
{%- set areas = var('result_models', [
    'int_results__org', 'int_results__identity', 'int_results__jira', 'int_results__confluence',
    'int_results__permission_identity', 'int_results__audit', 'int_results__audit_identity',
    'int_results__plugins'
]) %}
with unioned as (
    {% for area in areas %}
    select
        org_id,
        check_id,
        status,
        reason,
        resource_key,
        resource_type,
        resource_name,
        site_ref,
        product,
        is_failing,
        evidence,
        '{{ area }}' as results_model
    from {{ ref(area) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

orgs as (
    select org_id, org_resource_key from {{ ref('int_orgs') }}
),

gaps as (
    select org_id, check_id, gap_kind, reason from {{ ref('int_check_input_gaps') }}
),

flagged as (
    select
        unioned.*,
        orgs.org_resource_key,
        sum(case when unioned.resource_key is not null and unioned.resource_key <> orgs.org_resource_key
                 then 1 else 0 end) over (partition by unioned.org_id, unioned.check_id) as resource_rows
    from unioned
    inner join orgs on unioned.org_id = orgs.org_id
),

-- a drifted column or a missing input voids the check; a topology gap only where no area evaluated a
-- resource anyway
-- (evidence an area did collect, e.g. a DC project for a check the catalog calls Cloud, is kept)
applied_gaps as (
    select gaps.*
    from gaps
    where gaps.gap_kind in ('drift', 'input')
       or not exists (select 1 from flagged
                      where flagged.org_id = gaps.org_id and flagged.check_id = gaps.check_id
                        and flagged.resource_rows > 0)
),

judged as (
    select
        flagged.*,
        row_number() over (
            partition by flagged.org_id, flagged.check_id, coalesce(flagged.resource_key, flagged.org_resource_key)
            order by case when flagged.status = 'evaluated' then 1 else 0 end,
                     case when flagged.is_failing then 0 else 1 end,
                     flagged.results_model
        ) as duplicate_rank
    from flagged
    where not exists (select 1 from applied_gaps as gaps
                      where gaps.org_id = flagged.org_id and gaps.check_id = flagged.check_id)
),

not_judgeable as (
    select
        gaps.org_id,
        gaps.check_id,
        'not_evaluable' as status,
        gaps.reason,
        orgs.org_resource_key as resource_key,
        'org' as resource_type,
        gaps.org_id as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        min(unioned.product) as product,
        cast(null as {{ dbt.type_boolean() }}) as is_failing,
        cast(null as {{ dbt.type_string() }}) as evidence,
        min(unioned.results_model) as results_model
    from applied_gaps as gaps
    inner join orgs on gaps.org_id = orgs.org_id
    inner join unioned on gaps.org_id = unioned.org_id and gaps.check_id = unioned.check_id
    group by gaps.org_id, gaps.check_id, gaps.reason, orgs.org_resource_key
)

select
    org_id, check_id, status, reason, resource_key, resource_type, resource_name, site_ref, product,
    is_failing, evidence, results_model
from judged
where duplicate_rank = 1
  and not (resource_key is null and status = 'evaluated' and resource_rows > 0)
union all
select * from not_judgeable
