{#- Checks whose input resources were not collected for an organization, with the first reason:
    (org_id, check_id, reason). `inputs` names a CTE of (check_id, resource_name). A check listed
    here reports not_evaluable, never pass. -#}
{% macro check_input_gaps(inputs, product) -%}
    select coverage.org_id, {{ inputs }}.check_id,
           min(coverage.resource_name || ' ' || coverage.status || ' for ' || coverage.tenant) as reason
    from {{ ref('int_coverage_latest') }} as coverage
    inner join {{ inputs }} on coverage.resource_name = {{ inputs }}.resource_name
    where not coverage.is_collected and coverage.product = '{{ product }}'
    group by coverage.org_id, {{ inputs }}.check_id
{%- endmacro %}
