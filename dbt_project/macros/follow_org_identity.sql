{#- A pre-hook for the incremental marts keyed by org_id (audit_events): rows written under an org id
    the tenant no longer has (a site-only tenant given an org key: `cloud:<cloudId>` -> the Admin
    API's id) take the tenant's current id first, so the tenant stays one organization and the
    delete+insert that follows de-duplicates across the change. Old id -> key from raw.runs; key ->
    current id as raw_table maps every raw row (macros/raw_table.sql org_identity). -#}
{% macro follow_org_identity() -%}
    {%- set target_relation = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- set current = org_identity() if execute else none -%}
    {%- if target_relation is none or current is none -%}
        select 1
    {%- else -%}
        update {{ target_relation }} set org_id = (
            select now_ids.org_id
            from {{ current }} as now_ids
            inner join (select distinct org_id, org_key from {{ source('atlassian_raw', 'runs') }}) as then_ids
                on then_ids.org_key = now_ids.org_key
            where then_ids.org_id = {{ target_relation }}.org_id
            order by now_ids.org_id
            limit 1
        )
        where org_id not in (select org_id from {{ current }} as now_ids)
          and exists (select 1 from {{ source('atlassian_raw', 'runs') }} as then_ids
                      inner join {{ current }} as now_ids on then_ids.org_key = now_ids.org_key
                      where then_ids.org_id = {{ target_relation }}.org_id)
    {%- endif -%}
{%- endmacro %}
