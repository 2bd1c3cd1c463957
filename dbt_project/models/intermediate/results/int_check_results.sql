-- Every check of the catalog, for every organization, from each area's results model
-- (contract: dbt_project/README.md "Check results"). The marts read this and nothing else.
{%- set areas = var('result_models', [
    'int_results__org', 'int_results__identity', 'int_results__jira', 'int_results__confluence',
    'int_results__permission_identity', 'int_results__audit', 'int_results__audit_identity',
    'int_results__plugins'
]) %}

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
