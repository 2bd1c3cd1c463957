-- Live API tokens (status ALLOWED, not expired at the org's clock) with the token rules of
-- POSTURE-005/006 and IDENT-010/011: long-lived (no expiry or lifetime > token_max_lifetime_days),
-- stale (never used and created > token_never_used_days ago, or last used > token_unused_days ago).
with context as (
    select org_id, org_key, as_of from {{ ref('int_identity__org_context') }}
),

tokens as (
    select * from {{ ref('stg_org__org_api_tokens') }} where is_current
)

select
    context.org_id,
    tokens.token_id,
    tokens.account_id,
    'account:' || tokens.account_id as account_key,
    tokens.token_label,
    tokens.created_at,
    tokens.expires_at,
    tokens.last_active_at,
    (tokens.expires_at is null
        or tokens.expires_at > {{ dbt.dateadd('day', var('token_max_lifetime_days'), 'tokens.created_at') }}) as is_long_lived,
    ((tokens.last_active_at is null
        and tokens.created_at < {{ dbt.dateadd('day', -1 * var('token_never_used_days'), 'context.as_of') }})
     or (tokens.last_active_at is not null
        and tokens.last_active_at < {{ dbt.dateadd('day', -1 * var('token_unused_days'), 'context.as_of') }})) as is_stale
from tokens
inner join context on tokens.org_key = context.org_key
where tokens.token_status = 'ALLOWED'
  and (tokens.expires_at is null or tokens.expires_at > context.as_of)
