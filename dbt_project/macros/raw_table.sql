{#- Read a raw table the connector loads, tolerant of what a given organization did not produce.

    dlt creates a table only when rows arrived and a column only when some row had a value, so
    an organization without Atlassian Guard has no `org_events`, and a site whose grants never
    name a user has no `holder__user__account_id`. Staging asks for the columns it knows, typed;
    what is absent reads as NULL, and an absent table as no rows. Types are dbt's portable ones:
    text, int, float, bool, ts (UTC), date.

    `committed_only`: only rows of loads dlt recorded as complete in `_dlt_loads` (status 0). The
    run facts (coverage, runs) describe a run's data; a run killed mid-load can leave its own
    facts in the table while its data is not all there, and they must not count. -#}
{% macro raw_table(table_name, columns, committed_only=false) -%}
    {#- source() at parse time too: the manifest (dbt docs, Dagster) then knows each model's raw table -#}
    {%- set declared = source('atlassian_raw', table_name) -%}
    {%- set relation, present = raw_columns(declared.identifier) -%}
    {%- set names = columns.keys() | map('lower') | list -%}
    {#- `_org_id` is the tenant's identity as of its latest run (org_identity), for old rows too: a
        tenant whose id changed (an org key added later) stays one organization. -#}
    {%- set identity = org_identity() if relation is not none and '_org_id' in names and '_org_key' in names
                                         and '_org_key' in present else none %}
    select
    {%- for name, kind in columns.items() %}
        {% if identity is not none and name | lower == '_org_id' -%}
            coalesce(_identity.org_id{{ ', ' ~ cast_raw('_raw.' ~ adapter.quote(name), kind) if name | lower in present }})
        {%- elif name | lower in present -%}
            {{ cast_raw('_raw.' ~ adapter.quote(name), kind) }}
        {%- else -%}
            cast(null as {{ raw_type(kind) }})
        {%- endif %} as {{ adapter.quote(name) }}{{ "," if not loop.last }}
    {%- endfor %}
    {% if relation is not none -%}
    from {{ declared }} as _raw
    {%- if identity is not none %}
    left join {{ identity }} as _identity on _identity.org_key = _raw."_org_key"
    {%- endif %}
    {%- set committed = committed_loads() if committed_only and '_dlt_load_id' in present else none %}
    {%- if committed is not none %}
    where _raw."_dlt_load_id" in {{ committed }}
    {%- endif %}
    {%- else -%}
    from (select 1 as no_rows) as missing_{{ table_name }} where 1 = 0
    {%- endif %}
{%- endmacro %}

{#- (org_key, org_id) from each tenant's latest run (raw.runs), as a subquery; none before any run
    recorded an org id. The connector gives every tenant an id (helpers.py Connections.identity). -#}
{% macro org_identity() -%}
    {%- set runs = source('atlassian_raw', 'runs') -%}
    {%- set relation, present = raw_columns(runs.identifier) -%}
    {%- if 'org_id' in present and 'org_key' in present -%}
    {%- set committed = committed_loads() if '_dlt_load_id' in present else none -%}
    {{ return('(select org_key, org_id from (select org_key, org_id, row_number() over (partition by org_key '
              ~ 'order by finished_at desc) as recency from ' ~ runs ~ ' where org_id is not null'
              ~ (' and "_dlt_load_id" in ' ~ committed if committed is not none else '')
              ~ ') as latest where recency = 1)') }}
    {%- else -%}
    {{ return(none) }}
    {%- endif -%}
{%- endmacro %}

{#- The ids of the loads dlt committed, as a subquery; none when the table is absent. -#}
{% macro committed_loads() -%}
    {%- set loads = raw_columns('_dlt_loads')[0] -%}
    {%- if loads is none -%}
    {{ return(none) }}
    {%- else -%}
    {{ return('(select load_id from ' ~ loads ~ ' where status = 0)') }}
    {%- endif -%}
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

{#- (the raw table `identifier`, its column names in lower case), or (none, []) when the table is absent,
    and at parse time. Asked of the database, not of dbt's relation cache: dbt lists a schema it does not
    build (raw) on a first cache miss, and with several threads another thread can find the schema
    cached before its tables are in, and read a present table as absent: its rows silently missing from
    the marts (seen in CI on a busy machine: a warehouse's Data Center audit events). -#}
{% macro raw_columns(identifier) -%}
    {%- if not execute -%}
    {{ return((none, [])) }}
    {%- endif -%}
    {%- set relation = api.Relation.create(database=target.database, schema=var('raw_schema'), identifier=identifier,
                                           type='table') -%}
    {%- set present = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do present.append(column.name | lower) -%}
    {%- endfor -%}
    {{ return((relation if present else none, present)) }}
{%- endmacro %}
