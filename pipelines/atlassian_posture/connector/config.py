"""Tenants: which organizations, sites and Data Center instances to read, with which credentials.

Topology lives in config (`.dlt/config.toml` or env), credentials in secrets
(`.dlt/secrets.toml` or env), both keyed by the same names:

    [sources.atlassian.orgs.acme]                  # config.toml
    admin_url = "https://api.atlassian.com"        # default
    marketplace_url = "https://marketplace.atlassian.com"  # default
    org_id = "..."                                 # optional: default is the one org the key sees
    [sources.atlassian.orgs.acme.sites.acme]
    url = "https://acme.atlassian.net"
    email = "posture-reader@acme.com"
    auth = "classic"                               # or "scoped" (through api.atlassian.com/ex/...)
    products = ["jira", "confluence"]
    [sources.atlassian.orgs.acme.data_center.jira-prod]
    product = "jira"
    url = "https://jira.acme.com"

    [sources.atlassian.credentials.acme]           # secrets.toml
    admin_api_key = "..."
    sites = { acme = "<API token>" }
    data_center = { jira-prod = "<personal access token>" }

Every problem is reported in one line naming the key to fix; secrets never appear in messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from atlassian_posture.connector.http import check_base_url
from atlassian_posture.connector.posture_settings import POLICY_INPUTS, read_attestation
from atlassian_posture.errors import ConfigError

ADMIN_URL = "https://api.atlassian.com"
MARKETPLACE_URL = "https://marketplace.atlassian.com"
PRODUCTS = ("jira", "confluence")


@dataclass(frozen=True)
class SiteConfig:
    name: str
    url: str
    email: str
    token: str = field(repr=False)
    auth: str = "classic"  # classic | scoped
    products: tuple[str, ...] = PRODUCTS
    gateway_url: str = ADMIN_URL  # api.atlassian.com, for scoped tokens


@dataclass(frozen=True)
class DcConfig:
    name: str
    product: str
    url: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class OrgConfig:
    """One tenant: an organization (optional Admin API key), its Cloud sites and DC instances."""

    key: str
    admin_url: str = ADMIN_URL
    admin_api_key: str | None = field(default=None, repr=False)
    org_id: str | None = None
    sites: tuple[SiteConfig, ...] = ()
    data_center: tuple[DcConfig, ...] = ()
    marketplace_url: str = MARKETPLACE_URL  # the public Marketplace API, for installed apps' listings
    # What no API returns (pipelines/atlassian_posture/connector/posture_settings.py): policy inputs and the attested settings
    policy: dict = field(default_factory=dict, hash=False, compare=False)
    attestation: dict | None = field(default=None, hash=False, compare=False)


def _table(value, where: str) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table")
    return value


def load_tenants(orgs: Mapping, credentials: Mapping | None) -> list[OrgConfig]:
    """Validate and join topology and credentials into `OrgConfig`s."""
    if not orgs:
        raise ConfigError("no organization configured: add a [sources.atlassian.orgs.<name>] table "
                          "(see .dlt/config.toml.example)")
    credentials = _table(credentials, "sources.atlassian.credentials")
    tenants = []
    for key, raw in orgs.items():
        raw = _table(raw, f"sources.atlassian.orgs.{key}")
        secret = _table(credentials.get(key), f"sources.atlassian.credentials.{key}")
        admin_url = check_url(raw.get("admin_url", ADMIN_URL), f"sources.atlassian.orgs.{key}.admin_url")
        sites = []
        site_tokens = _table(secret.get("sites"), f"sources.atlassian.credentials.{key}.sites")
        for name, site in _table(raw.get("sites"), f"sources.atlassian.orgs.{key}.sites").items():
            where = f"sources.atlassian.orgs.{key}.sites.{name}"
            site = _table(site, where)
            auth = site.get("auth", "classic")
            if auth not in ("classic", "scoped"):
                raise ConfigError(f"{where}.auth must be 'classic' or 'scoped', not {auth!r}")
            products = tuple(site.get("products", PRODUCTS))
            unknown = set(products) - set(PRODUCTS)
            if unknown:
                raise ConfigError(f"{where}.products has unknown products {sorted(unknown)}; use jira and/or confluence")
            if not site.get("email"):
                raise ConfigError(f"{where}.email is missing: API tokens authenticate as email + token")
            token = site_tokens.get(name)
            if not token:
                raise ConfigError(f"no API token for site {name}: set sources.atlassian.credentials.{key}.sites.{name}")
            sites.append(SiteConfig(name, check_url(site.get("url"), f"{where}.url"), site["email"], token, auth,
                                    products, admin_url))
        dc_tokens = _table(secret.get("data_center"), f"sources.atlassian.credentials.{key}.data_center")
        dcs = []
        for name, dc in _table(raw.get("data_center"), f"sources.atlassian.orgs.{key}.data_center").items():
            where = f"sources.atlassian.orgs.{key}.data_center.{name}"
            dc = _table(dc, where)
            if dc.get("product") not in PRODUCTS:
                raise ConfigError(f"{where}.product must be 'jira' or 'confluence'")
            token = dc_tokens.get(name)
            if not token:
                raise ConfigError(f"no personal access token for {name}: set "
                                  f"sources.atlassian.credentials.{key}.data_center.{name}")
            dcs.append(DcConfig(name, dc["product"], check_url(dc.get("url"), f"{where}.url"), token))
        if not sites and not dcs and not secret.get("admin_api_key"):
            raise ConfigError(f"organization {key} has nothing to read: configure an admin_api_key, a site or a "
                              f"data_center instance")
        marketplace = check_url(raw.get("marketplace_url", MARKETPLACE_URL), f"sources.atlassian.orgs.{key}.marketplace_url")
        policy, attestation = _posture_inputs(key, raw)
        tenants.append(OrgConfig(key, admin_url, secret.get("admin_api_key") or None, raw.get("org_id") or None,
                                 tuple(sites), tuple(dcs), marketplace, policy, attestation))
    return tenants


def _posture_inputs(key: str, raw: Mapping) -> tuple[dict, dict | None]:
    where = f"sources.atlassian.orgs.{key}"
    policy = {name: raw[name] for name in POLICY_INPUTS if raw.get(name) is not None}
    for name in ("sensitive_projects", "sensitive_spaces", "allowed_countries"):
        if name in policy and (isinstance(policy[name], str) or not all(isinstance(x, str) for x in policy[name])):
            raise ConfigError(f"{where}.{name} must be a list of strings")
    attestation = read_attestation(raw["attestation_file"], f"{where}.attestation_file") \
        if raw.get("attestation_file") else None
    return policy, attestation


def check_url(url, where: str) -> str:
    if not url:
        raise ConfigError(f"{where} is missing")
    try:
        return check_base_url(str(url))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def read_settings(config_file: str | None = None) -> tuple[dict, dict]:
    """(orgs, credentials) from one TOML file, or the dlt way (.dlt/config.toml, .dlt/secrets.toml, env).

    Environment variables override the files key by key (`env_settings`): dlt's environment
    provider answers a full key but cannot list a section, so `dlt.secrets["sources.atlassian.credentials"]`
    never sees them."""
    if config_file:
        import tomllib

        try:
            with open(config_file, "rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {config_file}: {exc}") from exc
        section = data.get("sources", {}).get("atlassian", {})
        return dict(section.get("orgs") or {}), dict(section.get("credentials") or {})
    import os

    import dlt

    def lookup(accessor, key):
        try:
            value = accessor[key]
        except KeyError:
            return {}
        return _plain(value) if value else {}

    return with_env(lookup(dlt.config, "sources.atlassian.orgs"), lookup(dlt.secrets, "sources.atlassian.credentials"),
                    os.environ)


def with_env(orgs: Mapping | None, credentials: Mapping | None, environ: Mapping[str, str]) -> tuple[dict, dict]:
    """(orgs, credentials) with the `SOURCES__ATLASSIAN__...` environment variables laid over them."""
    env_orgs, env_credentials = env_settings(environ)
    orgs = _merge(_plain(orgs or {}), env_orgs)
    return orgs, _merge(_plain(credentials or {}), _renamed_like(env_credentials, orgs))


ENV_PREFIX = {"orgs": "SOURCES__ATLASSIAN__ORGS__", "credentials": "SOURCES__ATLASSIAN__CREDENTIALS__"}


def env_settings(environ: Mapping[str, str]) -> tuple[dict, dict]:
    """(orgs, credentials) from `SOURCES__ATLASSIAN__ORGS__<org>__...` and
    `SOURCES__ATLASSIAN__CREDENTIALS__<org>__...` variables, the names dlt gives those keys.

    Every key of the TOML files can be set this way, e.g. `..._ORGS__ACME__SITES__ACME__URL`,
    `..._ORGS__ACME__SITES__ACME__PRODUCTS='["jira"]'` (a TOML value: list, number, boolean;
    anything else is a string), `..._CREDENTIALS__ACME__ADMIN_API_KEY`,
    `..._CREDENTIALS__ACME__SITES__ACME` (a site's API token), `..._CREDENTIALS__ACME__DATA_CENTER__JIRA_PROD`.
    Variable names are upper case: names are matched to the configured ones ignoring case and `-`/`_`,
    else taken in lower case. Secrets are always strings."""
    out: dict[str, dict] = {"orgs": {}, "credentials": {}}
    for variable, value in environ.items():
        for section, prefix in ENV_PREFIX.items():
            if variable.upper().startswith(prefix) and len(variable) > len(prefix):
                path = [part.lower() for part in variable[len(prefix):].split("__") if part]
                node = out[section]
                for part in path[:-1]:
                    child = node.setdefault(part, {})
                    if not isinstance(child, dict):  # a scalar and a table under one name: the table wins
                        child = node[part] = {}
                    node = child
                if path and not isinstance(node.get(path[-1]), dict):
                    node[path[-1]] = value if section == "credentials" else _env_value(value)
    return out["orgs"], out["credentials"]


def _env_value(text: str):
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _plain(value):
    """dlt's config values as plain dicts, all the way down."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _merge(base: Mapping, override: Mapping) -> dict:
    """`base` with `override` laid over it, table by table; an override key names a `base` key when they
    are equal ignoring case and `-`/`_` (environment variable names are upper case and have no `-`)."""
    merged = dict(base)
    for key, value in override.items():
        key = _same_name(key, merged)
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = _plain(value)
    return merged


def _renamed_like(credentials: Mapping, orgs: Mapping) -> dict:
    """Credentials from the environment, their org, site and DC names spelled as the configured ones."""
    renamed = {}
    for org_key, secret in credentials.items():
        name = _same_name(org_key, orgs)
        raw = orgs.get(name) if isinstance(orgs.get(name), Mapping) else {}
        if isinstance(secret, Mapping):
            secret = dict(secret)
            for section in ("sites", "data_center"):
                known = raw.get(section) if isinstance(raw.get(section), Mapping) else {}
                if isinstance(secret.get(section), Mapping):
                    secret[section] = {_same_name(k, known): v for k, v in secret[section].items()}
        renamed[name] = secret
    return renamed


def _same_name(key: str, known: Mapping) -> str:
    folded = key.lower().replace("-", "_")
    for name in known:
        if str(name).lower().replace("-", "_") == folded:
            return name
    return key
