{#- (org_id, check_id, reason) for every required column (var `required_columns`: raw table ->
    column -> check ids) absent from a raw table that has current rows for the organization.
    dlt creates a column only when some row had a value, and raw_table reads an absent column as
    NULL: a field Atlassian renamed would make its checks pass silently. A required column is one
    every row of that shape carries (a boolean, a status), so its absence is drift, not sparsity. -#}
{% macro column_drift() -%}
    {%- set parts = [] -%}
    {%- if execute -%}
        {%- for table_name, required in var('required_columns', {}).items() -%}
            {%- set relation, present = raw_columns(table_name) -%}
            {%- if relation is not none -%}
                {%- if '_org_key' in present -%}
                    {%- for column, check_ids in required.items() if column | lower not in present -%}
                        {%- for check_id in check_ids -%}
                            {%- do parts.append((relation, table_name, column, check_id, '_dlt_valid_to' in present)) -%}
                        {%- endfor -%}
                    {%- endfor -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for relation, table_name, column, check_id, is_scd2 in parts %}
    select orgs.org_id, '{{ check_id }}' as check_id,
           'raw.{{ table_name }} has no column {{ column }}: the API answered without the field (renamed or removed upstream?), so the check cannot be judged' as reason
    from (select distinct {{ adapter.quote('_org_key') }} as org_key from {{ relation }}
          {%- if is_scd2 %} where {{ adapter.quote('_dlt_valid_to') }} is null{% endif %}) as loaded
    inner join {{ ref('int_orgs') }} as orgs on orgs.org_key = loaded.org_key
    union all
    {%- endfor %}
    select cast(null as {{ dbt.type_string() }}) as org_id, cast(null as {{ dbt.type_string() }}) as check_id,
           cast(null as {{ dbt.type_string() }}) as reason
    where 1 = 0
{%- endmacro %}
