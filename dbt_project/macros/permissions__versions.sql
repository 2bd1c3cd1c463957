{#- A product version string ('9.12.4', '8.5.0-m01') as one comparable number: major * 1e6 + minor * 1e3
    + patch, from its first three dot-separated components (the rule book; a missing or
    non-numeric component counts 0). Portable: dbt.split_part and dbt.safe_cast only. -#}
{% macro permissions_version_part(expression, index) -%}
    {#- nullif: an absent component is '' (PostgreSQL's safe_cast is a plain cast and rejects '') -#}
    coalesce({{ dbt.safe_cast("nullif(" ~ dbt.split_part(dbt.split_part(expression, "'.'", index), "'-'", 1) ~ ", '')", dbt.type_bigint()) }}, 0)
{%- endmacro %}

{% macro permissions_version_number(expression) -%}
    ({{ permissions_version_part(expression, 1) }} * 1000000
     + {{ permissions_version_part(expression, 2) }} * 1000
     + {{ permissions_version_part(expression, 3) }})
{%- endmacro %}
