-- Org-administration posture checks (the rule book): POSTURE-001..015 keyed
-- `org:<org_id>` (POSTURE-002 by domain) and POSTURE-027 per Jira deployment (`site:<site_ref>`).
with context as (
    select * from {{ ref('int_identity__org_context') }}
),

accounts as (
    select * from {{ ref('int_accounts') }} where deployment = 'cloud'
),

settings as (
    select * from {{ ref('int_posture_settings') }} where setting_source in ('attestation', 'config')
),

sso as (
    select org_id, account_id from {{ ref('int_identity__sso_members') }}
),

tokens as (
    select * from {{ ref('int_identity__live_tokens') }}
),

-- POSTURE-003: live managed accounts without 2SV and not SSO-enforced
no_mfa as (
    select accounts.*
    from accounts
    where accounts.is_live and accounts.claim_status = 'managed' and accounts.mfa_enabled = false
      and not exists (select 1 from sso where sso.org_id = accounts.org_id and sso.account_id = accounts.account_id)
),

-- POSTURE-004: break-glass policies with few members are exempt
policy_sizes as (
    select org_id, auth_policy_id, count(*) as member_count
    from accounts
    where auth_policy_id is not null
    group by org_id, auth_policy_id
),

exempt_policies as (
    select settings.org_id, settings.setting_scope as policy_id
    from settings
    inner join policy_sizes
        on settings.org_id = policy_sizes.org_id and settings.setting_scope = policy_sizes.auth_policy_id
    where settings.setting_source = 'attestation' and settings.setting_name = 'break_glass_policy_ids'
      and policy_sizes.member_count <= {{ var('break_glass_max_members') }}
),

not_sso_users as (
    select accounts.*
    from accounts
    where accounts.claim_status = 'managed' and accounts.has_product_access
      and not exists (select 1 from sso where sso.org_id = accounts.org_id and sso.account_id = accounts.account_id)
      and not exists (select 1 from exempt_policies as e
                      where e.org_id = accounts.org_id and e.policy_id = accounts.auth_policy_id)
),

org_admins as (
    select accounts.*
    from accounts
    where ',' || coalesce(platform_roles, '') || ',' like '%,atlassian/org-admin,%'
       or ',' || coalesce(platform_roles, '') || ',' like '%,org-admin,%'
),

policies as (
    select context.org_id, p.policy_row_id, p.policy_id, p.policy_type, p.policy_status
    from {{ ref('stg_org__org_policies') }} as p
    inner join context on p.org_key = context.org_key
    where p.is_current
),

policy_resources as (
    select r.parent_row_id, r.resource_id
    from {{ ref('stg_org__org_policies__attributes__resources') }} as r
    where r.is_current
),

policy_realms as (
    select r.parent_row_id, r.realm
    from {{ ref('stg_org__org_policies__attributes__rule__in') }} as r
    where r.is_current
),

data_security_policies as (
    select context.org_id, d.policy_id, d.rule_policy_coverage_level, d.metadata_policy_coverage_level
    from {{ ref('stg_org__org_data_security_policies') }} as d
    inner join context on d.org_key = context.org_key
    where d.is_current and d.policy_status = 'active'
),

residency as (
    select org_id, max(setting_value) as realm
    from settings
    where setting_source = 'config' and setting_name = 'data_residency_realm'
    group by org_id
),

public_domains as (
    select lower(domain_name) as domain_name from {{ ref('public_mail_domains') }}
),

approved_domains as (
    select
        org_id,
        setting_scope as domain_name,
        max(case when setting_field = 'admin_approval_required' and lower(setting_value) = 'true' then 1 else 0 end)
            as admin_approval_required
    from settings
    where setting_source = 'attestation' and setting_name = 'approved_domains'
    group by org_id, setting_scope
),

single_settings as (
    select
        org_id,
        max(case when setting_name = 'external_user_api_token_access' then setting_value end) as external_token_access,
        max(case when setting_name = 'user_invites_open' then setting_value end) as user_invites_open,
        max(case when setting_name = 'invite_links_active' then setting_value end) as invite_links_active
    from settings
    where setting_source = 'attestation'
    group by org_id
),

-- one row per org and org-keyed check: status, reason, failing flag, evidence
org_level as (
    select
        context.org_id, 'POSTURE-001' as check_id,
        case when context.org_domains_state = 'collected' then 'evaluated' else 'not_evaluable' end as status,
        case when context.org_domains_state <> 'collected' then 'org_domains not collected' end as reason,
        not exists (select 1 from {{ ref('stg_org__org_domains') }} as d
                    where d.org_key = context.org_key and d.is_current and d.claim_status = 'verified') as is_failing,
        'no verified domain' as evidence
    from context

    union all
    select
        context.org_id, 'POSTURE-003',
        case
            when context.org_users_state <> 'collected' or context.org_auth_policy_members_state = 'not_collected'
                then 'not_evaluable'
            when context.org_auth_policy_members_state = 'collected' and not context.is_auth_policies_attested then 'manual'
            else 'evaluated'
        end,
        case
            when context.org_users_state <> 'collected' then 'org_users not collected'
            when context.org_auth_policy_members_state = 'not_collected' then 'org_auth_policy_members not collected'
            when context.org_auth_policy_members_state = 'collected' and not context.is_auth_policies_attested
                then 'policy SSO flags need an attestation (auth_policies)'
            else nullif(
                case when exists (select 1 from no_mfa where no_mfa.org_id = context.org_id and no_mfa.is_org_admin)
                     then 'escalated to critical: an org-level admin lacks 2SV' else '' end
                || case when context.org_auth_policy_members_state = 'no_guard'
                        and exists (select 1 from no_mfa where no_mfa.org_id = context.org_id and no_mfa.is_org_admin)
                        then '; ' else '' end
                || case when context.org_auth_policy_members_state = 'no_guard'
                        then 'no Guard: no policy can enforce SSO' else '' end, '')
        end,
        exists (select 1 from no_mfa where no_mfa.org_id = context.org_id),
        (select {{ dbt.cast('count(*)', dbt.type_string()) }} from no_mfa where no_mfa.org_id = context.org_id)
            || ' live managed account(s) without 2SV and not SSO-enforced'
    from context

    union all
    select
        context.org_id, 'POSTURE-004',
        case
            when context.org_auth_policy_members_state = 'no_guard' then 'not_evaluable'
            when context.org_users_state <> 'collected' or context.org_auth_policy_members_state <> 'collected'
                then 'not_evaluable'
            when not context.is_auth_policies_attested then 'manual'
            else 'evaluated'
        end,
        case
            when context.org_auth_policy_members_state = 'no_guard' then 'no Atlassian Guard: the endpoint answers 403/404'
            when context.org_users_state <> 'collected' then 'org_users not collected'
            when context.org_auth_policy_members_state <> 'collected' then 'org_auth_policy_members not collected'
            when not context.is_auth_policies_attested then 'policy SSO flags need an attestation (auth_policies)'
        end,
        exists (select 1 from not_sso_users as n where n.org_id = context.org_id),
        (select {{ dbt.cast('count(*)', dbt.type_string()) }} from not_sso_users as n where n.org_id = context.org_id)
            || ' managed account(s) with product access outside an SSO-enforced policy'
    from context

    union all
    select
        context.org_id, 'POSTURE-005',
        case when context.org_api_tokens_state = 'collected' then 'evaluated' else 'not_evaluable' end,
        case when context.org_api_tokens_state <> 'collected' then 'org_api_tokens not collected' end,
        exists (select 1 from tokens where tokens.org_id = context.org_id and tokens.is_long_lived),
        (select {{ dbt.cast('count(distinct account_id)', dbt.type_string()) }} from tokens
         where tokens.org_id = context.org_id and tokens.is_long_lived)
            || ' account(s) with a live API token without expiry or over {{ var("token_max_lifetime_days") }} days'
    from context

    union all
    select
        context.org_id, 'POSTURE-006',
        case when context.org_api_tokens_state = 'collected' then 'evaluated' else 'not_evaluable' end,
        case when context.org_api_tokens_state <> 'collected' then 'org_api_tokens not collected' end,
        exists (select 1 from tokens where tokens.org_id = context.org_id and tokens.is_stale),
        (select {{ dbt.cast('count(distinct account_id)', dbt.type_string()) }} from tokens
         where tokens.org_id = context.org_id and tokens.is_stale)
            || ' account(s) with a live API token never used or unused'
    from context

    union all
    select
        context.org_id, 'POSTURE-007',
        case
            when context.org_policies_state = 'no_guard' then 'not_evaluable'
            when single_settings.external_token_access is null then 'manual'
            else 'evaluated'
        end,
        case
            when context.org_policies_state = 'no_guard' then 'no Atlassian Guard: the endpoint answers 403/404'
            when single_settings.external_token_access is null then 'external-user policy has no read API'
        end,
        coalesce(single_settings.external_token_access = 'allow', false),
        'external users may use API tokens (attested: ' || coalesce(single_settings.external_token_access, '') || ')'
    from context
    left join single_settings on context.org_id = single_settings.org_id

    union all
    select
        context.org_id, 'POSTURE-008',
        case when context.org_policies_state = 'collected' then 'evaluated' else 'not_evaluable' end,
        case when context.org_policies_state = 'no_guard' then 'no Atlassian Guard: the endpoint answers 403/404'
             when context.org_policies_state <> 'collected' then 'org_policies not collected' end,
        not exists (
            select 1 from policies
            inner join policy_resources on policies.policy_row_id = policy_resources.parent_row_id
            where policies.org_id = context.org_id and policies.policy_type = 'ip-allowlist'
              and policies.policy_status = 'enabled'
              and (policy_resources.resource_id like 'ari:cloud:jira::site/%'
                   or policy_resources.resource_id like 'ari:cloud:confluence::site/%')
        ),
        'no enabled IP allowlist covers a Jira or Confluence site'
    from context

    union all
    select
        context.org_id, 'POSTURE-009',
        case when context.org_data_security_policies_state = 'collected' then 'evaluated' else 'not_evaluable' end,
        case when context.org_data_security_policies_state = 'no_guard' then 'no Atlassian Guard: the endpoint answers 403/404'
             when context.org_data_security_policies_state <> 'collected' then 'org_data_security_policies not collected' end,
        not exists (select 1 from data_security_policies as d where d.org_id = context.org_id)
            or exists (select 1 from data_security_policies as d where d.org_id = context.org_id
                       and coalesce(d.rule_policy_coverage_level, d.metadata_policy_coverage_level) = 'UNASSIGNED'),
        'no active data security policy, or one with coverage UNASSIGNED'
    from context

    union all
    select
        context.org_id, 'POSTURE-010',
        case when context.org_policies_state = 'collected' then 'evaluated' else 'not_evaluable' end,
        case when context.org_policies_state = 'no_guard' then 'no Atlassian Guard: the endpoint answers 403/404'
             when context.org_policies_state <> 'collected' then 'org_policies not collected'
             when residency.realm is null then 'no residency requirement configured' end,
        residency.realm is not null and not exists (
            select 1 from policies
            inner join policy_realms on policies.policy_row_id = policy_realms.parent_row_id
            where policies.org_id = context.org_id and policies.policy_type = 'data-residency'
              and policies.policy_status = 'enabled' and policy_realms.realm = residency.realm
        ),
        'no enabled data-residency policy pins realm ' || coalesce(residency.realm, '')
    from context
    left join residency on context.org_id = residency.org_id

    union all
    select
        context.org_id, 'POSTURE-011',
        case when context.org_users_state = 'collected' then 'evaluated' else 'not_evaluable' end,
        case when context.org_users_state <> 'collected' then 'org_users not collected' end,
        (select count(*) from org_admins as a where a.org_id = context.org_id and a.is_live) > {{ var('org_admins_max') }}
            or exists (select 1 from org_admins as a where a.org_id = context.org_id and a.claim_status <> 'managed'),
        (select {{ dbt.cast('count(*)', dbt.type_string()) }} from org_admins as a where a.org_id = context.org_id and a.is_live)
            || ' live org admins, '
            || (select {{ dbt.cast('count(*)', dbt.type_string()) }} from org_admins as a
                where a.org_id = context.org_id and a.claim_status <> 'managed')
            || ' unmanaged: '
            || coalesce((select {{ dbt.listagg('coalesce(a.email, a.account_id)', "', '", 'order by coalesce(a.email, a.account_id)') }}
                         from org_admins as a where a.org_id = context.org_id), '')
    from context

    union all
    select
        context.org_id, 'POSTURE-012',
        case when exists (select 1 from approved_domains as a where a.org_id = context.org_id)
             then 'evaluated' else 'manual' end,
        case when not exists (select 1 from approved_domains as a where a.org_id = context.org_id)
             then 'user access settings have no read API' end,
        exists (select 1 from approved_domains as a
                where a.org_id = context.org_id and a.domain_name is not null
                  and (a.admin_approval_required = 0
                       or lower(a.domain_name) in (select domain_name from public_domains))),
        'an approved domain joins without admin approval or is a public mail domain'
    from context

    union all
    select
        context.org_id, 'POSTURE-013',
        case when single_settings.user_invites_open is null or single_settings.invite_links_active is null
             then 'manual' else 'evaluated' end,
        case when single_settings.user_invites_open is null or single_settings.invite_links_active is null
             then 'site access settings have no read API' end,
        coalesce(lower(single_settings.user_invites_open) = 'true' or lower(single_settings.invite_links_active) = 'true', false),
        'user invites open: ' || coalesce(single_settings.user_invites_open, '?')
            || ', invite link active: ' || coalesce(single_settings.invite_links_active, '?')
    from context
    left join single_settings on context.org_id = single_settings.org_id

    union all
    select
        context.org_id, 'POSTURE-015', 'not_computable', 'the org API keys list (API Access REST) has no confirmed schema: not collected',
        cast(null as {{ dbt.type_boolean() }}), cast(null as {{ dbt.type_string() }})
    from context
),

org_rows as (
    select
        org_level.org_id,
        org_level.check_id,
        org_level.status,
        org_level.reason,
        context.org_resource_key as resource_key,
        'org' as resource_type,
        context.org_id as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        case when org_level.status = 'evaluated' then org_level.is_failing end as is_failing,
        case when org_level.status = 'evaluated' and org_level.is_failing then org_level.evidence end as evidence
    from org_level
    inner join context on org_level.org_id = context.org_id
),

-- POSTURE-002: per domain
domains as (
    select context.org_id, context.org_users_state, context.org_domains_state, d.domain_name, d.claim_status
    from {{ ref('stg_org__org_domains') }} as d
    inner join context on d.org_key = context.org_key
    where d.is_current
),

domain_rows as (
    select
        domains.org_id,
        'POSTURE-002' as check_id,
        'evaluated' as status,
        cast(null as {{ dbt.type_string() }}) as reason,
        'domain:' || domains.domain_name as resource_key,
        'domain' as resource_type,
        domains.domain_name as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        (domains.claim_status in ('unverified', 'missing_token', 'superseded', 'deleted')
            and exists (select 1 from accounts where accounts.org_id = domains.org_id and accounts.is_live
                        and accounts.email_domain = lower(domains.domain_name))) as is_failing,
        case when domains.claim_status in ('unverified', 'missing_token', 'superseded', 'deleted')
            and exists (select 1 from accounts where accounts.org_id = domains.org_id and accounts.is_live
                        and accounts.email_domain = lower(domains.domain_name))
            then 'domain is ' || domains.claim_status || ' and ' ||
                (select {{ dbt.cast('count(*)', dbt.type_string()) }} from accounts where accounts.org_id = domains.org_id
                 and accounts.is_live and accounts.email_domain = lower(domains.domain_name)) || ' live account(s) use it'
        end as evidence
    from domains
    where domains.org_users_state = 'collected' and domains.org_domains_state = 'collected'
),

domain_fallback as (
    select
        context.org_id, 'POSTURE-002' as check_id,
        case when context.org_users_state = 'collected' and context.org_domains_state = 'collected'
             then 'evaluated' else 'not_evaluable' end as status,
        case when context.org_domains_state <> 'collected' then 'org_domains not collected'
             when context.org_users_state <> 'collected' then 'org_users not collected' end as reason,
        case when context.org_users_state = 'collected' and context.org_domains_state = 'collected'
             then cast(null as {{ dbt.type_string() }}) else context.org_resource_key end as resource_key,
        case when context.org_users_state = 'collected' and context.org_domains_state = 'collected'
             then cast(null as {{ dbt.type_string() }}) else 'org' end as resource_type,
        cast(null as {{ dbt.type_string() }}) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        case when context.org_users_state = 'collected' and context.org_domains_state = 'collected'
             then false end as is_failing,
        cast(null as {{ dbt.type_string() }}) as evidence
    from context
    where not exists (select 1 from domain_rows where domain_rows.org_id = context.org_id)
),

-- POSTURE-027: per Jira deployment
jira_coverage as (
    select
        org_id,
        site_ref,
        max(deployment) as deployment,
        min(case when resource_name in ('jira_global_permission_probe', 'jira_group_members')
                 then case when is_collected then 1 else 0 end end) as is_collected
    from {{ ref('int_coverage_latest') }}
    where product = 'jira' and site_ref is not null
    group by org_id, site_ref
),

holders as (
    select * from {{ ref('int_identity__jira_admin_holders') }}
),

holder_summary as (
    select
        org_id,
        site_ref,
        count(distinct account_id) as holder_count,
        count(distinct case when problem is not null then account_id end) as problem_count,
        {{ dbt.listagg("holder_name || case when problem is not null then ' (' || problem || ')' else '' end", "', '",
                       'order by holder_name') }} as holder_list
    from (select distinct org_id, site_ref, account_id, holder_name, problem from holders) as distinct_holders
    group by org_id, site_ref
),

site_rows as (
    select
        jira_coverage.org_id,
        'POSTURE-027' as check_id,
        'evaluated' as status,
        cast(null as {{ dbt.type_string() }}) as reason,
        'site:' || jira_coverage.site_ref as resource_key,
        'site' as resource_type,
        jira_coverage.site_ref as resource_name,
        jira_coverage.site_ref,
        'jira' as product,
        coalesce(holder_summary.holder_count, 0) > {{ var('jira_admins_max') }}
            or coalesce(holder_summary.problem_count, 0) > 0 as is_failing,
        case when coalesce(holder_summary.holder_count, 0) > {{ var('jira_admins_max') }}
                  or coalesce(holder_summary.problem_count, 0) > 0
             then {{ dbt.cast('holder_summary.holder_count', dbt.type_string()) }} || ' Jira admins: '
                  || holder_summary.holder_list end as evidence
    from jira_coverage
    left join holder_summary
        on jira_coverage.org_id = holder_summary.org_id and jira_coverage.site_ref = holder_summary.site_ref
    where jira_coverage.is_collected = 1
),

site_fallback as (
    select
        context.org_id, 'POSTURE-027' as check_id, 'not_evaluable' as status,
        'no Jira deployment with collected admin groups and members' as reason,
        context.org_resource_key as resource_key, 'org' as resource_type,
        cast(null as {{ dbt.type_string() }}) as resource_name, cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product, cast(null as {{ dbt.type_boolean() }}) as is_failing,
        cast(null as {{ dbt.type_string() }}) as evidence
    from context
    where not exists (select 1 from site_rows where site_rows.org_id = context.org_id)
)

select * from org_rows
union all
select * from domain_rows
union all
select * from domain_fallback
union all
select * from site_rows
union all
select * from site_fallback
