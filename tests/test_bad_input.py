"""The bad-input table: every way a user's input can be wrong gives one line that says what happened
and what to fix, the documented exit code, and no traceback (README, "When something is wrong")."""

from __future__ import annotations

from pathlib import Path

import pytest
from atlassian_posture.cli import main
from atlassian_posture.warehouse import Warehouse
from atlassian_simulator.core import Simulator, config_toml
from click.testing import CliRunner


@pytest.fixture(scope="module")
def served():
    sim = Simulator.generate("tiny", seed=7, orgs=1)
    with sim.serve() as base:
        yield sim, base


def _site_only(sim, base) -> tuple[dict, dict]:
    orgs, credentials = sim.connector_config(base, admin=False, data_center=False)
    return orgs, credentials


def _no_org(sim, base, tmp):
    return {}, {}


def _http_url(sim, base, tmp):
    return ({"acme": {"sites": {"acme": {"url": "http://acme.atlassian.net", "email": "a@example.com"}}}},
            {"acme": {"sites": {"acme": "token-123456789"}}})


def _missing_token(sim, base, tmp):
    return {"acme": {"sites": {"acme": {"url": "https://acme.atlassian.net", "email": "a@example.com"}}}}, {}


def _wrong_admin_key(sim, base, tmp):
    orgs, credentials = sim.connector_config(base, data_center=False)
    for secret in credentials.values():
        secret["admin_api_key"] = "wrong-key-123456"
    return orgs, credentials


def _wrong_urls(sim, base, tmp):
    orgs, credentials = _site_only(sim, base)
    for org in orgs.values():
        for site in org["sites"].values():
            site["url"] = site["url"].replace("/site/", "/nowhere/")
    return orgs, credentials


def _damaged_warehouse(sim, base, tmp):
    (tmp / "w.duckdb").write_bytes(b"this is not a database" * 100)
    return _site_only(sim, base)


def _site_only_config(sim, base, tmp):
    return _site_only(sim, base)


# (case, configuration, extra arguments, exit code, words the line must hold: what happened and the fix)
CASES = [
    ("no organization configured", _no_org, [], 2, ["no organization configured"]),
    ("a site URL without https", _http_url, [], 2, ["https", "sources.atlassian.orgs"]),
    ("a site without its token", _missing_token, [], 2, ["sources.atlassian.credentials.acme.sites.acme"]),
    ("a rejected org API key", _wrong_admin_key, [], 3, ["Admin API key"]),
    ("URLs that answer 404 everywhere", _wrong_urls, [], 2, ["404", "check its site"]),
    ("a damaged warehouse file", _damaged_warehouse, [], 2, ["damaged", "move it away"]),
    ("an unknown --resource", _site_only_config,
     ["--resource", "jira_userz"], 2, ["unknown resources: jira_userz", "valid:", "jira_users"]),
]


@pytest.mark.parametrize(("case", "configure", "args", "code", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_the_fix(served, tmp_path, case, configure, args, code, words):
    sim, base = served
    config = tmp_path / "atlassian.toml"
    config.write_text(config_toml(*configure(sim, base, tmp_path)))
    result = CliRunner().invoke(main, ["extract", "--config-file", str(config), "--warehouse",
                                       str(tmp_path / "w.duckdb"), *args])
    assert result.exit_code == code, (case, result.output)
    assert isinstance(result.exception, SystemExit), case  # not an exception escaping to the user
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), (case, result.stderr)
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], (case, lines[0])
    secrets = [v for creds in configure(sim, base, tmp_path)[1].values() for v in _values(creds)]
    assert not any(secret in result.output for secret in secrets if len(secret) >= 12)


def _values(value) -> list[str]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _values(v)]
    return [value] if isinstance(value, str) else []


def test_a_locked_warehouse_is_one_line_naming_the_holder(served, tmp_path):
    sim, base = served
    config = tmp_path / "atlassian.toml"
    config.write_text(config_toml(*_site_only(sim, base)))
    with Warehouse(Path(tmp_path / "w.duckdb")).lock():
        result = CliRunner().invoke(main, ["extract", "--config-file", str(config), "--warehouse",
                                           str(tmp_path / "w.duckdb")])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 4 and len(lines) == 1 and "another run holds" in lines[0] and "pid" in lines[0]
