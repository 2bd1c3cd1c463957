-- PLUGIN-013 input (the rule book): Cloud Jira sites where a sensitive project's permission
-- scheme grants BROWSE_PROJECTS to the project role `atlassian-addons-project-access` (Jira adds every
-- Connect app user to that role). Live projects only; sensitive = config sensitive_projects.
with sensitive as (
    select distinct org_id, setting_scope as project_key
    from {{ ref('int_posture_settings') }}
    where setting_source = 'config' and setting_name = 'sensitive_projects' and setting_scope is not null
)

select distinct
    grants.org_id,
    grants.site_ref
from {{ ref('int_jira__project_grants') }} as grants
inner join sensitive on grants.org_id = sensitive.org_id and grants.project_key = sensitive.project_key
where grants.deployment = 'cloud'
  and grants.permission_key = 'BROWSE_PROJECTS'
  and grants.holder_type = 'projectRole'
  and grants.role_name = 'atlassian-addons-project-access'
