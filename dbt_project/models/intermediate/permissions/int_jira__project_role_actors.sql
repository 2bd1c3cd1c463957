-- Actors of the project roles of live Jira projects (Cloud and DC): one row per (project, role, actor).
-- actor_value is the account id (Cloud) / username (DC) of a user actor, the group id (Cloud) / group
-- name (DC) of a group actor.
with projects as (
    select * from {{ ref('stg_jira__jira_projects') }}
    where is_current and not coalesce(is_archived_raw, false)
),

actors as (
    select * from {{ ref('stg_jira__jira_role_actors') }} where is_current
),

roles as (
    select org_id, site_ref, role_id, max(role_name) as role_name
    from {{ ref('stg_jira__jira_project_roles') }}
    where is_current
    group by org_id, site_ref, role_id
)

select distinct
    projects.org_id,
    projects.site_ref,
    projects.deployment,
    projects.project_id,
    projects.project_key,
    projects.project_name,
    actors.role_id,
    coalesce(roles.role_name, actors.role_name) as role_name,
    case when actors.actor_type_raw like '%user%' then 'user' else 'group' end as actor_type,
    case
        when actors.actor_type_raw like '%user%' then coalesce(actors.actor_account_id, actors.actor_name)
        else coalesce(actors.actor_group_id, actors.actor_name, actors.actor_group_name_raw)
    end as actor_value,
    case
        when actors.actor_type_raw like '%user%' then coalesce(actors.actor_display_name, actors.actor_account_id, actors.actor_name)
        else coalesce(actors.actor_group_name_raw, actors.actor_name, actors.actor_display_name)
    end as actor_name
from projects
inner join actors
    on projects.org_id = actors.org_id
    and projects.site_ref = actors.site_ref
    and projects.project_id = actors.project_id
left join roles
    on actors.org_id = roles.org_id
    and actors.site_ref = roles.site_ref
    and actors.role_id = roles.role_id
