-- Per-account identity signals IDENT-001..015 (the rule book; IDENT-003 from
-- `org_checks`): one row per (org, check, account) that fires, with a short evidence sentence.
-- Whether a check is evaluated at all for the org is int_results__identity's business.
with context as (
    select * from {{ ref('int_identity__org_context') }}
),

accounts as (
    select accounts.*, context.as_of
    from {{ ref('int_accounts') }} as accounts
    inner join context on accounts.org_id = context.org_id
    where accounts.deployment = 'cloud'
),

sso as (
    select org_id, account_id from {{ ref('int_identity__sso_members') }}
),

token_summary as (
    select
        org_id,
        account_id,
        count(*) as live_tokens,
        max(case when is_long_lived then 1 else 0 end) as has_long_lived,
        max(case when is_stale then 1 else 0 end) as has_stale
    from {{ ref('int_identity__live_tokens') }}
    group by org_id, account_id
),

enriched as (
    select
        accounts.*,
        coalesce(token_summary.live_tokens, 0) as live_tokens,
        coalesce(token_summary.has_long_lived, 0) = 1 as has_long_lived_token,
        coalesce(token_summary.has_stale, 0) = 1 as has_stale_token,
        exists (select 1 from sso where sso.org_id = accounts.org_id and sso.account_id = accounts.account_id)
            as is_sso_enforced,
        cast(cast(accounts.last_active_at as date) as {{ dbt.type_string() }}) as last_active_day
    from accounts
    left join token_summary on accounts.org_id = token_summary.org_id and accounts.account_id = token_summary.account_id
),

signals as (
    select org_id, 'IDENT-001' as check_id, account_id, 'last active ' || last_active_day
        || ', more than {{ var("dormant_days") }} days ago, with product access' as evidence
    from enriched
    where has_product_access and last_active_at < {{ dbt.dateadd('day', -1 * var('dormant_days'), 'as_of') }}
    union all
    select org_id, 'IDENT-002', account_id, 'product access, never active, added to the org more than {{ var("never_used_days") }} days ago'
    from enriched
    where has_product_access and last_active_at is null
      and added_to_org_at < {{ dbt.dateadd('day', -1 * var('never_used_days'), 'as_of') }}
    union all
    select org_id, 'IDENT-003', account_id, 'org-level admin (' || coalesce(platform_roles, '') || ') without 2SV and not SSO-enforced'
    from enriched
    where is_org_admin and not coalesce(mfa_enabled, false) and not is_sso_enforced
    union all
    select org_id, 'IDENT-004', account_id, 'holds org-level admin role(s) ' || coalesce(platform_roles, '')
    from enriched where is_org_admin
    union all
    select org_id, 'IDENT-005', account_id, 'product admin (admin role or admin group member)'
    from enriched where is_product_admin
    union all
    select org_id, 'IDENT-006', account_id, 'privileged, last active ' || coalesce(last_active_day, 'never')
    from enriched
    where is_privileged
      and (last_active_at is null or last_active_at < {{ dbt.dateadd('day', -1 * var('dormant_privileged_days'), 'as_of') }})
    union all
    select org_id, 'IDENT-007', account_id, 'external account (' || coalesce(claim_status, '') || ', domain '
        || coalesce(email_domain, 'none') || ') with product access'
    from enriched where has_product_access and is_external
    union all
    select org_id, 'IDENT-008', account_id, 'external privileged account with product access'
    from enriched where has_product_access and is_external and is_privileged
    union all
    select enriched.org_id, 'IDENT-009', enriched.account_id, 'managed account invited while the org syncs users by SCIM'
    from enriched
    inner join context on enriched.org_id = context.org_id
    where context.has_scim_directory and enriched.account_type = 'atlassian' and enriched.claim_status = 'managed'
      and enriched.management_source = 'invited'
    union all
    select org_id, 'IDENT-010', account_id, 'live API token without expiry or lasting more than {{ var("token_max_lifetime_days") }} days'
    from enriched where has_long_lived_token
    union all
    select org_id, 'IDENT-011', account_id, 'live API token never used or unused for long'
    from enriched where has_stale_token
    union all
    select org_id, 'IDENT-012', account_id, 'privileged account with ' || {{ dbt.cast('live_tokens', dbt.type_string()) }} || ' live API token(s)'
    from enriched where is_privileged and live_tokens > 0
    union all
    select org_id, 'IDENT-013', account_id, {{ dbt.cast('live_tokens', dbt.type_string()) }} || ' live API tokens'
    from enriched where live_tokens >= {{ var('token_sprawl') }}
    union all
    select org_id, 'IDENT-014', account_id, 'account ' || account_status || '/' || membership_status
        || ' still holds an admin role or admin group membership'
    from enriched
    where (membership_status = 'suspended' or account_status = 'inactive') and (is_org_admin or is_in_admin_group)
    union all
    select org_id, 'IDENT-015', account_id, 'e-mail not verified, with product access'
    from enriched where email_verified = false and has_product_access
)

select org_id, check_id, account_id, 'account:' || account_id as account_key, evidence from signals
