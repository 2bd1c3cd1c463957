-- Groups holding Jira's global ADMINISTER, per Jira deployment (Cloud site or DC instance).
-- No API lists global permission holders: the group picker, called with the admin credential,
-- labels such groups `ADMIN` (jira_global_permission_probe).
with probe as (
    select * from {{ ref('stg_directory__jira_global_permission_probe') }}
    where is_current and label_type = 'ADMIN'
),

orgs as (
    select org_id, org_key from {{ ref('int_orgs') }}
)

select distinct
    orgs.org_id,
    probe.site_ref,
    probe.deployment,
    probe.group_name,
    case when probe.deployment = 'dc' then probe.group_name else coalesce(probe.group_id, probe.group_name) end as group_id
from probe
inner join orgs on probe.org_key = orgs.org_key
