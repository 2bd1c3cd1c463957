"""Configuration from environment variables (issue 14 #8): the names the README documents are read,
with no `.dlt/` file at all, and they override the files key by key."""

import os
import subprocess
import sys

import duckdb
from atlassian_posture.connector.config import _merge, _renamed_like, env_settings, load_tenants


def _env_names(prefix: str, value: dict) -> dict[str, str]:
    """A nested config as `SOURCES__ATLASSIAN__...` variables: upper case, `-` as `_` (what a shell allows)."""
    out = {}
    for key, item in value.items():
        name = f"{prefix}__{key.upper().replace('-', '_')}"
        if isinstance(item, dict):
            out.update(_env_names(name, item))
        elif isinstance(item, list):
            out[name] = "[" + ", ".join(f'"{x}"' for x in item) + "]"
        else:
            out[name] = str(item)
    return out


def test_credentials_from_env_join_the_configured_names_whatever_their_case():
    orgs = {"Acme": {"sites": {"acme-prod": {"url": "https://acme.atlassian.net", "email": "r@acme.com"}},
                     "data_center": {"jira-prod": {"product": "jira", "url": "https://jira.acme.com"}}}}
    env = {"SOURCES__ATLASSIAN__CREDENTIALS__ACME__ADMIN_API_KEY": "k1",
           "SOURCES__ATLASSIAN__CREDENTIALS__ACME__SITES__ACME_PROD": "t1",
           "SOURCES__ATLASSIAN__CREDENTIALS__ACME__DATA_CENTER__JIRA_PROD": "123",
           "SOURCES__ATLASSIAN__ORGS__ACME__SITES__ACME_PROD__PRODUCTS": '["jira"]',
           "UNRELATED": "x"}
    env_orgs, env_credentials = env_settings(env)
    merged = _merge(orgs, env_orgs)
    [tenant] = load_tenants(merged, _renamed_like(env_credentials, merged))
    assert tenant.key == "Acme" and tenant.admin_api_key == "k1"
    assert [(s.name, s.token, s.products) for s in tenant.sites] == [("acme-prod", "t1", ("jira",))]
    assert [(d.name, d.token) for d in tenant.data_center] == [("jira-prod", "123")]  # a secret stays a string


def test_extract_reads_every_setting_from_env_with_no_dlt_files(served, tmp_path):
    sim, base = served
    orgs, credentials = sim.connector_config(base)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    env.update(_env_names("SOURCES__ATLASSIAN__ORGS", orgs))
    env.update(_env_names("SOURCES__ATLASSIAN__CREDENTIALS", credentials))
    assert not (tmp_path / ".dlt").exists()
    warehouse = tmp_path / "w.duckdb"
    done = subprocess.run([sys.executable, "-m", "atlassian_posture", "extract", "--warehouse", str(warehouse),
                           "--resource", "org_domains", "--resource", "jira_users"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with duckdb.connect(str(warehouse), read_only=True) as db:
        users = db.execute("select count(*) from raw.jira_users where _dlt_valid_to is null").fetchone()[0]
        domains = db.execute("select count(*) from raw.org_domains where _dlt_valid_to is null").fetchone()[0]
    assert users > 0 and domains > 0


def test_the_plain_dlt_source_reads_the_env_too(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    env.update({"SOURCES__ATLASSIAN__ORGS__ACME__SITES__ACME__URL": "https://acme.atlassian.net",
                "SOURCES__ATLASSIAN__ORGS__ACME__SITES__ACME__EMAIL": "r@acme.com",
                "SOURCES__ATLASSIAN__CREDENTIALS__ACME__SITES__ACME": "token-1"})
    code = ("from atlassian_posture.connector import atlassian; "
            "print(sorted(atlassian().resources)[:1])")  # building the source validates the tenants, no request
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
