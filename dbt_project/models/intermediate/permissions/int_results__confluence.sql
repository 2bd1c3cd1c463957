-- Confluence permission posture (POSTURE-031..038, 039 for Confluence DC): one row per evaluated resource
-- (passing and failing), per the rule book and the results
-- contract. Space checks run on Cloud sites and DC instances alike; 034 is keyed by space on Cloud and by
-- site on DC; 035 is Cloud (attested); 038 and 039 are DC only.
-- Evidence from every shape (int_confluence__space_permissions: v2 permissions, role assignments, legacy
-- permissions) and from the connector's anonymous probe: a space the probe listed without credentials fails
-- POSTURE-031 whatever the permission tables say, and a site whose probe listed spaces fails POSTURE-033.
-- Each failing row's evidence names every representation that showed the exposure.
{%- set space_checks = ['POSTURE-031', 'POSTURE-032', 'POSTURE-036', 'POSTURE-037'] %}
{%- set all_checks = ['POSTURE-031', 'POSTURE-032', 'POSTURE-033', 'POSTURE-034', 'POSTURE-035', 'POSTURE-036',
                      'POSTURE-037', 'POSTURE-038', 'POSTURE-039'] %}
with orgs as (
    select * from {{ ref('int_orgs') }}
),

permissions as (
    select * from {{ ref('int_confluence__space_permissions') }}
),

listed_spaces as (
    select distinct org_id, site_ref, site_name, deployment, space_key, space_name, space_type
    from {{ ref('stg_confluence__confluence_spaces') }}
    where is_current
),

-- what the anonymous probe listed: one row per space key it saw
probe_current as (
    select * from {{ ref('stg_confluence__confluence_anonymous_probe') }}
    where is_current and is_anonymous_access and coalesce(space_keys, '') <> ''
),

probe_spaces as (
    select distinct org_id, site_ref, site_name, deployment, space_key
    from (
        select org_id, site_ref, site_name, deployment, {{ list_items('space_keys') }} as space_key
        from probe_current
    ) as listed
    where space_key <> ''
),

-- every space some evidence names: the credential's listing, plus spaces only the probe or a permission
-- source named (an admin who cannot view a space does not list it)
spaces as (
    select * from listed_spaces
    union all
    select extra.org_id, extra.site_ref, extra.site_name, extra.deployment, extra.space_key,
           extra.space_key as space_name, cast(null as {{ dbt.type_string() }}) as space_type
    from (
        select org_id, site_ref, min(site_name) as site_name, min(deployment) as deployment, space_key
        from (
            select org_id, site_ref, site_name, deployment, space_key from probe_spaces
            union all
            select p.org_id, p.site_ref, d.site_name, p.deployment, p.space_key
            from {{ ref('int_confluence__space_permissions') }} as p
            inner join (select distinct org_id, site_ref, site_name from {{ ref('stg_confluence__confluence_settings') }}
                        where is_current) as d
                on p.org_id = d.org_id and p.site_ref = d.site_ref
        ) as named
        group by org_id, site_ref, space_key
    ) as extra
    where not exists (select 1 from listed_spaces as l where l.org_id = extra.org_id and l.site_ref = extra.site_ref
                      and l.space_key = extra.space_key)
),

settings as (
    select * from {{ ref('int_posture_settings') }}
),

accounts as (
    select * from {{ ref('int_accounts') }}
),

memberships as (
    select * from {{ ref('int_group_memberships') }}
),

-- every Confluence deployment the connector saw
deployments as (
    select distinct org_id, site_ref, site_name, deployment from {{ ref('stg_confluence__confluence_settings') }} where is_current
    union
    select distinct org_id, site_ref, site_name, deployment from {{ ref('stg_confluence__confluence_spaces') }} where is_current
),

-- licensed users per deployment (rule book: Cloud live accounts with Confluence access; DC active users)
licensed as (
    select deployments.org_id, deployments.site_ref, accounts.account_id
    from deployments
    inner join accounts
        on deployments.org_id = accounts.org_id
        and accounts.deployment = deployments.deployment
        and accounts.is_live
        and (deployments.deployment = 'dc' or (accounts.has_product_access and accounts.product_keys like '%confluence%'))
),

licensed_counts as (
    select org_id, site_ref, count(distinct account_id) as licensed_count from licensed group by org_id, site_ref
),

-- groups named by an administer permission whose members include every licensed user
group_admins as (
    select distinct org_id, site_ref, deployment, principal_id
    from permissions
    where principal_type = 'group' and operation = 'administer'
),

everyone_groups as (
    select group_admins.org_id, group_admins.site_ref, group_admins.principal_id
    from group_admins
    inner join licensed_counts
        on group_admins.org_id = licensed_counts.org_id and group_admins.site_ref = licensed_counts.site_ref
    inner join licensed on group_admins.org_id = licensed.org_id and group_admins.site_ref = licensed.site_ref
    inner join memberships
        on memberships.org_id = group_admins.org_id
        and memberships.group_id = group_admins.principal_id
        and memberships.account_id = licensed.account_id
        and ((group_admins.deployment = 'cloud' and memberships.deployment = 'cloud' and memberships.site_ref is null)
             or (group_admins.deployment = 'dc' and memberships.site_ref = group_admins.site_ref))
    where licensed_counts.licensed_count > 0
    group by group_admins.org_id, group_admins.site_ref, group_admins.principal_id, licensed_counts.licensed_count
    having count(distinct licensed.account_id) = licensed_counts.licensed_count
),

risky_accounts as (
    select org_id, account_id
    from accounts
    where deployment = 'cloud' and (coalesce(is_guest, false) or claim_status = 'unmanaged')
),

-- anonymous grants per space and representation, one evidence line each ("... hold read/page, read/space")
anonymous_by_source as (
    select org_id, site_ref, space_key, evidence_source, role_id,
           {{ dbt.listagg('grant_name', "', '", 'order by grant_name') }} as grants
    from (
        select distinct org_id, site_ref, space_key, evidence_source, role_id,
                        operation || '/' || target_type as grant_name
        from permissions where access_class = 'anonymous-users'
    ) as anonymous_grants
    group by org_id, site_ref, space_key, evidence_source, role_id
),

space_fails as (
    select org_id, site_ref, space_key, 'POSTURE-031' as check_id,
           evidence_source || coalesce(' (role ' || role_id || ')', '') || ': anonymous-users hold ' || grants as evidence
    from anonymous_by_source
    union all
    select org_id, site_ref, space_key, 'POSTURE-031',
           'anonymous probe: GET /wiki/api/v2/spaces without credentials listed the space'
    from probe_spaces
    union all
    select org_id, site_ref, space_key, 'POSTURE-032',
           evidence_source || ': anonymous-users hold ' || operation || ' on ' || target_type
    from permissions
    where access_class = 'anonymous-users' and operation in ('create', 'update', 'delete')
      and target_type in ('page', 'blogpost', 'comment', 'attachment')
    union all
    select org_id, site_ref, space_key, 'POSTURE-034',
           evidence_source || ': ' || access_class || ' (incl. unlicensed) hold ' || operation || ' on ' || target_type
    from permissions
    where access_class in ('authenticated-users', 'unlicensed-users') and deployment = 'cloud'
      and coalesce((select max(s.space_type) from spaces as s where s.org_id = permissions.org_id
                    and s.site_ref = permissions.site_ref and s.space_key = permissions.space_key), '') <> 'knowledge_base'
    union all
    select permissions.org_id, permissions.site_ref, permissions.space_key, 'POSTURE-036',
           permissions.evidence_source || ': administer held by '
           || coalesce(permissions.access_class, 'group ' || permissions.principal_id || ' (every licensed user)')
    from permissions
    left join everyone_groups
        on permissions.principal_type = 'group'
        and permissions.org_id = everyone_groups.org_id
        and permissions.site_ref = everyone_groups.site_ref
        and permissions.principal_id = everyone_groups.principal_id
    where permissions.operation = 'administer'
      and (permissions.access_class in ('anonymous-users', 'authenticated-users', 'all-licensed-users', 'unlicensed-users')
           or everyone_groups.principal_id is not null)
    union all
    select permissions.org_id, permissions.site_ref, permissions.space_key, 'POSTURE-037',
           permissions.evidence_source || ': guest or unmanaged account ' || permissions.principal_id || ' holds ' || permissions.operation
           || ' on ' || permissions.target_type
    from permissions
    inner join risky_accounts
        on permissions.org_id = risky_accounts.org_id and permissions.principal_id = risky_accounts.account_id
    where permissions.deployment = 'cloud' and permissions.principal_type = 'user'
      and permissions.operation in ('create', 'update', 'delete')
),

-- every distinct piece of evidence, so the row says which representations showed the exposure
space_fail_one as (
    select org_id, site_ref, space_key, check_id, {{ dbt.listagg('evidence', "'; '", 'order by evidence') }} as evidence
    from (select distinct org_id, site_ref, space_key, check_id, evidence from space_fails) as distinct_fails
    group by org_id, site_ref, space_key, check_id
),

space_checks as (
    {%- for check_id in space_checks %}
    select '{{ check_id }}' as check_id, org_id, site_ref, space_key, space_name from spaces
    union all
    {%- endfor %}
    select 'POSTURE-034', org_id, site_ref, space_key, space_name from spaces where deployment = 'cloud'
),

space_rows as (
    select
        space_checks.org_id,
        space_checks.check_id,
        'space:' || space_checks.site_ref || ':' || space_checks.space_key as resource_key,
        'space' as resource_type,
        space_checks.space_name as resource_name,
        space_checks.site_ref,
        space_fail_one.check_id is not null as is_failing,
        space_fail_one.evidence
    from space_checks
    left join space_fail_one
        on space_checks.org_id = space_fail_one.org_id
        and space_checks.site_ref = space_fail_one.site_ref
        and space_checks.space_key = space_fail_one.space_key
        and space_checks.check_id = space_fail_one.check_id
),

anonymous_spaces as (
    select org_id, site_ref, count(distinct space_key) as space_count
    from permissions where access_class = 'anonymous-users'
    group by org_id, site_ref
),

cloud_probe as (
    select org_id, site_ref, max(case when is_anonymous_access then 1 else 0 end) = 1 as anonymous_access,
           max(case when is_anonymous_access then coalesce(space_count, 0) else 0 end) as listed_space_count
    from {{ ref('stg_confluence__confluence_anonymous_probe') }}
    where is_current
    group by org_id, site_ref
),

dc_global as (
    select
        org_id,
        site_ref,
        max(case when (holder = 'anonymous' or subject_type = 'anonymous')
                  and operation = 'use' and target_type = 'application' then 1 else 0 end) = 1 as anonymous_use,
        max(case when holder = 'anonymous' or subject_type = 'anonymous' then 1 else 0 end) = 1 as anonymous_any,
        max(case when holder = 'unlicensed' or subject_type = 'unlicensed' then 1 else 0 end) = 1 as unlicensed_any
    from {{ ref('stg_confluence__confluence_dc_global_permissions') }}
    where is_current
    group by org_id, site_ref
),

site_flags as (
    select
        deployments.*,
        coalesce(cloud_probe.anonymous_access, false) as site_anonymous_access,
        coalesce(cloud_probe.listed_space_count, 0) as probe_space_count,
        anonymous_spaces.space_count as anonymous_space_count,
        coalesce(dc_global.anonymous_use, false) as anonymous_use,
        coalesce(dc_global.anonymous_any, false) as anonymous_global,
        coalesce(dc_global.unlicensed_any, false) as unlicensed_global
    from deployments
    left join cloud_probe on deployments.org_id = cloud_probe.org_id and deployments.site_ref = cloud_probe.site_ref
    left join anonymous_spaces on deployments.org_id = anonymous_spaces.org_id and deployments.site_ref = anonymous_spaces.site_ref
    left join dc_global on deployments.org_id = dc_global.org_id and deployments.site_ref = dc_global.site_ref
),

public_links as (
    select org_id, setting_scope as site_name, max(setting_value) as setting_value
    from settings
    where setting_source = 'attestation' and setting_name = 'public_links_enabled'
    group by org_id, setting_scope
),

covered_sites as (
    -- Confluence sites covered by an active data-security policy
    select distinct policies.org_id, resources.resource_id
    from {{ ref('stg_org__org_data_security_policies') }} as policies
    inner join {{ ref('stg_org__org_data_security_policy_resources') }} as resources
        on policies.org_key = resources.org_key and policies.policy_id = resources.policy_id
    where policies.is_current and resources.is_current and policies.policy_status = 'active'
),

cloud_ids as (
    select org_id, site_ref, max(cloud_id) as cloud_id
    from {{ ref('stg_confluence__confluence_settings') }}
    where is_current and deployment = 'cloud'
    group by org_id, site_ref
),

site_rows as (
    select
        org_id, 'POSTURE-033' as check_id, 'site:' || site_ref as resource_key, 'site' as resource_type,
        site_name as resource_name, site_ref,
        case when deployment = 'cloud'
             then site_anonymous_access and (probe_space_count > 0 or anonymous_space_count is not null)
             else anonymous_use end as is_failing,
        case
            when deployment = 'cloud' and site_anonymous_access and probe_space_count > 0
                then 'anonymous probe: GET /wiki/api/v2/spaces without credentials listed '
                     || cast(probe_space_count as {{ dbt.type_string() }}) || ' space(s)'
            when deployment = 'cloud' and site_anonymous_access and anonymous_space_count is not null
                then 'site anonymous access on and ' || cast(anonymous_space_count as {{ dbt.type_string() }})
                     || ' space(s) grant anonymous-users'
            when deployment = 'dc' and anonymous_use then 'anonymous users hold USECONFLUENCE (global permission)'
        end as evidence
    from site_flags
    union all
    select
        org_id, 'POSTURE-034', 'site:' || site_ref, 'site', site_name, site_ref,
        unlicensed_global,
        case when unlicensed_global then 'unlicensed users hold a global permission' end
    from site_flags
    where deployment = 'dc'
    union all
    select
        org_id, 'POSTURE-038', 'site:' || site_ref, 'site', site_name, site_ref,
        anonymous_global or anonymous_space_count is not null,
        case
            when anonymous_global then 'anonymous users hold a global permission'
            when anonymous_space_count is not null
                then 'anonymous users hold permissions on ' || cast(anonymous_space_count as {{ dbt.type_string() }}) || ' space(s)'
        end
    from site_flags
    where deployment = 'dc'
    union all
    select
        site_flags.org_id, 'POSTURE-035', 'site:' || site_flags.site_ref, 'site', site_flags.site_name, site_flags.site_ref,
        coalesce(lower(public_links.setting_value), '') = 'true' and covered_sites.resource_id is null,
        case when coalesce(lower(public_links.setting_value), '') = 'true' and covered_sites.resource_id is null
            then 'public links attested on and no active data-security policy covers the site' end
    from site_flags
    inner join (select distinct org_id from public_links) as attested_orgs on site_flags.org_id = attested_orgs.org_id
    left join public_links on site_flags.org_id = public_links.org_id and site_flags.site_name = public_links.site_name
    left join cloud_ids on site_flags.org_id = cloud_ids.org_id and site_flags.site_ref = cloud_ids.site_ref
    left join covered_sites
        on site_flags.org_id = covered_sites.org_id
        and covered_sites.resource_id = 'ari:cloud:confluence::site/' || cloud_ids.cloud_id
    where site_flags.deployment = 'cloud'
    union all
    select
        org_id, 'POSTURE-039', 'site:' || site_ref, 'site', site_name, site_ref, is_vulnerable, evidence
    from {{ ref('int_permissions__dc_versions') }}
    where product = 'confluence'
),

evaluated as (
    select * from space_rows
    union all
    select * from site_rows
),

check_list as (
    {%- for check_id in all_checks %}
    select '{{ check_id }}' as check_id {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

inputs as (
    select check_id, 'confluence_spaces' as resource_name from check_list where check_id not in ('POSTURE-035', 'POSTURE-039')
    union all
    select check_id, 'confluence_space_permissions' from check_list where check_id not in ('POSTURE-035', 'POSTURE-039')
    union all select 'POSTURE-033', 'confluence_anonymous_probe'
    union all select 'POSTURE-033', 'confluence_dc_global_permissions'
    union all select 'POSTURE-034', 'confluence_dc_global_permissions'
    union all select 'POSTURE-038', 'confluence_dc_global_permissions'
    union all select 'POSTURE-036', 'confluence_group_members'
    union all select 'POSTURE-039', 'confluence_settings'
),

-- A site whose role assignments (refused, partly refused or failed) or legacy permissions (refused) could not be read may hide
-- its access-class grants there (some sites disclose anonymous access in one read only): the exposure checks
-- are then not_evaluable.
-- Skipped (PRE_ROLES) and not_available (the site has no such read) are answers, not gaps.
shape_inputs as (
    select 'POSTURE-031' as check_id union all select 'POSTURE-032' union all select 'POSTURE-034'
    union all select 'POSTURE-036'
),

gaps as (
    select org_id, check_id, min(reason) as reason
    from (
        {{ check_input_gaps('inputs', 'confluence') }}
        union all
        select coverage.org_id, shape_inputs.check_id,
               coverage.resource_name || ' ' || coverage.status || ' for ' || coverage.tenant
        from {{ ref('int_coverage_latest') }} as coverage
        cross join shape_inputs
        where coverage.product = 'confluence'
          and ((coverage.resource_name = 'confluence_space_role_assignments' and coverage.status in ('forbidden', 'failed', 'partial'))
               -- the v1 list left the document: an odd answer (400, 410) from it means "gone", only a refusal is a gap
               or (coverage.resource_name = 'confluence_legacy_space_permissions' and coverage.status = 'forbidden'))
    ) as all_gaps
    group by org_id, check_id
),

org_checks as (
    select
        orgs.org_id,
        orgs.org_resource_key,
        check_list.check_id,
        case
            when gaps.check_id is not null then 'not_evaluable'
            when check_list.check_id = 'POSTURE-035'
                and not exists (select 1 from public_links as p where p.org_id = orgs.org_id) then 'manual'
            else 'evaluated'
        end as status,
        case
            when gaps.check_id is not null then gaps.reason
            when check_list.check_id = 'POSTURE-035'
                and not exists (select 1 from public_links as p where p.org_id = orgs.org_id)
                then 'the public-links toggle has no read API'
        end as reason
    from orgs
    cross join check_list
    left join gaps on orgs.org_id = gaps.org_id and check_list.check_id = gaps.check_id
),

evaluated_rows as (
    select
        org_checks.org_id, org_checks.check_id, org_checks.status, org_checks.reason,
        evaluated.resource_key, evaluated.resource_type, evaluated.resource_name, evaluated.site_ref,
        'confluence' as product, evaluated.is_failing, evaluated.evidence
    from org_checks
    inner join evaluated on org_checks.org_id = evaluated.org_id and org_checks.check_id = evaluated.check_id
    where org_checks.status = 'evaluated'
),

empty_rows as (
    select
        org_checks.org_id, org_checks.check_id, org_checks.status, org_checks.reason,
        cast(null as {{ dbt.type_string() }}) as resource_key,
        cast(null as {{ dbt.type_string() }}) as resource_type,
        cast(null as {{ dbt.type_string() }}) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'confluence' as product,
        false as is_failing,
        cast(null as {{ dbt.type_string() }}) as evidence
    from org_checks
    where org_checks.status = 'evaluated'
      and org_checks.check_id <> 'POSTURE-039'  -- LOCAL FIX (owned elsewhere): int_results__jira emits the one empty row
      and not exists (select 1 from evaluated_rows as e where e.org_id = org_checks.org_id and e.check_id = org_checks.check_id)
),

not_evaluated_rows as (
    select
        org_checks.org_id, org_checks.check_id, org_checks.status, org_checks.reason,
        org_checks.org_resource_key as resource_key,
        'org' as resource_type,
        org_checks.org_id as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'confluence' as product,
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
        'confluence' as product, true as is_failing, evaluated.evidence
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
