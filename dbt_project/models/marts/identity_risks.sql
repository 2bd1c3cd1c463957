-- One row per account (Cloud accounts and Data Center users), unified across the organization,
-- Jira, Confluence and Data Center: access, admin power, MFA, activity, and a risk score.
with accounts as (
    select * from {{ ref('int_accounts') }}
),

signals as (
    select * from {{ ref('identity_signals') }}
),

levels as (
    {{ signal_scores('signals', 'account_key') }}
),

integration as (
    select * from {{ ref('int_identity__integration_accounts') }}
)

select
    accounts.account_key,
    accounts.org_id,
    orgs.org_key,
    accounts.account_id,
    accounts.deployment,
    accounts.display_name,
    accounts.email,
    accounts.email_domain,
    accounts.account_type,
    accounts.account_status,
    accounts.membership_status,
    accounts.claim_status,
    accounts.management_source,
    accounts.product_keys,
    accounts.platform_roles,
    accounts.auth_policy_id,
    accounts.is_live,
    accounts.has_product_access,
    accounts.is_managed,
    accounts.is_external,
    accounts.is_guest,
    accounts.mfa_enabled,
    accounts.email_verified,
    accounts.is_org_admin,
    accounts.is_product_admin,
    accounts.is_privileged,
    accounts.is_in_admin_group,
    accounts.added_to_org_at,
    accounts.last_active_at,
    coalesce(levels.weight_sum, 0) as risk_score,
    coalesce(levels.risk_level, 'none') as risk_level,
    coalesce(levels.signal_count, 0) as signal_count,
    levels.signals,
    levels.signal_evidence,
    integration.account_key is not null as is_integration_account,
    integration.concern_signals as integration_concerns,
    -- the integration's own account is ranked only for what its job does not explain
    (integration.account_key is null or integration.concern_signals is not null) as is_ranked,
    orgs.as_of as evaluated_at
from accounts
inner join {{ ref('int_orgs') }} as orgs on accounts.org_id = orgs.org_id
left join levels on accounts.org_id = levels.org_id and accounts.account_key = levels.account_key
left join integration on accounts.org_id = integration.org_id and accounts.account_key = integration.account_key
