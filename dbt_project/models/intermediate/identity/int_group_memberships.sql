-- Who is in which group, per user directory: the org directory (Cloud, site_ref null) and each
-- Data Center instance (site_ref 'dc:<instance>', groups keyed by name). The org's users search
-- only lists Atlassian accounts, so app bots' and customers' Cloud memberships come from the
-- products' group-member listings (same group ids as the org directory).
with orgs as (
    select org_id, org_key from {{ ref('int_orgs') }}
),

org_groups as (
    select org_key, group_id, group_name from {{ ref('stg_org__org_groups') }} where is_current
),

cloud_product_groups as (
    select org_key, group_id, max(group_name) as group_name
    from {{ ref('stg_directory__jira_groups') }}
    where is_current and deployment = 'cloud' and group_id is not null
    group by org_key, group_id
    union all
    select org_key, group_id, max(group_name) as group_name
    from {{ ref('stg_directory__confluence_groups') }}
    where is_current and deployment = 'cloud' and group_id is not null
    group by org_key, group_id
),

cloud_members as (
    select org_key, group_id, account_id from {{ ref('stg_org__org_group_memberships') }}
    where is_current
    union
    select org_key, group_id, account_id from {{ ref('stg_directory__jira_group_members') }}
    where is_current and deployment = 'cloud' and account_id is not null
    union
    select org_key, group_id, account_id from {{ ref('stg_directory__confluence_group_members') }}
    where is_current and deployment = 'cloud' and account_id is not null
),

cloud as (
    select
        orgs.org_id,
        'cloud' as deployment,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        members.group_id,
        coalesce(
            (select max(g.group_name) from org_groups as g where g.org_key = members.org_key and g.group_id = members.group_id),
            (select max(p.group_name) from cloud_product_groups as p where p.org_key = members.org_key and p.group_id = members.group_id)
        ) as group_name,
        members.account_id
    from cloud_members as members
    inner join orgs on members.org_key = orgs.org_key
),

dc_members as (
    select org_key, site_ref, group_name, username from {{ ref('stg_directory__jira_group_members') }}
    where is_current and deployment = 'dc' and username is not null
    union
    select org_key, site_ref, group_name, username from {{ ref('stg_directory__confluence_group_members') }}
    where is_current and deployment = 'dc' and username is not null
),

dc as (
    select
        orgs.org_id,
        'dc' as deployment,
        dc_members.site_ref,
        dc_members.group_name as group_id,
        dc_members.group_name,
        dc_members.username as account_id
    from dc_members
    inner join orgs on dc_members.org_key = orgs.org_key
),

unioned as (
    select * from cloud
    union all
    select * from dc
)

select
    org_id,
    deployment,
    site_ref,
    group_id,
    group_name,
    account_id,
    'account:' || account_id as account_key
from unioned
