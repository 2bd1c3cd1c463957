-- depends_on: {{ ref('check_catalog') }}
-- Checks this organization's configuration cannot judge, one row per organization and check with
-- the reason: int_check_results reports them not_evaluable, once, whatever the areas said.
-- * topology: none of the places the catalog says the check applies to (check_catalog.product, e.g.
--   `org/cloud`, `jira/dc, confluence/dc`) was read for the organization: no organization API key,
--   no Data Center instance, no Confluence... (not_computable checks aside; an attestation about the
--   Cloud organization stands with any Cloud site);
-- * input: a place the check needs besides its own products is not read (var `also_needs`);
-- * drift: a column the check needs (var `required_columns`) is absent from a raw table that has
--   rows for the organization: Atlassian renamed or dropped the field, and reading it as NULL would
--   pass the check silently.
-- pipelines/atlassian_posture/connector/evaluability.py says the same before a run (doctor).
{%- set needs = {
    'org/cloud': 'an organization API key (admin_api_key)',
    'jira/cloud': 'a Jira Cloud site', 'confluence/cloud': 'a Confluence Cloud site',
    'jira/dc': 'a Jira Data Center instance', 'confluence/dc': 'a Confluence Data Center instance',
} %}
{%- set applies = [] %}
{%- if execute %}
    {%- set catalog = run_query('select check_id, product, evaluation, plan_note from ' ~ ref('check_catalog')) %}
    {%- for row in catalog.rows if row[2] != 'not_computable' %}
        {%- set places = [] %}
        {%- for part in row[1].split(',') %}
            {%- set products, deployments = part.strip().split('/') %}
            {#- service management is read through Jira; beside another product (confluence+jsm) it is
                that product's check -#}
            {%- set named = products.split('+') %}
            {%- set named = (named | reject('equalto', 'jsm') | list) or ['jira'] %}
            {%- for product in named %}
                {%- for deployment in deployments.split('+') %}
                    {%- set place = product ~ '/' ~ deployment %}
                    {%- if place not in places %}{% do places.append(place) %}{% endif %}
                    {#- an attestation about the Cloud organization stands with any Cloud configuration -#}
                    {%- if row[2] == 'attestation' and place == 'org/cloud' %}
                        {%- for cloud in ['jira/cloud', 'confluence/cloud'] if cloud not in places %}{% do places.append(cloud) %}{% endfor %}
                    {%- endif %}
                {%- endfor %}
            {%- endfor %}
        {%- endfor %}
        {#- an app signal is judged wherever apps are read (UPM on any site or instance), unless the
            catalog says it is about Cloud apps (the Marketplace) or Data Center only -#}
        {%- if row[0].startswith('PLUGIN-') and 'Cloud apps only' not in (row[3] or '') and 'DC only' not in (row[3] or '') %}
            {%- set places = ['jira/cloud', 'confluence/cloud', 'jira/dc', 'confluence/dc'] %}
        {%- endif %}
        {%- set wanted = [] %}
        {%- for place in places %}{% do wanted.append(needs.get(place, place)) %}{% endfor %}
        {%- for place in places %}
            {%- do applies.append((row[0], place.split('/')[0], place.split('/')[1],
                                   'not read with this configuration: needs ' ~ (wanted | unique | join(' or ')))) %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}
with orgs as (
    select org_id, org_key from {{ ref('int_orgs') }}
),

applies as (
    {%- for check_id, product, deployment, reason in applies %}
    select '{{ check_id }}' as check_id, '{{ product }}' as product, '{{ deployment }}' as deployment,
           '{{ reason }}' as reason
    union all
    {%- endfor %}
    select cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
           cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }})
    where 1 = 0
),

-- what was read for each organization (any resource attempted, whatever its outcome)
configured as (
    select distinct org_id, product, deployment from {{ ref('int_coverage_latest') }}
),

topology as (
    select orgs.org_id, applies.check_id, min(applies.reason) as reason
    from orgs
    cross join applies
    left join configured
        on configured.org_id = orgs.org_id
        and configured.product = applies.product
        and configured.deployment = applies.deployment
    group by orgs.org_id, applies.check_id
    having count(configured.org_id) = 0
),

-- inputs a check needs besides its own product (var `also_needs`: check -> places, any of them):
-- without them its evidence is not evidence (an account seen only through a product is not known
-- to be unmanaged), so this gap voids the check even where an area evaluated resources
also_needs as (
    {%- for check_id, needed in var('also_needs', {}).items() %}
    {%- set wanted = [] %}
    {%- for place in needed %}{% do wanted.append(needs.get(place, place)) %}{% endfor %}
    {%- for place in needed %}
    select '{{ check_id }}' as check_id, '{{ place.split('/')[0] }}' as product, '{{ place.split('/')[1] }}' as deployment,
           'not read with this configuration: needs {{ wanted | unique | join(' or ') }}' as reason
    union all
    {%- endfor %}
    {%- endfor %}
    select cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
           cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }})
    where 1 = 0
),

missing_inputs as (
    select orgs.org_id, also_needs.check_id, min(also_needs.reason) as reason
    from orgs
    cross join also_needs
    left join configured
        on configured.org_id = orgs.org_id
        and configured.product = also_needs.product
        and configured.deployment = also_needs.deployment
    group by orgs.org_id, also_needs.check_id
    having count(configured.org_id) = 0
),

drift as (
    {{ column_drift() }}
),

gaps as (
    select org_id, check_id, 'topology' as gap_kind, reason from topology
    union all
    select org_id, check_id, 'input', reason from missing_inputs
    union all
    select org_id, check_id, 'drift', reason from drift
),

-- one gap per check: the ones that void evidence (drift, input) before topology
ranked as (
    select
        gaps.*,
        row_number() over (partition by org_id, check_id
                           order by case gap_kind when 'drift' then 1 when 'input' then 2 else 3 end, reason) as gap_rank
    from gaps
)

select org_id, check_id, gap_kind, reason
from ranked
where gap_rank = 1
