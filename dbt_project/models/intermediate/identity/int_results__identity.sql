-- IDENT-001..015: per-account identity signals (the rule book for
-- IDENT-003 and the token signals). Failing rows per account; one passing row with a null key
-- when nothing fails; one org row when the org's data does not allow the check.
with context as (
    select * from {{ ref('int_identity__org_context') }}
),

accounts as (
    select * from {{ ref('int_accounts') }} where deployment = 'cloud'
),

signals as (
    select * from {{ ref('int_identity__account_signals') }}
),

checks as (
    {% set ids = ['IDENT-001', 'IDENT-002', 'IDENT-003', 'IDENT-004', 'IDENT-005', 'IDENT-006', 'IDENT-007', 'IDENT-008',
                  'IDENT-009', 'IDENT-010', 'IDENT-011', 'IDENT-012', 'IDENT-013', 'IDENT-014', 'IDENT-015'] %}
    {% for id in ids %}
    select
        org_id,
        org_resource_key,
        '{{ id }}' as check_id,
        {% if id == 'IDENT-003' %}
        case
            when org_users_state <> 'collected' then 'not_evaluable'
            when org_auth_policy_members_state = 'not_collected' then 'not_evaluable'
            when org_auth_policy_members_state = 'collected' and not is_auth_policies_attested then 'manual'
            else 'evaluated'
        end as status,
        case
            when org_users_state <> 'collected' then 'org_users not collected'
            when org_auth_policy_members_state = 'not_collected' then 'org_auth_policy_members not collected'
            when org_auth_policy_members_state = 'collected' and not is_auth_policies_attested
                then 'policy SSO flags need an attestation (auth_policies)'
            when org_auth_policy_members_state = 'no_guard' then 'no Guard: no policy can enforce SSO'
        end as reason
        {% elif id in ('IDENT-010', 'IDENT-011', 'IDENT-012', 'IDENT-013') %}
        case when org_users_state <> 'collected' or org_api_tokens_state <> 'collected' then 'not_evaluable'
             else 'evaluated' end as status,
        case when org_users_state <> 'collected' then 'org_users not collected'
             when org_api_tokens_state <> 'collected' then 'org_api_tokens not collected' end as reason
        {% elif id == 'IDENT-009' %}
        case when org_users_state <> 'collected' or org_directories_state <> 'collected' then 'not_evaluable'
             else 'evaluated' end as status,
        case when org_users_state <> 'collected' then 'org_users not collected'
             when org_directories_state <> 'collected' then 'org_directories not collected' end as reason
        {% else %}
        case when org_users_state <> 'collected' then 'not_evaluable' else 'evaluated' end as status,
        case when org_users_state <> 'collected' then 'org_users not collected' end as reason
        {% endif %}
    from context
    {{ "union all" if not loop.last }}
    {% endfor %}
),

failing as (
    select
        checks.org_id,
        checks.check_id,
        checks.status,
        checks.reason,
        accounts.account_key as resource_key,
        'account' as resource_type,
        coalesce(accounts.email, accounts.display_name, accounts.account_id) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        true as is_failing,
        signals.evidence
    from checks
    inner join signals on checks.org_id = signals.org_id and checks.check_id = signals.check_id
    inner join accounts on signals.org_id = accounts.org_id and signals.account_id = accounts.account_id
    where checks.status = 'evaluated'
),

passing as (
    select
        checks.org_id,
        checks.check_id,
        checks.status,
        checks.reason,
        cast(null as {{ dbt.type_string() }}) as resource_key,
        cast(null as {{ dbt.type_string() }}) as resource_type,
        cast(null as {{ dbt.type_string() }}) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        false as is_failing,
        cast(null as {{ dbt.type_string() }}) as evidence
    from checks
    where checks.status = 'evaluated'
      and not exists (select 1 from signals where signals.org_id = checks.org_id and signals.check_id = checks.check_id)
),

not_evaluated as (
    select
        org_id,
        check_id,
        status,
        reason,
        org_resource_key as resource_key,
        'org' as resource_type,
        cast(null as {{ dbt.type_string() }}) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        cast(null as {{ dbt.type_boolean() }}) as is_failing,
        cast(null as {{ dbt.type_string() }}) as evidence
    from checks
    where status <> 'evaluated'
)

select * from failing
union all
select * from passing
union all
select * from not_evaluated
