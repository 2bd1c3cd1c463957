-- Cloud accounts in an authentication policy attested `sso_enforced = true` (the rule book; `_sso_members`). Without Guard there are no policies, so nobody; with Guard and no attestation
-- the set is unknown and the checks that need it are manual (see int_identity__org_context).
with sso_policies as (
    select distinct org_id, setting_scope as policy_id
    from {{ ref('int_posture_settings') }}
    where setting_source = 'attestation'
      and setting_name = 'auth_policies'
      and setting_field = 'sso_enforced'
      and lower(setting_value) = 'true'
)

select
    accounts.org_id,
    accounts.account_id,
    accounts.account_key,
    accounts.auth_policy_id
from {{ ref('int_accounts') }} as accounts
inner join sso_policies
    on accounts.org_id = sso_policies.org_id and accounts.auth_policy_id = sso_policies.policy_id
where accounts.deployment = 'cloud'
