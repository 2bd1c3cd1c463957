-- Identity signals that come from permissions (the rule book):
--   IDENT-020 a direct principal: a `user` holder of a grant on a live project, a direct user actor of any
--             role on a live project, or a `user` principal on any space (Cloud and DC; DC: username);
--   IDENT-021 direct user actor of the role `Administrators` on more than project_admin_projects live
--             projects of one Jira deployment (group actors are not expanded);
--   IDENT-022 a guest or unmanaged Cloud account that directly holds CREATE_ISSUES / EDIT_ISSUES on a live
--             project (user holder, or direct actor of a role holding it) or create / update on a space.
-- Failing rows only; when nothing fails for an org, one row with a null resource key.
{%- set checks = ['IDENT-020', 'IDENT-021', 'IDENT-022'] %}
with orgs as (
    select * from {{ ref('int_orgs') }}
),

grants as (
    select * from {{ ref('int_jira__project_grants') }}
),

actors as (
    select * from {{ ref('int_jira__project_role_actors') }}
),

space_permissions as (
    select * from {{ ref('int_confluence__space_permissions') }}
),

risky_accounts as (
    select org_id, account_id
    from {{ ref('int_accounts') }}
    where deployment = 'cloud' and (coalesce(is_guest, false) or claim_status = 'unmanaged')
),

direct_principals as (
    select org_id, holder_value as account_id,
           'holds ' || permission_key || ' directly on project ' || site_ref || ':' || project_key as evidence
    from grants where holder_type = 'user' and holder_value is not null
    union all
    select org_id, actor_value,
           'direct actor of role ' || role_name || ' on project ' || site_ref || ':' || project_key
    from actors where actor_type = 'user' and actor_value is not null
    union all
    select org_id, principal_id,
           'holds ' || operation || ' on ' || target_type || ' directly in space ' || site_ref || ':' || space_key
    from space_permissions where principal_type = 'user' and principal_id is not null
),

writer_roles as (
    select distinct org_id, site_ref, project_key, holder_value as role_id
    from grants
    where holder_type = 'projectRole' and permission_key in ('CREATE_ISSUES', 'EDIT_ISSUES')
),

direct_writers as (
    select org_id, holder_value as account_id,
           'holds ' || permission_key || ' directly on project ' || site_ref || ':' || project_key as evidence
    from grants
    where deployment = 'cloud' and holder_type = 'user' and permission_key in ('CREATE_ISSUES', 'EDIT_ISSUES')
    union all
    select actors.org_id, actors.actor_value,
           'direct actor of role ' || actors.role_name || ' (create/edit issues) on project ' || actors.site_ref || ':' || actors.project_key
    from actors
    inner join writer_roles
        on actors.org_id = writer_roles.org_id and actors.site_ref = writer_roles.site_ref
        and actors.project_key = writer_roles.project_key and actors.role_id = writer_roles.role_id
    where actors.deployment = 'cloud' and actors.actor_type = 'user'
    union all
    select org_id, principal_id,
           'holds ' || operation || ' on ' || target_type || ' directly in space ' || site_ref || ':' || space_key
    from space_permissions
    where deployment = 'cloud' and principal_type = 'user' and operation in ('create', 'update')
),

project_admins as (
    select org_id, site_ref, actor_value as account_id, count(distinct project_key) as project_count
    from actors
    where actor_type = 'user' and role_name = 'Administrators'
    group by org_id, site_ref, actor_value
),

fails as (
    select org_id, 'IDENT-020' as check_id, account_id, min(evidence) as evidence
    from direct_principals
    group by org_id, account_id
    union all
    select org_id, 'IDENT-021', account_id,
           'direct Administrators actor on ' || cast(max(project_count) as {{ dbt.type_string() }}) || ' live projects of ' || min(site_ref)
    from project_admins
    where project_count > {{ var('project_admin_projects') }}
    group by org_id, account_id
    union all
    select direct_writers.org_id, 'IDENT-022', direct_writers.account_id,
           'guest or unmanaged account ' || min(direct_writers.evidence)
    from direct_writers
    inner join risky_accounts
        on direct_writers.org_id = risky_accounts.org_id and direct_writers.account_id = risky_accounts.account_id
    group by direct_writers.org_id, direct_writers.account_id
),

names as (
    select org_id, account_id, max(coalesce(email, display_name, account_id)) as resource_name
    from {{ ref('int_accounts') }}
    group by org_id, account_id
),

check_list as (
    {%- for check_id in checks %}
    select '{{ check_id }}' as check_id {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

failing_rows as (
    select
        fails.org_id,
        fails.check_id,
        'evaluated' as status,
        cast(null as {{ dbt.type_string() }}) as reason,
        'account:' || fails.account_id as resource_key,
        'account' as resource_type,
        coalesce(names.resource_name, fails.account_id) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        true as is_failing,
        fails.evidence
    from fails
    inner join orgs on fails.org_id = orgs.org_id
    left join names on fails.org_id = names.org_id and fails.account_id = names.account_id
),

passing_rows as (
    select
        orgs.org_id,
        check_list.check_id,
        'evaluated' as status,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_string() }}) as resource_key,
        cast(null as {{ dbt.type_string() }}) as resource_type,
        cast(null as {{ dbt.type_string() }}) as resource_name,
        cast(null as {{ dbt.type_string() }}) as site_ref,
        'org' as product,
        false as is_failing,
        cast(null as {{ dbt.type_string() }}) as evidence
    from orgs
    cross join check_list
    where not exists (select 1 from fails where fails.org_id = orgs.org_id and fails.check_id = check_list.check_id)
)

select * from failing_rows
union all
select * from passing_rows
