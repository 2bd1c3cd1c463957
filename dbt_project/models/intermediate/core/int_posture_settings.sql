-- The organization's policy inputs and attested settings (raw.posture_settings), by org id.
select
    orgs.org_id,
    settings.setting_source,
    settings.setting_name,
    settings.setting_scope,
    settings.setting_field,
    settings.setting_value
from {{ ref('stg_connector__posture_settings') }} as settings
inner join {{ ref('int_orgs') }} as orgs on settings.org_key = orgs.org_key
