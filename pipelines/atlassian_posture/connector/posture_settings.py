"""What no API returns: the settings an admin attests and the organization's own policy inputs.

Two inputs per organization, both optional, both in the organization's configuration table:

    [sources.atlassian.orgs.acme]
    attestation_file = "attestation/acme.toml"   # TOML or JSON, see attestation.example.toml
    sensitive_projects = ["FIN", "HR"]           # Jira project keys (POSTURE-022/026, PLUGIN-013)
    sensitive_spaces = ["FIN"]                   # Confluence space keys
    allowed_countries = ["Germany", "Japan"]     # sign-in countries (IDENT-019, AUDIT-014)
    data_residency_realm = "EU"                  # POSTURE-010; absent: residency not required

They load into `raw.posture_settings`, one row per value, flattened here so the dbt models
need no JSON functions (which differ per warehouse): `setting` is the top-level key, `scope`
the object it is about (a policy id, a site, a domain, a list item), `field` the attribute.
A setting that is absent has no row, and its check reports `manual`. One `settings_read` row per
organization records that the settings were read and whether an attestation was given.
`integration_account` rows name the account this product reads as (the e-mail of each Cloud
site's API token, the user of each Data Center token): the marts label it rather than rank it as a
risky admin (it must be one to read).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

from atlassian_posture.errors import ConfigError

POLICY_INPUTS = ("sensitive_projects", "sensitive_spaces", "allowed_countries", "data_residency_realm")
# List items that are objects are keyed by their first identifying field
_ITEM_KEYS = ("domain", "name", "id", "key")


def read_attestation(path: str | Path, where: str) -> dict:
    """The attestation file as a dict; one line naming the file and the problem otherwise."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read attestation file {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where}: attestation file {path} is not valid "
                          f"{'JSON' if path.suffix.lower() == '.json' else 'TOML'}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: attestation file {path} must hold a table of settings")
    return dict(data)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten(setting: str, value) -> Iterator[tuple[str, str | None, str | None, str | None]]:
    """(setting, scope, field, value) rows for one top-level setting; an empty table or list is
    one row with no scope (attested as empty, which differs from not attested)."""
    if isinstance(value, Mapping | list) and not value:
        yield setting, None, None, None
    elif isinstance(value, Mapping):
        for scope, inner in value.items():
            if isinstance(inner, Mapping):
                for field, leaf in inner.items():
                    yield setting, str(scope), str(field), _text(leaf)
            else:
                yield setting, str(scope), None, _text(inner)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                key = next((k for k in _ITEM_KEYS if k in item), None)
                scope = str(item[key]) if key else json.dumps(item, sort_keys=True)
                for field, leaf in item.items():
                    if field != key:
                        yield setting, scope, str(field), _text(leaf)
            else:
                yield setting, _text(item), None, "true"
    else:
        yield setting, None, None, _text(value)


def settings_rows(org_key: str, org_id: str | None, policy: Mapping, attestation: Mapping | None) -> list[dict]:
    """Every row of one organization, led by a `settings_read` row (so the table exists even when
    nothing is configured, and `value` says whether an attestation file was given)."""
    rows = [{"org_key": org_key, "org_id": org_id, "source": "connector", "setting": "settings_read", "scope": None,
             "field": "attestation_given", "value": _text(attestation is not None)}]
    for source, values in (("config", policy), ("attestation", attestation or {})):
        for setting, value in values.items():
            for name, scope, field, text in flatten(setting, value):
                rows.append({"org_key": org_key, "org_id": org_id, "source": source, "setting": name,
                             "scope": scope, "field": field, "value": text})
    return rows


def integration_rows(org_key: str, org_id: str | None, sites, dc_users: Mapping[str, str] | None = None) -> list[dict]:
    """One `integration_account` row per Cloud site: the e-mail its API token authenticates as
    (scope: the site's name); one per Data Center instance whose personal access token's user the
    instance told (`dc_users`: instance name -> username, field `username`)."""
    row = {"org_key": org_key, "org_id": org_id, "source": "connector", "setting": "integration_account"}
    return [{**row, "scope": site.name, "field": "email", "value": site.email} for site in sites if site.email] + \
        [{**row, "scope": name, "field": "username", "value": user} for name, user in (dc_users or {}).items() if user]
