{#- Epoch milliseconds (an integer expression) as a naive UTC timestamp, with portable macros only.
    Split into whole days and the remaining milliseconds: some adapters multiply intervals by a 32-bit
    integer, which epoch milliseconds overflow. -#}
{% macro audit_epoch_ms_to_timestamp(epoch_ms) -%}
    {%- set days = "cast(floor((" ~ epoch_ms ~ ") / 86400000.0) as " ~ dbt.type_int() ~ ")" -%}
    {%- set rest = "cast((" ~ epoch_ms ~ ") - cast(floor((" ~ epoch_ms ~ ") / 86400000.0) as " ~ dbt.type_bigint() ~ ") * 86400000 as " ~ dbt.type_int() ~ ")" -%}
    {{ dbt.dateadd('millisecond', rest, dbt.dateadd('day', days, "cast('1970-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")")) }}
{%- endmacro %}
