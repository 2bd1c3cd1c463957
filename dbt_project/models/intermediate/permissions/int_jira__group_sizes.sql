-- Member count of every group a Jira grant, role actor or Confluence space permission can name:
-- Cloud groups by group id in the org directory (site_ref null), DC groups by name per instance.
select
    org_id,
    deployment,
    site_ref,
    group_id,
    max(group_name) as group_name,
    count(distinct account_id) as member_count
from {{ ref('int_group_memberships') }}
group by org_id, deployment, site_ref, group_id
