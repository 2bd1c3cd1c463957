"""The product against an Atlassian look-alike the team did not write (../shared/reference-tenants):
`atlassian-posture run` exits 0 with the org key and with the site token alone, and compare.py's
expectations hold (without the org key, the org-only identity checks are not evaluated and fire for
nobody). Skipped where ../shared is absent."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from atlassian_posture.cli import main
from click.testing import CliRunner

from tests.shared_paths import REFERENCE_TENANTS as REFERENCE
from tests.shared_paths import missing

pytestmark = pytest.mark.skipif(not (REFERENCE / "server.py").exists(),
                                reason=missing(REFERENCE, "ATLASSIAN_POSTURE_SHARED"))
# compare.py lines to tolerate (none: every expectation must hold)
TOLERATED: tuple[str, ...] = ()


def _port() -> int:
    if os.environ.get("REFERENCE_TENANT_PORT"):
        return int(os.environ["REFERENCE_TENANT_PORT"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    port, log = _port(), tmp_path_factory.mktemp("reference") / "requests.jsonl"
    # a test worker may have inherited SIGTERM ignored (so would the server): the server starts with it as default
    server = subprocess.Popen([sys.executable, str(REFERENCE / "server.py"), "--tenant", "tenant_a", "--port",
                               str(port), "--log", str(log)], stdout=subprocess.DEVNULL,
                              preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", log
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


@pytest.mark.parametrize("site_only", [False, True], ids=["org-key", "site-only"])
def test_the_reference_tenant_holds_its_expectations(served, tmp_path, site_only):
    base, log = served
    key = "" if site_only else 'admin_api_key = "holdout-a-org-key"\n'
    config = tmp_path / "ref.toml"
    config.write_text(f"""[sources.atlassian.orgs.ref]
admin_url = "{base}"
marketplace_url = "{base}/marketplace"
[sources.atlassian.orgs.ref.sites.ref]
url = "{base}"
email = "auditor@holdout-a.example"
products = ["jira", "confluence"]
[sources.atlassian.credentials.ref]
{key}[sources.atlassian.credentials.ref.sites]
ref = "holdout-a-token"
""")
    warehouse = tmp_path / "ref.duckdb"
    result = CliRunner().invoke(main, ["run", "--config-file", str(config), "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    assert "checks can be judged" in result.output
    judged = next(line for line in result.output.splitlines() if "this run judged" in line)
    assert ("needs an organization API key" in judged) == site_only  # what the run could not judge, and why
    assert ("add an organization API key" in result.output) == site_only
    compared = subprocess.run([sys.executable, str(REFERENCE / "compare.py"), str(warehouse), "tenant_a", str(log)]
                              + (["--site-only"] if site_only else []), capture_output=True, text=True)
    short = compared.stdout.splitlines()[0].split("; ") if compared.returncode else []
    assert [s for s in short if not s.startswith(TOLERATED)] == [], compared.stdout
