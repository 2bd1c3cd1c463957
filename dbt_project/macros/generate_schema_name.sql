{#- Layers land in schemas named for what they are (staging, intermediate, marts, reference),
    not dbt's default `<target schema>_<custom>`, so a BI tool points at `marts` on every target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
