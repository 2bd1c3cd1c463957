{#- The items of a comma-separated text column, one row each, as a select-list expression (a set-returning
    function): the anonymous probes store what they reached as sorted comma-separated keys. DuckDB and
    PostgreSQL both read `unnest(string_to_array(...))`; another adapter dispatches its own. -#}
{% macro list_items(column) -%}
    {{ return(adapter.dispatch('list_items')(column)) }}
{%- endmacro %}

{% macro default__list_items(column) -%}
    unnest(string_to_array({{ column }}, ','))
{%- endmacro %}
