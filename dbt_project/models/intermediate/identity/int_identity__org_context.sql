-- Per organization: "now", what the org-level collection got (Guard answers 403/404 for the
-- policy endpoints: forbidden/not_available = no Guard), and the attested policy inputs the
-- identity and org checks share.
with orgs as (
    select org_id, org_key, org_resource_key, as_of from {{ ref('int_orgs') }}
),

coverage as (
    select org_id, resource_name, status
    from {{ ref('int_coverage_latest') }}
    where product = 'org'
),

settings as (
    select * from {{ ref('int_posture_settings') }}
),

states as (
    select
        org_id,
        {% for resource in ['org_users', 'org_domains', 'org_api_tokens', 'org_directories', 'org_auth_policy_members',
                            'org_policies', 'org_data_security_policies', 'org_events', 'org_groups',
                            'org_group_memberships'] %}
        max(case when resource_name = '{{ resource }}' then
            case when status = 'ok' then 'collected'
                 when status in ('forbidden', 'not_available') then 'no_guard'
                 else 'not_collected' end end) as {{ resource }}_state{{ "," if not loop.last }}
        {% endfor %}
    from coverage
    group by org_id
)

select
    orgs.org_id,
    orgs.org_key,
    orgs.org_resource_key,
    orgs.as_of,
    {% for resource in ['org_users', 'org_domains', 'org_api_tokens', 'org_directories', 'org_auth_policy_members',
                        'org_policies', 'org_data_security_policies', 'org_events', 'org_groups',
                        'org_group_memberships'] %}
    coalesce(states.{{ resource }}_state, 'not_collected') as {{ resource }}_state,
    {% endfor %}
    exists (select 1 from settings where settings.org_id = orgs.org_id and settings.setting_source = 'attestation'
            and settings.setting_name = 'auth_policies') as is_auth_policies_attested,
    exists (select 1 from {{ ref('stg_org__org_directories') }} as d
            where d.org_key = orgs.org_key and d.is_current and d.icon_url not like '%/atlassian.svg') as has_scim_directory
from orgs
left join states on orgs.org_id = states.org_id
