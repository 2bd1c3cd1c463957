{#- Read a raw table the connector loads, tolerant of what a given organization did not produce.

    dlt creates a table only when rows arrived and a column only when some row had a value, so
    an organization without Atlassian Guard has no `org_events`, and a site whose grants never
    name a user has no `holder__user__account_id`. Staging asks for the columns it knows, typed;
    what is absent reads as NULL, and an absent table as no rows. Types are dbt's portable ones:
    text, int, float, bool, ts (UTC), date. -#}
{% macro raw_table(table_name, columns) -%}
    {#- source() at parse time too: the manifest (dbt docs, Dagster) then knows each model's raw table -#}
    {%- set declared = source('atlassian_raw', table_name) -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=var('raw_schema'), identifier=declared.identifier) -%}
    {%- set present = [] -%}
    {%- if relation is not none and execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do present.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif %}
    select
    {%- for name, kind in columns.items() %}
        {% if name | lower in present -%}
            {{ cast_raw(adapter.quote(name), kind) }}
        {%- else -%}
            cast(null as {{ raw_type(kind) }})
        {%- endif %} as {{ adapter.quote(name) }}{{ "," if not loop.last }}
    {%- endfor %}
    {% if relation is not none -%}
    from {{ declared }}
    {%- else -%}
    from (select 1 as no_rows) as missing_{{ table_name }} where 1 = 0
    {%- endif %}
{%- endmacro %}

{% macro raw_type(kind) -%}
    {%- if kind == 'text' -%}{{ dbt.type_string() }}
    {%- elif kind == 'int' -%}{{ dbt.type_bigint() }}
    {%- elif kind == 'float' -%}{{ dbt.type_float() }}
    {%- elif kind == 'bool' -%}{{ dbt.type_boolean() }}
    {%- elif kind == 'ts' -%}{{ dbt.type_timestamp() }}
    {%- elif kind == 'date' -%}date
    {%- else -%}{{ exceptions.raise_compiler_error("raw_table: unknown type " ~ kind) }}
    {%- endif -%}
{%- endmacro %}

{#- Timestamps arrive as timestamptz; the marts hold naive UTC timestamps (`<event>_at`). -#}
{% macro cast_raw(expression, kind) -%}
    {{ return(adapter.dispatch('cast_raw', 'atlassian_posture')(expression, kind)) }}
{%- endmacro %}

{% macro default__cast_raw(expression, kind) -%}
    cast({{ expression }} as {{ raw_type(kind) }})
{%- endmacro %}

{% macro duckdb__cast_raw(expression, kind) -%}
    {%- if kind == 'ts' -%}
    cast(timezone('UTC', {{ expression }}) as timestamp)
    {%- else -%}
    cast({{ expression }} as {{ raw_type(kind) }})
    {%- endif -%}
{%- endmacro %}

{% macro postgres__cast_raw(expression, kind) -%}
    {%- if kind == 'ts' -%}
    cast({{ expression }} at time zone 'UTC' as timestamp)
    {%- else -%}
    cast({{ expression }} as {{ raw_type(kind) }})
    {%- endif -%}
{%- endmacro %}
