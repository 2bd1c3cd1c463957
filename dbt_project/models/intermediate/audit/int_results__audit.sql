-- Results of the audit detections (AUDIT-*) and POSTURE-014 (org audit log freshness), in the
-- results contract. Detections list every matching visible event, whatever its age; the org-log
-- detections (AUDIT-001..015) need the Guard org log, AUDIT-016 falls back to Confluence exports.
{%- set org_log_checks = [] %}
{%- for n in range(1, 16) %}{% do org_log_checks.append('AUDIT-%03d' % n) %}{% endfor %}
{%- set jira_checks = [] %}
{%- for n in range(1, 10) %}{% do jira_checks.append('AUDIT-J%02d' % n) %}{% endfor %}
{%- set confluence_checks = [] %}
{%- for n in range(1, 7) %}{% do confluence_checks.append('AUDIT-C%02d' % n) %}{% endfor %}

with orgs as (
    select org_id, org_resource_key, as_of from {{ ref('int_orgs') }}
),

coverage as (
    select * from {{ ref('int_coverage_latest') }}
),

checks as (
    {%- for check_id in org_log_checks %}
    select '{{ check_id }}' as check_id, 'org_log' as check_family union all
    {%- endfor %}
    select 'AUDIT-016', 'exfiltration' union all
    {%- for check_id in jira_checks %}
    select '{{ check_id }}', 'jira' union all
    {%- endfor %}
    {%- for check_id in confluence_checks %}
    select '{{ check_id }}', 'confluence' union all
    {%- endfor %}
    select 'AUDIT-DC', 'dc_settings'
),

-- what each org's logs are: the org log needs Guard; a product log not collected makes its checks unsafe
logs as (
    select
        orgs.org_id,
        max(case when coverage.resource_name = 'org_events' and coverage.is_collected then 1 else 0 end)
            as has_org_log,
        max(case when coverage.resource_name = 'org_events'
                  and coverage.status in ('forbidden', 'not_available') then 1 else 0 end) as is_org_log_forbidden,
        max(case when coverage.resource_name in ('jira_audit_records', 'jira_dc_audit_events')
                  and not coverage.is_collected then 1 else 0 end) as is_jira_log_missing,
        max(case when coverage.resource_name in ('confluence_audit_records', 'confluence_dc_audit_events')
                  and not coverage.is_collected then 1 else 0 end) as is_confluence_log_missing
    from orgs
    left join coverage on orgs.org_id = coverage.org_id
    group by orgs.org_id
),

check_status as (
    select
        orgs.org_id,
        orgs.org_resource_key,
        checks.check_id,
        case
            when checks.check_family = 'dc_settings' then 'not_computable'
            when checks.check_family = 'org_log' and logs.has_org_log = 0 then 'not_evaluable'
            when checks.check_family = 'jira' and logs.is_jira_log_missing = 1 then 'not_evaluable'
            when checks.check_family in ('confluence', 'exfiltration') and logs.is_confluence_log_missing = 1
                then 'not_evaluable'
            else 'evaluated'
        end as status,
        case
            when checks.check_family = 'dc_settings' then 'DC audit coverage settings are not modelled'
            when checks.check_family = 'org_log' and logs.has_org_log = 0 then 'no Atlassian Guard: no org audit log'
            when checks.check_family = 'jira' and logs.is_jira_log_missing = 1 then 'a Jira audit log was not collected'
            when checks.check_family in ('confluence', 'exfiltration') and logs.is_confluence_log_missing = 1
                then 'a Confluence audit log was not collected'
            when checks.check_family = 'exfiltration' and logs.has_org_log = 0
                then 'no org audit log: Confluence exports only'
        end as reason
    from orgs
    cross join checks
    inner join logs on orgs.org_id = logs.org_id
),

detections as (
    select * from {{ ref('int_audit__detections') }}
),

failing as (
    select
        check_status.org_id,
        check_status.check_id,
        check_status.status,
        check_status.reason,
        detections.event_key as resource_key,
        'event' as resource_type,
        detections.action_name as resource_name,
        detections.site_ref,
        case when detections.source in ('org', 'dc') and detections.product not in ('jira', 'confluence')
             then 'org' else detections.product end as product,
        true as is_failing,
        {{ dbt.concat([
            "'''' ", "coalesce(detections.action_name, detections.action, '?')", "''' by '",
            "coalesce(detections.actor_name, detections.actor_account_id, 'unknown')",
            "coalesce(' on ' || detections.object_name, '')",
            "' at '", "cast(detections.occurred_at as " ~ dbt.type_string() ~ ")"
        ]) }} as evidence
    from check_status
    inner join detections on check_status.org_id = detections.org_id and check_status.check_id = detections.check_id
    where check_status.status = 'evaluated'
),

not_failing as (
    select
        check_status.org_id,
        check_status.check_id,
        check_status.status,
        check_status.reason,
        case when check_status.status = 'evaluated' then null else check_status.org_resource_key end as resource_key,
        case when check_status.status = 'evaluated' then null else 'org' end as resource_type,
        cast(null as {{ dbt.type_string() }}) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        case when check_status.status = 'evaluated' then false end as is_failing,
        cast(null as {{ dbt.type_string() }}) as evidence
    from check_status
    where not exists (
        select 1 from failing
        where failing.org_id = check_status.org_id and failing.check_id = check_status.check_id)
)

select * from failing
union all
select * from not_failing
union all
select * from {{ ref('int_audit__org_log_freshness') }}
