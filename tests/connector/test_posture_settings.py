"""Policy inputs and the attestation file: flattened to rows, bad files refused in one line."""

from __future__ import annotations

import pytest
from atlassian_posture.connector.config import ConfigError, load_tenants
from atlassian_posture.connector.posture_settings import settings_rows

ORG = {"sites": {"acme": {"url": "https://acme.atlassian.net", "email": "r@acme.com"}}}
SECRETS = {"acme": {"sites": {"acme": "token"}}}


def test_attestation_file_and_policy_inputs_become_rows(tmp_path):
    path = tmp_path / "attestation.toml"
    path.write_text('external_user_api_token_access = "block"\nbreak_glass_policy_ids = []\n'
                    '[auth_policies.p1]\nsso_enforced = true\n'
                    '[jsm_customer_access.acme]\nopen = false\n')
    (tenant,) = load_tenants({"acme": {**ORG, "attestation_file": str(path), "sensitive_projects": ["FIN"]}}, SECRETS)
    rows = {(r["source"], r["setting"], r["scope"], r["field"], r["value"])
            for r in settings_rows(tenant.key, "org-1", tenant.policy, tenant.attestation)}
    assert ("attestation", "external_user_api_token_access", None, None, "block") in rows
    assert ("attestation", "auth_policies", "p1", "sso_enforced", "true") in rows
    assert ("attestation", "break_glass_policy_ids", None, None, None) in rows  # attested as empty
    assert ("attestation", "jsm_customer_access", "acme", "open", "false") in rows
    assert ("config", "sensitive_projects", "FIN", None, "true") in rows
    assert ("connector", "settings_read", None, "attestation_given", "true") in rows


def test_list_of_objects_is_keyed_by_its_identifying_field():
    rows = settings_rows("acme", None, {}, {"approved_domains": [{"domain": "acme.com", "admin_approval_required": False}]})
    assert {(r["scope"], r["field"], r["value"]) for r in rows if r["setting"] == "approved_domains"} == {
        ("acme.com", "admin_approval_required", "false")}


def test_without_attestation_only_the_read_marker_is_loaded():
    (tenant,) = load_tenants({"acme": ORG}, SECRETS)
    assert settings_rows(tenant.key, None, tenant.policy, tenant.attestation) == [
        {"org_key": "acme", "org_id": None, "source": "connector", "setting": "settings_read", "scope": None,
         "field": "attestation_given", "value": "false"}]


@pytest.mark.parametrize("name, text, message", [
    ("missing.toml", None, "cannot read attestation file"),
    ("bad.toml", "this is = = not toml", "is not valid TOML"),
    ("bad.json", "{not json", "is not valid JSON"),
])
def test_a_bad_attestation_file_is_one_line_naming_the_key(tmp_path, name, text, message):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_tenants({"acme": {**ORG, "attestation_file": str(path)}}, SECRETS)
    assert message in str(error.value)
    assert "sources.atlassian.orgs.acme.attestation_file" in str(error.value)
    assert "\n" not in str(error.value)


def test_policy_lists_must_be_lists_of_strings():
    with pytest.raises(ConfigError, match="sensitive_projects must be a list of strings"):
        load_tenants({"acme": {**ORG, "sensitive_projects": "FIN"}}, SECRETS)


def test_each_cloud_site_names_the_account_it_reads_as():
    """The e-mail of each site's API token is loaded, so the marts can label the integration's own account."""
    from atlassian_posture.connector.posture_settings import integration_rows

    tenant = load_tenants({"acme": {"sites": {"a": {"url": "https://a.atlassian.net", "email": "reader@acme.com"}},
                                    "data_center": {"j": {"product": "jira", "url": "https://jira.acme.com"}}}},
                          {"acme": {"sites": {"a": "tok"}, "data_center": {"j": "pat"}}})[0]
    assert integration_rows(tenant.key, "org-1", tenant.sites) == [
        {"org_key": "acme", "org_id": "org-1", "source": "connector", "setting": "integration_account", "scope": "a",
         "field": "email", "value": "reader@acme.com"}]
