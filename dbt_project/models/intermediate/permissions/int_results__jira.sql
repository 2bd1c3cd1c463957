-- Jira permission posture (POSTURE-016..026, 028, 029, 030, 039 for Jira DC): one row per evaluated
-- resource (passing and failing), per the rule book and the results contract.
-- Grants count through live projects only (int_jira__project_grants); Cloud sites and DC instances alike.
-- Corroboration: what the anonymous probe reached (projects, projects it may write to, filters, dashboards) fails
-- POSTURE-016 / 017 / 020 / 021 for that resource whatever the permission tables and share lists said; the
-- evidence names the probe. A resource only the probe saw is evaluated too (keyed the same way).
{%- set project_checks = ['POSTURE-016', 'POSTURE-017', 'POSTURE-022', 'POSTURE-023', 'POSTURE-024',
                          'POSTURE-025', 'POSTURE-026'] %}
with orgs as (
    select * from {{ ref('int_orgs') }}
),

grants as (
    select * from {{ ref('int_jira__project_grants') }}
),

settings as (
    select * from {{ ref('int_posture_settings') }}
),

sensitive as (
    select distinct org_id, setting_scope as project_key
    from settings
    where setting_source = 'config' and setting_name = 'sensitive_projects' and setting_scope is not null
),

group_sizes as (
    select * from {{ ref('int_jira__group_sizes') }}
),

probe_rows as (
    select * from {{ ref('stg_jira__jira_anonymous_probe') }} where is_current
),

-- one row per item the anonymous probe listed (kind: project, write_project, filter, dashboard)
probe_items as (
    select distinct org_id, site_ref, kind, item
    from (
        select org_id, site_ref, 'project' as kind, {{ list_items('project_keys') }} as item
        from probe_rows where projects_status = 'ok' and coalesce(project_keys, '') <> ''
        union all
        select org_id, site_ref, 'write_project', {{ list_items('write_project_keys') }}
        from probe_rows where projects_status = 'ok' and coalesce(write_project_keys, '') <> ''
        union all
        select org_id, site_ref, 'filter', {{ list_items('filter_ids') }}
        from probe_rows where filters_status = 'ok' and coalesce(filter_ids, '') <> ''
        union all
        select org_id, site_ref, 'dashboard', {{ list_items('dashboard_ids') }}
        from probe_rows where dashboards_status = 'ok' and coalesce(dashboard_ids, '') <> ''
    ) as listed
    where item <> ''
),

listed_projects as (
    select distinct org_id, site_ref, deployment, project_key, project_name
    from {{ ref('stg_jira__jira_projects') }}
    where is_current and not coalesce(is_archived_raw, false)
),

projects as (
    select * from listed_projects
    union all
    select distinct probe_items.org_id, probe_items.site_ref, probe_rows.deployment, probe_items.item, probe_items.item
    from probe_items
    inner join probe_rows on probe_items.org_id = probe_rows.org_id and probe_items.site_ref = probe_rows.site_ref
    where probe_items.kind = 'project'
      and not exists (select 1 from {{ ref('stg_jira__jira_projects') }} as p where p.is_current
                      and p.org_id = probe_items.org_id and p.site_ref = probe_items.site_ref
                      and p.project_key = probe_items.item)
),

-- every Jira deployment the connector saw (Cloud site or DC instance)
deployments as (
    select distinct org_id, site_ref, site_name, deployment from {{ ref('stg_jira__jira_server_info') }} where is_current
    union
    select distinct org_id, site_ref, site_name, deployment from {{ ref('stg_jira__jira_anonymous_probe') }} where is_current
    union
    select distinct org_id, site_ref, site_name, deployment from {{ ref('stg_jira__jira_projects') }} where is_current
),

grant_flags as (
    select
        grants.*,
        case
            when grants.holder_type = 'group' then coalesce(
                (select max(s.member_count) from group_sizes as s
                 where s.org_id = grants.org_id and s.group_id = grants.holder_value
                   and ((grants.deployment = 'cloud' and s.deployment = 'cloud' and s.site_ref is null)
                        or (grants.deployment = 'dc' and s.site_ref = grants.site_ref))), 0)
        end as member_count,
        case when sensitive.project_key is not null then true else false end as is_sensitive
    from grants
    left join sensitive on grants.org_id = sensitive.org_id and grants.project_key = sensitive.project_key
),

project_fails as (
    select org_id, site_ref, project_key, 'POSTURE-016' as check_id,
           permission_key || ' granted to anyone by scheme ''' || scheme_name || '''' as evidence
    from grant_flags where holder_type = 'anyone' and permission_key = 'BROWSE_PROJECTS'
    union all
    select org_id, site_ref, project_key, 'POSTURE-017',
           permission_key || ' granted to anyone by scheme ''' || scheme_name || ''''
    from grant_flags where holder_type = 'anyone' and permission_key <> 'BROWSE_PROJECTS'
    union all
    select org_id, site_ref, project_key, 'POSTURE-022',
           'sensitive project browsable by application role ' || holder_value || ' (scheme ''' || scheme_name || ''')'
    from grant_flags where permission_key = 'BROWSE_PROJECTS' and holder_type = 'applicationRole' and is_sensitive
    union all
    select org_id, site_ref, project_key, 'POSTURE-023',
           'ADMINISTER_PROJECTS granted to ' || holder_type || ' ' || coalesce(holder_name, '')
           || case when holder_type = 'group' then ' (' || cast(member_count as {{ dbt.type_string() }}) || ' members)' else '' end
           || ' by scheme ''' || scheme_name || ''''
    from grant_flags
    where permission_key = 'ADMINISTER_PROJECTS'
      and (holder_type in ('anyone', 'applicationRole')
           or (holder_type = 'group' and member_count > {{ var('broad_group_size') }}))
    union all
    select org_id, site_ref, project_key, 'POSTURE-024',
           permission_key || ' granted directly to user ' || coalesce(holder_name, holder_value) || ' by scheme ''' || scheme_name || ''''
    from grant_flags
    where holder_type = 'user' and permission_key in ('BROWSE_PROJECTS', 'ADMINISTER_PROJECTS', 'DELETE_ISSUES')
    union all
    select org_id, site_ref, project_key, 'POSTURE-025',
           'BROWSE_PROJECTS granted to ' || holder_type || ' by scheme ''' || scheme_name || ''''
    from grant_flags
    where permission_key = 'BROWSE_PROJECTS'
      and holder_type in ('userCustomField', 'groupCustomField', 'reporter', 'assignee')
    union all
    select org_id, site_ref, project_key, 'POSTURE-026',
           'sensitive project browsable by role atlassian-addons-project-access (scheme ''' || scheme_name || ''')'
    from grant_flags
    where permission_key = 'BROWSE_PROJECTS' and holder_type = 'projectRole' and is_sensitive
      and role_name = 'atlassian-addons-project-access'
),

project_evidence as (
    select * from project_fails
    union all
    select org_id, site_ref, item, 'POSTURE-016',
           'anonymous probe: GET project/search without credentials listed the project'
    from probe_items where kind = 'project'
    union all
    select org_id, site_ref, item, 'POSTURE-017',
           'anonymous probe: mypermissions?projectKey= grants an anonymous caller a write permission'
    from probe_items where kind = 'write_project'
),

project_fail_one as (
    select org_id, site_ref, project_key, check_id, {{ dbt.listagg('evidence', "'; '", 'order by evidence') }} as evidence
    from (select distinct org_id, site_ref, project_key, check_id, evidence from project_evidence) as distinct_fails
    group by org_id, site_ref, project_key, check_id
),

project_checks as (
    {%- for check_id in project_checks %}
    select '{{ check_id }}' as check_id, org_id, site_ref, project_key, project_name from projects
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

project_rows as (
    select
        project_checks.org_id,
        project_checks.check_id,
        'project:' || project_checks.site_ref || ':' || project_checks.project_key as resource_key,
        'project' as resource_type,
        project_checks.project_name as resource_name,
        project_checks.site_ref,
        project_fail_one.check_id is not null as is_failing,
        project_fail_one.evidence
    from project_checks
    left join project_fail_one
        on project_checks.org_id = project_fail_one.org_id
        and project_checks.site_ref = project_fail_one.site_ref
        and project_checks.project_key = project_fail_one.project_key
        and project_checks.check_id = project_fail_one.check_id
),

anonymous_browse as (
    select org_id, site_ref, min(project_key) as project_key, count(distinct project_key) as project_count
    from grant_flags
    where holder_type = 'anyone' and permission_key = 'BROWSE_PROJECTS'
    group by org_id, site_ref
),

probe as (
    select org_id, site_ref, max(case when anonymous_user_picker then 1 else 0 end) = 1 as user_picker
    from {{ ref('stg_jira__jira_anonymous_probe') }}
    where is_current
    group by org_id, site_ref
),

filters as (
    select org_id, site_ref, filter_id, filter_name from {{ ref('stg_jira__jira_filters') }} where is_current
    union all
    select distinct org_id, site_ref, item, item from probe_items
    where kind = 'filter'
      and not exists (select 1 from {{ ref('stg_jira__jira_filters') }} as f where f.is_current
                      and f.org_id = probe_items.org_id and f.site_ref = probe_items.site_ref and f.filter_id = probe_items.item)
),

filter_global as (
    select distinct org_id, site_ref, filter_id
    from {{ ref('stg_jira__jira_filters__share_permissions') }}
    where is_current and share_type = 'global'
),

public_filters as (
    select org_id, site_ref, count(*) as filter_count from filter_global group by org_id, site_ref
),

dashboards as (
    select org_id, site_ref, dashboard_id, dashboard_name from {{ ref('stg_jira__jira_dashboards') }} where is_current
    union all
    select distinct org_id, site_ref, item, item from probe_items
    where kind = 'dashboard'
      and not exists (select 1 from {{ ref('stg_jira__jira_dashboards') }} as d where d.is_current
                      and d.org_id = probe_items.org_id and d.site_ref = probe_items.site_ref
                      and d.dashboard_id = probe_items.item)
),

-- shared publicly (share list) or reached anonymously (probe): the evidence says which
filter_public as (
    select org_id, site_ref, filter_id, 'share list: shared with type global (public)' as evidence from filter_global
    union all
    select org_id, site_ref, item, 'anonymous probe: GET filter/search without credentials listed the filter'
    from probe_items where kind = 'filter'
),

filter_public_one as (
    select org_id, site_ref, filter_id, {{ dbt.listagg('evidence', "'; '", 'order by evidence') }} as evidence
    from (select distinct org_id, site_ref, filter_id, evidence from filter_public) as distinct_public
    group by org_id, site_ref, filter_id
),

dashboard_global as (
    select distinct org_id, site_ref, dashboard_id
    from {{ ref('stg_jira__jira_dashboards__share_permissions') }}
    where is_current and share_type = 'global'
),

dashboard_public as (
    select org_id, site_ref, dashboard_id, 'share list: shared with type global (public)' as evidence
    from dashboard_global
    union all
    select org_id, site_ref, item, 'anonymous probe: GET dashboard/search without credentials listed the dashboard'
    from probe_items where kind = 'dashboard'
),

dashboard_public_one as (
    select org_id, site_ref, dashboard_id, {{ dbt.listagg('evidence', "'; '", 'order by evidence') }} as evidence
    from (select distinct org_id, site_ref, dashboard_id, evidence from dashboard_public) as distinct_public
    group by org_id, site_ref, dashboard_id
),

site_rows as (
    select
        deployments.org_id,
        'POSTURE-018' as check_id,
        'site:' || deployments.site_ref as resource_key,
        'site' as resource_type,
        deployments.site_name as resource_name,
        deployments.site_ref,
        (anonymous_browse.org_id is not null or public_filters.org_id is not null or coalesce(probe.user_picker, false))
            as is_failing,
        case when anonymous_browse.org_id is not null or public_filters.org_id is not null or coalesce(probe.user_picker, false)
            then 'anonymous access: '
                || case when anonymous_browse.org_id is not null
                        then cast(anonymous_browse.project_count as {{ dbt.type_string() }}) || ' project(s) browsable by anyone; ' else '' end
                || case when public_filters.org_id is not null
                        then cast(public_filters.filter_count as {{ dbt.type_string() }}) || ' filter(s) shared publicly; ' else '' end
                || case when coalesce(probe.user_picker, false) then 'USER_PICKER held by anyone' else '' end
        end as evidence
    from deployments
    left join anonymous_browse on deployments.org_id = anonymous_browse.org_id and deployments.site_ref = anonymous_browse.site_ref
    left join public_filters on deployments.org_id = public_filters.org_id and deployments.site_ref = public_filters.site_ref
    left join probe on deployments.org_id = probe.org_id and deployments.site_ref = probe.site_ref
    union all
    select
        deployments.org_id,
        'POSTURE-019',
        'site:' || deployments.site_ref,
        'site',
        deployments.site_name,
        deployments.site_ref,
        coalesce(probe.user_picker, false),
        case when coalesce(probe.user_picker, false) then 'USER_PICKER (Browse users and groups) held by anyone' end
    from deployments
    left join probe on deployments.org_id = probe.org_id and deployments.site_ref = probe.site_ref
),

share_rows as (
    select
        filters.org_id,
        'POSTURE-020' as check_id,
        'filter:' || filters.site_ref || ':' || filters.filter_id as resource_key,
        'filter' as resource_type,
        filters.filter_name as resource_name,
        filters.site_ref,
        filter_public_one.filter_id is not null as is_failing,
        filter_public_one.evidence
    from filters
    left join filter_public_one
        on filters.org_id = filter_public_one.org_id and filters.site_ref = filter_public_one.site_ref
        and filters.filter_id = filter_public_one.filter_id
    union all
    select
        dashboards.org_id,
        'POSTURE-021',
        'dashboard:' || dashboards.site_ref || ':' || dashboards.dashboard_id,
        'dashboard',
        dashboards.dashboard_name,
        dashboards.site_ref,
        dashboard_public_one.dashboard_id is not null,
        dashboard_public_one.evidence
    from dashboards
    left join dashboard_public_one
        on dashboards.org_id = dashboard_public_one.org_id and dashboards.site_ref = dashboard_public_one.site_ref
        and dashboards.dashboard_id = dashboard_public_one.dashboard_id
),

-- POSTURE-028: JSM customer access per Cloud site (attested)
jsm_attested as (
    select org_id, setting_scope as site_name,
        max(case when setting_field = 'open' then setting_value end) as open_value,
        max(case when setting_field = 'business_reason' then setting_value end) as business_reason,
        max(case when setting_field = 'help_center_login_required' then setting_value end) as login_required
    from settings
    where setting_source = 'attestation' and setting_name = 'jsm_customer_access'
    group by org_id, setting_scope
),

jsm_orgs as (
    select distinct org_id from jsm_attested
),

jsm_rows as (
    select
        deployments.org_id,
        'POSTURE-028' as check_id,
        'site:' || deployments.site_ref as resource_key,
        'site' as resource_type,
        deployments.site_name as resource_name,
        deployments.site_ref,
        coalesce((lower(jsm_attested.open_value) = 'true' and coalesce(jsm_attested.business_reason, '') = '')
                 or lower(jsm_attested.login_required) = 'false', false) as is_failing,
        case
            when lower(jsm_attested.open_value) = 'true' and coalesce(jsm_attested.business_reason, '') = ''
                then 'JSM customer access attested open with no business reason'
            when lower(jsm_attested.login_required) = 'false' then 'help centers attested not to require login'
        end as evidence
    from deployments
    inner join jsm_orgs on deployments.org_id = jsm_orgs.org_id
    left join jsm_attested on deployments.org_id = jsm_attested.org_id and deployments.site_name = jsm_attested.site_name
    where deployments.deployment = 'cloud'
),

-- DC instance settings: POSTURE-029 (jira.mode / attested JSM signup), 030 (websudo), 039 (version)
dc_instances as (
    select * from deployments where deployment = 'dc'
),

jira_mode as (
    select org_id, site_ref, max(property_value) as jira_mode
    from {{ ref('stg_jira__jira_application_properties') }}
    where is_current and property_key = 'jira.mode'
    group by org_id, site_ref
),

signup_attested as (
    select org_id, setting_scope as site_name, max(setting_value) as setting_value
    from settings
    where setting_source = 'attestation' and setting_name = 'dc_jsm_public_signup'
    group by org_id, setting_scope
),

websudo_attested as (
    select org_id, setting_scope as site_name, max(setting_value) as setting_value
    from settings
    where setting_source = 'attestation' and setting_name = 'dc_websudo_disabled'
    group by org_id, setting_scope
),

dc_rows as (
    select
        dc_instances.org_id,
        'POSTURE-029' as check_id,
        'site:' || dc_instances.site_ref as resource_key,
        'site' as resource_type,
        dc_instances.site_name as resource_name,
        dc_instances.site_ref,
        (coalesce(jira_mode.jira_mode, '') = 'public' or coalesce(lower(signup_attested.setting_value), '') = 'true') as is_failing,
        case
            when jira_mode.jira_mode = 'public' then 'jira.mode is public (anyone can sign up)'
            when lower(signup_attested.setting_value) = 'true' then 'JSM public signup attested on'
        end as evidence
    from dc_instances
    left join jira_mode on dc_instances.org_id = jira_mode.org_id and dc_instances.site_ref = jira_mode.site_ref
    left join signup_attested on dc_instances.org_id = signup_attested.org_id and dc_instances.site_name = signup_attested.site_name
    union all
    select
        dc_instances.org_id,
        'POSTURE-030',
        'site:' || dc_instances.site_ref,
        'site',
        dc_instances.site_name,
        dc_instances.site_ref,
        coalesce(lower(websudo_attested.setting_value), '') = 'true',
        case when lower(websudo_attested.setting_value) = 'true' then 'websudo attested disabled (jira.websudo.is.disabled=true)' end
    from dc_instances
    inner join (select distinct org_id from websudo_attested) as attested_orgs on dc_instances.org_id = attested_orgs.org_id
    left join websudo_attested on dc_instances.org_id = websudo_attested.org_id and dc_instances.site_name = websudo_attested.site_name
    union all
    select
        versions.org_id,
        'POSTURE-039',
        'site:' || versions.site_ref,
        'site',
        versions.site_name,
        versions.site_ref,
        versions.is_vulnerable,
        versions.evidence
    from {{ ref('int_permissions__dc_versions') }} as versions
    where versions.product = 'jira'
),

evaluated as (
    select * from project_rows
    union all select * from site_rows
    union all select * from share_rows
    union all select * from jsm_rows
    union all select * from dc_rows
),

check_list as (
    {%- for check_id in project_checks + ['POSTURE-018', 'POSTURE-019', 'POSTURE-020', 'POSTURE-021',
                                          'POSTURE-028', 'POSTURE-029', 'POSTURE-030', 'POSTURE-039'] %}
    select '{{ check_id }}' as check_id {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- data availability: a check whose input was not collected for the org is not_evaluable
inputs as (
    select check_list.check_id, resources.resource_name
    from check_list
    cross join (
        select 'jira_projects' as resource_name union all select 'jira_permission_schemes'
        union all select 'jira_project_permission_schemes'
    ) as resources
    where check_list.check_id in ({{ "'" ~ project_checks | join("', '") ~ "'" }}, 'POSTURE-018')
    union all select 'POSTURE-026', 'jira_project_roles'
    union all select 'POSTURE-018', 'jira_filters'
    union all select 'POSTURE-018', 'jira_anonymous_probe'
    union all select 'POSTURE-019', 'jira_anonymous_probe'
    union all select 'POSTURE-020', 'jira_filters'
    union all select 'POSTURE-021', 'jira_dashboards'
    union all select 'POSTURE-029', 'jira_application_properties'
    union all select 'POSTURE-039', 'jira_server_info'
),

gaps as (
    {{ check_input_gaps('inputs', 'jira') }}
),

org_checks as (
    select
        orgs.org_id,
        orgs.org_resource_key,
        check_list.check_id,
        case
            when gaps.check_id is not null then 'not_evaluable'
            when check_list.check_id = 'POSTURE-028'
                and not exists (select 1 from jsm_orgs where jsm_orgs.org_id = orgs.org_id) then 'manual'
            when check_list.check_id = 'POSTURE-030'
                and not exists (select 1 from websudo_attested as w where w.org_id = orgs.org_id)
                and exists (select 1 from dc_instances as d where d.org_id = orgs.org_id) then 'manual'
            else 'evaluated'
        end as status,
        case
            when gaps.check_id is not null then gaps.reason
            when check_list.check_id = 'POSTURE-028'
                and not exists (select 1 from jsm_orgs where jsm_orgs.org_id = orgs.org_id)
                then 'JSM customer access has no read API'
            when check_list.check_id = 'POSTURE-030'
                and not exists (select 1 from websudo_attested as w where w.org_id = orgs.org_id)
                and exists (select 1 from dc_instances as d where d.org_id = orgs.org_id)
                then 'jira-config.properties is a host file'
            when check_list.check_id = 'POSTURE-029'
                and not exists (select 1 from signup_attested as s where s.org_id = orgs.org_id)
                then 'JSM public signup not attested: jira.mode only'
        end as reason
    from orgs
    cross join check_list
    left join gaps on orgs.org_id = gaps.org_id and check_list.check_id = gaps.check_id
),

evaluated_rows as (
    select
        org_checks.org_id,
        org_checks.check_id,
        org_checks.status,
        org_checks.reason,
        evaluated.resource_key,
        evaluated.resource_type,
        evaluated.resource_name,
        evaluated.site_ref,
        case when org_checks.check_id = 'POSTURE-028' then 'jsm' else 'jira' end as product,
        evaluated.is_failing,
        evaluated.evidence
    from org_checks
    inner join evaluated on org_checks.org_id = evaluated.org_id and org_checks.check_id = evaluated.check_id
    where org_checks.status = 'evaluated'
),

empty_rows as (
    -- evaluated, but the org has no resource of that kind: one passing row without a resource key
    select
        org_checks.org_id, org_checks.check_id, org_checks.status, org_checks.reason,
        cast(null as {{ dbt.type_string() }}) as resource_key,
        cast(null as {{ dbt.type_string() }}) as resource_type,
        cast(null as {{ dbt.type_string() }}) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        case when org_checks.check_id = 'POSTURE-028' then 'jsm' else 'jira' end as product,
        false as is_failing,
        cast(null as {{ dbt.type_string() }}) as evidence
    from org_checks
    where org_checks.status = 'evaluated'
      and not exists (select 1 from evaluated_rows as e where e.org_id = org_checks.org_id and e.check_id = org_checks.check_id)
),

not_evaluated_rows as (
    select
        org_checks.org_id, org_checks.check_id, org_checks.status, org_checks.reason,
        org_checks.org_resource_key as resource_key,
        'org' as resource_type,
        org_checks.org_id as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        case when org_checks.check_id = 'POSTURE-028' then 'jsm' else 'jira' end as product,
        cast(null as {{ dbt.type_boolean() }}) as is_failing,
        cast(null as {{ dbt.type_string() }}) as evidence
    from org_checks
    where org_checks.status <> 'evaluated'
),

-- A check whose inputs were not collected is not_evaluable, yet a resource the anonymous probe reached is
-- exposed whatever the missing tables would say: it is reported failing (check_status stays not_evaluable).
corroborated_rows as (
    select
        org_checks.org_id, org_checks.check_id, 'evaluated' as status,
        'only the anonymous probe was collected: ' || org_checks.reason as reason,
        evaluated.resource_key, evaluated.resource_type, evaluated.resource_name, evaluated.site_ref,
        case when org_checks.check_id = 'POSTURE-028' then 'jsm' else 'jira' end as product, true as is_failing, evaluated.evidence
    from org_checks
    inner join evaluated on org_checks.org_id = evaluated.org_id and org_checks.check_id = evaluated.check_id
    where org_checks.status = 'not_evaluable' and evaluated.is_failing and evaluated.evidence like '%anonymous probe%'
)

select * from evaluated_rows
union all
select * from empty_rows
union all
select * from not_evaluated_rows
union all
select * from corroborated_rows
