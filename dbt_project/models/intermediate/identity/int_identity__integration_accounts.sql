-- The accounts this product reads as (the configured e-mail of each Cloud site's API token, the
-- username each Data Center instance says its token authenticates as), and
-- whether a signal fired on them that reading does not explain. A reader must be an admin holding a
-- token: organization/product admin, admin groups, direct grants, a token on a privileged human-looking
-- account are what the integration needs; no 2SV, a token that never expires or is stale, sign-ins
-- from odd places, a credential change, impersonation, external or dormant are wrong for it too.
with configured as (
    select distinct
        org_id,
        setting_field,
        lower(setting_value) as identifier
    from {{ ref('int_posture_settings') }}
    where
        setting_source = 'connector'
        and setting_name = 'integration_account'
        and setting_field in ('email', 'username')
        and setting_value is not null
),

accounts as (
    select distinct accounts.org_id, accounts.account_key
    from {{ ref('int_accounts') }} as accounts
    inner join configured
        on
            accounts.org_id = configured.org_id
            and (
                (configured.setting_field = 'email' and accounts.deployment = 'cloud'
                    and lower(accounts.email) = configured.identifier)
                or (configured.setting_field = 'username' and accounts.deployment = 'dc'
                    and lower(accounts.account_id) = configured.identifier)
            )
),

unexplained as (
    select
        results.org_id,
        results.resource_key as account_key,
        {{ dbt.listagg('results.check_id', "', '", "order by results.check_id") }} as concern_signals
    from {{ ref('int_check_results') }} as results
    inner join accounts
        on results.org_id = accounts.org_id
        and results.resource_key = accounts.account_key
    where
        results.check_id like 'IDENT-%'
        and results.status = 'evaluated'
        and results.is_failing
        and results.check_id not in (
        'IDENT-004', 'IDENT-005', 'IDENT-009', 'IDENT-012', 'IDENT-020', 'IDENT-021', 'IDENT-023'
    )
    group by results.org_id, results.resource_key
)

select
    accounts.org_id,
    accounts.account_key,
    unexplained.concern_signals
from accounts
left join unexplained
    on accounts.org_id = unexplained.org_id
    and accounts.account_key = unexplained.account_key
