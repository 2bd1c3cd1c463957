-- One row per audit event and detection (AUDIT-*) it matched, with the event's who, what, where.
with results as (
    select * from {{ ref('int_check_results') }}
    where check_id like 'AUDIT-%' and status = 'evaluated' and is_failing
),

catalog as (
    select * from {{ ref('check_catalog') }}
),

events as (
    select * from {{ ref('audit_events') }}
),

with_org_key as (
    select
        {{ dbt.concat(['results.org_id', "'|'", 'results.resource_key', "'|'", 'results.check_id']) }} as detection_row_id,
        results.org_id,
        results.check_id as detection_id,
        catalog.title,
        catalog.severity,
        results.resource_key as event_key,
        events.source,
        events.site_ref,
        events.product,
        events.occurred_at,
        events.action,
        events.action_name,
        events.actor_account_id,
        events.actor_name,
        events.subject_account_id,
        events.ip_address,
        events.country,
        results.evidence,
        catalog.remediation
    from results
    left join catalog on results.check_id = catalog.check_id
    left join events on results.org_id = events.org_id and results.resource_key = events.event_key
)

-- the tenant's configured key beside its org id, as in every mart
select with_org_key.*, orgs.org_key
from with_org_key
left join {{ ref('int_orgs') }} as orgs on with_org_key.org_id = orgs.org_id
