{#- dbt.split_part, 1-based; here so every model reads the same. -#}
{% macro split_part(string_text, delimiter_text, part_number) -%}
    {{ dbt.split_part(string_text, delimiter_text, part_number) }}
{%- endmacro %}
